"""The catalog's products and product images (tables ``products``, ``product_images``, ``products_fts``)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence

from stylerec_desktop.core.catalog.records import (
    Product,
    ProductAttributeRow,
    ProductImage,
    ProductRecord,
    ProductTile,
)
from stylerec_desktop.core.catalog.search import LIKE_ESCAPE, like_pattern, product_search_text, search_words
from stylerec_desktop.core.catalog.table_group import CHUNK, TableGroup, now_text
from stylerec_desktop.core.errors import NotFound, UserError

_PRODUCT_COLUMNS = "id, sku, title, category, brand, price, currency, in_stock, tags, attributes, stock, item_group_id"
#: The product fields :meth:`ProductQueries.update_product` changes (the rest come from imports).
EDITABLE_PRODUCT_FIELDS = ("title", "category", "price", "stock", "in_stock", "tags")


class ProductQueries(TableGroup):
    """Products and their images: imports and edits, search, the grid's tiles, one product by id or sku."""

    def upsert_products(self, records: Iterable[ProductRecord]) -> int:
        """Insert or update products by sku. A record with images replaces that product's image list;
        one without images keeps the images the product has. Returns the number of records written."""
        count = 0
        now = now_text()
        with self.transaction():
            conn = self.db.conn
            for record in records:
                row = conn.execute(
                    """
                    INSERT INTO products (sku, title, category, brand, price, currency, in_stock, tags,
                                          attributes, created_at, updated_at, search_text, item_group_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, coalesce(?, ''))
                    ON CONFLICT (sku) DO UPDATE SET
                        title = excluded.title, category = excluded.category, brand = excluded.brand,
                        price = excluded.price, currency = excluded.currency, in_stock = excluded.in_stock,
                        tags = excluded.tags, attributes = excluded.attributes, updated_at = excluded.updated_at,
                        search_text = excluded.search_text,
                        -- a counted stock that the file now contradicts (in stock or not) is no longer known
                        stock = CASE WHEN excluded.in_stock = (products.stock > 0) THEN products.stock END,
                        -- a record without a group (a file without the column) keeps the product's group
                        item_group_id = CASE WHEN ? THEN excluded.item_group_id ELSE products.item_group_id END
                    RETURNING id""",
                    (
                        record.sku,
                        record.title,
                        record.category,
                        record.brand,
                        record.price,
                        record.currency,
                        int(record.in_stock),
                        json.dumps(list(record.tags), ensure_ascii=False),
                        json.dumps(record.attributes, sort_keys=True),
                        now,
                        now,
                        product_search_text(record.sku, record.title, record.brand, record.tags),
                        record.item_group_id,
                        record.item_group_id is not None,
                    ),
                ).fetchone()
                product_id = row[0]
                if record.images:
                    paths = [self._store_path(image.path) for image in record.images]
                    conn.execute(
                        f"DELETE FROM product_images WHERE product_id = ? "
                        f"AND path NOT IN ({','.join('?' * len(paths))})",
                        (product_id, *paths),
                    )
                    conn.executemany(
                        """
                        INSERT INTO product_images (product_id, path, sha256, width, height, is_primary, position)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (product_id, path) DO UPDATE SET
                            sha256 = excluded.sha256, width = excluded.width, height = excluded.height,
                            is_primary = excluded.is_primary, position = excluded.position""",
                        [
                            (product_id, path, image.sha256, image.width, image.height, int(i == 0), i)
                            for i, (path, image) in enumerate(zip(paths, record.images, strict=True))
                        ],
                    )
                count += 1
        return count

    def update_product(self, product_id: int, **changes: object) -> dict[str, object]:
        """Change some fields of product ``product_id`` in one transaction. Returns the fields' previous values
        (the keys changed, ``in_stock`` included when ``stock`` set it), which undo the change when passed back.

        Fields (:data:`EDITABLE_PRODUCT_FIELDS`): ``title`` non-empty text; ``category`` text; ``price`` a number
        >= 0 (stored as given), or None for no price; ``stock`` a whole number >= 0, or None for not counted (a
        count also sets ``in_stock`` to ``stock > 0`` unless ``in_stock`` is given); ``in_stock`` a bool; ``tags``
        a sequence of text (trimmed; empty and repeated tags dropped).

        Raises :class:`UserError` with a sentence for a value out of range and :class:`NotFound` for an unknown
        id, writing nothing; ``TypeError`` for a field that cannot be edited.
        """
        values = _checked_product_changes(changes)
        stock = values.get("stock")
        if isinstance(stock, int) and "in_stock" not in values:
            values["in_stock"] = stock > 0
        with self.transaction():
            row = self.db.execute(
                "SELECT title, category, price, stock, in_stock, tags, sku, brand FROM products WHERE id = ?",
                (product_id,),
            ).fetchone()
            if row is None:
                raise NotFound(f"No product with id {product_id}: it may have been deleted.")
            title, category, price, counted, in_stock, tags, sku, brand = row
            current = {
                "title": title, "category": category, "price": price, "stock": counted,
                "in_stock": bool(in_stock), "tags": tuple(json.loads(tags)),
            }  # fmt: skip
            if values:
                # Column names come from EDITABLE_PRODUCT_FIELDS only (checked above), never from the caller.
                assignments = ", ".join(f"{name} = ?" for name in values)
                stored = [_stored_product_value(name, value) for name, value in values.items()]
                after = current | values
                found_by = product_search_text(sku, str(after["title"]), brand, after["tags"])
                self.db.conn.execute(
                    f"UPDATE products SET {assignments}, search_text = ?, updated_at = ? WHERE id = ?",
                    (*stored, found_by, now_text(), product_id),
                )
        return {name: current[name] for name in values}

    def categories(self) -> list[tuple[str, int]]:
        """Every category with its product count, by name."""
        return [
            (row[0], row[1])
            for row in self.db.execute(
                "SELECT category, count(*) FROM products GROUP BY category ORDER BY category COLLATE NOCASE"
            )
        ]

    def search_product_ids(self, text: str = "", category: str | None = None) -> list[int]:
        """Ids of the products whose sku, title, brand or a tag contains every word of ``text`` (without regard to
        case or accents; every character literal), in ``category`` when given, ordered by title.

        The longest word (of 3+ characters) is looked up in the trigram index and the others are checked on the
        rows it found; a search of only shorter words scans the folded text. On 100,000 products that was as fast
        as or faster than every word through the index, a tag table or a plain scan (bench/bench_search.py)."""
        where, params = [], []
        if category:
            where.append("category = ?")
            params.append(category)
        words = search_words(text)
        longest = max(words, key=len, default="")
        for word in words:
            if len(word) >= 3 and word is longest:
                where.append("id IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?)")
                params.append('"' + word.replace('"', '""') + '"')  # one FTS string: no query syntax
            else:
                where.append(f"search_text LIKE ? ESCAPE '{LIKE_ESCAPE}'")
                params.append(like_pattern(word))
        sql = "SELECT id FROM products"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY title COLLATE NOCASE, id"
        return [row[0] for row in self.db.execute(sql, params)]

    def product_tiles(self, ids: Sequence[int]) -> dict[int, ProductTile]:
        """Grid data for ``ids`` (missing ids are left out)."""
        tiles: dict[int, ProductTile] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = list(ids[start : start + CHUNK])
            rows = self.db.execute(
                f"""
                SELECT p.id, p.sku, p.title, p.category, p.price, p.currency, i.path, i.sha256
                FROM products p LEFT JOIN product_images i ON i.product_id = p.id AND i.is_primary = 1
                WHERE p.id IN ({','.join('?' * len(chunk))})""",
                chunk,
            )
            for r in rows:
                tiles[r[0]] = ProductTile(r[0], r[1], r[2], r[3], r[4], r[5], self._load_path(r[6]), r[7])
        return tiles

    def product(self, product_id: int) -> Product:
        row = self.db.execute(f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE id = ?", (product_id,)).fetchone()
        if row is None:
            raise NotFound(f"No product with id {product_id}.")
        return self._product_from_row(row)

    def product_by_sku(self, sku: str) -> Product:
        row = self.db.execute(f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE sku = ?", (sku,)).fetchone()
        if row is None:
            raise NotFound(f"No product with sku {sku!r} in this catalog. `stylerec products list` shows them.")
        return self._product_from_row(row)

    def products(self, limit: int | None = None, offset: int = 0, category: str | None = None) -> list[Product]:
        sql, params = f"SELECT {_PRODUCT_COLUMNS} FROM products", list[object]()
        if category:
            sql += " WHERE category = ?"
            params.append(category)
        sql += " ORDER BY sku LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        return [self._product_from_row(row) for row in self.db.execute(sql, params).fetchall()]

    def group_skus(self, item_group_id: str) -> list[str]:
        """The skus of the products in group ``item_group_id``, by sku (none for the empty group id)."""
        if not item_group_id:
            return []
        rows = self.db.execute("SELECT sku FROM products WHERE item_group_id = ? ORDER BY sku", (item_group_id,))
        return [row[0] for row in rows]

    def product_ids_by_sku(self, skus: Iterable[str]) -> dict[str, int]:
        return self._ids_by_key("products", "sku", skus)

    def product_attribute_rows(self) -> list[ProductAttributeRow]:
        """Every product's category, brand, price, tags, free attributes and group (item_group_id), by product id."""
        rows = self.db.execute(
            "SELECT id, category, brand, price, tags, attributes, item_group_id FROM products ORDER BY id"
        )
        return [
            ProductAttributeRow(r[0], r[1] or "", r[2] or "", r[3], tuple(json.loads(r[4])), json.loads(r[5]),
                                r[6] or "")  # fmt: skip
            for r in rows
        ]

    def _product_from_row(self, row: tuple) -> Product:
        (pid, sku, title, category, brand, price, currency, in_stock, tags, attributes, stock, group) = row
        images = tuple(
            ProductImage(r[0], self._load_path(r[1]), r[2], r[3], r[4], bool(r[5]))
            for r in self.db.execute(
                "SELECT id, path, sha256, width, height, is_primary FROM product_images "
                "WHERE product_id = ? ORDER BY position",
                (pid,),
            )
        )
        return Product(
            pid, sku, title, category, brand, price, currency, bool(in_stock),
            tuple(json.loads(tags)), json.loads(attributes), images, stock, group,
        )  # fmt: skip


def _checked_product_changes(changes: dict[str, object]) -> dict[str, object]:
    """The changes of :meth:`Catalog.update_product`, checked and normalised (see there)."""
    unknown = sorted(set(changes) - set(EDITABLE_PRODUCT_FIELDS))
    if unknown:
        raise TypeError(f"update_product() cannot change {', '.join(unknown)}")
    values: dict[str, object] = {}
    for name, value in changes.items():
        if name == "title":
            if not isinstance(value, str) or not value.strip():
                raise UserError("A product needs a title.")
            values[name] = value.strip()
        elif name == "category":
            if not isinstance(value, str):
                raise TypeError("category must be text")
            values[name] = value.strip()
        elif name == "price":
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                    raise UserError(f"{value!r} is not a price: give a number such as 19.99.")
                if value < 0:
                    raise UserError("A price cannot be negative.")
                value = float(value)  # as given: an undo must restore an imported 19.999 exactly
            values[name] = value
        elif name == "stock":
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise UserError(f"{value!r} is not a stock count: give a whole number of units.")
                if value < 0:
                    raise UserError("Stock cannot be negative.")
            values[name] = value
        elif name == "in_stock":
            values[name] = bool(value)
        else:  # tags
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise TypeError("tags must be a sequence of text")
            values[name] = tuple(dict.fromkeys(str(tag).strip() for tag in value if str(tag).strip()))
    return values


def _stored_product_value(name: str, value: object) -> object:
    """A checked field value as its column holds it: tags as a JSON list, in_stock as 0/1."""
    if name == "tags":
        return json.dumps(list(value), ensure_ascii=False)  # type: ignore[call-overload]
    if name == "in_stock":
        return int(bool(value))
    return value
