"""High-resolution rendering: run a style network tile by tile, with overlap, feathered blending and shared
instance-norm statistics, so a 4096x4096 render fits in a few hundred MB and shows no seams.

Why tiles seam, and what we do about it:

1. *Instance norm* is the big one. Each norm layer subtracts the mean and divides by the standard deviation of its
   whole input. Run per tile, a tile of white background and a tile of dark product get very different statistics,
   so the same pixel comes out brighter in one tile than in its neighbour: a visible step at every boundary. We run
   the network once on a downscaled copy of the whole image (as large as one tile, so the statistics are close to
   full-resolution ones), *record* every norm layer's per-channel mean and variance, and *replay* them for all tiles
   (``layers.record_norm_stats`` / ``replay_norm_stats``). Every tile is then normalised identically. Exact
   full-resolution statistics would need one full pass per norm layer (23 of them); downscaled statistics differ
   from them by a few percent in the first layers only, uniformly over the image, which cannot create seams.
2. *Padding at tile borders*: each tile is extended by ``margin`` pixels of real neighbouring image on every side
   (more than the networks' receptive-field radius, about 55-65 px), so a tile's core sees exactly what the full
   image would show it.
3. *Phase of the down/up-sampling*: tile origins are multiples of 4, the networks' total stride, so the nearest-
   neighbour upsampling grid lines up across tiles.
4. Whatever difference is left is blended away: neighbouring tiles cross-fade linearly over ``2 * feather`` pixels
   centred on their boundary; the two ramps sum to exactly 1, so flat regions stay flat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator

import torch
import torch.nn.functional as F
from torch import nn

from stylerec_desktop.core.jobs import Progress
from stylerec_desktop.core.models.device import is_out_of_memory, release_memory
from stylerec_desktop.core.models.layers import record_norm_stats, replay_norm_stats

log = logging.getLogger(__name__)

MARGIN = 96
FEATHER = 32
MIN_TILE = 256


def _ramp(length: int, start: int, stop: int, lo: int, hi: int, full: int, feather: int) -> torch.Tensor:
    """Blend weights along one axis for a tile covering ``[lo, hi)`` whose core is ``[start, stop)``."""
    t = torch.arange(lo, hi, dtype=torch.float32)
    w = torch.ones(length)
    if start > 0:
        w = w * ((t - (start - feather)) / (2 * feather)).clamp(0, 1)
    if stop < full:
        w = w * (((stop + feather) - t) / (2 * feather)).clamp(0, 1)
    return w


def _grid(full: int, tile: int) -> list[tuple[int, int]]:
    """Core intervals of ``tile`` pixels (the last one shorter) covering ``[0, full)``."""
    return [(start, min(start + tile, full)) for start in range(0, full, tile)]


def render_tiled(
    model: nn.Module,
    forward: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    device: torch.device,
    dtype: torch.dtype,
    tile: int = 2048,
    margin: int = MARGIN,
    feather: int = FEATHER,
) -> Generator[Progress, None, torch.Tensor]:
    """Run ``forward`` (which wraps ``model`` with its style) over ``image`` and return the result.

    ``image``: ``[1, 3, H, W]`` float32 in 0..1 on the CPU. Returns ``[1, 3, H, W]`` float32 on the CPU.
    Images no larger than ``tile`` run in one pass with their own statistics. Yields a Progress per tile. On a GPU
    out-of-memory error the render restarts with tiles half the size (down to 256 px) instead of failing.
    """
    if tile % 4 or margin % 4:
        raise ValueError("tile and margin must be multiples of 4 (the networks' stride)")
    height, width = image.shape[-2:]
    while True:
        try:
            return (yield from _render(model, forward, image, device, dtype, tile, margin, feather))
        except (torch.cuda.OutOfMemoryError, RuntimeError) as error:
            if not is_out_of_memory(error) or tile <= MIN_TILE:
                raise
            release_memory(device)
            tile = max(MIN_TILE, (tile // 2) // 4 * 4)
            log.warning("out of memory on %s rendering %dx%d; retrying with %d px tiles", device, width, height, tile)
            yield Progress(0, None, f"out of GPU memory; retrying {width}x{height} with {tile}px tiles")


def _render(
    model: nn.Module,
    forward: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    device: torch.device,
    dtype: torch.dtype,
    tile: int,
    margin: int,
    feather: int,
) -> Generator[Progress, None, torch.Tensor]:
    height, width = image.shape[-2:]
    if max(height, width) <= tile:
        yield Progress(0, 1, "stylizing")
        out = forward(image.to(device=device, dtype=dtype)).float().cpu()
        yield Progress(1, 1, "stylized")
        return out

    rows, cols = _grid(height, tile), _grid(width, tile)
    total = 1 + len(rows) * len(cols)
    yield Progress(0, total, "measuring style statistics")
    scale = tile / max(height, width)
    small = F.interpolate(
        image, size=(round(height * scale), round(width * scale)), mode="bilinear", antialias=True, align_corners=False
    )
    with record_norm_stats(model) as stats:
        forward(small.to(device=device, dtype=dtype))
    del small

    out = torch.zeros(image.shape[0], 3, height, width)
    done = 1
    yield Progress(done, total, "stylizing tiles")
    with replay_norm_stats(model, stats):
        for y0, y1 in rows:
            for x0, x1 in cols:
                top, bottom = max(0, y0 - margin), min(height, y1 + margin)
                left, right = max(0, x0 - margin), min(width, x1 + margin)
                crop = image[..., top:bottom, left:right].to(device=device, dtype=dtype)
                result = forward(crop).float().cpu()
                wy = _ramp(bottom - top, y0, y1, top, bottom, height, feather)
                wx = _ramp(right - left, x0, x1, left, right, width, feather)
                out[..., top:bottom, left:right] += result * (wy[:, None] * wx[None, :])
                del crop, result
                done += 1
                yield Progress(done, total, f"tile {done - 1} of {total - 1}")
    return out
