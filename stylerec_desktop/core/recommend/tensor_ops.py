"""Batched image operations on torch tensors, any device: the building blocks of :mod:`.tensor_prepare`.

Images of different sizes share one batch as a *canvas*: image ``i`` sits in the top-left ``h_i x w_i`` corner of an
``(N, C, S, S)`` tensor, and ``valid`` ``(N, 1, S, S)`` bool marks its pixels. The rest of the canvas holds the image
continued by mirror reflection (OpenCV's ``BORDER_REFLECT_101``), so a small filter near the image's right or bottom
edge reads what OpenCV would read there; :func:`reflect_pad` supplies the top and left.

Connected regions (hysteresis, components, hole filling) are found by spreading the largest value through each region
until nothing changes (see :func:`_spread_max`): exactly OpenCV's connectivity answers, with one host sync per
``_CHECK_EVERY`` rounds.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

# Spreading rounds between two convergence checks (each check is a device-to-host sync).
_CHECK_EVERY = 1
# 8-neighbour steps per spreading round (see _spread_max).
_DIAGONAL_STEPS = 4


def reflect_indices(size: int, length: int) -> np.ndarray:
    """Indices ``(length,)`` that continue ``0..size-1`` by mirror reflection without repeating the edge pixel
    (``BORDER_REFLECT_101``), for as long as needed: 0 1 2 3 2 1 0 1 2 ..."""
    if size == 1:
        return np.zeros(length, np.int64)
    period = 2 * (size - 1)
    position = np.arange(length) % period
    return np.where(position < size, position, period - position).astype(np.int64)


def reflect_pad(x: torch.Tensor, pad: int) -> torch.Tensor:
    """Mirror-pad ``(N, C, H, W)`` by ``pad`` on every side (``BORDER_REFLECT_101``, PyTorch's ``reflect``)."""
    return F.pad(x, (pad, pad, pad, pad), mode="reflect")


def filter2d(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Correlate every channel of float ``(N, C, H, W)`` with one ``(k, k)`` kernel, mirror-padded (same size)."""
    channels = x.shape[1]
    k = kernel.shape[-1]
    weight = kernel.to(x)[None, None].expand(channels, 1, k, k)
    return F.conv2d(reflect_pad(x, k // 2), weight, groups=channels)


def dilate(mask: torch.Tensor, kernel: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Binary dilation of bool ``(N, 1, H, W)`` by a 0/1 ``(k, k)`` structuring element; pixels outside ``valid``
    count as background (OpenCV's default border for dilation)."""
    k = kernel.shape[-1]
    hits = F.conv2d((mask & valid).float(), kernel.float().to(mask.device)[None, None], padding=k // 2)
    return (hits > 0.5) & valid


def erode(mask: torch.Tensor, kernel: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Binary erosion; pixels outside ``valid`` count as foreground (OpenCV's default border for erosion)."""
    return ~dilate(~mask & valid, kernel, valid) & valid


def close(mask: torch.Tensor, kernel: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Morphological closing (dilate, then erode) inside ``valid``."""
    return erode(dilate(mask, kernel, valid), kernel, valid)


def open_(mask: torch.Tensor, kernel: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Morphological opening (erode, then dilate) inside ``valid``."""
    return dilate(erode(mask, kernel, valid), kernel, valid)


def _neighbour_max(x: torch.Tensor) -> torch.Tensor:
    """The maximum of each pixel and its 8 neighbours, float ``(N, 1, H, W)``; outside counts as -inf."""
    return F.max_pool2d(x, 3, stride=1, padding=1)


def _run_offsets(mask: torch.Tensor, dim: int, big: float) -> torch.Tensor:
    """``big`` times the number of gaps (pixels off ``mask``) so far along ``dim``: a running maximum over
    ``values + offsets`` cannot carry a value across a gap, since every later run starts above all before it."""
    return torch.cumsum((~mask).to(torch.float64), dim) * big


def _run_max(values: torch.Tensor, mask: torch.Tensor, dim: int, offsets: torch.Tensor) -> torch.Tensor:
    """Within every run of ``mask`` along ``dim``, each pixel takes the run's maximum of float64 ``values``
    (non-negative, 0 off the mask); ``offsets`` from :func:`_run_offsets`."""
    forward = torch.cummax(values + offsets, dim).values - offsets
    # Backwards, the runs must rise the other way: subtract instead of add.
    backward = torch.cummax((values - offsets).flip(dim), dim).values.flip(dim) + offsets
    return torch.where(mask, torch.maximum(forward, backward), values)


def _spread_max(values: torch.Tensor, mask: torch.Tensor, connectivity: int) -> torch.Tensor:
    """Give every pixel of each connected region of ``mask`` the region's largest value (float64, >= 0, 0 off the
    mask). Sweeps along rows and columns carry a value along a whole straight stretch at once, and 8-neighbour
    steps cross diagonal links, so a region converges in about as many rounds as its outline has turns."""
    big = float(values.numel() + 1)
    along_rows, along_columns = _run_offsets(mask, 3, big), _run_offsets(mask, 2, big)
    while True:
        before = values
        for _ in range(_CHECK_EVERY):
            values = _run_max(_run_max(values, mask, 3, along_rows), mask, 2, along_columns)
            # Thin diagonal curves (Canny's edges) gain little from the sweeps: a few cheap 8-neighbour steps more.
            for _ in range(_DIAGONAL_STEPS if connectivity == 8 else 0):
                values = torch.where(mask, _neighbour_max(values), values)
        if torch.equal(values, before):
            return values


def reconstruct(seed: torch.Tensor, within: torch.Tensor, connectivity: int = 8) -> torch.Tensor:
    """The pixels of bool ``within`` connected (8- or 4-) to a pixel of ``seed`` through ``within``: every region
    of ``within`` that holds a seed pixel, whole. Both ``(N, 1, H, W)``."""
    return _spread_max((seed & within).to(torch.float64), within, connectivity) > 0.5


def label_components(mask: torch.Tensor, connectivity: int = 8) -> torch.Tensor:
    """Label the connected regions of bool ``(N, 1, H, W)``: int64 of the same shape, 0 off the mask, and one
    number per region, unique across the whole batch (the largest flat index + 1 of its pixels)."""
    index = torch.arange(1, mask.numel() + 1, device=mask.device, dtype=torch.float64).reshape(mask.shape)
    # float64 holds every index exactly; max-pooling has no integer kernels on every device.
    return _spread_max(torch.where(mask, index, torch.zeros_like(index)), mask, connectivity).long()


def fill_holes(mask: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Fill every region of background not 4-connected to the image's border (``cv2.floodFill`` from outside)."""
    background = valid & ~mask
    border = valid & ~erode(valid, torch.ones(3, 3), valid | ~valid)  # valid pixels with a neighbour outside
    outside = reconstruct(background & _edge_of(valid, border), background, connectivity=4)
    return valid & ~outside


def _edge_of(valid: torch.Tensor, border: torch.Tensor) -> torch.Tensor:
    """The valid pixels on the image's own edge: its first/last row and column (``border`` from the erosion
    misses the canvas's outer edge, where nothing lies outside the tensor)."""
    edge = border.clone()
    edge[..., 0, :] |= valid[..., 0, :]
    edge[..., :, 0] |= valid[..., :, 0]
    edge[..., -1, :] |= valid[..., -1, :]
    edge[..., :, -1] |= valid[..., :, -1]
    return edge & valid


def segment_median(values: torch.Tensor, segments: torch.Tensor, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The median of ``values`` ``(M,)`` or ``(M, C)`` (each column on its own) within each of ``count`` segments
    (``segments`` ``(M,)`` int64 in ``0..count-1``), as numpy's median: the mean of the two middle values for an
    even number. Returns ``(medians (count,) or (count, C), sizes (count,))``; an empty segment's median is 0."""
    column = values.dim() == 1
    table = values[:, None] if column else values
    sizes = torch.bincount(segments, minlength=count)
    if len(segments) == 0:
        empty = torch.zeros((count, table.shape[1]), dtype=values.dtype, device=values.device)
        return (empty[:, 0] if column else empty), sizes
    # Sorted by value, then (stably) by segment: each segment's values lie together, in order.
    order = torch.argsort(table, dim=0, stable=True)
    order = torch.gather(order, 0, torch.argsort(segments[order], dim=0, stable=True))
    ordered = torch.gather(table, 0, order)
    starts = torch.cumsum(sizes, 0) - sizes
    last = len(segments) - 1
    low = (starts + (sizes - 1).clamp_min(0) // 2).clamp(0, last)
    high = (starts + sizes // 2).clamp(0, last)
    medians = (ordered[low] + ordered[high]) / 2
    medians = torch.where((sizes > 0)[:, None], medians, torch.zeros_like(medians))
    return (medians[:, 0] if column else medians), sizes


def srgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB ``(N, 3, H, W)`` float 0..1 -> CIE Lab (D65), L 0..100, a/b about -128..127: OpenCV's ``RGB2Lab``
    formula (sRGB gamma, its white point, 903.3 Y below the cube root's knee)."""
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055).clamp_min(0) ** 2.4)
    matrix = torch.tensor(
        [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]],
        dtype=rgb.dtype,
        device=rgb.device,
    )
    xyz = torch.einsum("ij,njhw->nihw", matrix, linear)
    white = torch.tensor([0.950456, 1.0, 1.088754], dtype=rgb.dtype, device=rgb.device)[None, :, None, None]
    t = xyz / white
    knee = 0.008856
    f = torch.where(t > knee, t.clamp_min(knee) ** (1.0 / 3.0), 7.787 * t + 16.0 / 116.0)
    lightness = torch.where(t[:, 1] > knee, 116.0 * f[:, 1] - 16.0, 903.3 * t[:, 1])
    return torch.stack([lightness, 500.0 * (f[:, 0] - f[:, 1]), 200.0 * (f[:, 1] - f[:, 2])], dim=1)


def grey_u8(rgb: torch.Tensor) -> torch.Tensor:
    """OpenCV's 8-bit ``RGB2GRAY`` (0.299 R + 0.587 G + 0.114 B in its 15-bit fixed point, rounded; checked equal
    on random pixels) of ``(N, 3, H, W)`` uint8 values held in any dtype; returns float ``(N, 1, H, W)`` 0..255."""
    r, g, b = rgb.double().unbind(1)
    grey = torch.floor((r * 9798 + g * 19235 + b * 3735 + 16384) / 32768)
    return grey[:, None].to(torch.float32)


def sobel(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """3x3 Sobel derivatives ``(d/dx, d/dy)`` of float ``(N, 1, H, W)``, mirror-padded (``cv2.Sobel`` defaults)."""
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    return filter2d(x, kx), filter2d(x, kx.T.contiguous())
