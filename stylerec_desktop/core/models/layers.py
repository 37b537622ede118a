"""Building blocks shared by the two style-transfer networks: reflect-padded convolution, "nearest 2x upsampling then
convolution" computed at the low resolution, and instance normalisation whose statistics can be recorded on one image
and replayed on others (that is what makes tiles seamless).

Both networks pad with ``reflect`` before each convolution (the ONNX graphs have explicit ``Pad(mode=reflect)``
nodes); zero padding would darken every border by a few pixels, which shows up as a frame around each tile.

Speed notes (a 2-core CPU is a target, so these matter; see ``bench/bench_stylize.py``):

- :func:`for_inference` puts the convolutions in ``channels_last`` on the CPU: oneDNN then runs them directly instead
  of reordering every activation to its blocked layout and back (2-3x on these layers), and with bfloat16 on CPUs
  with AMX they run on the tile units (another 3-8x).
- Instance norm is one fused ``native_group_norm`` (groups = channels) with the style's gamma/beta as its affine:
  one pass for the statistics, one to write the output, and ``var_mean`` over a channels-last tensor (the old way)
  was the slowest op in the whole network.
- Nearest 2x upsampling + reflect pad 1 + 3x3 conv is rewritten as one convolution at the *low* resolution with four
  output phases and a pixel shuffle (:class:`UpsampleConv`): the same arithmetic, but the 4x larger upsampled and
  padded tensors are never written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# The networks' first convolution takes pixel values 0..255 rather than 0..1 (its weights are divided by this once at
# load): 8-bit values are integers, which bfloat16 holds exactly, while k/255 rounds; that rounding, amplified by the
# first instance norm on near-flat backgrounds, was a measurable part of the bf16-vs-fp32 difference.
INPUT_SCALE = 255.0


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
            x = reflect_pad(x, self.pad)
        return F.conv2d(x, self.weight, self.bias, stride=self.stride)


def reflect_pad(x: torch.Tensor, pad: int) -> torch.Tensor:
    """``F.pad(x, (pad,) * 4, mode="reflect")`` for ``[B, C, H, W]``, keeping x's memory format.

    Written as one block copy plus ``2 * pad`` row and column copies: on channels-last tensors that is 1.2-4x faster
    than PyTorch's reflection-pad kernel (measured at 1024 px, 8-32 channels), and the result is bit-identical.
    """
    if x.shape[-2] <= pad or x.shape[-1] <= pad:
        return F.pad(x, (pad,) * 4, mode="reflect")  # raises PyTorch's own error for too-small inputs
    height, width = x.shape[-2:]
    memory_format = torch.channels_last if uses_channels_last_tensor(x) else torch.contiguous_format
    out = torch.empty(
        (*x.shape[:2], height + 2 * pad, width + 2 * pad), dtype=x.dtype, device=x.device, memory_format=memory_format
    )
    out[..., pad : pad + height, pad : pad + width] = x
    for i in range(pad):
        out[..., pad - 1 - i, pad : pad + width] = x[..., i + 1, :]
        out[..., pad + height + i, pad : pad + width] = x[..., height - 2 - i, :]
    for i in range(pad):  # columns last, over the full height, so the corners reflect in both directions
        out[..., pad - 1 - i] = out[..., pad + 1 + i]
        out[..., pad + width + i] = out[..., pad + width - 2 - i]
    return out


# Which rows of a 3-tap kernel land on the low-resolution taps (-1, 0, +1) for the even (0) and odd (1) output rows
# of a nearest 2x upsampling: output row 2i sees upsampled rows 2i-1, 2i, 2i+1 = low rows i-1, i, i; output row
# 2i+1 sees 2i, 2i+1, 2i+2 = low rows i, i, i+1.
_PHASE_TAPS = (
    np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0]], dtype=np.float64),
    np.array([[0, 0, 0], [1, 1, 0], [0, 0, 1]], dtype=np.float64),
)


class UpsampleConv(nn.Module):
    """Nearest 2x upsampling, reflect pad 1, 3x3 convolution: ``[B, C_in, H, W]`` -> ``[B, C_out, 2H, 2W]``.

    Computed without the upsampled image: each of the four output phases (even/odd row x even/odd column) is a 3x3
    convolution of the low-resolution input with the original kernel's taps summed where nearest upsampling repeats
    a pixel, and a pixel shuffle interleaves the phases. Reflect-padding the *upsampled* image by one pixel repeats
    its border pixel, which is the low-resolution border pixel, so the low-resolution input is padded by
    ``replicate``. Exact up to float summation order (checked in ``tests/test_models_parity.py``).
    """

    def __init__(self, weight: np.ndarray, bias: np.ndarray | None) -> None:
        super().__init__()
        weight = np.asarray(weight, dtype=np.float64)
        if weight.shape[-2:] != (3, 3):
            raise ValueError(f"UpsampleConv needs a 3x3 kernel, got {weight.shape}")
        out_channels = weight.shape[0]
        # Output channel c * 4 + a * 2 + b is phase (row a, column b) of channel c: pixel_shuffle's order.
        phases = np.empty((out_channels, 2, 2, *weight.shape[1:]), dtype=np.float64)
        for a, rows in enumerate(_PHASE_TAPS):
            for b, cols in enumerate(_PHASE_TAPS):
                phases[:, a, b] = np.einsum("rk,oikl,sl->oirs", rows, weight, cols)
        combined = phases.reshape(out_channels * 4, *weight.shape[1:]).astype(np.float32)
        self.weight = nn.Parameter(torch.from_numpy(combined), requires_grad=False)
        self.bias = None
        if bias is not None:
            self.bias = nn.Parameter(torch.from_numpy(np.repeat(bias.astype(np.float32), 4)), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (1, 1, 1, 1), mode="replicate")
        return F.pixel_shuffle(F.conv2d(x, self.weight, self.bias), 2)


NormStats = list[tuple[torch.Tensor, torch.Tensor]]


class SharedStatsNorm(nn.Module):
    """Instance-norm core: ``(x - mean) / sqrt(var + eps) * gamma + beta`` per image and channel, biased variance.

    Statistics can be *recorded* (while running the network on a downscaled copy of a large image) and *replayed*
    (while running it tile by tile): every tile is then normalised with the same per-channel mean and variance, so
    neighbouring tiles agree and no seam appears. Use :func:`record_norm_stats` / :func:`replay_norm_stats`.
    Statistics are float32 ``[B, C]`` even in reduced-precision runs (the kernels accumulate in float32: a sum over
    millions of half-precision pixels would lose the variance).
    """

    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        # The statistics as var_mean + one addcmul instead of the group-norm kernel, in any memory layout (CUDA's
        # group-norm kernel refuses channels-last input); switched by speedups.apply_layout_and_norm.
        self.fused = False
        self._recording: NormStats | None = None
        self._replay: tuple[torch.Tensor, torch.Tensor] | None = None

    def affine_norm(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        """Normalise ``x [B, C, H, W]`` and apply ``gamma, beta`` (float32): ``[1, C]`` when every image in the batch
        has the same style (see :func:`condition_batch`), else ``[B, C]``. Returns x's shape and dtype.

        On the CPU the kernels take float32 affine parameters with reduced-precision activations; CUDA's group-norm
        kernel needs them in the activations' dtype (fp16 keeps ~3.3 significant digits, enough for these).
        """
        batch, channels = x.shape[:2]
        gamma, beta = gamma.float(), beta.float()
        shared = gamma.shape[0] == 1
        cpu = x.device.type == "cpu"
        if self._replay is not None:
            mean, var = self._replay
            if shared and mean.shape[0] == 1 and cpu:
                # Frozen statistics + affine is exactly inference-mode batch norm: one fused pass, any memory format.
                return F.batch_norm(x, mean[0], var[0], gamma[0], beta[0], training=False, eps=self.eps)
            scale = gamma * torch.rsqrt(var + self.eps)
            shift = beta - mean * scale
            return torch.addcmul(shift[:, :, None, None].to(x.dtype), x, scale[:, :, None, None].to(x.dtype))
        hw = x.shape[2] * x.shape[3]
        if self.fused:
            var, mean = torch.var_mean(x, dim=(2, 3), correction=0)  # accumulated in float32 for reduced precision
            mean, var = mean.float(), var.float()
            scale = gamma * torch.rsqrt(var + self.eps)
            shift = beta - mean * scale
            if self._recording is not None:
                self._recording.append((mean, var))
            return torch.addcmul(shift[:, :, None, None].to(x.dtype), x, scale[:, :, None, None].to(x.dtype))
        if shared:
            weight, bias = (gamma[0], beta[0]) if cpu else (gamma[0].to(x.dtype), beta[0].to(x.dtype))
            out, mean, rstd = torch.native_group_norm(x, weight, bias, batch, channels, hw, channels, self.eps)
        else:
            out, mean, rstd = torch.native_group_norm(x, None, None, batch, channels, hw, channels, self.eps)
            out = torch.addcmul(beta[:, :, None, None].to(x.dtype), out, gamma[:, :, None, None].to(x.dtype))
        if self._recording is not None:
            rstd = rstd.float()
            var = (rstd.reciprocal().square() - self.eps).clamp_min(0.0)
            self._recording.append((mean.float().reshape(batch, channels), var.reshape(batch, channels)))
        return out


def condition_batch(condition: torch.Tensor, batch: int, device: torch.device) -> torch.Tensor:
    """A network's conditioning input (style vector or preset weights, ``[D]``, ``[1, D]`` or ``[B, D]``) as float32
    on ``device``: ``[1, D]`` when it is the same for every image, so the norm layers take their one-style fast path
    (and a batch of one style is checked once per forward pass, not once per layer)."""
    condition = condition.to(device=device, dtype=torch.float32)
    if condition.dim() == 1:
        condition = condition[None]
    if condition.dim() != 2 or condition.shape[0] not in (1, batch):
        raise ValueError(f"expected a condition of shape [D], [1, D] or [{batch}, D], got {tuple(condition.shape)}")
    if condition.shape[0] > 1 and bool((condition == condition[:1]).all()):
        condition = condition[:1]
    return condition


def _norms(model: nn.Module) -> list[SharedStatsNorm]:
    return [m for m in model.modules() if isinstance(m, SharedStatsNorm)]


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


def uses_channels_last_tensor(x: torch.Tensor) -> bool:
    """True for a 4-d tensor stored channels-last (and not also plain contiguous, as 1-channel tensors are)."""
    return x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


def uses_channels_last(conv_weight: torch.Tensor) -> bool:
    """Whether a network was prepared channels-last (see :func:`for_inference`), judged by one of its 4-d weights."""
    return uses_channels_last_tensor(conv_weight)


def for_inference(model: nn.Module, device: torch.device, dtype: torch.dtype) -> nn.Module:
    """Move a style network to ``device``/``dtype`` for inference; returns it (in eval mode).

    On the CPU the convolutions go channels-last (oneDNN's native layout; 2-3x faster here). The norm layers' own
    parameters (the maps from a style to gamma/beta) stay float32 whatever ``dtype`` is: they are tiny, and in
    bfloat16 a 100-d style vector keeps only ~3 significant digits, which shifts every channel's colour.
    """
    model = model.to(device=device, dtype=dtype)
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    for norm in _norms(model):
        norm.float()
    return model.eval()
