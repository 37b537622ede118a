"""What all customers did, as sparse matrices: item-to-item co-occurrence and recency-weighted popularity.

The customer x product matrix holds, per pair, the strongest event weight between them (a purchase outweighs the
views that led to it; repeating a view adds nothing). It is kept twice in CSR form (by customer and by product) as
plain numpy arrays, so that scoring one customer's history against 100,000 products is a couple of gathers and a
``bincount`` — no per-product Python.

Co-occurrence similarity is the cosine between two products' customer columns (Sarwar et al. 2001, item-based CF):
``sim(i, j) = sum_u w_ui w_uj / (|w_i| |w_j|)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import numpy as np

from stylerec_desktop.core.catalog import InteractionRow, parse_ts

# Default strength of each event kind (view < like < cart < purchase); user-configurable through the settings.
DEFAULT_KIND_WEIGHTS: Mapping[str, float] = {"view": 1.0, "like": 2.0, "cart": 3.0, "purchase": 5.0}


def decay(age_days: np.ndarray | float, half_life_days: float) -> np.ndarray | float:
    """Exponential time decay: 1 for now, 0.5 after ``half_life_days``; future events (negative age) count as now."""
    return np.power(0.5, np.maximum(age_days, 0.0) / half_life_days)


@dataclass(frozen=True)
class Behaviour:
    """Interactions of all customers with the products of an index (rows ``0..n_items-1``).

    ``user_indptr/user_items/user_weights`` is the CSR matrix by customer (row ``u`` = ``users[u]``, an internal
    customer id); ``item_indptr/item_users/item_weights`` the same matrix by product. ``popularity`` ``(n_items,)`` is
    the recency-weighted sum of event weights; ``has_events`` marks products anyone interacted with (cold-start
    products are the others).
    """

    n_items: int
    users: np.ndarray
    user_indptr: np.ndarray
    user_items: np.ndarray
    user_weights: np.ndarray
    item_indptr: np.ndarray
    item_users: np.ndarray
    item_weights: np.ndarray
    item_norm: np.ndarray
    popularity: np.ndarray
    has_events: np.ndarray

    @classmethod
    def from_interactions(
        cls,
        rows: Iterable[InteractionRow],
        row_of: Mapping[int, int],
        n_items: int,
        as_of: datetime,
        kind_weights: Mapping[str, float] = DEFAULT_KIND_WEIGHTS,
        popularity_half_life_days: float = 30.0,
    ) -> Behaviour:
        """Build from catalog events; events of products not in the index (``row_of``: product id -> row) are left
        out. ``as_of`` is "now" for the popularity decay (the evaluation cutoff when evaluating)."""
        users_l, items_l, weights_l, ages_l = [], [], [], []
        for r in rows:
            item = row_of.get(r.product_id)
            if item is None:
                continue
            users_l.append(r.customer_id)
            items_l.append(item)
            weights_l.append(kind_weights.get(r.kind, 0.0))
            ages_l.append((as_of - parse_ts(r.ts)).total_seconds() / 86400.0)
        users = np.asarray(users_l, np.int64)
        items = np.asarray(items_l, np.int64)
        weights = np.asarray(weights_l, np.float32)
        popularity = np.bincount(
            items, weights=weights * decay(np.asarray(ages_l, np.float64), popularity_half_life_days), minlength=n_items
        ).astype(np.float32)
        return cls.from_pairs(users, items, weights, n_items, popularity)

    @classmethod
    def from_pairs(
        cls, users: np.ndarray, items: np.ndarray, weights: np.ndarray, n_items: int, popularity: np.ndarray
    ) -> Behaviour:
        """Build from parallel arrays of (internal customer id, item row, event weight); duplicates keep the max."""
        unique_users, user_rows = np.unique(users, return_inverse=True)
        n_users = len(unique_users)
        # Strongest weight per (customer, product): sort by pair then weight, keep each pair's last entry.
        pair = user_rows.astype(np.int64) * n_items + items
        order = np.lexsort((weights, pair))
        pair, weights = pair[order], weights[order]
        last = np.ones(len(pair), bool)
        last[:-1] = pair[1:] != pair[:-1]
        pair, weights = pair[last], weights[last].astype(np.float32)
        u, i = pair // n_items, pair % n_items
        user_indptr = np.zeros(n_users + 1, np.int64)
        np.cumsum(np.bincount(u, minlength=n_users), out=user_indptr[1:])
        by_item = np.argsort(i, kind="stable")
        item_indptr = np.zeros(n_items + 1, np.int64)
        np.cumsum(np.bincount(i, minlength=n_items), out=item_indptr[1:])
        item_norm = np.sqrt(np.bincount(i, weights=weights.astype(np.float64) ** 2, minlength=n_items)).astype(
            np.float32
        )
        return cls(
            n_items=n_items,
            users=unique_users,
            user_indptr=user_indptr,
            user_items=i.astype(np.int64),
            user_weights=weights,
            item_indptr=item_indptr,
            item_users=u[by_item].astype(np.int64),
            item_weights=weights[by_item],
            item_norm=item_norm,
            popularity=popularity.astype(np.float32),
            has_events=item_indptr[1:] > item_indptr[:-1],
        )

    def _user_row(self, customer_id: int | None) -> int | None:
        if customer_id is None:
            return None
        pos = int(np.searchsorted(self.users, customer_id))
        return pos if pos < len(self.users) and self.users[pos] == customer_id else None

    def cooccurrence(
        self,
        items: np.ndarray,
        item_weights: np.ndarray,
        exclude_customer: int | None = None,
        shrinkage: float = 0.0,
    ) -> np.ndarray:
        """``(n_items,)`` float32: ``sum_h a_h sim(h, p)`` for history rows ``items`` with weights ``a_h``.

        ``exclude_customer`` (internal id) leaves that customer's own column out, so a customer's history does not
        "co-occur" with itself. ``shrinkage`` > 0 multiplies each product's score by ``n / (n + shrinkage)``, ``n``
        the number of (history item, other customer) links behind it: a cosine resting on one shared shopper is
        weak evidence, however high it is.
        """
        scores = np.zeros(self.n_items, np.float32)
        rows, values = self.cooccurrence_sparse(items, item_weights, exclude_customer, shrinkage)
        scores[rows] = values
        return scores

    def cooccurrence_sparse(
        self,
        items: np.ndarray,
        item_weights: np.ndarray,
        exclude_customer: int | None = None,
        shrinkage: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`cooccurrence` for the products it can be non-zero for only: their rows ``(m,)`` int64 (sorted)
        and scores ``(m,)`` float32, the same values. Every other product scores 0. The work and memory follow the
        customers and products the history reaches, not the catalog's size (a million-product catalog's dense
        version spent ~20 ms on arrays of a million zeros)."""
        none = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        items = np.asarray(items, np.int64)
        if items.size == 0 or self.user_items.size == 0:
            return none
        norms = self.item_norm[items]
        keep = norms > 0
        items, coef = items[keep], (np.asarray(item_weights, np.float32)[keep] / norms[keep])
        if items.size == 0:
            return none
        starts, ends = self.item_indptr[items], self.item_indptr[items + 1]
        counts = ends - starts
        flat = _ranges(starts, counts)
        # Each customer who touched a history item gets that item's weight x their own weight for it.
        user_mass = np.bincount(
            self.item_users[flat], weights=self.item_weights[flat] * np.repeat(coef, counts), minlength=len(self.users)
        )
        # How many of the history items each customer shares (for the shrinkage).
        user_links = np.bincount(self.item_users[flat], minlength=len(self.users)).astype(np.float64)
        excluded = self._user_row(exclude_customer)
        if excluded is not None:
            user_mass[excluded] = 0.0
        active = np.flatnonzero(user_mass)
        starts, ends = self.user_indptr[active], self.user_indptr[active + 1]
        counts = ends - starts
        flat = _ranges(starts, counts)
        # The products these customers touched, numbered 0..m-1: each bin sums the same terms in the same order
        # as a bincount over every product would, so the values are those of the dense version, bit for bit.
        rows, slot = np.unique(self.user_items[flat], return_inverse=True)
        spread = np.bincount(slot, weights=self.user_weights[flat] * np.repeat(user_mass[active], counts),
                             minlength=len(rows))  # fmt: skip
        norm = self.item_norm[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = np.where(norm > 0, spread / norm, 0.0)
        if shrinkage > 0:
            links = np.bincount(slot, weights=np.repeat(user_links[active], counts), minlength=len(rows))
            scores *= links / (links + shrinkage)
        return rows.astype(np.int64), scores.astype(np.float32)

    def similarity(self, a: int, b: int) -> float:
        """Co-occurrence cosine of two item rows (0 when they share no customer)."""
        if self.item_norm[a] == 0 or self.item_norm[b] == 0:
            return 0.0
        ua = self.item_users[self.item_indptr[a] : self.item_indptr[a + 1]]
        wa = self.item_weights[self.item_indptr[a] : self.item_indptr[a + 1]]
        ub = self.item_users[self.item_indptr[b] : self.item_indptr[b + 1]]
        wb = self.item_weights[self.item_indptr[b] : self.item_indptr[b + 1]]
        _, ia, ib = np.intersect1d(ua, ub, assume_unique=True, return_indices=True)
        return float((wa[ia] * wb[ib]).sum() / (self.item_norm[a] * self.item_norm[b]))

    @cached_property
    def popularity_signal(self) -> np.ndarray:
        """``(n_items,)`` float32: log popularity z-scored over the products with events, softly bounded to +-4;
        0 for cold-start products (the average, not a penalty). The same for every customer, so computed once."""
        signal = np.zeros(self.n_items, np.float32)
        warm = self.has_events
        if warm.any():
            x = np.log1p(self.popularity[warm].astype(np.float64))
            z = (x - x.mean()) / max(float(x.std()), 1e-6)
            signal[warm] = 4.0 * np.tanh(z / 4.0)
        return signal

    @cached_property
    def popularity_order(self) -> np.ndarray:
        """``(n_items,)`` int64: the rows by :attr:`popularity_signal`, highest first (ties in row order). Sorted
        once per behaviour, so that the best-sellers within a customer's filters are a short walk down it."""
        return np.argsort(-self.popularity_signal, kind="stable").astype(np.int64)

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for each pair, vectorised."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    return np.arange(total, dtype=np.int64) + offsets


def empty_behaviour(n_items: int) -> Behaviour:
    """No events at all (a catalog before its first import of events)."""
    none = np.zeros(0, np.int64)
    return Behaviour.from_pairs(none, none, np.zeros(0, np.float32), n_items, np.zeros(n_items, np.float32))
