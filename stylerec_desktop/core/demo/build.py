"""The two demo jobs: write the demo files (CSVs, product shots, hidden truth), and build a demo catalog from them.

The demo catalog goes through the same importers as a customer's own files, so it doubles as a living example
of the documented import format.
"""

from __future__ import annotations

import csv
import json
import os
from collections import deque
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TypeVar

from PIL import Image

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.demo.assortment import ProductSpec, plan_assortment, render_product
from stylerec_desktop.core.demo.shoppers import (
    NOISE_SHARE,
    POPULAR_SHARE,
    PREFERENCES,
    REFERENCE_TIME,
    TASTE_SHARE,
    WINDOW,
    Interaction,
    Shopper,
    invent_shoppers,
    popularity,
    simulate_history,
)
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress

R = TypeVar("R")

# Enough shoppers for the demo's own evaluation to separate the methods: with 48 (the first demo), four two-week
# test windows held about 35 purchases and every difference between methods was inside its interval.
DEMO_CUSTOMERS = 600

PRODUCT_COLUMNS = ("sku", "title", "category", "brand", "price", "currency", "in_stock", "tags", "image",
                   "pattern", "palette", "colour")
CUSTOMER_COLUMNS = ("customer_id", "name", "email", "country", "joined")
EVENT_COLUMNS = ("customer_id", "sku", "kind", "timestamp", "quantity")
JPEG_QUALITY = 90


@dataclass(frozen=True)
class DemoFiles:
    """Where :func:`generate_demo_files` put everything."""

    folder: Path
    products_csv: Path
    customers_csv: Path
    events_csv: Path
    images_dir: Path
    truth_json: Path


def _write_csv(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    # "\n" line ends on every OS, so the same seed gives byte-identical files everywhere.
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _product_row(spec: ProductSpec) -> list[str]:
    return [spec.sku, spec.title, spec.category.name, spec.brand, spec.price, "USD",
            "true" if spec.in_stock else "false", ";".join(spec.tags), spec.image_path,
            spec.pattern.name, spec.palette.name, spec.colour]


def _truth(seed: int, shoppers: list[Shopper], products: list[ProductSpec], popular: list[float]) -> dict:
    return {
        "about": "Hidden style tastes behind the demo histories; for evaluating recommendations, never imported.",
        "seed": seed,
        "reference_time": REFERENCE_TIME.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window_days": WINDOW.days,
        "choice_mix": {"taste": TASTE_SHARE, "popularity": POPULAR_SHARE, "noise": NOISE_SHARE},
        "customers": {
            s.customer_id: {
                "tastes": [
                    {"pattern": t.pattern, "palette": t.palette, "weight_start": t.weight_start,
                     "weight_end": t.weight_end}
                    for t in s.tastes
                ],
                "category": s.category,
                "shapes": list(s.shapes),
                "patterns": list(s.patterns),
            }
            for s in shoppers
        },
        "popularity": {p.sku: round(w, 6) for p, w in zip(products, popular, strict=True)},
    }


def _draw(spec: ProductSpec, seed: int, images_dir: Path) -> ProductSpec:
    # Pillow writes no timestamp into a JPEG, and 4:4:4 chroma keeps thin coloured stripes crisp.
    image = Image.fromarray(render_product(spec, seed))
    image.save(images_dir / spec.image_path, "JPEG", quality=JPEG_QUALITY, subsampling=0)
    return spec


def generate_demo_files(
    dest: Path, seed: int = 7, n_products: int = 240, n_customers: int = DEMO_CUSTOMERS, preference: str = "style"
) -> Job[DemoFiles]:
    """Write the demo catalog's source files into ``dest`` (created if needed); the same seed, the same bytes.

    ``dest`` receives ``products.csv``, ``customers.csv``, ``events.csv``, ``demo_truth.json`` and
    ``images/<category>/<sku>.jpg`` (512 x 512 RGB JPEG product shots); files of those names are overwritten,
    nothing else in ``dest`` is touched. Progress counts one step per product shot plus two for the shoppers
    and the files. Cancelling stops between two shots; the CSVs are only written once every shot exists.
    """
    if n_products < 1 or n_customers < 1:
        raise UserError("The demo needs at least one product and one customer; choose larger numbers.")
    if preference not in PREFERENCES:
        raise UserError(f"Unknown demo preference {preference!r}; use {' or '.join(PREFERENCES)}.")
    dest = Path(dest)
    images_dir = dest / "images"
    total = n_products + 2
    yield Progress(0, total, "Planning the demo assortment")
    try:
        images_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"Cannot create the demo folder {dest}: {exc.strerror or exc}.") from exc
    products = plan_assortment(seed, n_products)
    for category in {spec.category.name for spec in products}:
        (images_dir / category).mkdir(exist_ok=True)
    # numpy and Pillow release the GIL in their inner loops, so two drawing threads use two cores. Every
    # product draws from its own random stream: the files are the same whichever thread draws them.
    workers = max(1, min(2, os.cpu_count() or 1))
    queue = iter(products)
    with ThreadPoolExecutor(workers, thread_name_prefix="demo-draw") as pool:
        pending = deque(pool.submit(_draw, spec, seed, images_dir) for spec in islice(queue, 2 * workers))
        try:
            done = 0
            while pending:
                spec = pending.popleft().result()
                follow = next(queue, None)
                if follow is not None:
                    pending.append(pool.submit(_draw, follow, seed, images_dir))
                done += 1
                yield Progress(done, total, f"Drawing product {done}/{n_products}: {spec.title}")
        finally:
            for future in pending:  # on cancel: drop what has not started; the pool waits for the rest
                future.cancel()

    shoppers = invent_shoppers(seed, n_customers, products, preference)
    popular = popularity(seed, len(products))
    events: list[Interaction] = []
    for shopper in shoppers:
        events += simulate_history(seed, shopper, products, popular)
    events.sort(key=lambda e: (e.ts, e.customer_id))
    yield Progress(n_products + 1, total, f"Simulated {len(events)} events of {len(shoppers)} shoppers")

    files = DemoFiles(
        folder=dest,
        products_csv=dest / "products.csv",
        customers_csv=dest / "customers.csv",
        events_csv=dest / "events.csv",
        images_dir=images_dir,
        truth_json=dest / "demo_truth.json",
    )
    _write_csv(files.products_csv, PRODUCT_COLUMNS, [_product_row(p) for p in products])
    _write_csv(files.customers_csv, CUSTOMER_COLUMNS,
               [[s.customer_id, s.name, s.email, s.country, s.joined.isoformat()] for s in shoppers])
    _write_csv(files.events_csv, EVENT_COLUMNS,
               [[e.customer_id, e.sku, e.kind, e.ts.strftime("%Y-%m-%dT%H:%M:%SZ"), str(e.quantity)] for e in events])
    truth = _truth(seed, shoppers, products, popular.tolist())
    files.truth_json.write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    yield Progress(total, total, "Demo files written")
    return files


