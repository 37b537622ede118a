"""A customer's style taste, built from what they viewed, liked, put in their cart and bought.

Each history product gets a weight: ``sum over its events of kind_weight x (1 + ln quantity) x 0.5^(age / half_life)``
(view < like < cart < purchase by default; recent events count more). The taste is the weighted mean of those
products' descriptors. Customers often like more than one look (striped navy tees *and* floral pastel dresses);
averaging those would describe neither, so the history is clustered (weighted spherical k-means on style + colour,
k = 1..3, a split kept only when it explains the history clearly better) and each cluster is a :class:`StyleTaste`.

Every taste carries ``style_vector`` ``(100,)`` in the style predictor's own space: pass it to the Style engine as the
style to "restyle this product in this customer's taste".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from stylerec_desktop.core.catalog import HistoryItem
from stylerec_desktop.core.recommend.behaviour import DEFAULT_KIND_WEIGHTS, decay
from stylerec_desktop.core.recommend.index import COMPONENTS, StyleIndex, _unit

# (product id, event kind, when, quantity): one event of a customer's history.
TasteEvent = tuple[int, str, datetime, int]
_KIND_ORDER = {"view": 0, "like": 1, "cart": 2, "purchase": 3}


@dataclass(frozen=True)
class TasteSettings:
    """How history becomes taste. ``half_life_days``: age at which an event counts half. ``max_tastes``: most
    clusters shown. ``split_gain``: how much better (mean cosine to own centre) a split must fit to be kept."""

    kind_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS))
    half_life_days: float = 90.0
    max_tastes: int = 3
    # A split must raise the history's mean cosine to its taste centre by this much per extra taste. At 0.25 (fitted
    # on the first demo) almost nobody had two looks: on a real retailer's data 148 of 159 long, varied histories got
    # one taste, on the 600-shopper demos every customer did. At 0.1 the demos give 1.7-1.8 looks per customer with
    # NDCG@10 changes inside the noise (bench/bench_ranking.py, BENCHMARKS.md). `stylerec tune` fits it per catalog.
    split_gain: float = 0.1
    min_share: float = 0.15
    # How the ranking scores a product against several tastes: "best" (the taste that suits it best), "blend" (the
    # share-weighted mean over the tastes) or "calibrated" (as "best", and each taste gets slots in the list in
    # proportion to its share of the history).
    aggregation: str = "best"


@dataclass(frozen=True)
class TasteItem:
    """One product of the history: its strongest event (``kind``, latest ``ts`` of that kind), total ``weight`` and
    the taste cluster it belongs to."""

    row: int
    product_id: int
    sku: str
    title: str
    kind: str
    ts: datetime
    weight: float
    taste: int


@dataclass(frozen=True)
class StyleTaste:
    """One cluster of a customer's history. ``share`` 0..1 of the history's weight; ``looks`` ``(D,)`` the weighted
    mean of the members' index rows, each block re-normalised (a query for :mod:`.ranking`); ``style_vector``
    ``(100,)`` the weighted mean raw style vector (a Style engine input); ``members`` indexes into
    :attr:`CustomerTaste.items`."""

    share: float
    looks: np.ndarray
    style_vector: np.ndarray
    members: tuple[int, ...]


@dataclass(frozen=True)
class CustomerTaste:
    """Everything the ranking and the explanations need about one customer."""

    customer_id: str
    internal_id: int | None
    as_of: datetime
    items: tuple[TasteItem, ...]  # heaviest first
    tastes: tuple[StyleTaste, ...]  # biggest share first
    purchased_rows: frozenset[int]
    aggregation: str = "best"  # TasteSettings.aggregation

    @property
    def style_vector(self) -> np.ndarray:
        """``(100,)`` the whole history's weighted mean style vector (zeros when the history is empty)."""
        if not self.tastes:
            return np.zeros(100, np.float32)
        return np.sum([t.share * t.style_vector for t in self.tastes], axis=0).astype(np.float32)

    @property
    def is_empty(self) -> bool:
        return not self.items


def events_from_history(history: Iterable[HistoryItem]) -> list[TasteEvent]:
    return [(h.product_id, h.kind, h.ts, h.quantity) for h in history]


