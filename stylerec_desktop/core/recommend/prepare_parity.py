"""How far the device preparation (:mod:`.tensor_prepare`) is from the CPU path, on real JPEG files.

Shared by ``tests/test_tensor_prepare.py`` (CPU tensors, in CI) and ``bench/bench_gpu.py`` (the same checks on the
GPU), so both judge by one set of measures and one set of :data:`LIMITS`.

The limits were measured on the set :func:`write_parity_jpegs` writes (scikit-image's four photographs and 16 drawn
demo product photos) with the tensor path on CPU tensors, torch 2.14, and set with a margin (measured -> limit):

- solid product region IoU: mean 0.958 -> > 0.94, worst 0.81 -> > 0.75 (a real photograph where the CPU path's second
  look at a doubtful mask takes in more; the tensor path leaves that step out);
- palette distance (symmetric share-weighted nearest-colour Lab distance): mean 2.6 -> < 3.5, worst 5.6 -> < 10.
  k-means starts differ (OpenCV's generator cannot be reproduced), so two clusters can split a colour differently;
- pattern cosine: mean 0.999 -> > 0.99, worst 0.995 -> > 0.97;
- the letterboxed squares, mean |difference|: mean 1.05 -> < 2, worst 2.8 -> < 4 levels (resampling);
- the networks' vectors' cosine: style mean 0.9999 -> > 0.999, worst 0.9993 -> > 0.995; visual mean 0.997 -> > 0.99,
  worst 0.992 -> > 0.98;
- the "similar products" top-10 over the set: overlap mean 0.95 -> > 0.85, worst 0.9 -> > 0.7.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from stylerec_desktop.core.imaging import load_image
from stylerec_desktop.core.masks import analyse_product
from stylerec_desktop.core.recommend.features import FeatureExtractor, ImageFeatures
from stylerec_desktop.core.recommend.index import colour_histograms
from stylerec_desktop.core.recommend.prepare import _ANALYSIS_SIDE, PreparedImage, _solid_region, prepare_image
from stylerec_desktop.core.recommend.tensor_prepare import PreparedBatch

#: ``name -> (kind, bound)``: ``min`` measures must stay above their bound, ``max`` ones below.
LIMITS: dict[str, tuple[str, float]] = {
    "region_iou_mean": ("min", 0.94),
    "region_iou_worst": ("min", 0.75),
    "palette_lab_distance_mean": ("max", 3.5),
    "palette_lab_distance_worst": ("max", 10.0),
    "pattern_cosine_mean": ("min", 0.99),
    "pattern_cosine_worst": ("min", 0.97),
    "square_abs_diff_mean": ("max", 2.0),
    "square_abs_diff_worst": ("max", 4.0),
    "style_cosine_mean": ("min", 0.999),
    "style_cosine_worst": ("min", 0.995),
    "visual_cosine_mean": ("min", 0.99),
    "visual_cosine_worst": ("min", 0.98),
    "similar_top10_overlap_mean": ("min", 0.85),
    "similar_top10_overlap_worst": ("min", 0.7),
}


def write_parity_jpegs(folder: Path, demo_count: int = 16) -> list[Path]:
    """Write the parity set as JPEG files (quality 90) into ``folder``: the four real photographs, then
    ``demo_count`` drawn demo product photos of 600 x 800 px. Needs scikit-image (a test dependency)."""
    from stylerec_desktop.core.demo.photos import photo_set
    from stylerec_desktop.core.demo.real_photos import REAL_PHOTOS, real_photo

    folder.mkdir(parents=True, exist_ok=True)
    pictures = [real_photo(photo.name) for photo in REAL_PHOTOS]
    for shot in photo_set(demo_count, seed=3, size=(600, 800)) if demo_count else []:
        image = shot.image
        pictures.append(Image.fromarray(image) if isinstance(image, np.ndarray) else image)
    paths = []
    for number, picture in enumerate(pictures):
        path = folder / f"parity-{number:02d}.jpg"
        picture.convert("RGB").save(path, quality=90)
        paths.append(path)
    return paths


def decode_files(paths: list[Path], device: torch.device) -> list[torch.Tensor]:
    """JPEG files decoded by torchvision on ``device`` (nvJPEG on CUDA): ``(3, H, W)`` uint8 each."""
    from torchvision.io import ImageReadMode, decode_jpeg

    data = [torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.uint8) for path in paths]
    return list(decode_jpeg(data, mode=ImageReadMode.RGB, device=device))


def cpu_reference(paths: list[Path]) -> tuple[list[PreparedImage], list[np.ndarray]]:
    """The CPU path's preparation of each file, and its solid product region at analysis size."""
    prepared, regions = [], []
    for path in paths:
        picture = load_image(path, max_side=256)
        prepared.append(prepare_image(picture))
        rgb = np.asarray(picture)
        scale = _ANALYSIS_SIDE / max(rgb.shape[:2])
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
        regions.append(_solid_region(analyse_product(small).mask))
    return prepared, regions


