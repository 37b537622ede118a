"""Full-resolution edge refinement of a product mask: local two-class matting on the distance to the backdrop.

:func:`refine_matte` takes the mask :mod:`stylerec_desktop.core.masks` found at a reduced working size and the
backdrop model it fitted, and returns a matte at the photo's own size: in a band around the coarse outline each
pixel's alpha is where its (shadow-aware) distance to the backdrop lies between the product's and the backdrop's
beside it. The outline snaps to where the colour changes, a soft shadow stays backdrop, and the matte is soft only
as wide as the image's own edge. The band is processed in tiles stacked into one array, so the cost follows the
outline's length rather than the picture's area.
"""

from __future__ import annotations

import cv2
import numpy as np

# A shadow darkens the backdrop without changing its hue: lightness (here: the colour's scale) may drop to this
# share of the backdrop's before a neutral pixel stops counting as shadow. Shared with the mask's own analysis.
SHADOW_MIN_RATIO = 0.4
# The local matting needs the product and the backdrop beside it this far apart on the 0..1 guide (a fifth of
# twice the threshold); closer, grain and JPEG noise would decide the edge, and the coarse mask is kept.
_MIN_CONTRAST = 0.2
# Gaussian sigma (full-resolution pixels) of the guide's blur before matting.
_GUIDE_BLUR = 0.8