def customer_taste(
    index: StyleIndex,
    customer_id: str,
    events: Iterable[TasteEvent],
    internal_id: int | None = None,
    settings: TasteSettings | None = None,
    as_of: datetime | None = None,
) -> CustomerTaste:
    """The taste of one customer from their ``events`` (products not in the index are ignored)."""
    settings = settings or TasteSettings()
    as_of = as_of or index.as_of
    weight: dict[int, float] = {}
    strongest: dict[int, tuple[int, datetime, str]] = {}
    purchased: set[int] = set()
    for product_id, kind, ts, quantity in events:
        row = index.row_of.get(product_id)
        if row is None or ts > as_of:  # after "now": not part of this taste (e.g. the evaluation's test window)
            continue
        age = (as_of - ts).total_seconds() / 86400.0
        event_weight = (
            settings.kind_weights.get(kind, 0.0)
            * (1.0 + math.log(max(quantity, 1)))
            * float(decay(age, settings.half_life_days))
        )
        weight[row] = weight.get(row, 0.0) + event_weight
        key = (_KIND_ORDER.get(kind, -1), ts, kind)
        if row not in strongest or key[:2] > strongest[row][:2]:
            strongest[row] = key
        if kind == "purchase":
            purchased.add(row)
    rows = sorted((r for r in weight if weight[r] > 0), key=lambda r: -weight[r])
    if not rows:
        return CustomerTaste(customer_id, internal_id, as_of, (), (), frozenset(purchased), settings.aggregation)
    w = np.asarray([weight[r] for r in rows], np.float64)
    labels = _cluster(index, np.asarray(rows), w, settings)
    items = tuple(
        TasteItem(r, int(index.product_ids[r]), index.skus[r], index.titles[r], strongest[r][2], strongest[r][1],
                  float(weight[r]), int(labels[i]))
        for i, r in enumerate(rows)
    )  # fmt: skip
    tastes = []
    for label in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == label)
        tastes.append(_taste_of(index, np.asarray(rows)[members], w[members], w.sum(), tuple(members.tolist())))
    order = sorted(range(len(tastes)), key=lambda t: -tastes[t].share)
    remap = {old: new for new, old in enumerate(order)}
    items = tuple(TasteItem(**{**vars(i), "taste": remap[i.taste]}) for i in items)
    return CustomerTaste(
        customer_id, internal_id, as_of, items, tuple(tastes[t] for t in order), frozenset(purchased),
        settings.aggregation,
    )  # fmt: skip


def _taste_of(index: StyleIndex, rows: np.ndarray, w: np.ndarray, total: float, members: tuple[int, ...]) -> StyleTaste:
    looks = (index.rows(rows) * (w / w.sum())[:, None]).sum(axis=0)
    for name in COMPONENTS:
        part = index.blocks[name]
        looks[part] = _unit(looks[part])
    style = (index.style_raw[rows] * (w / w.sum())[:, None]).sum(axis=0)
    return StyleTaste(float(w.sum() / total), looks.astype(np.float32), style.astype(np.float32), members)


def _cluster(index: StyleIndex, rows: np.ndarray, w: np.ndarray, settings: TasteSettings) -> np.ndarray:
    """Taste label per history row: weighted spherical k-means on style + colour, the k that fits best after a
    penalty of ``split_gain`` per extra cluster; clusters under ``min_share`` of the weight are not allowed."""
    x = _unit(np.concatenate([index.rows(rows, "style"), index.rows(rows, "colour")], axis=1))
    share = w / w.sum()
    best_labels = np.zeros(len(rows), np.int64)
    best_fit = float((share * (x @ _unit((x * share[:, None]).sum(0)))).sum())
    for k in range(2, min(settings.max_tastes, len(rows)) + 1):
        labels = _kmeans(x, share, k)
        shares = np.bincount(labels, weights=share, minlength=k)
        if shares.min() < settings.min_share:
            continue
        centres = _unit(np.stack([(x[labels == c] * share[labels == c, None]).sum(0) for c in range(k)]))
        fit = float((share * (x * centres[labels]).sum(1)).sum())
        if fit - settings.split_gain * (k - 1) > best_fit:
            best_fit, best_labels = fit - settings.split_gain * (k - 1), labels
    return best_labels


def _kmeans(x: np.ndarray, share: np.ndarray, k: int, iterations: int = 20) -> np.ndarray:
    """Deterministic weighted spherical k-means: seeded with the heaviest item, then farthest-point."""
    seeds = [int(np.argmax(share))]
    for _ in range(1, k):
        closest = (x @ x[seeds].T).max(axis=1)
        seeds.append(int(np.argmin(closest)))
    centres = x[seeds]
    labels = np.zeros(len(x), np.int64)
    for step in range(iterations):
        new = np.argmax(x @ centres.T, axis=1)
        if step > 0 and np.array_equal(new, labels):
            break
        labels = new
        centres = np.stack(
            [_unit((x[labels == c] * share[labels == c, None]).sum(0)) if (labels == c).any() else centres[c]
             for c in range(k)]
        )  # fmt: skip
    return labels
