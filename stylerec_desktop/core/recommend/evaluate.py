"""Offline evaluation: how well would each method have predicted what customers really bought next?

Temporal split: the cutoff is ``test_days`` before the newest event. Everything before it trains (tastes,
co-occurrence, popularity); the purchases at or after it are the test. Evaluated customers are those with history
before the cutoff and at least one test purchase of an indexed product they had not already bought before it (every
method leaves a customer's earlier purchases out, as ``recommend`` does by default).

Methods, computed in the same run on the same candidates:

- ``stylerec``: our blended ranking (:mod:`.ranking`) with the given weights.
- ``popularity``: recent best-sellers — purchases in the 30 days before the cutoff, ties by all-time interactions.
- ``cooccurrence``: item-to-item co-occurrence CF on the customer's weighted history (ties by popularity).
- ``visual_knn``: visual-only nearest neighbours: ``sum_h a_h cos_visual(h, p)`` (ties by popularity).

Metrics @K, averaged over customers: Recall, NDCG (binary relevance), HitRate, MRR; over the whole run: catalog
coverage (share of products recommended to anyone), Gini of exposure (0 = every product shown equally often, 1 = one
product shown to all), novelty (mean ``-log2`` of a recommended product's share of training interactions, Laplace
smoothed; higher = less obvious). The cold-start view repeats Recall/HitRate on test purchases of products that had
no events at all before the cutoff.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from stylerec_desktop.core.catalog import Catalog, format_ts, parse_ts
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.recommend.index import StyleIndex, load_index
from stylerec_desktop.core.recommend.ranking import RankingWeights, recommend
from stylerec_desktop.core.recommend.taste import CustomerTaste, TasteEvent, TasteSettings, customer_taste

METHODS = ("stylerec", "popularity", "cooccurrence", "visual_knn")
_BESTSELLER_DAYS = 30


@dataclass(frozen=True)
class MethodMetrics:
    """One method's figures (all 0..1 except ``novelty``, in bits)."""

    ndcg: float
    recall: float
    hit_rate: float
    mrr: float
    coverage: float
    gini: float
    novelty: float


@dataclass(frozen=True)
class ColdStartMetrics:
    recall: float
    hit_rate: float


@dataclass(frozen=True)
class EvaluationReport:
    k: int
    cutoff: datetime
    test_days: int
    customers: int
    test_purchases: int
    methods: dict[str, MethodMetrics]
    cold_start_purchases: int = 0
    cold_start_customers: int = 0
    cold_start: dict[str, ColdStartMetrics] = field(default_factory=dict)

    def table(self) -> str:
        """The figures as an aligned text table, one row per method."""
        names = ("ndcg", "recall", "hit_rate", "mrr", "coverage", "gini", "novelty")
        lines = [f"{'method':<14}" + "".join(f"{n:>10}" for n in names) + f"{'cold rec':>10}"]
        for method, m in self.methods.items():
            cold = self.cold_start.get(method)
            lines.append(
                f"{method:<14}" + "".join(f"{getattr(m, n):>10.4f}" for n in names)
                + (f"{cold.recall:>10.4f}" if cold else f"{'-':>10}")
            )  # fmt: skip
        return "\n".join(lines)


# -- metrics ---------------------------------------------------------------------------------------------------


