"""Offline evaluation: how well would each method have predicted what customers really bought next?

Rolling origin: the last ``folds x test_days`` days before the newest event are cut into ``folds`` consecutive test
windows. Each window is predicted from the events *before* it only (tastes, co-occurrence, popularity); its test set
is the purchases inside it. A *customer-window* is one customer in one window with history before it and at least one
test purchase of an indexed product they had not bought before (every method leaves a customer's earlier purchases
out, as ``recommend`` does by default). Metrics are pooled over all customer-windows.

Methods, computed in the same run on the same candidates:

- ``stylerec``: our blended ranking (:mod:`.ranking`) with the given weights and taste settings.
- ``popularity``: recent best-sellers — purchases in the 30 days before the window, ties by all-time interactions.
- ``cooccurrence``: item-to-item co-occurrence CF on the customer's weighted history (ties by popularity).
- ``visual_knn``: visual-only nearest neighbours: ``sum_h a_h cos_visual(h, p)`` (ties by popularity).
- ``learned`` (with ``learned=True``): the learned model alone, one trained per window on the events before it; the
  blend then includes it too, as ``recommend`` does once a model is trained.

Metrics @K: Recall, NDCG (binary relevance), HitRate, MRR, averaged over customer-windows; over the whole run:
catalog coverage (share of products recommended to anyone), Gini of exposure (0 = every product shown equally often,
1 = one product shown to all), novelty (mean ``-log2`` of a recommended product's share of training interactions,
Laplace smoothed; higher = less obvious). The cold-start view repeats Recall/HitRate on test purchases of products
that had no events at all before their window.

Uncertainty: 95% percentile-bootstrap intervals of every mean, and of the *paired* difference between ours and each
baseline (the same resampled customer-windows for both). Resampling draws whole customers with all their windows
(a cluster bootstrap): one customer's windows are not independent of each other, and treating them as such would
make the intervals too narrow.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np

from stylerec_desktop.core.catalog import Catalog, InteractionRow, format_ts, parse_ts
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress, map_progress, run_job
from stylerec_desktop.core.recommend.behaviour import Behaviour
from stylerec_desktop.core.recommend.index import StyleIndex, load_index
from stylerec_desktop.core.recommend.ranking import LearnedScorer, RankingWeights, recommend
from stylerec_desktop.core.recommend.taste import CustomerTaste, TasteEvent, TasteSettings, customer_taste

METHODS = ("stylerec", "popularity", "cooccurrence", "visual_knn")
BASELINES = METHODS[1:]
METRICS = ("ndcg", "recall", "hit_rate", "mrr")
_BESTSELLER_DAYS = 30
# Below this many test purchases, differences of a few hundredths of NDCG between methods are mostly noise.
MIN_TEST_PURCHASES = 200
BOOTSTRAP_SAMPLES = 1000


@dataclass(frozen=True)
class MethodMetrics:
    """One method's figures (all 0..1 except ``novelty``, in bits); ``ci`` the 95% interval of each of
    :data:`METRICS`."""

    ndcg: float
    recall: float
    hit_rate: float
    mrr: float
    coverage: float
    gini: float
    novelty: float
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class ColdStartMetrics:
    recall: float
    hit_rate: float


@dataclass(frozen=True)
class EvaluationReport:
    """``differences[baseline][metric]`` is ``(mean, lo, hi)`` of ours minus that baseline, paired."""

    k: int
    cutoff: datetime  # the first window's start
    test_days: int
    customers: int  # distinct customers behind the customer-windows
    test_purchases: int
    methods: dict[str, MethodMetrics]
    folds: int = 1
    customer_windows: int = 0
    cutoffs: tuple[datetime, ...] = ()
    differences: dict[str, dict[str, tuple[float, float, float]]] = field(default_factory=dict)
    warning: str | None = None
    cold_start_purchases: int = 0
    cold_start_customers: int = 0
    cold_start: dict[str, ColdStartMetrics] = field(default_factory=dict)

    def table(self) -> str:
        """The figures as an aligned text table, one row per method, each mean with its 95% interval."""
        lines = [f"{'method':<14}{'ndcg [95% CI]':>22}{'recall [95% CI]':>22}{'hit rate [95% CI]':>22}"
                 f"{'coverage':>10}{'gini':>7}{'novelty':>9}{'cold rec':>9}"]  # fmt: skip
        for method, m in self.methods.items():
            cold = self.cold_start.get(method)
            cells = "".join(f"{_with_interval(getattr(m, n), m.ci.get(n)):>22}" for n in ("ndcg", "recall", "hit_rate"))
            lines.append(
                f"{method:<14}{cells}{m.coverage:>10.2f}{m.gini:>7.2f}{m.novelty:>9.1f}"
                + (f"{cold.recall:>9.3f}" if cold else f"{'-':>9}")
            )
        return "\n".join(lines)

    def differences_table(self) -> str:
        """Ours minus each baseline on NDCG, paired, with the 95% interval and what it means."""
        lines = []
        for baseline, diff in self.differences.items():
            mean, lo, hi = diff["ndcg"]
            verdict = "ahead" if lo > 0 else "behind" if hi < 0 else "no clear difference"
            lines.append(f"  vs {baseline:<13} {mean:+.3f} [{lo:+.3f}, {hi:+.3f}]  {verdict}")
        return "\n".join(lines)


def _with_interval(value: float, ci: tuple[float, float] | None) -> str:
    return f"{value:.3f}" if ci is None else f"{value:.3f} [{ci[0]:.3f},{ci[1]:.3f}]"


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


def cluster_bootstrap(
    values: np.ndarray, clusters: np.ndarray, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile-bootstrap interval of the mean of ``values`` ``(n, m)`` (m statistics at once), resampling whole
    ``clusters`` ``(n,)`` (e.g. customers) with replacement. Returns ``(lo, hi)``, each ``(m,)``.

    Each resample draws as many clusters as there are, with replacement; its mean is the sum of the drawn clusters'
    values over the number of their rows (clusters may have different sizes)."""
    means = bootstrap_means(values, clusters, samples, seed)
    tail = (1.0 - level) / 2.0 * 100.0
    return np.percentile(means, tail, axis=0), np.percentile(means, 100.0 - tail, axis=0)


