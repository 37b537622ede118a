"""The built-in demo: deterministic files in the documented import format, clean product shots, believable shoppers."""

from __future__ import annotations

import csv
import dataclasses
import inspect
import itertools
import json
import re
import statistics
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylerec_desktop.core.catalog import Catalog, parse_ts
from stylerec_desktop.core.demo import DemoFiles, build_demo_catalog, generate_demo_files
from stylerec_desktop.core.demo.assortment import CATEGORIES, plan_assortment, render_product
from stylerec_desktop.core.demo.build import DEMO_CUSTOMERS
from stylerec_desktop.core.demo.palettes import PALETTES
from stylerec_desktop.core.demo.patterns import PATTERNS
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Cancelled, CancelToken, Progress, run_job

REFERENCE = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as stream:
        return next(csv.reader(stream))


def _all_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    """A small demo (30 products, 40 customers) shared by the read-only tests of this module."""
    return run_job(generate_demo_files(tmp_path_factory.mktemp("demo"), seed=7, n_products=30, n_customers=40))


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    first = run_job(generate_demo_files(tmp_path / "a", seed=3, n_products=12, n_customers=5))
    again = run_job(generate_demo_files(tmp_path / "b", seed=3, n_products=12, n_customers=5))
    other = run_job(generate_demo_files(tmp_path / "c", seed=4, n_products=12, n_customers=5))

    files = _all_files(first.folder)
    assert len(files) == 12 + 4  # images + products, customers, events, truth
    assert files == _all_files(again.folder)
    changed = _all_files(other.folder)
    for name in ("products.csv", "customers.csv", "events.csv", "demo_truth.json"):
        assert changed[name] != files[name], name
    shared_images = [n for n in files if n.endswith(".jpg") and n in changed]
    assert shared_images and all(files[n] != changed[n] for n in shared_images)


def test_csv_files_follow_the_documented_import_format(demo: DemoFiles) -> None:
    assert _header(demo.products_csv) == [
        "sku", "title", "category", "brand", "price", "currency", "in_stock", "tags", "image",
        "pattern", "palette", "colour",
    ]
    assert _header(demo.customers_csv) == ["customer_id", "name", "email", "country", "joined"]
    assert _header(demo.events_csv) == ["customer_id", "sku", "kind", "timestamp", "quantity"]

    products = _rows(demo.products_csv)
    assert len(products) == 30
    assert len({p["sku"] for p in products}) == 30
    for p in products:
        assert re.fullmatch(r"[A-Z]{3}-\d{4}", p["sku"])
        assert p["image"] == f"{p['category']}/{p['sku']}.jpg"
        assert (demo.images_dir / p["image"]).is_file()
        assert re.fullmatch(r"\d+\.\d\d", p["price"]) and float(p["price"]) > 5
        assert p["currency"] == "USD" and p["in_stock"] in ("true", "false")
        tags = p["tags"].split(";")
        assert tags[:2] == [p["pattern"], p["palette"]] and len(tags) >= 3
        assert p["colour"] in {c.name for c in next(x for x in PALETTES if x.name == p["palette"]).colours}
        assert len(p["title"].split()) >= 2 and p["title"][0].isupper()
    # Mugs are cheaper than sneakers, whatever the random draw.
    price = {c: [float(p["price"]) for p in products if p["category"] == c] for c in ("mugs", "sneakers")}
    assert max(price["mugs"]) < min(price["sneakers"])

    customers = _rows(demo.customers_csv)
    assert [c["customer_id"] for c in customers] == [f"C{n:04d}" for n in range(1, 41)]
    assert len({c["email"] for c in customers}) == 40
    for c in customers:
        assert re.fullmatch(r"[a-z.0-9]+@example\.com", c["email"])
        assert len(c["name"].split()) == 2 and c["country"]
        assert date.fromisoformat(c["joined"]) < REFERENCE.date()


def test_event_timestamps_fall_in_the_six_months_before_the_reference_date(demo: DemoFiles) -> None:
    events = _rows(demo.events_csv)
    skus = {p["sku"] for p in _rows(demo.products_csv)}
    joined = {c["customer_id"]: date.fromisoformat(c["joined"]) for c in _rows(demo.customers_csv)}
    stamps = []
    for e in events:
        ts = parse_ts(e["timestamp"])  # the catalog's own parser: 2026-03-04T18:22:05Z
        stamps.append(ts)
        assert REFERENCE - timedelta(days=183) <= ts < REFERENCE
        assert ts.date() >= joined[e["customer_id"]]
        assert e["sku"] in skus and e["kind"] in ("view", "like", "cart", "purchase")
        assert int(e["quantity"]) >= 1 and (e["kind"] == "purchase" or e["quantity"] == "1")
    assert stamps == sorted(stamps)
    # Histories spread over the months rather than bunching up.
    assert len({ts.month for ts in stamps}) >= 6


