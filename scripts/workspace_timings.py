"""Timings of the merchandiser's workspace: ``python scripts/workspace_timings.py``.

Runs offscreen on a fresh small catalog (40 products, 8 customers) through the real main window and prints

- the GUI thread's stalls (a 5 ms timer's lateness: p99 and max) while the app indexes the catalog's styles and while
  it renders a 1024 px variant in the studio;
- the studio's preview latency (control change to picture on screen, 256 px) for five strength values with a preset
  and with a customer's taste (arbitrary engine);
- the process's peak resident memory.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "gui"))

import numpy as np  # noqa: E402
from gui_catalogs import build_small_catalog  # noqa: E402
from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import stylerec_desktop.gui  # noqa: E402, F401 - Qt binding work-arounds
from stylerec_desktop.core.recommend.service import taste_as_style  # noqa: E402
from stylerec_desktop.gui.app import create_application  # noqa: E402
from stylerec_desktop.gui.jobs import JobRunner  # noqa: E402
from stylerec_desktop.gui.main_window import MainWindow  # noqa: E402
from stylerec_desktop.gui.thumbnails import ThumbnailLoader  # noqa: E402

TICK_MS = 5


def spin(app: QApplication, until: Callable[[], bool], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise SystemExit("workspace_timings: timed out")
        app.processEvents()
        time.sleep(0.002)


def stalls(app: QApplication, label: str, start: Callable[[], None], done: Callable[[], bool]) -> None:
    """Run ``start`` and spin until ``done``, timing a 5 ms timer; print its lateness."""
    late: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        late.append((now - last[0]) * 1000 - TICK_MS)
        last[0] = now

    timer = QTimer(interval=TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    start()
    spin(app, done)
    timer.stop()
    values = np.asarray(late or [0.0])
    print(f"GUI thread during {label}: p99 {np.percentile(values, 99):.0f} ms, max {values.max():.0f} ms stall")


def preview_latencies(app: QApplication, window: MainWindow) -> list[float]:
    studio = window.studio_panel
    latencies = []
    for value in (90, 80, 70, 60, 50):
        studio.last_preview_ms = None
        studio.strength.setValue(value)
        spin(app, lambda: studio.last_preview_ms is not None)
        latencies.append(studio.last_preview_ms or 0.0)
    return latencies


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="stylerec-timings-"))
    app = create_application([sys.argv[0]])
    build_small_catalog(work / "catalog", 40, 8).close()
    runner, thumbnails = JobRunner(), ThumbnailLoader()
    window = MainWindow(runner, thumbnails, QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1400, 900)
    window.show()
    window.open_catalog(work / "catalog")
    spin(app, runner.is_idle)
    catalog = window.catalog()
    assert catalog is not None

    index_job: list[int | None] = []
    stalls(app, "indexing 40 images", lambda: index_job.append(window.indexer.start()),
           lambda: index_job[0] is not None and runner.job(index_job[0]).state.finished)  # fmt: skip
    customer = max(catalog.customers(), key=lambda c: c.event_count).customer_id
    window.customers_panel.choose(customer)
    panel = window.recommendations_panel
    spin(app, lambda: not panel.busy and panel.model.rowCount() > 0)
    window.catalog_panel.select_product(window.catalog_panel.model.product_id(0))
    spin(app, lambda: window.studio_panel.last_preview_ms is not None)
    window.studio_panel.size_box.setValue(1024)
    renders: list[int] = []
    stalls(app, "a 1024 px render", lambda: renders.extend(window.studio_panel.render()),
           lambda: bool(renders) and runner.job(renders[-1]).state.finished)  # fmt: skip
    print("preview latency, preset (ms):", [round(x) for x in preview_latencies(app, window)])
    workspace = panel.workspace()
    assert workspace is not None and workspace.taste is not None
    window.studio_panel.use_style_vector(taste_as_style(workspace.taste))
    spin(app, lambda: not window.studio_panel.busy)
    print("preview latency, customer taste (ms):", [round(x) for x in preview_latencies(app, window)])
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    window.close()
    runner.shutdown()
    thumbnails.shutdown()
    catalog.close()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
