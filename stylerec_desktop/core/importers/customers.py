"""Importing customers from CSV."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from stylerec_desktop.core.catalog import Catalog, CustomerRecord
from stylerec_desktop.core.importers import values
from stylerec_desktop.core.importers.pipeline import Checked, ImportContext, Kind, RowFields, Ticker, run_import
from stylerec_desktop.core.importers.report import ImportReport, RowError
from stylerec_desktop.core.importers.source import SourceFile
from stylerec_desktop.core.jobs import Job

REQUIRED = ("customer_id",)
OPTIONAL = ("name", "email", "country", "joined")


def _check(source: SourceFile, context: ImportContext) -> Checked[CustomerRecord]:
    errors: list[RowError] = []
    known = CUSTOMERS.known(source.is_jsonl)
    first_rows: dict[str, int] = {}
    records = []
    ticker = Ticker("Checking customers", len(source.rows))
    for done, row in enumerate(source.rows):
        if step := ticker.tick(done):
            yield step
        if row.broken:
            continue
        fields = RowFields(source, row, errors)
        customer_id = fields.get("customer_id", values.identifier, "a customer id")
        if customer_id is not None:
            fields.check_unique("customer_id", customer_id, first_rows)
        email = fields.get("email", values.email)
        joined = fields.get("joined", values.iso_date)
        if fields.ok:
            records.append(
                CustomerRecord(
                    customer_id=customer_id,
                    name=values.text(row.values.get("name")),
                    email=email,
                    country=values.text(row.values.get("country")),
                    joined=joined,
                    attributes=fields.free_attributes(known),
                )
            )
    if step := ticker.tick(len(source.rows)):
        yield step
    return records, errors


def _write(catalog: Catalog, records: Sequence[CustomerRecord]) -> int:
    return catalog.upsert_customers(records)


CUSTOMERS: Kind[CustomerRecord] = Kind(
    name="customers", required=REQUIRED, optional=OPTIONAL, jsonl=False, check=_check, write=_write
)


def import_customers(catalog: Catalog, path: Path, skip_bad: bool = False) -> Job[ImportReport]:
    """Import customers from a CSV file. See :mod:`stylerec_desktop.core.importers` for the format and rules."""
    return run_import(catalog, path, CUSTOMERS, skip_bad)
