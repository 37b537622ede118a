"""The indexing job: every image indexed once, batches all-or-nothing, resumable, changed images redone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from _device import DEVICE
from recommend_support import build_catalog, draw_product

from stylerec_desktop.core.catalog import Catalog, ProductRecord
from stylerec_desktop.core.imaging import inspect_image
from stylerec_desktop.core.jobs import Cancelled, CancelToken, run_job
from stylerec_desktop.core.recommend.features import (
    PALETTE_SIZE,
    PATTERN_DIM,
    STYLE_DIM,
    VISUAL_DIM,
    FeatureExtractor,
    ImageFeatures,
)
from stylerec_desktop.core.recommend.indexing import index_catalog


@pytest.fixture(scope="module")
def extractor() -> FeatureExtractor:
    return FeatureExtractor(DEVICE)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    """A 20-product drawn catalog (20 distinct images) of its own, never indexed. Built per test rather than copied:
    the catalog stores absolute image paths, so tests that rewrite an image would change a shared copy's files."""
    cat = build_catalog(tmp_path / "drawn", variants=1)
    yield cat
    cat.close()


def test_every_image_gets_all_four_features(catalog: Catalog, extractor: FeatureExtractor) -> None:
    report = run_job(index_catalog(catalog, batch_size=8, extractor=extractor))
    assert report.indexed == 20 and report.already_indexed == 0 and report.failed == ()
    rows = catalog.product_feature_rows(extractor.version)
    assert len(rows) == 20
    features = ImageFeatures.from_blobs(rows[0].features)
    assert features.style.shape == (STYLE_DIM,) and np.isfinite(features.style).all()
    assert features.visual.shape == (VISUAL_DIM,) and features.visual.max() > 0
    assert features.palette.shape == (PALETTE_SIZE, 4)
    assert features.palette[:, 3].sum() == pytest.approx(1.0, abs=1e-5)
    assert features.pattern.shape == (PATTERN_DIM,)
    # nothing left to do: a second run indexes nothing
    again = run_job(index_catalog(catalog, batch_size=8, extractor=extractor))
    assert again.indexed == 0 and again.already_indexed == 20


def test_cancel_leaves_whole_batches_and_resume_does_the_rest(catalog: Catalog, extractor: FeatureExtractor) -> None:
    token = CancelToken()
    seen = []

    def on_progress(progress) -> None:
        seen.append(progress.done)
        if progress.done >= 8:  # cancel once two batches of 4 are in
            token.cancel()

    with pytest.raises(Cancelled):
        run_job(index_catalog(catalog, batch_size=4, extractor=extractor), on_progress, token)
    done, total = catalog.image_feature_counts(extractor.version)
    assert (done, total) == (8, 20)
    first = {r.features.sha256: r.features.style for r in catalog.product_feature_rows(extractor.version)}

    report = run_job(index_catalog(catalog, batch_size=4, extractor=extractor))
    assert report.indexed == 12 and report.already_indexed == 8
    after = {r.features.sha256: r.features.style for r in catalog.product_feature_rows(extractor.version)}
    assert len(after) == 20
    assert all(after[sha] == blob for sha, blob in first.items())  # the first 8 were not redone


class _Crash(Exception):
    pass


class _CrashingExtractor:
    """Delegates to the real extractor but fails on its third batch, as a crash or a pulled plug would."""

    def __init__(self, inner: FeatureExtractor) -> None:
        self.inner, self.calls = inner, 0
        self.version = inner.version

    def extract(self, images):
        self.calls += 1
        if self.calls == 3:
            raise _Crash("power cut")
        return self.inner.extract(images)


def test_a_crash_mid_job_keeps_only_committed_batches(catalog: Catalog, extractor: FeatureExtractor) -> None:
    with pytest.raises(_Crash):
        run_job(index_catalog(catalog, batch_size=5, extractor=_CrashingExtractor(extractor)))
    assert catalog.image_feature_counts(extractor.version) == (10, 20)
    report = run_job(index_catalog(catalog, batch_size=5, extractor=extractor))
    assert report.indexed == 10


def test_closing_the_generator_at_any_step_never_leaves_a_partial_batch(
    catalog: Catalog, extractor: FeatureExtractor
) -> None:
    job = index_catalog(catalog, batch_size=6, extractor=extractor)
    next(job)  # the "N images to index" step
    next(job)  # first batch committed
    job.close()
    assert catalog.image_feature_counts(extractor.version)[0] == 6


