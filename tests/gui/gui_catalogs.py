"""Catalogs and import files made for the GUI tests."""

from __future__ import annotations

import csv
import hashlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw

from stylerec_desktop.core.catalog import Catalog, CustomerRecord, EventRecord, ImageInfo, ProductRecord
from stylerec_desktop.core.jobs import run_job

CATEGORIES = ("tees", "mugs", "totes", "dresses", "cushions", "sneakers")
KINDS = ("view", "like", "cart", "purchase")


def draw_images(folder: Path, count: int, seed: int = 1, size: int = 200) -> list[ImageInfo]:
    """``count`` small product-like PNGs (a coloured disc on white), with their hashes."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    infos = []
    for i in range(count):
        path = folder / f"image-{i:04d}.png"
        image = Image.new("RGB", (size, size), "white")
        colour = tuple(rng.randrange(40, 230) for _ in range(3))
        ImageDraw.Draw(image).ellipse((size // 5, size // 5, size * 4 // 5, size * 4 // 5), fill=colour)
        image.save(path)
        infos.append(ImageInfo(path, hashlib.sha256(path.read_bytes()).hexdigest(), size, size))
    return infos


def build_small_catalog(folder: Path, n_products: int = 40, n_customers: int = 8) -> Catalog:
    """The small catalog of the GUI tests: the demo catalog when the demo builder is there (its generator is
    what users see first), else an equivalent made through the catalog API."""
    try:
        from stylerec_desktop.core.demo import build_demo_catalog
    except ImportError:
        return _build_with_api(folder, n_products, n_customers)
    return run_job(build_demo_catalog(folder, n_products=n_products, n_customers=n_customers))


def _build_with_api(folder: Path, n_products: int, n_customers: int) -> Catalog:
    catalog = Catalog.create(folder)
    images = draw_images(folder / "images", n_products)
    catalog.upsert_products(
        ProductRecord(
            sku=f"SKU-{i:04d}",
            title=f"{CATEGORIES[i % len(CATEGORIES)].rstrip('s').title()} no. {i}",
            category=CATEGORIES[i % len(CATEGORIES)],
            brand="Testbrand",
            price=9.5 + i,
            tags=("stripes" if i % 3 == 0 else "solid",),
            images=(images[i],),
        )
        for i in range(n_products)
    )
    catalog.upsert_customers(CustomerRecord(f"C{i:03d}", f"Customer {i}") for i in range(n_customers))
    rng = random.Random(3)
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    catalog.add_events(
        EventRecord(
            f"C{i % n_customers:03d}",
            f"SKU-{rng.randrange(n_products):04d}",
            KINDS[rng.randrange(4)],
            start + timedelta(days=i % 90, minutes=i),
        )
        for i in range(n_customers * 12)
    )
    return catalog


def build_big_catalog(folder: Path, n_products: int, n_images: int = 8) -> Catalog:
    """``n_products`` products sharing ``n_images`` image files, inserted in a few large transactions."""
    catalog = Catalog.create(folder)
    images = draw_images(folder / "images", n_images, size=64)
    batch = 20_000
    for start in range(0, n_products, batch):
        catalog.upsert_products(
            ProductRecord(
                sku=f"BIG-{i:06d}",
                title=f"Product {i:06d}",
                category=CATEGORIES[i % len(CATEGORIES)],
                price=float(i % 300),
                images=(images[i % n_images],),
            )
            for i in range(start, min(n_products, start + batch))
        )
    return catalog


def write_products_csv(
    path: Path, rows: int, images: list[ImageInfo], bad_rows: tuple[int, ...] = (), prefix: str = "IMP"
) -> Path:
    """A products CSV of ``rows`` products (images relative to the CSV's folder). Data rows listed in
    ``bad_rows`` (0-based) get the price ``not-a-price``; in the file they are on line ``index + 2``."""
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["sku", "title", "category", "price", "image"])
        for i in range(rows):
            image = images[i % len(images)].path.relative_to(path.parent).as_posix()
            price = "not-a-price" if i in bad_rows else f"{5 + i % 50}.99"
            writer.writerow([f"{prefix}-{i:06d}", f"Imported item {i}", "imported", price, image])
    return path
