"""The restyle pipeline behind :mod:`stylerec_desktop.core.stylize` (import its names from there).

>>> from stylerec_desktop.core.stylize import stylize, StyleImage, PresetBlend, StyleOptions  # doctest: +SKIP
>>> out = stylize(photo, StyleImage("starry.jpg"), StyleOptions(strength=0.8, preserve_colour=True))
>>> out = stylize(photo, PresetBlend({3: 0.5, 12: 0.5}), StyleOptions(size=2048))

:func:`stylize_job` is the same work as a generator that yields :class:`~stylerec_desktop.core.jobs.Progress`
(drive it with :func:`~stylerec_desktop.core.jobs.run_job`; closing it cancels between tiles).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable

import cv2
import numpy as np
import torch
from PIL import Image, ImageOps

from stylerec_desktop.core import masks, masks_v1
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress, run_job
from stylerec_desktop.core.stylize.backdrop import backdrop_plate
from stylerec_desktop.core.stylize.cache import RenderCache, source_key
from stylerec_desktop.core.stylize.colour import keep_content_colour
from stylerec_desktop.core.stylize.engines import Engine, engine_for
from stylerec_desktop.core.stylize.options import StyleOptions, StyleSource
from stylerec_desktop.core.stylize.product_mask import product_matte, protected_matte, working_copy
from stylerec_desktop.core.stylize.scale import to_output_size, working_side

ProductMask = Callable[[Image.Image], np.ndarray]
MIN_SIDE = 32
# Engines whose strokes have a fixed size in pixels, so they run at the style scale's working resolution. The colour
# engine has no strokes; gatys optimises at the output size on purpose (its cost is per iteration, not per stroke).
SCALED_ENGINES = ("arbitrary", "preset")


def prepare_content(content: Image.Image, size: int | None) -> Image.Image:
    """RGB, EXIF-upright, transparent areas on white, longest side ``size`` (Lanczos) when given."""
    image = ImageOps.exif_transpose(content)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    image = image.convert("RGB")
    if min(image.size) < MIN_SIDE:
        raise UserError(f"The image is too small ({image.width}x{image.height}); both sides need {MIN_SIDE}px.")
    if size is not None and max(image.size) != size:
        scale = size / max(image.size)
        new = (max(MIN_SIDE, round(image.width * scale)), max(MIN_SIDE, round(image.height * scale)))
        image = image.resize(new, Image.Resampling.LANCZOS)
    return image


# Soft-mask weights this close to 0 or 1 count as exactly 0 or 1, so protected pixels stay bit-identical (the
# Gaussian feather leaves float dust like 1e-9 far from the edge) and fully restyled ones are not dimmed.
_MASK_SNAP = 1.0 / 512.0


def default_product_mask(image: Image.Image) -> np.ndarray:
    """The automatic product matte, ``[H, W]`` float32 in 0..1: soft only as wide as the product's edge is (see
    ``core.masks.product_matte``), so no halo of the style's colour hugs the product."""
    return masks.product_matte(image)


def first_release_product_mask(image: Image.Image) -> np.ndarray:
    """The first release's mask with its 1.5 px feather (``core.masks_v1``), for version-1 recipes."""
    return masks_v1.soft_mask(masks_v1.product_mask(image))


def _apply_mask(
    content: Image.Image, stylized: Image.Image, mask: np.ndarray, mode: str, decontaminate: bool = False
) -> Image.Image:
    """Keep the protected pixels of ``content`` exactly: ``background`` protects the product, ``product`` the rest.

    ``mask`` is ``[H, W]``, True/1 on the product: bool (hard) or float in 0..1 (soft edge, blended linearly).
    ``decontaminate`` (background mode): in the soft edge, the old backdrop's share of each pixel is swapped for
    the new backdrop instead of blended with it, so a product on a darker painted backdrop keeps no pale fringe of
    the old one (see :func:`_swap_backdrop`).
    """
    mask = np.asarray(mask)
    if mask.shape != (content.height, content.width):
        raise ValueError(f"product mask is {mask.shape}, image is {content.height}x{content.width}")
    weight = mask.astype(np.float32)
    if mode == "background":
        weight = 1.0 - weight
    weight[weight < _MASK_SNAP] = 0.0
    weight[weight > 1.0 - _MASK_SNAP] = 1.0
    original = np.asarray(content.convert("RGB"))
    restyled = np.asarray(stylized.convert("RGB"))
    edge = (weight > 0.0) & (weight < 1.0)
    out = np.where((weight == 1.0)[..., None], restyled, original)
    if edge.any():
        if decontaminate and mode == "background":
            out[edge] = _swap_backdrop(original, restyled, weight, edge)
        else:
            w = weight[edge][:, None]
            blended = original[edge].astype(np.float32) * (1.0 - w) + restyled[edge].astype(np.float32) * w
            out[edge] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(out)


