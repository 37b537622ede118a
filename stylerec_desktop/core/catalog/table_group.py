"""What every table group of the catalog shares: the base class of the :class:`~stylerec_desktop.core.catalog.Catalog`
mixins (one per group of tables: products, customers and events, image features, renders, settings), and the
timestamps as the catalog stores them.

A table group defines only queries; :class:`~stylerec_desktop.core.catalog.Catalog` defines the connection
(:attr:`db`, one per thread) and the write :meth:`transaction` they run in.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    import sqlite_utils

CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit


def now_text() -> str:
    """Now, as the catalog stores when a row was written (UTC, ISO-8601 to the second)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def format_ts(ts: datetime) -> str:
    """Timestamps are stored as fixed-width UTC ISO-8601 text, so text order is time order."""
    if ts.tzinfo is None:
        raise ValueError("event timestamps must be timezone-aware")
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class TableGroup:
    """The base of the catalog's table groups. ``folder`` is the catalog folder (stored paths are relative to
    it when inside it)."""

    folder: Path

    if TYPE_CHECKING:  # defined by Catalog

        @property
        def db(self) -> sqlite_utils.Database: ...

        def transaction(self) -> AbstractContextManager[None]: ...

    def _store_path(self, path: Path) -> str:
        """Paths inside the catalog folder are stored relative to it, so the folder can move."""
        path = path.resolve()
        try:
            return path.relative_to(self.folder).as_posix()
        except ValueError:
            return str(path)

    @overload
    def _load_path(self, text: str) -> Path: ...

    @overload
    def _load_path(self, text: None) -> None: ...

    def _load_path(self, text: str | None) -> Path | None:
        """A stored path as a path on this machine (relative ones are inside the catalog folder); None for none."""
        if text is None:
            return None
        path = Path(text)
        return path if path.is_absolute() else self.folder / path

    def _ids_by_key(self, table: str, column: str, keys: Iterable[str]) -> dict[str, int]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, int] = {}
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            rows = self.db.execute(
                f"SELECT {column}, id FROM {table} WHERE {column} IN ({','.join('?' * len(chunk))})", chunk
            )
            found.update({row[0]: row[1] for row in rows})
        return found
