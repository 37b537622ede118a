"""Importer hardening: repeated purchase rows become quantities, rejects files are safe to open in a spreadsheet,
numbers that SQLite or JSON cannot hold are bad rows, and only regular files of bounded size are read."""

from __future__ import annotations

import csv
import json
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.importers import ImportFailed, detect_kind, import_customers, import_events, import_products
from stylerec_desktop.core.jobs import run_job

EVENT_HEADER = ["customer_id", "sku", "kind", "timestamp", "quantity"]


@pytest.fixture
def catalog(tmp_path: Path):
    with Catalog.create(tmp_path / "catalog") as opened:
        yield opened


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    (folder / "images").mkdir(parents=True)
    for name, colour in [("red.jpg", (220, 20, 20)), ("blue.jpg", (20, 20, 220))]:
        Image.new("RGB", (64, 48), colour).save(folder / "images" / name, quality=90)
    return folder


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _products_and_customers(catalog: Catalog, shop: Path) -> None:
    products = write_csv(
        shop / "products.csv",
        ["sku", "title", "category", "image"],
        [["TEE-1", "Tee", "tees", "images/red.jpg"], ["MUG-1", "Mug", "mugs", "images/blue.jpg"]],
    )
    run_job(import_products(catalog, products))
    run_job(import_customers(catalog, write_csv(shop / "customers.csv", ["customer_id"], [["C1"], ["C2"]])))


def _quantities(catalog: Catalog, customer: str) -> dict[tuple[str, str, datetime], int]:
    return {(h.sku, h.kind, h.ts): h.quantity for h in catalog.customer_history(customer)}


# -- quantities -----------------------------------------------------------------------------------------------


def test_repeated_rows_of_one_file_add_up_to_one_events_quantity(catalog: Catalog, shop: Path) -> None:
    _products_and_customers(catalog, shop)
    events = write_csv(
        shop / "events.csv",
        EVENT_HEADER,
        [
            ["C1", "TEE-1", "purchase", "2024-03-01T10:00:00Z", ""],
            ["C1", "TEE-1", "purchase", "2024-03-01T10:00:00Z", ""],  # a quantity of 2, as tills log it
            ["C1", "TEE-1", "purchase", "2024-03-01T12:00:00+02:00", "3"],  # the same instant, written otherwise
            ["C1", "TEE-1", "view", "2024-03-01T10:00:00Z", ""],  # another kind: another event
            ["C1", "MUG-1", "purchase", "2024-03-01T10:00:00Z", "2"],
            ["C2", "TEE-1", "purchase", "2024-03-01T10:00:00Z", ""],
        ],
    )
    report = run_job(import_events(catalog, events))
    assert (report.rows, report.imported, report.merged) == (6, 4, 2)
    assert catalog.counts().events == report.imported  # never more claimed than stored
    at_ten = datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert _quantities(catalog, "C1") == {
        ("TEE-1", "purchase", at_ten): 5,
        ("TEE-1", "view", at_ten): 1,
        ("MUG-1", "purchase", at_ten): 2,
    }
    assert _quantities(catalog, "C2") == {("TEE-1", "purchase", at_ten): 1}
    assert report.summary() == (
        "Imported 4 events from 6 rows of events.csv (2 rows repeated an earlier row's customer, sku, kind "
        "and time and were added to its quantity)"
    )

    again = run_job(import_events(catalog, events))  # the same file again: quantities are not doubled
    assert (again.imported, again.merged) == (4, 2)
    assert _quantities(catalog, "C1")[("TEE-1", "purchase", at_ten)] == 5
    assert catalog.counts().events == 4


def test_an_event_already_in_the_catalog_takes_the_new_files_quantity(catalog: Catalog, shop: Path) -> None:
    _products_and_customers(catalog, shop)
    row = ["C1", "TEE-1", "purchase", "2024-03-01T10:00:00Z", "1"]
    run_job(import_events(catalog, write_csv(shop / "week.csv", EVENT_HEADER, [row, row])))
    corrected = write_csv(shop / "week-corrected.csv", EVENT_HEADER, [[*row[:4], "3"]])
    report = run_job(import_events(catalog, corrected))
    assert (report.imported, report.merged) == (1, 0)
    assert _quantities(catalog, "C1") == {("TEE-1", "purchase", datetime(2024, 3, 1, 10, tzinfo=UTC)): 3}


