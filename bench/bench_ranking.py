"""Ranking quality on generated catalogs with different planted preferences: the evidence behind the defaults and
the tuner (issue 10).

    python bench/bench_ranking.py [--work DIR] [--customers 600] [--skip-tune]

Builds (or reuses, in ``--work``) two demo catalogs that differ only in what their shoppers' tastes follow —
``style`` (patterns and palettes, the original demo) and ``silhouette`` (product shapes, any colours) — indexes
them, and reports with 95% cluster-bootstrap intervals (4 rolling windows of 14 days, NDCG@10):

1. the default blend against the first defaults (fitted on the style demo), visual-only, and the baselines;
2. the taste split rule (``split_gain``) at 0.25 / 0.1 / 0.05: looks per customer and NDCG;
3. ``stylerec tune`` (3 validation windows, 2 held-out windows): tuned vs default vs baselines on the held-out
   windows, and tuned / default NDCG.
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
from stylerec_desktop.core.jobs import run_job  # noqa: E402
from stylerec_desktop.core.recommend.evaluate import (  # noqa: E402
    baseline_rankers,
    blend_ranker,
    cluster_bootstrap,
    make_folds,
    ndcg_of,
    units_of,
)
from stylerec_desktop.core.recommend.indexing import index_catalog  # noqa: E402
from stylerec_desktop.core.recommend.ranking import RankingWeights  # noqa: E402
from stylerec_desktop.core.recommend.taste import TasteSettings  # noqa: E402
from stylerec_desktop.core.recommend.tune import summary, tune_job  # noqa: E402

FIRST_DEFAULTS = RankingWeights(style=1.0, visual=0.5, colour=0.8, pattern=0.3, neighbour=0.0, behaviour=12.0,
                                popularity=0.2)  # fmt: skip
VISUAL_ONLY = RankingWeights(**{n: float(n == "visual") for n in RankingWeights().as_dict()})


def _catalog(work: Path, preference: str, customers: int) -> Catalog:
    folder = work / f"demo-{preference}-{customers}"
    if Catalog.exists(folder) and Catalog.open(folder).counts().products:
        catalog = Catalog.open(folder)
    else:
        catalog = run_job(build_demo_catalog(folder, seed=7, n_customers=customers, preference=preference))
    run_job(index_catalog(catalog, device="cpu"))
    return catalog


def _interval(values: np.ndarray, customers: np.ndarray) -> str:
    lo, hi = cluster_bootstrap(values, customers)
    return f"{values.mean():.3f} [{lo[0]:.3f}, {hi[0]:.3f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "ranking")
    parser.add_argument("--customers", type=int, default=600)
    parser.add_argument("--skip-tune", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    for preference in ("style", "silhouette"):
        catalog = _catalog(args.work, preference, args.customers)
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
        }
        scores |= {name: ndcg_of(folds, units, ranker, 10) for name, ranker in baseline_rankers(10).items()}
        for name, values in scores.items():
            print(f"  {name:<15} {_interval(values, customers)}")
        for name in ("first defaults", "visual only", "popularity", "cooccurrence", "visual_knn"):
            print(f"  default blend minus {name:<15} {_interval(scores['default blend'] - scores[name], customers)}")
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
        if not args.skip_tune:
            start = time.perf_counter()
            tuned = run_job(tune_job(catalog, folds=3, test_days=14, save=False))
            seconds = time.perf_counter() - start
            ratio = tuned.held_out["tuned"]["ndcg"] / max(tuned.held_out["default"]["ndcg"], 1e-9)
            print(f"  tune ({seconds:.0f} s): tuned / default NDCG on the held-out windows = {ratio:.2f}")
            print("    " + summary(tuned).replace("\n", "\n    "))
        catalog.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