def bootstrap_means(
    values: np.ndarray, clusters: np.ndarray, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0
) -> np.ndarray:
    """``(samples, m)``: the column means of ``values`` ``(n, m)`` in each cluster-bootstrap resample (see
    :func:`cluster_bootstrap`); the same draws for every column, so statistics of several columns (a ratio of two
    methods' means) can be taken per resample."""
    values = np.asarray(values, np.float64)
    if values.ndim == 1:
        values = values[:, None]
    _, cluster_of = np.unique(clusters, return_inverse=True)
    n_clusters = int(cluster_of.max()) + 1
    sums = np.zeros((n_clusters, values.shape[1]))
    np.add.at(sums, cluster_of, values)
    sizes = np.bincount(cluster_of, minlength=n_clusters).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=samples).astype(np.float64)
    return (draws @ sums) / np.maximum(draws @ sizes, 1.0)[:, None]


# -- folds -----------------------------------------------------------------------------------------------------


@dataclass
class Fold:
    """One test window ``[cutoff, end)``: the index with behaviour from the events before ``cutoff`` only, each
    customer's events before it (``history``, by internal id), and the rows they bought inside it (``test``)."""

    cutoff: datetime
    end: datetime
    index: StyleIndex
    history: dict[int, list[TasteEvent]]
    test: dict[int, set[int]]
    bestsellers: np.ndarray
    names: dict[int, str]
    learned: LearnedScorer | None = None  # a learned model trained on the events before ``cutoff`` only


def window_cutoffs(newest: datetime, folds: int, test_days: int) -> list[datetime]:
    """Starts of ``folds`` consecutive ``test_days`` windows that end just after ``newest``, oldest first."""
    return [newest + timedelta(seconds=1) - timedelta(days=test_days * (folds - f)) for f in range(folds)]


def make_folds(catalog: Catalog, folds: int, test_days: int, index: StyleIndex | None = None) -> list[Fold]:
    """The rolling-origin folds of ``catalog`` (see the module docstring), oldest first.

    The look blocks of ``index`` (loaded once when not given) do not depend on events; each fold gets its own
    behaviour (co-occurrence, popularity) built from the events before its cutoff.
    """
    if folds < 1:
        raise UserError(f"--folds must be at least 1, got {folds}.")
    if test_days < 1:
        raise UserError(f"--test-days must be at least 1, got {test_days}.")
    span = catalog.event_time_span()
    if span is None:
        raise UserError("The catalog has no events to evaluate against: import customer events first.")
    oldest, newest = parse_ts(span[0]), parse_ts(span[1])
    cutoffs = window_cutoffs(newest, folds, test_days)
    if cutoffs[0] <= oldest + timedelta(days=min(test_days, 7)):
        days = (newest - oldest).days
        raise UserError(
            f"The events span {days} days: {folds} test windows of {test_days} days leave too little history to "
            "learn from. Use fewer --folds or shorter --test-days."
        )
    if index is None:
        index = load_index(catalog, events_before=cutoffs[0])
    events = [(parse_ts(e.ts), e) for e in catalog.interactions()]
    names = catalog.customer_external_ids()
    ends = [*cutoffs[1:], newest + timedelta(seconds=1)]
    return [_fold(index, events, cutoff, end, names) for cutoff, end in zip(cutoffs, ends, strict=True)]