def test_skip_bad_counts_stored_merged_and_bad_rows_apart(catalog: Catalog, shop: Path) -> None:
    _products_and_customers(catalog, shop)
    row = ["C1", "TEE-1", "purchase", "2024-03-01T10:00:00Z", ""]
    events = write_csv(shop / "events.csv", EVENT_HEADER, [row, row, ["C9", "TEE-1", "view", "2024-03-01", ""]])
    report = run_job(import_events(catalog, events, skip_bad=True))
    assert (report.rows, report.imported, report.merged, report.bad_rows) == (3, 1, 1, 1)
    assert catalog.counts().events == 1


# -- rejects file ---------------------------------------------------------------------------------------------


def test_rejects_file_cells_cannot_run_as_formulas_and_read_back_as_written(catalog: Catalog, shop: Path) -> None:
    hyperlink = '=HYPERLINK("http://evil.example/x","click")'
    products = write_csv(
        shop / "products.csv",
        ["sku", "title", "category", "price", "=cmd|' /C calc'!A0"],
        [
            ["TEE-1", "Tee", "tees", "9.5", ""],
            ["TEE-2", hyperlink, "tees", "abc", "+1"],
            ["TEE-3", "@SUM(A1)", "-tees", "-2", "\tx"],
        ],
    )
    report = run_job(import_products(catalog, products, skip_bad=True))
    assert (report.imported, report.bad_rows) == (1, 2)
    with report.rejects_path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    assert len(rows) == 3
    assert all(cell[:1] not in ("=", "+", "-", "@", "\t", "\r") for row in rows for cell in row), rows
    assert rows[1][4:8] == ["TEE-2", "'" + hyperlink, "tees", "abc"]

    # The user fixes the prices in the rejects file and imports it as it is: the values come back unchanged.
    rows[1][7], rows[2][7] = "12", "3"
    fixed = shop / "products.rejects.csv"
    with fixed.open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream).writerows(rows)
    again = run_job(import_products(catalog, fixed))
    assert again.imported == 2
    tee2, tee3 = catalog.product_by_sku("TEE-2"), catalog.product_by_sku("TEE-3")
    assert (tee2.title, tee2.price, tee2.attributes) == (hyperlink, 12.0, {"=cmd|' /C calc'!A0": "+1"})
    assert (tee3.title, tee3.category, tee3.attributes) == ("@SUM(A1)", "-tees", {"=cmd|' /C calc'!A0": "x"})


# -- numbers and times in range -------------------------------------------------------------------------------


def _row_errors(failed: pytest.ExceptionInfo[ImportFailed]) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.problem) for e in failed.value.report.errors]


def test_prices_that_would_not_be_finite_are_bad_rows(catalog: Catalog, shop: Path) -> None:
    products = write_csv(
        shop / "products.csv",
        ["sku", "title", "category", "price"],
        [["A-1", "A", "c", "1e400"], ["A-2", "B", "c", "inf"], ["A-3", "C", "c", "NaN"],
         ["A-4", "D", "c", "1000000000001"], ["A-5", "E", "c", "1e12"]],
    )  # fmt: skip
    with pytest.raises(ImportFailed) as failed:
        run_job(import_products(catalog, products))
    assert _row_errors(failed) == [
        (2, "price", "'1e400' is too large"),
        (3, "price", "'inf' is not a number"),
        (4, "price", "'NaN' is not a number"),
        (5, "price", "'1000000000001' is too large"),
    ]
    assert catalog.counts().products == 0
    lines = [{"sku": "J-1", "title": "T", "category": "c", "price": 10**400}, {"sku": "J-2", "title": "T",
             "category": "c", "price": 1e308}]  # fmt: skip
    jsonl = shop / "products.jsonl"
    jsonl.write_text("\n".join(json.dumps(line) for line in lines) + '\n{"sku": "J-3", "title": "T", "category": '
                     '"c", "price": 1e400}\n')  # fmt: skip
    with pytest.raises(ImportFailed) as failed:
        run_job(import_products(catalog, jsonl))
    assert [(row, column) for row, column, _ in _row_errors(failed)] == [(1, "price"), (2, "price"), (3, "price")]


