"""Importing products (CSV or JSON Lines), with every image validated before anything is written."""

from __future__ import annotations

import itertools
import os
from collections.abc import Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from stylerec_desktop.core.catalog import Catalog, ImageInfo, ProductRecord
from stylerec_desktop.core.imaging import ImageError, inspect_image
from stylerec_desktop.core.importers import values
from stylerec_desktop.core.importers.pipeline import Checked, ImportContext, Kind, RowFields, Ticker, run_import
from stylerec_desktop.core.importers.report import ImportReport, RowError
from stylerec_desktop.core.importers.source import SourceFile
from stylerec_desktop.core.jobs import Job, Progress

REQUIRED = ("sku", "title", "category")
OPTIONAL = ("brand", "price", "currency", "in_stock", "tags", "image", "images", "item_group_id")
JSONL_ONLY = ("attributes",)

# Decoding dominates an import. PIL and hashlib release the GIL while they work, so a few threads use every
# core; one more thread than cores keeps them busy while another waits for the disk.
IMAGE_WORKERS = max(2, min(8, (os.cpu_count() or 1) + 1))


def _image_refs(fields: RowFields) -> list[tuple[str, str]]:
    """``(column, reference)`` for each image of the row, primary first, each path once."""
    refs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for column in ("image", "images"):
        for ref in fields.get(column, values.string_list, "image paths") or []:
            # Windows users' files often use backslashes; on every OS we ship for, "/" also works.
            ref = ref.replace("\\", "/")
            if ref not in seen:
                seen.add(ref)
                refs.append((column, ref))
    return refs


def _inspect(path: Path) -> ImageInfo | ImageError:
    try:
        return inspect_image(path)
    except ImageError as error:
        return error


def _check_images(paths: list[Path]) -> Generator[Progress, None, dict[Path, ImageInfo | ImageError]]:
    """Validate every image on a small thread pool, yielding progress as they finish."""
    results: dict[Path, ImageInfo | ImageError] = {}
    if not paths:
        return results
    ticker = Ticker("Checking images", len(paths))
    workers = min(IMAGE_WORKERS, len(paths))
    # Only a few images are queued at a time rather than all 10,000 up front: the first progress step comes at
    # once, and a cancel has nothing left to throw away.
    queue = iter(paths)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import-images")
    try:
        pending = {pool.submit(_inspect, path): path for path in itertools.islice(queue, 4 * workers)}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                results[pending.pop(future)] = future.result()
            for path in itertools.islice(queue, len(finished)):
                pending[pool.submit(_inspect, path)] = path
            if step := ticker.tick(len(results)):
                yield step
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def _check(source: SourceFile, context: ImportContext) -> Checked[ProductRecord]:
    errors: list[RowError] = []
    known = PRODUCTS.known(source.is_jsonl)
    first_rows: dict[str, int] = {}
    parsed: list[tuple[RowFields, dict[str, Any], list[tuple[str, str, Path]]]] = []
    ticker = Ticker("Checking products", len(source.rows))
    for done, row in enumerate(source.rows):
        if step := ticker.tick(done):
            yield step
        if row.broken:
            continue
        fields = RowFields(source, row, errors)
        sku = fields.get("sku", values.sku)
        if sku is not None:
            fields.check_unique("sku", sku, first_rows)
        record: dict[str, Any] = {
            "sku": sku,
            "title": fields.get("title", values.required_text, "a product title"),
            "category": fields.get("category", values.required_text, "a category, e.g. tees"),
            "brand": values.text(row.values.get("brand")),
            "price": fields.get("price", values.price),
            "currency": fields.get("currency", values.currency),
            "in_stock": fields.get("in_stock", values.boolean, True),
            "tags": tuple(fields.get("tags", values.string_list, "tags") or ()),
            "attributes": fields.free_attributes(known),
        }
        if "item_group_id" in row.values:  # a file (or JSON object) without it leaves groups as they are
            record["item_group_id"] = fields.get("item_group_id", values.group_id)
        if source.is_jsonl:
            record["attributes"].update(fields.get("attributes", values.attributes) or {})
        images = []
        for column, ref in _image_refs(fields):
            if "\x00" in ref:  # no file system takes it, and os functions raise ValueError on it
                fields.fail(column, f"{values.quoted(ref)} contains a NUL character", "an image file path")
                continue
            path = context.images_dir / ref
            # Resolved, so "../x.jpg", an absolute path or a link inside the folder that leads out are all caught.
            if not context.allow_outside_images and not path.resolve().is_relative_to(context.images_dir):
                fields.fail(
                    column,
                    f"{values.quoted(ref)} leads outside the images folder {context.images_dir}",
                    "a path inside the images folder; to allow any path, import with --allow-outside-images",
                )
            else:
                images.append((column, ref, path))
        parsed.append((fields, record, images))
    if step := ticker.tick(len(source.rows)):
        yield step

    unique_paths = list(dict.fromkeys(path for _, _, images in parsed for _, _, path in images))
    found = yield from _check_images(unique_paths)

    records = []
    for fields, record, images in parsed:
        infos = []
        for column, ref, path in images:
            result = found[path]
            if isinstance(result, ImageError):
                # The user wrote a relative path: show where it led, the usual mistake is the images folder.
                problem = f"does not exist (looked for {path})" if result.reason == "missing" else result.problem
                fields.fail(column, f"{values.quoted(ref)} {problem}", result.expected)
            else:
                infos.append(result)
        if fields.ok:
            records.append(ProductRecord(**record, images=tuple(infos)))
    return records, errors


def _write(catalog: Catalog, records: Sequence[ProductRecord]) -> int:
    return catalog.upsert_products(records)


PRODUCTS: Kind[ProductRecord] = Kind(
    name="products",
    required=REQUIRED,
    optional=OPTIONAL,
    jsonl=True,
    jsonl_only=JSONL_ONLY,
    check=_check,
    write=_write,
)


def import_products(
    catalog: Catalog,
    path: Path,
    images_dir: Path | None = None,
    skip_bad: bool = False,
    allow_outside_images: bool = False,
) -> Job[ImportReport]:
    """Import products from a CSV or JSON Lines file; image paths are relative to ``images_dir``
    (default: the folder of the file) and must lead inside it unless ``allow_outside_images``. See
    :mod:`stylerec_desktop.core.importers` for the format and rules."""
    return run_import(catalog, path, PRODUCTS, skip_bad, images_dir, allow_outside_images)
