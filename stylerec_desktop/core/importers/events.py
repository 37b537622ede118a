"""Importing events (views, likes, carts, purchases) from CSV; their products and customers must exist."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stylerec_desktop.core.catalog import Catalog, EventRecord
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


def _write(catalog: Catalog, records: Sequence[EventRecord]) -> int:
    return catalog.add_events(records)


EVENTS: Kind[EventRecord] = Kind(
    name="events", required=REQUIRED, optional=OPTIONAL, jsonl=False, check=_check, write=_write
)


def import_events(catalog: Catalog, path: Path, skip_bad: bool = False) -> Job[ImportReport]:
    """Import events from a CSV file. See :mod:`stylerec_desktop.core.importers` for the format and rules."""
    return run_import(catalog, path, EVENTS, skip_bad)
