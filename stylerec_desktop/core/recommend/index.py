"""The style index: every indexed product's vectors held in memory as matrices, ready for one-matmul scoring.

Built in chunks (:mod:`.index_build`), kept on disk beside the catalog and memory-mapped on open
(:mod:`.index_store`); big catalogs add approximate nearest-neighbour candidates (:mod:`.candidates`).

Rows are products (those whose primary image is indexed), in product-id order. All "look" descriptors live side by
side in one matrix ``looks`` ``(N, 100 + Dv + 125 + 20)``, each block unit-length, so a customer's several tastes are
scored against the whole catalog by a single matrix product (see :mod:`.ranking`). Scoring 100,000 products is bound
by memory bandwidth, not arithmetic, so the matrix is a torch tensor in bfloat16 where the CPU computes in it natively
(AVX512-BF16/AMX: half the bytes, 3x faster) and float32 elsewhere; values are unit-vector components, for which
bfloat16's 3 significant digits change a cosine by about 1e-3, and the ranking re-scores its short list in float32.

- ``style``  ``(N, 100)``: style vectors minus the catalog's mean style, unit length (centring makes cosine measure
  what is *distinctive* about a product's style rather than what all product shots share).
- ``visual`` ``(N, Dv)``: EfficientNet features, centred and projected on their top ``Dv`` <= 128 principal axes
  (fitted on this catalog), unit length. 1280 -> 128 dims keeps the neighbourhoods (the catalog's main axes of
  variation) and cuts this block of a 100,000-product index from 512 MB to 26 MB (bfloat16).
- ``colour`` ``(N, 125)``: each palette softly binned on a 5x5x5 Lab grid, square-rooted (Hellinger), unit length,
  so cosine is high exactly when two products share colours in similar proportions.
- ``pattern`` ``(N, 20)``: the texture descriptor standardised per dimension over the catalog, unit length.

``style_raw`` keeps the uncentred 100-d style vectors: the style transformer needs those (a customer's taste is a
weighted mean of them).

Product groups (the catalog's ``item_group_id``: variants of one product, e.g. its colours) are ``group_codes``
``(N,)`` int32 indexing ``group_names``, -1 for a product in no group; :meth:`StyleIndex.group_rows` gives a row's
group, :meth:`StyleIndex.shares_group` marks the groups of several rows at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import torch

from stylerec_desktop.core.catalog import Catalog, format_ts, parse_ts
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.recommend.behaviour import DEFAULT_KIND_WEIGHTS, Behaviour
from stylerec_desktop.core.recommend.features import extractor_version

if TYPE_CHECKING:
    from stylerec_desktop.core.recommend.candidates import CandidateIndex

VISUAL_COMPONENTS = 128
COMPONENTS = ("style", "visual", "colour", "pattern")
# Colour bins: centres of a 5x5x5 grid over the Lab gamut and the softness of the assignment (Lab units, about
# half the spacing, so a colour between two bins counts for both).
_L_CENTRES = np.array([10.0, 30.0, 50.0, 70.0, 90.0], np.float32)
_AB_CENTRES = np.array([-60.0, -30.0, 0.0, 30.0, 60.0], np.float32)
_COLOUR_SIGMA = 14.0
_PCA_SAMPLE = 20_000
_MIN_GEMM_COLUMNS = 8
# Rows in the evenly spaced sample on which per-customer catalog statistics are taken (StyleIndex.sample).
STATS_SAMPLE = 4096


def _bin_centres() -> np.ndarray:
    grid = np.stack(np.meshgrid(_L_CENTRES, _AB_CENTRES, _AB_CENTRES, indexing="ij"), axis=-1)
    return grid.reshape(-1, 3)


COLOUR_BINS = _bin_centres()  # (125, 3) Lab


def colour_histograms(palettes: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """``(N, K, 4)`` palettes (Lab + share) -> ``(N, 125)`` unit-length Hellinger colour histograms.

    Computed ``chunk`` products at a time: the soft assignment is ``(N, K, 125)`` and its difference array
    ``(N, K, 125, 3)``, 60x the histograms' own size (at 200,000 products, 1.5 GB of temporaries for 100 MB)."""
    out = np.empty((len(palettes), len(COLOUR_BINS)), np.float32)
    for start in range(0, len(palettes), chunk):
        part = np.asarray(palettes[start : start + chunk], np.float32)
        lab, share = part[..., :3], part[..., 3]
        d2 = ((lab[:, :, None, :] - COLOUR_BINS[None, None]) ** 2).sum(-1)  # (n, K, 125)
        soft = np.exp(-d2 / (2 * _COLOUR_SIGMA**2))
        soft /= np.maximum(soft.sum(-1, keepdims=True), 1e-12)
        hist = np.sqrt(np.einsum("nk,nkb->nb", share, soft))
        out[start : start + chunk] = _unit(hist.astype(np.float32))
    return out


