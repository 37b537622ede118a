"""Product-aware framing: fit a product shot into an ad format without ever cutting the product off.

The product's box (from :mod:`stylerec_desktop.core.masks`) is scaled to fill the frame minus a margin and centred;
the rest of the frame shows the source image around it, and where the source runs out the frame is padded. So a
tall bottle in a landscape banner is padded left and right, a wide sofa in a story is padded top and bottom, and a
small product in a large shot is cropped to it. The enlargement this takes is whatever the product's size needs,
up to the preset's limit; it is reported (``FramedImage.scale``, the manifest's ``upscale``) and warned about
when it is large enough to soften the picture.

Padding continues the backdrop: it is the mask analysis's smooth model of the backdrop (fitted to the backdrop's
own pixels, robust to a product touching the edge), evaluated at the padding's place and clamped to the photo's
edge. So gradients and vignettes carry on without a seam, and grain, JPEG noise and the thin darker frame line
many catalog photos have are neither repeated nor streaked: the frame line is cropped away before framing.
Without a plain backdrop the padding is the border's median colour; a colour chosen by the user is used flat.

A close-up, whose product runs off two or more edges of the photo, is cropped within the photo instead: padding
beside a product cut by the photo's edge would show the cut.
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
    inside it; ``content_box`` is where the source's pixels lie in ``image`` (the rest is padding); ``scale`` is
    output pixels per source pixel (above 1: enlarged).
    """

    image: Image.Image
    product_box: Box
    scale: float
    warnings: tuple[FramingWarning, ...] = field(default_factory=tuple)
    content_box: Box = (0, 0, 0, 0)


# Enlargements above this show as softness at 1:1, so they are warned about (every factor is reported anyway).
VISIBLE_UPSCALE = 1.5
# The product's box within this many source pixels of an edge counts as touching it.
_TOUCH = 2
# How far (source px) JPEG ringing around a photo's frame line reaches into the picture: measured 2-3 px on the
# photo generator's frame lines (8x8 blocks, 4:2:0 chroma).
_JPEG_RINGING = 3


def _touching(box: Box, width: int, height: int) -> int:
    left, top, right, bottom = box
    return sum((left <= _TOUCH, top <= _TOUCH, right >= width - _TOUCH, bottom >= height - _TOUCH))


