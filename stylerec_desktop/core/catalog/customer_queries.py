"""The catalog's customers and their events (tables ``customers``, ``events``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from stylerec_desktop.core.catalog.records import Customer, CustomerRecord, EventRecord, HistoryItem, InteractionRow
from stylerec_desktop.core.catalog.search import LIKE_ESCAPE, customer_search_text, like_pattern, search_words
from stylerec_desktop.core.catalog.table_group import CHUNK, TableGroup, format_ts, parse_ts
from stylerec_desktop.core.errors import NotFound, UserError

#: One event as the recommender reads it: ``(product_id, kind, ts, quantity)``.
EventTuple = tuple[int, str, datetime, int]
_CUSTOMER_COLUMNS = "c.id, c.customer_id, c.name, c.email, c.country, c.joined, c.attributes"
#: How :meth:`CustomerQueries.customers` can sort, and the SQL of each (ties by id, so a page is stable).
CUSTOMER_ORDERS = {
    "id": "c.customer_id",
    "name": "c.name = '', c.name COLLATE NOCASE, c.customer_id",
    "activity": "event_count DESC, c.customer_id",
    "recent": "last_event IS NULL, last_event DESC, c.customer_id",
}


class CustomerQueries(TableGroup):
    """Customers and what they did (events): imports, search and sorting, one customer's history, and the event
    log the recommender learns from."""

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
            product_ids = self._ids_by_key("products", "sku", {r.sku for r in records})
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

    def events_of_customers(self, customer_ids: Sequence[str]) -> dict[str, tuple[int, list[EventTuple]]]:
        """For each of ``customer_ids`` (their own ids) known to the catalog: their internal id and their events
        ``(product_id, kind, ts, quantity)``, newest first, in the order :meth:`customer_history` gives them. What
        the recommender needs of a history, for many customers in one statement per :data:`CHUNK` of them (batch
        recommendations on a cluster read a task's customers at once: one customer at a time took 2.3 ms each)."""
        internal = self.customer_ids_by_external(customer_ids)
        external = {i: c for c, i in internal.items()}
        found: dict[str, tuple[int, list[EventTuple]]] = {c: (i, []) for c, i in internal.items()}
        keys = list(external)
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            rows = self.db.execute(
                f"""
                SELECT e.customer_id, e.product_id, e.kind, e.ts, e.quantity
                FROM events e
                JOIN products p ON p.id = e.product_id
                WHERE e.customer_id IN ({",".join("?" * len(chunk))})
                ORDER BY e.customer_id, e.ts DESC, e.id DESC""",
                chunk,
            )
            for customer, product, kind, ts, quantity in rows:
                found[external[customer]][1].append((product, kind, parse_ts(ts), quantity))
        return found

    def customer_external_ids(self) -> dict[int, str]:
        """Internal customer id -> the customer's own id (what users type)."""
        return {r[0]: r[1] for r in self.db.execute("SELECT id, customer_id FROM customers")}

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

    def event_time_span(self) -> tuple[str, str] | None:
        """(oldest, newest) event timestamp as stored, or None when there are no events."""
        row = self.db.execute("SELECT min(ts), max(ts) FROM events").fetchone()
        return None if row[0] is None else (row[0], row[1])

    @staticmethod
    def _customer_from_row(row: tuple) -> Customer:
        cid, customer_id, name, email, country, joined, attributes, event_count, last_event = row
        last = parse_ts(last_event) if last_event else None
        return Customer(cid, customer_id, name, email, country, joined, json.loads(attributes), event_count, last)