def storage_dtype() -> torch.dtype:
    """bfloat16 where the CPU has native bf16 arithmetic (oneDNN), else float32 (see the module docstring)."""
    if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return torch.bfloat16
    return torch.float32


def _storage_view(tensor: torch.Tensor) -> np.ndarray:
    """Zero-copy numpy view of a float32 or bfloat16 tensor (bfloat16 as its raw uint16 bits)."""
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().view(np.uint16)
    return tensor.numpy()


def _as_float32(values: torch.Tensor | np.ndarray) -> np.ndarray:
    """A CPU tensor, or a :func:`_storage_view` array, as float32 numpy; bfloat16 is converted in numpy (its bits
    are the top half of a float32's).

    Not ``tensor.float()``: torch spreads even tiny conversions over its thread pool, and on a busy 2-core machine
    waking those threads cost 15-30 ms per call where numpy takes 0.1 ms.
    """
    if isinstance(values, torch.Tensor):
        values = _storage_view(values.contiguous())
    if values.dtype == np.uint16:
        return (values.astype(np.uint32) << 16).view(np.float32)
    return values.astype(np.float32, copy=False)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on the calling thread only, inside the block (the setting is per thread: torch's other users
    keep theirs). A top-10's products are a few milliseconds of work: on a busy 2-core machine waking a second
    thread for them cost more than it gave (25,000 rows x 27 queries in bfloat16: 12 ms of CPU on two threads,
    1.9 ms on one)."""
    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def matmul32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for float32 matrices ``(n, k) @ (k, m)``, on the calling thread (:func:`one_thread`): numpy's BLAS
    woke its second thread for a 4,096 x 373 x 12 product and, on the busy shared machine, waited 10-30 ms for it."""
    with one_thread():
        return (torch.from_numpy(np.ascontiguousarray(a, np.float32)) @ torch.from_numpy(
            np.ascontiguousarray(b, np.float32))).numpy()  # fmt: skip


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class Projection:
    """Centring (and for visual features, a PCA projection) fitted on one catalog, applied to new vectors."""

    mean: np.ndarray
    basis: np.ndarray | None = None  # (D_in, D_out); None = identity
    scale: np.ndarray | None = None  # per-dimension std (pattern)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y = x - self.mean
        if self.scale is not None:
            y = y / self.scale
        if self.basis is not None:
            y = y @ self.basis
        return _unit(y)


