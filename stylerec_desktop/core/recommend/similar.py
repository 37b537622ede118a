"""Products similar to a given product: by style, by look (visual), by colour, or by a blend of the three.

Similarity by style or visual look is the cosine between the products' index blocks (see :mod:`.index`): -1..1, 1
for the same image. Similarity by colour compares the two palettes directly (:func:`palette_similarity`, 0..1): the
colour histograms' cosine saturates (every black sneaker scored 1.00 against every other black sneaker, so their
order was arbitrary and a threshold could not filter), while the palettes still tell a jet black from a charcoal.
The blend is the weighted mean of the style, visual and colour-histogram cosines (weights 0.4 / 0.35 / 0.25 by
default, chosen so that no single aspect decides alone), so it stays on the same -1..1 scale and a threshold means
the same thing. Every score is at most 1 (the index stores bfloat16, whose rounding can lift a cosine to 1.002).

:func:`similar_products` works on a :class:`StyleIndex`; :func:`similar_to_product` is the one call over a catalog that
the GUI's "Find similar" makes (the product, its neighbours and their tiles, or why there are none).

:func:`same_group_products` answers "Same product, other colours": the other members of the product's group (its
``item_group_id``), closest colour first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from stylerec_desktop.core.catalog import Catalog, ProductTile
from stylerec_desktop.core.errors import NotFound, UserError
from stylerec_desktop.core.recommend.features import extractor_version
from stylerec_desktop.core.recommend.index import StyleIndex
from stylerec_desktop.core.recommend.service import INDEX_CACHE, IndexCache

SIMILAR_BY: tuple[str, ...] = ("style", "visual", "colour", "blend")
# CIE76 distance (Lab units) at which two colours count as 1/e alike in :func:`palette_similarity`: about the
# difference between navy and royal blue, or jet black and charcoal.
PALETTE_DISTANCE_SCALE = 12.0


def palette_similarity(query: np.ndarray, palettes: np.ndarray) -> np.ndarray:
    """How alike a ``(K, 4)`` palette (Lab + share) is to each of ``palettes`` ``(n, K, 4)``: 0..1, 1 for the same.

    A symmetric share-weighted nearest-colour distance (each colour of one palette to the closest of the other, both
    ways, weighted by its share), turned into a similarity by ``exp(-d / PALETTE_DISTANCE_SCALE)``.
    """
    d = np.linalg.norm(palettes[:, :, None, :3] - query[None, None, :, :3], axis=-1)  # (n, K_them, K_query)
    their_share = palettes[:, :, 3] / np.maximum(palettes[:, :, 3].sum(1, keepdims=True), 1e-9)
    our_share = query[:, 3] / max(float(query[:, 3].sum()), 1e-9)
    them_to_us = (d.min(axis=2) * their_share).sum(axis=1)
    us_to_them = (d.min(axis=1) * our_share[None, :]).sum(axis=1)
    return np.exp(-(them_to_us + us_to_them) / (2 * PALETTE_DISTANCE_SCALE)).astype(np.float32)
DEFAULT_BLEND: Mapping[str, float] = {"style": 0.4, "visual": 0.35, "colour": 0.25}


@dataclass(frozen=True)
class SimilarProduct:
    """One neighbour: ``score`` is the similarity used for ranking, ``components`` the cosine per aspect."""

    row: int
    product_id: int
    sku: str
    title: str
    score: float
    components: dict[str, float]


def similar_products(
    index: StyleIndex,
    sku: str,
    by: str = "blend",
    k: int = 10,
    threshold: float | None = None,
    blend: Mapping[str, float] = DEFAULT_BLEND,
    same_category: bool = False,
) -> list[SimilarProduct]:
    """The ``k`` products most similar to ``sku`` (itself excluded), highest score first; only those scoring at
    least ``threshold`` when given. ``same_category`` keeps the neighbours in the product's category."""
    if by not in SIMILAR_BY:
        raise UserError(f"Unknown similarity {by!r}; use one of {', '.join(SIMILAR_BY)}.")
    if k < 1:
        raise UserError(f"k must be at least 1, got {k}.")
    row = index.row(sku)
    aspects = ("style", "visual", "colour")
    if by == "blend":
        total = sum(blend.get(a, 0.0) for a in aspects)
        if total <= 0:
            raise UserError("The blend needs a positive weight for style, visual or colour.")
        mix = np.asarray([blend.get(a, 0.0) / total for a in aspects], np.float32)
    else:
        mix = np.asarray([float(a == by) for a in aspects], np.float32)
    # One pass over the index: a query column per aspect, holding the product's own block.
    own = index.rows(row)
    queries = np.zeros((len(own), len(aspects)), np.float32)
    for i, name in enumerate(aspects):
        queries[index.blocks[name], i] = own[index.blocks[name]]
    allowed = np.ones(len(index), bool)
    allowed[row] = False
    if same_category:
        allowed &= index.category_codes == index.category_codes[row]
    candidates = np.flatnonzero(allowed)
    if candidates.size == 0:
        return []
    if by == "colour":
        # Palettes are tiny (5 colours each): compare them all directly, no first pass needed.
        rough = palette_similarity(index.palettes[row], index.palettes[candidates])
    else:
        # First pass in the index's storage precision, then the short list re-scored exactly in float32.
        rough = index.dot(queries)[candidates] @ mix
    shortlist = candidates[np.argsort(-rough, kind="stable")[: max(8 * k, 200)]]
    rows = index.rows(shortlist)
    cosines = np.minimum(rows @ queries, 1.0)
    score = np.minimum(cosines @ mix, 1.0)
    if by == "colour":
        score = palette_similarity(index.palettes[row], index.palettes[shortlist])
        cosines[:, aspects.index("colour")] = score
    # Another product with the very same image file is a duplicate listing, not a "similar" product.
    keep = ~np.all(rows == own, axis=1)
    if threshold is not None:
        keep &= score >= threshold
    order = [i for i in np.argsort(-score, kind="stable") if keep[i]][:k]
    return [
        SimilarProduct(
            int(shortlist[i]), int(index.product_ids[shortlist[i]]), index.skus[shortlist[i]],
            index.titles[shortlist[i]], float(score[i]), {a: float(cosines[i, j]) for j, a in enumerate(aspects)},
        )
        for i in order
    ]  # fmt: skip


