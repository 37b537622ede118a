"""The catalog API. Nothing outside this package talks SQL or imports sqlite-utils."""

from stylerec_desktop.core.catalog.catalog import CUSTOMER_ORDERS, DB_NAME, Catalog, format_ts, parse_ts
from stylerec_desktop.core.catalog.records import (
    EVENT_KINDS,
    CatalogCounts,
    Customer,
    CustomerRecord,
    EventRecord,
    HistoryItem,
    ImageFeatureBlobs,
    ImageInfo,
    InteractionRow,
    Product,
    ProductAttributeRow,
    ProductFeatureRow,
    ProductImage,
    ProductRecord,
    ProductTile,
)
from stylerec_desktop.core.catalog.schema import LATEST_VERSION

__all__ = [
    "CUSTOMER_ORDERS",
    "DB_NAME",
    "EVENT_KINDS",
    "LATEST_VERSION",
    "Catalog",
    "CatalogCounts",
    "Customer",
    "CustomerRecord",
    "EventRecord",
    "HistoryItem",
    "ImageFeatureBlobs",
    "ImageInfo",
    "InteractionRow",
    "Product",
    "ProductAttributeRow",
    "ProductFeatureRow",
    "ProductImage",
    "ProductRecord",
    "ProductTile",
    "format_ts",
    "parse_ts",
]
