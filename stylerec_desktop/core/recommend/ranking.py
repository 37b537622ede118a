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
50,000 products, with FAISS installed, only a candidate short list (:mod:`.candidates`) is scored, and nothing per
query is O(N) but the filters' mask: the sparse signals (co-occurrence, group) are computed where they are non-zero,
and the neighbour signal is standardised on a sample of the catalog, as the looks are. Either way the first pass is
in the index's storage precision and :func:`refine` re-scores a short list in float32 (looks and neighbours), so a
product on both paths' short lists gets the same score from both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.recommend import candidates
from stylerec_desktop.core.recommend.controls import Filters, RankingWeights
from stylerec_desktop.core.recommend.index import COMPONENTS, StyleIndex, matmul32
from stylerec_desktop.core.recommend.signals import (
    NEIGHBOUR_ITEMS,
    SignalMemo,
    apply_standard,
    behaviour_signal,
    bound,
    group_signal_sparse,
    kept,
    neighbour_history,
    neighbour_on_sample,
    neighbour_queries,
    neighbour_signal,
    neighbour_terms,
    soft_maximum,
    standard_stats,
    standardised,
)
from stylerec_desktop.core.recommend.taste import CustomerTaste


class LearnedScorer(Protocol):
    """What the ranking needs of a learned model: ``(N,)`` scores of every index row for one customer."""

    def scores(self, index: StyleIndex, taste: CustomerTaste) -> np.ndarray: ...

SIGNALS = (*COMPONENTS, "neighbour", "group", "behaviour", "popularity", "learned")
# Co-occurrence resting on n shopper links counts n / (n + 10): one shared shopper is a tenth of the evidence.
BEHAVIOUR_SHRINKAGE = 10.0
# Products re-scored in float32 after the first pass, at least (the first pass rounds to bfloat16 where the index
# is stored so: near-ties can swap there only).
REFINED = 200


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
    """Scores of products of the index for one customer, at *positions*: ``total`` ``(n,)``, ``terms[signal]``
    ``(n,)`` (the weighted terms), ``taste`` ``(n,)`` the matched taste. ``rows`` ``(n,)`` (sorted) are the index
    rows of the positions: a candidate short list of a big catalog; None when every product is scored (position =
    row). The look and neighbour terms are first computed in the index's storage precision; :func:`refine`
    recomputes them in float32 for a short list."""

    total: np.ndarray
    terms: dict[str, np.ndarray]
    taste: np.ndarray
    queries: np.ndarray | None = None  # (D, T * 4) one column per (taste, look block)
    stats: tuple[np.ndarray, np.ndarray] | None = None  # mean, std of each query column over the catalog
    rows: np.ndarray | None = None
    # How the raw neighbour signal is standardised (lowest, mean, std; see standard_stats); None: no neighbour term.
    neighbour_stats: tuple[float, float, float] | None = None

    def row_at(self, positions: np.ndarray) -> np.ndarray:
        """Index rows of ``positions``."""
        return positions if self.rows is None else self.rows[positions]

    def position_of(self, rows: np.ndarray) -> np.ndarray:
        """Positions of index ``rows`` (each must be scored)."""
        return rows if self.rows is None else np.searchsorted(self.rows, rows)


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
    z = bound((sims - stats[0]) / stats[1]).reshape(len(sims), len(taste.tastes), len(COMPONENTS))
    return z, z @ np.asarray([w[name] for name in COMPONENTS], np.float32)


