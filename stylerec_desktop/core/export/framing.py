"""Product-aware framing: fit a product shot into an ad format without ever cutting the product off.

The product's box (from :mod:`stylerec_desktop.core.masks`) is scaled to fill the frame minus a margin and centred;
the rest of the frame shows the source image around it, and where the source runs out the frame is padded. So a
tall bottle in a landscape banner is padded left and right, a wide sofa in a story is padded top and bottom, and a
small product in a large shot is cropped to it.

Padding continues the backdrop: each padded row or column takes the colour of the source's edge pixel next to it,
smoothed along the edge so grain does not streak. Studio sweeps are gradients, and a single flat colour beside them
shows as a visible seam. Where the product itself touches the source's edge, and for photos with no plain backdrop,
the padding is the backdrop's median colour; a colour chosen by the user is used flat everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from stylerec_desktop.core.export.presets import ExportPreset
from stylerec_desktop.core.masks import ProductMask, analyse_product

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class FramingWarning:
    """Something the user may want to know about one framed image. ``code`` is stable, ``message`` a sentence."""

    code: str
    message: str


@dataclass(frozen=True)
class FramedImage:
    """A framed image: ``image`` is RGB and exactly the requested size.

    ``product_box`` is ``(left, top, right, bottom)`` of the product in ``image`` (right/bottom exclusive), always
    inside it; ``scale`` is output pixels per source pixel.
    """

    image: Image.Image
    product_box: Box
    scale: float
    warnings: tuple[FramingWarning, ...] = field(default_factory=tuple)


def frame_product(
    image: Image.Image | np.ndarray,
    width: int,
    height: int,
    *,
    product: ProductMask | None = None,
    margin: float = 0.08,
    background: tuple[int, int, int] | None = None,
    max_upscale: float = 1.5,
) -> FramedImage:
    """Frame ``image`` at ``width`` x ``height`` with its product whole, centred and ``margin`` clear of each edge.

    ``image`` is a PIL image or an ``(H, W, 3)`` uint8 RGB array (cheaper when framing one image many times).
    ``product`` is the image's :class:`ProductMask` (computed when None; pass it to frame one image in several
    presets without recomputing it). ``margin`` is a share of the frame's width and height. ``background`` is the
    padding colour; None uses the backdrop colour sampled from the image's border. The image is never enlarged by
    more than ``max_upscale``: a product that would need more is shown smaller, with more padding, and a warning.
    When no product was found, the whole image is fitted into the frame (padded, never cropped) with a warning.
    """
    if isinstance(image, Image.Image):
        image = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    if product is None:
        product = analyse_product(image)
    warnings: list[FramingWarning] = []
    src_h, src_w = image.shape[:2]
    box = product.bbox if product.found else None
    if box is None:
        box = (0, 0, src_w, src_h)
        margin = 0.0  # a whole photo is fitted edge to edge; a margin would only add a border around it
        reason = product.reason or "No product was found; the whole image is used."
        warnings.append(FramingWarning("no_product", reason))
    left, top, right, bottom = box
    box_w, box_h = right - left, bottom - top
    fit = min(width * (1.0 - 2.0 * margin) / box_w, height * (1.0 - 2.0 * margin) / box_h)
    scale = fit
    if fit > max_upscale:
        scale = max_upscale
        warnings.append(
            FramingWarning(
                "upscale_limited",
                f"The image is too small for {width}x{height}: filling the frame needs {fit:.1f}x enlargement, "
                f"so it was enlarged {max_upscale:.1f}x and padded. Use a larger source image for a sharper result.",
            )
        )
    # The source window the frame shows, in source pixels, centred on the product. Its corner is rounded to a
    # whole source pixel so the resize below works on a plain crop; that moves the product by under a pixel.
    x0 = math.floor((left + right) / 2.0 - width / (2.0 * scale) + 0.5)
    y0 = math.floor((top + bottom) / 2.0 - height / (2.0 * scale) + 0.5)
    fill = background if background is not None else product.background
    # The source pixels inside the window, and the output pixels they cover; the rest of the frame is padding.
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1 = min(src_w, math.ceil(x0 + width / scale))
    sy1 = min(src_h, math.ceil(y0 + height / scale))
    dx0, dy0 = round((sx0 - x0) * scale), round((sy0 - y0) * scale)
    dx1, dy1 = min(width, round((sx1 - x0) * scale)), min(height, round((sy1 - y0) * scale))
    # The scale actually applied, per axis, after the rounding above (equal to ``scale`` within a fraction of a
    # pixel); the product box is mapped with it so it is exact for the pixels written.
    scale_x = (dx1 - dx0) / max(1, sx1 - sx0)
    scale_y = (dy1 - dy0) / max(1, sy1 - sy0)
    if dx1 > dx0 and dy1 > dy0:
        # OpenCV's resize is many times faster than PIL's. Area averaging when shrinking keeps fine patterns
        # free of moire; bicubic when enlarging.
        interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
        patch = cv2.resize(image[sy0:sy1, sx0:sx1], (dx1 - dx0, dy1 - dy0), interpolation=interpolation)
        borders = (dy0, height - dy1, dx0, width - dx1)
        if background is None and product.found and any(borders):
            _smooth_edges(patch, product.mask[sy0:sy1, sx0:sx1], borders, fill)
            # Replicating the smoothed edge rows and columns continues the backdrop into the padding.
            pixels = cv2.copyMakeBorder(patch, *borders, cv2.BORDER_REPLICATE)
        else:
            # Padding in the same pass as the copy; filling a whole frame first costs as much again.
            pixels = cv2.copyMakeBorder(patch, *borders, cv2.BORDER_CONSTANT, value=tuple(int(v) for v in fill))
    else:
        pixels = np.empty((height, width, 3), dtype=np.uint8)
        pixels[...] = np.asarray(fill, dtype=np.uint8)
    canvas = Image.fromarray(pixels)
    product_box = (
        min(width, max(0, math.floor(dx0 + (left - sx0) * scale_x))),
        min(height, max(0, math.floor(dy0 + (top - sy0) * scale_y))),
        max(0, min(width, math.ceil(dx0 + (right - sx0) * scale_x))),
        max(0, min(height, math.ceil(dy0 + (bottom - sy0) * scale_y))),
    )
    return FramedImage(canvas, product_box, scale, tuple(warnings))


def _smooth_edges(
    patch: np.ndarray, mask: np.ndarray, borders: tuple[int, int, int, int], fill: tuple[int, int, int]
) -> None:
    """Prepare ``patch``'s outermost rows/columns, in place, for replication into the padding ``borders``.

    ``mask`` is the product mask of the source pixels the patch shows; ``borders`` are the padding widths
    (top, bottom, left, right). On each padded side, edge pixels on the product become ``fill`` (a product cut
    by the source's edge must not be smeared across the padding), then the line is blurred along its length.
    """
    top, bottom, left, right = borders
    height, width = patch.shape[:2]
    colour = np.asarray(fill, dtype=np.uint8)
    # Grain and JPEG noise on the edge line would otherwise be stretched into visible stripes.
    sigma = max(2.0, 0.01 * max(height, width))
    sides = (
        (top, np.s_[0, :], mask[0, :], width),
        (bottom, np.s_[-1, :], mask[-1, :], width),
        (left, np.s_[:, 0], mask[:, 0], height),
        (right, np.s_[:, -1], mask[:, -1], height),
    )
    for pad, index, mask_line, length in sides:
        if not pad:
            continue
        line = patch[index].copy()
        # The mask line is in source pixels; map it onto the patch's pixels (nearest neighbour).
        on_product = mask_line[(np.arange(length) * len(mask_line)) // length]
        line[on_product] = colour
        patch[index] = cv2.GaussianBlur(line[None, :, :], (0, 0), sigmaX=sigma, sigmaY=0.1)[0]


def frame_for_preset(
    image: Image.Image | np.ndarray,
    preset: ExportPreset,
    product: ProductMask | None = None,
    background: tuple[int, int, int] | None = None,
) -> FramedImage:
    """:func:`frame_product` with the size, margin, upscale limit and padding colour of ``preset``.

    ``background`` overrides the preset's own colour (e.g. a colour chosen for the whole export).
    """
    return frame_product(
        image,
        preset.width,
        preset.height,
        product=product,
        margin=preset.margin,
        background=background if background is not None else preset.background_rgb(),
        max_upscale=preset.max_upscale,
    )