def _fold(
    index: StyleIndex,
    events: list[tuple[datetime, InteractionRow]],
    cutoff: datetime,
    end: datetime,
    names: dict[int, str],
) -> Fold:
    history: dict[int, list[TasteEvent]] = defaultdict(list)
    test: dict[int, set[int]] = defaultdict(set)
    before: list[InteractionRow] = []
    for ts, event in events:
        if ts < cutoff:
            history[event.customer_id].append((event.product_id, event.kind, ts, event.quantity))
            before.append(event)
        elif ts < end and event.kind == "purchase" and event.product_id in index.row_of:
            test[event.customer_id].add(index.row_of[event.product_id])
    behaviour = Behaviour.from_interactions(before, index.row_of, len(index), cutoff)
    fold_index = replace(index, behaviour=behaviour, as_of=cutoff)
    return Fold(cutoff, end, fold_index, dict(history), dict(test), _bestsellers(fold_index, before, cutoff), names)


def _bestsellers(index: StyleIndex, before: Iterable[InteractionRow], cutoff: datetime) -> np.ndarray:
    """Purchases in the ``_BESTSELLER_DAYS`` before ``cutoff`` per row, + all-time interactions / 1e3 (tie-break)."""
    since = cutoff - timedelta(days=_BESTSELLER_DAYS)
    recent = np.zeros(len(index), np.float64)
    for event in before:
        row = index.row_of.get(event.product_id)
        if row is not None and event.kind == "purchase" and parse_ts(event.ts) >= since:
            recent[row] += event.quantity
    counts = np.diff(index.behaviour.item_indptr).astype(np.float64)
    return recent + counts / 1e3


# -- scoring customer-windows ------------------------------------------------------------------------------------

Ranker = Callable[[Fold, CustomerTaste], list[int]]


@dataclass
class Unit:
    """One customer-window: its taste (as of the window's start) and the rows bought in the window."""

    fold: int
    customer: int
    taste: CustomerTaste
    relevant: set[int]


def units_of(folds: list[Fold], settings: TasteSettings | None = None) -> list[Unit]:
    """The customer-windows of ``folds`` with tastes built by ``settings``."""
    settings = settings or TasteSettings()
    units = []
    for f, fold in enumerate(folds):
        for customer, bought in sorted(fold.test.items()):
            name = fold.names.get(customer, str(customer))
            taste = customer_taste(fold.index, name, fold.history.get(customer, []), customer, settings, fold.cutoff)
            relevant = bought - set(taste.purchased_rows)
            if not taste.is_empty and relevant:
                units.append(Unit(f, customer, taste, relevant))
    return units


def ndcg_of(folds: list[Fold], units: list[Unit], ranker: Ranker, k: int) -> np.ndarray:
    """``(len(units),)`` NDCG@k of ``ranker`` on each customer-window (what the tuner maximises)."""
    return np.asarray([ranking_metrics(ranker(folds[u.fold], u.taste), u.relevant, k)[0] for u in units])


def baseline_rankers(k: int) -> dict[str, Ranker]:
    return {
        "popularity": lambda fold, taste: _top(fold.bestsellers, taste, k),
        "cooccurrence": lambda fold, taste: _top(_cooccurrence(fold.index, taste) + 1e-6 * fold.bestsellers, taste, k),
        "visual_knn": lambda fold, taste: _top(_visual_knn(fold.index, taste) + 1e-6 * fold.bestsellers, taste, k),
    }


def blend_ranker(k: int, weights: RankingWeights | None = None) -> Ranker:
    return lambda fold, taste: [r.row for r in recommend(fold.index, taste, k=k, weights=weights,
                                                         learned=fold.learned)]  # fmt: skip


def learned_ranker(k: int) -> Ranker:
    """The learned model alone (each fold's own model)."""

    def rank(fold: Fold, taste: CustomerTaste) -> list[int]:
        if fold.learned is None:  # a programmer error: train_fold_models fills every fold first
            raise RuntimeError(f"the window before {fold.cutoff} has no learned model; run train_fold_models first")
        return _top(fold.learned.scores(fold.index, taste).astype(np.float64), taste, k)

    return rank


