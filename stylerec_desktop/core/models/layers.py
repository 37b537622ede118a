"""Building blocks shared by the two style-transfer networks: reflect-padded convolution and instance normalisation
whose statistics can be recorded on one image and replayed on others (that is what makes tiles seamless).

Both networks pad with ``reflect`` before each convolution (the ONNX graphs have explicit ``Pad(mode=reflect)``
nodes); zero padding would darken every border by a few pixels, which shows up as a frame around each tile.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class ReflectConv(nn.Module):
    """Reflect padding of ``kernel // 2`` then a convolution without implicit padding.

    Input ``[B, C_in, H, W]`` -> output ``[B, C_out, ceil(H / stride), ceil(W / stride)]`` (for odd kernels).
    """

    def __init__(self, weight: np.ndarray, bias: np.ndarray | None, stride: int = 1) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.from_numpy(np.array(weight, dtype=np.float32)), requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(torch.from_numpy(bias.copy()), requires_grad=False)
        self.stride = stride
        self.pad = weight.shape[-1] // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad:
            x = F.pad(x, (self.pad,) * 4, mode="reflect")
        return F.conv2d(x, self.weight, self.bias, stride=self.stride)


class SharedStatsNorm(nn.Module):
    """Instance-norm core: ``(x - mean) / sqrt(var + eps)`` per image and channel, biased variance, like the graphs.

    Statistics can be *recorded* (while running the network on a downscaled copy of a large image) and *replayed*
    (while running it tile by tile): every tile is then normalised with the same per-channel mean and variance, so
    neighbouring tiles agree and no seam appears. Use :func:`record_norm_stats` / :func:`replay_norm_stats`.
    Statistics are computed in float32 even in fp16 runs: a sum over millions of fp16 pixels loses the variance.
    """

    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self._recording: list[tuple[torch.Tensor, torch.Tensor]] | None = None
        self._replay: tuple[torch.Tensor, torch.Tensor] | None = None

    def normalise(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(scale, shift)`` each ``[B, C, 1, 1]`` such that ``x * scale + shift`` is the normalised x."""
        if self._replay is not None:
            mean, var = self._replay
        else:
            var, mean = torch.var_mean(x.float(), dim=(2, 3), keepdim=True, correction=0)
            if self._recording is not None:
                self._recording.append((mean, var))
        inv = torch.rsqrt(var + self.eps)
        return inv.to(x.dtype), (-mean * inv).to(x.dtype)


def _norms(model: nn.Module) -> list[SharedStatsNorm]:
    return [m for m in model.modules() if isinstance(m, SharedStatsNorm)]


NormStats = list[tuple[torch.Tensor, torch.Tensor]]


@contextmanager
def record_norm_stats(model: nn.Module) -> Iterator[NormStats]:
    """Within the block, every forward pass appends each norm layer's ``(mean, var)`` (in layer order)."""
    stats: NormStats = []
    norms = _norms(model)
    for norm in norms:
        norm._recording = stats
    try:
        yield stats
    finally:
        for norm in norms:
            norm._recording = None


@contextmanager
def replay_norm_stats(model: nn.Module, stats: NormStats) -> Iterator[None]:
    """Within the block, the norm layers use ``stats`` (as recorded by one forward pass) instead of their input's."""
    norms = _norms(model)
    if len(stats) != len(norms):
        raise ValueError(f"recorded {len(stats)} norm statistics for a model with {len(norms)} norm layers")
    for norm, pair in zip(norms, stats, strict=True):
        norm._replay = pair
    try:
        yield
    finally:
        for norm in norms:
            norm._replay = None


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, int, int]:
    """Reflect-pad ``[B, C, H, W]`` on the bottom/right to multiples of ``multiple``; return it with the original H, W.

    Both transfer networks downsample twice by 2 and upsample twice by 2 (nearest), so only sides that are multiples
    of 4 come back at their own size.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="reflect")
    return x, h, w
