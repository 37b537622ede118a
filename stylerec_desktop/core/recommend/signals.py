"""The blend's signals for one customer, each on its own: standardising and bounding a raw signal, the product-group
signal, co-purchases on the blend's scale, and the neighbour signal (a soft maximum over the history's items) with
the parts :mod:`.explain` reads; and :class:`SignalMemo`, which keeps a taste's weight-free signals between calls.
:mod:`.ranking` documents each signal and weights them into the score.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from stylerec_desktop.core.recommend.index import COMPONENTS, StyleIndex, matmul32
from stylerec_desktop.core.recommend.taste import CustomerTaste

_T = TypeVar("_T")
#: Every standardised signal is softly bounded to +-BOUND (``BOUND tanh(z / BOUND)``).
BOUND = 4.0
# Sharpness of the neighbour signal's soft maximum (on standardised similarities) and the history items it looks at.
NEIGHBOUR_SHARPNESS = 2.0
NEIGHBOUR_ITEMS = 64
NEIGHBOUR_BLOCKS = ("style", "visual")


class SignalMemo:
    """The signals of one customer's taste on one index that no blend weight changes (the look queries and their
    catalog statistics, the neighbour signal, co-purchases, the product group, the learned model's scores), kept
    for the next call that differs only in its weights: a tuning search scores each customer-window under about a
    hundred weight settings. Each value is computed as without a memo, so the rankings are the same to the bit."""

    def __init__(self) -> None:
        self._values: dict[str, object] = {}

    def get(self, name: str, make: Callable[[], _T]) -> _T:
        if name not in self._values:
            self._values[name] = make()
        return self._values[name]  # type: ignore[return-value]  # stored by make() of the same name


def kept(memo: SignalMemo | None, name: str, make: Callable[[], _T]) -> _T:
    return make() if memo is None else memo.get(name, make)


def bound(z: np.ndarray) -> np.ndarray:
    return (BOUND * np.tanh(z / BOUND)).astype(np.float32)


def standardised(raw: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """A signal z-scored over the catalog and softly bounded; non-finite values count as the catalog's lowest.
    ``reference``: the signal on a sample of the catalog, when ``raw`` covers only some products."""
    return apply_standard(raw, standard_stats(raw if reference is None else reference))


def standard_stats(reference: np.ndarray) -> tuple[float, float, float] | None:
    """(lowest, mean, std) of a signal over the catalog (or its sample), non-finite values counted as the lowest
    finite one; None when none is finite (the signal then standardises to 0)."""
    finite = np.isfinite(reference)
    if not finite.any():
        return None
    lowest = float(reference[finite].min())
    r = np.where(finite, reference, lowest).astype(np.float64)
    return lowest, float(r.mean()), max(float(r.std()), 1e-6)


def apply_standard(raw: np.ndarray, stats: tuple[float, float, float] | None) -> np.ndarray:
    if stats is None:
        return np.zeros(len(raw), np.float32)
    lowest, mean, std = stats
    x = np.where(np.isfinite(raw), raw, lowest).astype(np.float64)
    return bound((x - mean) / std)


def group_signal(index: StyleIndex, taste: CustomerTaste) -> np.ndarray:
    """``(N,)`` float32, 0..4: the share of the history's weight on other members of each product's group, x 4."""
    signal = np.zeros(len(index), np.float32)
    rows, values = group_signal_sparse(index, taste)
    signal[rows] = values
    return signal


def group_signal_sparse(index: StyleIndex, taste: CustomerTaste) -> tuple[np.ndarray, np.ndarray]:
    """:func:`group_signal` where it can be non-zero: the rows ``(m,)`` int64 (sorted) of the members of the
    history's groups and their values ``(m,)`` float32 (the same as the dense signal's)."""
    none = (np.zeros(0, np.int64), np.zeros(0, np.float32))
    if not taste.items or not index.group_names:
        return none
    rows = np.asarray([i.row for i in taste.items], np.int64)
    weights = np.asarray([i.weight for i in taste.items], np.float64)
    share = weights / max(float(weights.sum()), 1e-12)
    codes = index.group_codes[rows]
    grouped = codes >= 0
    if not grouped.any():
        return none
    per_group = np.bincount(codes[grouped], weights=share[grouped], minlength=len(index.group_names))
    members = np.sort(np.concatenate([index.group_rows(int(r)) for r in rows[grouped]]))
    members = members[np.r_[True, members[1:] != members[:-1]]]  # groups are disjoint; one history item each
    values = per_group[index.group_codes[members]].astype(np.float32)
    values[np.searchsorted(members, rows[grouped])] -= share[grouped]  # a product is not another colour of itself
    return members, (BOUND * np.clip(values, 0.0, 1.0)).astype(np.float32)


def behaviour_signal(cooc: np.ndarray, total_weight: float) -> np.ndarray:
    """Co-occurrence as ``4 x`` the history-weighted mean cosine (0..4; 0 = no co-buyers). An absolute scale, not
    a z-score or the customer's own maximum: those turned one shared shopper into full-strength evidence, and the
    shrinkage in :meth:`Behaviour.cooccurrence` could not act."""
    return (BOUND * cooc / max(total_weight, 1e-9)).astype(np.float32)


def neighbour_queries(index: StyleIndex, rows: np.ndarray) -> tuple[np.ndarray, float]:
    """History rows ``rows`` ``(H,)`` as queries ``(H, D)`` float32 and an offset such that
    ``s(h, p) = looks[p] . queries[h] - offset`` (see :func:`neighbour_similarities`)."""
    mean, std = index.pair_stats
    history = index.rows(rows)  # (H, D)
    queries = np.zeros_like(history)
    offset = 0.0
    for name in NEIGHBOUR_BLOCKS:
        c, part = COMPONENTS.index(name), index.blocks[name]
        queries[:, part] = history[:, part] / (len(NEIGHBOUR_BLOCKS) * std[c])
        offset += mean[c] / (len(NEIGHBOUR_BLOCKS) * std[c])
    return queries, float(offset)


def neighbour_similarities(index: StyleIndex, rows: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
    """``s(h, p)``: the mean over :data:`NEIGHBOUR_BLOCKS` of the standardised cosine between history rows ``rows``
    ``(H,)`` and products ``items`` (all products when None). Returns ``(len(items) or N, H)`` float32.

    Standardising each block by the catalog's pairwise cosine statistics (:meth:`StyleIndex.pair_stats`) makes the
    blocks count alike; it is linear, so the whole sum is one matrix product with a pre-scaled query per item."""
    queries, offset = neighbour_queries(index, rows)
    if items is None:
        return index.dot(queries.T) - offset
    return matmul32(index.rows(items), queries.T) - offset


def neighbour_history(taste: CustomerTaste) -> tuple[np.ndarray, np.ndarray]:
    """The rows ``(H,)`` of the history items the neighbour signal looks at and ``log a_h`` ``(H,)`` float32."""
    history = taste.items[:NEIGHBOUR_ITEMS]
    rows = np.asarray([i.row for i in history], np.int64)
    a = np.asarray([i.weight for i in history], np.float64)
    return rows, np.log(np.maximum(a / a.sum(), 1e-12)).astype(np.float32)


def neighbour_terms(sims: np.ndarray, targets: np.ndarray, rows: np.ndarray, log_a: np.ndarray) -> np.ndarray:
    """``(n, H)`` log-sum-exp terms from similarities ``sims`` ``(n, H)`` of products ``targets`` ``(n,)`` to the
    history ``rows``; a product is not its own neighbour (``-inf``)."""
    terms = NEIGHBOUR_SHARPNESS * sims + log_a
    for i in np.flatnonzero(np.isin(targets, rows)):
        terms[i, rows == targets[i]] = -np.inf
    return terms


def soft_maximum(terms: np.ndarray) -> np.ndarray:
    """``(n,)`` float32: ``(1/b) log sum_h exp(terms)`` per row, computed stably."""
    top = terms.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return ((top[:, 0] + np.log(np.exp(terms - top).sum(axis=1))) / NEIGHBOUR_SHARPNESS).astype(np.float32)


def neighbour_contributions(index: StyleIndex, taste: CustomerTaste, items: np.ndarray | None = None) -> np.ndarray:
    """``(n, H)``: each history item's term ``log a_h + b s(h, p)`` inside the neighbour signal's log-sum-exp (the
    largest names the history item that carries it); a product is not its own neighbour (``-inf``)."""
    rows, log_a = neighbour_history(taste)
    targets = np.arange(len(index)) if items is None else np.asarray(items)
    return neighbour_terms(neighbour_similarities(index, rows, items), targets, rows, log_a)


def neighbour_signal(index: StyleIndex, taste: CustomerTaste, items: np.ndarray | None = None) -> np.ndarray:
    """``(N,)`` float32 (or one per row of ``items``): the raw neighbour signal of every product (see the module
    docstring); 0 without history."""
    if not taste.items:
        return np.zeros(len(index) if items is None else len(items), np.float32)
    return soft_maximum(neighbour_contributions(index, taste, items))


def neighbour_on_sample(index: StyleIndex, taste: CustomerTaste) -> np.ndarray:
    """:func:`neighbour_signal` (float32) on the index's statistics sample (:attr:`StyleIndex.sample`, in memory)."""
    sample_rows, sample = index.sample
    rows, log_a = neighbour_history(taste)
    queries, offset = neighbour_queries(index, rows)
    return soft_maximum(neighbour_terms(matmul32(sample, queries.T) - offset, sample_rows, rows, log_a))
