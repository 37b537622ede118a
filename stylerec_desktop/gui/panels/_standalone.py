"""Open one panel alone, for development: ``python -m stylerec_desktop.gui.panels.catalog [--catalog PATH]``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.paths import default_catalog_dir
from stylerec_desktop.gui import theme
from stylerec_desktop.gui.jobs import JobRunner
from stylerec_desktop.gui.thumbnails import ThumbnailLoader

BuildPanel = Callable[[Catalog, JobRunner, ThumbnailLoader], QWidget]

READY_LINE = "stylerec panel ready"


def announce_when_idle(runner: JobRunner) -> None:
    """Print :data:`READY_LINE` on stdout once the event loop runs and the panel's background work (catalog reads,
    index loading) is done: what a script or test waits for instead of guessing a start-up time."""
    timer = QTimer(QApplication.instance())
    timer.setInterval(50)

    def check() -> None:
        if runner.is_idle():
            timer.stop()
            print(READY_LINE, flush=True)

    timer.timeout.connect(check)
    timer.start()


def open_or_build_demo(folder: Path) -> Catalog:
    """The catalog in ``folder``; the demo catalog is built there first when it holds none."""
    if Catalog.exists(folder):
        return Catalog.open(folder)
    from stylerec_desktop.core.demo import build_demo_catalog

    print(f"Building the demo catalog in {folder}…", file=sys.stderr)
    return run_job(build_demo_catalog(folder))


def run_panel(title: str, build: BuildPanel, size: tuple[int, int] = (900, 700), argv: list[str] | None = None) -> int:
    """Parse ``--catalog``, open the catalog, show the panel ``build`` makes, and run the event loop."""
    parser = argparse.ArgumentParser(description=f"Open the {title} panel alone.")
    parser.add_argument("--catalog", type=Path, default=None, help="catalog folder (default: the app's default)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    theme.apply(app)
    try:
        catalog = Catalog.open(args.catalog) if args.catalog else open_or_build_demo(default_catalog_dir())
    except UserError as exc:
        print(f"stylerec: {exc}", file=sys.stderr)
        return 2
    runner = JobRunner()
    thumbnails = ThumbnailLoader(catalog.thumbnails_dir)
    panel = build(catalog, runner, thumbnails)
    panel.setWindowTitle(f"{title} — {catalog.folder}")
    panel.resize(*size)
    panel.show()
    announce_when_idle(runner)
    code = app.exec()
    runner.shutdown()
    thumbnails.shutdown()
    catalog.close()
    return code
