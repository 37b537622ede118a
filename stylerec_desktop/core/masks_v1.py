"""The product mask of the first release, frozen: renders made from version-1 recipes use it, so they re-render
bit for bit (a recipe promises the same picture; see ``core/stylize/recipe.py``).

New renders use :mod:`stylerec_desktop.core.masks`, which finds products on photographs (frame lines, close-ups,
enclosed backdrop, a matte that follows the edge). This module is that module as it was at the first release, kept
whole on purpose: do not change it, or old recipes stop reproducing. Only the style engine's version-1 path imports
it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

# The mask is computed on a copy at most this many pixels on its longer side and scaled back up: 512 px keeps
# detail to within a pixel or two of a 1024 px shot and makes the whole analysis a few milliseconds.
_WORK_SIDE = 512
# Width of the border strip (fraction of the shorter side) that is assumed to show the backdrop.
_BORDER_FRACTION = 0.02
# Lab distance (roughly "just noticeable" x 4) within which a border pixel counts as matching the backdrop model.
_BORDER_TOLERANCE = 8.0
# Share of the border that must match the backdrop model for the backdrop to count as plain. A product may run
# off one side (a long dress cut at the bottom); half the border is still comfortably plain then.
_PLAIN_SHARE = 0.6
# Otsu finds the split between backdrop and product distances; clamping keeps it meaningful when one of the two
# barely exists (a tiny product, or a white product whose distances are all near zero).
_THRESHOLD_MIN, _THRESHOLD_MAX = 7.0, 25.0
# A shadow darkens the backdrop without changing its hue: lightness may drop to this share of the backdrop's
# before a neutral pixel counts as a (dark) product on colour alone.
_SHADOW_MIN_RATIO = 0.4
# How far a shadow's chroma may stray from the backdrop's (Lab a/b units), plus a share of the lightness drop
# because a darkened tinted backdrop loses a little chroma too.
_SHADOW_CHROMA, _SHADOW_CHROMA_PER_L = 5.0, 0.15
# Canny thresholds on the 8-bit grey work image after a light blur. A soft shadow (blurred over ten or more
# pixels) stays far below the high threshold; a printed outline or a product edge is well above it.
_CANNY_LOW, _CANNY_HIGH = 30, 80
# Components smaller than this share of the largest one are dust, reflections or stray edges, not product.
_KEEP_SHARE = 0.15
# OpenCV's 8-bit Lab stores L * 255 / 100 and a, b offset by 128.
_LAB8_OFFSET = np.array([0.0, 128.0, 128.0], dtype=np.float32)
_LAB8_SCALE = np.array([100.0 / 255.0, 1.0, 1.0], dtype=np.float32)
# A product smaller than this share of the image is not a product found.
_MIN_PRODUCT_SHARE = 0.002


@dataclass(frozen=True)
class ProductMask:
    """What :func:`analyse_product` found.

    ``mask`` is ``(H, W)`` bool, True on the product. ``found`` is False when no product could be separated (no
    plain backdrop, or nothing stands out from it); ``mask`` is then all True so callers that stylize or frame
    "the product" act on the whole image, and ``reason`` says why in a sentence. ``background`` is the backdrop's
    typical colour as 8-bit RGB (the median of the border), useful as a padding colour even when nothing was found.
    """

    mask: np.ndarray
    found: bool
    background: tuple[int, int, int]
    reason: str = ""

    @property
    def bbox(self) -> tuple[int, int, int, int] | None:
        """The mask's bounding box, see :func:`mask_bbox`."""
        return mask_bbox(self.mask)


