"""The catalog: one folder holding the SQLite database and the files the app manages (thumbnails, renders).

All SQL of the application lives in this package. This module opens the database and runs transactions; the
queries are grouped by table in ``product_queries``, ``customer_queries``, ``feature_queries``, ``render_queries``
and ``setting_queries``: mixins of :class:`Catalog`, which callers use as one object. Each thread gets its own
connection (SQLite connections are not shareable across threads); writes are serialised by a lock so that one
writer at a time holds the database, and WAL mode lets readers go on while it writes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from stylerec_desktop.core.catalog import schema
from stylerec_desktop.core.catalog.customer_queries import CUSTOMER_ORDERS, CustomerQueries
from stylerec_desktop.core.catalog.feature_queries import FeatureQueries
from stylerec_desktop.core.catalog.product_queries import EDITABLE_PRODUCT_FIELDS, ProductQueries
from stylerec_desktop.core.catalog.records import CatalogCounts
from stylerec_desktop.core.catalog.render_queries import RenderQueries, StoredRender
from stylerec_desktop.core.catalog.setting_queries import SettingQueries
from stylerec_desktop.core.catalog.table_group import format_ts, parse_ts
from stylerec_desktop.core.errors import CatalogError, CatalogReadOnly
from stylerec_desktop.core.paths import read_only_thumbnails_dir

# Names callers import from this module; they live with their table group.
__all__ = [
    "CUSTOMER_ORDERS",
    "DB_NAME",
    "EDITABLE_PRODUCT_FIELDS",
    "LOCK_TIMEOUT_S",
    "Catalog",
    "StoredRender",
    "commit_count",
    "format_ts",
    "parse_ts",
]

DB_NAME = "catalog.sqlite"
#: Seconds a write waits for another program's lock on the catalog before it gives up ("database is locked").
LOCK_TIMEOUT_S = 30.0
_commits = 0  # transactions committed by this process (see commit_count)


def commit_count() -> int:
    """How many catalog transactions this process has committed so far. A command compares it before and after an
    interruption to tell the user truthfully whether its changes were saved."""
    return _commits


class _Connection(sqlite3.Connection):
    """A SQLite connection that can be weakly referenced (the catalog keeps no thread's connection alive)."""


def _in_transaction(conn: sqlite3.Connection) -> bool:
    try:
        return conn.in_transaction
    except sqlite3.ProgrammingError:  # closed (close(others_idle=True)): no transaction to finish
        return False


def is_writable(folder: Path) -> bool:
    """Whether this user may change the catalog in ``folder``: write its database file, and create files in the
    folder (SQLite's WAL and shared-memory files sit beside the database)."""
    return os.access(folder / DB_NAME, os.W_OK) and os.access(folder, os.W_OK | os.X_OK)


class Catalog(ProductQueries, CustomerQueries, FeatureQueries, RenderQueries, SettingQueries):
    """A catalog folder. Open with :meth:`open` (existing) or :meth:`create` (new or existing).

    This class opens the database, hands each thread its connection and runs write transactions; the queries of
    each group of tables come from its mixin: :class:`ProductQueries`, :class:`CustomerQueries` (and events),
    :class:`FeatureQueries` (the style index), :class:`RenderQueries`, :class:`SettingQueries` (and revisions).
    """

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
        # Bumped by close(): a thread's connection of an older generation is let go of at its next use (see db),
        # unless a transaction of its own is still open on it.
        self._generation = 0
        self._write_lock = threading.RLock()
        # Every thread's connection while it is alive, held weakly: each is closed by its thread (its last
        # reference going, or close_thread_connection), never under a query another thread is running.
        self._connections: weakref.WeakSet[_Connection] = weakref.WeakSet()
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

    def _connect_read_only(self) -> _Connection:
        """A ``mode=ro`` connection. A WAL database whose ``-shm`` file is gone and whose folder cannot be written
        is opened as ``immutable`` instead (SQLite cannot share a read lock there); it is then read as it is."""
        uri = self.db_path.as_uri()
        if not self._immutable:
            conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=LOCK_TIMEOUT_S, check_same_thread=False,
                                   factory=_Connection)  # fmt: skip
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.OperationalError:
                conn.close()
                self._immutable = True
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False, factory=_Connection)

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection."""
        db = getattr(self._local, "db", None)
        if db is not None and self._local.generation != self._generation and not _in_transaction(db.conn):
            # The catalog was closed since this thread last used it: a fresh connection. The old one is not closed
            # here (a cursor of it may still be being read); it closes when nothing refers to it any more. A write
            # transaction begun before the close goes on to its commit or rollback on its own connection.
            db = None
        if db is None:
            if self.read_only:
                conn = self._connect_read_only()
                conn.execute("PRAGMA query_only = ON")  # belt and braces: SQLite itself refuses every write
            else:
                conn = sqlite3.connect(self.db_path, timeout=LOCK_TIMEOUT_S, check_same_thread=False,
                                       factory=_Connection)  # fmt: skip
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            db = sqlite_utils.Database(conn)
            self._local.db = db
            self._local.generation = self._generation
            with self._connections_lock:
                self._connections.add(conn)
        return db

    def close(self, *, others_idle: bool = False) -> None:
        """Close the calling thread's connection and let go of every other thread's.

        Another thread's connection is not closed from here: a query it is running would be left on a freed
        connection (CPython's sqlite3 crashes the process then), and a transaction it has open would lose its
        connection halfway. The thread lets go of it at its next use of the catalog (then opening a new one) or when
        it ends, and Python's collector closes it once nothing refers to it (a connection's statement cache refers
        back to it, so at a collection, not at once): a job told to stop finishes its read or its write first.
        Worker threads that end before the catalog closes call :meth:`close_thread_connection`.

        ``others_idle``: the caller knows no other thread is using the catalog (the app's workers have all stopped,
        at quit): every connection is closed now, and the last one folds SQLite's write-ahead log back into the
        database file (no ``-wal`` file is left beside it)."""
        mine = getattr(self._local, "db", None)
        self._local.db = None
        self._generation += 1
        with self._connections_lock:
            closing = list(self._connections) if others_idle else [mine.conn] if mine is not None else []
            for conn in closing:
                self._connections.discard(conn)
        for conn in closing:
            conn.close()

    def open_connections(self) -> int:
        """How many threads' connections are still open (in use, or held by a thread's frame)."""
        with self._connections_lock:
            return len(self._connections)

    def close_thread_connection(self) -> None:
        """Close the calling thread's connection, if it has one: for worker threads that end before the catalog
        is closed (their connections would otherwise stay open until :meth:`close`)."""
        db = getattr(self._local, "db", None)
        if db is None:
            return
        self._local.db = None
        with self._connections_lock:
            self._connections.discard(db.conn)
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

    # -- across the tables --------------------------------------------------------------------------------

    def counts(self) -> CatalogCounts:
        q = self.db.execute
        return CatalogCounts(
            products=q("SELECT count(*) FROM products").fetchone()[0],
            images=q("SELECT count(*) FROM product_images").fetchone()[0],
            customers=q("SELECT count(*) FROM customers").fetchone()[0],
            events=q("SELECT count(*) FROM events").fetchone()[0],
            categories=q("SELECT count(DISTINCT category) FROM products").fetchone()[0],
        )