def test_quantities_and_times_out_of_range_are_bad_rows(catalog: Catalog, shop: Path) -> None:
    _products_and_customers(catalog, shop)
    events = write_csv(
        shop / "events.csv",
        EVENT_HEADER,
        [
            ["C1", "TEE-1", "purchase", "2024-03-01", "99999999999999999999"],
            ["C1", "TEE-1", "purchase", "2024-03-02", "9" * 5000],
            ["C1", "TEE-1", "purchase", "2024-03-03", "1000001"],
            ["C1", "TEE-1", "view", "0001-01-01T00:00:00+01:00", ""],
            ["C1", "TEE-1", "view", "9999-12-31T23:59:59-01:00", ""],
            ["C1", "TEE-1", "view", "1900-01-01T00:00:00+01:00", ""],  # 1899 in UTC
            ["C1", "TEE-1", "purchase", "2024-03-04", "000001000000"],  # a million, zero-padded: fine
            ["C1", "TEE-1", "view", "1900-01-01T00:00:00Z", ""],  # the first moment accepted
        ],
    )
    with pytest.raises(ImportFailed) as failed:
        run_job(import_events(catalog, events))
    errors = _row_errors(failed)
    assert [(row, column) for row, column, _ in errors] == [
        (2, "quantity"), (3, "quantity"), (4, "quantity"), (5, "timestamp"), (6, "timestamp"), (7, "timestamp"),
    ]  # fmt: skip
    assert all(problem.endswith(("is too large", "is out of range")) for _, _, problem in errors)
    assert "a time in the years 1900 to 2199" in str(failed.value)
    assert catalog.counts().events == 0
    report = run_job(import_events(catalog, events, skip_bad=True))
    assert report.imported == 2
    assert sorted(_quantities(catalog, "C1").values()) == [1, 1_000_000]


def test_json_lines_past_pythons_limits_are_bad_rows(catalog: Catalog, shop: Path) -> None:
    jsonl = shop / "products.jsonl"
    jsonl.write_text(
        '{"sku": "J-1", "title": "T", "category": "c", "price": ' + "9" * 5000 + "}\n"
        + '{"sku": "J-2", "title": ' + "[" * 100_000 + "]" * 100_000 + ', "category": "c"}\n'
        + '{"sku": "J-3", "title": "half \\ud800 a character", "category": "c"}\n'
        + '{"sku": "J-4", "title": "fine", "category": "c"}\n'
    )  # fmt: skip
    with pytest.raises(ImportFailed) as failed:
        run_job(import_products(catalog, jsonl))
    assert [(row, column) for row, column, _ in _row_errors(failed)] == [(1, ""), (2, ""), (3, "")]
    report = run_job(import_products(catalog, jsonl, skip_bad=True))
    assert report.imported == 1 and catalog.product_by_sku("J-4").title == "fine"


