"""Starting the app: the catalog it opens, the first run building the demo in the background, the saved
window layout, and every panel opening alone."""

from __future__ import annotations

import logging
import os
import runpy
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path

import pytest
from gui_helpers import SMALL_PRODUCTS
from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtWidgets import QAbstractButton, QApplication
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.jobs import Progress
from stylerec_desktop.gui import app as app_module
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, JobState, Lane
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.thumbnails import ThumbnailLoader

# The real question, taken before the autouse fixture of conftest answers it for every other test.
ASK_BEFORE_QUITTING = MainWindow.confirm_cancel_jobs


def _start(qtbot: QtBot, argv: list[str], check: Callable[[MainWindow], bool], timeout_ms: int = 30_000) -> MainWindow:
    """``app.start(argv)`` (all of ``main`` but the blocking event loop), then wait until ``check(window)``.

    Not ``main`` itself: once ``QApplication.exec()`` has returned, Qt starts no new pool threads in this
    process, and the tests after this one need them.
    """
    running = app_module.start(argv)
    qtbot.addWidget(running.window)
    qtbot.waitUntil(lambda: check(running.window), timeout=timeout_ms)
    running.window.close()
    running.stop()
    return running.window


def test_main_opens_the_catalog_named_on_the_command_line(qtbot: QtBot, catalog_dir: Path) -> None:
    window = _start(qtbot, ["--catalog", str(catalog_dir)], lambda w: w.catalog_panel.result_count() == SMALL_PRODUCTS)
    assert window.catalog() is not None and window.catalog().folder == catalog_dir.resolve()
    assert catalog_dir.name in window.windowTitle()
    assert QApplication.applicationName() == "StyleRec Desktop"
    assert QApplication.organizationName() == "StyleRec"


def test_quitting_with_every_job_done_leaves_no_write_ahead_log(qtbot: QtBot, catalog_dir: Path) -> None:
    """The app's stop at quit (as ``main`` calls it): the workers are idle, so their connections close too and the
    catalog folder holds the database alone, as a user may copy it."""
    running = app_module.start(["--catalog", str(catalog_dir)])
    qtbot.addWidget(running.window)
    qtbot.waitUntil(lambda: running.window.catalog_panel.result_count() == SMALL_PRODUCTS, timeout=30_000)
    qtbot.waitUntil(running.runner.is_idle, timeout=30_000)
    catalog = running.window.catalog()
    assert catalog is not None
    catalog.update_product(running.window.catalog_panel.model.product_id(0), title="Edited before quitting")
    assert (catalog_dir / "catalog.sqlite-wal").exists() and catalog.open_connections() >= 2  # workers read too
    running.window.close()
    running.stop(wait_for_disposable=False)
    assert catalog.open_connections() == 0
    assert not (catalog_dir / "catalog.sqlite-wal").exists()
    with Catalog.open(catalog_dir) as again:
        assert again.product(running.window.catalog_panel.model.product_id(0)).title == "Edited before quitting"


