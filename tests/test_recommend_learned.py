"""The learned signal on a generated catalog where shoppers buy by look: one visual family each, not best-sellers.

The catalog is built directly from synthetic stored features (no images are drawn or indexed), so the whole module
runs in seconds: 16 visual families of 14 products (EfficientNet-like non-negative vectors around a family centre,
256-d instead of 1280 so that the index's PCA takes milliseconds, not seconds), style/colour/pattern/category/brand
drawn at random (they carry no taste), 10 "hot" products that everyone buys now and then, and 2 products per family
nobody has touched (cold start).
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import torch

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import Catalog, CustomerRecord, EventRecord, ImageInfo, ProductRecord
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Cancelled, CancelToken, Progress, run_job
from stylerec_desktop.core.recommend.evaluate import ranking_metrics
from stylerec_desktop.core.recommend.features import (
    PALETTE_SIZE,
    PATTERN_DIM,
    STYLE_DIM,
    ImageFeatures,
    extractor_version,
)
from stylerec_desktop.core.recommend.index import StyleIndex, load_index
from stylerec_desktop.core.recommend.learned import (
    LearnedModel,
    LearnedSettings,
    load_model,
    model_path,
    save_model,
    train_model_job,
)
from stylerec_desktop.core.recommend.taste import CustomerTaste, customer_taste

FAMILIES = 16
PER_FAMILY = 14
COLD_PER_FAMILY = 2
HOT = 10
CUSTOMERS = 240
DAYS = 70
CUTOFF_DAY = 56
T0 = datetime(2026, 1, 5, tzinfo=UTC)
CUTOFF = T0 + timedelta(days=CUTOFF_DAY)
VISUAL_DIM = 256
FAST = LearnedSettings(factors=16, epochs=30, validation_days=7.0)


def _features(rng: np.random.Generator, centres: np.ndarray, family: int) -> ImageFeatures:
    lab = np.column_stack([rng.uniform(10, 95, PALETTE_SIZE), rng.uniform(-60, 60, (PALETTE_SIZE, 2))])
    palette = np.hstack([lab, rng.dirichlet(np.ones(PALETTE_SIZE))[:, None]]).astype(np.float32)
    return ImageFeatures(
        style=rng.normal(size=STYLE_DIM).astype(np.float32),
        visual=np.maximum(centres[family] + 0.8 * rng.normal(size=VISUAL_DIM), 0).astype(np.float32),
        palette=palette,
        pattern=rng.random(PATTERN_DIM).astype(np.float32),
    )


def add_products(catalog: Catalog, skus_families: list[tuple[str, int]], seed: int) -> None:
    """Products with stored synthetic features (their image files need not exist: only the sha256 links them)."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(size=(FAMILIES, VISUAL_DIM))
    records, blobs = [], []
    for sku, family in skus_families:
        sha = f"sha-{sku}"
        records.append(
            ProductRecord(
                sku=sku,
                title=f"Product {sku}",
                category=("tees", "dresses", "bags", "shoes")[int(rng.integers(4))],
                brand=f"brand{int(rng.integers(6))}",
                price=float(rng.uniform(10, 200)),
                images=(ImageInfo(catalog.folder / "images" / f"{sku}.png", sha, 256, 256),),
            )
        )
        blobs.append(_features(rng, centres, family).to_blobs(sha, extractor_version()))
    catalog.upsert_products(records)
    catalog.store_image_features(blobs)


def family_of(sku: str) -> int:
    return int(sku.split("-")[1])


