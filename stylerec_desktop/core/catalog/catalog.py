"""The catalog: one folder holding the SQLite database and the files the app manages (thumbnails, renders).

All SQL of the application lives in this package. Each thread gets its own connection (SQLite connections are
not shareable across threads); writes are serialised by a lock so that one writer at a time holds the database,
and WAL mode lets readers go on while it writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from stylerec_desktop.core.catalog import schema
from stylerec_desktop.core.catalog.records import (
    CatalogCounts,
    Customer,
    CustomerRecord,
    EventRecord,
    HistoryItem,
    Product,
    ProductImage,
    ProductRecord,
    ProductTile,
)
from stylerec_desktop.core.errors import CatalogError, NotFound

DB_NAME = "catalog.sqlite"
_CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def format_ts(ts: datetime) -> str:
    """Timestamps are stored as fixed-width UTC ISO-8601 text, so text order is time order."""
    if ts.tzinfo is None:
        raise ValueError("event timestamps must be timezone-aware")
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class Catalog:
    """A catalog folder. Open with :meth:`open` (existing) or :meth:`create` (new or existing)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self.db_path = self.folder / DB_NAME
        self.thumbnails_dir = self.folder / "thumbnails"
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
    def open(cls, folder: Path | str) -> Catalog:
        """Open an existing catalog; :class:`CatalogError` when ``folder`` holds none."""
        folder = Path(folder).expanduser()
        if not (folder / DB_NAME).is_file():
            raise CatalogError(
                f"No catalog in {folder}. Create one with `stylerec --catalog {folder} init` "
                f"or a demo with `stylerec --catalog {folder} demo`."
            )
        return cls._open(folder)

    @staticmethod
    def exists(folder: Path | str) -> bool:
        return (Path(folder).expanduser() / DB_NAME).is_file()

    @classmethod
    def _open(cls, folder: Path) -> Catalog:
        catalog = cls(folder)
        try:
            catalog.thumbnails_dir.mkdir(exist_ok=True)
            catalog.renders_dir.mkdir(exist_ok=True)
            with catalog._write_lock:
                schema.migrate(catalog.db)
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

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection."""
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.db_path, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
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

        Nested calls join the outer transaction (as savepoints), so an importer can wrap several writes.
        """
        with self._write_lock, self.db.atomic():
            yield

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
                                          attributes, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (sku) DO UPDATE SET
                        title = excluded.title, category = excluded.category, brand = excluded.brand,
                        price = excluded.price, currency = excluded.currency, in_stock = excluded.in_stock,
                        tags = excluded.tags, attributes = excluded.attributes, updated_at = excluded.updated_at
                    RETURNING id""",
                    (
                        record.sku,
                        record.title,
                        record.category,
                        record.brand,
                        record.price,
                        record.currency,
                        int(record.in_stock),
                        json.dumps(list(record.tags)),
                        json.dumps(record.attributes, sort_keys=True),
                        now,
                        now,
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

    def upsert_customers(self, records: Iterable[CustomerRecord]) -> int:
        rows = [
            (r.customer_id, r.name, r.email, r.country, r.joined, json.dumps(r.attributes, sort_keys=True))
            for r in records
        ]
        with self.transaction():
            self.db.conn.executemany(
                """
                INSERT INTO customers (customer_id, name, email, country, joined, attributes)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (customer_id) DO UPDATE SET
                    name = excluded.name, email = excluded.email, country = excluded.country,
                    joined = excluded.joined, attributes = excluded.attributes""",
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
        """Ids of the products whose sku, title, brand or tags contain ``text`` (any case), in ``category``
        when given, ordered by title."""
        where, params = [], []
        if category:
            where.append("category = ?")
            params.append(category)
        for word in text.split():
            like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(
                "(sku LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\' OR brand LIKE ? ESCAPE '\\' "
                "OR tags LIKE ? ESCAPE '\\')"
            )
            params += [like] * 4
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
        row = self.db.execute("SELECT * FROM products WHERE id = ?", (product_id,)).fetchone()
        if row is None:
            raise NotFound(f"No product with id {product_id}.")
        return self._product_from_row(row)

    def product_by_sku(self, sku: str) -> Product:
        row = self.db.execute("SELECT * FROM products WHERE sku = ?", (sku,)).fetchone()
        if row is None:
            raise NotFound(f"No product with sku {sku!r} in this catalog. `stylerec products list` shows them.")
        return self._product_from_row(row)

    def products(self, limit: int | None = None, offset: int = 0, category: str | None = None) -> list[Product]:
        sql, params = "SELECT * FROM products", []
        if category:
            sql += " WHERE category = ?"
            params.append(category)
        sql += " ORDER BY sku LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        return [self._product_from_row(row) for row in self.db.execute(sql, params).fetchall()]

    def product_ids_by_sku(self, skus: Iterable[str]) -> dict[str, int]:
        return self._ids_by_key("products", "sku", skus)

    def _product_from_row(self, row: tuple) -> Product:
        (pid, sku, title, category, brand, price, currency, in_stock, tags, attributes, _c, _u) = row
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
            tuple(json.loads(tags)), json.loads(attributes), images,
        )  # fmt: skip

    # -- reads: customers ---------------------------------------------------------------------------------

    def customers(self, text: str = "", limit: int | None = None) -> list[Customer]:
        """Customers whose id, name or email contain ``text``, by id, with their event counts."""
        sql = """
            SELECT c.*, (SELECT count(*) FROM events e WHERE e.customer_id = c.id)
            FROM customers c"""
        params: list = []
        if text:
            like = f"%{text}%"
            sql += " WHERE c.customer_id LIKE ? OR c.name LIKE ? OR c.email LIKE ?"
            params += [like, like, like]
        sql += " ORDER BY c.customer_id LIMIT ?"
        params.append(-1 if limit is None else limit)
        return [self._customer_from_row(row) for row in self.db.execute(sql, params)]

    def customer(self, customer_id: str) -> Customer:
        row = self.db.execute(
            "SELECT c.*, (SELECT count(*) FROM events e WHERE e.customer_id = c.id) "
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
        cid, customer_id, name, email, country, joined, attributes, event_count = row
        return Customer(cid, customer_id, name, email, country, joined, json.loads(attributes), event_count)

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
