"""What the merchandiser's workspace shows for one customer, computed in one call off the GUI thread.

:func:`customer_workspace` bundles the explained recommendations with everything the panels draw: the product tiles
(titles, prices, image paths) of the recommended and history products, the taste's palette, and each taste cluster
with its representative products. Qt-free; the GUI runs it on its read lane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stylerec_desktop.core.catalog import Catalog, ProductTile
from stylerec_desktop.core.recommend.controls import REPRESENTATIVES, WorkspaceQuery
from stylerec_desktop.core.recommend.explain import Explanation, lab_to_hex
from stylerec_desktop.core.recommend.features import extractor_version
from stylerec_desktop.core.recommend.index import StyleIndex
from stylerec_desktop.core.recommend.ranking import Recommendation
from stylerec_desktop.core.recommend.service import INDEX_CACHE, IndexCache, recommend_for_customer
from stylerec_desktop.core.recommend.taste import CustomerTaste, TasteSettings

# Two palette colours closer than this (CIE76) are one swatch.
_SAME_COLOUR_DELTA_E = 12.0
PALETTE_SWATCHES = 6


@dataclass(frozen=True)
class Swatch:
    """One colour of a palette: ``#rrggbb`` and its share 0..1 of the palette."""

    hex: str
    share: float


@dataclass(frozen=True)
class TasteCluster:
    """One taste of the customer: its ``share`` 0..1 of the history's weight, how many history ``items`` it holds,
    its palette, and its heaviest members' product ids (the representative products, heaviest first)."""

    number: int
    share: float
    palette: tuple[Swatch, ...]
    product_ids: tuple[int, ...]
    items: int = 0


@dataclass(frozen=True)
class CustomerWorkspace:
    """Answer to a :class:`WorkspaceQuery`. ``indexed`` is False when the catalog has no style index yet (then
    everything else is empty). ``customer_name`` is the customer's name as imported ("" when none was)."""

    query: WorkspaceQuery
    indexed: bool
    customer_name: str = ""
    taste: CustomerTaste | None = None
    items: tuple[tuple[Recommendation, Explanation], ...] = ()
    tiles: dict[int, ProductTile] | None = None
    palette: tuple[Swatch, ...] = ()
    clusters: tuple[TasteCluster, ...] = ()
    categories: tuple[str, ...] = ()

    def tile(self, product_id: int) -> ProductTile | None:
        return (self.tiles or {}).get(product_id)


def weighted_palette(palettes: np.ndarray, weights: np.ndarray, count: int = PALETTE_SWATCHES) -> tuple[Swatch, ...]:
    """The ``count`` main colours of several ``(K, 4)`` Lab+share palettes, each palette weighted by ``weights``.

    Colours closer than CIE76 12 merge (their shares add up, the heavier one's colour stays). Shares of the result
    sum to 1 over the swatches returned.
    """
    if len(palettes) == 0:
        return ()
    w = np.asarray(weights, np.float64)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    colours = palettes.reshape(-1, 4).astype(np.float64)
    shares = (palettes[:, :, 3] * w[:, None]).reshape(-1)
    merged: list[list[float]] = []  # [L, a, b, share]
    for i in np.argsort(-shares):
        if shares[i] <= 1e-4:
            break
        for colour in merged:
            if np.linalg.norm(np.asarray(colour[:3]) - colours[i, :3]) < _SAME_COLOUR_DELTA_E:
                colour[3] += float(shares[i])
                break
        else:
            merged.append([*colours[i, :3].tolist(), float(shares[i])])
    merged.sort(key=lambda c: -c[3])
    top = merged[:count]
    total = sum(c[3] for c in top) or 1.0
    return tuple(Swatch(lab_to_hex(np.asarray(c[:3])), c[3] / total) for c in top)


def _clusters(index: StyleIndex, taste: CustomerTaste) -> tuple[TasteCluster, ...]:
    clusters = []
    for number, style_taste in enumerate(taste.tastes):
        members = [taste.items[m] for m in style_taste.members]
        members.sort(key=lambda item: -item.weight)
        rows = np.asarray([m.row for m in members], np.int64)
        palette = weighted_palette(index.palettes[rows], np.asarray([m.weight for m in members]))
        ids = tuple(m.product_id for m in members[:REPRESENTATIVES])
        clusters.append(TasteCluster(number, style_taste.share, palette, ids, items=len(members)))
    return tuple(clusters)


def customer_workspace(catalog: Catalog, query: WorkspaceQuery, cache: IndexCache = INDEX_CACHE) -> CustomerWorkspace:
    """Recommendations, taste, palette and tiles for ``query`` (raises NotFound for an unknown customer)."""
    if catalog.image_feature_counts(extractor_version())[0] == 0:
        return CustomerWorkspace(query, indexed=False)
    # None: the catalog's tuned taste settings when it has some (recommend_for_customer decides).
    settings = None if query.catalog_taste else TasteSettings()
    answer = recommend_for_customer(
        catalog, query.customer_id, k=query.k, filters=query.filters, weights=query.weights,
        diversity=query.diversity, settings=settings, cache=cache,
    )  # fmt: skip
    index = cache.get(catalog)
    taste = answer.taste
    ids = {r.product_id for r, _ in answer.items} | {item.product_id for item in taste.items}
    tiles = catalog.product_tiles(sorted(ids))
    palette: tuple[Swatch, ...] = ()
    if taste.items:
        rows = np.asarray([item.row for item in taste.items], np.int64)
        palette = weighted_palette(index.palettes[rows], np.asarray([item.weight for item in taste.items]))
    return CustomerWorkspace(
        query=query,
        indexed=True,
        customer_name=catalog.customer(query.customer_id).name,
        taste=taste,
        items=answer.items,
        tiles=tiles,
        palette=palette,
        clusters=_clusters(index, taste),
        categories=tuple(sorted(index.category_names)),
    )