@dataclass
class StyleIndex:
    """In-memory matrices for every indexed product (see the module docstring for each block)."""

    extractor: str
    product_ids: np.ndarray  # (N,) int64
    skus: list[str]
    titles: list[str]
    category_names: list[str]  # distinct categories; ``category_codes`` index into it
    category_codes: np.ndarray  # (N,) int32
    prices: np.ndarray  # (N,) float32, NaN when unknown
    in_stock: np.ndarray  # (N,) bool
    group_names: list[str]  # distinct product groups (item_group_id); ``group_codes`` index into it
    group_codes: np.ndarray  # (N,) int32, -1 for a product in no group
    looks: torch.Tensor  # (N, D) storage_dtype(): style | visual | colour | pattern blocks, each unit length
    blocks: dict[str, slice]
    style_raw: np.ndarray  # (N, 100) float32, the predictor's own space
    palettes: np.ndarray  # (N, K, 4) float32 Lab + share
    projections: dict[str, Projection]
    behaviour: Behaviour
    as_of: datetime
    # The primary image's sha256 (hex) per row, ``(N,)`` ``S64`` ("" unknown): which products an update re-projects.
    image_keys: np.ndarray | None = None
    # Approximate nearest-neighbour candidates (:mod:`.candidates`) for catalogs too big to score whole; None: exact.
    candidates: CandidateIndex | None = None
    row_of: dict[int, int] = field(init=False)
    row_of_sku: dict[str, int] = field(init=False)
    _group_order: np.ndarray = field(init=False, repr=False)  # rows sorted by group code (stable)
    _group_starts: np.ndarray = field(init=False, repr=False)  # (G + 1,) where each group's rows start in it

    def __post_init__(self) -> None:
        self.row_of = {int(pid): i for i, pid in enumerate(self.product_ids)}
        self.row_of_sku = {sku: i for i, sku in enumerate(self.skus)}
        # Groups as one sorted array plus offsets: a group's rows are a slice, with no per-group Python objects
        # (a 100,000-product feed may hold 30,000 groups).
        codes = np.asarray(self.group_codes, np.int64)
        self._group_order = np.argsort(codes, kind="stable")
        self._group_starts = np.searchsorted(codes[self._group_order], np.arange(len(self.group_names) + 1))

    def group_rows(self, row: int) -> np.ndarray:
        """The rows ``(m,)`` int64 of the products in ``row``'s group, ``row`` included, in row (product id) order;
        just ``[row]`` for a product in no group."""
        code = int(self.group_codes[row])
        if code < 0:
            return np.asarray([row], np.int64)
        return self._group_order[self._group_starts[code] : self._group_starts[code + 1]].astype(np.int64)

    def __len__(self) -> int:
        return len(self.product_ids)

    @cached_property
    def pair_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std ``(4,)`` of the cosine between two different products in each look block, from up to 512
        evenly spaced rows (the scale on which the neighbour signal standardises similarities)."""
        sample = self.rows(np.arange(0, len(self), max(1, len(self) // 512)))
        off_diagonal = ~np.eye(len(sample), dtype=bool)
        mean, std = np.zeros(len(COMPONENTS)), np.ones(len(COMPONENTS))
        for c, name in enumerate(COMPONENTS):
            block = sample[:, self.blocks[name]]
            cosines = (block @ block.T)[off_diagonal]
            if cosines.size:
                mean[c], std[c] = float(cosines.mean()), max(float(cosines.std()), 1e-3)
        return mean.astype(np.float32), std.astype(np.float32)

    def shares_group(self, rows: np.ndarray | Sequence[int]) -> np.ndarray:
        """``(N,)`` bool: True for every product in the group of any of ``rows`` (those rows included when they are
        in a group; a row in no group marks nothing). E.g. the other colours of what a customer bought."""
        codes = self.group_codes[np.asarray(rows, np.int64)]
        codes = codes[codes >= 0]
        if codes.size == 0:
            return np.zeros(len(self), bool)
        return np.isin(self.group_codes, codes)

    def block(self, name: str) -> np.ndarray:
        """The ``(N, d)`` float32 copy of one descriptor (``style``, ``visual``, ``colour`` or ``pattern``)."""
        return _as_float32(self.looks[:, self.blocks[name]])

    def rows(self, rows: np.ndarray | Sequence[int] | int, name: str | None = None) -> np.ndarray:
        """Float32 copy of some rows: ``(len(rows), D)`` (or one block's ``d`` columns); a single int gives ``(D,)``."""
        # Gathered in numpy on a zero-copy view: torch would wake its thread pool for a few hundred rows.
        bits = _storage_view(self.looks)[np.asarray(rows, np.int64)]
        if name is not None:
            bits = bits[..., self.blocks[name]]
        return _as_float32(bits)

    @cached_property
    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """About :data:`STATS_SAMPLE` evenly spaced rows ``(s,)`` int64 and their look rows ``(s, D)`` float32,
        kept in memory: the sample on which every query takes its catalog statistics (6 MB at any size; reading
        it from the memory map on each query cost a gather of 4,096 scattered rows)."""
        rows = np.arange(0, len(self), max(1, len(self) // STATS_SAMPLE))
        return rows, self.rows(rows)

    def dot_rows(self, rows: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """``looks[rows] @ queries`` for ``rows`` ``(n,)`` (sorted rows read the memory map in order) and ``queries``
        ``(D, m)`` float32: ``(n, m)`` float32, computed in the storage dtype on the calling thread (a first pass,
        as :meth:`dot`; the ranking re-scores its short list in float32)."""
        bits = np.take(_storage_view(self.looks), np.asarray(rows, np.int64), axis=0)
        if self.looks.dtype == torch.bfloat16:
            x = torch.from_numpy(bits.view(np.int16)).view(torch.bfloat16)
        else:
            x = torch.from_numpy(bits)
        q = torch.from_numpy(np.ascontiguousarray(queries, np.float32)).to(self.looks.dtype)
        with one_thread():
            return _as_float32(x @ q)

    def dot(self, queries: np.ndarray) -> np.ndarray:
        """``looks @ queries`` for ``queries`` ``(D, m)`` float32: ``(N, m)`` float32, computed in the storage dtype
        (one pass over the matrix; see the module docstring for the precision)."""
        m = queries.shape[1]
        if self.looks.dtype == torch.bfloat16 and m < _MIN_GEMM_COLUMNS:
            # oneDNN's bf16 matrix-vector path is ~3x slower than its AMX matrix-matrix path, which it takes from 8
            # columns on (100,000 x 373: 17 ms -> 6 ms); zero columns are free next to reading the matrix.
            queries = np.pad(queries, ((0, 0), (0, _MIN_GEMM_COLUMNS - m)))
        q = torch.from_numpy(np.ascontiguousarray(queries, np.float32)).to(self.looks.dtype)
        return _as_float32((self.looks @ q)[:, :m])

    def row(self, sku: str) -> int:
        try:
            return self.row_of_sku[sku]
        except KeyError:
            raise UserError(
                f"Product {sku!r} is not in the style index (unknown sku, or its image is not indexed yet: "
                "run `stylerec index`)."
            ) from None

    @property
    def nbytes(self) -> int:
        """Memory held by the index's arrays (bytes), behaviour and candidate structure included; Python lists of
        skus/titles excluded."""
        arrays = [self.product_ids, self.category_codes, self.group_codes, self.prices, self.in_stock, self.style_raw,
                  self.palettes, self._group_order, self._group_starts]  # fmt: skip
        if self.image_keys is not None:
            arrays.append(self.image_keys)
        if "sample" in self.__dict__:  # the statistics sample, once a query has cached it
            arrays.append(self.sample[1])
        looks = self.looks.element_size() * self.looks.numel()
        extra = self.candidates.nbytes if self.candidates is not None else 0
        return sum(a.nbytes for a in arrays) + looks + self.behaviour.nbytes + extra

    # -- construction ------------------------------------------------------------------------------------------

    @classmethod
    def from_features(
        cls,
        product_ids: Sequence[int],
        skus: Sequence[str],
        titles: Sequence[str],
        categories: Sequence[str],
        prices: Sequence[float | None],
        in_stock: Sequence[bool],
        style: np.ndarray,
        visual: np.ndarray,
        palettes: np.ndarray,
        pattern: np.ndarray,
        extractor: str,
        behaviour: Behaviour | None = None,
        as_of: datetime | None = None,
        groups: Sequence[str] | None = None,
    ) -> StyleIndex:
        """Build from raw per-product arrays (``style (N,100)``, ``visual (N,1280)``, ``palettes (N,K,4)``,
        ``pattern (N,20)``); fits the centring/PCA on them. ``groups`` gives each product's group id ("" for
        none; None: no product is in a group)."""
        from stylerec_desktop.core.recommend.index_build import array_source, build_index

        source = array_source(product_ids, skus, titles, categories, prices, in_stock, style, visual, palettes,
                              pattern, groups)  # fmt: skip
        return build_index(source, len(product_ids), extractor, behaviour=behaviour, as_of=as_of)


def load_index(
    catalog: Catalog,
    events_before: datetime | None = None,
    extractor: str | None = None,
    kind_weights: Mapping[str, float] = DEFAULT_KIND_WEIGHTS,
) -> StyleIndex:
    """The index of ``catalog``: its products' looks from the index kept on disk beside it (built, updated or
    rebuilt there as needed: :mod:`.index_store`), its behaviour from its events (only those before
    ``events_before`` when given: the evaluation's training window).

    ``as_of`` of the index (the "now" of decays) is ``events_before`` or, without it, the newest event's time, so a
    catalog imported from last year's history still ranks by what was recent *then*.
    """
    from stylerec_desktop.core.recommend.index_store import stored_index

    index = stored_index(catalog, extractor or extractor_version())
    if events_before is not None:
        index.as_of = events_before
    else:
        span = catalog.event_time_span()
        index.as_of = parse_ts(span[1]) if span else datetime.now(UTC)
    before = format_ts(events_before) if events_before is not None else None
    index.behaviour = Behaviour.from_interactions(
        catalog.interactions(before=before), index.row_of, len(index), index.as_of, kind_weights
    )
    return index
