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
from typing import Protocol

import cv2
import numpy as np
import torch
from PIL import Image

from stylerec_desktop.core.catalog import ImageFeatureBlobs
from stylerec_desktop.core.masks import analyse_product

STYLE_DIM = 100
VISUAL_DIM = 1280
PALETTE_SIZE = 5
PATTERN_DIM = 20
# Side of the square the images are prepared at. The style predictor was trained on 256 px style images; 224 px is
# EfficientNet-Lite0's native size. Both come from one letterboxed 256 px square.
STYLE_SIDE = 256
VISUAL_SIDE = 224
PREP_SIDE = 256
# Palette and pattern work on a small copy: colours and the pattern's direction statistics are stable at 128 px
# and k-means on a few thousand pixels takes about a millisecond.
_ANALYSIS_SIDE = 128
_ORIENTATION_BINS = 8
_PALETTE_SAMPLES = 3000


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


# -- CPU preparation (runs in worker threads; cv2 and PIL release the GIL) -------------------------------------


@dataclass(frozen=True)
class PreparedImage:
    """One image ready for the networks: ``square`` ``(256, 256, 3)`` uint8 RGB letterboxed on its backdrop colour,
    plus the palette and pattern, which need no network."""

    square: np.ndarray
    palette: np.ndarray
    pattern: np.ndarray


def _letterbox(rgb: np.ndarray, background: tuple[int, int, int], side: int) -> np.ndarray:
    """Fit ``rgb`` (H, W, 3) into a ``side`` square padded with ``background``; cropping would cut the product off."""
    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    square = np.empty((side, side, 3), np.uint8)
    square[:] = background
    top, left = (side - new_h) // 2, (side - new_w) // 2
    square[top : top + new_h, left : left + new_w] = resized
    return square


def _lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB (..., 3) -> float32 CIE Lab (D65): L 0..100, a/b about -128..127."""
    flat = rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(rgb.shape)


def palette_of(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The product's main colours: ``(PALETTE_SIZE, 4)`` float32 rows ``L, a, b, share``, biggest share first.

    ``rgb`` is ``(H, W, 3)`` uint8, ``mask`` ``(H, W)`` bool (True on the product). k-means runs in Lab so that
    cluster distances are perceptual; it is seeded, so the same image always gives the same palette. A product with
    fewer distinct colours than ``PALETTE_SIZE`` gets near-duplicate rows with small shares, which is harmless to the
    colour histogram built from them.
    """
    pixels = _lab(rgb)[mask]
    if len(pixels) < PALETTE_SIZE:
        pixels = _lab(rgb).reshape(-1, 3)
    if len(pixels) > _PALETTE_SAMPLES:
        # A fixed stride rather than a random sample: deterministic, and spread over the whole product.
        pixels = pixels[:: len(pixels) // _PALETTE_SAMPLES][:_PALETTE_SAMPLES]
    pixels = np.ascontiguousarray(pixels, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(1234)
    _, labels, centres = cv2.kmeans(pixels, PALETTE_SIZE, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    shares = np.bincount(labels.ravel(), minlength=PALETTE_SIZE).astype(np.float32) / len(labels)
    order = np.argsort(-shares, kind="stable")
    return np.column_stack([centres[order], shares[order]]).astype(np.float32)


def _orientation_histogram(grey: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Magnitude-weighted edge orientations (0..pi, ``_ORIENTATION_BINS`` bins) inside ``region``, rotated to start
    at the strongest bin; plus the mean gradient magnitude and the share of "edgy" pixels there."""
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.hypot(gx, gy)[region]
    angle = (np.arctan2(gy, gx)[region] % np.pi) / np.pi * _ORIENTATION_BINS
    bins = np.minimum(angle.astype(np.int64), _ORIENTATION_BINS - 1)
    histogram = np.bincount(bins, weights=magnitude, minlength=_ORIENTATION_BINS).astype(np.float32)
    total = float(histogram.sum())
    if total > 0:
        histogram = np.roll(histogram / total, -int(histogram.argmax()))
    energy = float(magnitude.mean()) if magnitude.size else 0.0
    busy = float((magnitude > 0.15).mean()) if magnitude.size else 0.0
    return histogram, energy, busy


def pattern_of(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Texture descriptor ``(PATTERN_DIM,)`` float32 of the product surface (see the module docstring).

    Only the mask's interior counts (eroded by a few pixels), so the silhouette's outline — the product's shape, not
    its pattern — does not register as a stripe.
    """
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    interior = cv2.erode(mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    if interior.sum() < 16:
        interior = np.ones_like(mask)
    parts: list[np.ndarray] = []
    stats: list[float] = []
    for level in range(2):
        histogram, energy, busy = _orientation_histogram(grey, interior)
        parts.append(histogram)
        # log keeps the energy of a faint print and a bold stripe on one scale
        stats += [float(np.log1p(20.0 * energy)), busy]
        if level == 0:
            grey = cv2.pyrDown(grey)
            size = (grey.shape[1], grey.shape[0])
            interior = cv2.resize(interior.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
            if interior.sum() < 16:
                interior = np.ones_like(interior)
    return np.concatenate([*parts, np.asarray(stats, np.float32)]).astype(np.float32)


def prepare_image(image: Image.Image) -> PreparedImage:
    """Letterbox an RGB product shot for the networks and compute its palette and pattern (about 5 ms)."""
    rgb = np.asarray(image.convert("RGB"))
    scale = _ANALYSIS_SIDE / max(rgb.shape[:2])
    small = rgb
    if scale < 1:
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    product = analyse_product(small)
    region = _solid_region(product.mask)
    return PreparedImage(
        square=_letterbox(rgb, product.background, PREP_SIDE),
        palette=palette_of(small, region),
        pattern=pattern_of(small, region),
    )


def _solid_region(mask: np.ndarray) -> np.ndarray:
    """The product mask with its gaps closed and holes filled.

    A product printed partly in the backdrop's colour (white stripes on a white studio floor) comes out of the mask
    as separate bands; closing bridges the bands and hole filling takes the enclosed white back in, so the palette
    counts the white stripes and the pattern descriptor sees the stripes' edges rather than one solid band.
    """
    side = min(mask.shape)
    size = max(3, (side // 12) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, kernel)
    # Flood the background from a padded border; whatever the flood cannot reach is product or enclosed hole.
    padded = cv2.copyMakeBorder(closed, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8), (0, 0), 2)
    return (flood != 2)[1:-1, 1:-1]


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


def _for_inference(net: torch.nn.Module, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    # channels_last lets oneDNN (CPU) and cuDNN (GPU) pick their fast depthwise-convolution kernels (1.7x on CPU).
    return net.to(device=device, dtype=dtype, memory_format=torch.channels_last).eval()


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
_efficientnets: dict[tuple[str, torch.dtype], torch.nn.Module] = {}


def _efficientnet(device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
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
        batch = torch.from_numpy(np.stack([image.square for image in images])).to(self.device, non_blocking=True)
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