def test_event_kinds_form_a_funnel(demo: DemoFiles) -> None:
    events = _rows(demo.events_csv)
    kinds = Counter(e["kind"] for e in events)
    assert kinds["view"] > 2 * kinds["like"] > 0
    assert kinds["view"] > 3 * kinds["cart"] > 0
    assert kinds["cart"] > kinds["purchase"] > 0
    assert any(e["quantity"] == "2" for e in events if e["kind"] == "purchase")
    # Every purchase follows a cart of the same product by the same customer.
    carted: set[tuple[str, str]] = set()
    for e in events:
        if e["kind"] == "cart":
            carted.add((e["customer_id"], e["sku"]))
        elif e["kind"] == "purchase":
            assert (e["customer_id"], e["sku"]) in carted
    # Out-of-stock products are looked at but never bought.
    sold_out = {p["sku"] for p in _rows(demo.products_csv) if p["in_stock"] == "false"}
    assert not any(e["sku"] in sold_out for e in events if e["kind"] in ("cart", "purchase"))
    per_customer = Counter(e["customer_id"] for e in events)
    assert len(per_customer) == 40
    assert 30 <= statistics.median(per_customer.values()) <= 150


def test_histories_concentrate_on_each_customers_hidden_taste(demo: DemoFiles) -> None:
    products = {p["sku"]: p for p in _rows(demo.products_csv)}
    truth = json.loads(demo.truth_json.read_text(encoding="utf-8"))
    assert truth["reference_time"] == "2026-06-30T23:59:59Z"
    events = _rows(demo.events_csv)
    lifts, strong_share, view_share = [], [], []
    for customer_id, hidden in truth["customers"].items():
        assert 1 <= len(hidden["tastes"]) <= 2
        liked = {t["pattern"] for t in hidden["tastes"]}
        catalog_share = sum(p["pattern"] in liked for p in products.values()) / len(products)
        mine = [e for e in events if e["customer_id"] == customer_id]
        hits = [products[e["sku"]]["pattern"] in liked for e in mine]
        lifts.append(np.mean(hits) / catalog_share)
        view_share += [h for h, e in zip(hits, mine, strict=True) if e["kind"] == "view"]
        strong_share += [h for h, e in zip(hits, mine, strict=True) if e["kind"] != "view"]
    # Taste drives the histories, well above what random browsing gives (lift 1)...
    assert np.median(lifts) > 2.5
    assert np.mean(np.array(lifts) > 1.3) >= 0.85
    # ...and likes, carts and purchases follow it more closely than views, which popularity and noise dilute.
    assert np.mean(strong_share) > np.mean(view_share) + 0.05
    # The noise is real: a good share of what people view is outside their taste.
    assert np.mean(view_share) < 0.8


def test_pattern_shoppers_buy_their_patterns_in_any_colour_and_shape() -> None:
    """The "pattern" preference: each shopper likes one or two patterns, and their histories follow them across
    colours and product kinds (a catalog structure the tuner was not designed around)."""
    from stylerec_desktop.core.demo.shoppers import invent_shoppers, popularity, simulate_history

    products = plan_assortment(3, 120)
    by_sku = {p.sku: p for p in products}
    popular = popularity(3, len(products))
    lifts, palettes, categories = [], set(), set()
    for shopper in invent_shoppers(3, 60, products, "pattern"):
        assert 1 <= len(shopper.patterns) <= 2 and not shopper.tastes and not shopper.shapes
        share = np.mean([p.pattern.name in shopper.patterns for p in products])
        bought = [by_sku[e.sku] for e in simulate_history(3, shopper, products, popular) if e.kind == "purchase"]
        hits = [p for p in bought if p.pattern.name in shopper.patterns]
        lifts.append(len(hits) / max(len(bought), 1) / share)
        palettes |= {(shopper.customer_id, p.palette.name) for p in hits}
        categories |= {(shopper.customer_id, p.category.name) for p in hits}
    assert np.median(lifts) > 2.5
    # across colours and shapes: on average a shopper's pattern purchases span several palettes and categories
    assert len(palettes) / 60 > 1.5 and len(categories) / 60 > 1.5


def test_every_category_pattern_and_palette_shows_up_even_in_a_small_demo(demo: DemoFiles) -> None:
    products = _rows(demo.products_csv)
    assert {p["category"] for p in products} == {c.name for c in CATEGORIES}
    assert {p["pattern"] for p in products} == {p.name for p in PATTERNS}
    assert {p["palette"] for p in products} == {p.name for p in PALETTES}
    assert max(Counter(p["category"] for p in products).values()) <= 4


