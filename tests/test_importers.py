"""Importers: good files land in the catalog, bad files leave it untouched and say exactly what is wrong."""

from __future__ import annotations

import csv
import hashlib
import json
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.importers import (
    ImportFailed,
    RowError,
    detect_kind,
    import_customers,
    import_events,
    import_file,
    import_products,
)
from stylerec_desktop.core.importers import pipeline as import_pipeline
from stylerec_desktop.core.jobs import Cancelled, CancelToken, Progress, run_job

PRODUCT_HEADER = ["sku", "title", "category", "brand", "price", "currency", "in_stock", "tags", "image", "colour"]


# -- helpers ---------------------------------------------------------------------------------------------------


@pytest.fixture
def catalog(tmp_path):
    with Catalog.create(tmp_path / "catalog") as opened:
        yield opened


@pytest.fixture
def shop(tmp_path):
    """A folder with an images/ sub-folder holding three good product shots."""
    folder = tmp_path / "shop"
    (folder / "images").mkdir(parents=True)
    for name, colour in [("red.jpg", (220, 20, 20)), ("blue.jpg", (20, 20, 220)), ("green.jpg", (20, 200, 20))]:
        Image.new("RGB", (64, 48), colour).save(folder / "images" / name, quality=90)
    return folder


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as stream:
        return list(csv.DictReader(stream))


def good_products(shop: Path) -> Path:
    return write_csv(
        shop / "products.csv",
        PRODUCT_HEADER,
        [
            ["TEE-1", "Red tee", "tees", "Acme", "19.99", "usd", "yes", "summer; red", "images/red.jpg", "red"],
            ["MUG-1", "Blue mug", "mugs", "", "", "", "0", "", "images/blue.jpg;images/green.jpg", ""],
            ["TOTE-1", "Plain tote", "totes", "Bagco", "5", "EUR", "", "", "", "natural"],
        ],
    )


def add_customers_and_products(catalog: Catalog, shop: Path) -> None:
    run_job(import_products(catalog, good_products(shop)))
    customers = write_csv(
        shop / "customers.csv",
        ["customer_id", "name", "email", "country", "joined", "segment"],
        [["C1", "Anna", "anna@example.com", "DE", "2024-01-15", "vip"], ["C2", "Ben", "", "", "", ""]],
    )
    run_job(import_customers(catalog, customers))


def dump(catalog: Catalog) -> tuple:
    """Everything a user can see in the catalog, for before/after comparisons."""
    products = [
        (
            p.sku, p.title, p.category, p.brand, p.price, p.currency, p.in_stock, p.tags, p.attributes,
            [(i.path, i.sha256, i.width, i.height, i.is_primary) for i in p.images],
        )
        for p in catalog.products()
    ]  # fmt: skip
    customers = [
        (c.customer_id, c.name, c.email, c.country, c.joined, c.attributes, c.event_count) for c in catalog.customers()
    ]
    history = {
        c.customer_id: [(h.kind, h.ts, h.quantity, h.sku) for h in catalog.customer_history(c.customer_id)]
        for c in catalog.customers()
    }
    return catalog.counts(), products, customers, history


def where(errors: list[RowError]) -> list[tuple[int, str]]:
    return [(error.row, error.column) for error in errors]


def fake_bomb_png(path: Path, side: int = 20_000) -> None:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


# -- good files ------------------------------------------------------------------------------------------------


def test_products_csv_lands_in_the_catalog(catalog, shop):
    path = good_products(shop)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # Excel's "CSV UTF-8" byte-order mark
    messages: list[str] = []
    report = run_job(import_products(catalog, path), lambda p: messages.append(p.message))

    assert (report.rows, report.imported, report.errors, report.rejects_path) == (3, 3, [], None)
    assert report.summary() == "Imported 3 of 3 products from products.csv"
    assert any(m.startswith("Checking images") for m in messages)

    tee = catalog.product_by_sku("TEE-1")
    assert (tee.title, tee.category, tee.brand, tee.price, tee.currency, tee.in_stock) == (
        "Red tee", "tees", "Acme", 19.99, "USD", True,
    )  # fmt: skip
    assert tee.tags == ("summer", "red")
    assert tee.attributes == {"colour": "red"}
    red = shop / "images" / "red.jpg"
    assert [(i.path, i.width, i.height) for i in tee.images] == [(red.resolve(), 64, 48)]
    assert tee.images[0].sha256 == hashlib.sha256(red.read_bytes()).hexdigest()

    mug = catalog.product_by_sku("MUG-1")
    assert (mug.price, mug.currency, mug.in_stock, mug.attributes) == (None, "USD", False, {})
    assert [i.path.name for i in mug.images] == ["blue.jpg", "green.jpg"]
    assert mug.primary_image.path.name == "blue.jpg"

    tote = catalog.product_by_sku("TOTE-1")
    assert (tote.price, tote.currency, tote.in_stock, tote.images) == (5.0, "EUR", True, ())


