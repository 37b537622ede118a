"""Importing events (views, likes, carts, purchases) from CSV; their products and customers must exist.

Quantities: transaction logs record a quantity of 2 as two identical rows, so rows of one file that share the
catalog's event key (customer, sku, kind, time to the second in UTC) are one event whose quantity is the sum of
theirs; the report says how many rows were folded so.

An event already in the catalog under the same key (from an earlier import) gets the file's quantity: it is
replaced, not added to. Re-importing a file, or a corrected export of the same period, is then harmless (the
common case: shop exports overlap, and a key down to the second is one transaction, seen again). The cost: one
purchase split across two files at the very same second counts only the later file's quantity; such rows belong
in one file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stylerec_desktop.core.catalog import Catalog, EventRecord, format_ts
from stylerec_desktop.core.importers import values
from stylerec_desktop.core.importers.pipeline import Checked, ImportContext, Kind, RowFields, Ticker, run_import
from stylerec_desktop.core.importers.report import ImportReport, RowError
from stylerec_desktop.core.importers.source import SourceFile
from stylerec_desktop.core.jobs import Job

REQUIRED = ("customer_id", "sku", "kind", "timestamp")
OPTIONAL = ("quantity",)


def _check(source: SourceFile, context: ImportContext) -> Checked[EventRecord]:
    errors: list[RowError] = []
    parsed: list[tuple[RowFields, dict[str, Any]]] = []
    ticker = Ticker("Checking events", len(source.rows))
    for done, row in enumerate(source.rows):
        if step := ticker.tick(done):
            yield step
        if row.broken:
            continue
        fields = RowFields(source, row, errors)
        event = {
            "customer_id": fields.get("customer_id", values.identifier, "the customer_id of an imported customer"),
            "sku": fields.get("sku", values.sku),
            "kind": fields.get("kind", values.event_kind),
            "ts": fields.get("timestamp", values.timestamp),
            "quantity": fields.get("quantity", values.quantity),
        }
        parsed.append((fields, event))
    if step := ticker.tick(len(source.rows)):
        yield step

    # Events point at products and customers by key; both must already be in the catalog. One query per
    # distinct key set, not per row: an events file is often 100x longer than the catalog.
    catalog = context.catalog
    product_ids = catalog.product_ids_by_sku({e["sku"] for _, e in parsed if e["sku"] is not None})
    customer_ids = catalog.customer_ids_by_external(
        {e["customer_id"] for _, e in parsed if e["customer_id"] is not None}
    )
    records = []
    for fields, event in parsed:
        if event["customer_id"] is not None and event["customer_id"] not in customer_ids:
            fields.fail(
                "customer_id",
                f"{values.quoted(event['customer_id'])} is not a customer in this catalog",
                "an imported customer: import the customers file first",
            )
        if event["sku"] is not None and event["sku"] not in product_ids:
            fields.fail(
                "sku",
                f"{values.quoted(event['sku'])} is not a product in this catalog",
                "the sku of an imported product: import the products file first",
            )
        if fields.ok:
            records.append(EventRecord(**event))
    return records, errors


def _combine(records: list[EventRecord]) -> tuple[list[EventRecord], int]:
    """One event per catalog key, with the summed quantity of its rows, in the order each key first appears;
    and how many rows were folded into an earlier one. The key's time is the catalog's stored form (UTC, to the
    second), so rows that would land on one stored event are the ones combined."""
    events: dict[tuple[str, str, str, str], EventRecord] = {}
    for record in records:
        key = (record.customer_id, record.sku, record.kind, format_ts(record.ts))
        first = events.get(key)
        events[key] = record if first is None else dataclasses.replace(first, quantity=first.quantity + record.quantity)
    return list(events.values()), len(records) - len(events)


def _write(catalog: Catalog, records: Sequence[EventRecord]) -> int:
    return catalog.add_events(records)


EVENTS: Kind[EventRecord] = Kind(
    name="events", required=REQUIRED, optional=OPTIONAL, jsonl=False, check=_check, write=_write, combine=_combine
)


def import_events(catalog: Catalog, path: Path, skip_bad: bool = False) -> Job[ImportReport]:
    """Import events from a CSV file. See :mod:`stylerec_desktop.core.importers` for the format and rules, and
    this module's docstring for how repeated rows and events already in the catalog are counted."""
    return run_import(catalog, path, EVENTS, skip_bad)
