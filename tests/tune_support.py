"""Planted-signal folds for the ranking tuner's tests: a synthetic style index (no images, no network) whose
shoppers buy by one planted aspect of the looks (test_recommend_evaluate.py, test_recommend_tune_search.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from stylerec_desktop.core.catalog import InteractionRow, format_ts
from stylerec_desktop.core.recommend.evaluate import Fold, _fold
from stylerec_desktop.core.recommend.index import StyleIndex

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CLUSTERS = 12


def planted_index(rng: np.random.Generator, n: int = 360, aspect: str = "colour") -> tuple[StyleIndex, np.ndarray]:
    """Products in ``CLUSTERS`` groups by one ``aspect`` of their looks: their *colours*, or their *visual* features
    (a shape, in a real catalog); every other block is noise."""
    cluster = np.arange(n) % CLUSTERS
    palettes = np.zeros((n, 5, 4), np.float32)
    palettes[:, 1, :3] = rng.uniform([10, -60, -60], [90, 60, 60], (n, 3))  # a random accent colour
    palettes[:, 1, 3] = 0.3
    palettes[:, 0, 3] = 0.7
    visual = rng.random((n, 1280)).astype(np.float32)
    if aspect == "colour":
        centres = np.stack([rng.uniform(20, 80, CLUSTERS), rng.uniform(-60, 60, CLUSTERS),
                            rng.uniform(-60, 60, CLUSTERS)], axis=1)  # fmt: skip
        palettes[:, 0, :3] = centres[cluster] + rng.normal(0, 3, (n, 3))
    else:
        palettes[:, 0, :3] = rng.uniform([10, -60, -60], [90, 60, 60], (n, 3))
        visual = (2.0 * rng.random((CLUSTERS, 1280))[cluster] + visual).astype(np.float32)
    index = StyleIndex.from_features(
        product_ids=np.arange(1, n + 1), skus=[f"P{i}" for i in range(n)], titles=[f"Product {i}" for i in range(n)],
        categories=["all"] * n, prices=[10.0] * n, in_stock=[True] * n,
        style=rng.normal(size=(n, 100)).astype(np.float32), visual=visual,
        palettes=palettes, pattern=rng.random((n, 20)).astype(np.float32), extractor="test", as_of=T0,
    )  # fmt: skip
    return index, cluster


def planted_folds(
    seed: int = 0, customers: int = 160, products: int = 960, per_shopper: int = 10, aspect: str = "colour"
) -> tuple[list[Fold], Fold]:
    """Shoppers who each like one group (by ``aspect``, see :func:`planted_index`). Many products per group and
    short histories keep co-purchases sparse, as in a real catalog, so that only that aspect generalises from what
    a shopper bought to what's next."""
    rng = np.random.default_rng(seed)
    index, cluster = planted_index(rng, products, aspect)
    n = len(index)
    popular = 1.0 / np.arange(1, n + 1) ** 0.8
    ranked = rng.permutation(n)
    events: list[tuple[datetime, InteractionRow]] = []
    for customer in range(1, customers + 1):
        liked = rng.integers(CLUSTERS)
        members = np.flatnonzero(cluster == liked)
        for _ in range(per_shopper):
            ts = T0 + timedelta(days=float(rng.uniform(0, 120)))
            # 85% by colour group, the rest anything; a popularity tilt so that best-sellers are a real baseline
            by_colour = rng.random() < 0.85
            product = int(rng.choice(members)) if by_colour else int(ranked[rng.choice(n, p=popular / popular.sum())])
            kind = "purchase" if rng.random() < 0.45 else "view"
            events.append((ts, InteractionRow(customer, product + 1, kind, format_ts(ts), 1)))
    events.sort(key=lambda e: e[0])
    names = {c: f"C{c}" for c in range(1, customers + 1)}
    cutoffs = [T0 + timedelta(days=d) for d in (60, 75, 90, 105, 121)]
    folds = [_fold(index, events, a, b, names) for a, b in zip(cutoffs, cutoffs[1:], strict=False)]
    return folds[:-1], folds[-1]
