"""The renders kept in the catalog (table ``renders``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from stylerec_desktop.core.catalog.table_group import TableGroup, now_text
from stylerec_desktop.core.errors import NotFound

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


class RenderQueries(TableGroup):
    """Every picture the style engine writes into ``renders/``, recorded with the recipe that reproduces it (see
    ``core/stylize/recipe.py``). The recipe is stored as JSON text: it is read whole, never queried inside."""

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
                    now_text(),
                ),
            )
            assert cursor.lastrowid is not None  # an INSERT always sets it
            return cursor.lastrowid

    def renders(
        self, product_id: int | None = None, content_sha256: str | None = None, limit: int | None = None
    ) -> list[StoredRender]:
        """Renders, newest first; only those of ``product_id`` / of the content file ``content_sha256`` when given."""
        where, params = [], list[object]()
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
