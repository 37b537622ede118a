"""Recommendations on the built-in demo catalog, whose shoppers have hidden (pattern x palette) tastes.

One demo (160 products, 200 customers) is built and indexed for the module; that takes a minute or two on a
2-core CPU, hence ``slow``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stylerec_desktop.core.catalog import Catalog, CustomerRecord, EventRecord
from stylerec_desktop.core.demo import build_demo_catalog
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.recommend.evaluate import evaluate
from stylerec_desktop.core.recommend.indexing import index_catalog
from stylerec_desktop.core.recommend.service import IndexCache, recommend_for_customer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    catalog = run_job(build_demo_catalog(tmp_path_factory.mktemp("demo"), seed=7, n_products=160, n_customers=200))
    run_job(index_catalog(catalog, device="cpu"))
    yield catalog
    catalog.close()


def _look(catalog: Catalog, sku: str) -> tuple[str, str]:
    attributes = catalog.product_by_sku(sku).attributes
    return attributes["pattern"], attributes["palette"]


def test_a_striped_navy_buyer_gets_striped_or_navy_products_first(demo: Catalog) -> None:
    striped_navy = [p.sku for p in demo.products() if (p.attributes["pattern"], p.attributes["palette"]) ==
                    ("stripes", "nautical")]  # fmt: skip
    assert len(striped_navy) >= 2, "the demo should have a few striped nautical (navy) products"
    bought = striped_navy[: max(1, len(striped_navy) // 2)]
    demo.upsert_customers([CustomerRecord("NAVY-STRIPES", name="Test Shopper")])
    demo.add_events(
        [EventRecord("NAVY-STRIPES", sku, "purchase", datetime(2026, 6, 20 + i, 12, tzinfo=UTC))
         for i, sku in enumerate(bought)]
    )  # fmt: skip
    result = recommend_for_customer(demo, "NAVY-STRIPES", k=5, cache=IndexCache())
    looks = [_look(demo, rec.sku) for rec, _ in result.items]
    # mostly striped or navy; co-purchases of other shoppers (the behaviour signal) may bring one other product
    assert sum(pattern == "stripes" or palette == "nautical" for pattern, palette in looks) >= 4, looks
    # the other striped navy products lead the list
    unbought = set(striped_navy) - set(bought)
    assert {rec.sku for rec, _ in result.items[: len(unbought)]} == unbought
    # and each is explained by a striped navy purchase
    for _rec, why in result.items[: len(unbought)]:
        assert why.because and why.because[0].sku in bought and why.because[0].kind == "purchase"


def test_our_ranking_beats_every_baseline_on_ndcg(demo: Catalog) -> None:
    report = evaluate(demo, test_days=28, k=10)
    assert report.customers >= 30
    ours = report.methods["stylerec"].ndcg
    for baseline in ("popularity", "cooccurrence", "visual_knn"):
        assert ours > report.methods[baseline].ndcg, report.table()
