"""The indexing job's preparation on the device (tensor_prepare / gpu_prepare) agrees with the CPU path.

The tensor path runs here on CPU tensors: the same code runs on CUDA, where ``bench/bench_gpu.py`` repeats these
checks. Inputs are JPEG files on disk: the four real photographs from scikit-image and drawn demo product photos
(folds, shadows, vignettes), decoded by torchvision as the GPU path decodes them. The measures and their limits
(measured here, with the figures and the reasons for each margin) are in
``stylerec_desktop/core/recommend/prepare_parity.py``; ``pytest -s`` prints this run's figures.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.masks import _fill_holes
from stylerec_desktop.core.recommend import prepare_parity as parity
from stylerec_desktop.core.recommend import tensor_ops as ops
from stylerec_desktop.core.recommend.features import FeatureExtractor
from stylerec_desktop.core.recommend.tensor_prepare import prepare_pictures, thumbnail_size


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
    return parity.write_parity_jpegs(tmp_path_factory.mktemp("jpegs"))


def test_device_preparation_agrees_with_the_cpu_path(jpegs: list[Path]) -> None:
    cpu, regions = parity.cpu_reference(jpegs)
    batch = prepare_pictures(parity.decode_files(jpegs, torch.device("cpu")))
    measures = parity.compare(cpu, regions, batch, FeatureExtractor(torch.device("cpu"), dtype=torch.float32))
    print("\n" + ", ".join(f"{name} {value:.4f}" for name, value in measures.items()))
    assert set(measures) == set(parity.LIMITS)
    assert parity.outside_limits(measures) == []
    shares = batch.palettes[:, :, 3]
    np.testing.assert_allclose(shares.sum(1), 1.0, atol=1e-5)
    assert (np.diff(shares, axis=1) <= 1e-6).all()  # biggest share first, as the CPU path orders them
    assert batch.squares.shape == (len(jpegs), 256, 256, 3) and batch.squares.dtype == torch.uint8


def test_index_catalog_prepares_on_the_device_when_switched_on(
    jpegs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the indexing job: JPEGs go the device way, a PNG and a damaged file the CPU way, per image."""
    from stylerec_desktop.core.catalog import Catalog, ProductRecord
    from stylerec_desktop.core.imaging import inspect_image
    from stylerec_desktop.core.recommend.features import ImageFeatures
    from stylerec_desktop.core.recommend.gpu_prepare import SWITCH
    from stylerec_desktop.core.recommend.indexing import index_catalog

    paths = list(jpegs[:5])
    png = tmp_path / "cut-out.png"
    Image.open(jpegs[5]).save(png)
    paths.append(png)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(jpegs[6].read_bytes())
    records = [ProductRecord(f"P{i}", f"Product {i}", "tees", images=(inspect_image(p),)) for i, p in enumerate(paths)]
    records.append(ProductRecord("PB", "Broken", "tees", images=(inspect_image(broken),)))
    broken.write_bytes(broken.read_bytes()[:4000])  # damaged after import, as a disk error would
    extractor = FeatureExtractor(torch.device("cpu"), dtype=torch.float32)
    reports, features = {}, {}
    for mode in ("on", "off"):
        monkeypatch.setenv(SWITCH, mode)
        catalog = Catalog.create(tmp_path / f"catalog-{mode}")
        catalog.upsert_products(records)
        reports[mode] = run_job(index_catalog(catalog, batch_size=4, extractor=extractor, workers=2))
        rows = catalog.product_feature_rows(extractor.version)
        features[mode] = {row.features.sha256: ImageFeatures.from_blobs(row.features) for row in rows}
        catalog.close()
    for mode in ("on", "off"):
        assert reports[mode].indexed == 6 and len(reports[mode].failed) == 1
        assert "broken.jpg" in reports[mode].failed[0][0] and "corrupt" in reports[mode].failed[0][1]
    assert features["on"].keys() == features["off"].keys() and len(features["on"]) == 6
    png_sha = inspect_image(png).sha256
    cosines = {}
    for sha, on in features["on"].items():
        off = features["off"][sha]
        cosines[sha] = float(on.style @ off.style / np.linalg.norm(on.style) / np.linalg.norm(off.style))
    assert cosines.pop(png_sha) > 0.99999  # the PNG went the CPU way both times
    # The JPEGs went the device way when switched on: close to the CPU path's vectors, yet not the same ones.
    assert all(c > 0.995 for c in cosines.values()) and min(cosines.values()) < 0.99999


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
    table = torch.stack([values, values * -2.0], 1)  # columns are taken on their own
    columns, _ = ops.segment_median(table, segments, 8)
    torch.testing.assert_close(columns, torch.stack([medians, medians * -2.0], 1))


@pytest.mark.parametrize(("size", "expected"), [((1000, 750), (256, 192)), ((600, 401), (256, 171)),
                                                 ((100, 80), (100, 80)), ((3, 2000), (1, 256))])  # fmt: skip
def test_thumbnail_size_is_pils(size: tuple[int, int], expected: tuple[int, int]) -> None:
    height, width = size
    image = Image.new("RGB", (width, height))
    image.thumbnail((256, 256))
    assert thumbnail_size(height, width, 256) == (image.height, image.width) == expected


def test_cancel_on_the_device_path_leaves_whole_batches_and_resume_does_the_rest(
    jpegs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylerec_desktop.core.catalog import Catalog, ProductRecord
    from stylerec_desktop.core.imaging import inspect_image
    from stylerec_desktop.core.jobs import Cancelled, CancelToken
    from stylerec_desktop.core.recommend.gpu_prepare import SWITCH
    from stylerec_desktop.core.recommend.indexing import index_catalog

    monkeypatch.setenv(SWITCH, "on")
    catalog = Catalog.create(tmp_path / "catalog")
    catalog.upsert_products([ProductRecord(f"P{i}", f"Product {i}", "tees", images=(inspect_image(p),))
                             for i, p in enumerate(jpegs[:7])])  # fmt: skip
    extractor = FeatureExtractor(torch.device("cpu"), dtype=torch.float32)
    token = CancelToken()

    def on_progress(progress) -> None:
        if progress.done >= 2:  # the first batch is in (the next one is already being prepared)
            token.cancel()

    with pytest.raises(Cancelled):
        run_job(index_catalog(catalog, batch_size=2, extractor=extractor, workers=2), on_progress, token)
    assert catalog.image_feature_counts(extractor.version) == (2, 7)
    report = run_job(index_catalog(catalog, batch_size=2, extractor=extractor, workers=2))
    assert report.indexed == 5 and report.already_indexed == 2 and report.failed == ()
    catalog.close()


def test_the_switch_defaults_to_cuda_only_and_refuses_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from stylerec_desktop.core.errors import UserError
    from stylerec_desktop.core.recommend.gpu_prepare import SWITCH, prepares_on_device

    monkeypatch.delenv(SWITCH, raising=False)
    assert not prepares_on_device(torch.device("cpu")) and prepares_on_device(torch.device("cuda"))
    monkeypatch.setenv(SWITCH, "off")
    assert not prepares_on_device(torch.device("cuda"))
    monkeypatch.setenv(SWITCH, "ON")
    assert prepares_on_device(torch.device("cpu"))
    monkeypatch.setenv(SWITCH, "gpu")
    with pytest.raises(UserError, match="STYLEREC_DEVICE_PREPARE must be auto, on or off, not 'gpu'"):
        prepares_on_device(torch.device("cpu"))
