"""Help ▸ Log…: recent records from any thread, shown live and filtered by level; copy, save; the log file; and
what the app logs for support (failed jobs, imports)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gui_helpers import wait_idle
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.gui import logbook
from stylerec_desktop.gui.jobs import JobRunner
from stylerec_desktop.gui.logbook import RecentRecords
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.panels.log_dialog import LogDialog


@pytest.fixture
def recent() -> Iterator[RecentRecords]:
    """A ring of its own on a logger of its own: the test sees exactly the records it makes."""
    recent = RecentRecords(capacity=100)
    logger = logging.getLogger("stylerec_desktop.test_log")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(recent)
    yield recent
    logger.removeHandler(recent)


@pytest.fixture
def dialog(qtbot: QtBot, recent: RecentRecords, runner: JobRunner, tmp_path: Path) -> LogDialog:
    dialog = LogDialog(recent, runner, tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


log = logging.getLogger("stylerec_desktop.test_log")


def test_records_from_worker_threads_show_up_live(qtbot: QtBot, dialog: LogDialog, runner: JobRunner) -> None:
    log.info("before the dialog looked")  # already kept: shown at once
    qtbot.waitUntil(lambda: "before the dialog looked" in dialog.shown_text(), timeout=5_000)

    def from_a_thread() -> None:
        try:
            raise KeyError("price")
        except KeyError:
            log.exception("thumbnail worker failed")

    thread = threading.Thread(target=from_a_thread, name="plain-thread")
    thread.start()
    thread.join()
    runner.submit("Log from a pool thread", lambda: log.warning("pool worker says hello"))
    qtbot.waitUntil(lambda: "pool worker says hello" in dialog.shown_text(), timeout=5_000)
    qtbot.waitUntil(lambda: "thumbnail worker failed" in dialog.shown_text(), timeout=5_000)
    text = dialog.shown_text()
    assert "[plain-thread]" in text and "KeyError: 'price'" in text  # the traceback comes with its record
    assert text.index("before the dialog looked") < text.index("thumbnail worker failed")
    assert dialog.shown_count() == 3
    assert dialog.count_label.text() == "3 records"


def test_a_record_logged_while_the_dialog_opens_is_shown_once(
    qtbot: QtBot, recent: RecentRecords, runner: JobRunner, tmp_path: Path
) -> None:
    log.warning("logged on a worker as the dialog opened")
    dialog = LogDialog(recent, runner, tmp_path)  # reads the ring, which already has it...
    qtbot.addWidget(dialog)
    recent.entryAdded.emit(recent.entries()[-1])  # ...and then its queued signal arrives
    log.warning("logged after")
    qtbot.waitUntil(lambda: "logged after" in dialog.shown_text(), timeout=5_000)
    assert dialog.shown_text().count("as the dialog opened") == 1
    assert dialog.shown_count() == 2


def test_the_level_filter_shows_only_records_at_that_level_or_above(qtbot: QtBot, dialog: LogDialog) -> None:
    log.debug("debug detail")
    log.info("an import finished")
    log.warning("a job failed")
    log.error("a bug")
    qtbot.waitUntil(lambda: "a bug" in dialog.shown_text(), timeout=5_000)
    assert "debug detail" not in dialog.shown_text()  # information and above by default
    assert dialog.shown_count() == 3

    dialog.set_min_level(logging.WARNING)
    assert "an import finished" not in dialog.shown_text()
    assert "a job failed" in dialog.shown_text() and "a bug" in dialog.shown_text()

    dialog.set_min_level(logging.ERROR)
    log.warning("another warning")
    log.error("another bug")
    qtbot.waitUntil(lambda: "another bug" in dialog.shown_text(), timeout=5_000)
    assert dialog.shown_text().splitlines()[0].endswith("a bug")
    assert "warning" not in dialog.shown_text()

    dialog.set_min_level(logging.DEBUG)  # the ring kept everything: back it all comes, in order
    lines = dialog.shown_text().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "debug detail", "an import finished", "a job failed", "a bug", "another warning", "another bug",
    ]  # fmt: skip


def test_copy_all_and_save_as_take_what_is_shown(
    qtbot: QtBot, dialog: LogDialog, runner: JobRunner, tmp_path: Path
) -> None:
    log.info("first")
    log.warning("second")
    qtbot.waitUntil(lambda: dialog.shown_count() == 2, timeout=5_000)
    dialog.set_min_level(logging.WARNING)
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == dialog.shown_text()
    assert "second" in QGuiApplication.clipboard().text() and "first" not in QGuiApplication.clipboard().text()

    target = tmp_path / "support.log"
    dialog.save_to(target)
    wait_idle(qtbot, runner)
    assert target.read_text(encoding="utf-8") == dialog.shown_text() + "\n"
    assert dialog.status_label.text() == f"Saved the log to {target}."

    dialog.save_to(tmp_path / "no-such-folder" / "support.log")
    wait_idle(qtbot, runner)
    assert dialog.status_label.text().startswith("Could not save the log: Cannot write")


def test_the_ring_keeps_only_the_newest_records() -> None:
    recent = RecentRecords(capacity=3)
    logger = logging.getLogger("stylerec_desktop.test_ring")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(recent)
    try:
        for i in range(5):
            logger.info("record %d", i)
    finally:
        logger.removeHandler(recent)
        logger.propagate = True
    assert [entry.text.rsplit(" ", 1)[1] for entry in recent.entries()] == ["2", "3", "4"]
    assert recent.entries(logging.WARNING) == []


def test_the_app_log_goes_to_a_file_in_the_user_log_folder() -> None:
    recent = logbook.configure_logging()
    assert logbook.configure_logging() is recent  # installed once per process
    folder = logbook.log_folder()
    assert folder is not None and folder.name == "log"
    logging.getLogger("stylerec_desktop.test_file").warning("written to the file for support")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "written to the file for support" in (folder / logbook.LOG_FILE_NAME).read_text(encoding="utf-8")
    assert any("written to the file for support" in entry.text for entry in recent.entries())


def test_failed_jobs_and_import_reports_are_logged(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse() -> None:
        raise UserError("The folder is read-only; choose another.")

    with caplog.at_level(logging.INFO):
        job_id = window.runner.submit("Export 3 products", refuse).id
        bad = tmp_path / "bad-products.csv"
        bad.write_text("sku,title,category,price,image\nX-1,Shirt,shirts,twelve,missing.jpg\n", encoding="utf-8")
        window.imports.start_import("products", bad, images_dir=tmp_path)
        good = tmp_path / "new-customers.csv"
        good.write_text("customer_id\nNEW-1\nNEW-2\n", encoding="utf-8")
        window.imports.start_import("customers", good)
        qtbot.waitUntil(lambda: window.imports.last_error_dialog is not None, timeout=10_000)
        wait_idle(qtbot, window.runner)
    messages = [record.getMessage() for record in caplog.records]
    assert f"job {job_id} 'Export 3 products' failed: The folder is read-only; choose another." in messages
    refused = next(m for m in messages if "'Import products from bad-products.csv' failed" in m)
    assert "row 2, column price: 'twelve' is not a number" in refused  # the bad row itself, not just "it failed"
    assert "Imported 2 of 2 customers from new-customers.csv" in messages  # the import's report
    assert any("'Import customers from new-customers.csv' done after" in m for m in messages)
    assert window.imports.last_error_dialog is not None
    window.imports.last_error_dialog.close()


def test_help_log_opens_the_dialog_on_the_app_log(qtbot: QtBot, window: MainWindow) -> None:
    help_menu = window.menuBar().actions()[-1].menu()
    action = next(a for a in help_menu.actions() if a.text() == "&Log…")
    action.trigger()
    dialog = window.log_dialog
    assert dialog is not None and dialog.isVisible()
    logging.getLogger("stylerec_desktop.test_menu").warning("seen from the Help menu")
    qtbot.waitUntil(lambda: "seen from the Help menu" in dialog.shown_text(), timeout=5_000)
    action.trigger()
    assert window.log_dialog is dialog
    dialog.close()
