"""Building the style index in chunks, so that a million products fit in twice the index's own memory.

The raw features are large next to the index: a product's EfficientNet vector is 1280 float32 (5 KB) where its
index row keeps 128 bfloat16 dims of it; the colour histograms' soft assignment is ``(K, 125, 3)`` per product. So
they are never held for the whole catalog at once. A build reads its source twice, chunk by chunk:

1. :func:`fit_projections` — the catalog means (style, visual, pattern), the pattern's per-dimension spread and the
   visual PCA, fitted on up to 20,000 evenly spaced products (the same sample and formula as before: a catalog of
   that size or smaller gets exactly the projections a one-shot fit gave);
2. :func:`build_index` — each chunk projected and written into preallocated index arrays.

A source is a callable that starts over on every call and yields :class:`FeatureChunk` s in product-id order (the
catalog's :meth:`~stylerec_desktop.core.catalog.Catalog.iter_product_feature_rows`, or arrays already in memory).
With stored projections (an index kept on disk, :mod:`.index_store`), products added later are projected with them,
in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import torch

from stylerec_desktop.core.catalog import ProductFeatureRow
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.recommend.behaviour import Behaviour, empty_behaviour
from stylerec_desktop.core.recommend.features import PALETTE_SIZE, PATTERN_DIM, STYLE_DIM, VISUAL_DIM, ImageFeatures
from stylerec_desktop.core.recommend.index import (
    _PCA_SAMPLE,
    COMPONENTS,
    VISUAL_COMPONENTS,
    Projection,
    StyleIndex,
    colour_histograms,
    storage_dtype,
)

# Rows per chunk: 4,096 products' raw features are ~23 MB of float32, the colour temporaries ~30 MB.
CHUNK_ROWS = 4096


@dataclass(frozen=True)
class FeatureChunk:
    """Consecutive products (in product-id order) with their raw features: ``style`` ``(n, 100)``, ``visual``
    ``(n, 1280)``, ``palettes`` ``(n, K, 4)``, ``pattern`` ``(n, 20)`` float32; ``image_keys`` ``(n,)`` ``S64`` the
    primary image's sha256 (hex) where known, which tells a later update which products were re-imaged."""

    product_ids: np.ndarray
    skus: Sequence[str]
    titles: Sequence[str]
    categories: Sequence[str]
    prices: Sequence[float | None]
    in_stock: Sequence[bool]
    groups: Sequence[str]
    style: np.ndarray
    visual: np.ndarray
    palettes: np.ndarray
    pattern: np.ndarray
    image_keys: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.product_ids)


ChunkSource = Callable[[], Iterator[FeatureChunk]]


def chunk_of_rows(rows: Sequence[ProductFeatureRow]) -> FeatureChunk:
    """Catalog rows (with their feature blobs) as one chunk."""
    features = [ImageFeatures.from_blobs(r.features) for r in rows]
    n = len(rows)
    return FeatureChunk(
        product_ids=np.asarray([r.product_id for r in rows], np.int64),
        skus=[r.sku for r in rows],
        titles=[r.title for r in rows],
        categories=[r.category for r in rows],
        prices=[r.price for r in rows],
        in_stock=[r.in_stock for r in rows],
        groups=[r.item_group_id for r in rows],
        style=np.stack([f.style for f in features]) if n else np.zeros((0, STYLE_DIM), np.float32),
        visual=np.stack([f.visual for f in features]) if n else np.zeros((0, VISUAL_DIM), np.float32),
        palettes=np.stack([f.palette for f in features]).reshape(n, PALETTE_SIZE, 4),
        pattern=np.stack([f.pattern for f in features]).reshape(n, PATTERN_DIM),
        image_keys=np.asarray([r.features.sha256 for r in rows], "S64"),
    )


def array_source(
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
    groups: Sequence[str] | None = None,
    chunk: int = CHUNK_ROWS,
) -> ChunkSource:
    """Arrays already in memory (the shapes of :class:`FeatureChunk`, for all products) as a chunk source."""
    n = len(product_ids)
    group_ids = list(groups) if groups is not None else [""] * n
    if len(group_ids) != n:
        raise ValueError(f"groups has {len(group_ids)} entries for {n} products")
    ids = np.asarray(product_ids, np.int64)

    def chunks() -> Iterator[FeatureChunk]:
        for start in range(0, n, chunk):
            part = slice(start, min(n, start + chunk))
            yield FeatureChunk(ids[part], skus[part], titles[part], categories[part], prices[part], in_stock[part],
                               group_ids[part], np.asarray(style[part], np.float32),
                               np.asarray(visual[part], np.float32), np.asarray(palettes[part], np.float32),
                               np.asarray(pattern[part], np.float32))  # fmt: skip

    return chunks


