"""Schema migrations, stepped by ``PRAGMA user_version``; each step runs in its own transaction."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import sqlite_utils

from stylerec_desktop.core.errors import CatalogError

log = logging.getLogger(__name__)


def _v1(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE products (
            id INTEGER PRIMARY KEY,
            sku TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            category TEXT NOT NULL DEFAULT '',
            brand TEXT NOT NULL DEFAULT '',
            price REAL,
            currency TEXT NOT NULL DEFAULT 'USD',
            in_stock INTEGER NOT NULL DEFAULT 1,
            tags TEXT NOT NULL DEFAULT '[]',
            attributes TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE product_images (
            id INTEGER PRIMARY KEY,
            product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            is_primary INTEGER NOT NULL DEFAULT 0,
            position INTEGER NOT NULL DEFAULT 0,
            UNIQUE (product_id, path)
        )"""
    )
    db.execute(
        """
        CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            customer_id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            country TEXT NOT NULL DEFAULT '',
            joined TEXT NOT NULL DEFAULT '',
            attributes TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    db.execute(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
            product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('view', 'like', 'cart', 'purchase')),
            ts TEXT NOT NULL,
            quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity >= 1),
            UNIQUE (customer_id, product_id, kind, ts)
        )"""
    )
    # The queries the app makes: the grid filtered by category and sorted by title, a customer's timeline,
    # the primary image of a product, every event of a product (co-occurrence, popularity).
    # NOCASE to match the grid's ORDER BY title COLLATE NOCASE, so 100,000 titles come back sorted without a sort.
    db.execute("CREATE INDEX idx_products_category_title ON products (category, title COLLATE NOCASE)")
    db.execute("CREATE INDEX idx_products_title ON products (title COLLATE NOCASE)")
    db.table("product_images").create_index(["product_id", "is_primary"], index_name="idx_images_product")
    db.table("product_images").create_index(["sha256"], index_name="idx_images_sha256")
    db.table("events").create_index(["customer_id", "ts"], index_name="idx_events_customer_ts")
    db.table("events").create_index(["product_id", "kind"], index_name="idx_events_product_kind")
    db.table("events").create_index(["ts"], index_name="idx_events_ts")


def _v2(db: sqlite_utils.Database) -> None:
    """Style features of product images (issue 4: recommendations).

    Keyed by the image file's sha256, not by product: a changed file gets a new hash and is indexed again, and one
    file shared by several products is computed once. ``extractor`` names the feature recipe that produced the row;
    rows of another recipe count as not indexed, so upgrading a network re-indexes instead of mixing spaces.
    Vectors are little-endian arrays (see ``core/recommend/features.py`` for their layout).
    """
    db.execute(
        """
        CREATE TABLE image_features (
            sha256 TEXT PRIMARY KEY,
            extractor TEXT NOT NULL,
            style BLOB NOT NULL,
            visual BLOB NOT NULL,
            palette BLOB NOT NULL,
            pattern BLOB NOT NULL,
            indexed_at TEXT NOT NULL
        )"""
    )


def _v3(db: sqlite_utils.Database) -> None:
    """Rendered images and their recipes (issue 3: style engine).

    One row per file written under ``renders/``. ``recipe`` is the JSON recipe (engine, style source, options,
    seed, model hashes, content hash, app version, device and precision) that ``core/stylize/recipe.rerender``
    reproduces the file from; ``product_id`` links renders of a catalog product (NULL for an outside image, and
    NULL again if the product is deleted: the render file stays).
    """
    db.execute(
        """
        CREATE TABLE renders (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            sha256 TEXT NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id) ON DELETE SET NULL,
            content_sha256 TEXT NOT NULL,
            engine TEXT NOT NULL,
            recipe TEXT NOT NULL,
            created_at TEXT NOT NULL
        )"""
    )
    db.table("renders").create_index(["product_id", "created_at"], index_name="idx_renders_product")
    db.table("renders").create_index(["content_sha256"], index_name="idx_renders_content")


