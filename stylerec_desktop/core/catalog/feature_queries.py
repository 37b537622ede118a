"""The style index's image features in the catalog (table ``image_features``, joined to the product images)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from stylerec_desktop.core.catalog.records import ImageFeatureBlobs, ProductFeatureRow
from stylerec_desktop.core.catalog.table_group import TableGroup, now_text

_PRODUCT_FEATURES_SQL = """
    SELECT p.id, p.sku, p.title, p.category, p.price, p.in_stock,
           f.sha256, f.extractor, f.style, f.visual, f.palette, f.pattern, p.item_group_id
    FROM products p
    JOIN product_images i ON i.product_id = p.id AND i.is_primary = 1
    JOIN image_features f ON f.sha256 = i.sha256 AND f.extractor = ?
    {where}
    ORDER BY p.id"""


def _feature_row(r: Sequence[Any]) -> ProductFeatureRow:
    return ProductFeatureRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), ImageFeatureBlobs(*r[6:12]), r[12])

class FeatureQueries(TableGroup):
    """The style index's rows: per image file (by sha256), the features the indexing job stored, and which
    product images still need them. Read and written by ``core/recommend``."""

    def images_to_index(self, extractor: str) -> list[tuple[str, Path]]:
        """Distinct product image files (sha256, path) that have no features from ``extractor`` yet, in the
        order their products were added (so a resumed job continues where it stopped)."""
        rows = self.db.execute(
            """
            SELECT i.sha256, min(i.path), min(i.product_id) AS first_product
            FROM product_images i
            LEFT JOIN image_features f ON f.sha256 = i.sha256 AND f.extractor = ?
            WHERE f.sha256 IS NULL
            GROUP BY i.sha256
            ORDER BY first_product, i.sha256""",
            (extractor,),
        )
        return [(r[0], self._load_path(r[1])) for r in rows]

    def has_image_features(self) -> bool:
        """Whether any image has style features (of any extractor): a cheap check before loading the index."""
        return self.db.execute("SELECT 1 FROM image_features LIMIT 1").fetchone() is not None

    def image_feature_counts(self, extractor: str) -> tuple[int, int]:
        """(image files indexed by ``extractor``, distinct image files of all products)."""
        row = self.db.execute(
            """
            SELECT count(DISTINCT f.sha256), count(DISTINCT i.sha256)
            FROM product_images i LEFT JOIN image_features f ON f.sha256 = i.sha256 AND f.extractor = ?""",
            (extractor,),
        ).fetchone()
        return int(row[0]), int(row[1])

    def store_image_features(self, rows: Sequence[ImageFeatureBlobs]) -> int:
        """Write a batch of feature rows in one transaction (all or none), replacing older rows of the same file."""
        now = now_text()
        with self.transaction():
            self.db.conn.executemany(
                """
                INSERT INTO image_features (sha256, extractor, style, visual, palette, pattern, indexed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (sha256) DO UPDATE SET
                    extractor = excluded.extractor, style = excluded.style, visual = excluded.visual,
                    palette = excluded.palette, pattern = excluded.pattern, indexed_at = excluded.indexed_at""",
                [(r.sha256, r.extractor, r.style, r.visual, r.palette, r.pattern, now) for r in rows],
            )
        return len(rows)

    def image_features(self, sha256: str) -> ImageFeatureBlobs | None:
        row = self.db.execute(
            "SELECT sha256, extractor, style, visual, palette, pattern FROM image_features WHERE sha256 = ?",
            (sha256,),
        ).fetchone()
        return None if row is None else ImageFeatureBlobs(*row)

    def product_feature_rows(self, extractor: str) -> list[ProductFeatureRow]:
        """Every product whose primary image has features from ``extractor``, by product id."""
        return [_feature_row(r) for r in self.db.execute(_PRODUCT_FEATURES_SQL.format(where=""), (extractor,))]

    def iter_product_feature_rows(self, extractor: str, chunk: int = 4096) -> Iterator[list[ProductFeatureRow]]:
        """:meth:`product_feature_rows` in lists of at most ``chunk`` rows, so a million products' features
        (about 3 KB each) never sit in memory at once. Read in one snapshot (a read transaction)."""
        cursor = self.db.execute(_PRODUCT_FEATURES_SQL.format(where=""), (extractor,))
        while batch := cursor.fetchmany(chunk):
            yield [_feature_row(r) for r in batch]

    def product_feature_rows_for(self, extractor: str, product_ids: Sequence[int]) -> list[ProductFeatureRow]:
        """:meth:`product_feature_rows` for the products ``product_ids`` only (those without such features are
        left out), by product id."""
        found: list[ProductFeatureRow] = []
        ids = sorted({int(i) for i in product_ids})
        for start in range(0, len(ids), 900):  # under SQLite's bound on parameters
            part = ids[start : start + 900]
            where = f"WHERE p.id IN ({','.join('?' * len(part))})"
            found += [_feature_row(r) for r in self.db.execute(_PRODUCT_FEATURES_SQL.format(where=where),
                                                                (extractor, *part))]  # fmt: skip
        return sorted(found, key=lambda r: r.product_id)

    def product_feature_keys(self, extractor: str) -> list[tuple[int, str, str, str, float | None, bool, str, str]]:
        """What the style index keeps of every product with ``extractor`` features, without the features:
        ``(product id, sku, title, category, price, in stock, item group id, primary image sha256)``, by id. Tells
        which products were added, removed or re-imaged since an index was built."""
        return [
            (r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7])
            for r in self.db.execute(
                """
                SELECT p.id, p.sku, p.title, p.category, p.price, p.in_stock, p.item_group_id, f.sha256
                FROM products p
                JOIN product_images i ON i.product_id = p.id AND i.is_primary = 1
                JOIN image_features f ON f.sha256 = i.sha256 AND f.extractor = ?
                ORDER BY p.id""",
                (extractor,),
            )
        ]