def palette_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Symmetric share-weighted nearest-colour distance (Lab units) between two ``(K, 4)`` palettes."""
    d = np.linalg.norm(a[:, None, :3] - b[None, :, :3], axis=2)
    return float((d.min(1) * a[:, 3]).sum() / a[:, 3].sum() + (d.min(0) * b[:, 3]).sum() / b[:, 3].sum()) / 2


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12))


def _similar_scores(features: list[ImageFeatures]) -> np.ndarray:
    """The "similar products" blend between every pair (similar.DEFAULT_BLEND: style 0.4, visual 0.35, colour
    histogram 0.25 cosines), ``(n, n)``."""

    def unit(x: np.ndarray) -> np.ndarray:
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    style = unit(np.stack([f.style for f in features]))
    visual = unit(np.stack([f.visual for f in features]))
    colour = unit(colour_histograms(np.stack([f.palette for f in features])))
    return 0.4 * style @ style.T + 0.35 * visual @ visual.T + 0.25 * colour @ colour.T


def compare(
    cpu: list[PreparedImage], regions: list[np.ndarray], batch: PreparedBatch, extractor: FeatureExtractor | None
) -> dict[str, float]:
    """The measures named in :data:`LIMITS` (``_mean`` and ``_worst`` of each); the network ones only with an
    ``extractor`` (the same one for both paths)."""
    ious, palettes, patterns, squares = [], [], [], []
    for i, (prepared, region) in enumerate(zip(cpu, regions, strict=True)):
        mask = batch.masks[i]
        if mask.shape != region.shape:
            raise ValueError(f"image {i}: analysis sizes differ, {mask.shape} against {region.shape}")
        ious.append(float((mask & region).sum() / max(1, (mask | region).sum())))
        palettes.append(palette_distance(prepared.palette, batch.palettes[i]))
        patterns.append(_cosine(prepared.pattern, batch.patterns[i]))
        theirs = batch.squares[i].cpu().numpy().astype(np.int16)
        squares.append(float(np.abs(np.asarray(prepared.square).astype(np.int16) - theirs).mean()))
    result = {
        "region_iou_mean": float(np.mean(ious)),
        "region_iou_worst": float(np.min(ious)),
        "palette_lab_distance_mean": float(np.mean(palettes)),
        "palette_lab_distance_worst": float(np.max(palettes)),
        "pattern_cosine_mean": float(np.mean(patterns)),
        "pattern_cosine_worst": float(np.min(patterns)),
        "square_abs_diff_mean": float(np.mean(squares)),
        "square_abs_diff_worst": float(np.max(squares)),
    }
    if extractor is None:
        return result
    on_cpu = extractor.extract(cpu)
    on_device = extractor.extract(
        [PreparedImage(batch.squares[i], batch.palettes[i], batch.patterns[i]) for i in range(len(cpu))]
    )
    style = [_cosine(a.style, b.style) for a, b in zip(on_cpu, on_device, strict=True)]
    visual = [_cosine(a.visual, b.visual) for a, b in zip(on_cpu, on_device, strict=True)]
    a, b = _similar_scores(on_cpu), _similar_scores(on_device)
    overlaps = []
    for query in range(len(cpu)):
        top_a = [j for j in np.argsort(-a[query], kind="stable") if j != query][:10]
        top_b = [j for j in np.argsort(-b[query], kind="stable") if j != query][:10]
        overlaps.append(len(set(top_a) & set(top_b)) / max(1, len(top_a)))
    result.update(
        style_cosine_mean=float(np.mean(style)),
        style_cosine_worst=float(np.min(style)),
        visual_cosine_mean=float(np.mean(visual)),
        visual_cosine_worst=float(np.min(visual)),
        similar_top10_overlap_mean=float(np.mean(overlaps)),
        similar_top10_overlap_worst=float(np.min(overlaps)),
    )
    return result


def outside_limits(measures: dict[str, float]) -> list[str]:
    """The measures outside :data:`LIMITS`, each as ``name value (limit)``; empty when all hold."""
    failures = []
    for name, value in measures.items():
        kind, bound = LIMITS[name]
        if (kind == "min" and not value > bound) or (kind == "max" and not value < bound):
            failures.append(f"{name} {value:.4f} ({'>' if kind == 'min' else '<'} {bound})")
    return failures