class _Stages:
    """Runs the steps of a multi-step job as one progress bar from 0 to ``total``.

    Each step gets a share of the bar. A step's own progress may restart from 0 when it enters a new phase
    (an import checks images, then writes); each phase then fills three quarters of what is left of the step's
    share, so the bar never moves backwards and never runs ahead of the work.
    """

    def __init__(self, total: int = 1000) -> None:
        self.total = total
        self.position = 0

    def run(self, job: Job[R], share: float, label: str) -> Generator[Progress, None, R]:
        start = self.position
        end = min(self.total, start + round(share * self.total))
        low, high = start, end
        last = 0.0
        try:
            while True:
                try:
                    step = next(job)
                except StopIteration as stop:
                    self.position = end
                    yield Progress(end, self.total, label)
                    return stop.value
                fraction = step.fraction or 0.0
                if fraction < last:  # a new phase: it fills part of what is left
                    low = self.position
                    high = low + round((end - low) * 0.75)
                last = fraction
                self.position = max(self.position, low + round((high - low) * fraction))
                message = f"{label}: {step.message}" if step.message else label
                yield Progress(self.position, self.total, message)
        finally:
            job.close()  # a cancel closes this generator; pass it on so the step rolls back and cleans up


def build_demo_catalog(
    folder: Path, seed: int = 7, n_products: int = 240, n_customers: int = DEMO_CUSTOMERS, preference: str = "style"
) -> Job[Catalog]:
    """Create (or open) the catalog in ``folder`` and fill it with the demo: returns the open :class:`Catalog`.

    The source files are written to ``folder / "demo_source"`` by :func:`generate_demo_files` and imported with
    the regular importers (customers, then products with their images, then events). Progress runs once from
    0 to 1000 across all of it.
    """
    from stylerec_desktop.core.importers import import_customers, import_events, import_products

    catalog = Catalog.create(folder)
    stages = _Stages()
    try:
        # Shares measured on the default demo: drawing takes about nine tenths of the time.
        files = yield from stages.run(
            generate_demo_files(Path(folder) / "demo_source", seed, n_products, n_customers, preference), 0.86,
            "Drawing the demo",
        )
        yield from stages.run(import_customers(catalog, files.customers_csv), 0.01, "Importing customers")
        yield from stages.run(
            import_products(catalog, files.products_csv, images_dir=files.images_dir), 0.09, "Importing products"
        )
        yield from stages.run(import_events(catalog, files.events_csv), 0.04, "Importing events")
    except BaseException:
        catalog.close()
        raise
    yield Progress(stages.total, stages.total, "Demo catalog ready")
    return catalog
