"""Ranking quality on generated catalogs with different planted preferences: the evidence behind the defaults and
the tuner (issue 10).

    python bench/bench_ranking.py [--work DIR] [--customers 600] [--skip-tune] [--tune-only]
                                  [--preferences style silhouette pattern] [--evidence-se 0]

Builds (or reuses, in ``--work``) demo catalogs that differ only in what their shoppers' tastes follow — ``style``
(patterns and palettes, the original demo), ``silhouette`` (product shapes, any colours) and ``pattern`` (patterns,
any colour or shape) — indexes them, and reports with 95% cluster-bootstrap intervals (4 rolling windows of 14 days,
NDCG@10):

1. the default blend against the first defaults (fitted on the style demo), visual-only, the baselines, and the
   *planted truth*: each shopper ranked by the generator's own purchase odds at the window's start (its hidden
   taste, the popularity and noise mix, the purchase funnel). No ranking learned from the events can expect to do
   better, so truth / default is the most a tuned blend could gain on that catalog;
2. the taste split rule (``split_gain``) at 0.25 / 0.1 / 0.05: looks per customer and NDCG;
3. the tuner's search (3 validation windows, 2 held-out windows, as ``stylerec tune``): tuned vs default vs the
   planted truth on the held-out windows, tuned / default and truth / default with 95% intervals (the ratio of
   the means in each bootstrap resample).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stylerec_desktop.core.catalog import Catalog  # noqa: E402
from stylerec_desktop.core.demo import build_demo_catalog  # noqa: E402
from stylerec_desktop.core.demo.assortment import plan_assortment  # noqa: E402
from stylerec_desktop.core.demo.shoppers import (  # noqa: E402
    NOISE_SHARE,
    POPULAR_SHARE,
    REFERENCE_TIME,
    TASTE_SHARE,
    WINDOW,
    affinity,
    invent_shoppers,
    popularity,
)
from stylerec_desktop.core.jobs import run_job  # noqa: E402
from stylerec_desktop.core.recommend.evaluate import (  # noqa: E402
    Fold,
    Ranker,
    _top,
    baseline_rankers,
    blend_ranker,
    bootstrap_means,
    cluster_bootstrap,
    make_folds,
    ndcg_of,
    units_of,
)
from stylerec_desktop.core.recommend.indexing import index_catalog  # noqa: E402
from stylerec_desktop.core.recommend.ranking import RankingWeights  # noqa: E402
from stylerec_desktop.core.recommend.taste import CustomerTaste, TasteSettings  # noqa: E402
from stylerec_desktop.core.recommend.tune import EVIDENCE_SE, search_job, summary  # noqa: E402

SEED, PRODUCTS = 7, 240

FIRST_DEFAULTS = RankingWeights(style=1.0, visual=0.5, colour=0.8, pattern=0.3, neighbour=0.0, behaviour=12.0,
                                popularity=0.2)  # fmt: skip
VISUAL_ONLY = RankingWeights(**{n: float(n == "visual") for n in RankingWeights().as_dict()})


def _catalog(work: Path, preference: str, customers: int) -> Catalog:
    folder = work / f"demo-{preference}-{customers}"
    if Catalog.exists(folder) and Catalog.open(folder).counts().products:
        catalog = Catalog.open(folder)
    else:
        catalog = run_job(build_demo_catalog(folder, seed=SEED, n_products=PRODUCTS, n_customers=customers,
                                             preference=preference))
    run_job(index_catalog(catalog, device="cpu"))
    return catalog


def _interval(values: np.ndarray, customers: np.ndarray) -> str:
    lo, hi = cluster_bootstrap(values, customers)
    return f"{values.mean():.3f} [{lo[0]:.3f}, {hi[0]:.3f}]"


def _ratio(numerator: np.ndarray, denominator: np.ndarray, customers: np.ndarray) -> str:
    """mean(numerator) / mean(denominator) with its 95% cluster-bootstrap interval (paired resamples)."""
    means = bootstrap_means(np.stack([numerator, denominator], axis=1), customers)
    ratios = means[:, 0] / np.maximum(means[:, 1], 1e-12)
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return f"{numerator.mean() / max(denominator.mean(), 1e-12):.2f}x [{lo:.2f}, {hi:.2f}]"


def truth_ranker(preference: str, customers: int, k: int = 10) -> Ranker:
    """Each demo shopper's products by the generator's own purchase odds at the window's start (see
    ``core/demo/shoppers.py``: choice mix x in stock x the chance a view ends in a purchase)."""
    products = plan_assortment(SEED, PRODUCTS)
    shoppers = {s.customer_id: s for s in invent_shoppers(SEED, customers, products, preference)}
    popular = popularity(SEED, len(products))
    in_stock = np.asarray([p.in_stock for p in products], np.float64)

    def rank(fold: Fold, taste: CustomerTaste) -> list[int]:
        progress = float(np.clip((fold.cutoff - (REFERENCE_TIME - WINDOW)) / WINDOW, 0.0, 1.0))
        a = affinity(shoppers[taste.customer_id], products, progress)
        liked = a**2 * popular**0.3
        chosen = TASTE_SHARE * liked / liked.sum() + POPULAR_SHARE * popular + NOISE_SHARE / len(products)
        bought = chosen * in_stock * (0.02 + 0.2 * a + 0.08 * (0.04 + 0.36 * a))  # cart (with a like) -> buy
        scores = np.full(len(fold.index), -1.0)
        for product, odds in zip(products, bought, strict=True):
            row = fold.index.row_of_sku.get(product.sku)
            if row is not None:
                scores[row] = odds
        return _top(scores, taste, k)

    return rank


def _tune_report(catalog: Catalog, preference: str, customers: int, evidence_se: float) -> None:
    """The tuner's search as ``stylerec tune`` runs it (3 validation + 2 held-out windows of 14 days), then tuned,
    default and the planted truth on the held-out customer-windows, paired."""
    start = time.perf_counter()
    folds = make_folds(catalog, 5, 14)
    validation, held_out = folds[:3], folds[3:]
    tuned = run_job(search_job(validation, held_out, k=10, seed=0, test_days=14, evidence_se=evidence_se))
    seconds = time.perf_counter() - start
    units = units_of(held_out)
    tuned_units = {(u.fold, u.customer): u for u in units_of(held_out, tuned.taste)}
    units = [u for u in units if (u.fold, u.customer) in tuned_units]
    customers_of = np.asarray([u.customer for u in units])
    default = ndcg_of(held_out, units, blend_ranker(10), 10)
    mine = ndcg_of(held_out, [tuned_units[(u.fold, u.customer)] for u in units], blend_ranker(10, tuned.weights), 10)
    truth = ndcg_of(held_out, units, truth_ranker(preference, customers), 10)
    print(f"  tune search, evidence rule {evidence_se:g} SE ({seconds:.0f} s), held-out windows "
          f"({len(units)} customer-windows, {sum(len(u.relevant) for u in units)} purchases):")  # fmt: skip
    print(f"    tuned {_interval(mine, customers_of)}  default {_interval(default, customers_of)}  "
          f"planted truth {_interval(truth, customers_of)}")  # fmt: skip
    print(f"    tuned minus default {_interval(mine - default, customers_of)}")
    print(f"    tuned / default {_ratio(mine, default, customers_of)}   "
          f"planted truth / default {_ratio(truth, default, customers_of)}")  # fmt: skip
    print("    " + summary(tuned).replace("\n", "\n    "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "ranking")
    parser.add_argument("--customers", type=int, default=600)
    parser.add_argument("--preferences", nargs="+", default=["style", "silhouette", "pattern"])
    parser.add_argument("--skip-tune", action="store_true")
    parser.add_argument("--tune-only", action="store_true", help="only the tuner's report (part 3)")
    parser.add_argument("--evidence-se", type=float, default=EVIDENCE_SE,
                        help="the search's evidence rule (0, the default: take any gain)")  # fmt: skip
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    for preference in args.preferences:
        catalog = _catalog(args.work, preference, args.customers)
        if not args.tune_only:
            _quality_report(catalog, preference, args.customers)
        if not args.skip_tune:
            print(f"\n== {preference} demo: tune")
            _tune_report(catalog, preference, args.customers, args.evidence_se)
        catalog.close()
    return 0


def _quality_report(catalog: Catalog, preference: str, n_customers: int) -> None:
    folds = make_folds(catalog, 4, 14)
    units = units_of(folds)
    customers = np.asarray([u.customer for u in units])
    purchases = sum(len(u.relevant) for u in units)
    counts = catalog.counts()
    print(f"\n== {preference} demo: {counts.customers} customers, {counts.events} events; 4 windows of 14 days: "
          f"{purchases} test purchases, {len(units)} customer-windows; NDCG@10 [95% CI]")  # fmt: skip
    scores = {
        "default blend": ndcg_of(folds, units, blend_ranker(10), 10),
        "first defaults": ndcg_of(folds, units, blend_ranker(10, FIRST_DEFAULTS), 10),
        "visual only": ndcg_of(folds, units, blend_ranker(10, VISUAL_ONLY), 10),
        "planted truth": ndcg_of(folds, units, truth_ranker(preference, n_customers), 10),
    }
    scores |= {name: ndcg_of(folds, units, ranker, 10) for name, ranker in baseline_rankers(10).items()}
    for name, values in scores.items():
        print(f"  {name:<15} {_interval(values, customers)}")
    for name in ("first defaults", "visual only", "popularity", "cooccurrence", "visual_knn"):
        print(f"  default blend minus {name:<15} {_interval(scores['default blend'] - scores[name], customers)}")
    print(f"  planted truth / default blend {_ratio(scores['planted truth'], scores['default blend'], customers)}")
    print("  taste split rule:")
    base = None
    for gain in (0.25, 0.1, 0.05):
        settings = replace(TasteSettings(), split_gain=gain)
        split_units = units_of(folds, settings)
        looks = np.mean([len(u.taste.tastes) for u in split_units])
        values = ndcg_of(folds, split_units, blend_ranker(10), 10)
        base = values if base is None else base
        print(f"    split_gain {gain:<5} looks per customer {looks:.2f}  NDCG {_interval(values, customers)}  "
              f"minus split_gain 0.25 {_interval(values - base, customers)}")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
