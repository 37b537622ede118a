"""Learned-signal benchmarks: training time on a synthetic catalog, and scoring latency over 100,000 products.

    python bench/bench_learned.py [--products 20000] [--events 30000] [--score-products 100000] [--device cpu]
                                  [--epochs 40] [--patience 3] [--json]

- **Training**: a fresh catalog of ``--products`` products with *synthetic* stored features (no images: 200 visual
  families of EfficientNet-like non-negative 1280-d vectors, random style/palette/pattern), categories, brands,
  prices and tags, and ``--events`` events of customers who each keep to two families over 90 days (views, likes,
  carts, purchases). ``train_model_job`` is timed from start to end — index and events loaded from the catalog
  (reported apart too: the index's PCA is most of it), the validated fit with early stopping and the refit on all
  events. Goal (issue 10): under 10 minutes on a 2-core
  CPU, under 1 minute on a GPU.
- **Scoring**: the trained model scores one customer (24-item history) over a synthetic index of
  ``--score-products`` products (``bench_recommend.synthetic_index``, ids 1..N: the first ``--products`` are known to
  the model, the rest are new and scored through their looks). Reported: the one-off item table for that index,
  then ``scores()`` per customer, median and p95 of 30 after a warm-up. Goal (issue 10): under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import torch
from bench_recommend import synthetic_index

from stylerec_desktop.core.catalog import Catalog, CustomerRecord, EventRecord, ImageInfo, ProductRecord
from stylerec_desktop.core.jobs import Progress, run_job
from stylerec_desktop.core.recommend.features import (
    PALETTE_SIZE,
    PATTERN_DIM,
    STYLE_DIM,
    VISUAL_DIM,
    ImageFeatures,
    extractor_version,
)
from stylerec_desktop.core.recommend.learned import LearnedSettings, train_model_job
from stylerec_desktop.core.recommend.taste import customer_taste

START = datetime(2026, 3, 1, tzinfo=UTC)
FAMILIES = 200
KINDS = ("view", "view", "view", "like", "cart", "purchase")


def synthetic_catalog(folder: Path, products: int, events: int, seed: int = 0) -> Catalog:
    """A catalog with stored synthetic features and events (see the module docstring)."""
    rng = np.random.default_rng(seed)
    catalog = Catalog.create(folder)
    centres = rng.normal(size=(FAMILIES, VISUAL_DIM)).astype(np.float32)
    family = rng.integers(0, FAMILIES, products)
    categories = ["tees", "dresses", "bags", "shoes", "knitwear", "jeans", "coats", "skirts"]
    records, blobs = [], []
    for i in range(products):
        sha = f"bench-{i:06d}"
        records.append(
            ProductRecord(
                sku=f"SKU-{i:06d}",
                title=f"Product {i}",
                category=categories[int(family[i]) % len(categories)],
                brand=f"brand{int(rng.integers(40))}",
                price=float(rng.uniform(5, 300)),
                tags=(f"colour{int(rng.integers(12))}", f"fit{int(rng.integers(4))}"),
                attributes={"material": f"m{int(rng.integers(10))}"},
                images=(ImageInfo(folder / "images" / f"{sha}.jpg", sha, 512, 512),),
            )
        )
        lab = np.column_stack([rng.uniform(10, 95, PALETTE_SIZE), rng.uniform(-60, 60, (PALETTE_SIZE, 2))])
        features = ImageFeatures(
            style=rng.normal(size=STYLE_DIM).astype(np.float32),
            visual=np.maximum(centres[family[i]] + rng.normal(size=VISUAL_DIM), 0).astype(np.float32),
            palette=np.hstack([lab, rng.dirichlet(np.ones(PALETTE_SIZE))[:, None]]).astype(np.float32),
            pattern=rng.random(PATTERN_DIM).astype(np.float32),
        )
        blobs.append(features.to_blobs(sha, extractor_version()))
    catalog.upsert_products(records)
    catalog.store_image_features(blobs)
    members = [np.flatnonzero(family == f) for f in range(FAMILIES)]
    customers = max(events // 10, 1)
    catalog.upsert_customers([CustomerRecord(f"C{c:06d}") for c in range(customers)])
    rows = []
    for n in range(events):
        c = n % customers
        # each customer keeps to two families (their "taste"), with one event in five anywhere in the catalog
        liked = (c * 7 + int(rng.integers(2)) * 13) % FAMILIES
        pool = members[liked] if rng.random() < 0.8 and len(members[liked]) else np.arange(products)
        sku = f"SKU-{int(rng.choice(pool)):06d}"
        ts = START + timedelta(days=float(rng.uniform(0, 90)))
        rows.append(EventRecord(f"C{c:06d}", sku, KINDS[int(rng.integers(len(KINDS)))], ts))
    catalog.add_events(rows)
    return catalog


def bench_training(products: int, events: int, device: str, epochs: int, patience: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        catalog = synthetic_catalog(Path(tmp) / "catalog", products, events)
        build_s = time.perf_counter() - t0
        try:
            marks: dict[str, float] = {}

            def mark(step: Progress) -> None:  # when the first training step is reported: loading is over
                if step.message.startswith("Training"):
                    marks.setdefault("training", time.perf_counter())

            t0 = time.perf_counter()
            settings = LearnedSettings(epochs=epochs, patience=patience)
            model = run_job(train_model_job(catalog, settings=settings, seed=0, device=device), on_progress=mark)
            train_s = time.perf_counter() - t0
        finally:
            catalog.close()
    info = model.info
    return {
        "model": model,
        "products": products,
        "events_requested": events,
        "events_trained": info.events,
        "customers": info.customers,
        "catalog_build_s": build_s,
        "train_s": train_s,
        "of_which_loading_s": marks.get("training", t0) - t0,
        "epochs_validated": info.epochs,
        "best_epoch": info.best_epoch,
        "device": info.device,
        "validation": None if info.validation is None else vars(info.validation),
    }


def bench_scoring(model: object, n: int, repeats: int = 30) -> dict[str, object]:
    index = synthetic_index(n)
    rng = np.random.default_rng(1)
    rows = rng.choice(n, 24, replace=False)
    now = index.as_of
    events = [(int(index.product_ids[r]), KINDS[i % len(KINDS)], now - timedelta(days=i), 1) for i, r in
              enumerate(rows)]  # fmt: skip
    taste = customer_taste(index, "bench", events, internal_id=None)
    t0 = time.perf_counter()
    model.item_table(index)  # type: ignore[attr-defined]
    table_s = time.perf_counter() - t0
    model.scores(index, taste)  # type: ignore[attr-defined]  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        scores = model.scores(index, taste)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    assert scores.shape == (n,)
    return {
        "products": n,
        "history_items": len(taste.items),
        "item_table_s": table_s,
        "scores_median_ms": statistics.median(times),
        "scores_p95_ms": times[int(0.95 * (len(times) - 1))],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--score-products", type=int, default=100_000)
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--epochs", type=int, default=40, help="most epochs (early stopping usually ends sooner)")
    parser.add_argument("--patience", type=int, default=3, help="early stopping patience; = --epochs: no early stop")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()
    training = bench_training(args.products, args.events, args.device, args.epochs, args.patience)
    scoring = bench_scoring(training.pop("model"), args.score_products)
    result = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "features": "synthetic (no images)",
        "training": training,
        "scoring": scoring,
    }
    if args.json:
        json.dump(result, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    v = training["validation"]
    print(f"load average (1, 5, 15 min) before: {load_before}, after: {result['machine']['load_average_after']}")
    print(
        f"training: {training['events_trained']} events x {training['products']} products on {training['device']}: "
        f"{training['train_s']:.1f} s, of which {training['of_which_loading_s']:.1f} s loading the index and events "
        f"({training['epochs_validated']} validated epochs, refit {training['best_epoch']}); catalog build "
        f"{training['catalog_build_s']:.1f} s (not counted)"
    )
    if v:
        print(f"  validation NDCG@{v['k']} {v['ndcg']:.4f} vs best-sellers {v['popularity_ndcg']:.4f} "
              f"({v['customers']} customers, {v['purchases']} purchases)")  # fmt: skip
    print(
        f"scoring {scoring['products']} products: item table {scoring['item_table_s']:.2f} s once per index, then "
        f"{scoring['scores_median_ms']:.1f} ms per customer (p95 {scoring['scores_p95_ms']:.1f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
