"""What the recommender knows about one product image, and how it is computed.

Four descriptors per image, each answering a question a merchandiser asks:

- **style** ``(100,)`` float32 — the Magenta style predictor's vector (the space the Style engine's transformer is
  conditioned on), so a mean of them is itself a style a product can be restyled in.
- **visual** ``(1280,)`` float32 — EfficientNet-Lite0's pooled ImageNet features: what the object *is* and looks like.
- **palette** ``(5, 4)`` float32 — the product's main colours as CIE Lab (L 0..100, a/b about -128..127) with their
  share of the product's pixels in the last column (sums to 1), from k-means over the product mask (the studio
  backdrop is left out, otherwise every palette would start with white).
- **pattern** ``(20,)`` float32 — a texture descriptor: how strongly the product's surface is patterned and whether its
  edges run in one direction (stripes), two (checks) or all (dots, florals), at two scales. Orientation histograms are
  rotated to start at their strongest bin, so horizontal and vertical stripes read as the same pattern.

The style source is pluggable (:class:`StyleSource`): anything that maps ``(N, 3, 256, 256)`` RGB 0..1 to ``(N, 100)``.
Its ``name`` goes into :attr:`FeatureExtractor.version`, which the catalog stores with every row, so swapping a
network re-indexes rather than mixing two vector spaces.

Example::

    extractor = FeatureExtractor(device=torch.device("cpu"))
    prepared = [prepare_image(load_image(path, max_side=PREP_SIDE)) for path in paths]
    features = extractor.extract(prepared)          # list of ImageFeatures
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np
import torch

if TYPE_CHECKING:  # loaded lazily at run time: the network module pulls its weights registry
    from stylerec_desktop.core.models.efficientnet_lite import EfficientNetLite0

from stylerec_desktop.core.catalog import ImageFeatureBlobs
from stylerec_desktop.core.recommend.prepare import (  # noqa: F401 - re-exported: part of this module's interface
    PALETTE_SIZE,
    PATTERN_DIM,
    PREP_SIDE,
    PreparedImage,
    palette_of,
    pattern_of,
    prepare_image,
)

STYLE_DIM = 100
VISUAL_DIM = 1280
# Side of the square the images are prepared at (prepare.PREP_SIDE). The style predictor was trained on 256 px style
# images; 224 px is EfficientNet-Lite0's native size. Both come from one letterboxed 256 px square.
STYLE_SIDE = 256
VISUAL_SIDE = 224


# -- the stored record ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageFeatures:
    """The four descriptors of one image (shapes and units in the module docstring)."""

    style: np.ndarray
    visual: np.ndarray
    palette: np.ndarray
    pattern: np.ndarray

    def to_blobs(self, sha256: str, extractor: str) -> ImageFeatureBlobs:
        """Pack for the catalog: style/palette/pattern float32, visual float16 (halves the 100k-product database;
        cosine similarities change by < 1e-3)."""
        return ImageFeatureBlobs(
            sha256,
            extractor,
            np.asarray(self.style, "<f4").tobytes(),
            np.asarray(self.visual, "<f2").tobytes(),
            np.asarray(self.palette, "<f4").tobytes(),
            np.asarray(self.pattern, "<f4").tobytes(),
        )

    @classmethod
    def from_blobs(cls, blobs: ImageFeatureBlobs) -> ImageFeatures:
        return cls(
            np.frombuffer(blobs.style, "<f4"),
            np.frombuffer(blobs.visual, "<f2").astype(np.float32),
            np.frombuffer(blobs.palette, "<f4").reshape(PALETTE_SIZE, 4),
            np.frombuffer(blobs.pattern, "<f4"),
        )


# -- the networks ----------------------------------------------------------------------------------------------


class StyleSource(Protocol):
    """Maps images to style vectors: ``(N, 3, 256, 256)`` float RGB in 0..1 on the extractor's device ->
    ``(N, 100)``. ``name`` identifies the network (and its weights) in the stored extractor version."""

    name: str

    def __call__(self, images: torch.Tensor) -> torch.Tensor: ...


def fast_dtype(device: torch.device) -> torch.dtype:
    """The fastest dtype whose features are as good as float32's for retrieval on ``device``.

    float16 on CUDA; bfloat16 on CPUs with native bf16 (AVX512-BF16/AMX, where oneDNN runs these nets about 2.5x
    faster than float32; cosine similarity to the float32 features > 0.998); float32 elsewhere.
    """
    if device.type == "cuda":
        return torch.float16
    if device.type == "cpu" and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return torch.bfloat16
    return torch.float32


_Net = TypeVar("_Net", bound=torch.nn.Module)


def _for_inference(net: _Net, device: torch.device, dtype: torch.dtype) -> _Net:
    # channels_last lets oneDNN (CPU) and cuDNN (GPU) pick their fast depthwise-convolution kernels (1.7x on CPU).
    # torch's stubs leave memory_format out of Module.to's overloads, though Module.to accepts it (documented).
    return net.to(device=device, dtype=dtype, memory_format=torch.channels_last).eval()  # type: ignore[call-overload]


class MagentaStyleSource:
    """The Style engine's own style predictor (Magenta arbitrary stylization), so product style vectors and customer
    tastes live in the space the style transformer is conditioned on."""

    name = "magenta-style-predictor"

    def __init__(self, device: torch.device, dtype: torch.dtype = torch.float32) -> None:
        from stylerec_desktop.core.models import loader

        self._net = _for_inference(loader.style_predictor(device, dtype), device, dtype)
        self._dtype = dtype

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return self._net(images.to(self._dtype)).float()


_efficientnet_lock = threading.Lock()
_efficientnets: dict[tuple[str, torch.dtype], EfficientNetLite0] = {}


def _efficientnet(device: torch.device, dtype: torch.dtype) -> EfficientNetLite0:
    """EfficientNet-Lite0 loaded once per process, device and dtype, from the verified weights file."""
    from stylerec_desktop.core.models.efficientnet_lite import EfficientNetLite0
    from stylerec_desktop.core.models.weights import EFFICIENTNET_LITE0, resolve

    key = (str(device), dtype)
    with _efficientnet_lock:
        net = _efficientnets.get(key)
        if net is None:
            state = torch.load(resolve(EFFICIENTNET_LITE0), map_location="cpu", weights_only=True)
            net = _for_inference(EfficientNetLite0.from_state_dict(state), device, dtype)
            _efficientnets[key] = net
    return net


def extractor_version(style_source_name: str = MagentaStyleSource.name) -> str:
    """The stored name of the feature recipe with ``style_source_name`` as its style network (no network loaded)."""
    return (
        f"v1;style={style_source_name}@{STYLE_SIDE};visual=efficientnet-lite0@{VISUAL_SIDE};"
        f"palette=lab-kmeans{PALETTE_SIZE};pattern=orient{PATTERN_DIM}"
    )


class FeatureExtractor:
    """Computes :class:`ImageFeatures` for batches of :class:`PreparedImage` on one device.

    ``dtype`` defaults to :func:`fast_dtype`; outputs are always float32 numpy arrays.
    """

    def __init__(
        self,
        device: torch.device | None = None,
        style_source: StyleSource | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        self.device = device or torch.device("cpu")
        self.dtype = dtype or fast_dtype(self.device)
        self.style_source = style_source or MagentaStyleSource(self.device, self.dtype)
        self._visual = _efficientnet(self.device, self.dtype)

    @property
    def version(self) -> str:
        """Identifies the recipe; stored with every row so a change of network or recipe re-indexes."""
        return extractor_version(self.style_source.name)

    @torch.inference_mode()
    def extract(self, images: list[PreparedImage]) -> list[ImageFeatures]:
        """One batch through both networks; returns one :class:`ImageFeatures` per image, in order."""
        if not images:
            return []
        squares = [image.square for image in images]
        if all(isinstance(square, np.ndarray) for square in squares):
            batch = torch.from_numpy(np.stack(squares)).to(self.device, non_blocking=True)
        else:  # prepared on the device (gpu_prepare), perhaps with a few from the CPU path among them
            batch = torch.stack([torch.as_tensor(square).to(self.device, non_blocking=True) for square in squares])
        # (N, 256, 256, 3) uint8 -> (N, 3, 256, 256) float 0..1; the permuted view already is channels_last
        batch = batch.permute(0, 3, 1, 2).float().div_(255.0)
        style = self.style_source(batch)
        # Resized in float32: antialiased interpolation has no reduced-precision CPU kernel
        small = torch.nn.functional.interpolate(
            batch, size=(VISUAL_SIDE, VISUAL_SIDE), mode="bilinear", antialias=True, align_corners=False
        )
        # (x - 127) / 128 on 0..255 is EfficientNet-Lite0's input scaling (see efficientnet_lite.preprocess)
        visual = self._visual.features(((small * 255.0 - 127.0) / 128.0).to(self.dtype))
        style_np = style.float().cpu().numpy()
        visual_np = visual.float().cpu().numpy()
        return [
            ImageFeatures(style_np[i].copy(), visual_np[i].copy(), image.palette, image.pattern)
            for i, image in enumerate(images)
        ]
