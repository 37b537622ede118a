"""Ranking products for one customer: a documented blend of seven signals, filters, and MMR diversity.

The score of product ``p`` is ``sum_c weight_c x signal_c(p)`` over

- ``style``, ``visual``, ``colour``, ``pattern``: cosine similarity of ``p``'s block of the index to the customer's
  taste (for a customer with several tastes, the taste that suits ``p`` best — a product need only match one of
  them — or, with ``TasteSettings.aggregation == "blend"``, the share-weighted mean over their tastes);
- ``neighbour``: how close ``p`` comes to *specific* items of the history (item-kNN), where the taste averages
  them away: ``(1/b) log sum_h a_h exp(b s(h, p))`` with ``a_h`` the history weights (normalised), ``s`` the mean of
  the style and visual blocks' cosines, each standardised over the catalog, and ``b = 2`` — a soft maximum: near
  the best-matching item's similarity when one item stands out, near the weighted mean when none does. Colour and
  pattern are left to their own signals: on a real retailer's photos a plain visual nearest-neighbour ranking found
  twice the purchases of the blend, and palettes and patterns alone found no more than best-sellers;
- ``group``: another variant (colour) of something in the history, by the catalog's product groups
  (``item_group_id``): ``4 x`` the share of the history's weight on the *other* members of ``p``'s group, 0..4
  (0 for a product in no group, or a catalog without groups);
- ``behaviour``: item-to-item co-occurrence of ``p`` with the customer's weighted history (all customers' events);
- ``popularity``: recency-weighted interactions of all customers with ``p``;
- ``learned``: the score of the catalog's learned model (:mod:`.learned`: BPR on its interactions with the products'
  looks and attributes as side information), when one has been trained; 0 otherwise.

Raw signals live on different scales (cosines of ReLU features sit near 0.8, co-occurrence is 0 for most products),
so each is standardised over the catalog (z-score) and softly bounded to +-4 (``4 tanh(z/4)``): a weight then means
the same for every signal and one heavy-tailed signal cannot drown the others. Cold-start products (no events at
all) get 0 — the catalog average — for ``popularity`` instead of a penalty, so they compete on their looks alone;
``behaviour`` is the history-weighted mean co-occurrence cosine, shrunk by the number of shoppers behind it and
scaled by 4 (no co-buyers = 0), so it adds evidence for co-bought products and takes none away.
The per-signal terms ``weight_c x signal_c`` are returned as the recommendation's ``components``.

Scoring is one ``(N, D) @ (D, 4T)`` matrix product plus O(N) numpy, so 100,000 products take milliseconds. From
50,000 products, with FAISS installed, the look and neighbour signals are computed only for a candidate short list
(:mod:`.candidates`) and the neighbour signal is standardised on a sample of the catalog, as the looks are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.recommend import candidates
from stylerec_desktop.core.recommend.controls import Filters, RankingWeights
from stylerec_desktop.core.recommend.index import COMPONENTS, StyleIndex
from stylerec_desktop.core.recommend.taste import CustomerTaste


class LearnedScorer(Protocol):
    """What the ranking needs of a learned model: ``(N,)`` scores of every index row for one customer."""

    def scores(self, index: StyleIndex, taste: CustomerTaste) -> np.ndarray: ...

SIGNALS = (*COMPONENTS, "neighbour", "group", "behaviour", "popularity", "learned")
# Co-occurrence resting on n shopper links counts n / (n + 10): one shared shopper is a tenth of the evidence.
BEHAVIOUR_SHRINKAGE = 10.0
_BOUND = 4.0
# Sharpness of the neighbour signal's soft maximum (on standardised similarities) and the history items it looks at.
NEIGHBOUR_SHARPNESS = 2.0
NEIGHBOUR_ITEMS = 64
NEIGHBOUR_BLOCKS = ("style", "visual")


@dataclass(frozen=True)
class Recommendation:
    """One ranked product. ``components`` maps each signal to its weighted, standardised term (they sum to
    ``score``); ``taste`` is the index of the customer's taste that matched; ``cold_start`` marks products nobody
    has interacted with yet."""

    row: int
    product_id: int
    sku: str
    title: str
    score: float
    components: dict[str, float]
    taste: int
    cold_start: bool


@dataclass
class CatalogScores:
    """Scores of every product of the index for one customer: ``total`` ``(N,)``, ``terms[signal]`` ``(N,)`` (the
    weighted terms), ``taste`` ``(N,)`` the matched taste per product. The look terms are computed in the index's
    storage precision; :func:`refine` recomputes them exactly for a short list."""

    total: np.ndarray
    terms: dict[str, np.ndarray]
    taste: np.ndarray
    queries: np.ndarray | None = None  # (D, T * 4) one column per (taste, look block)
    stats: tuple[np.ndarray, np.ndarray] | None = None  # mean, std of each query column over the catalog


def _bound(z: np.ndarray) -> np.ndarray:
    return (_BOUND * np.tanh(z / _BOUND)).astype(np.float32)


def _standardised(raw: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """A signal z-scored over the catalog and softly bounded; non-finite values count as the catalog's lowest.
    ``reference``: the signal on a sample of the catalog, when ``raw`` covers only some products."""
    ref = raw if reference is None else reference
    finite, ref_finite = np.isfinite(raw), np.isfinite(ref)
    if not ref_finite.any():
        return np.zeros(len(raw), np.float32)
    lowest = ref[ref_finite].min()
    x = np.where(finite, raw, lowest).astype(np.float64)
    r = x if reference is None else np.where(ref_finite, ref, lowest).astype(np.float64)
    return _bound((x - r.mean()) / max(float(r.std()), 1e-6))


def group_signal(index: StyleIndex, taste: CustomerTaste) -> np.ndarray:
    """``(N,)`` float32, 0..4: the share of the history's weight on other members of each product's group, x 4."""
    signal = np.zeros(len(index), np.float32)
    if not taste.items or not (index.group_codes >= 0).any():
        return signal
    rows = np.asarray([i.row for i in taste.items], np.int64)
    weights = np.asarray([i.weight for i in taste.items], np.float64)
    share = weights / max(float(weights.sum()), 1e-12)
    codes = index.group_codes[rows]
    grouped = codes >= 0
    if not grouped.any():
        return signal
    per_group = np.bincount(codes[grouped], weights=share[grouped], minlength=len(index.group_names))
    in_group = index.group_codes >= 0
    signal[in_group] = per_group[index.group_codes[in_group]]
    signal[rows[grouped]] -= share[grouped]  # a product is not another colour of itself
    return (_BOUND * np.clip(signal, 0.0, 1.0)).astype(np.float32)


def _behaviour_signal(cooc: np.ndarray, total_weight: float) -> np.ndarray:
    """Co-occurrence as ``4 x`` the history-weighted mean cosine (0..4; 0 = no co-buyers). An absolute scale, not
    a z-score or the customer's own maximum: those turned one shared shopper into full-strength evidence, and the
    shrinkage in :meth:`Behaviour.cooccurrence` could not act."""
    return (_BOUND * cooc / max(total_weight, 1e-9)).astype(np.float32)


def neighbour_similarities(index: StyleIndex, rows: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
    """``s(h, p)``: the mean over :data:`NEIGHBOUR_BLOCKS` of the standardised cosine between history rows ``rows``
    ``(H,)`` and products ``items`` (all products when None). Returns ``(len(items) or N, H)`` float32.

    Standardising each block by the catalog's pairwise cosine statistics (:meth:`StyleIndex.pair_stats`) makes the
    blocks count alike; it is linear, so the whole sum is one matrix product with a pre-scaled query per item."""
    mean, std = index.pair_stats
    history = index.rows(rows)  # (H, D)
    queries = np.zeros_like(history)
    offset = 0.0
    for name in NEIGHBOUR_BLOCKS:
        c, part = COMPONENTS.index(name), index.blocks[name]
        queries[:, part] = history[:, part] / (len(NEIGHBOUR_BLOCKS) * std[c])
        offset += mean[c] / (len(NEIGHBOUR_BLOCKS) * std[c])
    if items is None:
        return index.dot(queries.T) - offset
    return index.rows(items) @ queries.T - offset


def neighbour_contributions(index: StyleIndex, taste: CustomerTaste, items: np.ndarray | None = None) -> np.ndarray:
    """``(n, H)``: each history item's term ``log a_h + b s(h, p)`` inside the neighbour signal's log-sum-exp (the
    largest names the history item that carries it); a product is not its own neighbour (``-inf``)."""
    history = taste.items[:NEIGHBOUR_ITEMS]
    rows = np.asarray([i.row for i in history], np.int64)
    a = np.asarray([i.weight for i in history], np.float64)
    log_a = np.log(np.maximum(a / a.sum(), 1e-12)).astype(np.float32)
    terms = NEIGHBOUR_SHARPNESS * neighbour_similarities(index, rows, items) + log_a
    targets = np.arange(len(index)) if items is None else np.asarray(items)
    terms[targets[:, None] == rows[None, :]] = -np.inf
    return terms


def neighbour_signal(index: StyleIndex, taste: CustomerTaste, items: np.ndarray | None = None) -> np.ndarray:
    """``(N,)`` float32 (or one per row of ``items``): the raw neighbour signal of every product (see the module
    docstring); 0 without history."""
    if not taste.items:
        return np.zeros(len(index) if items is None else len(items), np.float32)
    terms = neighbour_contributions(index, taste, items)
    top = terms.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return ((top[:, 0] + np.log(np.exp(terms - top).sum(axis=1))) / NEIGHBOUR_SHARPNESS).astype(np.float32)


def _queries(index: StyleIndex, taste: CustomerTaste) -> np.ndarray:
    """``(D, T * 4)``: one column per (taste, look block), the taste's looks with every other block zeroed."""
    queries = np.zeros((index.looks.shape[1], len(taste.tastes) * len(COMPONENTS)), np.float32)
    for t, style_taste in enumerate(taste.tastes):
        for c, name in enumerate(COMPONENTS):
            part = index.blocks[name]
            queries[part, t * len(COMPONENTS) + c] = style_taste.looks[part]
    return queries


