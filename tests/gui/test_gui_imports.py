"""Importing from the GUI: the error report of a bad file, a good import refreshing the views, cancel, the
jobs panel, drag-and-drop, the menu, and a GUI thread that keeps ticking while an import runs."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from gui_catalogs import draw_images, write_products_csv
from gui_helpers import SMALL_PRODUCTS, wait_idle
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import CatalogCounts
from stylerec_desktop.gui.dialogs import ImportErrorDialog
from stylerec_desktop.gui.jobs import JobState, Lane
from stylerec_desktop.gui.main_window import MainWindow


@pytest.fixture
def import_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "to-import"
    draw_images(folder / "images", 6, seed=11, size=96)
    return folder


def _counts(window: MainWindow) -> CatalogCounts:
    catalog = window.catalog()
    assert catalog is not None
    return catalog.counts()


def test_a_bad_row_is_reported_and_the_catalog_is_unchanged(qtbot: QtBot, window: MainWindow, import_dir: Path) -> None:
    images = draw_images(import_dir / "images", 6, seed=11, size=96)
    csv_path = write_products_csv(import_dir / "products.csv", 10, images, bad_rows=(3,))
    before = _counts(window)
    with qtbot.waitSignal(window.imports.refused, timeout=10_000) as refused:
        job_id = window.imports.start_import("products", csv_path, images_dir=import_dir).id
    dialog = refused.args[0]
    assert isinstance(dialog, ImportErrorDialog) and dialog.isVisible()
    table = dialog.table
    rows = [[table.item(r, c).text() for c in range(4)] for r in range(table.rowCount())]
    assert rows[0][:2] == ["5", "price"]  # data row index 3 is on line 5 of the file
    assert "not-a-price" in rows[0][2]
    assert rows[0][3]  # what was expected, e.g. "a decimal >= 0"
    assert "row\tcolumn\tproblem\texpected" in dialog.report_text()

    assert _counts(window) == before
    assert window.catalog_panel.result_count() == SMALL_PRODUCTS
    info = window.runner.job(job_id)
    assert info.state is JobState.FAILED and info.lane is Lane.WRITE
    row = window.jobs_panel.row(job_id)
    assert row is not None and "failed" in row.state_label.text()
    assert "bad row" in row.message_label.text()
    assert "--" not in info.error and "import the good rows from the report" in info.error  # no CLI advice
    assert window.jobs_dock.isVisible()  # a failed job opens the Jobs panel on it
    assert not dialog.skip_button.isDefault()  # Enter closes the report; it never imports
    dialog.close()


def test_importing_the_good_rows_from_the_report(qtbot: QtBot, window: MainWindow, import_dir: Path) -> None:
    images = draw_images(import_dir / "images", 6, seed=11, size=96)
    csv_path = write_products_csv(import_dir / "products.csv", 10, images, bad_rows=(3,))
    with qtbot.waitSignal(window.imports.refused, timeout=10_000) as refused:
        window.imports.start_import("products", csv_path, images_dir=import_dir)
    dialog = refused.args[0]
    with qtbot.waitSignal(window.imports.imported, timeout=10_000):
        qtbot.mouseClick(dialog.skip_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.catalog_panel.result_count() == SMALL_PRODUCTS + 9, timeout=5000)
    assert (import_dir / "products.rejects.csv").is_file()


def test_a_good_import_refreshes_the_grid_and_the_categories(
    qtbot: QtBot, window: MainWindow, import_dir: Path
) -> None:
    images = draw_images(import_dir / "images", 6, seed=11, size=96)
    csv_path = write_products_csv(import_dir / "products.csv", 25, images)
    with qtbot.waitSignal(window.imports.imported, timeout=10_000) as imported:
        job_id = window.imports.start_import("products", csv_path, images_dir=import_dir).id
    assert imported.args[0] == "products" and imported.args[1].imported == 25
    panel = window.catalog_panel
    qtbot.waitUntil(lambda: panel.result_count() == SMALL_PRODUCTS + 25, timeout=5000)
    qtbot.waitUntil(lambda: panel.category_combo.findText("imported (25)") >= 0, timeout=5000)
    assert window.runner.job(job_id).state is JobState.DONE
    assert "Imported 25 of 25 products" in window.statusBar().currentMessage()
    assert window.jobs_panel.row(job_id) is not None
    assert "done" in window.jobs_panel.row(job_id).state_label.text()


def test_cancelling_an_import_leaves_the_catalog_unchanged(qtbot: QtBot, window: MainWindow, import_dir: Path) -> None:
    images = draw_images(import_dir / "images", 6, seed=11, size=96)
    csv_path = write_products_csv(import_dir / "big.csv", 30_000, images)
    before = _counts(window)
    job_id = window.imports.start_import("products", csv_path, images_dir=import_dir).id
    status = window.jobs_status
    qtbot.waitUntil(lambda: window.runner.job(job_id).done > 0, timeout=10_000)
    assert status.isVisible() and status.current_job() == job_id
    qtbot.mouseClick(status.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.runner.job(job_id).state.finished, timeout=20_000)
    info = window.runner.job(job_id)
    assert info.state is JobState.CANCELLED
    assert info.error == ""
    assert _counts(window) == before
    assert "cancelled" in window.jobs_panel.row(job_id).state_label.text()
    wait_idle(qtbot, window.runner)
    assert window.catalog_panel.result_count() == SMALL_PRODUCTS


@pytest.mark.timing
def test_the_gui_thread_keeps_ticking_while_an_import_runs(
    qtbot: QtBot, window: MainWindow, import_dir: Path, record_property: Callable[[str, object], None]
) -> None:
    """A 10 ms timer on the GUI thread must never wait 100 ms or more between two ticks while the import
    runs (from the job's start to its end, the window repainting its progress all along)."""
    images = draw_images(import_dir / "images", 6, seed=11, size=96)
    gc.freeze()  # as main() does after start-up: the test process's own heap (pytest, torch) is not the app's
    ticks: list[float] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    # On a shared 2-core machine other processes' load shows up as gaps too: the best of up to 3 imports
    # (of different products) is the app's own figure; an import that meets the budget ends the loop.
    worst = float("inf")
    for attempt in range(3):
        csv_path = write_products_csv(import_dir / f"products-{attempt}.csv", 6000, images, prefix=f"T{attempt}")
        ticks.clear()
        timer.start()
        with qtbot.waitSignal(window.imports.imported, timeout=60_000):
            job_id = window.imports.start_import("products", csv_path, images_dir=import_dir).id
        timer.stop()
        info = window.runner.job(job_id)
        assert info.started is not None and info.finished is not None
        # JobInfo times are wall-clock; map them onto the perf_counter ticks through "now".
        offset = time.perf_counter() - time.time()
        running = [tick for tick in ticks if info.started + offset <= tick <= info.finished + offset]
        gaps = [later - earlier for earlier, later in zip(running, running[1:], strict=False)]
        duration = info.finished - info.started
        assert duration > 0.3, "the import was too quick to say anything about responsiveness"
        assert len(gaps) > 10
        worst = min(worst, max(gaps))
        print(f"import of 6000 products: {duration:.2f} s; longest event-loop gap {max(gaps) * 1000:.1f} ms")
        if worst < 0.1:
            break
    record_property("max_event_loop_gap_ms", round(worst * 1000, 1))
    assert worst < 0.1


def test_dropping_files_imports_them_by_their_kind(qtbot: QtBot, window: MainWindow, import_dir: Path) -> None:
    images = draw_images(import_dir / "images", 6, seed=11, size=96)
    products = write_products_csv(import_dir / "drop-products.csv", 4, images, prefix="DROP")
    customers = import_dir / "drop-customers.csv"
    customers.write_text("customer_id,name\nDROP-1,Dana Drop\n", encoding="utf-8")
    events = import_dir / "drop-events.csv"
    events.write_text(
        "customer_id,sku,kind,timestamp\nDROP-1,DROP-000001,like,2026-02-03T10:00:00Z\n", encoding="utf-8"
    )
    mime = QMimeData()
    # Events first on purpose: the window imports products and customers before the events that need them.
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in (events, customers, products)])
    event = QDropEvent(
        QPointF(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    imported: list[str] = []
    window.imports.imported.connect(lambda kind, report: imported.append(kind))
    window.dropEvent(event)
    qtbot.waitUntil(lambda: len(imported) == 3, timeout=15_000)
    assert imported == ["products", "customers", "events"]
    catalog = window.catalog()
    assert catalog is not None
    history = catalog.customer_history("DROP-1")
    assert [(item.sku, item.kind) for item in history] == [("DROP-000001", "like")]


def test_the_import_menu_asks_for_the_file_and_the_images_folder(
    qtbot: QtBot, window: MainWindow, import_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    images = draw_images(import_dir / "images", 6, seed=11, size=96)
    csv_path = write_products_csv(import_dir / "menu.csv", 3, images, prefix="MENU")
    asked: list[str] = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(csv_path), ""))

    def images_folder(parent: object, caption: str, start: str) -> str:
        asked.append(start)
        return start  # the user accepts the suggested folder: the CSV's own

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", images_folder)
    with qtbot.waitSignal(window.imports.imported, timeout=10_000):
        window.import_actions["products"].trigger()
    assert asked == [str(import_dir)]
    qtbot.waitUntil(lambda: window.catalog_panel.result_count() == SMALL_PRODUCTS + 3, timeout=5000)