def ranking_metrics(ranked: list[int], relevant: set[int], k: int) -> tuple[float, float, float, float]:
    """(NDCG, recall, hit, reciprocal rank) @k of one ranked list against a non-empty relevant set."""
    hits = [i for i, item in enumerate(ranked[:k]) if item in relevant]
    dcg = sum(1.0 / math.log2(i + 2) for i in hits)
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / idcg, len(hits) / len(relevant), float(bool(hits)), (1.0 / (hits[0] + 1) if hits else 0.0)


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative ``counts`` (0 = equal, -> 1 = concentrated)."""
    x = np.sort(np.asarray(counts, np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total == 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * total))


# -- the evaluation --------------------------------------------------------------------------------------------


def evaluate(
    catalog: Catalog,
    test_days: int = 14,
    k: int = 10,
    weights: RankingWeights | None = None,
    taste_settings: TasteSettings | None = None,
    methods: tuple[str, ...] = METHODS,
) -> EvaluationReport:
    """Evaluate ``methods`` on ``catalog`` (see the module docstring)."""
    if test_days < 1:
        raise UserError(f"--test-days must be at least 1, got {test_days}.")
    if k < 1:
        raise UserError(f"--k must be at least 1, got {k}.")
    span = catalog.event_time_span()
    if span is None:
        raise UserError("The catalog has no events to evaluate against: import customer events first.")
    cutoff = parse_ts(span[1]) - timedelta(days=test_days)
    if cutoff <= parse_ts(span[0]):
        raise UserError(f"All events are within the last {test_days} days: nothing is left to train on.")
    index = load_index(catalog, events_before=cutoff)
    history: dict[int, list[TasteEvent]] = defaultdict(list)
    test: dict[int, set[int]] = defaultdict(set)
    for event in catalog.interactions():
        ts = parse_ts(event.ts)
        if ts < cutoff:
            history[event.customer_id].append((event.product_id, event.kind, ts, event.quantity))
        elif event.kind == "purchase" and event.product_id in index.row_of:
            test[event.customer_id].add(index.row_of[event.product_id])
    external = catalog.customer_external_ids()
    bestsellers = _bestsellers(catalog, index, cutoff)
    settings = taste_settings or TasteSettings()

    rankers: dict[str, Callable[[CustomerTaste], list[int]]] = {
        "stylerec": lambda taste: [r.row for r in recommend(index, taste, k=k, weights=weights)],
        "popularity": lambda taste: _top(bestsellers, taste, k),
        "cooccurrence": lambda taste: _top(_cooccurrence(index, taste) + 1e-6 * bestsellers, taste, k),
        "visual_knn": lambda taste: _top(_visual_knn(index, taste) + 1e-6 * bestsellers, taste, k),
    }
    unknown = [m for m in methods if m not in rankers]
    if unknown:
        raise UserError(f"Unknown evaluation method {unknown[0]!r}; use {', '.join(METHODS)}.")
    per_method: dict[str, list[tuple[float, float, float, float]]] = {m: [] for m in methods}
    cold_hits: dict[str, list[tuple[float, float]]] = {m: [] for m in methods}
    exposure = {m: np.zeros(len(index), np.int64) for m in methods}
    cold = ~index.behaviour.has_events
    customers = test_purchases = cold_purchases = 0
    for customer, bought in sorted(test.items()):
        taste = customer_taste(
            index, external.get(customer, str(customer)), history.get(customer, []), customer, settings, cutoff
        )
        relevant = bought - set(taste.purchased_rows)
        if taste.is_empty or not relevant:
            continue
        customers += 1
        test_purchases += len(relevant)
        cold_relevant = {r for r in relevant if cold[r]}
        cold_purchases += len(cold_relevant)
        for method in methods:
            ranked = rankers[method](taste)
            per_method[method].append(ranking_metrics(ranked, relevant, k))
            exposure[method][ranked] += 1
            if cold_relevant:
                _, recall, hit, _ = ranking_metrics(ranked, cold_relevant, k)
                cold_hits[method].append((recall, hit))
    if customers == 0:
        raise UserError(
            f"No customer has both history before {cutoff:%Y-%m-%d} and a new purchase after it; "
            "try a different --test-days."
        )
    novelty_bits = _novelty_bits(index)
    report_methods = {}
    for method in methods:
        scores = np.asarray(per_method[method])
        shown = exposure[method]
        report_methods[method] = MethodMetrics(
            ndcg=float(scores[:, 0].mean()),
            recall=float(scores[:, 1].mean()),
            hit_rate=float(scores[:, 2].mean()),
            mrr=float(scores[:, 3].mean()),
            coverage=float((shown > 0).mean()),
            gini=gini(shown),
            novelty=float((shown * novelty_bits).sum() / max(shown.sum(), 1)),
        )
    cold_report = {m: ColdStartMetrics(*np.asarray(v).mean(axis=0).tolist()) for m, v in cold_hits.items() if v}
    return EvaluationReport(
        k=k,
        cutoff=cutoff,
        test_days=test_days,
        customers=customers,
        test_purchases=test_purchases,
        methods=report_methods,
        cold_start_purchases=cold_purchases,
        cold_start_customers=len(next(iter(cold_hits.values()), [])),
        cold_start=cold_report,
    )


def _top(scores: np.ndarray, taste: CustomerTaste, k: int) -> list[int]:
    """The ``k`` best rows by ``scores`` that the customer has not bought before."""
    scores = scores.astype(np.float64, copy=True)
    if taste.purchased_rows:
        scores[list(taste.purchased_rows)] = -np.inf
    take = min(k, len(scores))
    top = np.argpartition(-scores, take - 1)[:take]
    return top[np.argsort(-scores[top], kind="stable")].tolist()


def _bestsellers(catalog: Catalog, index: StyleIndex, cutoff: datetime) -> np.ndarray:
    """Purchases in the ``_BESTSELLER_DAYS`` before ``cutoff`` per row, + all-time interactions / 1e3 (tie-break)."""
    since = format_ts(cutoff - timedelta(days=_BESTSELLER_DAYS))
    recent = np.zeros(len(index), np.float64)
    for event in catalog.interactions(before=format_ts(cutoff), since=since):
        row = index.row_of.get(event.product_id)
        if row is not None and event.kind == "purchase":
            recent[row] += event.quantity
    counts = np.diff(index.behaviour.item_indptr).astype(np.float64)
    return recent + counts / 1e3


def _cooccurrence(index: StyleIndex, taste: CustomerTaste) -> np.ndarray:
    rows = np.asarray([i.row for i in taste.items], np.int64)
    weights = np.asarray([i.weight for i in taste.items], np.float32)
    return index.behaviour.cooccurrence(rows, weights, exclude_customer=taste.internal_id).astype(np.float64)


def _visual_knn(index: StyleIndex, taste: CustomerTaste) -> np.ndarray:
    rows = np.asarray([i.row for i in taste.items], np.int64)
    weights = np.asarray([i.weight for i in taste.items], np.float32)
    query = np.zeros((index.looks.shape[1], 1), np.float32)
    query[index.blocks["visual"], 0] = index.rows(rows, "visual").T @ weights
    return index.dot(query)[:, 0].astype(np.float64)


def _novelty_bits(index: StyleIndex) -> np.ndarray:
    counts = np.diff(index.behaviour.item_indptr).astype(np.float64)
    share = (counts + 1.0) / (counts.sum() + len(counts))
    return -np.log2(share)


def report_dict(report: EvaluationReport) -> dict[str, object]:
    """The CLI's ``--json`` object: ``{"k", "cutoff", "methods": {name: {metric: value}}, ...}``."""
    return {
        "k": report.k,
        "cutoff": format_ts(report.cutoff),
        "test_days": report.test_days,
        "customers": report.customers,
        "test_purchases": report.test_purchases,
        "methods": {name: vars(m) for name, m in report.methods.items()},
        "cold_start": {
            "test_purchases": report.cold_start_purchases,
            "customers": report.cold_start_customers,
            "methods": {name: vars(m) for name, m in report.cold_start.items()},
        },
    }
