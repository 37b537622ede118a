"""``stylerec-desktop`` / ``python -m stylerec_desktop``: start the app.

Start-up imports only Qt and the catalog: Pillow, numpy and torch load later, on the worker thread of the first
job that needs them, so the window is up in well under the 3 s budget.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSize, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from stylerec_desktop import __version__
from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.paths import default_catalog_dir
from stylerec_desktop.gui import logbook, theme
from stylerec_desktop.gui.jobs import JobRunner
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.thumbnails import ThumbnailLoader
from stylerec_desktop.resources import ICON_SIZES, icon_png

ORGANIZATION = "StyleRec"
APPLICATION = "StyleRec Desktop"
DEMO_FOLDER_NAME = "demo"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="stylerec-desktop",
        description="Style-aware recommendations and restyling for catalog teams.",
    )
    parser.add_argument(
        "--catalog",
        type=Path,
        default=None,
        help="catalog folder to open (default: $STYLEREC_CATALOG or the per-user catalog, "
        "which is filled with the demo catalog on first run)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the demo catalog (in --catalog PATH, or a 'demo' folder beside the default catalog), "
        "building it first if needed",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation end to end offscreen (a demo catalog in a temporary folder, the window, a "
        "preview per engine, an export), print one line per check and exit 0 only if all pass",
    )
    # For start-up timing (packaging/start_timing.py): print FIRST_PAINT <time.monotonic()> when the main window is
    # first painted, and quit. Works the same in the bundle, where no timing code can be injected.
    parser.add_argument("--quit-after-first-paint", action="store_true", help=argparse.SUPPRESS)
    # Qt's own options (-style, -platform …) pass through to QApplication.
    args, _qt_args = parser.parse_known_args(argv)
    return args


def start_folder(args: argparse.Namespace) -> tuple[Path, bool]:
    """The catalog folder to show first, and whether the demo may be built there when it holds no catalog."""
    if args.demo:
        return (args.catalog or default_catalog_dir().parent / DEMO_FOLDER_NAME), True
    if args.catalog is not None:
        return args.catalog, False  # never write a demo into a folder the user named for something else
    return default_catalog_dir(), True


def open_start_catalog(window: MainWindow, folder: Path, may_build_demo: bool) -> None:
    """Open ``folder``; on first run build the demo there as a background job (progress on the start page)."""
    folder = folder.expanduser()
    if Catalog.exists(folder):
        window.open_catalog(folder)
    elif may_build_demo:
        window.build_demo(folder)
    else:
        window.show_start(
            f"There is no catalog in {folder}. Open another one, create an empty catalog, or build the demo."
        )


def create_application(argv: Sequence[str]) -> QApplication:
    """The QApplication (reused when one exists, as under pytest-qt), named for QSettings, themed."""
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv))
    assert isinstance(app, QApplication)
    app.setApplicationDisplayName(APPLICATION)
    # Linux desktops match the window to stylerec-desktop.desktop (and its icon) by this name.
    app.setDesktopFileName("stylerec-desktop")
    app.setWindowIcon(app_icon())
    theme.apply(app)
    return app


def app_icon() -> QIcon:
    """The app icon at every size we ship, so each place (title bar, taskbar, About) picks a sharp one."""
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(icon_png(size)), QSize(size, size))
    return icon


@dataclass
class RunningApp:
    """What :func:`start` set up; :meth:`stop` shuts the workers down."""

    app: QApplication
    window: MainWindow
    runner: JobRunner
    thumbnails: ThumbnailLoader

    def stop(self, *, wait_for_disposable: bool = True) -> None:
        """Stop the workers and close the catalog. ``wait_for_disposable=False`` (quitting) does not wait for jobs
        that write nothing and cannot stop early; the process must then end without running Python's teardown."""
        self.runner.shutdown(wait_for_disposable=wait_for_disposable)
        self.thumbnails.shutdown()
        catalog = self.window.catalog()
        if catalog is not None:
            # With no job left on a worker thread (the usual quit), the workers' connections are closed too, which
            # leaves no -wal file beside the database; a job still running (a disposable one, cut off by the
            # process's end) keeps its own until then.
            catalog.close(others_idle=self.runner.workers_idle())


#: How long after the window appears the style networks start loading in the background.
WARM_UP_DELAY_MS = 1500


def start(argv: Sequence[str]) -> RunningApp:
    """Everything :func:`main` does before running the event loop: the window is shown and the start
    catalog opens (or the demo starts building) as soon as the loop runs."""
    args = parse_args(argv)
    logbook.configure_logging()  # console, the rotating log file, and the records Help ▸ Log… shows
    logging.getLogger(__name__).info("StyleRec Desktop %s starting; log folder %s", __version__, logbook.log_folder())
    app = create_application([sys.argv[0], *argv])
    runner = JobRunner()
    thumbnails = ThumbnailLoader()
    window = MainWindow(runner, thumbnails)
    if args.quit_after_first_paint:
        app.installEventFilter(_FirstPaint(app))
    window.show()
    # Everything made so far lives as long as the app: keep it out of the cyclic garbage collector's full
    # passes, which otherwise scan it again and again and pause whichever thread triggered them.
    gc.freeze()
    folder, may_build_demo = start_folder(args)
    # After the first paint: the window appears at once, even when the catalog takes a moment to open.
    QTimer.singleShot(0, lambda: open_start_catalog(window, folder, may_build_demo))
    # A moment later, not at once: importing torch holds Python's lock for most of a second at a time, which would
    # slow the catalog's opening and, for someone who closes the window right away, the quit (no job step runs
    # until the import lets go). The first preview or recommendation before then loads it on its own worker.
    QTimer.singleShot(
        WARM_UP_DELAY_MS,
        lambda: runner.submit("Load the style networks", _load_style_modules, hidden=True, disposable=True),
    )
    return RunningApp(app, window, runner, thumbnails)


class _FirstPaint(QObject):
    """Prints ``FIRST_PAINT <time.monotonic()>`` at the main window's first paint, then quits the app."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and isinstance(watched, MainWindow):
            print(f"FIRST_PAINT {time.monotonic():.6f}", flush=True)
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
                # exit(), not quit(): Qt 6's quit() closes the window first, and the window asks (modally) whether to
                # cancel the jobs the start has just queued.
                QTimer.singleShot(0, lambda: app.exit(0))
        return False


def _load_style_modules() -> None:
    """On a worker, right after the window appears: import the modules that load torch (~1.5 s), which the window
    itself does not need to open. The studio and the recommendations then find them loaded."""
    import stylerec_desktop.core.recommend.workspace  # noqa: F401
    import stylerec_desktop.core.stylize.pipeline  # noqa: F401  (the package itself loads it lazily)
    from stylerec_desktop.core.models.hardware import learn_devices

    learn_devices()  # asking CUDA the first time takes a moment: here, not on the GUI thread


def main(argv: Sequence[str] | None = None) -> int:
    """Run the desktop app; returns the process exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if parse_args(arguments).self_test:
        from stylerec_desktop.gui.selftest import run_self_test

        code = run_self_test()
        sys.stdout.flush()
        os._exit(code)  # as below: no seconds of torch/Qt teardown after the report
    running = start(arguments)
    code = running.app.exec()
    # Every job that writes has stopped and the catalog is closed: end the process now. Python's own teardown
    # (torch's and Qt's destructors, a worker still importing torch) kept it alive seconds after the window closed.
    running.stop(wait_for_disposable=False)
    logging.shutdown()  # the log file is complete
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