def frame_product(
    image: Image.Image | np.ndarray,
    width: int,
    height: int,
    *,
    product: ProductMask | None = None,
    margin: float = 0.08,
    background: tuple[int, int, int] | None = None,
    max_upscale: float = 4.0,
) -> FramedImage:
    """Frame ``image`` at ``width`` x ``height`` with its product whole, centred and ``margin`` clear of each edge.

    ``image`` is a PIL image or an ``(H, W, 3)`` uint8 RGB array (cheaper when framing one image many times).
    ``product`` is the image's :class:`ProductMask` (computed when None; pass it to frame one image in several
    presets without recomputing it). ``margin`` is a share of the frame's width and height. ``background`` is the
    padding colour; None continues the backdrop (see the module docstring). The product is enlarged as far as
    filling the frame needs, never more than ``max_upscale``: a product that would need more is shown smaller,
    with more padding, and a warning; enlargements above :data:`VISIBLE_UPSCALE` are warned about too. A product
    running off two or more edges of the photo (a close-up) is framed by cropping within the photo. When no
    product was found, the whole image is fitted into the frame (padded, never cropped) with a warning naming why.
    """
    if isinstance(image, Image.Image):
        image = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    if product is None:
        product = analyse_product(image)
    warnings: list[FramingWarning] = []
    # The frame line around some photos is neither backdrop nor product: frame the picture inside it, and inside
    # the few pixels next to it where JPEG's ringing around such a sharp line makes the backdrop uneven (a seam
    # of 2-3 levels beside the padding otherwise).
    inset = product.inset + _JPEG_RINGING if product.inset else 0
    inset = inset if 4 * inset < min(image.shape[:2]) else 0
    source = image[inset : image.shape[0] - inset, inset : image.shape[1] - inset] if inset else image
    src_h, src_w = source.shape[:2]
    box = product.bbox if product.found else None
    if box is None:
        box = (0, 0, src_w, src_h)
        margin = 0.0  # a whole photo is fitted edge to edge; a margin would only add a border around it
        reason = product.reason or "No product was found; the whole image is used."
        warnings.append(FramingWarning("no_product", reason))
    else:
        left, top, right, bottom = box
        box = (max(0, left - inset), max(0, top - inset), min(src_w, right - inset), min(src_h, bottom - inset))
        if product.reason:
            warnings.append(FramingWarning("uncertain_mask", product.reason))
    left, top, right, bottom = box
    box_w, box_h = max(1, right - left), max(1, bottom - top)
    fit = min(width * (1.0 - 2.0 * margin) / box_w, height * (1.0 - 2.0 * margin) / box_h)
    close_up = product.found and _touching(box, src_w, src_h) >= 2
    if close_up:
        # Cover the frame with the photo: at least enough enlargement that the window fits inside the photo.
        fit = max(fit, width / src_w, height / src_h)
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
    elif scale > VISIBLE_UPSCALE:
        warnings.append(
            FramingWarning(
                "upscaled",
                f"Enlarged {scale:.2f}x to fill {width}x{height} with the product; it may look soft. Use a larger "
                "source image for a sharper result.",
            )
        )
    # The source window the frame shows, in source pixels, centred on the product. Its corner is rounded to a
    # whole source pixel so the resize below works on a plain crop; that moves the product by under a pixel.
    x0 = math.floor((left + right) / 2.0 - width / (2.0 * scale) + 0.5)
    y0 = math.floor((top + bottom) / 2.0 - height / (2.0 * scale) + 0.5)
    if close_up:
        # Slide the window inside the photo (the product is cut by the photo anyway; padding would show the cut).
        x0 = min(max(0, x0), max(0, math.floor(src_w - width / scale)))
        y0 = min(max(0, y0), max(0, math.floor(src_h - height / scale)))
        touched = _touching(box, src_w, src_h)
        warnings.append(
            FramingWarning(
                "close_up",
                f"The product runs off {touched} edges of the photo (a close-up), so the frame is cropped within "
                "the photo instead of padded.",
            )
        )
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
    if background is not None:
        pixels = np.empty((height, width, 3), dtype=np.uint8)
        pixels[...] = np.asarray(background, dtype=np.uint8)
    else:
        pixels = _backdrop_canvas(product, width, height, (dx0, dy0, dx1, dy1), x0, y0, scale, inset)
    if dx1 > dx0 and dy1 > dy0:
        # OpenCV's resize is many times faster than PIL's. Area averaging when shrinking keeps fine patterns
        # free of moire; bicubic when enlarging.
        interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
        pixels[dy0:dy1, dx0:dx1] = cv2.resize(source[sy0:sy1, sx0:sx1], (dx1 - dx0, dy1 - dy0),
                                              interpolation=interpolation)  # fmt: skip
    canvas = Image.fromarray(pixels)
    product_box = (
        min(width, max(0, math.floor(dx0 + (left - sx0) * scale_x))),
        min(height, max(0, math.floor(dy0 + (top - sy0) * scale_y))),
        max(0, min(width, math.ceil(dx0 + (right - sx0) * scale_x))),
        max(0, min(height, math.ceil(dy0 + (bottom - sy0) * scale_y))),
    )
    return FramedImage(canvas, product_box, scale, tuple(warnings), (dx0, dy0, dx1, dy1))


def _backdrop_canvas(
    product: ProductMask, width: int, height: int, content: Box, x0: int, y0: int, scale: float, inset: int
) -> np.ndarray:
    """A ``(height, width, 3)`` uint8 frame whose padding (outside ``content``) continues the backdrop.

    Each padding pixel takes the backdrop model's colour at the source position it stands for (``x0``, ``y0``:
    the window's corner in source pixels inside the frame line, ``scale`` output px per source px), which the
    model clamps to the photo's edge. Only the padding strips are evaluated.
    """
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    dx0, dy0, dx1, dy1 = content

    def source_x(columns: np.ndarray) -> np.ndarray:
        return x0 + (columns + 0.5) / scale - 0.5 + inset

    def source_y(rows: np.ndarray) -> np.ndarray:
        return y0 + (rows + 0.5) / scale - 0.5 + inset

    all_columns = np.arange(width, dtype=np.float32)
    strips = (
        (np.s_[:dy0, :], np.arange(0, dy0, dtype=np.float32), all_columns),
        (np.s_[dy1:, :], np.arange(dy1, height, dtype=np.float32), all_columns),
        (np.s_[dy0:dy1, :dx0], np.arange(dy0, dy1, dtype=np.float32), np.arange(0, dx0, dtype=np.float32)),
        (np.s_[dy0:dy1, dx1:], np.arange(dy0, dy1, dtype=np.float32), np.arange(dx1, width, dtype=np.float32)),
    )
    for where, rows, columns in strips:
        if len(rows) and len(columns):
            colours = product.backdrop_at(source_x(columns), source_y(rows))
            pixels[where] = np.clip(colours + 0.5, 0, 255).astype(np.uint8)
    return pixels


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