def _look_scores(
    sims: np.ndarray, stats: tuple[np.ndarray, np.ndarray], taste: CustomerTaste, w: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """From raw cosines ``sims`` ``(n, T * 4)``: the standardised cosines ``(n, T, 4)`` and each taste's weighted
    look score ``(n, T)``."""
    z = _bound((sims - stats[0]) / stats[1]).reshape(len(sims), len(taste.tastes), len(COMPONENTS))
    return z, z @ np.asarray([w[name] for name in COMPONENTS], np.float32)


def score_catalog(
    index: StyleIndex,
    taste: CustomerTaste,
    weights: RankingWeights | None = None,
    learned: LearnedScorer | None = None,
    allowed: np.ndarray | None = None,
) -> CatalogScores:
    """Score every product of ``index`` for ``taste`` (see the module docstring).

    ``total`` is a first pass (storage precision, look signals not yet bounded); the per-signal look terms are
    filled in, and the totals made exact, only for the rows passed to :func:`refine` (``recommend`` refines its
    short list). With ``allowed`` ``(N,)`` bool (the filters) and an index that keeps candidates (a big catalog,
    :mod:`.candidates`), only a candidate short list is scored, in float32; every other product's total is -inf.
    """
    weights = weights or RankingWeights()
    w = weights.as_dict()
    if any(v < 0 for v in w.values()):
        raise UserError("Ranking weights must be 0 or more.")
    n = len(index)
    signals = (*COMPONENTS, "neighbour", "group", "learned")
    terms: dict[str, np.ndarray] = {name: np.zeros(n, np.float32) for name in signals}
    if allowed is not None and candidates.in_use(index):
        return _score_candidates(index, taste, w, learned, allowed, terms)
    looks_total = np.zeros(n, np.float32)
    queries = stats = None
    if taste.tastes:
        # Catalog statistics of each cosine from an evenly spaced sample of rows: as good as all rows for a mean
        # and a std, and independent of the catalog's size.
        # Standardising is linear, so the weighted sum of a taste's standardised cosines is one matrix column:
        # sum_c w_c (x.q_c - m_c) / s_c = x.(sum_c w_c q_c / s_c) - const. The first pass drops the soft bound
        # (which only matters past 2 standard deviations); refine() applies it exactly to the short list.
        queries, stats, scaled, offset = _look_query(index, taste, w)
        per_taste = index.dot(scaled) + offset
        if taste.aggregation == "blend":
            looks_total = per_taste @ np.asarray([s.share for s in taste.tastes], np.float32)
        else:
            looks_total = per_taste.max(axis=1)
    if taste.items and w["neighbour"] > 0:
        # A big catalog standardises by a sample's statistics, as the looks do (and as its candidates must).
        reference = neighbour_signal(index, taste, _sample(n)) if n >= candidates.ANN_MIN_PRODUCTS else None
        terms["neighbour"] = w["neighbour"] * _standardised(neighbour_signal(index, taste), reference)
    _other_terms(index, taste, w, learned, terms)
    total = looks_total + sum(terms[name] for name in ("neighbour", "group", "behaviour", "popularity", "learned"))
    return CatalogScores(total.astype(np.float32), terms, np.zeros(n, np.int64), queries, stats)


def _other_terms(
    index: StyleIndex, taste: CustomerTaste, w: dict[str, float], learned: LearnedScorer | None,
    terms: dict[str, np.ndarray],
) -> None:
    """Fill ``terms`` with the signals that are not looks: behaviour, popularity, group, learned (every product)."""
    n = len(index)
    behaviour = index.behaviour
    cooc = np.zeros(n, np.float32)
    if taste.items and w["behaviour"] > 0:
        rows = np.asarray([i.row for i in taste.items], np.int64)
        item_weights = np.asarray([i.weight for i in taste.items], np.float32)
        cooc = behaviour.cooccurrence(rows, item_weights, taste.internal_id, shrinkage=BEHAVIOUR_SHRINKAGE)
    # No co-occurrence with this customer's history is "no evidence" (0), as for a cold-start product, not a penalty.
    total_weight = float(sum(i.weight for i in taste.items))
    terms["behaviour"] = w["behaviour"] * _behaviour_signal(cooc, total_weight)
    terms["popularity"] = w["popularity"] * behaviour.popularity_signal
    if w["group"] > 0:
        terms["group"] = w["group"] * group_signal(index, taste)
    if learned is not None and w["learned"] > 0:
        terms["learned"] = w["learned"] * _standardised(learned.scores(index, taste))


def _look_query(index: StyleIndex, taste: CustomerTaste, w: dict[str, float]) -> tuple[
    np.ndarray, tuple[np.ndarray, np.ndarray], np.ndarray, np.ndarray
]:  # fmt: skip
    """The look queries ``(D, T * 4)``, their catalog statistics, and the weighted look score of each taste as one
    column ``(D, T)`` plus a constant ``(T,)`` (the first pass drops the soft bound; see :func:`score_catalog`)."""
    queries = _queries(index, taste)
    sample = index.rows(_sample(len(index)))
    sims = sample @ queries
    stats = (sims.mean(axis=0), np.maximum(sims.std(axis=0), 1e-6))
    tastes = len(taste.tastes)
    wvec = np.tile(np.asarray([w[name] for name in COMPONENTS], np.float32), tastes)
    scaled = (queries * (wvec / stats[1])).reshape(-1, tastes, len(COMPONENTS)).sum(axis=2)
    offset = -(wvec * stats[0] / stats[1]).reshape(tastes, len(COMPONENTS)).sum(axis=1)
    return queries, stats, scaled, offset


def _sample(n: int) -> np.ndarray:
    """About 4,096 evenly spaced rows of an ``n``-product index: the sample for catalog statistics."""
    return np.arange(0, n, max(1, n // 4096))


def _score_candidates(
    index: StyleIndex, taste: CustomerTaste, w: dict[str, float], learned: LearnedScorer | None,
    allowed: np.ndarray, terms: dict[str, np.ndarray],
) -> CatalogScores:
    """:func:`score_catalog` on a candidate short list (:func:`.candidates.candidate_rows`): the signals that are
    not looks for every product, then the looks and the neighbour signal for the short list only, in float32. The
    neighbour signal is standardised by its statistics over an evenly spaced sample of the catalog (4,096 rows),
    as the look signals always were."""
    n = len(index)
    _other_terms(index, taste, w, learned, terms)
    others = terms["group"] + terms["behaviour"] + terms["popularity"] + terms["learned"]
    queries = stats = None
    searches: list[tuple[np.ndarray, int]] = []
    reference = nb_std = None
    history = taste.items[:NEIGHBOUR_ITEMS]
    if history and w["neighbour"] > 0:
        reference = neighbour_signal(index, taste, _sample(n))
        nb_std = max(float(reference[np.isfinite(reference)].std()), 1e-6) if np.isfinite(reference).any() else 1.0
        rows_h = np.asarray([i.row for i in history], np.int64)
        a = np.asarray([i.weight for i in history], np.float32)
        a /= a.sum()
        _, std = index.pair_stats
        item_queries = np.zeros((len(history), index.looks.shape[1]), np.float32)
        for name in NEIGHBOUR_BLOCKS:
            c, part = COMPONENTS.index(name), index.blocks[name]
            item_queries[:, part] = index.rows(rows_h, name) / (len(NEIGHBOUR_BLOCKS) * std[c])
        # The history items that weigh most, each on its own (the soft maximum follows the best-matching one).
        order = np.argsort(-a, kind="stable")[: candidates.NEIGHBOUR_QUERIES]
        searches.append((item_queries[order], candidates.NEIGHBOUR_DEPTH))
    if taste.tastes:
        queries, stats, scaled, offset = _look_query(index, taste, w)
        combined = scaled.T.copy()
        if nb_std is not None:
            # One query per taste for looks and neighbours together: the neighbour signal is at least the weighted
            # mean similarity to the history (its soft maximum's floor), which is linear in a product's row.
            combined += (w["neighbour"] / nb_std) * (a @ item_queries)
        searches.insert(0, (combined, candidates.look_depth(n)))
    rows = candidates.candidate_rows(index, allowed, searches, others, terms["behaviour"] + terms["group"])
    total = np.full(n, -np.inf, np.float32)
    total[rows] = others[rows]
    if queries is not None and stats is not None and len(rows):
        per_taste = index.rows(rows) @ scaled + offset
        if taste.aggregation == "blend":
            total[rows] += per_taste @ np.asarray([s.share for s in taste.tastes], np.float32)
        else:
            total[rows] += per_taste.max(axis=1)
    if reference is not None and len(rows):
        terms["neighbour"][rows] = w["neighbour"] * _standardised(neighbour_signal(index, taste, rows), reference)
        total[rows] += terms["neighbour"][rows]
    return CatalogScores(total, terms, np.zeros(n, np.int64), queries, stats)


def refine(
    index: StyleIndex, taste: CustomerTaste, scores: CatalogScores, rows: np.ndarray, weights: RankingWeights | None
) -> None:
    """Fill in the look terms of ``rows`` (and recompute their totals) in float32, with the catalog statistics of
    the first pass."""
    if scores.queries is None or scores.stats is None or len(rows) == 0:
        return
    w = (weights or RankingWeights()).as_dict()
    z, per_taste = _look_scores(index.rows(rows) @ scores.queries, scores.stats, taste, w)
    matched = np.argmax(per_taste, axis=1)
    if taste.aggregation == "blend":
        best = np.einsum("ntc,t->nc", z, np.asarray([s.share for s in taste.tastes], np.float32))
    else:
        best = z[np.arange(len(rows)), matched]
    for c, name in enumerate(COMPONENTS):
        scores.terms[name][rows] = w[name] * best[:, c]
    scores.taste[rows] = matched
    scores.total[rows] = np.sum([scores.terms[s][rows] for s in SIGNALS], axis=0)


def candidate_mask(index: StyleIndex, taste: CustomerTaste | None, filters: Filters | None = None) -> np.ndarray:
    """``(N,)`` bool: the products ``filters`` allow for this customer."""
    filters = filters or Filters()
    mask = np.ones(len(index), bool)
    if filters.categories:
        unknown = [c for c in filters.categories if c not in index.category_names]
        if len(unknown) == len(filters.categories):
            raise UserError(f"No indexed product is in the category {', '.join(map(repr, unknown))}.")
        codes = [index.category_names.index(c) for c in filters.categories if c in index.category_names]
        mask &= np.isin(index.category_codes, codes)
    if filters.min_price is not None:
        mask &= index.prices >= filters.min_price  # NaN (no price) compares False: left out
    if filters.max_price is not None:
        mask &= index.prices <= filters.max_price
    if filters.in_stock_only:
        mask &= index.in_stock
    if taste is not None and not filters.include_purchased and taste.purchased_rows:
        mask[list(taste.purchased_rows)] = False
    for sku in filters.exclude_skus:
        row = index.row_of_sku.get(sku)
        if row is not None:
            mask[row] = False
    return mask


def recommend(
    index: StyleIndex,
    taste: CustomerTaste,
    k: int = 10,
    weights: RankingWeights | None = None,
    filters: Filters | None = None,
    diversity: float = 0.0,
    learned: LearnedScorer | None = None,
) -> list[Recommendation]:
    """The ``k`` best products for ``taste`` that pass ``filters``, best first (``learned``: the catalog's learned
    model, when it has one).

    ``diversity`` 0..1 re-ranks with maximal marginal relevance (0 = pure score; 1 = as unlike the items already
    picked as possible); the scores and components reported stay the blend's.
    """
    if k < 1:
        raise UserError(f"k must be at least 1, got {k}.")
    if not 0.0 <= diversity <= 1.0:
        raise UserError(f"Diversity must be between 0 and 1, got {diversity}.")
    mask = candidate_mask(index, taste, filters)
    scores = score_catalog(index, taste, weights, learned, allowed=mask)
    allowed = np.flatnonzero(mask)
    if candidates.in_use(index):
        # A big catalog scores a candidate short list only (-inf elsewhere): those are the products to choose from.
        allowed = allowed[np.isfinite(scores.total[allowed])]
    if allowed.size == 0:
        return []
    pool_size = min(allowed.size, k if diversity == 0 else max(4 * k, 50))
    # A generous short list by the first-pass scores, re-scored exactly: bfloat16 cosines can swap near-ties only.
    shortlist = _best(allowed, scores.total, min(allowed.size, max(8 * pool_size, 200)))
    refine(index, taste, scores, shortlist, weights)
    if taste.aggregation == "calibrated" and len(taste.tastes) > 1 and diversity == 0:
        chosen = calibrated(_best(shortlist, scores.total, len(shortlist)), scores.taste, taste, k)
    else:
        top = _best(shortlist, scores.total, pool_size)
        chosen = top[:k] if diversity == 0 else mmr(index, top, scores.total[top], k, diversity)
    return [_recommendation(index, scores, int(row)) for row in chosen]


def calibrated(ranked: np.ndarray, matched: np.ndarray, taste: CustomerTaste, k: int) -> np.ndarray:
    """The best ``k`` of ``ranked`` (best first) with each of the customer's looks given slots in proportion to its
    share of their history (at least one each; Steck 2018, "Calibrated recommendations"): a history that is half
    prints and half plain black does not get a list of ten black products. ``matched`` ``(N,)`` is the look each
    product matches best. Slots a look cannot fill go to the best remaining products; the result is in score
    order."""
    quota = {t: max(1, round(k * s.share)) for t, s in enumerate(taste.tastes)}
    taken: list[int] = []
    for row in ranked:
        look = int(matched[row])
        if quota.get(look, 0) > 0:
            quota[look] -= 1
            taken.append(int(row))
        if len(taken) == k:
            break
    if len(taken) < k:
        chosen = set(taken)
        taken += [int(r) for r in ranked if int(r) not in chosen][: k - len(taken)]
    order = {int(r): i for i, r in enumerate(ranked)}
    return np.asarray(sorted(taken, key=order.__getitem__), np.int64)


def _best(rows: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` rows of ``rows`` with the highest ``values``, best first."""
    top = rows[np.argpartition(-values[rows], count - 1)[:count]]
    return top[np.argsort(-values[top], kind="stable")]


def mmr(index: StyleIndex, rows: np.ndarray, relevance: np.ndarray, k: int, diversity: float) -> np.ndarray:
    """Maximal marginal relevance (Carbonell & Goldstein 1998) over candidate ``rows`` (best first).

    Picks greedily ``argmax (1 - diversity) rel(p) - diversity max_{q picked} sim(p, q)`` with ``rel`` rescaled to
    0..1 within the pool and ``sim`` the mean of style and visual cosine.
    """
    lam = 1.0 - diversity
    spread = float(relevance.max() - relevance.min())
    rel = (relevance - relevance.min()) / spread if spread > 0 else np.ones_like(relevance)
    looks = np.concatenate([index.rows(rows, "style"), index.rows(rows, "visual")], axis=1) / np.sqrt(2.0)
    picked: list[int] = []
    max_sim = np.full(len(rows), -np.inf, np.float32)
    available = np.ones(len(rows), bool)
    for _ in range(min(k, len(rows))):
        penalty = np.where(np.isfinite(max_sim), max_sim, 0.0)
        gain = np.where(available, lam * rel - (1.0 - lam) * penalty, -np.inf)
        best = int(np.argmax(gain))
        picked.append(best)
        available[best] = False
        max_sim = np.maximum(max_sim, looks @ looks[best])
    return rows[picked]


def _recommendation(index: StyleIndex, scores: CatalogScores, row: int) -> Recommendation:
    return Recommendation(
        row=row,
        product_id=int(index.product_ids[row]),
        sku=index.skus[row],
        title=index.titles[row],
        score=float(scores.total[row]),
        components={s: float(scores.terms[s][row]) for s in SIGNALS},
        taste=int(scores.taste[row]),
        cold_start=not bool(index.behaviour.has_events[row]),
    )