def score_catalog(
    index: StyleIndex,
    taste: CustomerTaste,
    weights: RankingWeights | None = None,
    learned: LearnedScorer | None = None,
    allowed: np.ndarray | None = None,
    memo: SignalMemo | None = None,
) -> CatalogScores:
    """Score every product of ``index`` for ``taste`` (see the module docstring).

    ``total`` is a first pass (storage precision, look signals not yet bounded); the per-signal look terms are
    filled in, and the look and neighbour terms and the totals made exact, only for the positions passed to
    :func:`refine` (``recommend`` refines its short list). With ``allowed`` ``(N,)`` bool (the filters) and an index
    that keeps candidates (a big catalog, :mod:`.candidates`), only a candidate short list of allowed products is
    scored: the result's ``rows``. ``memo``: keeps this taste's weight-free signals for the next call (tuning).
    """
    weights = weights or RankingWeights()
    w = weights.as_dict()
    if any(v < 0 for v in w.values()):
        raise UserError("Ranking weights must be 0 or more.")
    if allowed is not None and candidates.in_use(index):
        return _score_candidates(index, taste, w, learned, allowed, memo)
    n = len(index)
    terms: dict[str, np.ndarray] = {name: np.zeros(n, np.float32) for name in (*COMPONENTS, "neighbour", "group",
                                                                            "learned")}  # fmt: skip
    looks_total = np.zeros(n, np.float32)
    queries = stats = neighbour_stats = None
    if taste.tastes:
        # Catalog statistics of each cosine from an evenly spaced sample of rows: as good as all rows for a mean
        # and a std, and independent of the catalog's size.
        # Standardising is linear, so the weighted sum of a taste's standardised cosines is one matrix column:
        # sum_c w_c (x.q_c - m_c) / s_c = x.(sum_c w_c q_c / s_c) - const. The first pass drops the soft bound
        # (which only matters past 2 standard deviations); refine() applies it exactly to the short list.
        queries, stats, scaled, offset = _look_query(index, taste, w, memo)
        per_taste = index.dot(scaled) + offset
        if taste.aggregation == "blend":
            looks_total = per_taste @ np.asarray([s.share for s in taste.tastes], np.float32)
        else:
            looks_total = per_taste.max(axis=1)
    if taste.items and w["neighbour"] > 0:
        # A big catalog standardises by a sample's statistics, as the looks do (and as its candidates must).
        raw, neighbour_stats = kept(memo, "neighbour", lambda: _neighbour_with_stats(index, taste))
        terms["neighbour"] = w["neighbour"] * apply_standard(raw, neighbour_stats)
    _other_terms(index, taste, w, learned, terms, memo)
    total = looks_total + sum(terms[name] for name in ("neighbour", "group", "behaviour", "popularity", "learned"))
    return CatalogScores(total.astype(np.float32), terms, np.zeros(n, np.int64), queries, stats,
                         neighbour_stats=neighbour_stats)  # fmt: skip


def _neighbour_with_stats(
    index: StyleIndex, taste: CustomerTaste
) -> tuple[np.ndarray, tuple[float, float, float] | None]:
    """The raw neighbour signal of every product and the statistics that standardise it (a big catalog's from a
    sample, as the looks' are)."""
    raw = neighbour_signal(index, taste)
    sample = neighbour_on_sample(index, taste) if len(index) >= candidates.ANN_MIN_PRODUCTS else raw
    return raw, standard_stats(sample)


def _other_terms(
    index: StyleIndex, taste: CustomerTaste, w: dict[str, float], learned: LearnedScorer | None,
    terms: dict[str, np.ndarray], memo: SignalMemo | None = None,
) -> None:
    """Fill ``terms`` with the signals that are not looks: behaviour, popularity, group, learned (every product)."""
    n = len(index)
    for name, (rows, values) in _sparse_terms(index, taste, w, memo).items():
        terms[name] = np.zeros(n, np.float32)
        terms[name][rows] = values
    terms["popularity"] = w["popularity"] * index.behaviour.popularity_signal
    if learned is not None and w["learned"] > 0:
        terms["learned"] = w["learned"] * kept(memo, "learned", lambda: standardised(learned.scores(index, taste)))


