"""Candidates for big catalogs: an approximate nearest-neighbour structure over the look rows (FAISS).

Scoring every product costs a pass over the whole look matrix (twice: the tastes and the history neighbours) plus
O(N) work per signal; at a million products that is several hundred milliseconds per customer. For catalogs of
:data:`ANN_MIN_PRODUCTS` or more the ranking therefore scores exactly only a short list (:func:`candidate_rows`):

- the products nearest each look query (one per taste: the blend's weighted, standardised look columns folded into
  one vector — the look score is linear in a product's look row, so it is an inner product);
- the products nearest the most weighted history items (the neighbour signal is a soft maximum over them);
- the best products by everything else (co-occurrence, popularity, group, learned model): every product with a
  co-occurrence or group term, and the best-sellers within the filters (a walk down the popularity order). Where
  the look signals saturate (the soft bound: thousands of products near a taste score ~4 on style and visual),
  these small signals decide the top-10, so this list is deep (:data:`OTHER_DEPTH`) and the look search shallow;

all within the filters. When the filters leave :data:`EXACT_BELOW` products or fewer, those are all scored (as
cheap as a search). The search depth grows as the filters narrow (the structure itself does not know them).

The structure is FAISS's inverted file with 8-bit scalar quantisation (``IndexIVFScalarQuantizer``, inner product):
``sqrt(N)`` k-means cells trained on a sample, about 1 byte per dimension per product (373 MB for a million), one
look query probes :data:`NPROBE` cells, one history item :data:`NEIGHBOUR_NPROBE`. Measured against USearch and
hnswlib in ``bench/bench_ann.py`` (see ``docs/SCALING.md``): the graph indexes answer faster but take minutes to
build a million products on two cores and hold float32 copies (hnswlib) or lose recall at 8 bits (USearch); the
quantisation's error does not matter here, because every candidate is re-scored exactly. FAISS is optional
(``pip install stylerec-desktop[large]``): without it the ranking scores every product, exactly, as for small
catalogs.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from stylerec_desktop.core.recommend.index import StyleIndex

ANN_MIN_PRODUCTS = 50_000
EXACT_BELOW = 20_000
# Cells scanned per look query (of sqrt(N): 1,000 at a million). Measured at 1,000,000 synthetic products (30
# customers x 3 cases, recall of the exact top-10; bench_index_scale.py): 32 cells 0.99-1.00, 24 cells 0.99-1.00
# (with the deeper best-seller list below), 16 cells 0.96-0.97, 8 cells 0.79-0.86; each cell is ~0.08 ms per query.
NPROBE = 24
# Candidates wanted within the filters, per look query and per history item searched.
LOOK_DEPTH = 2000
# ... and at least this share of the catalog per look query: a bigger catalog packs more products near each taste
# (at 1,000,000 synthetic products with 1,000 best-sellers: 2,000 found 0.89 of the exact top-10 and 8,000 found
# 0.996; with 5,000 best-sellers, 3,000 found 0.99 and 2,000 0.98).
LOOK_SHARE = 3 / 1000
NEIGHBOUR_DEPTH = 300
NEIGHBOUR_QUERIES = 4  # history items searched on their own, most weighted first
# Cells scanned for each of those: a history item's near neighbours sit in its own cell or the next ones (scanning is
# ~0.08 ms per cell per query on this CPU; 32 cells for 4 items was 11 ms of a top-10's ~50).
NEIGHBOUR_NPROBE = 8
OTHER_DEPTH = 5000  # best allowed products by the signals that are not looks (see the module docstring)
SPARSE_CAP = 5000
_MAX_DEPTH = 8192
_ADD_CHUNK = 16_384
# Rows are padded with zeros to a multiple of 16 dims: FAISS's SIMD scan of 8-bit codes needs it (373 -> 384 dims
# made a 7-query search 3.5x faster on this CPU; inner products are unchanged).
_ALIGN = 16


def _padded(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    extra = -x.shape[1] % _ALIGN
    return np.ascontiguousarray(np.pad(x, ((0, 0), (0, extra))) if extra else x)


def available() -> bool:
    """Whether FAISS is installed (``pip install stylerec-desktop[large]``)."""
    return importlib.util.find_spec("faiss") is not None


class CandidateIndex:
    """A FAISS inverted-file index over the look rows, keyed by product id."""

    def __init__(self, ivf: Any) -> None:
        self._ivf = ivf

    @classmethod
    def build(cls, index: StyleIndex) -> CandidateIndex:
        import faiss

        n = len(index)
        dim = index.looks.shape[1] + (-index.looks.shape[1] % _ALIGN)
        cells = int(min(4096, max(16, round(math.sqrt(n)))))
        quantizer = faiss.IndexFlatIP(dim)
        ivf = faiss.IndexIVFScalarQuantizer(quantizer, dim, cells, faiss.ScalarQuantizer.QT_8bit,
                                            faiss.METRIC_INNER_PRODUCT)  # fmt: skip
        # 40 training rows per cell is FAISS's own minimum for a stable k-means.
        ivf.train(_padded(index.rows(np.arange(0, n, max(1, n // (cells * 40))))))
        for start in range(0, n, _ADD_CHUNK):
            rows = np.arange(start, min(n, start + _ADD_CHUNK))
            ivf.add_with_ids(_padded(index.rows(rows)), index.product_ids[rows])
        ivf.nprobe = NPROBE
        return cls(ivf)

    @property
    def nbytes(self) -> int:
        """Approximate memory (bytes): the codes and ids of every product plus the cell centres."""
        return int(self._ivf.ntotal * (self._ivf.code_size + 8) + self._ivf.nlist * self._ivf.d * 4)

    def __len__(self) -> int:
        return int(self._ivf.ntotal)

    def search(self, queries: np.ndarray, depth: int, nprobe: int = 0) -> np.ndarray:
        """Product ids ``(m, depth)`` int64 with the largest inner product with each of ``queries`` ``(m, D)``
        (approximately), best first; -1 where a query finds fewer. ``nprobe``: cells scanned per query (0: the
        structure's own, :data:`NPROBE`)."""
        import faiss

        params = None
        if nprobe:
            params = faiss.SearchParametersIVF()
            params.nprobe = nprobe
        # One thread: a customer's few queries are latency-bound, and FAISS's spinning OpenMP threads cost more
        # than they give on a machine that is busy with other work (the GUI, indexing).
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            _, ids = self._ivf.search(_padded(queries), depth, params=params)
        finally:
            faiss.omp_set_num_threads(threads)
        return ids

    def update(self, gone: np.ndarray, added: np.ndarray, rows: np.ndarray) -> None:
        """Forget the products ``gone`` (ids) and add ``added`` (ids) with their look rows ``rows`` ``(n, D)``
        float32 (a re-imaged product is in both)."""
        import faiss

        if len(gone):
            self._ivf.remove_ids(faiss.IDSelectorBatch(np.asarray(gone, np.int64)))
        if len(added):
            self._ivf.add_with_ids(_padded(rows), np.asarray(added, np.int64))

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._ivf, str(path))


