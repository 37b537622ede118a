"""A catalog whose style index needs no networks: products with stored feature rows written directly (random style
and visual vectors, one-colour palettes chosen by the test), so recommender tests that need a real catalog on disk
(CLI, batch jobs, product groups) run in a second.

The image paths in it point nowhere: nothing here decodes an image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stylerec_desktop.core.catalog import Catalog, ImageInfo, ProductRecord
from stylerec_desktop.core.recommend.features import (
    PALETTE_SIZE,
    PATTERN_DIM,
    STYLE_DIM,
    VISUAL_DIM,
    ImageFeatures,
    extractor_version,
)


@dataclass(frozen=True)
class FakeProduct:
    """One product: ``lab`` its single colour (CIE Lab), ``look`` a seed for its style/visual/pattern vectors
    (products with the same look seed look alike apart from colour), ``group`` its item_group_id."""

    sku: str
    lab: tuple[float, float, float]
    look: int
    group: str | None = None
    category: str = "dresses"


def features(product: FakeProduct) -> ImageFeatures:
    rng = np.random.default_rng(product.look)
    palette = np.zeros((PALETTE_SIZE, 4), np.float32)
    palette[:, :3] = product.lab
    palette[:, 3] = 1.0 / PALETTE_SIZE
    return ImageFeatures(
        style=rng.normal(size=STYLE_DIM).astype(np.float32),
        visual=np.maximum(rng.normal(size=VISUAL_DIM), 0).astype(np.float32),
        palette=palette,
        pattern=rng.random(PATTERN_DIM).astype(np.float32),
    )


def build_feature_catalog(folder: Path, products: Sequence[FakeProduct]) -> Catalog:
    """A catalog in ``folder`` holding ``products``, each with an indexed primary image (features stored)."""
    catalog = Catalog.create(folder)
    records, blobs = [], []
    for i, product in enumerate(products):
        sha = f"{i:064x}"
        image = ImageInfo(folder / "images" / f"{product.sku}.png", sha, 200, 200)
        records.append(
            ProductRecord(product.sku, f"Product {product.sku}", product.category, price=10.0 + i,
                          images=(image,), item_group_id=product.group)
        )  # fmt: skip
        blobs.append(features(product).to_blobs(sha, extractor_version()))
    catalog.upsert_products(records)
    catalog.store_image_features(blobs)
    return catalog
