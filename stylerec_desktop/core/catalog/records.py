"""Plain records that go into and come out of the catalog. No SQL here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

EVENT_KINDS = ("view", "like", "cart", "purchase")


@dataclass(frozen=True)
class ImageInfo:
    """A validated image file. ``path`` is absolute; the file itself is never modified."""

    path: Path
    sha256: str
    width: int
    height: int


@dataclass(frozen=True)
class ProductRecord:
    """A product as an importer hands it to the catalog. ``images[0]`` becomes the primary image."""

    sku: str
    title: str
    category: str
    brand: str = ""
    price: float | None = None
    currency: str = "USD"
    in_stock: bool = True
    tags: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)
    images: tuple[ImageInfo, ...] = ()
    # Variants of one product (its colours) share a group id; "" = in no group; None = leave a product already in
    # the catalog in the group it has (a file without the column), and put a new one in none.
    item_group_id: str | None = None


@dataclass(frozen=True)
class CustomerRecord:
    customer_id: str
    name: str = ""
    email: str = ""
    country: str = ""
    joined: str = ""  # ISO date, may be empty
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EventRecord:
    """One interaction. ``ts`` must be timezone-aware; it is stored in UTC."""

    customer_id: str
    sku: str
    kind: str
    ts: datetime
    quantity: int = 1


@dataclass(frozen=True)
class ProductImage:
    id: int
    path: Path
    sha256: str
    width: int
    height: int
    is_primary: bool


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    title: str
    category: str
    brand: str
    price: float | None
    currency: str
    in_stock: bool
    tags: tuple[str, ...]
    attributes: dict[str, str]
    images: tuple[ProductImage, ...] = ()
    stock: int | None = None  # units on hand when counted; None when only ``in_stock`` is known
    item_group_id: str = ""  # the product group (variants of one product, e.g. its colours); "" = none

    @property
    def primary_image(self) -> ProductImage | None:
        for image in self.images:
            if image.is_primary:
                return image
        return self.images[0] if self.images else None


@dataclass(frozen=True)
class ProductTile:
    """What a grid cell needs: small, loaded in pages for very large catalogs."""

    id: int
    sku: str
    title: str
    category: str
    price: float | None
    currency: str
    image_path: Path | None
    image_sha256: str | None


@dataclass(frozen=True)
class Customer:
    id: int
    customer_id: str
    name: str
    email: str
    country: str
    joined: str
    attributes: dict[str, str]
    event_count: int = 0
    last_event: datetime | None = None  # the time of the newest event; None without events


@dataclass(frozen=True)
class HistoryItem:
    """One event of a customer's history, joined with the product it is about."""

    kind: str
    ts: datetime
    quantity: int
    product_id: int
    sku: str
    title: str
    category: str
    image_path: Path | None
    image_sha256: str | None


@dataclass(frozen=True)
class CatalogCounts:
    products: int
    images: int
    customers: int
    events: int
    categories: int


# -- recommend: style features (issue 4) --------------------------------------------------------------------


@dataclass(frozen=True)
class ImageFeatureBlobs:
    """The stored style features of one image file, as packed arrays (layout: ``core/recommend/features.py``)."""

    sha256: str
    extractor: str
    style: bytes
    visual: bytes
    palette: bytes
    pattern: bytes


@dataclass(frozen=True)
class ProductFeatureRow:
    """One product with the stored features of its primary image, for building the in-memory style index."""

    product_id: int
    sku: str
    title: str
    category: str
    price: float | None
    in_stock: bool
    features: ImageFeatureBlobs
    item_group_id: str = ""  # "" = in no group


@dataclass(frozen=True)
class ProductAttributeRow:
    """One product's descriptive fields, for models that learn from product attributes (no images, no events)."""

    product_id: int
    category: str
    brand: str
    price: float | None
    tags: tuple[str, ...]
    attributes: dict[str, str]
    group: str = ""  # item_group_id: variants of one product (e.g. its colours) share it; "" for none


@dataclass(frozen=True)
class InteractionRow:
    """One event reduced to what the recommender needs: internal ids, kind, UTC timestamp text, quantity."""

    customer_id: int
    product_id: int
    kind: str
    ts: str
    quantity: int