def test_cli_refuses_an_infinite_price_with_exit_2(tmp_path: Path, shop: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "cli-catalog"
    Catalog.create(folder).close()
    products = write_csv(shop / "products.csv", ["sku", "title", "category", "price"], [["A-1", "A", "c", "1e400"]])
    code = main(["--catalog", str(folder), "import", "products", str(products)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("stylerec: error: ") and "row 2, column price: '1e400' is too large" in err
    with Catalog.open(folder) as catalog:
        assert catalog.counts().products == 0


# -- what the importer reads ----------------------------------------------------------------------------------

special_files = pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(), reason="POSIX only")


@pytest.fixture
def hang_guard():
    """Fail, rather than hang the test run, if something opens a FIFO or reads /dev/zero after all."""

    def stuck(signum: int, frame: object) -> None:
        raise AssertionError("a special file was opened or read: the import hung")

    previous = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@special_files
def test_a_device_or_fifo_as_import_file_is_refused_unread(catalog: Catalog, tmp_path: Path, hang_guard) -> None:
    fifo = tmp_path / "products.csv"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    with pytest.raises(UserError, match=r"products.csv is a named pipe \(FIFO\), not a file"):
        run_job(import_products(catalog, fifo))
    with pytest.raises(UserError, match="/dev/zero is a device, not a file"):
        run_job(import_products(catalog, Path("/dev/zero")))
    assert detect_kind(fifo) is None  # a dropped FIFO is not recognised, and not read either


@special_files
def test_devices_fifos_and_paths_outside_the_images_folder_are_bad_rows(
    catalog: Catalog, shop: Path, tmp_path: Path, hang_guard
) -> None:
    os.mkfifo(shop / "images" / "pipe.jpg")
    outside = tmp_path / "outside"
    outside.mkdir()
    Image.new("RGB", (64, 48), (0, 200, 0)).save(outside / "img.jpg")
    (shop / "images" / "link.jpg").symlink_to(outside / "img.jpg")
    products = write_csv(
        shop / "products.csv",
        ["sku", "title", "category", "image"],
        [
            ["A-1", "Pipe", "c", "images/pipe.jpg"],
            ["A-2", "Zero", "c", "/dev/zero"],
            ["A-3", "Up", "c", "images/../../outside/img.jpg"],
            ["A-4", "Absolute", "c", str(outside / "img.jpg")],
            ["A-5", "Link out", "c", "images/link.jpg"],
            ["A-6", "Fine", "c", "images/red.jpg"],
        ],
    )
    with pytest.raises(ImportFailed) as failed:
        run_job(import_products(catalog, products, images_dir=shop / "images" / ".."))
    problems = {row: problem for row, _, problem in _row_errors(failed)}
    assert problems[2] == "'images/pipe.jpg' is a named pipe (FIFO), not a file"
    assert problems[3].startswith("'/dev/zero' leads outside the images folder")
    assert all("leads outside the images folder" in problems[row] for row in (4, 5, 6))
    assert 7 not in problems and catalog.counts().products == 0

    report = run_job(import_products(catalog, products, images_dir=shop, skip_bad=True, allow_outside_images=True))
    assert report.imported == 4  # the pipe and /dev/zero stay bad whatever is allowed
    assert catalog.product_by_sku("A-4").images[0].path == outside / "img.jpg"
    assert {e.row for e in report.errors} == {2, 3}
    assert "is a device, not a file" in next(e.problem for e in report.errors if e.row == 3)


def test_oversized_import_and_image_files_are_refused(
    catalog: Catalog, shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylerec_desktop.core import imaging
    from stylerec_desktop.core.importers import source

    products = write_csv(
        shop / "products.csv", ["sku", "title", "category", "image"], [["A-1", "T", "c", "images/red.jpg"]]
    )
    monkeypatch.setattr(source, "MAX_IMPORT_BYTES", 40)
    with pytest.raises(UserError, match="products.csv is larger than .* MB.*split it"):
        run_job(import_products(catalog, products))
    monkeypatch.undo()
    monkeypatch.setattr(imaging, "MAX_IMAGE_BYTES", 100)
    with pytest.raises(ImportFailed, match="'images/red.jpg' is larger than .* MB"):
        run_job(import_products(catalog, products))


@special_files
def test_cli_outside_images_need_the_flag(tmp_path: Path, shop: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "cli-catalog"
    Catalog.create(folder).close()
    products = write_csv(
        shop / "products.csv", ["sku", "title", "category", "image"], [["A-1", "T", "c", "../red.jpg"]]
    )
    Image.new("RGB", (64, 48), (200, 0, 0)).save(tmp_path / "red.jpg")
    code = main(["--catalog", str(folder), "import", "products", str(products)])
    assert code == 2 and "'../red.jpg' leads outside the images folder" in capsys.readouterr().err
    code = main(["--catalog", str(folder), "import", "products", str(products), "--allow-outside-images"])
    assert code == 0 and "Imported 1 of 1 products" in capsys.readouterr().out