def test_a_changed_image_is_indexed_again(catalog: Catalog, extractor: FeatureExtractor, tmp_path: Path) -> None:
    run_job(index_catalog(catalog, extractor=extractor))
    product = catalog.product_by_sku("stripes-navy-0")
    old_sha = product.primary_image.sha256
    old = ImageFeatures.from_blobs(catalog.image_features(old_sha))
    # the supplier sends a new shot: same path, now a pastel dotted tee (unlike any other image of the catalog)
    path = product.primary_image.path
    draw_product("dots", "pastel", variant=3).save(path)
    catalog.upsert_products(
        [ProductRecord(sku=product.sku, title=product.title, category=product.category, images=(inspect_image(path),))]
    )
    new_sha = inspect_image(path).sha256
    assert catalog.images_to_index(extractor.version) == [(new_sha, path)]
    report = run_job(index_catalog(catalog, extractor=extractor))
    assert report.indexed == 1
    new = ImageFeatures.from_blobs(catalog.image_features(new_sha))
    # the stored features now describe the new picture: pastel pink and mint, no navy (Lab L under 30) left
    def has_navy(palette: np.ndarray) -> bool:
        return bool(((palette[:, 0] < 30) & (palette[:, 3] > 0.1)).any())

    assert has_navy(old.palette) and not has_navy(new.palette)
    rows = {r.sku: r for r in catalog.product_feature_rows(extractor.version)}
    assert rows["stripes-navy-0"].features.sha256 == new_sha


def test_unreadable_images_are_reported_and_the_rest_indexed(catalog: Catalog, extractor: FeatureExtractor) -> None:
    broken = catalog.product_by_sku("checks-earth-0").primary_image.path
    broken.write_bytes(b"not an image any more")
    report = run_job(index_catalog(catalog, batch_size=8, extractor=extractor))
    assert report.indexed == 19
    assert len(report.failed) == 1 and str(broken) in report.failed[0][0]
    assert catalog.image_feature_counts(extractor.version) == (19, 20)


def test_a_new_feature_recipe_reindexes_everything(catalog: Catalog, extractor: FeatureExtractor) -> None:
    run_job(index_catalog(catalog, extractor=extractor))

    class OtherStyle:
        name = "another-style-network"

        def __call__(self, images: torch.Tensor) -> torch.Tensor:
            return torch.zeros(len(images), STYLE_DIM, device=images.device)

    other = FeatureExtractor(DEVICE, style_source=OtherStyle())
    assert other.version != extractor.version
    assert len(catalog.images_to_index(other.version)) == 20


def test_worker_processes_prepare_the_same_features_as_threads(extractor: FeatureExtractor, tmp_path: Path) -> None:
    """Machines with many cores prepare images in processes (the GIL caps threads); the stored features must not
    depend on which pool ran."""
    stored = []
    for processes in (False, True):
        with build_catalog(tmp_path / str(processes), variants=1) as cat:
            shas = [sha for sha, _path in cat.images_to_index(extractor.version)]
            job = index_catalog(cat, batch_size=8, extractor=extractor, workers=2, processes=processes)
            report = run_job(job)
            assert report.indexed == len(shas) == 20 and not report.failed
            stored.append({sha: cat.image_features(sha) for sha in shas})
    assert stored[0] == stored[1]


def test_the_cached_index_follows_product_edits(catalog: Catalog, extractor: FeatureExtractor) -> None:
    """Prices, stock and categories feed the recommender's filters; an edit in the app (or its undo, within the
    same second) must reach the cached index."""
    from stylerec_desktop.core.recommend.service import IndexCache

    run_job(index_catalog(catalog, extractor=extractor))
    cache = IndexCache()
    product = catalog.product_by_sku("stripes-navy-0")
    before = cache.get(catalog)
    assert cache.get(catalog) is before  # nothing changed: no rebuild
    row = before.row_of[product.id]
    assert before.in_stock[row] and before.prices[row] == pytest.approx(20.0)
    previous = catalog.update_product(product.id, stock=0, price=1.5)
    edited = cache.get(catalog)
    assert edited is not before
    assert not edited.in_stock[row] and edited.prices[row] == pytest.approx(1.5)
    catalog.update_product(product.id, **previous)  # the undo, in the same second
    undone = cache.get(catalog)
    assert undone.in_stock[row] and undone.prices[row] == pytest.approx(20.0)


def test_without_worker_processes_the_images_are_prepared_in_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from stylerec_desktop.core.recommend import indexing

    def unavailable(*args: object, **kwargs: object) -> None:
        raise OSError("[Errno 38] Function not implemented (no sem_open in this sandbox)")

    monkeypatch.setattr(indexing, "ProcessPoolExecutor", unavailable)
    with indexing.preparation_pool(3, processes=True) as pool:
        assert isinstance(pool, ThreadPoolExecutor)
        assert pool.submit(sum, [1, 2]).result() == 3
