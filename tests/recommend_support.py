"""A small drawn catalog for the recommender tests: tees in 5 patterns x 4 palettes, customers with known tastes.

Each product is a tee silhouette on a white studio backdrop, filled with a pattern (stripes, dots, checks, solid,
zigzag) in a two-colour palette, drawn with PIL so the tests need neither the demo generator nor files on disk.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw

from stylerec_desktop.core.catalog import Catalog, CustomerRecord, EventRecord, ImageInfo, ProductRecord
from stylerec_desktop.core.imaging import inspect_image

PATTERNS = ("stripes", "dots", "checks", "solid", "zigzag")
PALETTES = {
    "navy": ((24, 42, 92), (240, 242, 244)),
    "pastel": ((240, 178, 186), (166, 222, 196)),
    "earth": ((190, 98, 64), (112, 118, 62)),
    "neon": ((255, 40, 150), (150, 240, 30)),
}
SIDE = 160
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _tee(draw: ImageDraw.ImageDraw, fill: int) -> None:
    s = SIDE / 160
    points = [(50, 20), (110, 20), (145, 50), (128, 68), (115, 58), (115, 145), (45, 145), (45, 58), (32, 68), (15, 50)]
    draw.polygon([(x * s, y * s) for x, y in points], fill=fill)


def draw_product(pattern: str, palette: str, variant: int = 0) -> Image.Image:
    """A ``SIDE`` px tee with ``pattern`` in ``palette``; ``variant`` changes scale and phase, not the look."""
    base, accent = PALETTES[palette]
    surface = Image.new("RGB", (SIDE, SIDE), base)
    pen = ImageDraw.Draw(surface)
    period = 14 + 4 * variant
    if pattern == "stripes":
        for y in range(-period, SIDE, period):
            pen.rectangle((0, y + variant * 3, SIDE, y + variant * 3 + period // 2 - 1), fill=accent)
    elif pattern == "dots":
        for x, y in itertools.product(range(0, SIDE, period), repeat=2):
            r = period // 4
            pen.ellipse((x + variant, y + variant, x + variant + 2 * r, y + variant + 2 * r), fill=accent)
    elif pattern == "checks":
        for i, j in itertools.product(range(SIDE // period + 1), repeat=2):
            if (i + j) % 2:
                pen.rectangle((i * period, j * period, (i + 1) * period - 1, (j + 1) * period - 1), fill=accent)
    elif pattern == "zigzag":
        for y0 in range(-period, SIDE + period, period):
            pts = [(x, y0 + (period // 2 if (x // (period // 2)) % 2 else 0)) for x in range(0, SIDE + 8, period // 2)]
            pen.line(pts, fill=accent, width=3)
    product = Image.new("RGB", (SIDE, SIDE), (255, 255, 255))
    mask = Image.new("L", (SIDE, SIDE), 0)
    _tee(ImageDraw.Draw(mask), 255)
    product.paste(surface, mask=mask)
    return product


def sku(pattern: str, palette: str, variant: int) -> str:
    return f"{pattern}-{palette}-{variant}"


def build_catalog(folder: Path, variants: int = 2) -> Catalog:
    """Create a catalog in ``folder`` with ``5 x 4 x variants`` products (sku ``pattern-palette-variant``),
    prices rising with the variant, category ``tees`` (``solid`` products are ``basics``)."""
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    records = []
    for pattern, palette, variant in itertools.product(PATTERNS, PALETTES, range(variants)):
        path = images / f"{sku(pattern, palette, variant)}.png"
        draw_product(pattern, palette, variant).save(path)
        records.append(
            ProductRecord(
                sku=sku(pattern, palette, variant),
                title=f"{palette.title()} {pattern} tee {variant}",
                category="basics" if pattern == "solid" else "tees",
                price=20.0 + 10 * variant,
                tags=(pattern, palette),
                images=(_image_info(path),),
            )
        )
    catalog = Catalog.create(folder / "catalog")
    catalog.upsert_products(records)
    return catalog


def _image_info(path: Path) -> ImageInfo:
    return inspect_image(path)


def add_customer(catalog: Catalog, customer_id: str, events: list[tuple[str, str, int]]) -> None:
    """``events`` are ``(sku, kind, day)`` with day counted from ``T0``."""
    catalog.upsert_customers([CustomerRecord(customer_id, name=customer_id)])
    catalog.add_events(
        [
            EventRecord(customer_id, s, kind, T0 + timedelta(days=day, minutes=i))
            for i, (s, kind, day) in enumerate(events)
        ]
    )


Shopper = tuple[str, tuple[str, str], list[tuple[str, str, int]]]


def taste_histories(n_customers: int, days: int, seed: int = 3) -> list[Shopper]:
    """Synthetic shoppers with a hidden (pattern, palette) taste: 80% of their events hit the taste, the rest are
    random; returns ``(customer_id, taste, events)``."""
    import random

    rng = random.Random(seed)
    combos = list(itertools.product(PATTERNS, PALETTES))
    shoppers = []
    for c in range(n_customers):
        taste = combos[c % len(combos)]
        events = []
        for _ in range(8):
            if rng.random() < 0.8:
                pattern = taste[0] if rng.random() < 0.75 else rng.choice(PATTERNS)
                palette = taste[1] if rng.random() < 0.75 else rng.choice(list(PALETTES))
            else:
                pattern, palette = rng.choice(combos)
            kind = rng.choice(("view", "view", "like", "cart", "purchase"))
            events.append((sku(pattern, palette, rng.randrange(2)), kind, rng.randrange(days)))
        shoppers.append((f"C{c:03d}", taste, events))
    return shoppers