def _sparse_terms(
    index: StyleIndex, taste: CustomerTaste, w: dict[str, float], memo: SignalMemo | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The weighted ``behaviour`` and ``group`` terms where they can be non-zero: ``(rows, values)`` each, rows
    sorted; 0 elsewhere (no co-buyers and no shared group are "no evidence", not a penalty)."""
    none: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0, np.float32))
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {"behaviour": none, "group": none}
    if taste.items and w["behaviour"] > 0:
        cooc_rows, signal = kept(memo, "behaviour", lambda: _behaviour_sparse(index, taste))
        out["behaviour"] = (cooc_rows, w["behaviour"] * signal)
    if w["group"] > 0:
        group_rows, values = kept(memo, "group", lambda: group_signal_sparse(index, taste))
        out["group"] = (group_rows, w["group"] * values)
    return out


def _behaviour_sparse(index: StyleIndex, taste: CustomerTaste) -> tuple[np.ndarray, np.ndarray]:
    """The co-purchase signal (unweighted) where it is not zero: ``(rows, values)``, rows sorted."""
    rows = np.asarray([i.row for i in taste.items], np.int64)
    item_weights = np.asarray([i.weight for i in taste.items], np.float32)
    cooc_rows, cooc = index.behaviour.cooccurrence_sparse(rows, item_weights, taste.internal_id,
                                                          shrinkage=BEHAVIOUR_SHRINKAGE)  # fmt: skip
    return cooc_rows, behaviour_signal(cooc, float(sum(i.weight for i in taste.items)))


def _look_stats(index: StyleIndex, taste: CustomerTaste) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The look queries ``(D, T * 4)`` and their cosines' catalog statistics (mean, std) over the index's sample."""
    queries = _queries(index, taste)
    sims = matmul32(index.sample[1], queries)
    return queries, (sims.mean(axis=0), np.maximum(sims.std(axis=0), 1e-6))


def _look_query(index: StyleIndex, taste: CustomerTaste, w: dict[str, float], memo: SignalMemo | None = None) -> tuple[
    np.ndarray, tuple[np.ndarray, np.ndarray], np.ndarray, np.ndarray
]:  # fmt: skip
    """The look queries ``(D, T * 4)``, their catalog statistics, and the weighted look score of each taste as one
    column ``(D, T)`` plus a constant ``(T,)`` (the first pass drops the soft bound; see :func:`score_catalog`)."""
    queries, stats = kept(memo, "looks", lambda: _look_stats(index, taste))
    tastes = len(taste.tastes)
    wvec = np.tile(np.asarray([w[name] for name in COMPONENTS], np.float32), tastes)
    scaled = (queries * (wvec / stats[1])).reshape(-1, tastes, len(COMPONENTS)).sum(axis=2)
    offset = -(wvec * stats[0] / stats[1]).reshape(tastes, len(COMPONENTS)).sum(axis=1)
    return queries, stats, scaled, offset


def _at(rows: np.ndarray, sparse: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """A sparse term ``(term_rows, values)`` (rows sorted, unique) at the sorted ``rows``: ``(len(rows),)``."""
    out = np.zeros(len(rows), np.float32)
    term_rows, values = sparse
    if len(rows) and len(term_rows):
        pos = np.minimum(np.searchsorted(rows, term_rows), len(rows) - 1)
        hit = rows[pos] == term_rows
        out[pos[hit]] = values[hit]
    return out


def _score_candidates(
    index: StyleIndex, taste: CustomerTaste, w: dict[str, float], learned: LearnedScorer | None,
    allowed: np.ndarray, memo: SignalMemo | None = None,
) -> CatalogScores:
    """:func:`score_catalog` on a candidate short list (:func:`.candidates.candidate_rows`), at its positions.

    Nothing here is O(N) but the filters' mask and a dense learned model: the sparse signals are computed where
    they are non-zero, the best-sellers are a walk down a sorted list, and the candidate rows are read from the
    look matrix once, in row order, and scored for the looks and the neighbour signal together by one matrix
    product in the storage precision (the first pass; :func:`refine` recomputes the short list's in float32). The
    neighbour signal is standardised by its statistics over the index's sample, as the look signals are."""
    count = int(np.count_nonzero(allowed))
    sparse = _sparse_terms(index, taste, w, memo)
    popularity = index.behaviour.popularity_signal
    dense_learned = None
    if learned is not None and w["learned"] > 0:
        dense_learned = w["learned"] * kept(memo, "learned", lambda: standardised(learned.scores(index, taste)))

    def others_at(rows: np.ndarray) -> np.ndarray:
        """The signals that are not looks, summed, at sorted ``rows``."""
        total = w["popularity"] * popularity[rows] + _at(rows, sparse["behaviour"]) + _at(rows, sparse["group"])
        return total + dense_learned[rows] if dense_learned is not None else total

    queries = stats = scaled = offset = None
    if taste.tastes:
        queries, stats, scaled, offset = _look_query(index, taste, w, memo)
    history, log_a = neighbour_history(taste) if taste.items and w["neighbour"] > 0 else (None, None)
    neighbour_stats = item_queries = None
    nb_offset = 0.0
    if history is not None:
        neighbour_stats = standard_stats(neighbour_on_sample(index, taste))
        item_queries, nb_offset = neighbour_queries(index, history)
    if count <= candidates.EXACT_BELOW:
        rows = np.flatnonzero(allowed)  # as cheap as a search: every allowed product
    else:
        searches = _searches(index, taste, w, scaled, history, item_queries, neighbour_stats)
        extra = _other_candidates(index, allowed, count, others_at, sparse, dense_learned)
        rows = candidates.candidate_rows(index, allowed, count, searches, extra)
    m = len(rows)
    terms: dict[str, np.ndarray] = {name: np.zeros(m, np.float32) for name in SIGNALS}
    terms["popularity"] = w["popularity"] * popularity[rows]
    terms["behaviour"], terms["group"] = _at(rows, sparse["behaviour"]), _at(rows, sparse["group"])
    if dense_learned is not None:
        terms["learned"] = dense_learned[rows]
    total = terms["popularity"] + terms["behaviour"] + terms["group"] + terms["learned"]
    columns = [c for c in (scaled, None if item_queries is None else item_queries.T) if c is not None]
    if m and columns:
        first = index.dot_rows(rows, np.concatenate(columns, axis=1))
        if scaled is not None and offset is not None:
            per_taste = first[:, : scaled.shape[1]] + offset
            if taste.aggregation == "blend":
                total += per_taste @ np.asarray([s.share for s in taste.tastes], np.float32)
            else:
                total += per_taste.max(axis=1)
        if history is not None and log_a is not None:
            sims = first[:, first.shape[1] - len(history) :] - nb_offset
            raw = soft_maximum(neighbour_terms(sims, rows, history, log_a))
            terms["neighbour"] = w["neighbour"] * apply_standard(raw, neighbour_stats)
            total += terms["neighbour"]
    return CatalogScores(total.astype(np.float32), terms, np.zeros(m, np.int64), queries, stats, rows=rows,
                         neighbour_stats=neighbour_stats)  # fmt: skip


def _searches(
    index: StyleIndex, taste: CustomerTaste, w: dict[str, float], scaled: np.ndarray | None,
    history: np.ndarray | None, item_queries: np.ndarray | None, neighbour_stats: tuple[float, float, float] | None,
) -> list[tuple[np.ndarray, int, int]]:
    """The nearest-neighbour searches of :func:`.candidates.candidate_rows`: query rows ``(m, D)``, the number of
    allowed products wanted from each, the cells to scan."""
    searches: list[tuple[np.ndarray, int, int]] = []
    if scaled is not None:
        combined = scaled.T.copy()
        if history is not None and item_queries is not None:
            # One query per taste for looks and neighbours together: the neighbour signal is at least the weighted
            # mean similarity to the history (its soft maximum's floor), which is linear in a product's row.
            a = np.asarray([i.weight for i in taste.items[:NEIGHBOUR_ITEMS]], np.float32)
            nb_std = neighbour_stats[2] if neighbour_stats is not None else 1.0
            combined += (w["neighbour"] / nb_std) * ((a / a.sum()) @ item_queries)
        searches.append((combined, candidates.look_depth(len(index)), 0))
    if history is not None and item_queries is not None:
        # The history items that weigh most, each on its own (the soft maximum follows the best-matching one).
        a = np.asarray([i.weight for i in taste.items[:NEIGHBOUR_ITEMS]], np.float32)
        order = np.argsort(-a, kind="stable")[: candidates.NEIGHBOUR_QUERIES]
        searches.append((item_queries[order], candidates.NEIGHBOUR_DEPTH, candidates.NEIGHBOUR_NPROBE))
    return searches


def _other_candidates(
    index: StyleIndex, allowed: np.ndarray, count: int, others_at: Callable[[np.ndarray], np.ndarray],
    sparse: dict[str, tuple[np.ndarray, np.ndarray]], dense_learned: np.ndarray | None,
) -> list[np.ndarray]:
    """Candidates for the signals that are not looks: every allowed product with a sparse term (co-bought, another
    variant of the history; up to :data:`.candidates.SPARSE_CAP`, best first) and the
    :data:`.candidates.OTHER_DEPTH` best allowed products by all those signals together.

    Without a learned model those are found without an O(N) pass: the sparse terms are >= 0, so a product with
    none of them that is not among the ``depth`` best-selling allowed products has ``depth`` products at or above
    it; the best are therefore among the sparse products and those best-sellers."""
    with_sparse = np.union1d(sparse["behaviour"][0], sparse["group"][0])
    with_sparse = with_sparse[allowed[with_sparse]]
    kept = with_sparse
    if len(kept) > candidates.SPARSE_CAP:
        kept = kept[np.argpartition(-others_at(kept), candidates.SPARSE_CAP - 1)[: candidates.SPARSE_CAP]]
    depth = min(candidates.OTHER_DEPTH, count)
    if dense_learned is not None:
        pool = np.flatnonzero(allowed)
    else:
        pool = np.union1d(with_sparse, _first_allowed(index.behaviour.popularity_order, allowed, count, depth))
    best = pool[np.argpartition(-others_at(pool), depth - 1)[:depth]] if depth > 0 else pool[:0]
    return [kept, best]


def _first_allowed(order: np.ndarray, allowed: np.ndarray, count: int, wanted: int) -> np.ndarray:
    """The first ``wanted`` entries of ``order`` (rows) that ``allowed`` (with ``count`` True) lets through, read
    in growing blocks sized by the filters' share."""
    found: list[np.ndarray] = []
    got, start = 0, 0
    step = max(1024, int(2 * wanted * len(order) / max(count, 1)))
    while got < wanted and start < len(order):
        part = order[start : start + step]
        part = part[allowed[part]]
        found.append(part)
        got += len(part)
        start += step
        step *= 2
    return np.concatenate(found)[:wanted] if found else np.zeros(0, np.int64)


def refine(
    index: StyleIndex, taste: CustomerTaste, scores: CatalogScores, positions: np.ndarray,
    weights: RankingWeights | None,
) -> None:
    """Recompute, in float32, the look terms (bounded, with the catalog statistics of the first pass) and the
    neighbour term of the products at ``positions``, and their totals: the short list is then scored the same
    whichever path (every product, or candidates) and precision gave the first pass."""
    if len(positions) == 0:
        return
    w = (weights or RankingWeights()).as_dict()
    rows = scores.row_at(positions)
    looks = index.rows(rows)
    if scores.queries is not None and scores.stats is not None:
        z, per_taste = _look_scores(matmul32(looks, scores.queries), scores.stats, taste, w)
        matched = np.argmax(per_taste, axis=1)
        if taste.aggregation == "blend":
            best = np.einsum("ntc,t->nc", z, np.asarray([s.share for s in taste.tastes], np.float32))
        else:
            best = z[np.arange(len(rows)), matched]
        for c, name in enumerate(COMPONENTS):
            scores.terms[name][positions] = w[name] * best[:, c]
        scores.taste[positions] = matched
    if taste.items and w["neighbour"] > 0:
        history, log_a = neighbour_history(taste)
        item_queries, offset = neighbour_queries(index, history)
        raw = soft_maximum(neighbour_terms(matmul32(looks, item_queries.T) - offset, rows, history, log_a))
        scores.terms["neighbour"][positions] = w["neighbour"] * apply_standard(raw, scores.neighbour_stats)
    scores.total[positions] = np.sum([scores.terms[s][positions] for s in SIGNALS], axis=0)


def candidate_mask(index: StyleIndex, taste: CustomerTaste | None, filters: Filters | None = None) -> np.ndarray:
    """``(N,)`` bool: the products ``filters`` allow for this customer."""
    filters = filters or Filters()
    mask = np.ones(len(index), bool)
    if filters.categories:
        unknown = [c for c in filters.categories if c not in index.category_names]
        if len(unknown) == len(filters.categories):
            raise UserError(f"No indexed product is in the category {', '.join(map(repr, unknown))}.")
        wanted = np.zeros(len(index.category_names), bool)
        wanted[[index.category_names.index(c) for c in filters.categories if c in index.category_names]] = True
        mask &= wanted[index.category_codes]  # a table lookup: np.isin sorted a million codes
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
    memo: SignalMemo | None = None,
) -> list[Recommendation]:
    """The ``k`` best products for ``taste`` that pass ``filters``, best first (``learned``: the catalog's learned
    model, when it has one).

    ``diversity`` 0..1 re-ranks with maximal marginal relevance (0 = pure score; 1 = as unlike the items already
    picked as possible); the scores and components reported stay the blend's. ``memo``: see :class:`SignalMemo`.
    """
    if k < 1:
        raise UserError(f"k must be at least 1, got {k}.")
    if not 0.0 <= diversity <= 1.0:
        raise UserError(f"Diversity must be between 0 and 1, got {diversity}.")
    mask = candidate_mask(index, taste, filters)
    scores = score_catalog(index, taste, weights, learned, allowed=mask, memo=memo)
    # Positions to choose from: every allowed product, or a big catalog's candidates (all of them allowed).
    allowed = np.flatnonzero(mask) if scores.rows is None else np.arange(len(scores.rows))
    if allowed.size == 0:
        return []
    pool_size = min(allowed.size, k if diversity == 0 else max(4 * k, 50))
    # A generous short list by the first-pass scores, re-scored exactly: bfloat16 cosines can swap near-ties only.
    shortlist = _best(allowed, scores.total, min(allowed.size, max(8 * pool_size, REFINED)))
    refine(index, taste, scores, shortlist, weights)
    if taste.aggregation == "calibrated" and len(taste.tastes) > 1 and diversity == 0:
        chosen = calibrated(_best(shortlist, scores.total, len(shortlist)), scores.taste, taste, k)
    else:
        top = _best(shortlist, scores.total, pool_size)
        chosen = top[:k] if diversity == 0 else scores.position_of(
            mmr(index, scores.row_at(top), scores.total[top], k, diversity))  # fmt: skip
    return [_recommendation(index, scores, int(position)) for position in chosen]


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
    """The ``count`` rows (or positions) of ``rows`` with the highest ``values``, best first; equal values in row
    order, so that the same products in the same order come from every product scored and from a big catalog's
    candidates (positions there follow the rows)."""
    top = rows[np.argpartition(-values[rows], count - 1)[:count]]
    return top[np.lexsort((top, -values[top]))]


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


def _recommendation(index: StyleIndex, scores: CatalogScores, position: int) -> Recommendation:
    row = position if scores.rows is None else int(scores.rows[position])
    return Recommendation(
        row=row,
        product_id=int(index.product_ids[row]),
        sku=index.skus[row],
        title=index.titles[row],
        score=float(scores.total[position]),
        components={s: float(scores.terms[s][position]) for s in SIGNALS},
        taste=int(scores.taste[position]),
        cold_start=not bool(index.behaviour.has_events[row]),
    )
