"""CPU preparation of a product image for indexing: decode, find the product, letterbox it for the networks, and
compute the two descriptors that need no network (palette and pattern; see :mod:`.features` for what they mean).

Torch-free on purpose: on machines with many cores the indexing job runs this in worker *processes* (see
:func:`stylerec_desktop.core.recommend.indexing.index_catalog`), which then start in a fraction of a second and
stay small, and a GPU is never initialised twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.imaging import load_image, load_image_data
from stylerec_desktop.core.masks import analyse_product

if TYPE_CHECKING:  # only for the annotation: this module stays torch-free at run time (see above)
    import torch

PALETTE_SIZE = 5
PATTERN_DIM = 20
PREP_SIDE = 256
# Palette and pattern work on a small copy: colours and the pattern's direction statistics are stable at 128 px
# and k-means on a few thousand pixels takes about a millisecond.
_ANALYSIS_SIDE = 128
_ORIENTATION_BINS = 8
_PALETTE_SAMPLES = 3000


@dataclass(frozen=True)
class PreparedImage:
    """One image ready for the networks: ``square`` ``(256, 256, 3)`` uint8 RGB letterboxed on its backdrop colour
    (a numpy array, or a tensor already on the networks' device when prepared there, see :mod:`.gpu_prepare`),
    plus the palette and pattern, which need no network."""

    square: np.ndarray | torch.Tensor
    palette: np.ndarray
    pattern: np.ndarray


def _letterbox(rgb: np.ndarray, background: tuple[int, int, int], side: int) -> np.ndarray:
    """Fit ``rgb`` (H, W, 3) into a ``side`` square padded with ``background``; cropping would cut the product off."""
    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    square = np.empty((side, side, 3), np.uint8)
    square[:] = background
    top, left = (side - new_h) // 2, (side - new_w) // 2
    square[top : top + new_h, left : left + new_w] = resized
    return square


def _lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB (..., 3) -> float32 CIE Lab (D65): L 0..100, a/b about -128..127."""
    flat = rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(rgb.shape)


def palette_of(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The product's main colours: ``(PALETTE_SIZE, 4)`` float32 rows ``L, a, b, share``, biggest share first.

    ``rgb`` is ``(H, W, 3)`` uint8, ``mask`` ``(H, W)`` bool (True on the product). k-means runs in Lab so that
    cluster distances are perceptual; it is seeded, so the same image always gives the same palette. A product with
    fewer distinct colours than ``PALETTE_SIZE`` gets near-duplicate rows with small shares, which is harmless to the
    colour histogram built from them.
    """
    pixels = _lab(rgb)[mask]
    if len(pixels) < PALETTE_SIZE:
        pixels = _lab(rgb).reshape(-1, 3)
    if len(pixels) > _PALETTE_SAMPLES:
        # A fixed stride rather than a random sample: deterministic, and spread over the whole product.
        pixels = pixels[:: len(pixels) // _PALETTE_SAMPLES][:_PALETTE_SAMPLES]
    pixels = np.ascontiguousarray(pixels, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(1234)
    _, labels, centres = cv2.kmeans(pixels, PALETTE_SIZE, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    shares = np.bincount(labels.ravel(), minlength=PALETTE_SIZE).astype(np.float32) / len(labels)
    order = np.argsort(-shares, kind="stable")
    return np.column_stack([centres[order], shares[order]]).astype(np.float32)


def _orientation_histogram(grey: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Magnitude-weighted edge orientations (0..pi, ``_ORIENTATION_BINS`` bins) inside ``region``, rotated to start
    at the strongest bin; plus the mean gradient magnitude and the share of "edgy" pixels there."""
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.hypot(gx, gy)[region]
    angle = (np.arctan2(gy, gx)[region] % np.pi) / np.pi * _ORIENTATION_BINS
    bins = np.minimum(angle.astype(np.int64), _ORIENTATION_BINS - 1)
    histogram = np.bincount(bins, weights=magnitude, minlength=_ORIENTATION_BINS).astype(np.float32)
    total = float(histogram.sum())
    if total > 0:
        histogram = np.roll(histogram / total, -int(histogram.argmax()))
    energy = float(magnitude.mean()) if magnitude.size else 0.0
    busy = float((magnitude > 0.15).mean()) if magnitude.size else 0.0
    return histogram, energy, busy


def pattern_of(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Texture descriptor ``(PATTERN_DIM,)`` float32 of the product surface (see the module docstring).

    Only the mask's interior counts (eroded by a few pixels), so the silhouette's outline — the product's shape, not
    its pattern — does not register as a stripe.
    """
    grey: np.ndarray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    interior = cv2.erode(mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    if interior.sum() < 16:
        interior = np.ones_like(mask)
    parts: list[np.ndarray] = []
    stats: list[float] = []
    for level in range(2):
        histogram, energy, busy = _orientation_histogram(grey, interior)
        parts.append(histogram)
        # log keeps the energy of a faint print and a bold stripe on one scale
        stats += [float(np.log1p(20.0 * energy)), busy]
        if level == 0:
            grey = cv2.pyrDown(grey)
            size = (grey.shape[1], grey.shape[0])
            interior = cv2.resize(interior.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
            if interior.sum() < 16:
                interior = np.ones_like(interior)
    return np.concatenate([*parts, np.asarray(stats, np.float32)]).astype(np.float32)


def prepare_image(image: Image.Image) -> PreparedImage:
    """Letterbox an RGB product shot for the networks and compute its palette and pattern (about 5 ms)."""
    rgb = np.asarray(image.convert("RGB"))
    scale = _ANALYSIS_SIDE / max(rgb.shape[:2])
    small = rgb
    if scale < 1:
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    product = analyse_product(small)
    region = _solid_region(product.mask)
    return PreparedImage(
        square=_letterbox(rgb, product.background, PREP_SIDE),
        palette=palette_of(small, region),
        pattern=pattern_of(small, region),
    )


def _solid_region(mask: np.ndarray) -> np.ndarray:
    """The product mask with its gaps closed and holes filled.

    A product printed partly in the backdrop's colour (white stripes on a white studio floor) comes out of the mask
    as separate bands; closing bridges the bands and hole filling takes the enclosed white back in, so the palette
    counts the white stripes and the pattern descriptor sees the stripes' edges rather than one solid band.
    """
    side = min(mask.shape)
    size = max(3, (side // 12) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, kernel)
    # Flood the background from a padded border; whatever the flood cannot reach is product or enclosed hole.
    padded = cv2.copyMakeBorder(closed, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8), (0, 0), 2)
    return (flood != 2)[1:-1, 1:-1]


def prepare_for_index(path: Path, data: bytes | None = None) -> PreparedImage | str:
    """Decode and analyse one image; a user-fixable problem comes back as its message instead of raising.

    ``data``: the file's bytes when they were read elsewhere (a cluster worker gets them from the workstation);
    ``path`` then only names the image in the message.
    """
    try:
        if data is not None:
            return prepare_image(load_image_data(data, Path(path), max_side=PREP_SIDE))
        return prepare_image(load_image(path, max_side=PREP_SIDE))
    except UserError as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot be read: {exc}"