def _training_step(window: int, windows: int, inner: Progress) -> Progress:
    """One step of training window ``window`` (0-based) of ``windows``, as a step of the whole training."""
    return Progress(window, windows, f"Training the learned model for window {window + 1}: {inner.message}")


def train_fold_models(catalog: Catalog, folds: list[Fold], seed: int = 0) -> Job[None]:
    """Train a learned model per fold on the events before its cutoff (none of its test window leaks in)."""
    from stylerec_desktop.core.recommend.learned import train_model_job

    for f, fold in enumerate(folds):
        job = train_model_job(catalog, before=fold.cutoff, seed=seed, device="auto")
        fold.learned = yield from map_progress(job, partial(_training_step, f, len(folds)))


# -- the evaluation --------------------------------------------------------------------------------------------


def evaluate(
    catalog: Catalog,
    test_days: int = 14,
    k: int = 10,
    weights: RankingWeights | None = None,
    taste_settings: TasteSettings | None = None,
    methods: tuple[str, ...] = METHODS,
    folds: int = 1,
    seed: int = 0,
    extra: dict[str, Ranker] | None = None,
    learned: bool = False,
) -> EvaluationReport:
    """Evaluate ``methods`` (and the ``extra`` rankers, by name) on ``catalog`` over ``folds`` rolling windows.
    ``learned`` trains a learned model per window (before it), used in the blend and reported alone."""
    return run_job(evaluate_job(catalog, test_days, k, weights, taste_settings, methods, folds, seed, extra, learned))


def evaluate_job(
    catalog: Catalog,
    test_days: int = 14,
    k: int = 10,
    weights: RankingWeights | None = None,
    taste_settings: TasteSettings | None = None,
    methods: tuple[str, ...] = METHODS,
    folds: int = 1,
    seed: int = 0,
    extra: dict[str, Ranker] | None = None,
    learned: bool = False,
) -> Job[EvaluationReport]:
    """:func:`evaluate` as a job (the GUI's Evaluate view): a step after reading the windows, one per learned model
    trained, and one before ranking every customer-window (that last stage runs to its end once started)."""
    if k < 1:
        raise UserError(f"--k must be at least 1, got {k}.")
    rankers: dict[str, Ranker] = {"stylerec": blend_ranker(k, weights), **baseline_rankers(k), **(extra or {})}
    unknown = [m for m in methods if m not in rankers]
    if unknown:
        raise UserError(f"Unknown evaluation method {unknown[0]!r}; use {', '.join(METHODS)}.")
    chosen = {m: rankers[m] for m in (*methods, *(extra or {}))}
    yield Progress(0, None, "Reading the catalog's history")
    fold_list = make_folds(catalog, folds, test_days)
    if learned:
        yield from train_fold_models(catalog, fold_list, seed)
        chosen["learned"] = learned_ranker(k)
    units = units_of(fold_list, taste_settings)
    if not units:
        raise UserError(
            f"No customer has both history before {fold_list[0].cutoff:%Y-%m-%d} and a new purchase after it; "
            "try other --test-days or --folds."
        )
    yield Progress(0, None, f"Ranking {len(units)} customer-windows with {len(chosen)} methods")
    return evaluate_units(fold_list, units, chosen, k, test_days, seed)