def test_first_run_builds_the_demo_in_the_background_and_shows_it(
    qtbot: QtBot, small_catalog_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No default catalog yet: the demo is built there as a write-lane job, with progress on the start page."""
    default = Path(os.environ["STYLEREC_CATALOG"])
    assert not default.exists()

    def quick_demo(folder: Path, **_: object) -> Generator[Progress, None, Catalog]:
        # The real builder is exercised by the session fixture; here only its wiring into the app matters,
        # so copy the catalog it built, slowly enough for the progress to be seen.
        for step in range(5):
            time.sleep(0.05)
            yield Progress(step, 5, f"Drawing {step}/5")
        shutil.copytree(small_catalog_source, folder, dirs_exist_ok=True)
        return Catalog.open(folder)

    import stylerec_desktop.core.demo as demo

    monkeypatch.setattr(demo, "build_demo_catalog", quick_demo)
    progress_seen: list[str] = []

    def check(window: MainWindow) -> bool:
        if window.start_page.progress.isVisible():
            progress_seen.append(window.start_page.message.text())
        return window.catalog_panel.result_count() == SMALL_PRODUCTS

    window = _start(qtbot, [], check)
    assert Catalog.exists(default)
    assert window.catalog() is not None and window.catalog().folder == default.resolve()
    assert any("Building the demo catalog" in text for text in progress_seen)
    demo_jobs = [info for info in window.runner.jobs() if info.title == "Building the demo catalog"]
    assert [(info.state, info.lane) for info in demo_jobs] == [(JobState.DONE, Lane.WRITE)]


def test_a_named_folder_without_a_catalog_is_not_filled_with_the_demo(qtbot: QtBot, tmp_path: Path) -> None:
    empty = tmp_path / "somewhere"
    window = _start(qtbot, ["--catalog", str(empty)], lambda w: "There is no catalog" in w.start_page.message.text())
    assert window.catalog() is None
    assert not Catalog.exists(empty)
    assert not window.start_page.open_button.isHidden() and not window.start_page.demo_button.isHidden()


def test_the_window_layout_comes_back_next_time(qtbot: QtBot, tmp_path: Path) -> None:
    settings_file = str(tmp_path / "layout.ini")
    runner, thumbnails = JobRunner(), ThumbnailLoader()
    first = MainWindow(runner, thumbnails, QSettings(settings_file, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.resize(1200, 800)
    first.show()
    qtbot.waitExposed(first)
    first.removeDockWidget(first.detail_dock)
    first.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, first.detail_dock)
    first.detail_dock.show()
    first.jobs_dock.show()  # closed by default: opened, it stays open next time
    first.close()
    second = MainWindow(runner, thumbnails, QSettings(settings_file, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert second.dockWidgetArea(second.detail_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert second.jobs_dock.isVisible()
    # View ▸ Reset layout: the default again (Product on the right, in front; Jobs closed).
    second.reset_layout_action.trigger()
    qtbot.waitUntil(
        lambda: second.dockWidgetArea(second.detail_dock) == Qt.DockWidgetArea.RightDockWidgetArea, timeout=5000
    )
    assert not second.jobs_dock.isVisible() and not second.detail_dock.visibleRegion().isEmpty()
    runner.shutdown()
    thumbnails.shutdown()


@pytest.mark.parametrize("size", [(1280, 720), (1366, 768)])
def test_the_default_layout_fits_a_laptop_screen(qtbot: QtBot, window: MainWindow, size: tuple[int, int]) -> None:
    """Nothing is cut off at 1280x720: the window may be that small, and every open panel gets at least the room
    it needs. The grid and the product get most of it; Jobs waits in the status bar."""
    minimum = window.minimumSizeHint()
    assert minimum.width() <= 1280 and minimum.height() <= 720, minimum
    window.resize(*size)
    window.reset_layout()
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5000)
    for dock in (window.customers_dock, window.taste_dock, window.detail_dock):
        panel = dock.widget()
        need = panel.minimumSizeHint()
        assert need.width() <= panel.width() and need.height() <= panel.height(), (dock.windowTitle(), need)
    assert not window.jobs_dock.isVisible() and not window.studio_dock.isVisible()
    assert not window.detail_dock.visibleRegion().isEmpty()  # the right column opens on the product
    grid = window.catalog_panel.grid
    assert grid.width() >= size[0] * 0.4 and grid.height() >= size[1] * 0.7
    # Restyle opens the studio under the grid, with room for its controls.
    window.restyle_products([window.catalog_panel.model.product_id(0)])
    studio = window.studio_panel
    qtbot.waitUntil(lambda: window.studio_dock.isVisible() and studio.height() >= 200, timeout=5000)
    # Every button on screen shows its whole label (the studio's render row once read "ancel rende"; that row,
    # scrolled out of this short dock here, is checked in test_gui_studio).
    window.catalog_panel.select_product(window.catalog_panel.model.product_id(0))
    detail = window.detail_panel
    qtbot.waitUntil(lambda: detail.edit_button.isVisible() and not detail.edit_button.visibleRegion().isEmpty(),
                    timeout=10_000)  # fmt: skip
    shown = [b for b in window.findChildren(QAbstractButton) if b.isVisible() and not b.visibleRegion().isEmpty()]
    assert {detail.edit_button, detail.find_similar_button, studio.results.rerender_button} <= set(shown)
    cut = [(b.text(), b.width()) for b in shown
           if b.text() and b.width() < b.fontMetrics().horizontalAdvance(b.text().replace("&", "")) + 6]  # fmt: skip
    assert cut == []


PANELS = ("catalog", "product_detail", "customers", "jobs", "similar", "recommendations", "taste", "inspector",
          "studio", "export_dialog", "settings_dialog", "log_dialog", "catalog_fit", "evaluation_dialog")  # fmt: skip
ALONE_IN_A_FRESH_INTERPRETER = ("log_dialog", "studio")


class _Watched:
    """A started panel process: ``ready`` is set when it prints the standalone panel's ready line (its event loop
    runs, its background work is done); threads drain stdout and stderr meanwhile, so no pipe ever fills."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        from stylerec_desktop.gui.panels._standalone import READY_LINE

        self.process = process
        self.ready = threading.Event()
        self.stderr: list[str] = []

        def read_out() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                if line.strip() == READY_LINE:
                    self.ready.set()

        def read_err() -> None:
            assert process.stderr is not None
            self.stderr.extend(process.stderr)

        self.readers = [threading.Thread(target=f, daemon=True) for f in (read_out, read_err)]
        for reader in self.readers:
            reader.start()

    def stop(self) -> tuple[bool, str]:
        """Terminate it if it still runs: (whether it was running, everything it wrote on stderr)."""
        alive = self.process.poll() is None
        if alive:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)
        for reader in self.readers:
            reader.join(timeout=20)
        return alive, "".join(self.stderr)


