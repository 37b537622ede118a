"""Campaign sets: customers clustered by taste, each segment's products restyled in its taste and exported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export import parse_presets, read_manifest, read_xmp
from stylerec_desktop.core.export.campaign import CAMPAIGN_FILE, campaign_job, cluster_tastes, segment_customers
from stylerec_desktop.core.jobs import Cancelled, CancelToken, run_job


@pytest.fixture(scope="module")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    from stylerec_desktop.core.demo import build_demo_catalog
    from stylerec_desktop.core.recommend.indexing import index_catalog

    folder = tmp_path_factory.mktemp("campaign") / "catalog"
    catalog = run_job(build_demo_catalog(folder, seed=7, n_products=30, n_customers=12))
    run_job(index_catalog(catalog))
    yield catalog
    catalog.close()


def _blobs(rng: np.random.Generator, sizes: tuple[int, ...]) -> tuple[list[str], np.ndarray]:
    centres = rng.normal(0, 1, (len(sizes), 100))
    rows = [centres[j] + rng.normal(0, 0.05, 100) for j, size in enumerate(sizes) for _ in range(size)]
    return [f"C{i:03d}" for i in range(len(rows))], np.array(rows)


def test_clustering_finds_the_taste_groups_and_picks_their_number() -> None:
    ids, vectors = _blobs(np.random.default_rng(1), (6, 4, 3))
    result = cluster_tastes(ids, vectors)
    assert result.automatic and len(result.segments) == 3
    assert result.sizes == [6, 4, 3]  # biggest first, every customer in exactly one segment
    assert result.segments[0].customers == tuple(ids[:6])
    assert result.silhouette is not None and result.silhouette > 0.8
    assert set(result.scores) == {2, 3, 4, 5, 6}
    np.testing.assert_allclose(result.segments[1].style_vector, vectors[6:10].mean(0), rtol=1e-5, atol=1e-6)
    again = cluster_tastes(ids, vectors)
    assert [s.customers for s in again.segments] == [s.customers for s in result.segments]  # seeded


def test_automatic_segments_leave_no_customer_alone() -> None:
    ids, vectors = _blobs(np.random.default_rng(3), (6, 5))
    outlier = np.random.default_rng(4).normal(0, 1, (1, 100))
    result = cluster_tastes([*ids, "LONER"], np.vstack([vectors, outlier]))
    assert min(result.sizes) >= 2 and sum(result.sizes) == 12


def test_a_chosen_number_of_segments_is_kept_and_checked() -> None:
    ids, vectors = _blobs(np.random.default_rng(2), (5, 5))
    assert cluster_tastes(ids, vectors, n=4).sizes.__len__() == 4
    assert sum(cluster_tastes(ids, vectors, n=4).sizes) == 10
    with pytest.raises(UserError, match="segments"):
        cluster_tastes(ids, vectors, n=11)


def test_campaign_exports_one_restyled_set_per_segment(demo_catalog: Catalog, tmp_path: Path) -> None:
    customers = len(demo_catalog.customers("", limit=None))
    seen = []
    result = run_job(
        campaign_job(demo_catalog, parse_presets("thumb"), tmp_path / "out", segments=2, top=2),
        on_progress=seen.append,
    )
    seg = result.segmentation
    assert len(seg.segments) == 2
    assert sum(seg.sizes) + len(seg.without_taste) == customers
    counted = [p for p in seen if p.total]
    assert counted[-1].done == counted[-1].total == 2 * 2 * 2  # restyle + export of 2 products in 2 segments
    assert [p.done for p in counted] == sorted(p.done for p in counted)  # per-item progress never goes back
    campaign = json.loads((tmp_path / "out" / CAMPAIGN_FILE).read_text())
    assert [s["size"] for s in campaign["segments"]] == seg.sizes
    for segment in seg.segments:
        folder = tmp_path / "out" / segment.name
        _, rows = read_manifest(folder)
        assert len(rows) == 2 and {r.segment for r in rows} == {segment.name}
        assert [r.sku for r in rows] == list(result.products[segment.name])
        for row in rows:
            assert row.style_source == segment.label and row.recipe_id
            with Image.open(folder / row.path) as image:
                assert image.size == (400, 400)
                assert image.info.get("icc_profile")
                xmp = read_xmp(image.info["xmp"])
            assert xmp["styleSource"] == segment.label and segment.name in xmp["styleSource"]
            assert xmp["segment"] == segment.name and xmp["engine"] == "arbitrary"
            assert xmp["recipeId"] == row.recipe_id
            assert "restyled" in xmp["description"] and xmp["digital_source_type"].endswith("TrainedAlgorithmicMedia")


def test_chosen_products_go_to_every_segment_and_differ_by_taste(demo_catalog: Catalog, tmp_path: Path) -> None:
    sku = demo_catalog.products(limit=1)[0].sku
    result = run_job(campaign_job(demo_catalog, parse_presets("thumb"), tmp_path, segments=2, skus=[sku]))
    pictures = []
    for segment in result.segmentation.segments:
        assert result.products[segment.name] == (sku,)
        with Image.open(tmp_path / segment.name / f"{sku}_thumb.jpg") as image:
            pictures.append(np.asarray(image.convert("RGB"), np.float32))
    assert np.abs(pictures[0] - pictures[1]).mean() > 2.0  # two tastes, two looks


def test_cancelled_campaign_leaves_no_partial_files(demo_catalog: Catalog, tmp_path: Path) -> None:
    token = CancelToken()
    steps = []

    def progress(step: object) -> None:
        steps.append(step)
        if len(steps) == 6:
            token.cancel()

    with pytest.raises(Cancelled):
        run_job(campaign_job(demo_catalog, parse_presets("thumb"), tmp_path, segments=2, top=2), progress, token)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.name.startswith(".stylerec-tmp")]
    assert leftovers == []
    assert not (tmp_path / CAMPAIGN_FILE).exists()


def test_segmentation_needs_the_style_index(tmp_path: Path) -> None:
    with Catalog.create(tmp_path / "empty") as catalog, pytest.raises(UserError, match="index"):
        segment_customers(catalog)


def test_running_the_same_campaign_again_resumes(demo_catalog: Catalog, tmp_path: Path) -> None:
    presets = parse_presets("thumb")
    first = run_job(campaign_job(demo_catalog, presets, tmp_path, segments=2, top=1))
    again = run_job(campaign_job(demo_catalog, presets, tmp_path, segments=2, top=1))
    for name, result in again.exports.items():
        assert result.written == 0 and result.skipped == len(first.exports[name].files)  # same recipes, same bytes