def test_product_shots_are_centred_on_a_light_studio_background(demo: DemoFiles) -> None:
    backdrop = np.array([243, 243, 244], dtype=float)
    for p in _rows(demo.products_csv):
        with Image.open(demo.images_dir / p["image"]) as image:
            assert image.mode == "RGB" and image.size == (512, 512) and image.format == "JPEG"
            pixels = np.asarray(image, dtype=float)
        corners = [pixels[:16, :16], pixels[:16, -16:], pixels[-16:, :16], pixels[-16:, -16:]]
        assert all(c.mean() > 225 and c.std() < 4 for c in corners), p["sku"]
        product = np.abs(pixels - backdrop).max(axis=2) > 30
        assert 0.15 < product.mean() < 0.75, (p["sku"], product.mean())
        rows, cols = np.flatnonzero(product.any(axis=1)), np.flatnonzero(product.any(axis=0))
        height, width = rows[-1] - rows[0], cols[-1] - cols[0]
        assert 0.55 * 512 < max(height, width) < 0.95 * 512, p["sku"]
        assert abs((rows[0] + rows[-1]) / 2 - 256) < 40 and abs((cols[0] + cols[-1]) / 2 - 256) < 40, p["sku"]


def test_patterns_are_visibly_different_at_thumbnail_size() -> None:
    template = plan_assortment(7, 1)[0]
    cushion = next(c for c in CATEGORIES if c.name == "cushions")
    for palette in (PALETTES[0], PALETTES[3]):  # soft pastels and greys are the hardest to tell apart
        thumbs = {}
        for pattern in PATTERNS:
            spec = dataclasses.replace(template, category=cushion, pattern=pattern, palette=palette,
                                       colours=palette.colours)
            shot = Image.fromarray(render_product(spec, seed=7)).resize((128, 128), Image.Resampling.LANCZOS)
            thumbs[pattern.name] = np.asarray(shot, dtype=float)[32:96, 32:96]
        for a, b in itertools.combinations(thumbs, 2):
            assert np.abs(thumbs[a] - thumbs[b]).mean() > 8, (palette.name, a, b)


def test_progress_counts_every_product_shot(tmp_path: Path) -> None:
    steps: list[Progress] = []
    run_job(generate_demo_files(tmp_path, n_products=6, n_customers=2), steps.append)
    assert [s.done for s in steps] == list(range(0, 9))
    assert {s.total for s in steps} == {8}
    assert "Drawing product 3/6" in steps[3].message


def test_cancelling_stops_drawing_and_leaves_no_threads(tmp_path: Path) -> None:
    before = threading.active_count()
    token = CancelToken()

    def cancel_after_three(step: Progress) -> None:
        if step.done >= 3:
            token.cancel()

    with pytest.raises(Cancelled):
        run_job(generate_demo_files(tmp_path, n_products=40, n_customers=2), cancel_after_three, token)
    assert threading.active_count() == before
    assert len(list(tmp_path.rglob("*.jpg"))) < 10
    assert not (tmp_path / "events.csv").exists()


def test_impossible_sizes_are_refused_with_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="at least one product"):
        run_job(generate_demo_files(tmp_path, n_products=0))


def test_build_demo_catalog_imports_everything_with_one_monotonic_progress(tmp_path: Path) -> None:
    steps: list[Progress] = []
    catalog = run_job(build_demo_catalog(tmp_path / "cat", seed=5, n_products=20, n_customers=6), steps.append)
    with catalog:
        source = tmp_path / "cat" / "demo_source"
        counts = catalog.counts()
        assert counts.products == 20 and counts.images == 20 and counts.customers == 6
        assert counts.events == len(_rows(source / "events.csv"))
        assert counts.categories == 8
        first = _rows(source / "products.csv")[0]
        product = catalog.product_by_sku(first["sku"])
        assert product.title == first["title"]
        assert product.attributes == {"pattern": first["pattern"], "palette": first["palette"],
                                      "colour": first["colour"]}
        assert product.primary_image is not None and product.primary_image.width == 512
        assert catalog.customer_history("C0001")
    done = [s.done for s in steps]
    assert done == sorted(done) and done[0] == 0 and done[-1] == steps[-1].total
    assert len({s.total for s in steps}) == 1
    assert any("Importing products" in s.message for s in steps)
    assert Catalog.exists(tmp_path / "cat")


@pytest.mark.slow
def test_default_demo_has_the_promised_size(tmp_path: Path) -> None:
    defaults = inspect.signature(generate_demo_files).parameters
    assert (defaults["n_products"].default, defaults["n_customers"].default) == (240, DEMO_CUSTOMERS)
    assert inspect.signature(build_demo_catalog).parameters["n_products"].default == 240
    files = run_job(generate_demo_files(tmp_path))
    products = _rows(files.products_csv)
    assert len(products) >= 240
    assert len({p["category"] for p in products}) >= 6
    assert len(_rows(files.customers_csv)) >= 40
    assert len(list(files.images_dir.rglob("*.jpg"))) == len(products)
    # Each (pattern, palette) style appears more than once, each category holds every pattern.
    assert min(Counter((p["pattern"], p["palette"]) for p in products).values()) >= 3
    assert all(len({p["pattern"] for p in products if p["category"] == c.name}) == 10 for c in CATEGORIES)
