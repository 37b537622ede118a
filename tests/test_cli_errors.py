"""Errors a user can act on become one `stylerec: error:` line with what to do and exit 2 (issue 15 items 4, 7):
a locked catalog (a real lock held by another connection), a full disk (injected: this machine cannot mount a
small file system for a test), a read-only database, a database whose tables are missing, an interrupt after the
import's commit, and an Infinity price from an older catalog printed as valid JSON."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import Catalog, ProductRecord
from stylerec_desktop.core.catalog import catalog as catalog_module
from stylerec_desktop.core.errors import CatalogReadOnly, user_error_for
from stylerec_desktop.core.importers.report import ImportReport


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    with Catalog.create(folder) as catalog:
        catalog.upsert_products([ProductRecord("E-1", "Mug", "home")])
    return folder


@pytest.fixture
def products_csv(tmp_path: Path) -> Path:
    path = tmp_path / "products.csv"
    path.write_text("sku,title,category\n" + "".join(f"N-{i},Item {i},home\n" for i in range(50)))
    return path


def _count(folder: Path) -> int:
    with Catalog.open(folder) as catalog:
        return catalog.counts().products


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_catalog_locked_by_another_program(
    folder: Path, products_csv: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_module, "LOCK_TIMEOUT_S", 0.3)  # the real wait is 30 s
    other = sqlite3.connect(folder / "catalog.sqlite", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    try:
        code, _, err = _run(capsys, "--catalog", str(folder), "import", "products", str(products_csv))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert code == 2 and err.startswith("stylerec: error: ") and "locked by another program" in err
    assert "Traceback" not in err and _count(folder) == 1


def test_a_full_disk_during_import(
    folder: Path, products_csv: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: Catalog, records: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")  # what SQLite raises (injected)

    monkeypatch.setattr(Catalog, "upsert_products", full)
    code, _, err = _run(capsys, "--catalog", str(folder), "import", "products", str(products_csv))
    assert code == 2 and "is full. Free some space" in err and str(folder) in err
    monkeypatch.undo()
    assert _count(folder) == 1


def test_a_write_to_a_read_only_database_is_explained(folder: Path) -> None:
    with Catalog.open(folder, read_only=True) as catalog, pytest.raises(sqlite3.OperationalError) as raised:
        catalog.db.execute("DELETE FROM products")
    assert "readonly" in str(raised.value)  # SQLite's own words...
    explained = user_error_for(raised.value, folder)
    assert isinstance(explained, CatalogReadOnly) and "cannot be written" in str(explained)  # ...and ours
    assert user_error_for(ValueError("a bug")) is None  # programmer errors keep their traceback


def test_a_database_whose_tables_are_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    with sqlite3.connect(folder / "catalog.sqlite") as conn:
        conn.execute("PRAGMA user_version = 6")
    code, _, err = _run(capsys, "--catalog", str(folder), "info")
    assert code == 2 and "says it is schema v6" in err and "products" in err and "Restore" in err
    with sqlite3.connect(folder / "catalog.sqlite") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 6  # not half-upgraded
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def test_ctrl_c_after_the_import_committed_says_the_rows_were_saved(
    folder: Path, products_csv: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: ImportReport) -> str:
        raise KeyboardInterrupt  # Ctrl-C while the summary is printed, after the commit

    monkeypatch.setattr(ImportReport, "summary", interrupted)
    code, _, err = _run(capsys, "--catalog", str(folder), "import", "products", str(products_csv))
    assert code == 130 and "had saved its changes" in err and "before anything was saved" not in err
    assert _count(folder) == 51


def test_ctrl_c_before_the_commit_says_nothing_was_saved(
    folder: Path, products_csv: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: Catalog, records: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(Catalog, "upsert_products", interrupted)
    code, _, err = _run(capsys, "--catalog", str(folder), "import", "products", str(products_csv))
    assert code == 130 and "before anything was saved" in err
    monkeypatch.undo()
    assert _count(folder) == 1


def test_an_infinite_price_from_an_older_catalog_prints_valid_json(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Catalog.open(folder) as catalog:  # as imports wrote `1e400` before prices were checked
        catalog.upsert_products([ProductRecord("INF-1", "Pricey", "home", price=float("inf"))])
    for argv in (["products", "show", "INF-1", "--json"], ["products", "list", "--json"]):
        code, out, _ = _run(capsys, "--catalog", str(folder), *argv)

        def refuse(name: str) -> None:
            raise AssertionError(f"{name} is not JSON")

        assert code == 0
        parsed = json.loads(out, parse_constant=refuse)
        prices = [parsed["price"]] if isinstance(parsed, dict) else [p["price"] for p in parsed if p["sku"] == "INF-1"]
        assert prices == [None]
