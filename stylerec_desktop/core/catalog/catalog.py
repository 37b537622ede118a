"""The catalog: one folder holding the SQLite database and the files the app manages (thumbnails, renders).

All SQL of the application lives in this package. Each thread gets its own connection (SQLite connections are
not shareable across threads); writes are serialised by a lock so that one writer at a time holds the database,
and WAL mode lets readers go on while it writes.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from stylerec_desktop.core.catalog import schema
from stylerec_desktop.core.catalog.records import (
    CatalogCounts,
    Customer,
    CustomerRecord,
    EventRecord,
    HistoryItem,
    ImageFeatureBlobs,
    InteractionRow,
    Product,
    ProductAttributeRow,
    ProductFeatureRow,
    ProductImage,
    ProductRecord,
    ProductTile,
)
from stylerec_desktop.core.catalog.search import (
    LIKE_ESCAPE,
    customer_search_text,
    like_pattern,
    product_search_text,
    search_words,
)
from stylerec_desktop.core.errors import CatalogError, CatalogReadOnly, NotFound, UserError
from stylerec_desktop.core.paths import read_only_thumbnails_dir

DB_NAME = "catalog.sqlite"
_CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit
#: Seconds a write waits for another program's lock on the catalog before it gives up ("database is locked").
LOCK_TIMEOUT_S = 30.0
_commits = 0  # transactions committed by this process (see commit_count)


def commit_count() -> int:
    """How many catalog transactions this process has committed so far. A command compares it before and after an
    interruption to tell the user truthfully whether its changes were saved."""
    return _commits


def is_writable(folder: Path) -> bool:
    """Whether this user may change the catalog in ``folder``: write its database file, and create files in the
    folder (SQLite's WAL and shared-memory files sit beside the database)."""
    return os.access(folder / DB_NAME, os.W_OK) and os.access(folder, os.W_OK | os.X_OK)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def format_ts(ts: datetime) -> str:
    """Timestamps are stored as fixed-width UTC ISO-8601 text, so text order is time order."""
    if ts.tzinfo is None:
        raise ValueError("event timestamps must be timezone-aware")
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


_PRODUCT_COLUMNS = "id, sku, title, category, brand, price, currency, in_stock, tags, attributes, stock, item_group_id"
#: The product fields :meth:`Catalog.update_product` changes (the rest come from imports).
EDITABLE_PRODUCT_FIELDS = ("title", "category", "price", "stock", "in_stock", "tags")
_CUSTOMER_COLUMNS = "c.id, c.customer_id, c.name, c.email, c.country, c.joined, c.attributes"
#: How :meth:`Catalog.customers` can sort, and the SQL of each (ties by id, so a page is stable).
CUSTOMER_ORDERS = {
    "id": "c.customer_id",
    "name": "c.name = '', c.name COLLATE NOCASE, c.customer_id",
    "activity": "event_count DESC, c.customer_id",
    "recent": "last_event IS NULL, last_event DESC, c.customer_id",
}
_RENDER_COLUMNS = "id, path, sha256, width, height, product_id, content_sha256, engine, recipe, created_at"


@dataclass(frozen=True)
class StoredRender:
    """A render recorded in the catalog: the file, what it was made from, and its recipe (a JSON-able dict)."""

    id: int
    path: Path
    sha256: str
    size: tuple[int, int]
    product_id: int | None
    content_sha256: str
    engine: str
    recipe: dict[str, object]
    created_at: str


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


class Catalog:
    """A catalog folder. Open with :meth:`open` (existing) or :meth:`create` (new or existing)."""

    def __init__(self, folder: Path, read_only: bool = False) -> None:
        self.folder = folder.resolve()
        #: Opened for reading only (the folder or database file may not be written, or the caller asked): every
        #: write raises :class:`CatalogReadOnly` before touching the file.
        self.read_only = read_only
        self._immutable = False  # set when SQLite can read the file only by taking it as unchanging (see db)
        self.db_path = self.folder / DB_NAME
        # A catalog this user may only read keeps its thumbnails in the user's cache instead.
        self.thumbnails_dir = read_only_thumbnails_dir(self.folder) if read_only else self.folder / "thumbnails"
        self.renders_dir = self.folder / "renders"
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()

    # -- opening ------------------------------------------------------------------------------------------

    @classmethod
    def create(cls, folder: Path | str) -> Catalog:
        """Open the catalog in ``folder``, creating the folder and an empty catalog when there is none."""
        folder = Path(folder).expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CatalogError(f"Cannot create the catalog folder {folder}: {exc.strerror}.") from exc
        return cls._open(folder)

    @classmethod
    def open(cls, folder: Path | str, read_only: bool | None = None) -> Catalog:
        """Open an existing catalog; :class:`CatalogError` when ``folder`` holds none.

        ``read_only`` None: read-only exactly when this user may not write the database file or its folder (a
        catalog on a read-only share, or another user's); True: read-only whatever the permissions. A read-only
        catalog is read through SQLite's ``mode=ro`` and refuses every write with :class:`CatalogReadOnly`."""
        folder = Path(folder).expanduser()
        if not (folder / DB_NAME).is_file():
            raise CatalogError(
                f"No catalog in {folder}. Create one with `stylerec --catalog {folder} init` "
                f"or a demo with `stylerec --catalog {folder} demo`."
            )
        if read_only is None:
            read_only = not is_writable(folder)
        return cls._open(folder, read_only)

    @staticmethod
    def exists(folder: Path | str) -> bool:
        return (Path(folder).expanduser() / DB_NAME).is_file()

    @classmethod
    def _open(cls, folder: Path, read_only: bool = False) -> Catalog:
        catalog = cls(folder, read_only)
        try:
            if read_only:
                catalog._check_readable_schema()
            else:
                catalog.thumbnails_dir.mkdir(exist_ok=True)
                catalog.renders_dir.mkdir(exist_ok=True)
                with catalog._write_lock:
                    schema.migrate(catalog.db, catalog.db_path)
        except CatalogError:
            catalog.close()
            raise
        except sqlite3.DatabaseError as exc:
            catalog.close()
            raise CatalogError(
                f"{catalog.db_path} is not a readable StyleRec catalog ({exc}). "
                "Restore it from a backup or choose another folder."
            ) from exc
        except OSError as exc:
            catalog.close()
            raise CatalogError(f"Cannot open the catalog in {folder}: {exc}.") from exc
        return catalog

    def _check_readable_schema(self) -> None:
        """A read-only catalog cannot be migrated: it must already have this app's schema."""
        version = schema.schema_version(self.db)
        if version > schema.LATEST_VERSION:
            schema.migrate(self.db)  # raises the "made by a newer StyleRec" error without writing
        schema.check_tables(self.db, self.db_path)
        if version < schema.LATEST_VERSION:
            raise CatalogReadOnly(
                f"The catalog in {self.folder} can only be read (no write permission here), and it was made by an "
                f"older StyleRec Desktop (schema v{version}; this one needs v{schema.LATEST_VERSION}), which must "
                "upgrade it first. Copy the catalog folder somewhere you can write and open the copy, or ask for "
                "write permission."
            )

    def _connect_read_only(self) -> sqlite3.Connection:
        """A ``mode=ro`` connection. A WAL database whose ``-shm`` file is gone and whose folder cannot be written
        is opened as ``immutable`` instead (SQLite cannot share a read lock there); it is then read as it is."""
        uri = self.db_path.as_uri()
        if not self._immutable:
            conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=LOCK_TIMEOUT_S, check_same_thread=False)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.OperationalError:
                conn.close()
                self._immutable = True
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False)

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection."""
        db = getattr(self._local, "db", None)
        if db is None:
            if self.read_only:
                conn = self._connect_read_only()
                conn.execute("PRAGMA query_only = ON")  # belt and braces: SQLite itself refuses every write
            else:
                conn = sqlite3.connect(self.db_path, timeout=LOCK_TIMEOUT_S, check_same_thread=False)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            db = sqlite_utils.Database(conn)
            self._local.db = db
            with self._connections_lock:
                self._connections.append(conn)
        return db

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                with suppress(sqlite3.ProgrammingError):  # closed by its thread already
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    def close_thread_connection(self) -> None:
        """Close the calling thread's connection, if it has one: for worker threads that end before the catalog
        is closed (their connections would otherwise stay open until :meth:`close`)."""
        db = getattr(self._local, "db", None)
        if db is None:
            return
        self._local.db = None
        with self._connections_lock:
            if db.conn in self._connections:
                self._connections.remove(db.conn)
        db.conn.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return schema.schema_version(self.db)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: everything inside commits together or not at all.

        Nested calls join the outer transaction (as savepoints), so an importer can wrap several writes. A
        read-only catalog raises :class:`CatalogReadOnly` here, before anything is written.
        """
        if self.read_only:
            raise CatalogReadOnly(
                f"The catalog in {self.folder} is open read-only (this user may read it but not change it), so "
                "nothing was changed. Ask for write permission to the folder and its catalog.sqlite, or copy the "
                "folder somewhere you can write."
            )
        global _commits
        with self._write_lock:
            conn = self.db.conn
            if conn.in_transaction:
                with self.db.atomic():  # a savepoint inside the outer transaction
                    yield
                return
            # IMMEDIATE takes the write lock now. A deferred transaction would read first and then fail at its
            # first write with "database is locked" at once, without waiting, when another process wrote since
            # (SQLite cannot wait there: its snapshot is stale). Taken up front, the lock is waited for.
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.rollback()
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                conn.rollback()
                raise
            _commits += 1

    # -- image paths --------------------------------------------------------------------------------------

    def _store_path(self, path: Path) -> str:
        """Paths inside the catalog folder are stored relative to it, so the folder can move."""
        path = path.resolve()
        try:
            return path.relative_to(self.folder).as_posix()
        except ValueError:
            return str(path)

    def _load_path(self, text: str | None) -> Path | None:
        if text is None:
            return None
        path = Path(text)
        return path if path.is_absolute() else self.folder / path

    # -- writes -------------------------------------------------------------------------------------------

    def upsert_products(self, records: Iterable[ProductRecord]) -> int:
        """Insert or update products by sku. A record with images replaces that product's image list;
        one without images keeps the images the product has. Returns the number of records written."""
        count = 0
        now = _now()
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
                found_by = product_search_text(sku, str(after["title"]), brand, after["tags"])  # type: ignore[arg-type]
                self.db.conn.execute(
                    f"UPDATE products SET {assignments}, search_text = ?, updated_at = ? WHERE id = ?",
                    (*stored, found_by, _now(), product_id),
                )
        return {name: current[name] for name in values}

    def upsert_customers(self, records: Iterable[CustomerRecord]) -> int:
        rows = [
            (r.customer_id, r.name, r.email, r.country, r.joined, json.dumps(r.attributes, sort_keys=True),
             customer_search_text(r.customer_id, r.name, r.email))
            for r in records
        ]  # fmt: skip
        with self.transaction():
            self.db.conn.executemany(
                """
                INSERT INTO customers (customer_id, name, email, country, joined, attributes, search_text)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (customer_id) DO UPDATE SET
                    name = excluded.name, email = excluded.email, country = excluded.country,
                    joined = excluded.joined, attributes = excluded.attributes, search_text = excluded.search_text""",
                rows,
            )
        return len(rows)

    def add_events(self, records: Iterable[EventRecord]) -> int:
        """Record events; the same (customer, sku, kind, timestamp) twice is one event (its quantity updated).

        Raises :class:`NotFound` naming the first unknown sku or customer; nothing is written then.
        """
        records = list(records)
        with self.transaction():
            product_ids = self.product_ids_by_sku({r.sku for r in records})
            customer_ids = self.customer_ids_by_external({r.customer_id for r in records})
            rows = []
            for r in records:
                if r.sku not in product_ids:
                    raise NotFound(f"Unknown sku {r.sku!r}: import the products before their events.")
                if r.customer_id not in customer_ids:
                    raise NotFound(
                        f"Unknown customer {r.customer_id!r}: import the customers before their events."
                    )
                rows.append(
                    (customer_ids[r.customer_id], product_ids[r.sku], r.kind, format_ts(r.ts), r.quantity)
                )
            self.db.conn.executemany(
                """
                INSERT INTO events (customer_id, product_id, kind, ts, quantity) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (customer_id, product_id, kind, ts) DO UPDATE SET quantity = excluded.quantity""",
                rows,
            )
        return len(rows)

    # -- reads: products ----------------------------------------------------------------------------------

    def counts(self) -> CatalogCounts:
        q = self.db.execute
        return CatalogCounts(
            products=q("SELECT count(*) FROM products").fetchone()[0],
            images=q("SELECT count(*) FROM product_images").fetchone()[0],
            customers=q("SELECT count(*) FROM customers").fetchone()[0],
            events=q("SELECT count(*) FROM events").fetchone()[0],
            categories=q("SELECT count(DISTINCT category) FROM products").fetchone()[0],
        )

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
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
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
        sql, params = f"SELECT {_PRODUCT_COLUMNS} FROM products", []
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

    # -- reads: customers ---------------------------------------------------------------------------------

    def customers(self, text: str = "", limit: int | None = None, order: str = "id") -> list[Customer]:
        """Customers whose id, name or email contain every word of ``text`` (without regard to case or accents;
        ``%`` and ``_`` are just characters), with their event counts and last event time.

        ``order``: one of :data:`CUSTOMER_ORDERS`: ``id``; ``name`` (A-Z, without regard to case; no name last);
        ``activity`` (most events first); ``recent`` (latest event first; none last). Ties go by id."""
        if order not in CUSTOMER_ORDERS:
            raise UserError(f"Customers can be sorted by {', '.join(CUSTOMER_ORDERS)}, not {order!r}.")
        sql = f"""
            SELECT {_CUSTOMER_COLUMNS}, (SELECT count(*) FROM events e WHERE e.customer_id = c.id) AS event_count,
                   (SELECT max(e.ts) FROM events e WHERE e.customer_id = c.id) AS last_event
            FROM customers c"""
        params: list = []
        words = search_words(text)
        if words:
            sql += " WHERE " + " AND ".join(f"c.search_text LIKE ? ESCAPE '{LIKE_ESCAPE}'" for _ in words)
            params += [like_pattern(word) for word in words]
        sql += f" ORDER BY {CUSTOMER_ORDERS[order]} LIMIT ?"
        params.append(-1 if limit is None else limit)
        return [self._customer_from_row(row) for row in self.db.execute(sql, params)]

    def customer(self, customer_id: str) -> Customer:
        row = self.db.execute(
            f"SELECT {_CUSTOMER_COLUMNS}, (SELECT count(*) FROM events e WHERE e.customer_id = c.id), "
            "(SELECT max(e.ts) FROM events e WHERE e.customer_id = c.id) "
            "FROM customers c WHERE c.customer_id = ?",
            (customer_id,),
        ).fetchone()
        if row is None:
            raise NotFound(
                f"No customer {customer_id!r} in this catalog. `stylerec customers list` shows them."
            )
        return self._customer_from_row(row)

    def customer_ids_by_external(self, customer_ids: Iterable[str]) -> dict[str, int]:
        return self._ids_by_key("customers", "customer_id", customer_ids)

    def customer_history(self, customer_id: str, limit: int | None = None) -> list[HistoryItem]:
        """The customer's events, newest first, with the product each is about."""
        internal = self.customer(customer_id).id
        rows = self.db.execute(
            """
            SELECT e.kind, e.ts, e.quantity, p.id, p.sku, p.title, p.category, i.path, i.sha256
            FROM events e
            JOIN products p ON p.id = e.product_id
            LEFT JOIN product_images i ON i.product_id = p.id AND i.is_primary = 1
            WHERE e.customer_id = ?
            ORDER BY e.ts DESC, e.id DESC
            LIMIT ?""",
            (internal, -1 if limit is None else limit),
        )
        return [
            HistoryItem(r[0], parse_ts(r[1]), r[2], r[3], r[4], r[5], r[6], self._load_path(r[7]), r[8])
            for r in rows
        ]

    @staticmethod
    def _customer_from_row(row: tuple) -> Customer:
        cid, customer_id, name, email, country, joined, attributes, event_count, last_event = row
        last = parse_ts(last_event) if last_event else None
        return Customer(cid, customer_id, name, email, country, joined, json.loads(attributes), event_count, last)

    # -- recommend: style features and interactions (issue 4) ---------------------------------------------
    # Reads and writes of ``core/recommend``: the per-image feature rows the indexing job stores, and the event
    # log the recommender turns into tastes, co-occurrence and popularity.

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
        now = _now()
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
        rows = self.db.execute(
            """
            SELECT p.id, p.sku, p.title, p.category, p.price, p.in_stock,
                   f.sha256, f.extractor, f.style, f.visual, f.palette, f.pattern, p.item_group_id
            FROM products p
            JOIN product_images i ON i.product_id = p.id AND i.is_primary = 1
            JOIN image_features f ON f.sha256 = i.sha256 AND f.extractor = ?
            ORDER BY p.id""",
            (extractor,),
        )
        return [
            ProductFeatureRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), ImageFeatureBlobs(*r[6:12]), r[12])
            for r in rows
        ]

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

    def interactions(self, before: str | None = None, since: str | None = None) -> list[InteractionRow]:
        """Every event (``since`` <= ts < ``before`` when given; timestamps as stored, UTC text), oldest first."""
        where, params = [], []
        if since is not None:
            where.append("ts >= ?")
            params.append(since)
        if before is not None:
            where.append("ts < ?")
            params.append(before)
        sql = "SELECT customer_id, product_id, kind, ts, quantity FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY ts, id"
        return [InteractionRow(*r) for r in self.db.execute(sql, params)]

    def product_attribute_rows(self) -> list[ProductAttributeRow]:
        """Every product's category, brand, price, tags and free attributes, by product id."""
        rows = self.db.execute("SELECT id, category, brand, price, tags, attributes FROM products ORDER BY id")
        return [
            ProductAttributeRow(r[0], r[1] or "", r[2] or "", r[3], tuple(json.loads(r[4])), json.loads(r[5]))
            for r in rows
        ]

    def customer_external_ids(self) -> dict[int, str]:
        """Internal customer id -> the customer's own id (what users type)."""
        return {r[0]: r[1] for r in self.db.execute("SELECT id, customer_id FROM customers")}

    def revisions(self) -> dict[str, int]:
        """Revision numbers of ``products``, ``events`` and ``image_features``: each changes whenever a row of its
        table is added, changed or removed, by this process or another (triggers keep them)."""
        return {name: int(value) for name, value in self.db.execute("SELECT name, value FROM revisions")}

    def event_time_span(self) -> tuple[str, str] | None:
        """(oldest, newest) event timestamp as stored, or None when there are no events."""
        row = self.db.execute("SELECT min(ts), max(ts) FROM events").fetchone()
        return None if row[0] is None else (row[0], row[1])

    def setting(self, name: str) -> tuple[dict[str, object], str] | None:
        """A setting fitted to this catalog (e.g. ``"ranking"``, the tuned ranking) as (JSON object, when it was
        written), or None when it was never set or was reset."""
        row = self.db.execute("SELECT value, updated_at FROM catalog_settings WHERE name = ?", (name,)).fetchone()
        return None if row is None else (json.loads(row[0]), row[1])

    def set_setting(self, name: str, value: dict[str, object] | None) -> None:
        """Store (or with None, remove) a setting fitted to this catalog."""
        with self.transaction():
            if value is None:
                self.db.execute("DELETE FROM catalog_settings WHERE name = ?", (name,))
            else:
                self.db.execute(
                    "INSERT INTO catalog_settings (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO "
                    "UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    (name, json.dumps(value, allow_nan=False), format_ts(datetime.now(UTC))),
                )

    # -- end of recommend section ---------------------------------------------------------------------------

    # -- stylize: renders and their recipes (issue 3) ----------------------------------------------------------
    # Every picture the style engine writes into ``renders/`` is recorded with the recipe that reproduces it
    # (see ``core/stylize/recipe.py``). The recipe is stored as JSON text: it is read whole, never queried inside.

    def add_render(
        self,
        path: Path,
        sha256: str,
        size: tuple[int, int],
        content_sha256: str,
        engine: str,
        recipe: dict[str, object],
        product_id: int | None = None,
    ) -> int:
        """Record a render file (``size`` is width, height); returns its id. The path is stored relative to the
        catalog folder when it is inside it."""
        with self.transaction():
            cursor = self.db.execute(
                """
                INSERT INTO renders (path, sha256, width, height, product_id, content_sha256, engine, recipe,
                                     created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    self._store_path(path),
                    sha256,
                    size[0],
                    size[1],
                    product_id,
                    content_sha256,
                    engine,
                    json.dumps(recipe, sort_keys=True),
                    _now(),
                ),
            )
            return int(cursor.lastrowid)

    def renders(
        self, product_id: int | None = None, content_sha256: str | None = None, limit: int | None = None
    ) -> list[StoredRender]:
        """Renders, newest first; only those of ``product_id`` / of the content file ``content_sha256`` when given."""
        where, params = [], []
        if product_id is not None:
            where.append("product_id = ?")
            params.append(product_id)
        if content_sha256 is not None:
            where.append("content_sha256 = ?")
            params.append(content_sha256)
        sql = f"SELECT {_RENDER_COLUMNS} FROM renders"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [self._render_from_row(r) for r in self.db.execute(sql, params)]

    def render(self, render_id: int) -> StoredRender:
        """One render by id; :class:`NotFound` when there is none."""
        row = self.db.execute(f"SELECT {_RENDER_COLUMNS} FROM renders WHERE id = ?", (render_id,)).fetchone()
        if row is None:
            raise NotFound(f"No render with id {render_id} in this catalog.")
        return self._render_from_row(row)

    def _render_from_row(self, row: tuple) -> StoredRender:
        path = self._load_path(row[1])
        assert path is not None  # the column is NOT NULL
        return StoredRender(row[0], path, row[2], (row[3], row[4]), row[5], row[6], row[7], json.loads(row[8]), row[9])

    # -- end of stylize section -----------------------------------------------------------------------------

    # -- helpers ------------------------------------------------------------------------------------------


    def _ids_by_key(self, table: str, column: str, keys: Iterable[str]) -> dict[str, int]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, int] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            rows = self.db.execute(
                f"SELECT {column}, id FROM {table} WHERE {column} IN ({','.join('?' * len(chunk))})", chunk
            )
            found.update({row[0]: row[1] for row in rows})
        return found


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