def _as_rgb_array(image: Image.Image | np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB from a PIL image or an array (grey, RGB or RGBA; uint8 or float 0..1)."""
    if isinstance(image, Image.Image):
        if image.mode != "RGB":
            image = image.convert("RGB")
        return np.asarray(image)
    array = np.asarray(image)
    if array.dtype != np.uint8:
        # Float images in this project are 0..1 (the style nets' convention).
        array = (np.clip(array.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {array.shape}")
    return np.ascontiguousarray(array[..., :3])


def _alpha(image: Image.Image | np.ndarray) -> np.ndarray | None:
    """The alpha channel ``(H, W)`` uint8 when the image has one that is not fully opaque, else None."""
    if isinstance(image, Image.Image):
        if "A" not in image.getbands() and "transparency" not in image.info:
            return None
        alpha = np.asarray(image.convert("RGBA").getchannel("A"))
    else:
        array = np.asarray(image)
        if array.ndim != 3 or array.shape[2] != 4:
            return None
        alpha = array[..., 3]
        if alpha.dtype != np.uint8:
            alpha = (np.clip(alpha.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return alpha if int(alpha.min()) < 250 else None


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab (L 0..100, a/b about -128..127) as float32.

    Converted in 8 bits, which OpenCV does with lookup tables about twice as fast as in float; the quantisation
    (under 1 unit) is far below every tolerance used here.
    """
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab -= _LAB8_OFFSET
    lab *= _LAB8_SCALE
    return lab


def _border_mask(height: int, width: int) -> np.ndarray:
    strip = max(2, round(min(height, width) * _BORDER_FRACTION))
    border = np.zeros((height, width), dtype=bool)
    border[:strip, :] = border[-strip:, :] = True
    border[:, :strip] = border[:, -strip:] = True
    return border


def _design(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Quadratic surface terms of normalised coordinates: bends with gradients and vignettes, not with a product."""
    return np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], axis=1)


def _fit_backdrop(lab: np.ndarray, border: np.ndarray) -> tuple[np.ndarray, float]:
    """Fit the backdrop surface to the border pixels; return the model image ``(H, W, 3)`` and the share that fits."""
    height, width = border.shape
    ys, xs = np.nonzero(border)
    # Every third border pixel is plenty for six coefficients and keeps the fit well under a millisecond.
    ys, xs = ys[::3], xs[::3]
    values = lab[ys, xs].astype(np.float64)
    design = _design(xs / max(width - 1, 1) * 2.0 - 1.0, ys / max(height - 1, 1) * 2.0 - 1.0)
    # Iteratively trimmed least squares: start from the median colour (robust to a product touching the border),
    # then refit on the pixels near the current surface. The 6 x 6 normal equations are solved directly: with
    # a few thousand rows that is far cheaper than a general least-squares routine.
    coefficients = np.zeros((design.shape[1], 3))
    coefficients[0] = np.median(values, axis=0)
    for _ in range(3):
        residual = np.linalg.norm(values - design @ coefficients, axis=1)
        keep = residual < max(_BORDER_TOLERANCE, float(np.median(residual)) * 2.0)
        if keep.sum() < design.shape[1] * 4:
            break
        kept = design[keep]
        try:
            coefficients = np.linalg.solve(kept.T @ kept, kept.T @ values[keep])
        except np.linalg.LinAlgError:
            break  # degenerate border (a few pixels wide image): keep the previous surface
    residual = np.linalg.norm(values - design @ coefficients, axis=1)
    plain_share = float(np.mean(residual < _BORDER_TOLERANCE))
    # The surface is smooth, so evaluating it on a coarse grid and scaling up loses nothing and saves the cost
    # of six full-size multiply-adds per channel.
    grid_h, grid_w = min(height, 32), min(width, 32)
    gy, gx = np.meshgrid(np.linspace(-1.0, 1.0, grid_h), np.linspace(-1.0, 1.0, grid_w), indexing="ij")
    coarse = (_design(gx.ravel(), gy.ravel()) @ coefficients).reshape(grid_h, grid_w, 3).astype(np.float32)
    model = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
    return model, plain_share


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of non-negative distances, in the same units (via an 8-bit histogram of 0..64)."""
    scaled = np.clip(values * 4.0, 0, 255).astype(np.uint8)
    threshold, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return float(threshold) / 4.0


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill every region of False not connected to the image border."""
    height, width = mask.shape
    padded = np.zeros((height + 2, width + 2), dtype=np.uint8)
    padded[1:-1, 1:-1] = mask.astype(np.uint8) * 255
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((height + 4, width + 4), dtype=np.uint8), (0, 0), 128)
    return (flood[1:-1, 1:-1] != 128)


def _largest_components(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(mask)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.concatenate([[False], areas >= areas.max() * _KEEP_SHARE])
    return keep[labels]


def _whole(shape: tuple[int, int], background: tuple[int, int, int], reason: str) -> ProductMask:
    return ProductMask(np.ones(shape, dtype=bool), found=False, background=background, reason=reason)


def analyse_product(image: Image.Image | np.ndarray) -> ProductMask:
    """Separate the product from a plain studio backdrop.

    ``image`` is a PIL image (any mode) or an array ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` (uint8, or float
    in 0..1). An image with real transparency is masked by its alpha channel; an opaque one by the backdrop
    analysis above. Returns a :class:`ProductMask` with an ``(H, W)`` bool mask. Takes 20-30 ms for a 1024 x 1024
    shot on a 2-core CPU. Never raises for odd content: without a plain backdrop it returns the whole image with
    ``found=False``.
    """
    alpha = _alpha(image)
    if alpha is not None:
        mask = alpha >= 128
        if mask.mean() >= _MIN_PRODUCT_SHARE:
            # Transparent pixels have no colour worth sampling; cut-outs go on white, as load_image puts them.
            return ProductMask(mask, found=True, background=(255, 255, 255))
    rgb = _as_rgb_array(image)
    height, width = rgb.shape[:2]
    scale = min(1.0, _WORK_SIDE / max(height, width))
    work = rgb
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        work = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    border = _border_mask(*work.shape[:2])
    red, green, blue = (int(v) for v in np.median(work[border], axis=0))
    background = (red, green, blue)
    if min(height, width) < 8:
        return _whole((height, width), background, "The image is too small to find a product in.")
    lab = _lab(work)
    model, plain_share = _fit_backdrop(lab, border)
    if plain_share < _PLAIN_SHARE:
        return _whole(
            (height, width), background, "The image has no plain background, so the whole image is used."
        )

    delta = lab - model
    d_light = delta[..., 0]
    d_chroma = np.hypot(delta[..., 1], delta[..., 2])
    # Shadow candidates: darker than the backdrop, not too dark, and of the backdrop's hue.
    shadow_like = (
        (d_light < 0)
        & (lab[..., 0] > model[..., 0] * _SHADOW_MIN_RATIO)
        & (d_chroma < _SHADOW_CHROMA + _SHADOW_CHROMA_PER_L * -d_light)
    )
    distance = np.where(shadow_like, d_chroma, np.hypot(d_light, d_chroma))
    threshold = min(_THRESHOLD_MAX, max(_THRESHOLD_MIN, _otsu(distance)))
    colour_fg = distance > threshold

    grey = cv2.GaussianBlur(cv2.cvtColor(work, cv2.COLOR_RGB2GRAY), (3, 3), 0)
    edges = cv2.Canny(grey, _CANNY_LOW, _CANNY_HIGH) > 0
    side = min(lab.shape[:2])
    close_size = max(3, (side // 60) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close_size, close_size))
    candidate = (colour_fg | edges).astype(np.uint8)
    candidate = cv2.morphologyEx(candidate, cv2.MORPH_CLOSE, kernel) > 0
    mask = _fill_holes(_largest_components(candidate))
    # A small opening removes hairlines of edge pixels left dangling off the product (a thread, a crease in the
    # backdrop) without touching its body. The mask may still reach a pixel beyond the outline, where the edge
    # detector marked the backdrop side: erring outwards keeps framing from ever cutting into the product.
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0

    if mask.mean() < _MIN_PRODUCT_SHARE:
        return _whole(
            (height, width),
            background,
            "Nothing stands out from the background (a white product on white?), so the whole image is used.",
        )
    if scale < 1.0:
        smooth = cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
        mask = smooth >= 0.5
    return ProductMask(mask, found=True, background=background)


def product_mask(image: Image.Image | np.ndarray) -> np.ndarray:
    """The product's mask: ``(H, W)`` bool, True on the product (all True when none is found).

    See :func:`analyse_product` for the inputs accepted and for the ``found`` flag this short form drops.
    """
    return analyse_product(image).mask


def soft_mask(image_or_mask: Image.Image | np.ndarray, feather: float = 1.5) -> np.ndarray:
    """A feathered product mask: ``(H, W)`` float32 in 0..1.

    Pass an image (the mask is computed first) or a bool mask from :func:`product_mask`. ``feather`` is the
    Gaussian sigma in pixels of the full-size image; a pixel or two hides the staircase of a hard mask when a
    restyled product is blended back over its background. ``feather=0`` gives a hard 0/1 mask.
    """
    array = image_or_mask if isinstance(image_or_mask, np.ndarray) else None
    mask = array if array is not None and array.dtype == bool else product_mask(image_or_mask)
    soft: np.ndarray = mask.astype(np.float32)
    if feather > 0:
        soft = cv2.GaussianBlur(soft, (0, 0), sigmaX=float(feather))
    return np.clip(soft, 0.0, 1.0)


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box ``(left, top, right, bottom)`` of the True pixels, right/bottom exclusive (PIL's convention).

    None when the mask is empty.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