def test_reimporting_the_same_files_changes_nothing(catalog, shop):
    add_customers_and_products(catalog, shop)
    events = write_csv(
        shop / "events.csv",
        ["customer_id", "sku", "kind", "timestamp", "quantity"],
        [["C1", "TEE-1", "purchase", "2024-03-01T10:00:00Z", "2"], ["C2", "MUG-1", "view", "2024-03-02", ""]],
    )
    run_job(import_events(catalog, events))
    before = dump(catalog)
    for job in (
        import_products(catalog, shop / "products.csv"),
        import_customers(catalog, shop / "customers.csv"),
        import_events(catalog, events),
    ):
        run_job(job)
    assert dump(catalog) == before


def test_empty_image_column_keeps_the_images_a_product_has(catalog, shop):
    run_job(import_products(catalog, good_products(shop)))
    update = write_csv(shop / "prices.csv", ["sku", "title", "category", "price"], [["TEE-1", "Red tee", "tees", "24"]])
    run_job(import_products(catalog, update))
    tee = catalog.product_by_sku("TEE-1")
    assert tee.price == 24.0
    assert [i.path.name for i in tee.images] == ["red.jpg"]


def test_customers_csv_lands_in_the_catalog(catalog, shop):
    add_customers_and_products(catalog, shop)
    anna = catalog.customer("C1")
    assert (anna.name, anna.email, anna.country, anna.joined, anna.attributes) == (
        "Anna", "anna@example.com", "DE", "2024-01-15", {"segment": "vip"},
    )  # fmt: skip
    assert catalog.customer("C2").attributes == {}


def test_events_csv_timestamps_are_stored_in_utc(catalog, shop):
    add_customers_and_products(catalog, shop)
    events = write_csv(
        shop / "events.csv",
        ["customer_id", "sku", "kind", "timestamp", "quantity"],
        [
            ["C1", "TEE-1", "Purchase", "2024-03-01T10:00:00Z", "2"],
            ["C1", "MUG-1", "LIKE", "2024-03-01T12:00:00+02:00", ""],
            ["C1", "TOTE-1", "view", "2024-03-01 09:30", ""],
            ["C2", "TEE-1", "cart", "2024-02-29", ""],
        ],
    )
    report = run_job(import_events(catalog, events))
    assert report.imported == 4
    history = {(h.sku, h.kind): (h.ts, h.quantity) for h in catalog.customer_history("C1")}
    assert history == {
        ("TEE-1", "purchase"): (datetime(2024, 3, 1, 10, tzinfo=UTC), 2),
        ("MUG-1", "like"): (datetime(2024, 3, 1, 10, tzinfo=UTC), 1),
        ("TOTE-1", "view"): (datetime(2024, 3, 1, 9, 30, tzinfo=UTC), 1),
    }
    [ben] = catalog.customer_history("C2")
    assert (ben.kind, ben.ts) == ("cart", datetime(2024, 2, 29, tzinfo=UTC))


def test_products_jsonl(catalog, shop):
    lines = [
        {"sku": "J-1", "title": "Dress", "category": "dresses", "price": 49.5, "in_stock": False,
         "tags": ["party", "silk"], "images": ["images/red.jpg", "images/blue.jpg"],
         "attributes": {"fabric": "silk", "size": 38}, "season": "SS24"},
        {"sku": "J-2", "title": "Mug", "category": "mugs", "tags": "a;b", "image": "images/green.jpg"},
    ]  # fmt: skip
    path = shop / "products.jsonl"
    path.write_text(json.dumps(lines[0]) + "\n\n" + json.dumps(lines[1]) + "\n", encoding="utf-8")
    report = run_job(import_products(catalog, path))
    assert (report.rows, report.imported) == (2, 2)
    dress = catalog.product_by_sku("J-1")
    assert (dress.price, dress.in_stock, dress.tags) == (49.5, False, ("party", "silk"))
    assert dress.attributes == {"fabric": "silk", "size": "38", "season": "SS24"}
    assert [i.path.name for i in dress.images] == ["red.jpg", "blue.jpg"]
    assert catalog.product_by_sku("J-2").tags == ("a", "b")