def one_blas_thread() -> Any:
    """A context in which numpy's BLAS runs on one thread. The evaluation and the tuner make thousands of small
    matrix products (one per customer-window and candidate); threads cost more than they give there, and on a busy
    machine OpenBLAS's spinning threads made them 3-10x slower."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def evaluate_units(
    folds: list[Fold],
    units: list[Unit],
    rankers: dict[str, Ranker],
    k: int,
    test_days: int,
    seed: int = 0,
    reference: str = "stylerec",
) -> EvaluationReport:
    """Run ``rankers`` on every customer-window and pool the figures (see the module docstring); ``differences``
    are ``reference`` minus each other ranker."""
    scores = {m: np.zeros((len(units), len(METRICS))) for m in rankers}
    n_items = len(folds[0].index)
    exposure = {m: np.zeros(n_items, np.int64) for m in rankers}
    cold_hits: dict[str, list[tuple[float, float]]] = {m: [] for m in rankers}
    cold_purchases = 0
    with one_blas_thread():
        for u, unit in enumerate(units):
            fold = folds[unit.fold]
            cold = ~fold.index.behaviour.has_events
            cold_relevant = {r for r in unit.relevant if cold[r]}
            cold_purchases += len(cold_relevant)
            for method, ranker in rankers.items():
                ranked = ranker(fold, unit.taste)
                scores[method][u] = ranking_metrics(ranked, unit.relevant, k)
                exposure[method][ranked] += 1
                if cold_relevant:
                    _, recall, hit, _ = ranking_metrics(ranked, cold_relevant, k)
                    cold_hits[method].append((recall, hit))
    customers = np.asarray([u.customer for u in units])
    novelty_bits = _novelty_bits(folds[-1].index)
    report_methods = {}
    for method in rankers:
        lo, hi = cluster_bootstrap(scores[method], customers, seed=seed)
        shown = exposure[method]
        mean_ndcg, mean_recall, mean_hit_rate, mean_mrr = (float(v) for v in scores[method].mean(axis=0))  # METRICS
        report_methods[method] = MethodMetrics(
            mean_ndcg,
            mean_recall,
            mean_hit_rate,
            mean_mrr,
            coverage=float((shown > 0).mean()),
            gini=gini(shown),
            novelty=float((shown * novelty_bits).sum() / max(shown.sum(), 1)),
            ci={name: (float(lo[i]), float(hi[i])) for i, name in enumerate(METRICS)},
        )
    differences = {}
    if reference in rankers:
        for baseline in rankers:
            if baseline == reference:
                continue
            diff = scores[reference] - scores[baseline]
            lo, hi = cluster_bootstrap(diff, customers, seed=seed)
            differences[baseline] = {
                name: (float(diff[:, i].mean()), float(lo[i]), float(hi[i])) for i, name in enumerate(METRICS)
            }
    test_purchases = sum(len(u.relevant) for u in units)
    cold_report = {m: ColdStartMetrics(*np.asarray(v).mean(axis=0).tolist()) for m, v in cold_hits.items() if v}
    return EvaluationReport(
        k=k,
        cutoff=folds[0].cutoff,
        test_days=test_days,
        customers=len(set(customers.tolist())),
        test_purchases=test_purchases,
        methods=report_methods,
        folds=len(folds),
        customer_windows=len(units),
        cutoffs=tuple(f.cutoff for f in folds),
        differences=differences,
        warning=_warning(test_purchases, len(set(customers.tolist()))),
        cold_start_purchases=cold_purchases,
        cold_start_customers=len(next(iter(cold_hits.values()), [])),
        cold_start=cold_report,
    )


def _warning(test_purchases: int, customers: int) -> str | None:
    if test_purchases >= MIN_TEST_PURCHASES:
        return None
    return (
        f"Only {test_purchases} test purchases from {customers} customers: below {MIN_TEST_PURCHASES}, differences "
        "between methods are mostly noise (see the intervals). Evaluate over more windows (--folds) or longer ones "
        "(--test-days), or wait for more history."
    )


def _top(scores: np.ndarray, taste: CustomerTaste, k: int) -> list[int]:
    """The ``k`` best rows by ``scores`` that the customer has not bought before."""
    scores = scores.astype(np.float64, copy=True)
    if taste.purchased_rows:
        scores[list(taste.purchased_rows)] = -np.inf
    take = min(k, len(scores))
    top = np.argpartition(-scores, take - 1)[:take]
    return top[np.argsort(-scores[top], kind="stable")].tolist()


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


def _interval(ci: tuple[float, float]) -> list[float]:
    return [ci[0], ci[1]]


def report_dict(report: EvaluationReport) -> dict[str, object]:
    """The CLI's ``--json`` object: ``{"k", "cutoff", "folds", "methods": {name: {metric: value, "ci": {...}}},
    "differences": {baseline: {metric: [mean, lo, hi]}}, "warning", ...}``."""
    methods = {}
    for name, m in report.methods.items():
        figures = {key: value for key, value in vars(m).items() if key != "ci"}
        figures["ci"] = {metric: _interval(ci) for metric, ci in m.ci.items() if metric in ("ndcg", "recall",
                                                                                            "hit_rate")}  # fmt: skip
        methods[name] = figures
    return {
        "k": report.k,
        "cutoff": format_ts(report.cutoff),
        "cutoffs": [format_ts(c) for c in report.cutoffs],
        "folds": report.folds,
        "test_days": report.test_days,
        "customers": report.customers,
        "customer_windows": report.customer_windows,
        "test_purchases": report.test_purchases,
        "methods": methods,
        "differences": {b: {m: list(v) for m, v in d.items()} for b, d in report.differences.items()},
        "warning": report.warning,
        "cold_start": {
            "test_purchases": report.cold_start_purchases,
            "customers": report.cold_start_customers,
            "methods": {name: vars(m) for name, m in report.cold_start.items()},
        },
    }
