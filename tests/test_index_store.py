"""The style index built in chunks, kept on disk beside the catalog, updated for what changed, and its candidates."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from feature_catalog import FakeProduct, build_feature_catalog, features

from stylerec_desktop.core.catalog import Catalog, ImageInfo, ProductRecord
from stylerec_desktop.core.recommend import candidates, index_build, index_store
from stylerec_desktop.core.recommend.features import extractor_version
from stylerec_desktop.core.recommend.index import StyleIndex, _storage_view, colour_histograms, load_index
from stylerec_desktop.core.recommend.ranking import Filters, recommend
from stylerec_desktop.core.recommend.taste import customer_taste

NOW = datetime(2026, 6, 30, tzinfo=UTC)


def _products(count: int, start: int = 0) -> list[FakeProduct]:
    return [FakeProduct(f"P{i:04d}", (30.0 + i % 50, (i % 7) * 10 - 30, (i % 5) * 10 - 20), look=i % 12,
                        category="tees" if i % 2 else "dresses") for i in range(start, start + count)]  # fmt: skip


def _skus(index: StyleIndex, taste_rows: list[int], **kwargs: object) -> list[str]:
    events = [(int(index.product_ids[r]), "purchase", NOW, 1) for r in taste_rows]
    taste = customer_taste(index, "c", events, internal_id=1)
    return [r.sku for r in recommend(index, taste, k=10, **kwargs)]  # type: ignore[arg-type]


def test_colour_histograms_in_chunks_are_the_one_shot_ones() -> None:
    rng = np.random.default_rng(0)
    palettes = np.concatenate([rng.uniform(-60, 90, (1000, 5, 3)), rng.dirichlet(np.ones(5), 1000)[..., None]], 2)
    assert np.array_equal(colour_histograms(palettes, chunk=7), colour_histograms(palettes, chunk=4096))


def test_an_index_built_in_chunks_is_the_index_built_at_once() -> None:
    rng = np.random.default_rng(1)
    n = 500
    args = ([*range(1, n + 1)], [f"S{i}" for i in range(n)], [f"T{i}" for i in range(n)], ["a"] * n, [1.0] * n,
            [True] * n, rng.normal(size=(n, 100)).astype(np.float32),
            np.maximum(rng.normal(size=(n, 1280)), 0).astype(np.float32),
            np.concatenate([rng.uniform(0, 90, (n, 5, 3)), np.full((n, 5, 1), 0.2)], 2).astype(np.float32),
            rng.random((n, 20)).astype(np.float32))  # fmt: skip
    small = index_build.build_index(index_build.array_source(*args, chunk=7), n, "x")
    whole = index_build.build_index(index_build.array_source(*args, chunk=10_000), n, "x")
    assert np.array_equal(_storage_view(small.looks), _storage_view(whole.looks))
    assert np.allclose(small.projections["visual"].basis, whole.projections["visual"].basis, atol=1e-5)


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    return build_feature_catalog(tmp_path / "cat", _products(80))


def test_opening_a_catalog_again_reads_its_stored_index_instead_of_rebuilding(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_index(catalog)
    assert (catalog.folder / "style-index" / "manifest.json").exists()
    expected = _skus(first, [3, 15, 27])

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the index was rebuilt although the catalog did not change")

    monkeypatch.setattr(index_store, "build_index", no_build)
    again = load_index(catalog)
    assert np.array_equal(_storage_view(again.looks), _storage_view(first.looks))
    assert again.skus == first.skus and again.titles == first.titles
    assert _skus(again, [3, 15, 27]) == expected


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "garble the manifest"])
def test_a_damaged_store_is_rebuilt_with_a_log_line(
    catalog: Catalog, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    first = load_index(catalog)
    folder = catalog.folder / "style-index"
    looks = folder / "looks.npy"
    if damage == "flip a byte":
        data = bytearray(looks.read_bytes())
        data[-100] ^= 0xFF
        looks.write_bytes(bytes(data))
    elif damage == "truncate":
        looks.write_bytes(looks.read_bytes()[:-64])
    else:
        (folder / "manifest.json").write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger=index_store.__name__):
        again = load_index(catalog)
    assert any("Rebuilding the style index" in r.getMessage() for r in caplog.records)
    assert np.array_equal(_storage_view(again.looks), _storage_view(first.looks))
    # and the rebuilt store is whole again: the next open reads it without a word
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=index_store.__name__):
        load_index(catalog)
    assert not caplog.records


def test_a_save_clears_what_a_killed_save_left_behind(catalog: Catalog) -> None:
    load_index(catalog)
    dead = catalog.folder / "style-index.tmp-999999999-1"  # no such process
    dead.mkdir()
    (dead / "looks.npy").write_bytes(b"half")
    _add(catalog, _products(1, start=80), start=80)
    load_index(catalog)
    assert sorted(p.name for p in catalog.folder.iterdir() if p.name.startswith("style-index")) == ["style-index"]


def test_a_small_catalog_that_changed_is_rebuilt_exactly(catalog: Catalog, tmp_path: Path) -> None:
    load_index(catalog)
    _add(catalog, _products(5, start=80), start=80)
    grown = load_index(catalog)
    fresh_catalog = build_feature_catalog(tmp_path / "fresh", _products(80))
    _add(fresh_catalog, _products(5, start=80), start=80)
    fresh = load_index(fresh_catalog)
    assert len(grown) == 85
    assert np.array_equal(_storage_view(grown.looks), _storage_view(fresh.looks))


def test_a_big_catalog_reprojects_only_the_products_that_changed(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(index_store, "INCREMENTAL_FROM", 10)
    before = load_index(catalog)
    old_bits = _storage_view(before.looks).copy()
    _add(catalog, _products(4, start=80), start=80)
    # P0005 gets a new primary image whose features differ; P0006 a new image with no features (it leaves)
    reimaged = FakeProduct("P0005", (70.0, 40.0, 40.0), look=99)
    _set_image(catalog, reimaged, sha=f"{9_000:064x}", with_features=True)
    _set_image(catalog, FakeProduct("P0006", (0, 0, 0), 0), sha=f"{9_001:064x}", with_features=False)
    with caplog.at_level(logging.INFO, logger=index_store.__name__):
        after = load_index(catalog)
    assert any("5 products re-projected, 2 removed" in r.getMessage() for r in caplog.records)
    assert "P0006" not in after.row_of_sku and len(after) == 80 + 4 - 1
    # unchanged products keep their rows' bits; changed ones are projected with the stored projections
    for sku in ("P0000", "P0042", "P0079"):
        assert np.array_equal(_storage_view(after.looks)[after.row(sku)], old_bits[before.row(sku)])
    chunk = index_build.chunk_of_rows(catalog.product_feature_rows_for(extractor_version(),
                                                                       [int(after.product_ids[after.row("P0005")])]))
    expected = index_build.project_chunk(chunk, before.projections)[0]
    assert np.allclose(after.rows(after.row("P0005")), expected, atol=1e-2)
    assert not np.allclose(after.rows(after.row("P0005")), before.rows(before.row("P0005")), atol=1e-2)
    # what was written is what the next open reads, without any rebuild
    monkeypatch.setattr(index_store, "build_index", None)
    reopened = load_index(catalog)
    assert np.array_equal(_storage_view(reopened.looks), _storage_view(after.looks))
    assert reopened.skus == after.skus


def test_a_store_of_another_feature_recipe_is_rebuilt(catalog: Catalog, caplog: pytest.LogCaptureFixture) -> None:
    load_index(catalog)
    manifest_path = catalog.folder / "style-index" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["stamp"]["extractor"] = "v0;older"
    manifest_path.write_text(json.dumps(manifest))
    with caplog.at_level(logging.INFO, logger=index_store.__name__):
        load_index(catalog)
    assert any("built from other features" in r.getMessage() for r in caplog.records)


# -- candidates ---------------------------------------------------------------------------------------------------


def _clustered_index(n: int) -> StyleIndex:
    rng = np.random.default_rng(3)
    clusters = rng.integers(0, 40, n)
    style = (rng.normal(size=(40, 100)) * 2)[clusters] + rng.normal(size=(n, 100))
    visual = np.maximum(rng.normal(size=(40, 1280))[clusters] + rng.normal(size=(n, 1280)), 0)
    lab = rng.uniform(-50, 90, (40, 1, 3))[clusters] + rng.normal(scale=10, size=(n, 5, 3))
    palettes = np.concatenate([lab, rng.dirichlet(np.ones(5), n)[..., None]], 2)
    index = StyleIndex.from_features(
        product_ids=np.arange(1, n + 1), skus=[f"S{i}" for i in range(n)], titles=[f"T{i}" for i in range(n)],
        categories=["tees" if i % 4 else "dresses" for i in range(n)], prices=(rng.uniform(5, 200, n)).tolist(),
        in_stock=(rng.random(n) > 0.1).tolist(), style=style.astype(np.float32), visual=visual.astype(np.float32),
        palettes=palettes.astype(np.float32), pattern=rng.random((n, 20)).astype(np.float32), extractor="t",
        as_of=NOW,
    )  # fmt: skip
    index.cluster = clusters  # type: ignore[attr-defined]
    return index


@pytest.mark.skipif(not candidates.available(), reason="FAISS is not installed (pip install stylerec-desktop[large])")
def test_candidates_find_the_exact_top10_and_survive_a_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(candidates, "ANN_MIN_PRODUCTS", 1000)
    monkeypatch.setattr(candidates, "EXACT_BELOW", 300)
    index = _clustered_index(12_000)
    clusters = index.cluster  # type: ignore[attr-defined]
    index.candidates = candidates.CandidateIndex.build(index)
    assert len(index.candidates) == len(index)
    rng = np.random.default_rng(4)
    histories = [np.concatenate([rng.choice(np.flatnonzero(clusters == c), 4) for c in rng.choice(40, 2)])
                 for _ in range(8)]  # fmt: skip
    cases = [{}, {"diversity": 0.3}, {"filters": Filters(categories=("dresses",), in_stock_only=True)}]
    approx = [[_skus(index, h.tolist(), **case) for h in histories] for case in cases]
    index_store.save_index(index, tmp_path / "store", {"extractor": "t"}, fitted_rows=len(index))
    reopened, _ = index_store.open_store(tmp_path / "store")
    reopened.behaviour, reopened.as_of = index.behaviour, NOW
    assert reopened.candidates is not None
    assert [[_skus(reopened, h.tolist(), **case) for h in histories] for case in cases] == approx
    index.candidates = None  # every product scored: the reference
    exact = [[_skus(index, h.tolist(), **case) for h in histories] for case in cases]
    recall = [len(set(a) & set(e)) / 10 for ca, ce in zip(approx, exact, strict=True)
              for a, e in zip(ca, ce, strict=True)]  # fmt: skip
    assert np.mean(recall) >= 0.95 and min(recall) >= 0.8, recall
    # a filter that leaves few products scores them all: exactly the exact list
    few = {"filters": Filters(categories=("dresses",), max_price=12.0)}
    index.candidates = reopened.candidates
    assert [_skus(index, h.tolist(), **few) for h in histories[:3]] == [
        _skus(reopened, h.tolist(), **few) for h in histories[:3]
    ]


def test_small_catalogs_are_ranked_exactly_without_candidates(catalog: Catalog) -> None:
    index = load_index(catalog)
    assert index.candidates is None and not candidates.in_use(index)


# -- helpers ---------------------------------------------------------------------------------------------------------


def _add(catalog: Catalog, products: list[FakeProduct], start: int) -> None:
    records, blobs = [], []
    for i, product in enumerate(products, start=start):
        sha = f"{i:064x}"
        image = ImageInfo(catalog.folder / "images" / "x.png", sha, 200, 200)
        records.append(ProductRecord(product.sku, f"Product {product.sku}", product.category, price=10.0 + i,
                                     images=(image,)))  # fmt: skip
        blobs.append(features(product).to_blobs(sha, extractor_version()))
    catalog.upsert_products(records)
    catalog.store_image_features(blobs)


def _set_image(catalog: Catalog, product: FakeProduct, sha: str, with_features: bool) -> None:
    image = ImageInfo(catalog.folder / "images" / "y.png", sha, 200, 200)
    catalog.upsert_products([ProductRecord(product.sku, f"Product {product.sku}", product.category, images=(image,))])
    if with_features:
        catalog.store_image_features([features(product).to_blobs(sha, extractor_version())])

