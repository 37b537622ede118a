"""Preparing a batch of product images for indexing as tensor operations on one device (a GPU, or the CPU in tests).

The same steps as :func:`stylerec_desktop.core.recommend.prepare.prepare_image`, one batch at a time: the product
mask (the core of :func:`stylerec_desktop.core.masks.analyse_product`), its solid region, the palette (k-means in
Lab), the pattern descriptor, and the letterboxed 256 px square for the networks. Inputs are the decoded pictures
at any size; every step after the per-image resizing runs on the whole batch at once.

What differs from the CPU path, and why (the sizes of the differences are measured in
``tests/test_tensor_prepare.py`` and by ``bench/bench_gpu.py`` on the device):

- Resizing: one antialiased bicubic step from the full decoded picture instead of libjpeg's DCT scaling plus PIL's
  Lanczos, and area averaging for the 128 px analysis copy. Pixels differ by a level or two.
- The mask leaves out the analysis's refinements that only move its outline by a pixel or decide doubtful cases:
  the frame-line search, the second look at a doubtful mask, the confidence, and the sub-pixel matte. The palette
  and pattern use the mask's closed, filled region, which those refinements barely change.
- The backdrop surface is evaluated at each pixel rather than interpolated from a 32 x 32 grid, and Lab is computed
  in float rather than through OpenCV's 8-bit tables (under one Lab unit).
- k-means starts from a k-means++ draw of torch's seeded generator, not OpenCV's: same samples, same criteria, but
  a different start, so a colour split between two clusters can land differently. Exact agreement is impossible;
  the palettes are compared by Lab distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from stylerec_desktop.core.masks import (
    _BORDER_TOLERANCE,
    _CANNY_HIGH,
    _CANNY_LOW,
    _HOLE_FLOOR,
    _HOLE_MATCH_SHARE,
    _HOLE_MIN_SHARE,
    _HOLE_NOISE,
    _KEEP_SHARE,
    _MIN_BACKDROP_SHARE,
    _MIN_PRODUCT_SHARE,
    _PLAIN_SPREAD,
    _SAME_BACKDROP,
    _SEGMENTS_PER_SIDE,
    _SHADOW_CHROMA,
    _SHADOW_CHROMA_PER_L,
    _THRESHOLD_FLOOR,
    _THRESHOLD_MAX,
    _THRESHOLD_NOISE,
    _WEAK_SHARE,
    _border_segments,
)
from stylerec_desktop.core.matting import SHADOW_MIN_RATIO
from stylerec_desktop.core.recommend import tensor_ops as ops
from stylerec_desktop.core.recommend.prepare import (
    _ANALYSIS_SIDE,
    _ORIENTATION_BINS,
    _PALETTE_SAMPLES,
    PALETTE_SIZE,
    PREP_SIDE,
)

# The analysis canvas is a little larger than the largest analysis image, so every image has mirrored pixels
# beyond its right and bottom edges for the 3x3 and 5x5 filters (see tensor_ops).
_CANVAS = _ANALYSIS_SIDE + 8
_KMEANS_ITERATIONS, _KMEANS_EPS, _KMEANS_SEED = 20, 0.5, 1234


@dataclass(frozen=True)
class PreparedBatch:
    """A batch ready for the networks.

    ``squares`` ``(N, 256, 256, 3)`` uint8 on the device (RGB, letterboxed on each backdrop's colour);
    ``palettes`` ``(N, 5, 4)`` and ``patterns`` ``(N, 20)`` float32 numpy (see :mod:`.features`); ``masks`` the
    solid product regions at analysis size, ``(h_i, w_i)`` bool numpy each (for parity checks and diagnostics);
    ``found`` whether a backdrop and a product were found in each.
    """

    squares: torch.Tensor
    palettes: np.ndarray
    patterns: np.ndarray
    masks: list[np.ndarray]
    found: list[bool]


def thumbnail_size(height: int, width: int, side: int) -> tuple[int, int]:
    """PIL's ``Image.thumbnail`` size for a ``(height, width)`` picture in a ``side`` box: never enlarged, the
    aspect kept as closely as whole pixels allow. Returns ``(height, width)``."""
    if height <= side and width <= side:
        return height, width
    aspect = width / height
    if aspect >= 1:
        exact = side / aspect
        new_h = max(1, min((int(np.floor(exact)), int(np.ceil(exact))), key=lambda n: abs(aspect - side / max(n, 1))))
        return new_h, side
    exact = side * aspect
    new_w = max(1, min((int(np.floor(exact)), int(np.ceil(exact))), key=lambda n: abs(aspect - n / side)))
    return side, new_w


def _resize(images: torch.Tensor, height: int, width: int, mode: str) -> torch.Tensor:
    """Resize float ``(N, C, H, W)`` 0..255 to ``(height, width)`` and round to whole levels, as the 8-bit CPU path
    stores each step. ``mode``: ``area`` (OpenCV's INTER_AREA for shrinking), ``linear`` (INTER_LINEAR, for
    enlarging) or ``bicubic`` (antialiased, standing in for PIL's Lanczos thumbnail)."""
    if tuple(images.shape[-2:]) == (height, width):
        return images
    if mode == "area":
        out = F.interpolate(images, size=(height, width), mode="area")
    elif mode == "linear":
        out = F.interpolate(images, size=(height, width), mode="bilinear", align_corners=False)
    else:
        out = F.interpolate(images, size=(height, width), mode=mode, antialias=True, align_corners=False)
    return out.clamp_(0, 255).round_()


@cache
def _border_layout(height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The CPU analysis's border sample for an image: flat canvas indices, segment and side of every third
    border pixel (masks._border_segments, so both paths look at the same pixels)."""
    ys, xs, segment, side = _border_segments(height, width)
    ys, xs, segment, side = ys[::3], xs[::3], segment[::3], side[::3]
    return ys * _CANVAS + xs, segment, side


@dataclass(frozen=True)
class _Backdrops:
    model: torch.Tensor  # (N, 3, S, S) Lab of each backdrop surface
    noise: torch.Tensor  # (N,) median Lab residual of the fitting border pixels
    background: torch.Tensor  # (N, 3) RGB 0..255 median of those pixels
    found: torch.Tensor  # (N,) bool: a plain backdrop was found


def _find_backdrops(lab: torch.Tensor, rgb: torch.Tensor, sizes: list[tuple[int, int]]) -> _Backdrops:
    """Vote for each image's backdrop among its border's plain segments and fit its surface (masks.
    _find_backdrop, batched: every border pixel of the batch in one flat list)."""
    device = lab.device
    n = len(sizes)
    segments = 4 * _SEGMENTS_PER_SIDE
    layouts = [_border_layout(h, w) for h, w in sizes]
    owner_np = np.concatenate([np.full(len(flat), i) for i, (flat, _s, _d) in enumerate(layouts)])
    flat = torch.from_numpy(np.concatenate([f for f, _s, _d in layouts])).to(device)
    owner = torch.from_numpy(owner_np).to(device)
    seg = torch.from_numpy(np.concatenate([s for _f, s, _d in layouts])).to(device) + owner * segments
    side = torch.from_numpy(np.concatenate([d for _f, _s, d in layouts])).to(device) + owner * 4
    values = lab.permute(0, 2, 3, 1).reshape(n, -1, 3)[owner, flat].double()  # (M, 3)
    colours = rgb.permute(0, 2, 3, 1).reshape(n, -1, 3)[owner, flat]

    medians, _ = ops.segment_median(values, seg, n * segments)
    sizes_seg = torch.bincount(seg, minlength=n * segments)
    spread, _ = ops.segment_median((values - medians[seg]).norm(dim=1), seg, n * segments)
    plain = ((spread < _PLAIN_SPREAD) & (sizes_seg >= 4)).reshape(n, segments)
    medians = medians.reshape(n, segments, 3)
    lightness = ((medians[..., 0] - 40.0) / 50.0).clamp(0.1, 1.0)
    chroma = torch.hypot(medians[..., 1], medians[..., 2])
    neutral = (1.0 - (chroma - 15.0) / 30.0).clamp(0.2, 1.0)
    agree = torch.cdist(medians, medians) < _SAME_BACKDROP
    votes = (agree & plain[:, None, :]).sum(2) * lightness * neutral * plain
    chosen = agree[torch.arange(n, device=device), votes.argmax(1)] & plain  # (n, segments)
    start = chosen.reshape(-1)[seg]
    eligible = start | plain.reshape(-1)[seg]

    heights = torch.tensor([h for h, _w in sizes], device=device, dtype=torch.float64)
    widths = torch.tensor([w for _h, w in sizes], device=device, dtype=torch.float64)
    ys, xs = (flat // _CANVAS).double(), (flat % _CANVAS).double()
    xn = xs / (widths[owner] - 1).clamp_min(1) * 2.0 - 1.0
    yn = ys / (heights[owner] - 1).clamp_min(1) * 2.0 - 1.0
    seen = torch.bincount(side[start], minlength=4 * n) / torch.bincount(side, minlength=4 * n).clamp_min(1)
    wide = (seen.reshape(n, 4) > 0.5).sum(1)
    terms = torch.where(wide >= 3, 6, torch.where(wide >= 2, 3, 1))  # (n,)
    used = torch.arange(6, device=device)[None, :] < terms[:, None]  # (n, 6)
    design = torch.stack([torch.ones_like(xn), xn, yn, xn * xn, xn * yn, yn * yn], 1) * used[owner]

    start_median, _ = ops.segment_median(values[start], owner[start], n)  # (n, 3)
    coefficients = torch.zeros((n, 6, 3), dtype=torch.float64, device=device)
    coefficients[:, 0] = start_median
    keep = start
    active = torch.ones(n, dtype=torch.bool, device=device)
    for _ in range(3):
        active &= torch.bincount(owner[keep], minlength=n) >= terms * 4
        weights = keep.double()[:, None]
        normal = torch.zeros((n, 6, 6), dtype=torch.float64, device=device)
        normal.index_add_(0, owner, design[:, :, None] * design[:, None, :] * weights[:, :, None])
        # Unused terms get a unit diagonal so the system stays solvable and their coefficients come out 0.
        normal += torch.diag_embed((~used).double())
        rhs = torch.zeros((n, 6, 3), dtype=torch.float64, device=device)
        rhs.index_add_(0, owner, design[:, :, None] * values[:, None, :] * weights[:, :, None])
        solved, info = torch.linalg.solve_ex(normal, rhs)
        active &= info == 0  # a degenerate border keeps the previous surface, as the CPU path does
        coefficients = torch.where(active[:, None, None], solved, coefficients)
        residual = (values - torch.einsum("mt,mtc->mc", design, coefficients[owner])).norm(dim=1)
        kept_median, _ = ops.segment_median(residual[keep], owner[keep], n)
        limit = torch.clamp_min(kept_median * 3.0, _BORDER_TOLERANCE * 0.5)
        keep = torch.where(active[owner], eligible & (residual < limit[owner]), keep)
    residual = (values - torch.einsum("mt,mtc->mc", design, coefficients[owner])).norm(dim=1)
    fits = residual < _BORDER_TOLERANCE
    share = torch.bincount(owner[fits], minlength=n) / torch.bincount(owner, minlength=n).clamp_min(1)
    found = plain.any(1) & (share >= _MIN_BACKDROP_SHARE)
    noise, _ = ops.segment_median(residual[fits], owner[fits], n)
    background, _ = ops.segment_median(colours[fits].double(), owner[fits], n)

    grid_y, grid_x = torch.meshgrid(
        torch.arange(_CANVAS, device=device, dtype=torch.float64),
        torch.arange(_CANVAS, device=device, dtype=torch.float64),
        indexing="ij",
    )
    gx = grid_x[None] / (widths[:, None, None] - 1).clamp_min(1) * 2.0 - 1.0
    gy = grid_y[None] / (heights[:, None, None] - 1).clamp_min(1) * 2.0 - 1.0
    surface = torch.stack([torch.ones_like(gx), gx, gy, gx * gx, gx * gy, gy * gy], 1)  # (n, 6, S, S)
    model = torch.einsum("ntyx,ntc->ncyx", surface, coefficients).float()
    return _Backdrops(model, noise.float(), torch.floor(background).float(), found)


def _otsu(distance: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Otsu's threshold per image of non-negative distances (masks._otsu: an 8-bit histogram of 0..64), ``(N,)``."""
    n = distance.shape[0]
    levels = (distance * 4.0).clamp(0, 255).floor().long().reshape(n, -1)
    counts = torch.zeros((n, 256), device=distance.device, dtype=torch.float64)
    counts.scatter_add_(1, levels, valid.reshape(n, -1).double())
    p = counts / counts.sum(1, keepdim=True).clamp_min(1)
    omega = torch.cumsum(p, 1)
    mu = torch.cumsum(p * torch.arange(256, device=distance.device, dtype=torch.float64), 1)
    mu_total = mu[:, -1:]
    eps = float(np.finfo(np.float32).eps)
    ok = (torch.minimum(omega, 1 - omega) >= eps) & (torch.maximum(omega, 1 - omega) <= 1 - eps)
    between = torch.where(ok, (mu_total * omega - mu) ** 2 / (omega * (1 - omega)).clamp_min(1e-300), -1.0)
    return between.argmax(1).float() / 4.0


def _canny(grey: torch.Tensor, valid: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Canny edges of float ``(N, 1, H, W)`` 8-bit grey (OpenCV's L1 gradient, its sector test and hysteresis)."""
    dx, dy = ops.sobel(grey)
    magnitude = (dx.abs() + dy.abs()) * valid
    padded = F.pad(magnitude, (1, 1, 1, 1))

    def at(oy: int, ox: int) -> torch.Tensor:
        return padded[..., 1 + oy : padded.shape[-2] - 1 + oy, 1 + ox : padded.shape[-1] - 1 + ox]

    ax, ay = dx.abs(), dy.abs()
    tan22 = ax * 0.4142135623730950488
    tan67 = tan22 + 2.0 * ax
    horizontal = ay < tan22
    vertical = ~horizontal & (ay > tan67)
    diagonal = ~horizontal & ~vertical
    s = torch.where((dx < 0) ^ (dy < 0), -1, 1)
    along_x = (magnitude > at(0, -1)) & (magnitude >= at(0, 1))
    along_y = (magnitude > at(-1, 0)) & (magnitude >= at(1, 0))
    falling = (magnitude > at(-1, 1)) & (magnitude > at(1, -1))  # s = -1: the (y-1, x+1) / (y+1, x-1) pair
    rising = (magnitude > at(-1, -1)) & (magnitude > at(1, 1))
    maximum = (horizontal & along_x) | (vertical & along_y) | (diagonal & torch.where(s < 0, falling, rising))
    candidate = maximum & (magnitude > low) & valid
    return ops.reconstruct(candidate & (magnitude > high), candidate, connectivity=8)


@cache
def _ellipse(size: int) -> torch.Tensor:
    return torch.from_numpy(cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))


def _largest_components(mask: torch.Tensor) -> torch.Tensor:
    """Keep each image's 8-connected regions of at least ``_KEEP_SHARE`` of its largest one's area."""
    labels = ops.label_components(mask, connectivity=8)
    n, per_image = mask.shape[0], mask[0].numel()
    areas = torch.bincount(labels.reshape(-1), minlength=mask.numel() + 1).double()
    areas[0] = 0
    owner = (torch.arange(mask.numel() + 1, device=mask.device) - 1).clamp_min(0) // per_image
    largest = torch.zeros(n, dtype=torch.float64, device=mask.device).scatter_reduce(0, owner, areas, "amax")
    keep = areas >= largest[owner] * _KEEP_SHARE
    keep[0] = False
    return mask & keep[labels]


def _fill_product_holes(
    mask: torch.Tensor, valid: torch.Tensor, distance: torch.Tensor, full: torch.Tensor, noise: torch.Tensor,
    area: torch.Tensor,
) -> torch.Tensor:  # fmt: skip
    """Fill holes except those that show the backdrop (masks._fill_product_holes, batched)."""
    filled = ops.fill_holes(mask, valid)
    holes = filled & ~mask
    if not bool(holes.any()):
        return filled
    labels = ops.label_components(holes, connectivity=4)
    count = mask.numel() + 1
    # Labels are flat pixel indices + 1, so a hole's image is (label - 1) // pixels per image.
    owner = (torch.arange(count, device=mask.device) - 1).clamp_min(0) // mask[0].numel()
    tolerance = torch.clamp_min(_HOLE_NOISE * noise, _HOLE_FLOOR)
    pixel_tolerance = tolerance[:, None, None, None].expand_as(distance)
    inside = labels[holes]
    sizes = torch.bincount(inside, minlength=count)
    matching = torch.bincount(inside, weights=(distance[holes] < pixel_tolerance[holes] * 1.5).double(),
                              minlength=count)  # fmt: skip
    median, _ = ops.segment_median(full[holes].double(), inside, count)
    reopen = (
        (sizes >= _HOLE_MIN_SHARE * area[owner])
        & (matching / sizes.clamp_min(1) >= _HOLE_MATCH_SHARE)
        & (median < tolerance[owner])
    )
    reopen[0] = False
    return filled & ~reopen[labels]


def product_regions(canvas: torch.Tensor, valid: torch.Tensor, sizes: list[tuple[int, int]]) -> tuple[
        torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """The solid product region of each analysis image, the backdrop colour and whether a product was found.

    ``canvas`` ``(N, 3, S, S)`` float whole levels 0..255 (laid out by :func:`prepare_pictures`); returns
    ``(regions (N, 1, S, S) bool, background (N, 3) RGB 0..255, found (N,) bool)``. Where no product was found the
    region is the whole image.
    """
    lab = ops.srgb_to_lab(canvas / 255.0)
    backdrops = _find_backdrops(lab, canvas, sizes)
    delta = lab - backdrops.model
    d_light = delta[:, :1]
    d_chroma = torch.hypot(delta[:, 1:2], delta[:, 2:3])
    full = torch.hypot(d_light, d_chroma)
    shadow_like = (
        (d_light < 0)
        & (lab[:, :1] > backdrops.model[:, :1] * SHADOW_MIN_RATIO)
        & (d_chroma < _SHADOW_CHROMA + _SHADOW_CHROMA_PER_L * -d_light)
    )
    distance = torch.where(shadow_like, d_chroma, full)
    floor = torch.clamp_min(_THRESHOLD_NOISE * backdrops.noise, _THRESHOLD_FLOOR)
    threshold = torch.clamp(torch.maximum(floor, _otsu(distance, valid)), max=_THRESHOLD_MAX)[:, None, None, None]
    strong = (distance > threshold) & valid
    colour_fg = ops.reconstruct(strong, (distance > threshold * _WEAK_SHARE) & valid, connectivity=8)

    grey = ops.grey_u8(canvas)
    blurred = torch.floor(ops.filter2d(grey, torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16) + 0.5)
    edges = _canny(blurred, valid, _CANNY_LOW, _CANNY_HIGH)
    # At the analysis size (128 px) the CPU path's closing kernel, max(3, (side // 60) | 1), is always 3.
    candidate = ops.close(colour_fg | edges, _ellipse(3), valid)
    area = torch.tensor([h * w for h, w in sizes], device=canvas.device)
    mask = _fill_product_holes(_largest_components(candidate), valid, distance, full, backdrops.noise, area)
    mask = ops.open_(mask, torch.ones(3, 3), valid)
    share = mask.sum((1, 2, 3)) / area
    found = backdrops.found & (share >= _MIN_PRODUCT_SHARE)
    mask = torch.where(found[:, None, None, None], mask, valid)

    regions = torch.empty_like(mask)
    # The solid region's closing kernel follows each image's shorter side (prepare._solid_region).
    kernel_sizes = [max(3, (min(h, w) // 12) | 1) for h, w in sizes]
    for size in sorted(set(kernel_sizes)):
        chosen = torch.tensor([k == size for k in kernel_sizes], device=canvas.device)
        regions[chosen] = ops.fill_holes(ops.close(mask[chosen], _ellipse(size), valid[chosen]), valid[chosen])
    regions = torch.where(found[:, None, None, None], regions, valid)

    # Where no backdrop was found, the CPU path pads with the median of the top and bottom border strips.
    background = backdrops.background.clone()
    for i in torch.nonzero(~backdrops.found).flatten().tolist():
        background[i] = _strip_median(canvas[i], *sizes[i])
    return regions, background, found


def _strip_median(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Median RGB of the top and bottom border strips (masks.analyse_product's fallback padding colour)."""
    strip = max(1, round(min(height, width) * 0.02))
    pixels = torch.cat([image[:, :strip, :width].reshape(3, -1), image[:, height - strip : height, :width]
                        .reshape(3, -1)], 1)  # fmt: skip
    ordered = pixels.sort(1).values
    count = ordered.shape[1]
    return torch.floor((ordered[:, (count - 1) // 2] + ordered[:, count // 2]) / 2)


def palettes(canvas: torch.Tensor, regions: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Each image's main colours, ``(N, 5, 4)`` rows ``L, a, b, share`` biggest share first (prepare.palette_of:
    the same strided sample of at most 3,000 product pixels, k-means with k-means++ starts, 20 steps, eps 0.5)."""
    n = canvas.shape[0]
    device = canvas.device
    lab = ops.srgb_to_lab(canvas / 255.0).permute(0, 2, 3, 1).reshape(n, -1, 3)
    chosen = regions.reshape(n, -1)
    few = chosen.sum(1) < PALETTE_SIZE
    chosen = torch.where(few[:, None], valid.reshape(n, -1), chosen)
    count = chosen.sum(1)
    rank = torch.cumsum(chosen.long(), 1) - 1
    stride = torch.where(count > _PALETTE_SAMPLES, count // _PALETTE_SAMPLES, 1)[:, None]
    slot = rank // stride
    taken = chosen & (rank % stride == 0) & (slot < _PALETTE_SAMPLES)
    samples = torch.zeros((n, _PALETTE_SAMPLES, 3), device=device)
    weight = torch.zeros((n, _PALETTE_SAMPLES), device=device)
    image, position = torch.nonzero(taken, as_tuple=True)
    samples[image, slot[image, position]] = lab[image, position]
    weight[image, slot[image, position]] = 1.0

    generator = torch.Generator(device=device).manual_seed(_KMEANS_SEED)
    centres = torch.zeros((n, PALETTE_SIZE, 3), device=device)
    first = torch.multinomial(weight, 1, generator=generator)[:, 0]
    centres[:, 0] = samples[torch.arange(n, device=device), first]
    nearest = ((samples - centres[:, :1]) ** 2).sum(2)
    for k in range(1, PALETTE_SIZE):
        # A tiny floor keeps the draw defined for a product of fewer than k distinct colours.
        pick = torch.multinomial(nearest * weight + 1e-12 * weight, 1, generator=generator)[:, 0]
        centres[:, k] = samples[torch.arange(n, device=device), pick]
        nearest = torch.minimum(nearest, ((samples - centres[:, k : k + 1]) ** 2).sum(2))
    for _ in range(_KMEANS_ITERATIONS):
        labels = torch.cdist(samples, centres).argmin(2)
        one_hot = F.one_hot(labels, PALETTE_SIZE).float() * weight[..., None]  # (n, M, K)
        sums = torch.einsum("nmk,nmc->nkc", one_hot, samples)
        sizes = one_hot.sum(1)[..., None]
        moved = torch.where(sizes > 0, sums / sizes.clamp_min(1), centres)
        shift = (moved - centres).norm(dim=2).max()
        centres = moved
        if float(shift) <= _KMEANS_EPS:
            break
    labels = torch.cdist(samples, centres).argmin(2)
    shares = (F.one_hot(labels, PALETTE_SIZE).float() * weight[..., None]).sum(1) / weight.sum(1, keepdim=True)
    order = torch.argsort(-shares, dim=1, stable=True)
    ordered = torch.gather(centres, 1, order[..., None].expand(-1, -1, 3))
    return torch.cat([ordered, torch.gather(shares, 1, order)[..., None]], 2)


def _orientation(grey: torch.Tensor, region: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """prepare._orientation_histogram, batched: ``(histograms (N, 8), energy (N,), busy (N,))``."""
    n = grey.shape[0]
    gx, gy = ops.sobel(grey)
    magnitude = torch.hypot(gx, gy)
    angle = torch.remainder(torch.atan2(gy, gx), np.pi) / np.pi * _ORIENTATION_BINS
    bins = angle.long().clamp(max=_ORIENTATION_BINS - 1)
    weights = (magnitude * region).reshape(n, -1)
    histogram = torch.zeros((n, _ORIENTATION_BINS), device=grey.device).scatter_add_(1, bins.reshape(n, -1), weights)
    total = histogram.sum(1, keepdim=True)
    shift = histogram.argmax(1, keepdim=True)
    rolled = torch.gather(histogram / total.clamp_min(1e-30), 1,
                          (torch.arange(_ORIENTATION_BINS, device=grey.device)[None] + shift) % _ORIENTATION_BINS)
    histogram = torch.where(total > 0, rolled, histogram)
    pixels = region.reshape(n, -1).sum(1).clamp_min(1)
    energy = weights.sum(1) / pixels
    busy = ((magnitude > 0.15) & region).reshape(n, -1).sum(1) / pixels
    return histogram, energy, busy


def _pyr_down(grey: torch.Tensor) -> torch.Tensor:
    """cv2.pyrDown: 5x5 binomial blur (mirrored border), then every second row and column."""
    taps = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
    return ops.filter2d(grey, torch.outer(taps, taps) / 256.0)[..., ::2, ::2]


def patterns(canvas: torch.Tensor, regions: torch.Tensor, valid: torch.Tensor, sizes: list[tuple[int, int]]
             ) -> torch.Tensor:  # fmt: skip
    """Each image's texture descriptor ``(N, 20)`` (prepare.pattern_of, batched)."""
    n = canvas.shape[0]
    device = canvas.device
    grey = ops.grey_u8(canvas) / 255.0
    interior = ops.erode(regions, torch.ones(7, 7), valid)
    few = interior.sum((1, 2, 3)) < 16
    interior = torch.where(few[:, None, None, None], valid, interior)
    parts, stats = [], []
    histogram, energy, busy = _orientation(grey, interior)
    parts.append(histogram)
    stats += [torch.log1p(20.0 * energy), busy]

    grey = _pyr_down(grey)
    half = grey.shape[-1]
    small_sizes = [((h + 1) // 2, (w + 1) // 2) for h, w in sizes]
    rows = np.zeros((n, half), np.int64)
    cols = np.zeros((n, half), np.int64)
    small_valid = torch.zeros((n, 1, half, half), dtype=torch.bool, device=device)
    for i, ((h, w), (sh, sw)) in enumerate(zip(sizes, small_sizes, strict=True)):
        # cv2.resize INTER_NEAREST picks source pixel floor(i * src / dst).
        rows[i, :sh] = np.minimum((np.arange(sh) * (h / sh)).astype(np.int64), h - 1)
        cols[i, :sw] = np.minimum((np.arange(sw) * (w / sw)).astype(np.int64), w - 1)
        small_valid[i, :, :sh, :sw] = True
    row_index = torch.from_numpy(rows).to(device)[:, None, :, None].expand(n, 1, half, interior.shape[-1])
    picked = torch.gather(interior, 2, row_index)
    col_index = torch.from_numpy(cols).to(device)[:, None, None, :].expand(n, 1, half, half)
    interior = torch.gather(picked, 3, col_index) & small_valid
    few = interior.sum((1, 2, 3)) < 16
    interior = torch.where(few[:, None, None, None], small_valid, interior)
    histogram, energy, busy = _orientation(grey, interior)
    parts.append(histogram)
    stats += [torch.log1p(20.0 * energy), busy]
    return torch.cat([*parts, torch.stack(stats, 1)], 1)


def letterbox(pictures: torch.Tensor, backgrounds: torch.Tensor, side: int = PREP_SIDE) -> torch.Tensor:
    """prepare._letterbox for pictures of one size: float ``(N, 3, h, w)`` 0..255 fitted into ``side`` squares
    padded with ``backgrounds`` ``(N, 3)``; returns ``(N, side, side, 3)`` uint8."""
    height, width = pictures.shape[-2:]
    scale = side / max(height, width)
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    resized = _resize(pictures, new_h, new_w, "area" if scale < 1 else "linear")
    squares = backgrounds.to(pictures.dtype)[:, :, None, None].expand(-1, 3, side, side).clone()
    top, left = (side - new_h) // 2, (side - new_w) // 2
    squares[:, :, top : top + new_h, left : left + new_w] = resized
    return squares.permute(0, 2, 3, 1).to(torch.uint8)


def prepare_pictures(pictures: list[torch.Tensor]) -> PreparedBatch:
    """Prepare decoded pictures (``(3, H, W)`` uint8 each, any sizes, all on one device) for the networks.

    Pictures of one size (most of a catalog, often) are resized together; the analysis runs on the whole batch.
    """
    if not pictures:
        raise ValueError("prepare_pictures needs at least one picture")
    device = pictures[0].device
    count = len(pictures)
    groups: dict[tuple[int, int], list[int]] = {}
    for number, picture in enumerate(pictures):
        groups.setdefault((int(picture.shape[-2]), int(picture.shape[-1])), []).append(number)
    canvas = torch.empty((count, 3, _CANVAS, _CANVAS), device=device)
    valid = torch.zeros((count, 1, _CANVAS, _CANVAS), dtype=torch.bool, device=device)
    sizes: list[tuple[int, int]] = [(0, 0)] * count
    shrunk: list[tuple[torch.Tensor, torch.Tensor]] = []
    for (height, width), members in groups.items():
        index = torch.tensor(members, device=device)
        # As load_image(path, max_side=256) gives them to the CPU path: a thumbnail fitting 256 px.
        thumb_h, thumb_w = thumbnail_size(height, width, PREP_SIDE)
        thumbs = _resize(torch.stack([pictures[m] for m in members]).float(), thumb_h, thumb_w, "bicubic")
        shrunk.append((index, thumbs))
        scale = _ANALYSIS_SIDE / max(thumb_h, thumb_w)
        small = thumbs
        if scale < 1:
            small = _resize(thumbs, max(1, round(thumb_h * scale)), max(1, round(thumb_w * scale)), "area")
        small_h, small_w = small.shape[-2:]
        rows = torch.from_numpy(ops.reflect_indices(small_h, _CANVAS)).to(device)
        cols = torch.from_numpy(ops.reflect_indices(small_w, _CANVAS)).to(device)
        canvas[index] = small[:, :, rows][:, :, :, cols]
        valid[index, :, :small_h, :small_w] = True
        for m in members:
            sizes[m] = (int(small_h), int(small_w))
    regions, background, found = product_regions(canvas, valid, sizes)
    palette = palettes(canvas, regions, valid)
    pattern = patterns(canvas, regions, valid, sizes)
    squares = torch.empty((count, PREP_SIDE, PREP_SIDE, 3), dtype=torch.uint8, device=device)
    for index, thumbs in shrunk:
        squares[index] = letterbox(thumbs, background[index])
    region_np = regions[:, 0].cpu().numpy()
    return PreparedBatch(
        squares=squares,
        palettes=palette.float().cpu().numpy(),
        patterns=pattern.float().cpu().numpy(),
        masks=[region_np[i, :h, :w] for i, (h, w) in enumerate(sizes)],
        found=[bool(f) for f in found.cpu()],
    )