def build(folder: Path) -> Catalog:
    catalog = Catalog.create(folder)
    skus = [(f"F-{f:02d}-{i:02d}", f) for f in range(FAMILIES) for i in range(PER_FAMILY)]
    add_products(catalog, skus, seed=1)
    rng = np.random.default_rng(2)
    warm = {f: [s for s, g in skus if g == f][COLD_PER_FAMILY:] for f in range(FAMILIES)}
    hot = [s for s, _ in skus if int(s[-2:]) >= COLD_PER_FAMILY][:: len(skus) // HOT][:HOT]
    catalog.upsert_customers([CustomerRecord(f"C{c:03d}") for c in range(CUSTOMERS)])
    events = []
    for c in range(CUSTOMERS):
        family = c % FAMILIES
        for _ in range(int(rng.integers(10, 18))):
            sku = str(rng.choice(warm[family])) if rng.random() < 0.9 else str(rng.choice(hot))
            kind = str(rng.choice(["view", "view", "like", "cart", "purchase", "purchase"]))
            ts = T0 + timedelta(days=float(rng.uniform(0, DAYS)))
            events.append(EventRecord(f"C{c:03d}", sku, kind, ts))
    catalog.add_events(events)
    return catalog


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    cat = build(tmp_path_factory.mktemp("learned") / "catalog")
    yield cat
    cat.close()


@pytest.fixture(scope="module")
def index(catalog: Catalog) -> StyleIndex:
    return load_index(catalog, events_before=CUTOFF)


@pytest.fixture(scope="module")
def model(catalog: Catalog) -> LearnedModel:
    return run_job(train_model_job(catalog, before=CUTOFF, settings=FAST, seed=0, device="cpu"))


def taste_of(catalog: Catalog, index: StyleIndex, customer: str) -> CustomerTaste:
    history = [(h.product_id, h.kind, h.ts, h.quantity) for h in catalog.customer_history(customer) if h.ts < CUTOFF]
    return customer_taste(index, customer, history, catalog.customer(customer).id, as_of=CUTOFF)


def held_out(catalog: Catalog, index: StyleIndex) -> dict[str, set[int]]:
    """Customer -> index rows they bought at or after the cutoff and not before it."""
    out = {}
    for c in range(CUSTOMERS):
        customer = f"C{c:03d}"
        history = catalog.customer_history(customer)
        before = {index.row_of[h.product_id] for h in history if h.ts < CUTOFF and h.kind == "purchase"}
        after = {index.row_of[h.product_id] for h in history if h.ts >= CUTOFF and h.kind == "purchase"}
        if after - before and any(h.ts < CUTOFF for h in history):
            out[customer] = after - before
    return out


def _top(scores: np.ndarray, excluded: frozenset[int], k: int = 10) -> list[int]:
    scores = scores.astype(np.float64).copy()
    scores[list(excluded)] = -np.inf
    return np.argsort(-scores, kind="stable")[:k].tolist()


def test_the_model_beats_random_and_popularity_on_held_out_purchases(
    catalog: Catalog, index: StyleIndex, model: LearnedModel
) -> None:
    popularity = np.diff(index.behaviour.item_indptr).astype(np.float64)  # training interactions per product
    rng = np.random.default_rng(7)
    ndcg: dict[str, list[float]] = {"learned": [], "popularity": [], "random": []}
    for customer, relevant in held_out(catalog, index).items():
        taste = taste_of(catalog, index, customer)
        ranked = {
            "learned": _top(model.scores(index, taste), taste.purchased_rows),
            "popularity": _top(popularity, taste.purchased_rows),
            "random": _top(rng.random(len(index)), taste.purchased_rows),
        }
        for name, rows in ranked.items():
            ndcg[name].append(ranking_metrics(rows, relevant, 10)[0])
    means = {name: float(np.mean(v)) for name, v in ndcg.items()}
    assert len(ndcg["learned"]) >= 100, len(ndcg["learned"])
    # Shoppers buy within their visual family 9 times in 10: ranking by look must be far ahead of best-sellers.
    assert means["learned"] > 1.5 * means["popularity"], means
    assert means["learned"] > means["popularity"] + 0.08, means
    assert means["learned"] > 3 * means["random"], means
    assert model.info.validation is not None and model.info.validation.ndcg > model.info.validation.popularity_ndcg


def test_cold_start_products_are_ranked_by_their_looks(
    catalog: Catalog, index: StyleIndex, model: LearnedModel
) -> None:
    cold = np.flatnonzero(~index.behaviour.has_events)
    cold_families = np.asarray([family_of(index.skus[r]) for r in cold])
    assert len(cold) == FAMILIES * COLD_PER_FAMILY and model.info.cold_products == len(cold)
    hits = 0
    for c in range(FAMILIES):
        customer = f"C{c:03d}"
        scores = model.scores(index, taste_of(catalog, index, customer))[cold]
        best = cold_families[np.argsort(-scores)[:COLD_PER_FAMILY]]
        hits += int((best == c % FAMILIES).sum())
    # Of each shopper's 2 best-scored cold products, most are from their own family (chance: 1 in 8; the model
    # learns its map of the looks from 192 products here, so it is well short of perfect).
    assert hits >= 0.5 * FAMILIES * COLD_PER_FAMILY, hits


def test_products_imported_after_training_are_scored_by_looks_and_mapped_by_id(
    tmp_path: Path, model: LearnedModel
) -> None:
    catalog = build(tmp_path / "grown")
    try:
        # New products, imported after the model was trained: their ids and index rows are new.
        add_products(catalog, [(f"N-{f:02d}-new", f) for f in range(FAMILIES)], seed=5)
        grown = load_index(catalog, events_before=CUTOFF)
        assert len(grown) == FAMILIES * (PER_FAMILY + 1)
        new_rows = np.asarray([grown.row_of_sku[f"N-{f:02d}-new"] for f in range(FAMILIES)])
        right = 0
        for c in range(FAMILIES):
            scores = model.scores(grown, taste_of(catalog, grown, f"C{c:03d}"))
            assert scores.shape == (len(grown),) and scores.dtype == np.float32
            right += int(np.argmax(scores[new_rows]) == c)
        assert right >= FAMILIES // 2, right  # chance: 1 in 16
        # Known products keep their trained scores however the rows moved.
        taste = taste_of(catalog, grown, "C001")
        sku = "F-01-05"
        assert model.scores(grown, taste)[grown.row_of_sku[sku]] == pytest.approx(
            model.item_bias[np.searchsorted(model.product_ids, catalog.product_by_sku(sku).id)]
            + model.item_vectors[np.searchsorted(model.product_ids, catalog.product_by_sku(sku).id)]
            @ model.customer_vector(grown, taste),
            rel=1e-5,
        )
    finally:
        catalog.close()


def test_the_same_seed_gives_the_same_scores_and_progress_is_per_epoch(
    catalog: Catalog, index: StyleIndex, model: LearnedModel
) -> None:
    short = replace(FAST, epochs=3)
    steps: list[Progress] = []
    first = run_job(
        train_model_job(catalog, before=CUTOFF, settings=short, seed=0, device="cpu"), on_progress=steps.append
    )
    again = run_job(train_model_job(catalog, before=CUTOFF, settings=short, seed=0, device="cpu"))
    taste = taste_of(catalog, index, "C005")
    np.testing.assert_array_equal(again.scores(index, taste), first.scores(index, taste))
    per_epoch = [s.message for s in steps if "validation" in s.message]
    assert len(per_epoch) == 3 and all(m.startswith(f"Training: epoch {e}/3, validation NDCG@10 ")
                                       for e, m in enumerate(per_epoch, start=1)), per_epoch  # fmt: skip
    assert [s.done for s in steps] == sorted(s.done for s in steps) and steps[-1].done == steps[-1].total
    other = run_job(train_model_job(catalog, before=CUTOFF, settings=short, seed=1, device="cpu"))
    assert not np.array_equal(other.scores(index, taste), first.scores(index, taste))


def test_cancel_stops_training(catalog: Catalog) -> None:
    token = CancelToken()
    seen: list[Progress] = []

    def on_progress(step: Progress) -> None:
        seen.append(step)
        if "epoch 2/" in step.message:
            token.cancel()

    with pytest.raises(Cancelled):
        run_job(train_model_job(catalog, before=CUTOFF, settings=FAST, device="cpu"), on_progress, token)
    assert not any("epoch 3/" in s.message for s in seen)
    assert not model_path(catalog).exists()


def test_save_and_load_round_trip(catalog: Catalog, index: StyleIndex, model: LearnedModel) -> None:
    assert load_model(catalog) is None
    path = save_model(model, catalog)
    assert path == catalog.folder / "models" / "learned.pt" and path.is_file()
    assert [p.name for p in path.parent.iterdir()] == ["learned.pt"]  # no temporary file left behind
    loaded = load_model(catalog)
    assert loaded is not None
    assert loaded.info == model.info
    assert loaded.info.data_until == "2026-03-02T00:00:00Z" and loaded.info.events > 2000
    for customer in ("C000", "C007"):
        taste = taste_of(catalog, index, customer)
        np.testing.assert_allclose(loaded.scores(index, taste), model.scores(index, taste), rtol=1e-6)
    path.unlink()


def test_a_damaged_model_file_is_a_clear_error(catalog: Catalog, model: LearnedModel) -> None:
    path = save_model(model, catalog)
    try:
        path.write_bytes(path.read_bytes()[:1000])
        with pytest.raises(UserError, match=r"learned\.pt.*stylerec learn"):
            load_model(catalog)
        path.write_text("not a model")
        with pytest.raises(UserError, match=r"learned\.pt.*stylerec learn"):
            load_model(catalog)
        torch.save({"format": 99}, path)  # from a newer version of the app
        with pytest.raises(UserError, match=r"learned\.pt is of format 99.*stylerec learn"):
            load_model(catalog)
        older = copy.copy(model)
        older.info = replace(model.info, extractor="v0;another-network")
        save_model(older, catalog)
        with pytest.raises(UserError, match=r"learned\.pt was trained on image features of another version"):
            load_model(catalog)
    finally:
        path.unlink()


def test_too_few_events_is_a_clear_error(tmp_path: Path) -> None:
    catalog = Catalog.create(tmp_path / "empty")
    try:
        add_products(catalog, [("F-00-00", 0), ("F-00-01", 0)], seed=3)
        with pytest.raises(UserError, match="at least 20 events"):
            run_job(train_model_job(catalog, device="cpu"))
    finally:
        catalog.close()


def test_learn_command_trains_stores_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = build(tmp_path / "cli")
    catalog.close()
    folder = str(tmp_path / "cli")
    assert main(["--catalog", folder, "learn", "--show"]) == 0
    assert "No learned model in this catalog yet" in capsys.readouterr().out
    assert main(["--catalog", folder, "-q", "learn", "--epochs", "3", "--device", "cpu", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["path"] == str(tmp_path / "cli" / "models" / "learned.pt")
    assert report["events"] > 2000 and report["products"] == FAMILIES * PER_FAMILY and report["epochs"] <= 3
    assert report["validation"]["ndcg"] > report["validation"]["popularity_ndcg"]
    with Catalog.open(folder) as reopened:
        stored = load_model(reopened)
        assert stored is not None and stored.info.events == report["events"]
    assert main(["--catalog", folder, "-q", "learn", "--epochs", "2", "--device", "cpu"]) == 0
    text = capsys.readouterr().out
    assert "Validation: the purchases of" in text and "Stored in" in text
    assert main(["--catalog", folder, "learn", "--show"]) == 0
    assert capsys.readouterr().out == text  # the stored model's own figures, nothing retrained
    assert main(["--catalog", folder, "-q", "learn", "--epochs", "0"]) == 2
    assert "stylerec: error: The learned model's epochs must be at least 1" in capsys.readouterr().err


def test_without_purchases_to_validate_on_it_trains_on_all_events_and_says_so(tmp_path: Path) -> None:
    catalog = Catalog.create(tmp_path / "views")
    try:
        add_products(catalog, [(f"F-{f:02d}-{i:02d}", f) for f in range(2) for i in range(6)], seed=4)
        catalog.upsert_customers([CustomerRecord(f"V{c}") for c in range(6)])
        catalog.add_events([EventRecord(f"V{c}", f"F-{c % 2:02d}-{i:02d}", "view", T0 + timedelta(days=c + i))
                            for c in range(6) for i in range(6)])  # fmt: skip
        steps: list[Progress] = []
        model = run_job(train_model_job(catalog, settings=replace(FAST, epochs=2), device="cpu"), steps.append)
        assert model.info.validation is None and model.info.epochs == 2 and model.info.events == 36
        assert [s.message for s in steps if s.message.endswith("done")] == [
            "Training: epoch 1/2 done", "Training: epoch 2/2 done"
        ]  # fmt: skip
        assert model.info.cold_products == 0  # every product was trained on: no window was held out
    finally:
        catalog.close()


def test_the_catalog_reads_every_products_attributes(tmp_path: Path) -> None:
    catalog = Catalog.create(tmp_path / "attrs")
    try:
        catalog.upsert_products([
            ProductRecord("A", "Linen shirt", "shirts", brand="Acme", price=39.5, tags=("linen", "summer"),
                          attributes={"fit": "relaxed"}),
            ProductRecord("B", "Mug", "", price=None),
        ])  # fmt: skip
        rows = catalog.product_attribute_rows()
        assert [(r.category, r.brand, r.price, r.tags, r.attributes) for r in rows] == [
            ("shirts", "Acme", 39.5, ("linen", "summer"), {"fit": "relaxed"}),
            ("", "", None, (), {}),
        ]
        assert [r.product_id for r in rows] == sorted(catalog.product_ids_by_sku(["A", "B"]).values())
    finally:
        catalog.close()
