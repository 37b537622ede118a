"""Restyle product images: one entry point over every engine.

>>> from stylerec_desktop.core.stylize import stylize, StyleImage, PresetBlend, StyleOptions  # doctest: +SKIP
>>> out = stylize(photo, StyleImage("starry.jpg"), StyleOptions(strength=0.8, preserve_colour=True))
>>> out = stylize(photo, PresetBlend({3: 0.5, 12: 0.5}), StyleOptions(size=2048))

:func:`stylize_job` is the same work as a generator that yields :class:`~stylerec_desktop.core.jobs.Progress`
(drive it with :func:`~stylerec_desktop.core.jobs.run_job`; closing it cancels between tiles).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import cv2
import numpy as np
import torch
from PIL import Image, ImageOps

from stylerec_desktop.core import masks, masks_v1
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress, run_job
from stylerec_desktop.core.stylize.backdrop import backdrop_plate
from stylerec_desktop.core.stylize.colour import keep_content_colour
from stylerec_desktop.core.stylize.engines import ENGINES, Engine, engine_for
from stylerec_desktop.core.stylize.options import PresetBlend, StyleImage, StyleOptions, StyleSource, StyleVector
from stylerec_desktop.core.stylize.scale import to_output_size, working_side

__all__ = [
    "ENGINES",
    "Engine",
    "PresetBlend",
    "StyleImage",
    "StyleOptions",
    "StyleSource",
    "StyleVector",
    "default_product_mask",
    "prepare_content",
    "stylize",
    "stylize_job",
]

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


def _apply_mask(content: Image.Image, stylized: Image.Image, mask: np.ndarray, mode: str) -> Image.Image:
    """Keep the protected pixels of ``content`` exactly: ``background`` protects the product, ``product`` the rest.

    ``mask`` is ``[H, W]``, True/1 on the product: bool (hard) or float in 0..1 (soft edge, blended linearly).
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
        w = weight[edge][:, None]
        blended = original[edge].astype(np.float32) * (1.0 - w) + restyled[edge].astype(np.float32) * w
        out[edge] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(out)


def _background_plate_render(
    engine: Engine,
    working: Image.Image,
    image: Image.Image,
    source: StyleSource,
    options: StyleOptions,
    product: np.ndarray,
) -> Job[Image.Image]:
    """The backdrop for a background-only render: a textured plate (see ``stylize.backdrop``) stylized at the
    working resolution, brought to ``image``'s size and cross-faded with the original by the strength; the caller
    lays the product back over it. The plate is rendered at full strength because its own texture is not part of
    the picture: a weaker style would let that texture show, where a cross-fade gives a fainter pattern on the
    real backdrop. ``product`` is the product mask at ``image``'s size (bool or float 0..1)."""
    on_working = cv2.resize(np.asarray(product, dtype=np.float32), working.size, interpolation=cv2.INTER_AREA)
    plate = Image.fromarray(backdrop_plate(np.asarray(working), on_working > 0.5, options.seed))
    small = yield from engine.run(plate, source, dataclasses.replace(options, strength=1.0))
    # No detail to restore: the backdrop's fine detail is what we replace, and the product is laid back on top.
    shrink = image.width * image.height < small.width * small.height
    how = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
    full = Image.fromarray(cv2.resize(np.asarray(small), image.size, interpolation=how))
    return Image.blend(image, full, options.strength) if options.strength < 1.0 else full


def stylize_job(
    content: Image.Image,
    source: StyleSource,
    options: StyleOptions | None = None,
    engine: str | None = None,
    product_mask: ProductMask | None = None,
) -> Job[Image.Image]:
    """Restyle ``content`` as a job: yields Progress, returns the RGB result (content's size, or ``options.size``).

    ``engine``: ``arbitrary``, ``preset`` or ``colour`` (default: preset for a PresetBlend, arbitrary otherwise).
    ``product_mask(image) -> [H, W]`` (bool, or float 0..1 for a soft edge) finds the product for mask modes other
    than ``all``; by default :func:`default_product_mask` (automatic, for product shots on plain backgrounds).
    """
    options = options or StyleOptions()
    chosen = engine_for(engine, source)
    # Version-1 recipes (no style scale) keep the first release's mask, so they re-render as they did.
    find_product = product_mask or (
        first_release_product_mask if options.style_scale is None else default_product_mask
    )
    torch.manual_seed(options.seed)
    image = prepare_content(content, options.size)
    yield Progress(0, None, f"{chosen.name}: {image.width}x{image.height}")
    if options.strength == 0.0:
        # Every engine's strength-0 end is "the content"; skip the network rather than approximate it.
        return image.copy()
    product = None
    if options.mask != "all":
        product = find_product(image)
        yield Progress(0, None, "found the product")  # a cancel need not wait for the network after the mask
    if options.style_scale is not None and chosen.name in SCALED_ENGINES:
        # The working picture comes from the original, not from ``image``: a 256 px preview and a 2048 px render
        # then feed the network identical pixels, and only the final resize differs.
        working = prepare_content(content, working_side(options.style_scale))
        if options.mask == "background" and product is not None:
            stylized = yield from _background_plate_render(chosen, working, image, source, options, product)
        else:
            small = yield from chosen.run(working, source, options)
            yield Progress(0, None, "enlarging to the output size")
            stylized = Image.fromarray(to_output_size(np.asarray(small), np.asarray(image)))
    else:
        stylized = yield from chosen.run(image, source, options)
    if options.preserve_colour:
        yield Progress(0, None, "keeping the content's colours")
        stylized = Image.fromarray(keep_content_colour(np.asarray(stylized), np.asarray(image)))
    if product is not None:
        stylized = _apply_mask(image, stylized, product, options.mask)
    return stylized


def stylize(
    content: Image.Image,
    source: StyleSource,
    options: StyleOptions | None = None,
    engine: str | None = None,
    product_mask: ProductMask | None = None,
) -> Image.Image:
    """Restyle ``content`` and return the picture (blocking form of :func:`stylize_job`)."""
    return run_job(stylize_job(content, source, options, engine, product_mask))