def _v4(db: sqlite_utils.Database) -> None:
    """Stock counts (issue 5: editing products in the app).

    ``stock`` is the number on hand when someone counted it (edited in the app), NULL when only ``in_stock`` is
    known (imports say in stock or not). Writing a count sets ``in_stock`` to ``stock > 0`` with it.
    """
    db.execute("ALTER TABLE products ADD COLUMN stock INTEGER CHECK (stock IS NULL OR stock >= 0)")


def _v5(db: sqlite_utils.Database) -> None:
    """A revision number of the products table, raised by triggers on every insert, update and delete.

    Caches built from product rows (the recommender's index holds prices, stock and categories for its filters)
    compare it to know when to rebuild; ``updated_at`` has one-second steps, too coarse for an edit and its undo.
    """
    db.execute("CREATE TABLE revisions (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    db.execute("INSERT INTO revisions (name, value) VALUES ('products', 0)")
    for event in ("INSERT", "UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER products_revision_{event.lower()} AFTER {event} ON products BEGIN "
            "UPDATE revisions SET value = value + 1 WHERE name = 'products'; END"
        )


def _v6(db: sqlite_utils.Database) -> None:
    """Revision numbers of the events and image_features tables too (see :func:`_v5`), so the recommender's cache
    can tell a changed catalog with three single-row reads instead of counting 100,000 rows (23 ms per query)."""
    for table in ("events", "image_features"):
        db.execute("INSERT INTO revisions (name, value) VALUES (?, 0)", (table,))
        for event in ("INSERT", "UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_revision_{event.lower()} AFTER {event} ON {table} BEGIN "
                f"UPDATE revisions SET value = value + 1 WHERE name = '{table}'; END"
            )


def _v7(db: sqlite_utils.Database) -> None:
    """Settings fitted to this catalog (issue 10: the ranking tuned on its own history), as JSON by name, with
    when they were written. They travel with the catalog, unlike the user's preferences."""
    db.execute("CREATE TABLE catalog_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)")


def _v8(db: sqlite_utils.Database) -> None:
    """Product groups (issue 10): ``item_group_id`` ties the variants of one product together (the colours of one
    dress), as Google Merchant Center feeds do. Empty text for a product in no group, so the column needs no NULL
    handling and a v6 catalog's products all come out ungrouped. Indexed: "the other colours of this product" is a
    lookup by group."""
    db.execute("ALTER TABLE products ADD COLUMN item_group_id TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX idx_products_item_group ON products (item_group_id) WHERE item_group_id != ''")


def _v9(db: sqlite_utils.Database) -> None:
    """Search that finds what a person typed (issue 15, item 6).

    ``products.search_text`` and ``customers.search_text`` hold the folded text each is found by (see
    ``core/catalog/search.py``: sku, title, brand and every tag as text; id, name and email), written by the
    catalog's own upserts and edits, since the folding is Python's. ``products_fts`` is an FTS5 trigram index over
    ``products.search_text`` (substring matches of 3+ characters without a scan), kept in step by triggers.
    Existing tags are rewritten as plain UTF-8 JSON (they were stored escaped, ``caf\\u00e9``).
    """
    from stylerec_desktop.core.catalog.search import customer_search_text, product_search_text

    db.execute("ALTER TABLE products ADD COLUMN search_text TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE customers ADD COLUMN search_text TEXT NOT NULL DEFAULT ''")
    products = db.execute("SELECT id, sku, title, brand, tags FROM products").fetchall()
    updates = []
    for pid, sku, title, brand, tags in products:
        try:
            parsed = [str(t) for t in json.loads(tags)]
        except (ValueError, TypeError):
            parsed = []
        updates.append((product_search_text(sku, title, brand, parsed), json.dumps(parsed, ensure_ascii=False), pid))
    # The revision triggers count this as an edit of every product, which is right: caches rebuild once.
    db.conn.executemany("UPDATE products SET search_text = ?, tags = ? WHERE id = ?", updates)
    customers = db.execute("SELECT id, customer_id, name, email FROM customers").fetchall()
    db.conn.executemany(
        "UPDATE customers SET search_text = ? WHERE id = ?",
        [(customer_search_text(cid, name, email), rid) for rid, cid, name, email in customers],
    )
    db.execute(
        "CREATE VIRTUAL TABLE products_fts USING fts5(search_text, content='products', content_rowid='id', "
        "tokenize='trigram')"
    )
    db.execute(
        "CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN "
        "INSERT INTO products_fts (rowid, search_text) VALUES (new.id, new.search_text); END"
    )
    db.execute(
        "CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN "
        "INSERT INTO products_fts (products_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END"
    )
    db.execute(
        "CREATE TRIGGER products_fts_update AFTER UPDATE OF search_text ON products BEGIN "
        "INSERT INTO products_fts (products_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
        "INSERT INTO products_fts (rowid, search_text) VALUES (new.id, new.search_text); END"
    )
    db.execute("INSERT INTO products_fts (products_fts) VALUES ('rebuild')")


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9)
LATEST_VERSION = len(MIGRATIONS)


