"""Tastes, rankings, explanations and similar products on a small drawn catalog (5 patterns x 4 palettes x 2)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from recommend_support import T0, add_customer, build_catalog, draw_product

from stylerec_desktop.core.catalog import Catalog, ProductRecord
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.imaging import inspect_image
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.recommend.behaviour import Behaviour
from stylerec_desktop.core.recommend.explain import explain, palette_matches
from stylerec_desktop.core.recommend.index import StyleIndex, load_index
from stylerec_desktop.core.recommend.indexing import index_catalog
from stylerec_desktop.core.recommend.ranking import Filters, RankingWeights, recommend
from stylerec_desktop.core.recommend.service import taste_as_style
from stylerec_desktop.core.recommend.signals import SignalMemo
from stylerec_desktop.core.recommend.similar import similar_products
from stylerec_desktop.core.recommend.taste import CustomerTaste, customer_taste, events_from_history


def _look(sku: str) -> tuple[str, str]:
    pattern, palette, _variant = sku.split("-")
    return pattern, palette


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    folder = tmp_path_factory.mktemp("ranking")
    cat = build_catalog(folder, variants=2)
    # a product nobody has seen yet, that looks just like the navy stripes
    path = folder / "images" / "new-stripes-navy.png"
    draw_product("stripes", "navy", variant=2).save(path)
    cat.upsert_products(
        [ProductRecord("NEW-stripes-navy", "Navy stripes tee (new)", "tees", price=25.0, images=(inspect_image(path),))]
    )
    run_job(index_catalog(cat, device="cpu"))
    add_customer(cat, "NAVY", [("stripes-navy-0", "purchase", 10), ("stripes-navy-1", "purchase", 12)])
    add_customer(
        cat,
        "TWO",
        [("stripes-navy-0", "purchase", 3), ("stripes-navy-0", "view", 2), ("dots-pastel-0", "purchase", 20),
         ("dots-pastel-1", "like", 21), ("zigzag-earth-0", "view", 1)],
    )  # fmt: skip
    # other shoppers, so that co-occurrence and popularity exist: navy stripes go with navy checks
    for i in range(6):
        add_customer(cat, f"S{i}", [("stripes-navy-1", "purchase", 5 + i), ("checks-navy-0", "purchase", 6 + i)])
    for i in range(4):
        add_customer(cat, f"P{i}", [("solid-neon-0", "purchase", 30), ("dots-neon-1", "view", 31)])
    yield cat
    cat.close()


@pytest.fixture(scope="module")
def index(catalog: Catalog) -> StyleIndex:
    return load_index(catalog)


def _taste(catalog: Catalog, index: StyleIndex, customer_id: str) -> CustomerTaste:
    customer = catalog.customer(customer_id)
    return customer_taste(index, customer_id, events_from_history(catalog.customer_history(customer_id)), customer.id)


def test_a_striped_navy_buyer_gets_striped_or_navy_products_first(catalog: Catalog, index: StyleIndex) -> None:
    taste = _taste(catalog, index, "NAVY")
    recs = recommend(index, taste, k=6)
    looks = [_look(r.sku) if not r.sku.startswith("NEW") else ("stripes", "navy") for r in recs]
    assert all(pattern == "stripes" or palette == "navy" for pattern, palette in looks)
    # on looks alone the closest match (both pattern and palette) leads; with the defaults the navy checks that six
    # other stripe buyers also bought may overtake it
    looks_only = recommend(index, taste, k=1, weights=RankingWeights(behaviour=0.0, popularity=0.0))
    assert looks_only[0].sku == "NEW-stripes-navy"
    # already bought: not recommended again unless asked
    assert not {r.sku for r in recs} & {"stripes-navy-0", "stripes-navy-1"}
    again = recommend(index, taste, k=4, filters=Filters(include_purchased=True))
    assert {"stripes-navy-0", "stripes-navy-1"} <= {r.sku for r in again}


def test_a_memo_across_weight_settings_gives_the_same_lists_to_the_bit(catalog: Catalog, index: StyleIndex) -> None:
    """Tuning keeps each taste's weight-free signals in a SignalMemo between weight candidates: every list, score
    and component is what recommend computes without one."""
    settings = [RankingWeights(), RankingWeights(behaviour=0.0, popularity=0.0, neighbour=3.0),
                RankingWeights(style=0.0, visual=0.5, colour=4.0, group=2.0)]  # fmt: skip
    for customer in ("NAVY", "TWO", "S0"):
        taste, memo = _taste(catalog, index, customer), SignalMemo()
        for weights in settings * 2:  # the second round reads every signal from the memo
            assert recommend(index, taste, k=8, weights=weights, memo=memo) == recommend(index, taste, k=8,
                                                                                          weights=weights)
        assert {"looks", "neighbour", "behaviour", "group"} <= set(memo._values)


def test_a_cold_start_product_is_recommended_on_its_looks(catalog: Catalog, index: StyleIndex) -> None:
    recs = recommend(index, _taste(catalog, index, "NAVY"), k=3)
    new = [r for r in recs if r.sku == "NEW-stripes-navy"]
    assert new and new[0].cold_start
    assert new[0].components["behaviour"] == 0.0 and new[0].components["popularity"] == 0.0


def test_components_sum_to_the_score_and_behaviour_counts(catalog: Catalog, index: StyleIndex) -> None:
    taste = _taste(catalog, index, "NAVY")
    recs = recommend(index, taste, k=10)
    for r in recs:
        assert sum(r.components.values()) == pytest.approx(r.score, abs=1e-4)
    by_sku = {r.sku: r for r in recs}
    # navy checks were bought by the same shoppers as the navy stripes: co-occurrence lifts them
    assert by_sku["checks-navy-0"].components["behaviour"] > 0
    looks_only = recommend(index, taste, k=10, weights=RankingWeights(behaviour=0.0, popularity=0.0))
    rank = [r.sku for r in recs].index("checks-navy-0")
    assert rank <= [r.sku for r in looks_only].index("checks-navy-0")


def test_two_tastes_are_found_and_both_are_served(catalog: Catalog, index: StyleIndex) -> None:
    taste = _taste(catalog, index, "TWO")
    assert len(taste.tastes) == 2
    groups = [{_look(taste.items[i].sku) for i in t.members} for t in taste.tastes]
    assert {("stripes", "navy")} in groups or any(("stripes", "navy") in g for g in groups)
    assert all(len(g) >= 1 for g in groups)
    navy_group = next(g for g in groups if ("stripes", "navy") in g)
    assert ("dots", "pastel") not in navy_group
    recs = recommend(index, taste, k=8)
    palettes = {_look(r.sku)[1] for r in recs if not r.sku.startswith("NEW")}
    assert {"navy", "pastel"} <= palettes
    # each taste is a 100-d style vector the Style engine can take
    assert taste.style_vector.shape == (100,)
    whole, second = taste_as_style(taste), taste_as_style(taste, 1)
    assert whole.vector.shape == second.vector.shape == (100,) and "TWO" in second.label
    np.testing.assert_allclose(whole.vector, sum(t.share * t.style_vector for t in taste.tastes), rtol=1e-5, atol=1e-6)


def test_one_item_taste_is_that_items_style_vector(catalog: Catalog, index: StyleIndex) -> None:
    pid = catalog.product_by_sku("dots-earth-1").id
    taste = customer_taste(index, "solo", [(pid, "like", T0, 1)], as_of=T0 + timedelta(days=1))
    np.testing.assert_allclose(taste.style_vector, index.style_raw[index.row("dots-earth-1")], rtol=1e-5)


def test_explanations_point_to_the_history_items_that_drive_them(catalog: Catalog, index: StyleIndex) -> None:
    taste = _taste(catalog, index, "TWO")
    recs = {r.sku: r for r in recommend(index, taste, k=12)}
    stripes = explain(index, taste, recs["stripes-navy-1"])
    style_item = next(b for b in stripes.because if "style" in b.reasons)
    assert style_item.sku == "stripes-navy-0"
    assert style_item.kind == "purchase"  # the strongest of its events (it was viewed first)
    assert style_item.ts == T0 + timedelta(days=3)
    assert stripes.palette_sku == "stripes-navy-0" and stripes.palette_overlap > 0.5
    assert any(m.product_hex == "#182a5c" or m.delta_e < 5 for m in stripes.shared_colours)

    dots = explain(index, taste, recs["dots-pastel-1"])
    assert next(b for b in dots.because if "style" in b.reasons).sku == "dots-pastel-0"
    assert "dots-pastel-1" not in {b.sku for b in dots.because}  # a product is not its own reason
    assert "Pastel dots tee 0 they bought on" in dots.summary()


def test_palette_overlap_is_one_for_the_same_palette_and_zero_for_disjoint_ones() -> None:
    navy = np.array([[18.0, 12.0, -32.0, 0.6], [95.0, 0.0, -1.0, 0.4]] + [[0.0, 0.0, 0.0, 0.0]] * 3, np.float32)
    neon = np.array([[57.0, 80.0, -5.0, 0.5], [85.0, -60.0, 80.0, 0.5]] + [[0.0, 0.0, 0.0, 0.0]] * 3, np.float32)
    assert palette_matches(navy, navy)[0] == pytest.approx(1.0)
    assert palette_matches(navy, neon) == (0.0, ())


def test_filters(catalog: Catalog, index: StyleIndex) -> None:
    taste = _taste(catalog, index, "NAVY")
    basics = recommend(index, taste, k=5, filters=Filters(categories=("basics",)))
    assert basics and all(r.sku.startswith("solid-") for r in basics)
    cheap = recommend(index, taste, k=40, filters=Filters(max_price=25.0))
    assert cheap and all(index.prices[r.row] <= 25.0 for r in cheap)
    assert "NEW-stripes-navy" in {r.sku for r in cheap}
    dear = recommend(index, taste, k=40, filters=Filters(min_price=30.0))
    assert dear and all(r.sku.endswith("-1") for r in dear)
    with pytest.raises(UserError, match="category"):
        recommend(index, taste, filters=Filters(categories=("hats",)))


def test_diversity_spreads_the_list_over_more_looks(catalog: Catalog, index: StyleIndex) -> None:
    taste = _taste(catalog, index, "NAVY")
    plain = recommend(index, taste, k=6)
    diverse = recommend(index, taste, k=6, diversity=0.8)
    assert diverse[0].sku == plain[0].sku  # the best match still leads
    assert len({r.sku for r in diverse}) == 6
    assert len({_look(r.sku)[0] for r in diverse if not r.sku.startswith("NEW")}) > len(
        {_look(r.sku)[0] for r in plain if not r.sku.startswith("NEW")}
    )


def test_a_customer_without_history_gets_popular_products(catalog: Catalog, index: StyleIndex) -> None:
    taste = customer_taste(index, "nobody", [])
    assert taste.is_empty and taste.style_vector.shape == (100,)
    recs = recommend(index, taste, k=2)
    # the recent best seller leads: popularity is all there is to go on
    assert recs[0].row == int(np.argmax(index.behaviour.popularity))
    assert recs[0].components["popularity"] > 0


def test_similar_by_colour_and_by_style(index: StyleIndex) -> None:
    by_colour = similar_products(index, "stripes-navy-0", by="colour", k=5)
    assert all(_look(n.sku)[1] == "navy" for n in by_colour if not n.sku.startswith("NEW"))
    scores = [n.score for n in by_colour]
    assert scores == sorted(scores, reverse=True)
    # the style predictor's space is colour-heavy; the visual embedding sees the motif; the blend wants both
    by_style = similar_products(index, "dots-neon-0", by="style", k=3)
    assert all(_look(n.sku)[1] == "neon" for n in by_style)
    by_visual = similar_products(index, "dots-neon-0", by="visual", k=2)
    assert all(_look(n.sku)[0] == "dots" for n in by_visual)
    assert similar_products(index, "dots-neon-0", by="blend", k=1)[0].sku == "dots-neon-1"
    blend = similar_products(index, "checks-earth-0", by="blend", k=40, threshold=0.3)
    assert blend and all(n.score >= 0.3 for n in blend)
    assert "checks-earth-0" not in {n.sku for n in blend}
    with pytest.raises(UserError):
        similar_products(index, "no-such-sku")


def test_cooccurrence_matches_a_brute_force_computation() -> None:
    rng = np.random.default_rng(0)
    n_users, n_items = 30, 12
    dense = (rng.random((n_users, n_items)) < 0.3) * rng.integers(1, 5, (n_users, n_items))
    users, items = np.nonzero(dense)
    behaviour = Behaviour.from_pairs(
        users + 100, items, dense[users, items].astype(np.float32), n_items, np.zeros(n_items, np.float32)
    )
    history, weights = np.array([1, 4]), np.array([2.0, 0.5], np.float32)
    norms = np.linalg.norm(dense, axis=0)
    mask = np.ones(n_users, bool)
    mask[7] = False  # customer 107 is the one asking
    sim = (dense[mask].T @ dense[mask]) / np.maximum(np.outer(norms, norms), 1e-12)
    expected = weights @ sim[history]
    got = behaviour.cooccurrence(history, weights, exclude_customer=107)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert behaviour.similarity(1, 4) == pytest.approx((dense[:, 1] @ dense[:, 4]) / (norms[1] * norms[4]), rel=1e-5)


def test_the_index_knows_its_memory_and_rows(index: StyleIndex) -> None:
    assert len(index) == 41  # 40 drawn products (solid variants share an image) and the new one
    assert index.nbytes > index.looks.element_size() * index.looks.numel() > 0
    for name in ("style", "visual", "colour", "pattern"):
        # unit length, up to the storage precision (bfloat16 keeps 3 significant digits)
        np.testing.assert_allclose(np.linalg.norm(index.block(name), axis=1), 1.0, rtol=3e-3)