def _box(values: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(values, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def _two_class_matte(guide: np.ndarray, coarse: np.ndarray, radius: int) -> np.ndarray:
    """Local two-class matting: each pixel's alpha is where its guide value lies between the typical guide value
    of the product and of the backdrop around it (the coarse mask's two sides within ``radius``).

    ``guide`` and ``coarse`` are ``(H, W)`` float32 in 0..1 (distance to the backdrop, and the upsampled coarse
    mask). Unlike a guided filter this does not depend on exactly where the coarse edge runs, only on which side
    most of each window's pixels lie, so a coarse mask a pixel or two off still gives an edge on the real outline;
    and the alpha is soft exactly as wide as the image's own edge is. Where the two sides barely differ (a grey
    product against its own shadow, a white stripe running into the backdrop) the coarse mask is kept.
    """
    product_share = _box(coarse, radius)
    backdrop_share = 1.0 - product_share
    on_product = _box(guide * coarse, radius) / np.maximum(product_share, 1e-3)
    on_backdrop = _box(guide * (1.0 - coarse), radius) / np.maximum(backdrop_share, 1e-3)
    contrast = on_product - on_backdrop
    alpha = (guide - on_backdrop) / np.maximum(contrast, 1e-3)
    # Both sides must be present in the window and clearly apart; otherwise the window has nothing to go on.
    usable = (contrast > _MIN_CONTRAST) & (product_share > 0.1) & (backdrop_share > 0.1)
    return np.where(usable, np.clip(alpha, 0.0, 1.0), coarse)


def refine_matte(rgb: np.ndarray, coarse: np.ndarray, grid: np.ndarray, threshold: float, scale: float) -> np.ndarray:
    """The full-resolution matte ``(H, W)`` float32 0..1 from the work-resolution mask ``coarse``.

    ``grid`` is the backdrop model as a coarse RGB grid over ``rgb``. Only a band around the coarse outline is
    refined, as wide as the work image's pixels are at full size; inside and outside the band the mask is certain
    and the matte is 1 or 0. The band is processed in tiles that hold part of it, all tiles in one stack of numpy
    and OpenCV calls, so the cost follows the outline's length rather than the image's area.
    """
    height, width = rgb.shape[:2]
    radius = max(1, round(1.0 / scale))
    up: np.ndarray = coarse.astype(np.uint8) * 255
    if up.shape != (height, width):
        # Averaged when the outline comes from a larger analysis (a preview of a picture analysed at 512 px).
        how = cv2.INTER_AREA if up.shape[1] > width else cv2.INTER_LINEAR
        up = cv2.resize(up, (width, height), interpolation=how)
    hard = (up >= 128).astype(np.uint8)
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    band = cv2.dilate(hard, kernel) != cv2.erode(hard, kernel)
    alpha = hard.astype(np.float32)
    # Each window reaches a little past the band so both sides of the outline are in it; each tile is read with
    # a margin so the windows of its own pixels see real neighbours.
    window = radius + 2
    margin = radius + window + 1
    tile = 64
    tiles_y, tiles_x = np.nonzero(_any_in_blocks(band, tile))
    if not len(tiles_y):
        return alpha
    size_y, size_x = min(height, tile + 2 * margin), min(width, tile + 2 * margin)
    origin_y = np.clip(tiles_y * tile - margin, 0, height - size_y)
    origin_x = np.clip(tiles_x * tile - margin, 0, width - size_x)
    pixels = np.stack([rgb[y : y + size_y, x : x + size_x] for y, x in zip(origin_y, origin_x, strict=True)])
    sources = np.stack([up[y : y + size_y, x : x + size_x] for y, x in zip(origin_y, origin_x, strict=True)])
    count = len(origin_y)
    # The backdrop model at every stacked pixel, from the coarse grid in one remap.
    grid_h, grid_w = grid.shape[:2]
    xs = (origin_x[:, None] + np.arange(size_x)[None, :]).astype(np.float32) / max(1, width - 1) * (grid_w - 1)
    ys = (origin_y[:, None] + np.arange(size_y)[None, :]).astype(np.float32) / max(1, height - 1) * (grid_h - 1)
    map_x = np.ascontiguousarray(np.broadcast_to(xs[:, None, :], (count, size_y, size_x))).reshape(-1, size_x)
    map_y = np.ascontiguousarray(np.broadcast_to(ys[:, :, None], (count, size_y, size_x))).reshape(-1, size_x)
    model = cv2.remap(grid, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # The guide: distance to the backdrop, scaled so a product at twice the colour threshold reads 1 (RGB
    # distances of light colours run about 2.5x their Lab distances).
    distance = _shadow_aware_rgb_distance(pixels.reshape(-1, size_x, 3), model)
    # JPEG's 8x8 blocks and halved chroma leave a pixel-scale speckle of colour along every edge; a slight blur of
    # the guide keeps that from deciding single pixels of the matte (the edge itself moves by a fraction of one).
    distance = cv2.GaussianBlur(distance, (0, 0), _GUIDE_BLUR)
    guide = np.clip(distance / (5.0 * threshold), 0.0, 1.0).reshape(count, size_y, size_x)
    # Stacked tiles sit one above the other; mirrored rows between them keep one tile's box filter from reading
    # the next tile's pixels.
    pad = ((0, 0), (window, window), (0, 0))
    guide = np.pad(guide, pad, mode="symmetric").reshape(-1, size_x)
    source = np.pad(sources.astype(np.float32) / 255.0, pad, mode="symmetric").reshape(-1, size_x)
    mattes = _two_class_matte(guide, source, window).reshape(count, size_y + 2 * window, size_x)[:, window:-window]
    for matte, y, x, ty, tx in zip(mattes, origin_y, origin_x, tiles_y, tiles_x, strict=True):
        core = (slice(ty * tile, min(height, ty * tile + tile)), slice(tx * tile, min(width, tx * tile + tile)))
        inner = matte[core[0].start - y : core[0].stop - y, core[1].start - x : core[1].stop - x]
        region = band[core]
        alpha[core][region] = np.clip(inner[region], 0.0, 1.0)
    # The islands can only lie in the band: look for them within its bounding box (plus a pixel of certain
    # surroundings), not the whole picture.
    r0, r1 = max(0, int(tiles_y.min()) * tile - 1), min(height, (int(tiles_y.max()) + 1) * tile + 1)
    c0, c1 = max(0, int(tiles_x.min()) * tile - 1), min(width, (int(tiles_x.max()) + 1) * tile + 1)
    alpha[r0:r1, c0:c1] = _keep_islands(alpha[r0:r1, c0:c1], hard[r0:r1, c0:c1], band[r0:r1, c0:c1])
    return alpha


def _keep_islands(alpha: np.ndarray, hard: np.ndarray, band: np.ndarray) -> np.ndarray:
    """``alpha`` with every background island the matting cut inside the product given back to it.

    A light dot of a print near the outline looks like the backdrop to the matting, but backdrop seen through
    a product is always connected to the backdrop around it; a cut that is not (a region of alpha < 0.5 in the
    band touching no pixel that was background before matting) is print, and takes the coarse mask's value again.
    """
    cut = band & (alpha < 0.5)
    if not cut.any():
        return alpha
    count, labels = cv2.connectedComponents(cut.astype(np.uint8), connectivity=4)
    certain = ((hard == 0) & ~band).astype(np.uint8)
    beside = cv2.dilate(certain, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))) > 0
    connected = np.zeros(count, dtype=bool)
    connected[labels[cut & beside]] = True  # a scatter, not np.unique: no sort
    islands = cut & ~connected[labels]
    if islands.any():
        alpha = alpha.copy()
        alpha[islands] = hard[islands].astype(np.float32)
    return alpha


def _shadow_aware_rgb_distance(pixels: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """RGB distance ``(H, W)`` float32 of ``pixels`` (uint8) to ``backdrop`` (float32), where a pixel that is only
    a darker version of the backdrop (a shadow: the same colour scaled by 0.4..1) counts by how far it is from
    that darker backdrop, so a shadow under the product reads as backdrop and is not pulled into the matte."""
    # Channel planes: whole-plane float32 arithmetic is several times faster than reducing over a last axis of 3.
    colour = cv2.split(pixels.astype(np.float32))
    model = cv2.split(backdrop)
    dot = colour[0] * model[0] + colour[1] * model[1] + colour[2] * model[2]
    norm = np.maximum(model[0] * model[0] + model[1] * model[1] + model[2] * model[2], 1.0)
    gain = dot / norm
    gain = np.where((gain > SHADOW_MIN_RATIO) & (gain < 1.0), gain, np.float32(1.0))
    total = np.zeros_like(dot)
    for c, m in zip(colour, model, strict=True):
        step = c - gain * m
        total += step * step
    return np.sqrt(total)


def _any_in_blocks(values: np.ndarray, tile: int) -> np.ndarray:
    """For an ``(H, W)`` bool image, whether each ``tile`` x ``tile`` block holds a True: ``(ceil(H/tile),
    ceil(W/tile))`` bool."""
    height, width = values.shape
    blocks_y, blocks_x = -(-height // tile), -(-width // tile)
    padded = np.zeros((blocks_y * tile, blocks_x * tile), dtype=bool)
    padded[:height, :width] = values
    return np.asarray(padded.reshape(blocks_y, tile, blocks_x, tile).any(axis=(1, 3)))
