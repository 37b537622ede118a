"""The neighbour signal, calibrated lists and explanations that name only what carries a score, on a synthetic
index whose looks are planted (no images, no networks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from stylerec_desktop.core.recommend.behaviour import Behaviour
from stylerec_desktop.core.recommend.explain import explain, material_signals
from stylerec_desktop.core.recommend.index import StyleIndex
from stylerec_desktop.core.recommend.ranking import RankingWeights, calibrated, recommend
from stylerec_desktop.core.recommend.signals import neighbour_signal
from stylerec_desktop.core.recommend.taste import TasteSettings, customer_taste

NOW = datetime(2026, 6, 1, tzinfo=UTC)
N = 200


def _index(seed: int = 0, groups: list[str] | None = None) -> StyleIndex:
    """Products in 10 look groups (style, visual and colours near a group centre), random patterns."""
    rng = np.random.default_rng(seed)
    group = np.arange(N) % 10
    style_centres, visual_centres = rng.normal(size=(10, 100)), rng.random((10, 1280)) * 2
    palettes = np.zeros((N, 5, 4), np.float32)
    colour_centres = rng.uniform([10, -60, -60], [90, 60, 60], (10, 5, 3))
    palettes[:, :, :3] = colour_centres[group] + rng.normal(0, 2, (N, 5, 3))
    palettes[:, :, 3] = 0.2
    return StyleIndex.from_features(
        product_ids=np.arange(1, N + 1), skus=[f"P{i:03d}" for i in range(N)],
        titles=[f"Product {i} (group {group[i]})" for i in range(N)], categories=["all"] * N, prices=[10.0] * N,
        in_stock=[True] * N, style=(style_centres[group] + 0.3 * rng.normal(size=(N, 100))).astype(np.float32),
        visual=(visual_centres[group] + 0.3 * rng.random((N, 1280))).astype(np.float32), palettes=palettes,
        pattern=rng.random((N, 20)).astype(np.float32), extractor="test", as_of=NOW, groups=groups,
    )  # fmt: skip


def _taste(index: StyleIndex, rows: list[int], settings: TasteSettings | None = None, kinds: list[str] | None = None):
    kinds = kinds or ["purchase"] * len(rows)
    events = [(int(index.product_ids[r]), kind, NOW - timedelta(days=i + 1), 1)
              for i, (r, kind) in enumerate(zip(rows, kinds, strict=True))]  # fmt: skip
    return customer_taste(index, "C1", events, internal_id=1, settings=settings, as_of=NOW)


def test_the_neighbour_signal_keeps_the_specific_items_that_the_mean_washes_out() -> None:
    index = _index()
    # a history spread over three different look groups: their mean resembles none of them
    history = [0, 1, 12, 23]
    taste = _taste(index, history, TasteSettings(max_tastes=1))
    signal = neighbour_signal(index, taste)
    group = np.arange(N) % 10
    in_groups = np.isin(group, [0, 1, 2, 3]) & ~np.isin(np.arange(N), history)
    # every unseen product of the groups they bought from outranks every product of the six other groups
    assert signal[in_groups].min() > signal[~np.isin(group, [0, 1, 2, 3])].max()
    # a product is not its own neighbour: the bought items score no higher than their group mates
    assert signal[0] <= signal[10] + 1.0


def test_recommend_with_the_neighbour_signal_alone_stays_with_the_bought_groups() -> None:
    index = _index()
    taste = _taste(index, [0, 11, 22], TasteSettings(max_tastes=1))
    only = RankingWeights(**{n: float(n == "neighbour") for n in RankingWeights().as_dict()})
    recs = recommend(index, taste, k=9, weights=only)
    assert {int(r.sku[1:]) % 10 for r in recs} <= {0, 1, 2}
    assert all(r.components["neighbour"] > 0 for r in recs)
    assert all(v == 0 for r in recs for n, v in r.components.items() if n != "neighbour")


def test_a_calibrated_list_gives_each_look_slots_by_its_share() -> None:
    ranked = np.arange(10)
    matched = np.array([0] * 8 + [1, 1] + [0] * (N - 10))

    class Look:
        def __init__(self, share: float) -> None:
            self.share = share

    class Taste:
        tastes = (Look(0.5), Look(0.5))

    assert calibrated(ranked, matched, Taste(), 4).tolist() == [0, 1, 8, 9]
    # a look with too few candidates leaves its slots to the best of the rest
    assert calibrated(ranked[:9], matched, Taste(), 4).tolist() == [0, 1, 2, 8]


def test_calibrated_aggregation_serves_both_looks_of_a_two_look_history() -> None:
    index = _index()
    rows = [0, 10, 20, 30, 40, 50, 1, 11]  # six of group 0, two of group 1
    taste = _taste(index, rows, TasteSettings(split_gain=0.02, min_share=0.1, max_tastes=2, aggregation="calibrated"))
    assert len(taste.tastes) == 2
    recs = recommend(index, taste, k=6, weights=RankingWeights(behaviour=0.0, popularity=0.0))
    groups = [int(r.sku[1:]) % 10 for r in recs]
    assert groups.count(1) >= 1 and groups.count(0) >= 3
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True)


def test_explanations_name_only_signals_that_carry_the_score() -> None:
    index = _index()
    rows = [0, 10, 21]
    taste = _taste(index, rows, TasteSettings(max_tastes=1))
    users = np.array([1, 1, 1, 2, 2], np.int64)
    items = np.array([0, 10, 21, 21, 31], np.int64)
    index.behaviour = Behaviour.from_pairs(users, items, np.ones(5, np.float32), N, np.ones(N, np.float32))
    looks_only = RankingWeights(behaviour=0.0, popularity=0.0, colour=0.0, pattern=0.0)
    for rec in recommend(index, taste, k=5, weights=looks_only):
        why = explain(index, taste, rec)
        assert "bought together" not in {r for b in why.because for r in b.reasons}
        assert "palette" not in {r for b in why.because for r in b.reasons}
        assert "often bought with" not in why.summary()
    # with the behaviour weight up, product 31 (bought with 21 by another shopper) is explained by that
    heavy = RankingWeights(style=0.1, visual=0.1, colour=0.0, pattern=0.0, neighbour=0.0, behaviour=20.0,
                           popularity=0.0)  # fmt: skip
    recs = {r.sku: r for r in recommend(index, taste, k=5, weights=heavy)}
    assert "P031" in recs and "behaviour" in material_signals(recs["P031"].components)
    why = explain(index, taste, recs["P031"])
    assert any("bought together" in b.reasons and b.sku == "P021" for b in why.because)
    # a signal worth less than a fifth of the positive terms is not material
    assert material_signals({"style": 1.0, "behaviour": 0.1, "popularity": -2.0}) == {"style"}


def test_look_reasons_come_from_the_matched_looks_members() -> None:
    index = _index()
    rows = [0, 10, 20, 1, 11, 21]  # two looks: group 0 and group 1
    taste = _taste(index, rows, TasteSettings(split_gain=0.02, min_share=0.1, max_tastes=2))
    assert len(taste.tastes) == 2
    recs = recommend(index, taste, k=10, weights=RankingWeights(behaviour=0.0, popularity=0.0, neighbour=0.0))
    for rec in recs:
        why = explain(index, taste, rec)
        members = {taste.items[i].sku for i in taste.tastes[rec.taste].members}
        for because in why.because:
            if {"style", "look"} & set(because.reasons):
                assert because.sku in members


def test_another_colour_of_something_they_bought_is_found_and_said() -> None:
    # products 0-2 are one dress in three colours, 3-4 another; the rest in no group
    groups = ["DRESS-A"] * 3 + ["DRESS-B"] * 2 + [""] * (N - 5)
    index = _index(groups=groups)
    taste = _taste(index, [0, 120], TasteSettings(max_tastes=1), kinds=["purchase", "view"])
    from stylerec_desktop.core.recommend.signals import group_signal

    signal = group_signal(index, taste)
    assert signal[1] == signal[2] > 0  # the other colours of the bought dress
    assert signal[0] == 0  # not another colour of itself
    assert signal[3] == signal[4] == 0 and signal[5:].max() == 0
    only = RankingWeights(**{n: float(n in ("group", "visual")) for n in RankingWeights().as_dict()})
    recs = {r.sku: r for r in recommend(index, taste, k=5, weights=only)}
    assert {"P001", "P002"} <= set(recs)
    why = explain(index, taste, recs["P001"])
    assert "another colour of Product 0" in why.summary()
    # without groups in the catalog the signal is 0 everywhere and the ranking is as before
    plain = _index()
    assert not group_signal(plain, _taste(plain, [0, 120])).any()