def load(path: Path, width: int) -> CandidateIndex | None:
    """The structure saved at ``path`` for look rows of ``width`` dims; None without FAISS (the ranking then scores
    every product) or when it was made for rows of another width (it is built again)."""
    if not available():
        return None
    import faiss

    ivf: Any = faiss.read_index(str(path))  # an IndexIVFScalarQuantizer (FAISS types it as its base class)
    if ivf.d != width + (-width % _ALIGN):
        return None
    ivf.nprobe = NPROBE
    return CandidateIndex(ivf)


def look_depth(n: int) -> int:
    """Products wanted from each look query in an ``n``-product catalog (before the filters' share)."""
    return max(LOOK_DEPTH, int(n * LOOK_SHARE))


def in_use(index: StyleIndex) -> bool:
    """Whether the ranking of ``index`` goes through candidates (a big catalog with a structure)."""
    return index.candidates is not None and len(index) >= ANN_MIN_PRODUCTS


def candidate_rows(
    index: StyleIndex,
    allowed: np.ndarray,
    count: int,
    searches: list[tuple[np.ndarray, int, int]],
    others: list[np.ndarray],
) -> np.ndarray:
    """Rows ``(n,)`` int64 (sorted, unique, all allowed) to score exactly; see the module docstring.

    ``allowed`` ``(N,)`` bool: the filters, ``count`` of them True; ``searches``: query rows ``(m, D)`` with the
    number of allowed products wanted from each and the cells to scan (0: :data:`NPROBE`); ``others``: rows chosen
    by the signals that are not looks (the ranking's best by co-occurrence, group, popularity, learned model). When
    the filters leave :data:`EXACT_BELOW` products or fewer, those are all returned.
    """
    if count <= EXACT_BELOW or index.candidates is None:
        return np.flatnonzero(allowed)
    share = count / len(index)
    ids = [index.candidates.search(queries, int(min(_MAX_DEPTH, math.ceil(want / share))), nprobe).ravel()
           for queries, want, nprobe in searches if len(queries)]  # fmt: skip
    found = [_rows_of(index, _sorted_unique(np.concatenate(ids))) if ids else np.zeros(0, np.int64), *others]
    rows = _sorted_unique(np.concatenate(found))
    return rows[allowed[rows]]


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique`` for int arrays by one sort (numpy's hash-based unique took 3x longer on 30,000 ids)."""
    x = np.sort(x)
    return x[np.r_[True, x[1:] != x[:-1]]] if len(x) else x


def _rows_of(index: StyleIndex, ids: np.ndarray) -> np.ndarray:
    """Rows of the product ids ``ids`` (sorted: the binary searches then walk the id array in order) that are in
    the index (ids it does not hold, and FAISS's -1 for "none", dropped)."""
    ids = ids[ids >= 0]
    if len(ids) == 0 or len(index) == 0:
        return np.zeros(0, np.int64)
    rows = np.minimum(np.searchsorted(index.product_ids, ids), len(index) - 1)
    return rows[index.product_ids[rows] == ids]
