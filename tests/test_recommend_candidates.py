"""A big catalog's top-10 through its candidates (FAISS): the short list is ranked exactly as scoring every product
ranks those products, best-sellers within the filters are found without a pass over the catalog, and the signals
kept sparse are the dense ones."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from stylerec_desktop.core.recommend import candidates
from stylerec_desktop.core.recommend.behaviour import Behaviour
from stylerec_desktop.core.recommend.index import StyleIndex
from stylerec_desktop.core.recommend.ranking import (
    Filters,
    RankingWeights,
    candidate_mask,
    recommend,
    score_catalog,
)
from stylerec_desktop.core.recommend.signals import group_signal, group_signal_sparse
from stylerec_desktop.core.recommend.taste import CustomerTaste, customer_taste

pytestmark = pytest.mark.skipif(not candidates.available(), reason="FAISS is not installed (pip install "
                                "stylerec-desktop[large])")  # fmt: skip

NOW = datetime(2026, 6, 30, tzinfo=UTC)
N = 12_000
CASES = [{}, {"filters": Filters(categories=("dresses",), max_price=150.0, in_stock_only=True)}, {"diversity": 0.3}]


@pytest.fixture(scope="module")
def big() -> StyleIndex:
    """12,000 products in 40 look clusters, every third in a product group of up to four, 600 shoppers' events (so
    co-occurrence and popularity are not zero), and the candidate structure."""
    rng = np.random.default_rng(3)
    clusters = rng.integers(0, 40, N)
    style = (rng.normal(size=(40, 100)) * 2)[clusters] + rng.normal(size=(N, 100))
    visual = np.maximum(rng.normal(size=(40, 1280))[clusters] + rng.normal(size=(N, 1280)), 0)
    lab = rng.uniform(-50, 90, (40, 1, 3))[clusters] + rng.normal(scale=10, size=(N, 5, 3))
    palettes = np.concatenate([lab, rng.dirichlet(np.ones(5), N)[..., None]], 2)
    users = np.repeat(np.arange(600), 8)
    items = rng.integers(0, N, len(users))
    weights = rng.choice([1.0, 2.0, 5.0], len(users)).astype(np.float32)
    popularity = np.bincount(items, weights=weights, minlength=N).astype(np.float32)
    index = StyleIndex.from_features(
        product_ids=np.arange(1, N + 1), skus=[f"S{i}" for i in range(N)], titles=[f"T{i}" for i in range(N)],
        categories=["tees" if i % 4 else "dresses" for i in range(N)], prices=rng.uniform(5, 200, N).tolist(),
        in_stock=(rng.random(N) > 0.1).tolist(), style=style.astype(np.float32), visual=visual.astype(np.float32),
        palettes=palettes.astype(np.float32), pattern=rng.random((N, 20)).astype(np.float32), extractor="t",
        as_of=NOW, groups=[f"G{i // 4}" if i % 3 == 0 else "" for i in range(N)],
        behaviour=Behaviour.from_pairs(users, items, weights, N, popularity),
    )  # fmt: skip
    index.candidates = candidates.CandidateIndex.build(index)
    index.cluster = clusters  # type: ignore[attr-defined]
    return index


@pytest.fixture
def in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """Candidates from 1,000 products on (50,000 in the app), every allowed product scored below 300, and lists
    scaled down to the catalog (at the app's depths 12,000 products would be short-listed whole)."""
    monkeypatch.setattr(candidates, "ANN_MIN_PRODUCTS", 1000)
    monkeypatch.setattr(candidates, "EXACT_BELOW", 300)
    monkeypatch.setattr(candidates, "LOOK_DEPTH", 400)
    monkeypatch.setattr(candidates, "OTHER_DEPTH", 300)


def _tastes(index: StyleIndex, count: int) -> list[CustomerTaste]:
    """Customers 0..count-1 of the index's events, with histories of 6 products in two look clusters."""
    clusters = index.cluster  # type: ignore[attr-defined]
    rng = np.random.default_rng(4)
    tastes = []
    for c in range(count):
        rows = np.concatenate([rng.choice(np.flatnonzero(clusters == k), 3) for k in rng.choice(40, 2)])
        events = [(int(index.product_ids[r]), "purchase", NOW, 1) for r in rows]
        tastes.append(customer_taste(index, f"c{c}", events, internal_id=c))
    return tastes


def _exact(index: StyleIndex, taste: CustomerTaste, **case: object) -> list[tuple[str, float]]:
    kept, index.candidates = index.candidates, None
    try:
        return [(r.sku, r.score) for r in recommend(index, taste, k=10, **case)]  # type: ignore[arg-type]
    finally:
        index.candidates = kept


def test_the_candidates_are_ranked_as_scoring_every_product_ranks_them(big: StyleIndex, in_use: None) -> None:
    for taste in _tastes(big, 4):
        for case in CASES:
            filters = case.get("filters") or Filters()
            assert isinstance(filters, Filters)
            mask = candidate_mask(big, taste, filters)
            scored = score_catalog(big, taste, allowed=mask).rows
            assert scored is not None and mask[scored].all()
            assert len(scored) < 0.7 * mask.sum()  # a short list, not the catalog
            got = [(r.sku, r.score) for r in recommend(big, taste, k=10, **case)]  # type: ignore[arg-type]
            # The exact path (every product scored) with everything but the candidates filtered out.
            others = tuple(big.skus[r] for r in np.setdiff1d(np.flatnonzero(mask), scored))
            only = Filters(filters.categories, filters.min_price, filters.max_price, filters.in_stock_only,
                           exclude_skus=others)  # fmt: skip
            want = _exact(big, taste, **{**case, "filters": only})
            assert [s for s, _ in got] == [s for s, _ in want], case
            np.testing.assert_allclose([v for _, v in got], [v for _, v in want], rtol=1e-5, atol=1e-5)
    # A new customer (no history) gets the best-sellers, equal ones in the same order on both paths.
    new = customer_taste(big, "new", [], internal_id=10_000)
    assert [r.sku for r in recommend(big, new, k=10)] == [s for s, _ in _exact(big, new)]


def test_a_big_catalog_finds_the_exact_top10_and_the_best_sellers_within_the_filters(
    big: StyleIndex, in_use: None
) -> None:
    tastes = _tastes(big, 6)
    recall = [len({s for s, _ in _exact(big, t, **case)} & {r.sku for r in recommend(big, t, k=10, **case)}) / 10
              for t in tastes for case in CASES]  # type: ignore[arg-type]  # fmt: skip
    assert np.mean(recall) >= 0.95 and min(recall) >= 0.8, recall
    # Popularity weighted far above the looks: the top-10 is the best-selling dresses in stock, which the candidates
    # find by walking the popularity order (no pass over the catalog), as scoring every product does.
    heavy = RankingWeights(popularity=50.0, behaviour=0.0, group=0.0)
    filters = Filters(categories=("dresses",), in_stock_only=True)
    got = [r.sku for r in recommend(big, tastes[0], k=10, weights=heavy, filters=filters)]
    assert got == [s for s, _ in _exact(big, tastes[0], weights=heavy, filters=filters)]
    allowed = np.flatnonzero(candidate_mask(big, tastes[0], filters))
    best_sellers = allowed[np.argsort(-big.behaviour.popularity[allowed], kind="stable")[:10]]
    assert big.behaviour.popularity[[big.row_of_sku[s] for s in got]].min() >= big.behaviour.popularity[
        best_sellers].min()  # fmt: skip


def test_the_group_signal_of_many_groups_follows_its_definition(big: StyleIndex) -> None:
    # Two history items in one group, one alone in another, one in none: 4 x the share of the history's weight on
    # the *other* members of each product's group, from the group members only.
    rows = [0, 3, 300, 1]  # 0 and 3 make up group G0; 300 is in G75 (with 303); 1 is in no group
    events = [(int(big.product_ids[r]), kind, NOW, 1) for r, kind in zip(rows, ["purchase", "view", "cart", "like"],
                                                                          strict=True)]  # fmt: skip
    taste = customer_taste(big, "c", events, internal_id=0)
    weight = {i.row: i.weight for i in taste.items}
    total = sum(weight.values())
    expected = np.zeros(N, np.float32)
    for p in range(N):
        if big.group_codes[p] >= 0:
            share = sum(w for r, w in weight.items() if r != p and big.group_codes[r] == big.group_codes[p]) / total
            expected[p] = 4 * min(share, 1.0)
    np.testing.assert_allclose(group_signal(big, taste), expected, rtol=1e-6, atol=1e-7)
    where, values = group_signal_sparse(big, taste)
    assert sorted(where.tolist()) == [0, 3, 300, 303]  # the members of G0 and G75
    np.testing.assert_array_equal(values, group_signal(big, taste)[where])