def fit_projections(source: ChunkSource, count: int) -> dict[str, Projection]:
    """Pass 1: the centring of every block and the visual PCA (see the module docstring), from ``count``
    products. Means and spreads accumulate in float64."""
    step = 1 if count <= _PCA_SAMPLE else count // _PCA_SAMPLE
    style_sum, pattern_sum, pattern_sq = np.zeros(STYLE_DIM), np.zeros(PATTERN_DIM), np.zeros(PATTERN_DIM)
    visual_sum: np.ndarray | None = None
    sample: list[np.ndarray] = []
    seen = 0
    for chunk in source():
        style_sum += chunk.style.sum(axis=0, dtype=np.float64)
        part = chunk.visual.sum(axis=0, dtype=np.float64)
        visual_sum = part if visual_sum is None else visual_sum + part
        pattern_sum += chunk.pattern.sum(axis=0, dtype=np.float64)
        pattern_sq += np.square(chunk.pattern, dtype=np.float64).sum(axis=0)
        first = (-seen) % step  # the first row of this chunk whose catalog position is a multiple of step
        sample.append(chunk.visual[first::step].copy())  # a copy: a view would keep the whole chunk alive
        seen += len(chunk)
    if seen != count:
        raise UserError("The catalog changed while its style index was being built: open it again.")
    if seen == 0 or visual_sum is None:
        raise UserError("No product images are indexed yet: run `stylerec index` first.")
    style_mean = (style_sum / seen).astype(np.float32)
    pattern_mean = pattern_sum / seen
    pattern_std = np.sqrt(np.maximum(pattern_sq / seen - pattern_mean**2, 0.0))
    visual_mean = (visual_sum / seen).astype(np.float32)
    return {
        "style": Projection(style_mean),
        "visual": _pca(np.concatenate(sample), visual_mean, VISUAL_COMPONENTS),
        "pattern": Projection(pattern_mean.astype(np.float32), scale=np.maximum(pattern_std, 1e-3).astype(np.float32)),
    }


def _pca(sample: np.ndarray, mean: np.ndarray, components: int) -> Projection:
    # Eigenvectors of the covariance (1280 x 1280) are cheaper than an SVD of the sample for large catalogs; the
    # covariance accumulates in float64 over blocks of the sample (its float64 copy would be 200 MB).
    covariance = np.zeros((sample.shape[1], sample.shape[1]))
    for start in range(0, len(sample), 2048):
        centred = (sample[start : start + 2048] - mean).astype(np.float64)
        covariance += centred.T @ centred
    _, vectors = np.linalg.eigh(covariance)
    keep = min(components, len(sample))
    return Projection(mean, basis=vectors[:, ::-1][:, :keep].astype(np.float32))


def project_chunk(chunk: FeatureChunk, projections: dict[str, Projection]) -> np.ndarray:
    """``(n, D)`` float32 look rows of one chunk: the four unit-length blocks side by side."""
    parts = {
        "style": projections["style"](chunk.style),
        "visual": projections["visual"](chunk.visual),
        "colour": colour_histograms(chunk.palettes),
        "pattern": projections["pattern"](chunk.pattern),
    }
    return np.concatenate([parts[name] for name in COMPONENTS], axis=1)


def look_blocks(projections: dict[str, Projection]) -> dict[str, slice]:
    """Where each block sits in a look row."""
    basis = projections["visual"].basis
    widths = {"style": STYLE_DIM, "visual": VISUAL_DIM if basis is None else basis.shape[1], "colour": 125,
              "pattern": PATTERN_DIM}  # fmt: skip
    blocks, start = {}, 0
    for name in COMPONENTS:
        blocks[name] = slice(start, start + widths[name])
        start += widths[name]
    return blocks


def build_index(
    source: ChunkSource,
    count: int,
    extractor: str,
    projections: dict[str, Projection] | None = None,
    behaviour: Behaviour | None = None,
    as_of: datetime | None = None,
) -> StyleIndex:
    """The index of the ``count`` products ``source`` yields: projections fitted first (pass 1) unless given,
    then every chunk projected into preallocated arrays (pass 2). Peak memory is the index plus one chunk."""
    if count == 0:
        raise UserError("No product images are indexed yet: run `stylerec index` first.")
    projections = projections or fit_projections(source, count)
    blocks = look_blocks(projections)
    width = max(b.stop for b in blocks.values())
    looks = torch.empty((count, width), dtype=storage_dtype())
    style_raw = np.empty((count, STYLE_DIM), np.float32)
    palettes = np.empty((count, PALETTE_SIZE, 4), np.float32)
    ids = np.empty(count, np.int64)
    keys = np.zeros(count, "S64")
    prices = np.empty(count, np.float32)
    in_stock = np.empty(count, bool)
    skus: list[str] = []
    titles: list[str] = []
    categories: list[str] = []
    groups: list[str] = []
    at = 0
    for chunk in source():
        n = len(chunk)
        if at + n > count:
            raise UserError("The catalog changed while its style index was being built: open it again.")
        part = slice(at, at + n)
        looks[part] = torch.from_numpy(project_chunk(chunk, projections)).to(looks.dtype)
        style_raw[part] = chunk.style
        palettes[part] = chunk.palettes
        ids[part] = chunk.product_ids
        if chunk.image_keys is not None:
            keys[part] = chunk.image_keys
        prices[part] = [np.nan if p is None else p for p in chunk.prices]
        in_stock[part] = chunk.in_stock
        skus += chunk.skus
        titles += chunk.titles
        categories += chunk.categories
        groups += chunk.groups
        at += n
    if at != count:
        raise UserError("The catalog changed while its style index was being built: open it again.")
    names = sorted(set(categories))
    code_of = {name: i for i, name in enumerate(names)}
    group_names = sorted({g for g in groups if g})
    group_code_of = {name: i for i, name in enumerate(group_names)}
    return StyleIndex(
        extractor=extractor,
        product_ids=ids,
        skus=skus,
        titles=titles,
        category_names=names,
        category_codes=np.fromiter((code_of[c] for c in categories), np.int32, count),
        prices=prices,
        in_stock=in_stock,
        group_names=group_names,
        group_codes=np.fromiter((group_code_of.get(g, -1) for g in groups), np.int32, count),
        looks=looks,
        blocks=blocks,
        style_raw=style_raw,
        palettes=palettes,
        projections=projections,
        behaviour=behaviour if behaviour is not None else empty_behaviour(count),
        as_of=as_of or datetime.now(UTC),
        image_keys=keys,
    )
