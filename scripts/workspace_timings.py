"""Timings of the merchandiser's workspace: ``python scripts/workspace_timings.py [--products N] [--explain]``.

Runs offscreen on a fresh demo catalog (``--products`` products, default the full demo's 240, and 48 customers)
through the real main window and prints

- the GUI thread's stalls (a 5 ms timer's lateness: p99 and max) while the app indexes the catalog's styles, while
  it renders a 1024 px variant in the studio, and while it exports every product in two ad presets;
- the studio's preview latency (control change to picture on screen, 256 px) for five strength values with a preset
  and with a customer's taste (arbitrary engine);
- the process's resident memory with the catalog open after the render job, and its peak.

``--explain`` samples the GUI thread's Python stack every 5 ms from another thread and prints where it was during
each stall over 50 ms (a stall with the GUI thread in no Python frame of ours is time spent waiting for the GIL or
a core).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "gui"))

import numpy as np  # noqa: E402
from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import stylerec_desktop.gui  # noqa: E402, F401 - Qt binding work-arounds
from stylerec_desktop.core.demo import build_demo_catalog  # noqa: E402
from stylerec_desktop.core.export.items import product_items_by_id  # noqa: E402
from stylerec_desktop.core.export.job import ExportOptions, export_job  # noqa: E402
from stylerec_desktop.core.export.presets import BUILTIN_PRESETS  # noqa: E402
from stylerec_desktop.core.jobs import run_job  # noqa: E402
from stylerec_desktop.core.recommend.service import taste_as_style  # noqa: E402
from stylerec_desktop.gui.app import _load_style_modules as load_style_modules
from stylerec_desktop.gui.app import create_application  # noqa: E402
from stylerec_desktop.gui.jobs import JobHandle, JobRunner, Lane  # noqa: E402
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


class StackSampler:
    """Samples the GUI thread's stack every 5 ms; :meth:`during` returns the stacks seen within a time window."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, str]] = []
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stack-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            frame = sys._current_frames().get(self._main)
            if frame is None:
                continue
            summary = traceback.extract_stack(frame)
            ours = [f for f in summary if "stylerec_desktop" in f.filename or "scripts" in f.filename]
            where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(ours[-4:]))
            self.samples.append((time.perf_counter(), where))

    def during(self, start: float, end: float) -> list[str]:
        seen: dict[str, int] = {}
        for at, where in self.samples:
            if start <= at <= end:
                seen[where] = seen.get(where, 0) + 1
        return [f"{count} x {where}" for where, count in sorted(seen.items(), key=lambda kv: -kv[1])]

    def stop(self) -> None:
        self._stop.set()


SAMPLER: StackSampler | None = None


def stalls(app: QApplication, label: str, start: Callable[[], None], done: Callable[[], bool]) -> None:
    """Run ``start`` and spin until ``done``, timing a 5 ms timer; print its lateness."""
    late: list[float] = []
    last = [time.perf_counter()]
    long: list[tuple[float, float]] = []

    def tick() -> None:
        now = time.perf_counter()
        late.append((now - last[0]) * 1000 - TICK_MS)
        if late[-1] > 50:
            long.append((last[0], now))
        last[0] = now

    timer = QTimer(interval=TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    start()
    spin(app, done)
    timer.stop()
    values = np.asarray(late or [0.0])
    print(f"GUI thread during {label}: p99 {np.percentile(values, 99):.0f} ms, max {values.max():.0f} ms stall")
    if SAMPLER is not None:
        for begin, end in long:
            where = SAMPLER.during(begin, end)[:4]
            print(f"  stall of {(end - begin) * 1000:.0f} ms: " + ("; ".join(where) or "(no sample)"))


def preview_latencies(app: QApplication, window: MainWindow) -> list[float]:
    studio = window.studio_panel
    latencies = []
    for value in (90, 80, 70, 60, 50):
        studio.last_preview_ms = None
        studio.strength.setValue(value)
        spin(app, lambda: studio.last_preview_ms is not None)
        latencies.append(studio.last_preview_ms or 0.0)
    return latencies


def rss_mb() -> float:
    """The process's resident memory now (Linux), else its peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    global SAMPLER
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=240, help="demo catalog size (default: the full demo)")
    parser.add_argument("--customers", type=int, default=48)
    parser.add_argument("--explain", action="store_true", help="say where the GUI thread was during long stalls")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stylerec-timings-"))
    app = create_application([sys.argv[0]])
    run_job(build_demo_catalog(work / "catalog", n_products=args.products, n_customers=args.customers)).close()
    if args.explain:
        SAMPLER = StackSampler()
    runner, thumbnails = JobRunner(), ThumbnailLoader()
    window = MainWindow(runner, thumbnails, QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1400, 900)
    window.show()
    window.open_catalog(work / "catalog")
    # As the app does a moment after its window appears (gui.app.start): the style networks load on a worker. The
    # figures below are for a session past that; a job started before it waits for those imports, which hold
    # Python's lock (the indexing stall measured 556-621 ms without this, 23 ms with it).
    runner.submit("Load the style networks", load_style_modules, hidden=True, disposable=True)
    spin(app, runner.is_idle)
    catalog = window.catalog()
    assert catalog is not None

    index_job: list[JobHandle | None] = []
    stalls(app, f"indexing {args.products} images", lambda: index_job.append(window.indexer.start()),
           lambda: index_job[0] is not None and index_job[0].info.state.finished)  # fmt: skip
    customer = max(catalog.customers(), key=lambda c: c.event_count).customer_id
    window.customers_panel.choose(customer)
    panel = window.recommendations_panel
    spin(app, lambda: not panel.busy and panel.model.rowCount() > 0)
    window.catalog_panel.select_product(window.catalog_panel.model.product_id(0))
    window.studio_panel.use_selection()  # the Studio changes only when asked (a selection alone leaves it alone)
    spin(app, lambda: window.studio_panel.last_preview_ms is not None)
    window.studio_panel.size_box.setValue(1024)
    renders: list[JobHandle] = []
    stalls(app, "a 1024 px render", lambda: renders.extend(window.studio_panel.render()),
           lambda: bool(renders) and renders[-1].info.state.finished)  # fmt: skip
    print(f"RSS with the catalog open after the render job: {rss_mb():.0f} MB")
    print("preview latency, preset (ms):", [round(x) for x in preview_latencies(app, window)])
    workspace = panel.workspace()
    assert workspace is not None and workspace.taste is not None
    window.studio_panel.use_style_vector(taste_as_style(workspace.taste))
    spin(app, lambda: not window.studio_panel.busy)
    print("preview latency, customer taste (ms):", [round(x) for x in preview_latencies(app, window)])
    ids = window.catalog_panel.model.ids()
    presets = [BUILTIN_PRESETS["square"], BUILTIN_PRESETS["story"]]

    def export() -> object:
        items = product_items_by_id(catalog, ids)
        return (yield from export_job(items, presets, work / "export", ExportOptions()))

    exports: list[int] = []
    stalls(app, f"exporting {len(ids)} products x 2 presets",
           lambda: exports.append(runner.submit("Export", export(), lane=Lane.READ).id),
           lambda: bool(exports) and runner.job(exports[0]).state.finished)  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RSS at the end: {rss_mb():.0f} MB; peak RSS: {peak:.0f} MB")
    runner.shutdown()  # first: closing the window with jobs running would ask whether to cancel them
    window.close()
    thumbnails.shutdown()
    catalog.close()
    shutil.rmtree(work, ignore_errors=True)
    if SAMPLER is not None:
        SAMPLER.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