def test_malformed_jsonl_line_is_a_row_error_with_its_line_number(catalog, shop):
    path = shop / "products.ndjson"
    path.write_text(
        '{"sku": "J-1", "title": "Dress", "category": "dresses"}\n'
        "\n"
        '{"sku": "J-2", "title": "Mug", \n'
        '["not", "an", "object"]\n'
        '{"sku": "J-3", "category": "mugs", "price": "free"}\n',
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as caught:
        run_job(import_products(catalog, path))
    assert where(caught.value.report.errors) == [(3, ""), (4, ""), (5, "title"), (5, "price")]
    assert "not valid JSON" in caught.value.report.errors[0].problem
    assert catalog.counts().products == 0


def test_semicolon_separated_csv_is_read(catalog, shop):
    path = shop / "products.csv"
    path.write_text('sku;title;category;tags\nS-1;Scarf;scarves;"wool;winter"\n', encoding="utf-8")
    run_job(import_products(catalog, path))
    assert catalog.product_by_sku("S-1").tags == ("wool", "winter")


# -- bad rows --------------------------------------------------------------------------------------------------


def test_bad_product_rows_are_all_listed_and_nothing_is_written(catalog, shop):
    add_customers_and_products(catalog, shop)
    before = dump(catalog)
    path = write_csv(
        shop / "more.csv",
        PRODUCT_HEADER,
        [
            ["NEW-1", "Good", "tees", "", "1.50", "", "", "", "images/red.jpg", ""],  # row 2: fine
            ["NEW-2", "Bad price", "tees", "", "abc", "", "", "", "", ""],  # row 3
            ["NEW-3", "Bad bool", "tees", "", "", "", "maybe", "", "", ""],  # row 4
            ["", "No sku", "tees", "", "", "", "", "", "", ""],  # row 5
            ["NEW-1", "Twice", "tees", "", "-2", "EURO", "", "", "", ""],  # row 6
            ["NEW 4", "", "tees", "", "", "", "", "", "images/none.jpg", ""],  # row 7
        ],
    )
    with pytest.raises(ImportFailed) as caught:
        run_job(import_products(catalog, path))
    report = caught.value.report
    assert where(report.errors) == [
        (3, "price"), (4, "in_stock"), (5, "sku"),
        (6, "sku"), (6, "price"), (6, "currency"),
        (7, "sku"), (7, "title"), (7, "image"),
    ]  # fmt: skip
    assert report.errors[3].problem == "'NEW-1' is a duplicate of row 2"
    assert "none.jpg" in report.errors[-1].problem and "does not exist" in report.errors[-1].problem
    assert dump(catalog) == before

    lines = str(caught.value).splitlines()
    assert lines[0].startswith("more.csv has 5 bad rows, so nothing was imported.")
    assert "--skip-bad" in lines[0]
    assert lines[1] == "row 3, column price: 'abc' is not a number (expected a decimal >= 0, e.g. 19.99)"
    assert len(lines) == 1 + len(report.errors)


def test_bad_customer_rows(catalog, shop):
    path = write_csv(
        shop / "customers.csv",
        ["customer_id", "name", "email", "joined"],
        [["C1", "Anna", "anna@example", ""], ["C2", "", "", "01/02/2024"], ["C1", "Again", "", ""], ["", "", "", ""]],
    )
    with pytest.raises(ImportFailed) as caught:
        run_job(import_customers(catalog, path))
    assert where(caught.value.report.errors) == [(2, "email"), (3, "joined"), (4, "customer_id")]
    assert catalog.counts().customers == 0


def test_bad_event_rows_name_unknown_skus_and_customers(catalog, shop):
    add_customers_and_products(catalog, shop)
    before = dump(catalog)
    path = write_csv(
        shop / "events.csv",
        ["customer_id", "sku", "kind", "timestamp", "quantity"],
        [
            ["C1", "TEE-1", "view", "2024-03-01T10:00:00Z", ""],  # row 2: fine
            ["C1", "TEE-1", "wishlist", "2024-03-01", ""],  # row 3
            ["C1", "TEE-1", "view", "yesterday", "0"],  # row 4
            ["C9", "GHOST", "like", "2024-03-01", ""],  # row 5
            ["C2", "MUG-1", "cart", "2024-13-01", "1.5"],  # row 6
        ],
    )
    with pytest.raises(ImportFailed) as caught:
        run_job(import_events(catalog, path))
    errors = caught.value.report.errors
    assert where(errors) == [
        (3, "kind"), (4, "timestamp"), (4, "quantity"), (5, "customer_id"), (5, "sku"),
        (6, "timestamp"), (6, "quantity"),
    ]  # fmt: skip
    assert "import the customers file first" in errors[3].expected
    assert "import the products file first" in errors[4].expected
    assert dump(catalog) == before


def test_too_many_values_in_a_row(catalog, shop):
    path = shop / "products.csv"
    path.write_text("sku,title,category\nA-1,Tee, red,tees\nA-2,Mug,mugs,\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        run_job(import_products(catalog, path))
    [error] = caught.value.report.errors
    assert (error.row, error.column) == (2, "")
    assert "double quotes" in error.expected


def test_row_numbers_follow_the_lines_of_multi_line_values(catalog, shop):
    path = shop / "products.csv"
    path.write_text('sku,title,category\nA-1,"Tee\nwith a long\ntitle",tees\n\nA-2,Mug,\n', encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        run_job(import_products(catalog, path))
    assert where(caught.value.report.errors) == [(6, "category")]


def test_error_list_is_capped_in_the_message_but_complete_in_the_report(catalog, shop):
    rows = [[f"P-{i}", f"T{i}", "tees", "x"] for i in range(80)]
    path = write_csv(shop / "products.csv", ["sku", "title", "category", "price"], rows)
    with pytest.raises(ImportFailed) as caught:
        run_job(import_products(catalog, path))
    assert len(caught.value.report.errors) == 80
    lines = str(caught.value).splitlines()
    assert len(lines) == 52 and lines[-1] == "... and 30 more"


# -- skip bad --------------------------------------------------------------------------------------------------


def test_skip_bad_imports_the_good_rows_and_writes_the_rejects(catalog, shop):
    path = write_csv(
        shop / "products.csv",
        PRODUCT_HEADER,
        [
            ["A-1", "Good", "tees", "", "1", "", "", "", "images/red.jpg", "red"],
            ["A-2", "Bad", "tees", "", "abc", "", "maybe", "", "", "blue"],
            ["A-3", "Good too", "mugs", "", "", "", "", "", "", ""],
            ["A-1", "Dup", "tees", "", "", "", "", "", "", ""],
        ],
    )
    report = run_job(import_products(catalog, path, skip_bad=True))
    assert (report.rows, report.imported, report.bad_rows) == (4, 2, 2)
    assert report.rejects_path == shop / "products.rejects.csv"
    assert report.summary() == "Imported 2 of 4 products from products.csv; 2 bad rows written to products.rejects.csv"
    assert sorted(p.sku for p in catalog.products()) == ["A-1", "A-3"]
    assert catalog.product_by_sku("A-1").title == "Good"

    rejects = read_csv(report.rejects_path)
    assert [(r["row"], r["column"], r["sku"], r["price"], r["colour"]) for r in rejects] == [
        ("3", "price; in_stock", "A-2", "abc", "blue"),
        ("5", "sku", "A-1", "", ""),
    ]
    assert rejects[0]["problem"] == "'abc' is not a number; 'maybe' is not true or false"
    assert rejects[0]["expected"].startswith("a decimal >= 0")
    assert list(rejects[0])[:4] == ["row", "column", "problem", "expected"]

    # The rejects file, fixed, imports as it is: its four report columns do not become attributes.
    fixed = [dict(r, price="2.5", in_stock="no") if r["sku"] == "A-2" else dict(r, sku="A-4") for r in rejects]
    write_csv(shop / "fixed.csv", list(fixed[0]), [list(r.values()) for r in fixed])
    run_job(import_products(catalog, shop / "fixed.csv"))
    a2 = catalog.product_by_sku("A-2")
    assert (a2.price, a2.in_stock, a2.attributes) == (2.5, False, {"colour": "blue"})


def test_skip_bad_with_jsonl_keeps_the_original_lines(catalog, shop):
    path = shop / "products.jsonl"
    bad_line = '{"sku": "J-2", "title": "Mug", "category": "mugs", "price": -1}'
    path.write_text('{"sku": "J-1", "title": "Dress", "category": "dresses"}\n' + bad_line + "\n", encoding="utf-8")
    report = run_job(import_products(catalog, path, skip_bad=True))
    assert report.imported == 1
    [reject] = read_csv(shop / "products.rejects.csv")
    assert (reject["row"], reject["column"], reject["json"]) == ("2", "price", bad_line)


def test_header_without_required_columns_refuses_the_file_even_with_skip_bad(catalog, shop):
    path = write_csv(shop / "products.csv", ["SKU", "name", "price"], [["A-1", "Tee", "3"]])
    for skip_bad in (False, True):
        with pytest.raises(ImportFailed) as caught:
            run_job(import_products(catalog, path, skip_bad=skip_bad))
        headline = str(caught.value).splitlines()[0]
        assert "has no title or category column" in headline
        assert "Found columns: SKU, name, price" in headline
        assert "Expected: sku, title, category (required)" in headline
        assert where(caught.value.report.errors) == [(1, "title"), (1, "category")]
    assert not (shop / "products.rejects.csv").exists()
    assert catalog.counts().products == 0


def test_header_with_a_column_twice_is_refused(catalog, shop):
    path = write_csv(shop / "products.csv", ["sku", "title", "category", "Price", "price"], [["A", "T", "c", "1", "2"]])
    with pytest.raises(ImportFailed, match="repeats a column"):
        run_job(import_products(catalog, path))


# -- images ----------------------------------------------------------------------------------------------------


def test_bad_images_are_row_errors_naming_the_path_and_files_are_never_modified(catalog, shop):
    images = shop / "images"
    (images / "random.jpg").write_bytes(np.random.default_rng(5).bytes(4000))
    noise = np.random.default_rng(6).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    Image.fromarray(noise).save(images / "whole.jpg", quality=90)
    (images / "truncated.jpg").write_bytes((images / "whole.jpg").read_bytes()[:3000])
    fake_bomb_png(images / "bomb.png")
    Image.new("RGB", (10, 10)).save(images / "tiny.png")
    Image.new("CMYK", (40, 40), (0, 255, 255, 0)).save(images / "cmyk.jpg", quality=95)
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(images / "cutout.png")
    before = {p.name: p.read_bytes() for p in images.iterdir()}

    names = ["missing.jpg", "random.jpg", "truncated.jpg", "bomb.png", "tiny.png", "cmyk.jpg", "cutout.png", "red.jpg"]
    rows = [[f"I-{i}", "Thing", "things", f"images/{name}"] for i, name in enumerate(names)]
    path = write_csv(shop / "products.csv", ["sku", "title", "category", "image"], rows)
    with pytest.raises(ImportFailed) as caught:
        run_job(import_products(catalog, path))
    errors = caught.value.report.errors
    assert where(errors) == [(2, "image"), (3, "image"), (4, "image"), (5, "image"), (6, "image")]
    for error, name, words in zip(
        errors,
        names,
        ["does not exist", "not an image", "truncated", "decompression bomb", "10x10"],
        strict=False,
    ):
        assert f"'images/{name}'" in error.problem and words in error.problem
    assert str(images / "missing.jpg") in errors[0].problem
    assert catalog.counts().products == 0

    report = run_job(import_products(catalog, path, skip_bad=True))
    assert report.imported == 3
    cmyk = catalog.product_by_sku("I-5").images[0]
    assert (cmyk.width, cmyk.height) == (40, 40)
    assert {p.name: p.read_bytes() for p in images.iterdir()} == before


def test_images_folder_can_be_given(catalog, shop, tmp_path):
    path = write_csv(tmp_path / "elsewhere.csv", ["sku", "title", "category", "image"], [["A", "T", "c", "red.jpg"]])
    run_job(import_products(catalog, path, images_dir=shop / "images"))
    assert catalog.product_by_sku("A").images[0].path == (shop / "images" / "red.jpg").resolve()


# -- cancel ----------------------------------------------------------------------------------------------------


def test_cancel_during_the_write_phase_leaves_the_catalog_as_it_was(catalog, shop, monkeypatch):
    add_customers_and_products(catalog, shop)
    before = dump(catalog)
    monkeypatch.setattr(import_pipeline, "WRITE_BATCH", 50)
    rows = [
        [f"BULK-{i}", f"Item {i}", "bulk", "", str(i), "", "", "", "images/red.jpg" if i % 3 else "", ""]
        for i in range(400)
    ]
    rows.append(["TEE-1", "Renamed tee", "tees", "", "99", "", "", "", "images/green.jpg", ""])  # an update, too
    path = write_csv(shop / "bulk.csv", PRODUCT_HEADER, rows)

    token = CancelToken()
    seen: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        seen.append(progress)
        if progress.message.startswith("Writing products") and progress.done >= 200:
            token.cancel()  # several batches are written (uncommitted) by now

    with pytest.raises(Cancelled):
        run_job(import_products(catalog, path), on_progress, token)
    assert seen[-1].done == 200
    assert dump(catalog) == before

    # The catalog is not left locked: the same import runs to the end afterwards.
    assert run_job(import_products(catalog, path)).imported == 401
    assert catalog.counts().products == 3 + 400


def test_cancel_while_checking_images_stops_the_job(catalog, shop):
    for i in range(40):
        Image.new("RGB", (32, 32), (i * 6, 0, 0)).save(shop / "images" / f"shade{i}.png")
    rows = [[f"C-{i}", "T", "c", f"images/shade{i}.png"] for i in range(40)]
    path = write_csv(shop / "products.csv", ["sku", "title", "category", "image"], rows)
    token = CancelToken()
    seen: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        seen.append(progress)
        if progress.message.startswith("Checking images"):
            token.cancel()

    with pytest.raises(Cancelled):
        run_job(import_products(catalog, path), on_progress, token)
    assert seen[-1].message.startswith("Checking images") and seen[-1].done < 40
    assert catalog.counts().products == 0


# -- unusable files --------------------------------------------------------------------------------------------


def test_unusable_files_are_user_errors_naming_the_file(catalog, shop):
    cases = {
        "missing.csv": None,
        "latin1.csv": "sku,title,category\nA-1,Café,tees\n".encode("latin-1"),
        "empty.csv": b"   \n\n",
    }
    for name, data in cases.items():
        if data is not None:
            (shop / name).write_bytes(data)
        with pytest.raises(UserError) as caught:
            run_job(import_products(catalog, shop / name))
        assert name in str(caught.value)
    with pytest.raises(UserError, match="not UTF-8"):
        run_job(import_products(catalog, shop / "latin1.csv"))
    with pytest.raises(UserError, match="folder"):
        run_job(import_customers(catalog, shop))


def test_header_only_file_imports_nothing(catalog, shop):
    path = write_csv(shop / "customers.csv", ["customer_id", "name"], [])
    report = run_job(import_customers(catalog, path))
    assert (report.rows, report.imported) == (0, 0)


def test_customers_and_events_must_be_csv(catalog, shop):
    path = shop / "customers.jsonl"
    path.write_text('{"customer_id": "C1"}\n', encoding="utf-8")
    with pytest.raises(UserError, match="only be imported from CSV"):
        run_job(import_customers(catalog, path))


# -- dispatch and detection ------------------------------------------------------------------------------------


def test_import_file_dispatches_by_kind(catalog, shop):
    report = run_job(import_file(catalog, "products", good_products(shop), images_dir=shop))
    assert report.kind == "products" and report.imported == 3
    with pytest.raises(UserError, match="products, customers, events"):
        import_file(catalog, "orders", shop / "x.csv")


def test_detect_kind(shop):
    write_csv(shop / "p.csv", ["SKU", "Title", "Category"], [])
    write_csv(shop / "c.csv", ["customer_id", "email"], [])
    write_csv(shop / "e.csv", ["customer_id", "sku", "kind", "timestamp"], [])
    write_csv(shop / "x.csv", ["order", "amount"], [])
    (shop / "p.jsonl").write_text('\n{"sku": "A", "title": "T", "category": "c"}\n', encoding="utf-8")
    (shop / "bad.jsonl").write_text("{oops\n", encoding="utf-8")
    assert detect_kind(shop / "p.csv") == "products"
    assert detect_kind(shop / "c.csv") == "customers"
    assert detect_kind(shop / "e.csv") == "events"
    assert detect_kind(shop / "p.jsonl") == "products"
    assert detect_kind(shop / "x.csv") is None
    assert detect_kind(shop / "bad.jsonl") is None
    assert detect_kind(shop / "missing.csv") is None