def same_group_products(index: StyleIndex, sku: str, k: int | None = None) -> list[SimilarProduct]:
    """"Same product, other colours": the other products in ``sku``'s group (its ``item_group_id``), at most ``k``,
    ordered by colour difference, the closest colour first (``score`` is the colour cosine, -1..1; ties by sku).

    Empty for a product in no group, or whose group has no other indexed product. Variants are compared by colour
    only: the group already says they are the same product, so colour is what tells them apart.
    """
    if k is not None and k < 1:
        raise UserError(f"k must be at least 1, got {k}.")
    row = index.row(sku)
    members = index.group_rows(row)
    members = members[members != row]
    if members.size == 0:
        return []
    aspects = ("style", "visual", "colour")
    own, rows = index.rows(row), index.rows(members)
    cosines = np.stack([rows[:, index.blocks[a]] @ own[index.blocks[a]] for a in aspects], axis=1)
    colour = cosines[:, aspects.index("colour")]
    order = sorted(range(len(members)), key=lambda i: (-float(colour[i]), index.skus[members[i]]))[:k]
    return [
        SimilarProduct(
            int(members[i]), int(index.product_ids[members[i]]), index.skus[members[i]], index.titles[members[i]],
            float(colour[i]), {a: float(cosines[i, j]) for j, a in enumerate(aspects)},
        )
        for i in order
    ]  # fmt: skip


@dataclass(frozen=True)
class SimilarAnswer:
    """What "Find similar" shows for one product: the product itself (``source``), its neighbours best first
    (``items``) and the grid tiles of those neighbours (``tiles``, by product id).

    ``indexed`` is False when the catalog has no style index yet; ``source_indexed`` is False when the product's own
    image is not in the index (not indexed yet, or no image). In both cases ``items`` is empty. ``same_group`` holds
    the other colours of the same product (:func:`same_group_products`), empty when it is in no group.
    """

    source: ProductTile
    by: str
    indexed: bool
    source_indexed: bool = False
    items: tuple[SimilarProduct, ...] = ()
    tiles: dict[int, ProductTile] = field(default_factory=dict)
    same_group: tuple[SimilarProduct, ...] = ()

    def tile(self, product_id: int) -> ProductTile | None:
        return self.tiles.get(product_id)


def similar_to_product(
    catalog: Catalog, product_id: int, by: str = "blend", k: int = 100, cache: IndexCache = INDEX_CACHE
) -> SimilarAnswer:
    """The ``k`` products of ``catalog`` most similar to product ``product_id`` (no threshold: the caller hides
    what scores too low), with their tiles. Raises :class:`NotFound` for an unknown id."""
    source = catalog.product_tiles([product_id]).get(product_id)
    if source is None:
        raise NotFound(f"No product with id {product_id} in this catalog.")
    if catalog.image_feature_counts(extractor_version())[0] == 0:
        return SimilarAnswer(source, by, indexed=False)
    index = cache.get(catalog)
    if source.sku not in index.row_of_sku:
        return SimilarAnswer(source, by, indexed=True, source_indexed=False)
    items = tuple(similar_products(index, source.sku, by=by, k=k))
    same_group = tuple(same_group_products(index, source.sku, k=k))
    tiles = catalog.product_tiles([item.product_id for item in (*items, *same_group)])
    return SimilarAnswer(
        source, by, indexed=True, source_indexed=True, items=items, tiles=tiles, same_group=same_group
    )
