"""The indexing job's preparation on the device (tensor_prepare / gpu_prepare) agrees with the CPU path.

The tensor path runs here on CPU tensors: the same code runs on CUDA, where ``bench/bench_gpu.py`` repeats these
checks. Inputs are JPEG files on disk: the four real photographs from scikit-image and drawn demo product photos
(folds, shadows, vignettes), decoded by torchvision as the GPU path decodes them.

Thresholds were measured on these images (the printed figures; ``pytest -s`` shows them) and set with margin:

- the solid product region: mean IoU 0.96, worst 0.81 (a real photograph where the CPU's second look at a doubtful
  mask takes in more; the tensor path leaves that refinement out, see tensor_prepare's docstring);
- palettes: k-means starts differ (OpenCV's RNG cannot be reproduced), so rows can split a colour differently;
  the share-weighted nearest-colour Lab distance between the two palettes is compared, not the rows;
- the pattern descriptor's cosine, the networks' style and visual vectors' cosine (the squares differ by a level
  or two of resampling), and the top-10 of the "similar products" blend over the whole set.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.io import ImageReadMode, decode_jpeg

from stylerec_desktop.core.demo.photos import photo_set
from stylerec_desktop.core.demo.real_photos import REAL_PHOTOS, real_photo
from stylerec_desktop.core.imaging import load_image
from stylerec_desktop.core.masks import _fill_holes, analyse_product
from stylerec_desktop.core.recommend import tensor_ops as ops
from stylerec_desktop.core.recommend.features import FeatureExtractor, PreparedImage
from stylerec_desktop.core.recommend.index import colour_histograms
from stylerec_desktop.core.recommend.prepare import _ANALYSIS_SIDE, _solid_region, prepare_image
from stylerec_desktop.core.recommend.tensor_prepare import PreparedBatch, prepare_pictures, thumbnail_size


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # Hundreds of small tensor ops: on a shared 2-core machine torch's thread pool spins against the other
    # processes and runs them 10-15x slower than one thread (measured 26 s against 1.7 s for 10 images).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("jpegs")
    pictures = [real_photo(photo.name) for photo in REAL_PHOTOS]
    for shot in photo_set(16, seed=3, size=(600, 800)):
        image = shot.image
        pictures.append(Image.fromarray(image) if isinstance(image, np.ndarray) else image)
    paths = []
    for number, picture in enumerate(pictures):
        path = folder / f"{number:02d}.jpg"
        picture.convert("RGB").save(path, quality=90)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def both(jpegs: list[Path]) -> tuple[list[PreparedImage], PreparedBatch, list[np.ndarray]]:
    """The CPU path's results, the tensor path's, and the CPU path's solid regions."""
    cpu = [prepare_image(load_image(path, max_side=256)) for path in jpegs]
    regions = []
    for path in jpegs:
        rgb = np.asarray(load_image(path, max_side=256))
        scale = _ANALYSIS_SIDE / max(rgb.shape[:2])
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
        regions.append(_solid_region(analyse_product(small).mask))
    pictures = [decode_jpeg(torch.frombuffer(bytearray(p.read_bytes()), dtype=torch.uint8), mode=ImageReadMode.RGB)
                for p in jpegs]  # fmt: skip
    return cpu, prepare_pictures(pictures), regions