def _swap_backdrop(original: np.ndarray, restyled: np.ndarray, weight: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """The soft edge's pixels with the old backdrop's share replaced by the new one: ``[N, 3]`` uint8 for the
    ``N`` pixels of ``edge``.

    An edge pixel is a mix ``I = a F + (1 - a) B`` of the product ``F`` and the old backdrop ``B``; a plain blend
    with the new backdrop ``R`` keeps ``a (1 - a) B`` of the old one, a pale fringe on a darker ``R``. Here the
    result is ``a F + (1 - a) R = I + (1 - a) (R - B)``, with ``B`` the mean of the clear backdrop pixels (weight 1)
    a few pixels around (so a shadow beside the product counts as the backdrop it is). ``weight`` ``[H, W]`` is the
    backdrop's weight (1 - the product's matte); where no clear backdrop is near, this is the plain blend.
    """
    height, width = weight.shape
    radius = max(3, round(max(height, width) / 256))
    rows, cols = np.nonzero(edge)
    top, bottom = max(0, rows.min() - radius), min(height, rows.max() + radius + 1)
    left, right = max(0, cols.min() - radius), min(width, cols.max() + radius + 1)
    clear = (weight[top:bottom, left:right] == 1.0).astype(np.float32)
    pixels = original[top:bottom, left:right].astype(np.float32)
    size = (2 * radius + 1, 2 * radius + 1)
    count = cv2.boxFilter(clear, -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    summed = cv2.boxFilter(pixels * clear[..., None], -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    inside = edge[top:bottom, left:right]
    seen = count[inside] > 0.5
    old = np.where(seen[:, None], summed[inside] / np.maximum(count[inside], 1.0)[:, None], pixels[inside])
    share = weight[top:bottom, left:right][inside][:, None]
    new = restyled[top:bottom, left:right][inside].astype(np.float32)
    return np.clip(pixels[inside] + share * (new - old) + 0.5, 0, 255).astype(np.uint8)


def _painted(
    engine: Engine, picture: Image.Image, tag: Hashable, source: StyleSource, options: StyleOptions, cache: RenderCache
) -> Job[Image.Image]:
    """``engine.run(picture, source, options)``, kept in ``cache`` under everything that decides its pixels:
    the engine, the style, the options the engines read (not size, mask or colours kept, which act later) and
    ``tag``, which names ``picture`` within the cache (e.g. ``("working", 512)``)."""
    style = source_key(source)
    key = None if style is None else ("painted", engine.name, style, tag,
                                      dataclasses.replace(options, size=None, mask="all", preserve_colour=False))
    if key is not None and (hit := cache.peek(key)) is not None:
        return hit
    painted = yield from engine.run(picture, source, options)
    if key is not None:
        cache.put(key, painted)
    return painted


def _network_at_working_size(
    engine: Engine, working: Image.Image, side: int, source: StyleSource, options: StyleOptions, cache: RenderCache
) -> Job[Image.Image]:
    """The engine's picture at the working resolution. The preset engine's strength is a pixel blend after the
    network (see ``PresetEngine``), done here on the cached full-strength painting so a strength change does not
    run the network again; the same operations as the engine's own, so the pixels are identical."""
    if engine.name == "preset" and options.strength < 1.0:
        full = yield from _painted(engine, working, ("working", side), source,
                                   dataclasses.replace(options, strength=1.0), cache)  # fmt: skip
        return Image.blend(working.convert("RGB"), full, options.strength)
    return (yield from _painted(engine, working, ("working", side), source, options, cache))


def _background_plate_render(
    engine: Engine,
    working: Image.Image,
    image: Image.Image,
    source: StyleSource,
    options: StyleOptions,
    on_working: np.ndarray,
    cache: RenderCache,
) -> Job[Image.Image]:
    """The backdrop for a background-only render: a textured plate (see ``stylize.backdrop``) stylized at the
    working resolution, brought to ``image``'s size and cross-faded with the original by the strength; the caller
    lays the product back over it. The plate is rendered at full strength because its own texture is not part of
    the picture: a weaker style would let that texture show, where a cross-fade gives a fainter pattern on the
    real backdrop. ``on_working`` is the product matte at ``working``'s size (float 0..1)."""
    tag = ("plate", working.size, options.seed)
    plate = cache.get(tag, lambda: Image.fromarray(backdrop_plate(np.asarray(working), on_working > 0.5,
                                                                  options.seed)))  # fmt: skip
    small = yield from _painted(engine, plate, tag, source, dataclasses.replace(options, strength=1.0), cache)
    # No detail to restore: the backdrop's fine detail is what we replace, and the product is laid back on top.
    shrink = image.width * image.height < small.width * small.height
    how = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
    full = Image.fromarray(cv2.resize(np.asarray(small), image.size, interpolation=how))
    return Image.blend(image, full, options.strength) if options.strength < 1.0 else full


def _version_2_product_matte(image: Image.Image) -> np.ndarray:
    """The product matte as recipe version 2 found it (``StyleOptions.mask_version`` 2)."""
    return masks.product_matte(image, second_look=False)


def stylize_job(
    content: Image.Image,
    source: StyleSource,
    options: StyleOptions | None = None,
    engine: str | None = None,
    product_mask: ProductMask | None = None,
    cache: RenderCache | None = None,
) -> Job[Image.Image]:
    """Restyle ``content`` as a job: yields Progress, returns the RGB result (content's size, or ``options.size``).

    ``engine``: ``arbitrary``, ``preset`` or ``colour`` (default: preset for a PresetBlend, arbitrary otherwise).
    ``product_mask(image) -> [H, W]`` (bool, or float 0..1 for a soft edge) finds the product for mask modes other
    than ``all``; by default the product is found once on ``content`` at a fixed size and its edge refined at the
    output size (``stylize.product_mask``), so every output size protects the same product.
    ``cache``: a :class:`RenderCache` bound to ``content``, to reuse the work of earlier renders of the same
    picture (a live preview); the pixels are the same with or without it.
    """
    options = options or StyleOptions()
    chosen = engine_for(engine, source)
    if product_mask is None and options.mask != "all" and options.style_scale is not None and options.mask_version == 2:
        # Recipe version 2 found the product at the output size, with no second look, and blended it plainly: as a
        # mask given by the caller takes that path, its pictures come out as they did then.
        product_mask = _version_2_product_matte
    if cache is None:
        cache = RenderCache(content)
    elif cache.content is not content:
        raise ValueError("the render cache belongs to another picture")
    torch.manual_seed(options.seed)
    image = cache.get(("output", options.size), lambda: prepare_content(content, options.size))
    yield Progress(0, None, f"{chosen.name}: {image.width}x{image.height}")
    if options.strength == 0.0:
        # Every engine's strength-0 end is "the content"; skip the network rather than approximate it.
        return image.copy()
    product = None
    if options.mask != "all":
        if product_mask is not None:
            product = product_mask(image)
        elif options.style_scale is None:
            # Version-1 recipes (no style scale) keep the first release's mask, so they re-render as they did.
            product = first_release_product_mask(image)
        elif options.mask == "background":
            # Kept where the mask is unsure when it is doubtful (a look or a chosen mask on such a picture).
            product = protected_matte(content, image, cache)
        else:
            product = product_matte(content, image, cache)
        yield Progress(0, None, "found the product")  # a cancel need not wait for the network after the mask
    if options.style_scale is not None and chosen.name in SCALED_ENGINES:
        # The working picture comes from the original, not from ``image``: a 256 px preview and a 2048 px render
        # then feed the network identical pixels, and only the final resize differs.
        side = working_side(options.style_scale)
        working = working_copy(content, side, cache)
        if options.mask == "background" and product is not None:
            if product_mask is not None:
                on_working = cv2.resize(np.asarray(product, dtype=np.float32), working.size,
                                        interpolation=cv2.INTER_AREA)  # fmt: skip
            else:
                # The plate's hole comes from the one analysis too, so preview and render stylize the same plate.
                on_working = protected_matte(content, working, cache)
            stylized = yield from _background_plate_render(chosen, working, image, source, options, on_working,
                                                           cache)  # fmt: skip
        else:
            small = yield from _network_at_working_size(chosen, working, side, source, options, cache)
            yield Progress(0, None, "enlarging to the output size")
            stylized = Image.fromarray(to_output_size(np.asarray(small), np.asarray(image)))
    else:
        stylized = yield from chosen.run(image, source, options)
    if options.preserve_colour:
        yield Progress(0, None, "keeping the content's colours")
        stylized = Image.fromarray(keep_content_colour(np.asarray(stylized), np.asarray(image)))
    if product is not None:
        # The automatic matte of recipe version 2 lays the product over a new backdrop without the old one's fringe;
        # version-1 recipes and masks given by the caller keep the plain blend they were made with.
        swap = product_mask is None and options.style_scale is not None
        stylized = _apply_mask(image, stylized, product, options.mask, decontaminate=swap)
    return stylized


def stylize(
    content: Image.Image,
    source: StyleSource,
    options: StyleOptions | None = None,
    engine: str | None = None,
    product_mask: ProductMask | None = None,
    cache: RenderCache | None = None,
) -> Image.Image:
    """Restyle ``content`` and return the picture (blocking form of :func:`stylize_job`)."""
    return run_job(stylize_job(content, source, options, engine, product_mask, cache))
