"""Does the product group help the learned model? With and without its group token, on held-out windows.

    python bench/bench_groups.py [--work DIR] [--preferences style silhouette] [--folds 3] [--test-days 14]

The demo catalogs (built by ``bench_ranking.py`` in ``--work``) have no product groups; this copies each and gives
it the Google Merchant Center kind of group, *the same design in other colours*: one ``item_group_id`` per
(category, pattern), 2-10 variants each. The demo's shoppers were not generated from these groups (they follow
styles, silhouettes or patterns), so the groups carry only what a real feed's variants would: the design. For each
of ``--folds`` rolling windows a learned model is trained on the events before it, once with the group token
(``LearnedSettings.groups``) and once without; reported with 95% cluster-bootstrap intervals (whole customers
resampled), paired on the same customer-windows: NDCG@10 of the learned model alone and of the default blend with
it, and the difference with groups minus without.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stylerec_desktop.core.catalog import Catalog  # noqa: E402
from stylerec_desktop.core.jobs import run_job  # noqa: E402
from stylerec_desktop.core.recommend.evaluate import (  # noqa: E402
    blend_ranker,
    cluster_bootstrap,
    learned_ranker,
    make_folds,
    ndcg_of,
    units_of,
)
from stylerec_desktop.core.recommend.learned import LearnedSettings, train_model_job  # noqa: E402


def grouped_copy(source: Path, dest: Path) -> Catalog:
    """A copy of the catalog in ``source`` whose products are grouped by (category, pattern attribute)."""
    if not dest.exists():
        shutil.copytree(source, dest)
    catalog = Catalog.open(dest)
    products = catalog.products()
    catalog.upsert_products([
        replace(p, item_group_id=f"{p.category}-{p.attributes.get('pattern', '')}") for p in products
    ])  # fmt: skip
    return catalog


def _interval(values: np.ndarray, customers: np.ndarray) -> str:
    lo, hi = cluster_bootstrap(values, customers)
    return f"{values.mean():+.3f} [{lo[0]:+.3f}, {hi[0]:+.3f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "ranking")
    parser.add_argument("--preferences", nargs="+", default=["style", "silhouette"])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--test-days", type=int, default=14)
    args = parser.parse_args()
    for preference in args.preferences:
        source = args.work / f"demo-{preference}-600"
        if not source.exists():
            print(f"{source} is missing: run bench/bench_ranking.py first.")
            return 2
        catalog = grouped_copy(source, args.work / f"demo-{preference}-600-groups")
        rows = catalog.product_attribute_rows()
        sizes = np.unique([r.group for r in rows], return_counts=True)[1]
        folds = make_folds(catalog, args.folds, args.test_days)
        units = units_of(folds)
        customers = np.asarray([u.customer for u in units])
        scores: dict[str, np.ndarray] = {}
        start = time.perf_counter()
        for groups in (True, False):
            for fold in folds:
                settings = replace(LearnedSettings(), groups=groups)
                fold.learned = run_job(train_model_job(catalog, before=fold.cutoff, settings=settings, seed=0,
                                                       device="cpu"))  # fmt: skip
            name = "with groups" if groups else "without"
            scores[f"learned {name}"] = ndcg_of(folds, units, learned_ranker(10), 10)
            scores[f"blend {name}"] = ndcg_of(folds, units, blend_ranker(10), 10)
        seconds = time.perf_counter() - start
        print(f"\n== {preference} demo, grouped by (category, pattern): {len(sizes)} groups of {sizes.min()}-"
              f"{sizes.max()} products; {args.folds} windows of {args.test_days} days: {len(units)} customer-windows, "
              f"{sum(len(u.relevant) for u in units)} purchases; {2 * args.folds} trainings in {seconds:.0f} s")
        for name, values in scores.items():
            lo, hi = cluster_bootstrap(values, customers)
            print(f"  {name:<22} {values.mean():.3f} [{lo[0]:.3f}, {hi[0]:.3f}]")
        for what in ("learned", "blend"):
            diff = scores[f"{what} with groups"] - scores[f"{what} without"]
            print(f"  {what} with minus without groups {_interval(diff, customers)}")
        catalog.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