@pytest.mark.filterwarnings("ignore:.*found in sys.modules after import of package:RuntimeWarning")
@pytest.mark.parametrize("name", [name for name in PANELS if name not in ALONE_IN_A_FRESH_INTERPRETER])
def test_every_panel_opens_alone(
    qtbot: QtBot, catalog_dir: Path, name: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``python -m stylerec_desktop.gui.panels.<name> --catalog PATH``, run in this process: it shows its panel on
    the catalog and finishes its background work with no error. Its event loop is a nested one that ends when the
    work is done (``QApplication.exec`` may not return in a test process: Qt starts no pool threads after it). The
    Jobs panel's demo has a minute-long job to cancel by hand: the test cancels it once the other two have ended."""
    from stylerec_desktop.gui.panels import _standalone

    runners: list[JobRunner] = []
    shown: list[str] = []
    outcomes: dict[str, JobState] = {}
    monkeypatch.setattr(_standalone, "announce_when_idle", runners.append)

    def event_loop(_app: QApplication) -> int:
        (runner,) = runners
        qtbot.wait(50)
        if name == "jobs":
            qtbot.waitUntil(lambda: len(runner.running()) == 1, timeout=30_000)
            (long_job,) = runner.running()
            assert "cancel me" in long_job.title
            runner.cancel(long_job.id)
        qtbot.waitUntil(runner.is_idle, timeout=60_000)
        outcomes.update((info.title, info.state) for info in runner.jobs())
        for widget in QApplication.topLevelWidgets():
            if widget.isVisible() and widget.windowTitle().endswith(str(catalog_dir.resolve())):
                shown.append(widget.windowTitle())
                widget.close()
                widget.deleteLater()  # not left behind for the worker's later tests (a signal's closure holds it)
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        return 0

    monkeypatch.setattr(QApplication, "exec", event_loop)
    monkeypatch.setattr(sys, "argv", [name, "--catalog", str(catalog_dir)])
    with pytest.raises(SystemExit) as ended:
        runpy.run_module(f"stylerec_desktop.gui.panels.{name}", run_name="__main__")
    assert ended.value.code == 0
    assert len(shown) == 1, shown
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    on_purpose = {"A job that fails": JobState.FAILED, "A long job (cancel me)": JobState.CANCELLED}
    assert {title: state for title, state in outcomes.items() if state is not JobState.DONE} == (
        on_purpose if name == "jobs" else {}
    )


@pytest.mark.slow  # two interpreters starting at once
def test_a_panel_module_and_a_panel_package_start_in_a_fresh_interpreter(catalog_dir: Path) -> None:
    """The real ``python -m`` of a panel module (the log, which sets up the process's logging: not in the test
    process) and of the studio package: each starts, finishes its background work and is still running then
    (waited for on the panel's ready line, not for a guessed time)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-m", f"stylerec_desktop.gui.panels.{name}", "--catalog", str(catalog_dir)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ALONE_IN_A_FRESH_INTERPRETER
    }
    watched = {name: _Watched(process) for name, process in processes.items()}
    deadline = time.monotonic() + 120
    for panel in watched.values():
        while not panel.ready.wait(0.1) and panel.process.poll() is None and time.monotonic() < deadline:
            pass
    for name, panel in watched.items():
        alive, stderr = panel.stop()
        assert alive, f"panel {name} exited early with code {panel.process.returncode}:\n{stderr}"
        assert panel.ready.is_set(), f"panel {name} did not get ready within two minutes:\n{stderr}"
        assert "Traceback" not in stderr, f"panel {name}:\n{stderr}"


def test_the_shortcuts_list_shows_every_menu_shortcut(window: MainWindow) -> None:
    from PySide6.QtWidgets import QTableWidget

    from stylerec_desktop.gui.dialogs import shortcuts_dialog

    dialog = shortcuts_dialog(window)
    table = dialog.findChild(QTableWidget)
    listed = {table.item(row, 0).text(): table.item(row, 1).text() for row in range(table.rowCount())}
    assert listed["Ctrl+E"] == "Export selected"
    assert listed["Ctrl+Shift+X"] == "Index styles"
    assert {"Ctrl+F", "Ctrl+K", "Ctrl+I", "Ctrl+J", "Ctrl+3", "Ctrl+6"} <= set(listed)
    assert "Arrow keys" in listed


def test_the_window_opens_without_loading_torch() -> None:
    """Start-up time: torch (~1.5 s) loads on a worker after the window is up, not while the window is built."""
    code = (
        "import sys\n"
        "import stylerec_desktop.gui.app, stylerec_desktop.gui.main_window\n"
        "import stylerec_desktop.gui.panels.export_dialog\n"
        "print('torch' in sys.modules)\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_closing_with_jobs_running_asks_and_cancels_them(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop = threading.Event()

    def long_job() -> Generator[Progress, None, None]:
        for step in range(600):
            if stop.wait(0.05):
                return
            yield Progress(step, 600, "working")

    job_id = window.runner.submit("A long import", long_job, lane=Lane.WRITE).id
    qtbot.waitUntil(lambda: window.runner.job(job_id).state is JobState.RUNNING, timeout=5000)
    asked: list[list[str]] = []
    answers = iter([False, True])

    def answer(running: list[JobInfo]) -> bool:
        asked.append([info.title for info in running])
        return next(answers)

    monkeypatch.setattr(window, "confirm_cancel_jobs", answer)
    assert not window.close()  # "Keep working": the window stays, the job runs on
    assert window.isVisible() and window.runner.job(job_id).state is JobState.RUNNING
    assert window.close()  # "Cancel jobs and quit"
    assert asked == [["A long import"], ["A long import"]]
    qtbot.waitUntil(lambda: window.runner.job(job_id).state is JobState.CANCELLED, timeout=5000)
    stop.set()


def test_the_quit_question_defaults_to_keep_working(qtbot: QtBot, window: MainWindow) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    seen: list[str] = []

    def press_enter() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press_enter)
            return
        seen.append(box.defaultButton().text())
        qtbot.keyClick(box, Qt.Key.Key_Return)

    info = JobInfo(1, "A long import", Lane.WRITE, submitted=time.time())
    QTimer.singleShot(0, press_enter)
    assert ASK_BEFORE_QUITTING(window, [info]) is False  # Enter keeps the work
    assert seen == ["Keep working"]


@pytest.mark.timing
def test_quitting_ends_the_process_at_once_when_the_last_job_stops(catalog_dir: Path) -> None:
    """The real ``main``: closed while a job runs, the process is gone well within a second of the window closing.

    Closed once the start's own background work is done (the style index and the networks loaded): an import of
    torch holds Python's lock for most of a second and cannot be interrupted, so a quit in the first seconds after
    the start waits for it (measured 1.0-1.3 s)."""
    code = (
        "import sys, time\n"
        "from PySide6.QtCore import QTimer\n"
        "from stylerec_desktop.core.jobs import Progress\n"
        "from stylerec_desktop.gui import app\n"
        "from stylerec_desktop.gui.main_window import MainWindow\n"
        "MainWindow.confirm_cancel_jobs = lambda self, running: True\n"
        "real_start = app.start\n"
        "def start(argv):\n"
        "    running = real_start(argv)\n"
        "    def busy():\n"
        "        for step in range(10_000):\n"
        "            time.sleep(0.02)\n"
        "            yield Progress(step, 10_000, 'busy')\n"
        "    started = time.time()\n"
        "    def close():\n"
        "        if not running.runner.is_idle() or time.time() - started < 2.0:\n"
        "            QTimer.singleShot(100, close)\n"
        "            return\n"
        "        running.runner.submit('Busy job', busy)\n"
        "        running.window.close()\n"
        "        print('closed', time.time(), flush=True)\n"
        "    QTimer.singleShot(200, close)\n"
        "    return running\n"
        "app.start = start\n"
        f"app.main(['--catalog', {str(catalog_dir)!r}])\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    closed = float(process.stdout.readline().split()[1])
    process.wait(timeout=60)
    gone = time.time() - closed
    assert process.returncode == 0
    assert gone < 1.0, f"the process lived {gone:.2f} s after its window closed"


def test_a_read_only_catalog_says_so_and_offers_no_edits(
    qtbot: QtBot, window: MainWindow, catalog_dir: Path
) -> None:
    from stylerec_desktop.core.catalog import Catalog

    assert "read-only" not in window.windowTitle() and window.edit_product_action.isEnabled()
    window.set_catalog(Catalog.open(catalog_dir, read_only=True))  # as opening one this user may not write
    assert "(read-only)" in window.windowTitle()
    assert not window.edit_product_action.isEnabled() and not window.index_action.isEnabled()
    assert not any(action.isEnabled() for action in window.import_actions.values())
    # The Product panel shows the product but offers no edit form (its Edit button is off and says why).
    panel = window.detail_panel
    product_id = window._catalog.products()[0].id
    panel.show_product(product_id)
    qtbot.waitUntil(lambda: panel.product() is not None and panel.product().id == product_id)
    assert not panel.edit_button.isEnabled() and "read-only" in panel.edit_button.toolTip()
    panel.start_editing()
    assert not panel.is_editing()
