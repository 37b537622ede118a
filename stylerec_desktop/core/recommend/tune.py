"""Tune the ranking for one catalog: the blend weights and the taste settings that best predict its own customers'
next purchases, checked on a later window that the search never saw.

The defaults in :class:`RankingWeights` and :class:`TasteSettings` are a starting point; which signals carry taste
differs between stores (on the generated demo, palettes and patterns; on a real retailer's photos, the visual look of
specific items). :func:`tune_job` cuts the last ``(folds + 1) x test_days`` days into consecutive windows (see
:mod:`.evaluate`): the first ``folds`` validate — each predicted from the events before it — and the search
maximises their pooled NDCG@k; the last ones are held out and report the chosen ranking against the defaults and
the baselines, with 95% intervals. The search is deterministic given its seed:

1. the defaults, each signal alone, and random weight vectors (log-uniform, some signals switched off);
2. coordinate steps on each weight (x0, x0.25, x0.5, x2, x4) from the best so far;
3. coordinate steps on the taste settings: half-life, event-kind weights, how readily a history splits into
   several looks (``split_gain``), and how several looks are combined (``aggregation``);
4. one more pass over the weights.

An evidence rule can make every step earn its place: with ``evidence_se`` > 0, the best candidate of a step (of the
starting blends, of one weight's values, of one taste setting's values) replaces the current ranking only when it
beats it on the validation windows by more than that many standard errors of the paired difference (clustered by
customer, since a customer's windows are not independent; :func:`paired_gain`). Without it the search takes any
gain, and it does fit noise: on a generated catalog whose shoppers buy by visual look alone (500 shoppers, ~800
validation purchases) it scored 0.063 on its validation windows, above what ranking by the planted truth scores
there (about 0.05), with a large weight on a block that is noise in that catalog. Measured on four catalogs
(BENCHMARKS.md, "Tuning on held-out windows"), the rule at 2 standard errors made the held-out gain over the
defaults more reliable (its interval above zero on two catalogs, none below) but not larger on average, and it gave
up the gain the plain search finds on the style demo; so :data:`EVIDENCE_SE` stays 0 by default (the plain search)
and ``stylerec tune --evidence-se 2`` asks for the stricter one. Either way the held-out check below guards what is
applied.

The result is kept only when it does at least as well as the defaults on the held-out windows; otherwise the
catalog keeps the defaults and the result says why. A catalog with too little history keeps the defaults too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from stylerec_desktop.core.catalog import Catalog, format_ts, parse_ts
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress
from stylerec_desktop.core.recommend.evaluate import (
    Fold,
    Unit,
    baseline_rankers,
    evaluate_units,
    learned_ranker,
    make_folds,
    one_blas_thread,
    ranking_metrics,
    train_fold_models,
    units_of,
)
from stylerec_desktop.core.recommend.ranking import RankingWeights, recommend
from stylerec_desktop.core.recommend.signals import SignalMemo
from stylerec_desktop.core.recommend.taste import CustomerTaste, TasteSettings, customer_taste

SETTING_NAME = "ranking"
# Fewer validation purchases than this and a search over a dozen numbers mostly fits noise.
MIN_VALIDATION_PURCHASES = 100
# The search scores at most this many customer-windows per candidate (a random, seeded subset): enough to rank
# candidates apart, and it bounds the time on large catalogs.
MAX_VALIDATION_UNITS = 1500
RANDOM_CANDIDATES = 24
# Memory the search may spend keeping each customer-window's weight-free signals between weight candidates (about
# 1.5x faster); a search over more customer-windows x products than fit recomputes them for every candidate.
MEMO_BYTES = 512 * 2**20
# How many standard errors of the paired validation difference the best candidate of a step must gain to replace
# the current one (0: any gain). See the module docstring for why the default is 0.
EVIDENCE_SE = 0.0
WEIGHT_STEPS = (0.0, 0.25, 0.5, 2.0, 4.0)
TASTE_CHOICES: dict[str, tuple[Any, ...]] = {
    "half_life_days": (14.0, 30.0, 60.0, 90.0, 180.0, 365.0),
    "split_gain": (0.02, 0.05, 0.1, 0.25, 1.0),
    "aggregation": ("best", "blend", "calibrated"),
    "purchase": (2.0, 5.0, 10.0),
    "view": (0.25, 1.0, 2.0),
}
# Re-tuning is suggested once the catalog has this many times the events it was tuned on.
RETUNE_GROWTH = 1.25


@dataclass(frozen=True)
class TunedRanking:
    """A ranking fitted to one catalog, with the evidence: ``held_out[method] = {"ndcg", "ci"}`` for ``tuned``,
    ``default`` and each baseline; ``differences[method] = [mean, lo, hi]`` of tuned minus it (NDCG, paired)."""

    weights: RankingWeights
    taste: TasteSettings
    fitted_at: datetime
    events: int
    newest_event: datetime
    folds: int
    test_days: int
    k: int
    seed: int
    validation: dict[str, float]
    held_out: dict[str, dict[str, Any]]
    differences: dict[str, list[float]]
    held_out_purchases: int
    validation_purchases: int
    candidates: int
    held_out_folds: int = 1
    applied: bool = True
    reason: str | None = None
    warning: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        taste = asdict(self.taste)
        taste["kind_weights"] = dict(self.taste.kind_weights)
        return {
            "weights": self.weights.as_dict(),
            "taste": taste,
            "held_out": self.held_out,
            "differences": self.differences,
            "validation": self.validation,
            "fitted_at": format_ts(self.fitted_at),
            "events": self.events,
            "newest_event": format_ts(self.newest_event),
            "folds": self.folds,
            "test_days": self.test_days,
            "k": self.k,
            "seed": self.seed,
            "held_out_purchases": self.held_out_purchases,
            "held_out_folds": self.held_out_folds,
            "validation_purchases": self.validation_purchases,
            "candidates": self.candidates,
            "applied": self.applied,
            "reason": self.reason,
            "warning": self.warning,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TunedRanking:
        taste = dict(data["taste"])
        defaults = RankingWeights().as_dict()
        weights = {name: float(data["weights"].get(name, 0.0)) for name in defaults}
        return cls(
            weights=RankingWeights(**weights),
            taste=TasteSettings(**taste),
            fitted_at=parse_ts(data["fitted_at"]),
            events=int(data["events"]),
            newest_event=parse_ts(data["newest_event"]),
            folds=int(data["folds"]),
            test_days=int(data["test_days"]),
            k=int(data["k"]),
            seed=int(data["seed"]),
            validation=dict(data["validation"]),
            held_out=dict(data["held_out"]),
            differences=dict(data["differences"]),
            held_out_purchases=int(data["held_out_purchases"]),
            held_out_folds=int(data.get("held_out_folds", 1)),
            validation_purchases=int(data["validation_purchases"]),
            candidates=int(data["candidates"]),
            applied=bool(data.get("applied", True)),
            reason=data.get("reason"),
            warning=data.get("warning"),
        )

    def retune_hint(self, events_now: int) -> str | None:
        """A sentence suggesting to tune again when the catalog has grown well past what this was fitted on."""
        if events_now >= RETUNE_GROWTH * max(self.events, 1):
            return (
                f"The ranking was tuned on {self.events} events on {self.fitted_at:%Y-%m-%d}; the catalog now has "
                f"{events_now}. Tune it again to fit the new history (stylerec tune, or Tune for this catalog)."
            )
        return None


# -- storage ---------------------------------------------------------------------------------------------------


def stored_ranking(catalog: Catalog) -> TunedRanking | None:
    """The tuned ranking stored in ``catalog`` (None when it was never tuned or was reset). A stored value this
    version cannot read counts as absent: the defaults apply and tuning again replaces it."""
    found = catalog.setting(SETTING_NAME)
    if found is None:
        return None
    try:
        return TunedRanking.from_dict(found[0])
    except (KeyError, TypeError, ValueError):
        return None


def ranking_settings(catalog: Catalog) -> tuple[RankingWeights, TasteSettings]:
    """The weights and taste settings ``recommend`` uses for ``catalog``: its tuned ones when they were applied,
    else the defaults."""
    tuned = stored_ranking(catalog)
    if tuned is None or not tuned.applied:
        return RankingWeights(), TasteSettings()
    return tuned.weights, tuned.taste


def save_ranking(catalog: Catalog, tuned: TunedRanking) -> None:
    catalog.set_setting(SETTING_NAME, tuned.to_dict())


def reset_ranking(catalog: Catalog) -> bool:
    """Forget the tuned ranking (the defaults apply again); True when there was one."""
    had = catalog.setting(SETTING_NAME) is not None
    catalog.set_setting(SETTING_NAME, None)
    return had


# -- the search ------------------------------------------------------------------------------------------------


def _taste_with(settings: TasteSettings, name: str, value: Any) -> TasteSettings:
    if name in ("purchase", "view"):
        return replace(settings, kind_weights={**settings.kind_weights, name: value})
    return replace(settings, **{name: value})


def _taste_key(settings: TasteSettings) -> tuple:
    return (
        settings.half_life_days, settings.split_gain, settings.aggregation, settings.max_tastes, settings.min_share,
        tuple(sorted(settings.kind_weights.items())),
    )  # fmt: skip


def paired_gain(candidate: np.ndarray, current: np.ndarray, customers: np.ndarray) -> tuple[float, float]:
    """Mean of ``candidate - current`` (per customer-window values, ``(n,)`` each) and its standard error,
    clustered by ``customers`` ``(n,)``: the sums of a customer's rows vary together, so the error is computed over
    customers (the CR0 sandwich estimator), not over rows."""
    diff = np.asarray(candidate, np.float64) - np.asarray(current, np.float64)
    n = len(diff)
    if n == 0:
        return 0.0, 0.0
    mean = float(diff.mean())
    _, cluster_of = np.unique(customers, return_inverse=True)
    sums = np.bincount(cluster_of, weights=diff)
    sizes = np.bincount(cluster_of).astype(np.float64)
    return mean, float(np.sqrt(np.sum((sums - mean * sizes) ** 2)) / n)


class _Search:
    """Validation NDCG of (weights, taste settings) candidates per customer-window, with tastes cached per taste
    settings, and the evidence rule that decides whether a candidate replaces the current best."""

    def __init__(self, folds: list[Fold], units: list[Unit], k: int, evidence_se: float = EVIDENCE_SE) -> None:
        self.folds, self.units, self.k = folds, units, k
        self.customers = np.asarray([u.customer for u in units])
        self.evidence_se = evidence_se
        self._tastes: dict[tuple, list[CustomerTaste]] = {}
        # Each unit's weight-free signals under the taste settings scored last (weight candidates differ only in
        # the blend), where they fit in MEMO_BYTES: two dense signals of every product per unit.
        products = max((len(fold.index) for fold in folds), default=0)
        self._memo_fits = len(units) * products * 16 <= MEMO_BYTES
        self._memos: tuple[tuple, list[SignalMemo]] | None = None
        self._values: dict[tuple, np.ndarray] = {}
        self.evaluated = 0

    def tastes(self, settings: TasteSettings) -> list[CustomerTaste]:
        key = _taste_key(settings)
        if key not in self._tastes:
            self._tastes[key] = [
                customer_taste(self.folds[u.fold].index, u.taste.customer_id, self.folds[u.fold].history.get(
                    u.customer, []), u.customer, settings, self.folds[u.fold].cutoff)
                for u in self.units
            ]  # fmt: skip
        return self._tastes[key]

    def values(self, weights: RankingWeights, settings: TasteSettings) -> np.ndarray:
        """``(units,)`` NDCG@k of the candidate on each validation customer-window."""
        key = (tuple(weights.as_dict().values()), _taste_key(settings))
        if key not in self._values:
            with one_blas_thread():
                self._values[key] = self._ndcg(weights, settings)
            self.evaluated += 1
        return self._values[key]

    def score(self, weights: RankingWeights, settings: TasteSettings) -> float:
        return float(self.values(weights, settings).mean())

    def beats(self, candidate: np.ndarray, current: np.ndarray) -> bool:
        """Whether ``candidate`` gains more than ``evidence_se`` standard errors over ``current``."""
        mean, se = paired_gain(candidate, current, self.customers)
        return mean > self.evidence_se * se + 1e-9

    def _ndcg(self, weights: RankingWeights, settings: TasteSettings) -> np.ndarray:
        if not any(v > 0 for v in weights.as_dict().values()):
            return np.full(len(self.units), -1.0)
        tastes = self.tastes(settings)
        memos: list[SignalMemo] | list[None] = [None] * len(self.units)
        if self._memo_fits:
            key = _taste_key(settings)
            if self._memos is None or self._memos[0] != key:
                self._memos = (key, [SignalMemo() for _ in self.units])
            memos = self._memos[1]
        return np.asarray([
            ranking_metrics([r.row for r in recommend(self.folds[u.fold].index, taste, k=self.k, weights=weights,
                                                      learned=self.folds[u.fold].learned, memo=memo)],
                            u.relevant, self.k)[0]
            for u, taste, memo in zip(self.units, tastes, memos, strict=True)
        ])  # fmt: skip


def _random_weights(rng: np.random.Generator, names: list[str]) -> RankingWeights:
    values = np.exp(rng.uniform(np.log(0.05), np.log(10.0), len(names)))
    values[rng.random(len(names)) < 0.3] = 0.0
    chosen = {n: float(round(v, 3)) for n, v in zip(names, values, strict=True)}
    return RankingWeights(**{n: chosen.get(n, 0.0) for n in RankingWeights().as_dict()})


def _weight_candidates(best: RankingWeights, name: str) -> list[RankingWeights]:
    value = best.as_dict()[name]
    if value == 0:
        positive = [v for v in best.as_dict().values() if v > 0]
        scale = float(np.median(positive)) if positive else 1.0
        options = [0.25 * scale, scale, 3.0 * scale]
    else:
        options = [value * step for step in WEIGHT_STEPS]
    return [replace(best, **{name: float(round(v, 4))}) for v in options if v != value]


def tune_job(
    catalog: Catalog,
    folds: int = 3,
    test_days: int = 14,
    k: int = 10,
    seed: int = 0,
    save: bool = True,
    held_out_folds: int = 2,
    learned: bool | None = None,
    evidence_se: float = EVIDENCE_SE,
) -> Job[TunedRanking]:
    """Search the ranking settings for ``catalog`` (see the module docstring) on ``folds`` validation windows and
    check the result on the ``held_out_folds`` windows after them; stores the result when ``save``.

    ``learned`` tunes the learned model's weight too, with a model trained for every window on the events before it
    (slower: one training per window); left None, it does so when the catalog has a trained model, since
    ``recommend`` then uses one. ``evidence_se``: the search's evidence rule (see the module docstring).

    Raises :class:`UserError` when the catalog has too little history to tune on (the defaults stay)."""
    if held_out_folds < 1:
        raise UserError(f"--held-out must be at least 1 window, got {held_out_folds}.")
    if not evidence_se >= 0:
        raise UserError(f"--evidence-se must be 0 or more standard errors, got {evidence_se}.")
    yield Progress(0, None, "Reading the catalog's history")
    all_folds = make_folds(catalog, folds + held_out_folds, test_days)
    validation, held_out = all_folds[:folds], all_folds[folds:]
    if learned is None:
        from stylerec_desktop.core.recommend.learned import model_path

        learned = model_path(catalog).is_file()
    if learned:
        yield from train_fold_models(catalog, all_folds, seed)
    result = yield from search_job(validation, held_out, k=k, seed=seed, test_days=test_days, evidence_se=evidence_se)
    result = replace(result, events=catalog.counts().events)
    if save:
        save_ranking(catalog, result)
    return result


def search_job(
    validation: list[Fold],
    held_out: Fold | list[Fold],
    k: int = 10,
    seed: int = 0,
    test_days: int = 14,
    random_candidates: int = RANDOM_CANDIDATES,
    evidence_se: float = EVIDENCE_SE,
) -> Job[TunedRanking]:
    """The search itself on prepared folds (see the module docstring); ``events`` of the result is left 0.
    ``random_candidates`` random blends are tried besides the defaults and the single signals; a candidate replaces
    the current best only when it gains more than ``evidence_se`` standard errors (0: any gain)."""
    held_out = held_out if isinstance(held_out, list) else [held_out]
    units = units_of(validation)
    purchases = sum(len(u.relevant) for u in units)
    if purchases < MIN_VALIDATION_PURCHASES:
        raise UserError(
            f"Too little history to tune on: the {len(validation)} validation windows of {test_days} days hold "
            f"{purchases} new purchases (at least {MIN_VALIDATION_PURCHASES} are needed). The default ranking stays; "
            "try more --folds or longer --test-days, or tune once more purchases are imported."
        )
    rng = np.random.default_rng(seed)
    if len(units) > MAX_VALIDATION_UNITS:
        keep = np.sort(rng.choice(len(units), MAX_VALIDATION_UNITS, replace=False))
        units = [units[i] for i in keep]
    search = _Search(validation, units, k, evidence_se)
    # A signal nobody can compute here (no learned model for these windows) is left at 0, not searched.
    names = [n for n in RankingWeights().as_dict() if n != "learned" or validation[0].learned is not None]
    weight_steps = 2 * len(names) * (len(WEIGHT_STEPS) - 1)
    taste_steps = sum(len(v) - 1 for v in TASTE_CHOICES.values())
    planned = 1 + len(names) + random_candidates + weight_steps + taste_steps
    default_weights, default_taste = RankingWeights(), TasteSettings()

    def progress(stage: str) -> Progress:
        return Progress(min(search.evaluated, planned - 1), planned, f"{stage}: {search.evaluated} rankings tried")

    best_w, best_t = default_weights, default_taste
    best = search.values(best_w, best_t)

    def step(options: list[tuple[RankingWeights, TasteSettings]], stage: str) -> Job[None]:
        """Score ``options`` and move to the best of them if it beats the current ranking on the evidence rule
        (the best of a group, not the first to pass: which comes first is arbitrary)."""
        nonlocal best, best_w, best_t
        scored = []
        for weights, taste in options:
            scored.append((search.values(weights, taste), weights, taste))
            yield progress(stage)
        if scored:
            values, weights, taste = max(scored, key=lambda c: float(c[0].mean()))
            if search.beats(values, best):
                best, best_w, best_t = values, weights, taste

    starts = [RankingWeights(**{n: float(n == name) for n in RankingWeights().as_dict()}) for name in names]
    starts += [_random_weights(rng, names) for _ in range(random_candidates)]
    yield from step([(candidate, best_t) for candidate in starts], "Trying blends")

    def weight_pass() -> Job[None]:
        for name in names:
            yield from step([(c, best_t) for c in _weight_candidates(best_w, name)], f"Adjusting the {name} weight")

    yield from weight_pass()
    for name, choices in TASTE_CHOICES.items():
        options = [(best_w, _taste_with(best_t, name, choice)) for choice in choices]
        yield from step(options, "Adjusting how history becomes taste")
    yield from weight_pass()

    yield Progress(planned - 1, planned, "Checking on the held-out window")
    checked = _held_out_report(held_out, best_w, best_t, k, test_days, seed)
    result = TunedRanking(
        weights=best_w,
        taste=best_t,
        fitted_at=datetime.now(UTC),
        events=0,
        newest_event=held_out[-1].end,
        held_out_folds=len(held_out),
        folds=len(validation),
        test_days=test_days,
        k=k,
        seed=seed,
        validation={"tuned": float(best.mean()), "default": search.score(default_weights, default_taste),
                    "customer_windows": len(units)},  # fmt: skip
        held_out=checked["held_out"],
        differences=checked["differences"],
        held_out_purchases=checked["purchases"],
        validation_purchases=purchases,
        candidates=search.evaluated,
        warning=checked["warning"],
    )
    if result.held_out["tuned"]["ndcg"] < result.held_out["default"]["ndcg"]:
        result = replace(
            result,
            applied=False,
            reason="The tuned ranking did worse than the defaults on the held-out window, so the defaults stay.",
        )
    yield Progress(planned, planned, "Tuned")
    return result


def _held_out_report(
    held_out: list[Fold], weights: RankingWeights, taste: TasteSettings, k: int, test_days: int,
    seed: int,
) -> dict[str, Any]:  # fmt: skip
    """Tuned vs the defaults vs the baselines on the held-out window, with intervals."""
    default_units = units_of(held_out)
    if not default_units:
        raise UserError(
            "The held-out window has no new purchase to check the tuned ranking on; try longer --test-days."
        )
    tuned_tastes: dict[tuple[int, int | None], CustomerTaste] = {
        (id(held_out[u.fold]), u.customer): customer_taste(
            held_out[u.fold].index, u.taste.customer_id, held_out[u.fold].history.get(u.customer, []), u.customer,
            taste, held_out[u.fold].cutoff)
        for u in default_units
    }  # fmt: skip

    def tuned_ranker(f: Fold, t: CustomerTaste) -> list[int]:
        own = tuned_tastes.get((id(f), t.internal_id), t)
        return [r.row for r in recommend(f.index, own, k=k, weights=weights, learned=f.learned)]

    def default_ranker(f: Fold, t: CustomerTaste) -> list[int]:
        return [r.row for r in recommend(f.index, t, k=k, learned=f.learned)]

    rankers = {"tuned": tuned_ranker, "default": default_ranker, **baseline_rankers(k)}
    if held_out[0].learned is not None:
        rankers["learned"] = learned_ranker(k)
    report = evaluate_units(held_out, default_units, rankers, k, test_days, seed, reference="tuned")
    return {
        "held_out": {name: {"ndcg": m.ndcg, "ci": list(m.ci["ndcg"])} for name, m in report.methods.items()},
        "differences": {name: list(d["ndcg"]) for name, d in report.differences.items()},
        "purchases": report.test_purchases,
        "warning": report.warning,
    }


def summary(tuned: TunedRanking) -> str:
    """The result as a few lines for a person."""
    weights = ", ".join(f"{n} {v:g}" for n, v in tuned.weights.as_dict().items())
    lines = [
        ("Tuned" if tuned.applied else "Not applied")
        + f" on {tuned.validation_purchases} purchases in {tuned.folds} windows of {tuned.test_days} days "
        f"({tuned.candidates} rankings tried); checked on the {tuned.held_out_folds * tuned.test_days} days after "
        f"them ({tuned.held_out_purchases} purchases), NDCG@{tuned.k} with 95% intervals:",
    ]
    for name, figures in tuned.held_out.items():
        lo, hi = figures["ci"]
        diff = tuned.differences.get(name)
        versus = f"   tuned minus it {diff[0]:+.3f} [{diff[1]:+.3f}, {diff[2]:+.3f}]" if diff else ""
        lines.append(f"  {name:<13} {figures['ndcg']:.3f} [{lo:.3f}, {hi:.3f}]{versus}")
    lines.append(f"Weights: {weights}")
    t = tuned.taste
    kinds = ", ".join(f"{n} {v:g}" for n, v in t.kind_weights.items())
    lines.append(f"Taste: half-life {t.half_life_days:g} days, split gain {t.split_gain:g}, looks combined by "
                 f"{t.aggregation!r}, event weights {kinds}")  # fmt: skip
    if tuned.reason:
        lines.append(tuned.reason)
    if tuned.warning:
        lines.append(f"warning: {tuned.warning}")
    return "\n".join(lines)