def _palette_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Symmetric share-weighted nearest-colour distance (Lab units) between two ``(K, 4)`` palettes."""
    d = np.linalg.norm(a[:, None, :3] - b[None, :, :3], axis=2)
    return float((d.min(1) * a[:, 3]).sum() / a[:, 3].sum() + (d.min(0) * b[:, 3]).sum() / b[:, 3].sum()) / 2


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def test_product_regions_palettes_and_patterns_agree(both) -> None:
    cpu, tensor, regions = both
    ious, palette_d, pattern_cos, square_diff = [], [], [], []
    for i, (prepared, region) in enumerate(zip(cpu, regions, strict=True)):
        mask = tensor.masks[i]
        assert mask.shape == region.shape
        ious.append((mask & region).sum() / max(1, (mask | region).sum()))
        palette_d.append(_palette_distance(prepared.palette, tensor.palettes[i]))
        pattern_cos.append(_cosine(prepared.pattern, tensor.patterns[i]))
        square_diff.append(np.abs(prepared.square.astype(int) - tensor.squares[i].numpy().astype(int)).mean())
    print(f"\nregion IoU mean {np.mean(ious):.3f} min {np.min(ious):.3f}; palette distance mean "
          f"{np.mean(palette_d):.2f} max {np.max(palette_d):.2f} Lab; pattern cosine mean {np.mean(pattern_cos):.4f} "
          f"min {np.min(pattern_cos):.4f}; square mean |diff| mean {np.mean(square_diff):.2f} max "
          f"{np.max(square_diff):.2f} levels")  # fmt: skip
    assert np.mean(ious) > 0.94 and np.min(ious) > 0.75
    assert np.mean(palette_d) < 3.5 and np.max(palette_d) < 10.0
    assert np.mean(pattern_cos) > 0.99 and np.min(pattern_cos) > 0.97
    assert np.mean(square_diff) < 2.0 and np.max(square_diff) < 4.0
    shares = tensor.palettes[:, :, 3]
    np.testing.assert_allclose(shares.sum(1), 1.0, atol=1e-5)
    assert (np.diff(shares, axis=1) <= 1e-6).all()  # biggest share first, as the CPU path orders them


def test_features_and_similar_products_agree(both) -> None:
    cpu, tensor, _regions = both
    extractor = FeatureExtractor(torch.device("cpu"), dtype=torch.float32)
    on_cpu = extractor.extract(cpu)
    on_tensors = extractor.extract(
        [PreparedImage(tensor.squares[i], tensor.palettes[i], tensor.patterns[i]) for i in range(len(cpu))]
    )
    style_cos = [_cosine(a.style, b.style) for a, b in zip(on_cpu, on_tensors, strict=True)]
    visual_cos = [_cosine(a.visual, b.visual) for a, b in zip(on_cpu, on_tensors, strict=True)]

    def blend(features) -> np.ndarray:
        # The "similar products" blend (similar.DEFAULT_BLEND): style, visual and colour-histogram cosines.
        def unit(x: np.ndarray) -> np.ndarray:
            return x / np.linalg.norm(x, axis=1, keepdims=True)

        style = unit(np.stack([f.style for f in features]))
        visual = unit(np.stack([f.visual for f in features]))
        colour = unit(colour_histograms(np.stack([f.palette for f in features])))
        return 0.4 * style @ style.T + 0.35 * visual @ visual.T + 0.25 * colour @ colour.T

    a, b = blend(on_cpu), blend(on_tensors)
    overlaps = []
    for query in range(len(cpu)):
        order_a = [j for j in np.argsort(-a[query], kind="stable") if j != query][:10]
        order_b = [j for j in np.argsort(-b[query], kind="stable") if j != query][:10]
        overlaps.append(len(set(order_a) & set(order_b)) / 10)
    print(f"\nstyle cosine mean {np.mean(style_cos):.4f} min {np.min(style_cos):.4f}; visual cosine mean "
          f"{np.mean(visual_cos):.4f} min {np.min(visual_cos):.4f}; similar top-10 overlap mean "
          f"{np.mean(overlaps):.2f} min {np.min(overlaps):.2f}")  # fmt: skip
    assert np.mean(style_cos) > 0.999 and np.min(style_cos) > 0.995
    assert np.mean(visual_cos) > 0.99 and np.min(visual_cos) > 0.98
    assert np.mean(overlaps) >= 0.9 and np.min(overlaps) >= 0.7


def test_building_blocks_match_opencv() -> None:
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (40, 50, 3)).astype(np.uint8)
    lab = ops.srgb_to_lab(torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255)[0].permute(1, 2, 0).numpy()
    assert np.abs(lab - cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)).max() < 0.5
    grey = ops.grey_u8(torch.from_numpy(rgb).permute(2, 0, 1)[None])[0, 0].numpy()
    np.testing.assert_array_equal(grey, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))

    blobs = cv2.GaussianBlur(rng.random((60, 70)).astype(np.float32), (0, 0), 2.5) > 0.5
    mask = torch.from_numpy(blobs)[None, None]
    labels = ops.label_components(mask, connectivity=8)[0, 0].numpy()
    count, expected = cv2.connectedComponents(blobs.astype(np.uint8), connectivity=8)
    assert len(np.unique(labels[blobs])) == count - 1
    # the same partition: each OpenCV component is exactly one of ours
    for number in range(1, count):
        assert len(np.unique(labels[expected == number])) == 1
    valid = torch.ones_like(mask)
    np.testing.assert_array_equal(ops.fill_holes(mask, valid)[0, 0].numpy(), _fill_holes(blobs))

    values = torch.from_numpy(rng.random(101))
    segments = torch.from_numpy(rng.integers(0, 7, 101))
    medians, sizes = ops.segment_median(values, segments, 8)
    for s in range(7):
        assert float(medians[s]) == pytest.approx(float(np.median(values.numpy()[segments.numpy() == s])))
    assert int(sizes[7]) == 0 and float(medians[7]) == 0.0


@pytest.mark.parametrize(("size", "expected"), [((1000, 750), (256, 192)), ((600, 401), (256, 171)),
                                                 ((100, 80), (100, 80)), ((3, 2000), (1, 256))])  # fmt: skip
def test_thumbnail_size_is_pils(size: tuple[int, int], expected: tuple[int, int]) -> None:
    height, width = size
    image = Image.new("RGB", (width, height))
    image.thumbnail((256, 256))
    assert thumbnail_size(height, width, 256) == (image.height, image.width) == expected