def schema_version(db: sqlite_utils.Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


# The tables each schema version adds: a database whose version says it has them must have them.
TABLES_BY_VERSION = {
    1: ("products", "product_images", "customers", "events"),
    2: ("image_features",),
    3: ("renders",),
    5: ("revisions",),
    7: ("catalog_settings",),
    9: ("products_fts",),
}


def missing_tables(db: sqlite_utils.Database, version: int | None = None) -> list[str]:
    """The tables that schema ``version`` (default: the database's own) must have and ``db`` lacks."""
    version = schema_version(db) if version is None else version
    present = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    expected = [t for v, tables in TABLES_BY_VERSION.items() if v <= version for t in tables]
    return [t for t in expected if t not in present]


def check_tables(db: sqlite_utils.Database, where: object) -> None:
    """:class:`CatalogError` when ``db`` lacks tables its ``user_version`` promises (a damaged or foreign file):
    checked before any migration, which would otherwise half-upgrade it."""
    version = schema_version(db)
    missing = missing_tables(db, version)
    if missing:
        raise CatalogError(
            f"The catalog database {where} says it is schema v{version}, but its tables {', '.join(missing)} are "
            "missing: it is damaged or was not made by StyleRec Desktop. Restore catalog.sqlite from a backup, or "
            "create a new catalog in another folder with `stylerec --catalog DIR init` and import your files."
        )


def migrate(db: sqlite_utils.Database, where: object = "") -> int:
    """Bring ``db`` up to :data:`LATEST_VERSION`; returns the version it had before. ``where`` names the database
    in messages."""
    before = schema_version(db)
    if before > LATEST_VERSION:
        raise CatalogError(
            f"This catalog has schema version {before}, made by a newer StyleRec Desktop "
            f"(this one knows up to {LATEST_VERSION}). Update the app to open it."
        )
    check_tables(db, where or "in this folder")
    started = time.perf_counter()
    for version in range(before + 1, LATEST_VERSION + 1):
        with db.atomic():
            MIGRATIONS[version - 1](db)
            db.execute(f"PRAGMA user_version = {version}")
        log.debug("catalog %s: schema step to v%d done", where or "database", version)
    # Upgrading a user's catalog is worth knowing later (a slow start; a catalog an older app can no longer open).
    if before == 0 and LATEST_VERSION > 0:
        log.info("catalog %s: created at schema v%d", where or "database", LATEST_VERSION)
    elif before < LATEST_VERSION:
        log.info("catalog %s: schema upgraded from v%d to v%d in %.2f s", where or "database", before,
                 LATEST_VERSION, time.perf_counter() - started)  # fmt: skip
    return before
