"""Importing products, customers and events from the files a catalog team already has.

File formats
============

All files are UTF-8 text (a byte-order mark, as Excel's "CSV UTF-8" writes, is fine). A CSV file starts with a
header row; columns may come in any order and known column names match in any letter case. Commas separate
values (a file whose header is separated by semicolons or tabs, as some spreadsheet locales export, is read
that way); put values that contain the separator in double quotes. Blank lines are ignored, and so are
columns with an empty header.

Products: CSV, or JSON Lines (``.jsonl`` / ``.ndjson``: one JSON object per line)
    ``sku``       required; 1-64 characters: letters, digits, ``-``, ``_``, ``.``; unique within the file.
    ``title``     required.
    ``category``  required.
    ``brand``     optional text.
    ``price``     optional decimal from 0 to 1,000,000,000,000 with a dot, e.g. ``19.99``; empty = unknown.
    ``currency``  optional 3-letter code, upper-cased; default ``USD``.
    ``in_stock``  optional ``true/false``, ``yes/no``, ``y/n`` or ``1/0`` (any case); default true.
    ``tags``      optional; separated by ``;`` in CSV; in JSON Lines a list of strings or a ``;``-string.
    ``image``     optional path of the product image, relative to the images folder (by default the folder of
                  the products file; ``\\`` works as well as ``/``). It must lead inside that folder (a
                  ``../`` or an absolute path elsewhere is a bad row) unless ``allow_outside_images``
                  (``--allow-outside-images``) says any path may be used.
                  Several paths separated by ``;``: the first is the primary image. Also ``images``: in
                  JSON Lines a list of paths (or a ``;``-string), taken after those in ``image``; in CSV the
                  same as ``image``. Empty: a product already in the catalog keeps its images (so a
                  price-update file needs no image column); otherwise its image list becomes the one given.
    ``item_group_id``  optional; products that are variants of one product (the colours of one dress) share
                  it, as in a Google Merchant Center feed; one line, at most 128 characters; empty = in no
                  group. A file (or JSON object) without the column leaves products' groups as they are.
    anything else: a free attribute, kept as text (empty values are left out). In JSON Lines also an
                  ``attributes`` object of name -> value.

Customers: CSV
    ``customer_id``  required; unique within the file; one line, at most 128 characters.
    ``name``, ``country``  optional text.
    ``email``        optional; if given, must look like an email address (``anna@example.com``).
    ``joined``       optional ISO date, e.g. ``2024-03-01``.
    anything else: a free attribute.

Events: CSV
    ``customer_id``  required; a customer already in the catalog.
    ``sku``          required; a product already in the catalog.
    ``kind``         required; ``view``, ``like``, ``cart`` or ``purchase`` (any case).
    ``timestamp``    required ISO-8601 date and time: ``2024-03-01T14:30:00Z``, with an offset
                     (``2024-03-01T16:30:00+02:00``), without a zone (taken as UTC), or a date alone
                     (``2024-03-01`` = midnight UTC); in the years 1900 to 2199.
    ``quantity``     optional whole number from 1 to 1,000,000; default 1.
    Other columns are ignored. Import products and customers first: an event of an unknown sku or customer
    is a bad row. Rows with the same (customer, sku, kind, timestamp to the second) are one event whose
    quantity is their sum (the report counts them as merged); an event already in the catalog under that key
    gets the file's quantity, so importing the same file again does not double it.

How an import behaves
=====================

- Only regular files are read (a device such as ``/dev/zero``, a named pipe or a socket is refused before it
  is opened), an import file of at most 512 MB, an image file of at most 512 MB.
- Every row is checked before anything is written, including every image: it must exist, be a JPEG, PNG,
  WebP, TIFF, BMP or GIF that decodes completely (not truncated), be 16-16384 pixels per side and at most 64
  megapixels (larger is refused unread, as a possible decompression bomb). Image files are never modified.
- If any row is bad, nothing is imported: the error lists every problem as ``row 7, column price: 'abc' is
  not a number (expected a decimal >= 0, e.g. 19.99)``. Row numbers are those of a spreadsheet or text editor:
  the header is row 1, the first data row is row 2 (in JSON Lines, the line number).
- With ``skip_bad`` (``--skip-bad``), the good rows are imported and the bad ones are written, with their
  problems, to ``<name>.rejects.csv`` beside the input (``products.rejects.csv`` for ``products.csv``):
  columns ``row, column, problem, expected``, then the row's own columns (for JSON Lines, the original line
  in a ``json`` column). Fix it and import it as it is: those four columns are ignored on import.
- A missing required column in the header, a file that is missing, unreadable, empty or not UTF-8 refuses the
  whole file, with or without ``skip_bad``.
- The catalog is written in one transaction: a cancelled or failed import leaves it exactly as it was.
- Importing the same file again changes nothing: products are matched by sku, customers by customer_id,
  events by (customer, sku, kind, timestamp), and updated in place. An update replaces every field of the
  record (tags and free attributes included) with what the file says, except that an empty ``image`` keeps
  a product's images.

Jobs
====

Each ``import_*`` function returns a job (see :mod:`stylerec_desktop.core.jobs`): a generator that yields
progress (``Checking images 1200/10000``, ``Writing products 500/10000``) and returns an
:class:`ImportReport`; it raises :class:`ImportFailed` for bad rows and :class:`UserError` for unusable files.
Drive a job from one thread from start to end: the catalog connection it writes with belongs to that thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.importers.customers import import_customers
from stylerec_desktop.core.importers.events import import_events
from stylerec_desktop.core.importers.pipeline import rejects_path_for
from stylerec_desktop.core.importers.products import import_products
from stylerec_desktop.core.importers.report import ImportFailed, ImportReport, RowError
from stylerec_desktop.core.importers.source import JSONL_SUFFIXES, peek_columns
from stylerec_desktop.core.jobs import Job, logged_outcome

log = logging.getLogger(__name__)

KINDS = ("products", "customers", "events")

__all__ = [
    "JSONL_SUFFIXES",
    "KINDS",
    "ImportFailed",
    "ImportReport",
    "RowError",
    "detect_kind",
    "import_customers",
    "import_events",
    "import_file",
    "import_products",
    "rejects_path_for",
]


def import_file(
    catalog: Catalog,
    kind: str,
    path: Path,
    images_dir: Path | None = None,
    skip_bad: bool = False,
    allow_outside_images: bool = False,
) -> Job[ImportReport]:
    """The import job for ``kind`` (one of :data:`KINDS`); ``images_dir`` and ``allow_outside_images`` only
    apply to products."""
    if kind == "products":
        job = import_products(catalog, path, images_dir, skip_bad, allow_outside_images)
    elif kind == "customers":
        job = import_customers(catalog, path, skip_bad=skip_bad)
    elif kind == "events":
        job = import_events(catalog, path, skip_bad=skip_bad)
    else:
        raise UserError(f"Cannot import {kind!r}: choose one of {', '.join(KINDS)}.")
    return logged_outcome(job, log, f"import of {kind} from {path}", _import_summary)


def _import_summary(report: ImportReport) -> str:
    problems = len(report.errors)
    bad = f", {problems} problem{'s' if problems != 1 else ''}" if problems else ""
    rejects = f", bad rows in {report.rejects_path}" if report.rejects_path else ""
    return f"{report.rows} rows read, {report.imported} imported, {report.merged} merged{bad}{rejects}"



def detect_kind(path: Path) -> str | None:
    """What a file holds, judged by its header (or first JSON object): ``'products'``, ``'customers'``,
    ``'events'``, or None when it cannot be told (or the file cannot be read). For files dropped on the app.

    Only the start of the file is read.
    """
    try:
        columns = {name.lower() for name in peek_columns(Path(path))}
    except UserError:
        return None
    if {"customer_id", "sku"} <= columns and columns & {"kind", "timestamp"}:
        return "events"
    if "sku" in columns and "customer_id" not in columns:
        return "products"
    if "customer_id" in columns and "sku" not in columns:
        return "customers"
    return None
