"""Settings kept in the catalog and its revision counters (tables ``catalog_settings``, ``revisions``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from stylerec_desktop.core.catalog.table_group import TableGroup, format_ts


class SettingQueries(TableGroup):
    """Settings fitted to one catalog (the tuned ranking, the learned model) and the tables' revision numbers
    (what changed since a view last looked)."""

    def revisions(self) -> dict[str, int]:
        """Revision numbers of ``products``, ``events`` and ``image_features``: each changes whenever a row of its
        table is added, changed or removed, by this process or another (triggers keep them)."""
        return {name: int(value) for name, value in self.db.execute("SELECT name, value FROM revisions")}

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
