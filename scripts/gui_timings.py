"""The GUI's performance figures, measured the same way every time: ``python scripts/gui_timings.py``.

* app start to first window (warm): ``python -m stylerec_desktop`` in a fresh process, from spawning it to the
  main window's first paint; best and median of ``--runs`` (the first, cold run is reported apart).
* 100,000-product grid: first paint after opening the catalog (best of 3; the catalog is built once into
  ``--big PATH``, default ``bench/out/gui-100k``, about 20 s).
* event-loop stall while importing ``--import-rows`` products with images: the longest gap between ticks of a
  10 ms timer on the GUI thread while the import job runs.
* event-loop stalls in the first 6 s after start, in a fresh process: the app loads torch and the style networks
  on a worker right after the window appears (a 5 ms timer; the stalls over 50 ms are listed).

Runs offscreen. Numbers depend on the machine's other load: say which machine, and how busy, with them.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]


def scratch_dir(prefix: str) -> Path:
    """A temporary folder removed when the script ends."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


sys.path.insert(0, str(ROOT / "tests" / "gui"))  # the catalog and CSV builders the GUI tests use

# The child: time.monotonic() is system-wide on Linux, so the parent can subtract its own spawn time.
_CHILD = """
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
import stylerec_desktop.gui
app = QApplication(sys.argv[:1])

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and isinstance(watched, QMainWindow):
            print(f"FIRST_PAINT {time.monotonic():.6f}", flush=True)
            app.removeEventFilter(self)
            QTimer.singleShot(0, app.quit)  # queued: the first paint may come before the event loop runs
        return False

app.installEventFilter(FirstPaint(app))
from stylerec_desktop.gui.app import main
main(sys.argv[1:])
"""


def start_to_first_window(catalog: Path, runs: int) -> dict[str, float]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(scratch_dir("stylerec-config-"))}
    times = []
    for _ in range(runs + 1):
        spawned = time.monotonic()
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, "--catalog", str(catalog)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        painted = float(next(line.split()[1] for line in out.splitlines() if line.startswith("FIRST_PAINT")))
        times.append(painted - spawned)
    cold, warm = times[0], times[1:]
    return {
        "cold_s": round(cold, 3),
        "warm_best_s": round(min(warm), 3),
        "warm_median_s": round(statistics.median(warm), 3),
    }


def grid_first_paint(big: Path) -> dict[str, float]:
    from gui_catalogs import build_big_catalog
    from PySide6.QtCore import QPoint

    from stylerec_desktop.core.catalog import Catalog
    from stylerec_desktop.gui.app import create_application
    from stylerec_desktop.gui.jobs import JobRunner
    from stylerec_desktop.gui.panels.catalog import CatalogPanel
    from stylerec_desktop.gui.thumbnails import ThumbnailLoader

    if not Catalog.exists(big):
        print(f"building 100,000 products in {big} …", file=sys.stderr)
        build_big_catalog(big, 100_000).close()
    app = create_application([sys.argv[0]])
    catalog = Catalog.open(big)
    runner, thumbnails = JobRunner(), ThumbnailLoader(catalog.thumbnails_dir)
    panel = CatalogPanel(runner, thumbnails)
    panel.resize(1000, 800)
    panel.show()
    app.processEvents()

    def first_screen_loaded() -> bool:
        index = panel.grid.indexAt(QPoint(20, 20))
        return panel.result_count() == 100_000 and index.isValid() and panel.model.tile(index.row()) is not None

    best = float("inf")
    for _ in range(3):
        panel.set_catalog(None)
        app.processEvents()
        started = time.perf_counter()
        panel.set_catalog(catalog)
        while not first_screen_loaded():
            app.processEvents()
            time.sleep(0.002)
        panel.grid.viewport().repaint()
        best = min(best, time.perf_counter() - started)
    runner.shutdown()
    thumbnails.shutdown()
    panel.close()
    return {"first_paint_best_of_3_s": round(best, 3)}


def import_stall(rows: int) -> dict[str, float]:
    import gc

    from gui_catalogs import build_small_catalog, draw_images, write_products_csv
    from PySide6.QtCore import QSettings, QTimer

    from stylerec_desktop.gui.app import create_application
    from stylerec_desktop.gui.jobs import JobRunner
    from stylerec_desktop.gui.main_window import MainWindow
    from stylerec_desktop.gui.thumbnails import ThumbnailLoader

    work = scratch_dir("stylerec-timings-")
    app = create_application([sys.argv[0]])
    build_small_catalog(work / "catalog").close()
    images = draw_images(work / "import" / "images", 50, size=400)
    csv_path = write_products_csv(work / "import" / "products.csv", rows, images)
    runner, thumbnails = JobRunner(), ThumbnailLoader()
    window = MainWindow(runner, thumbnails, QSettings(str(work / "s.ini"), QSettings.Format.IniFormat))
    window.resize(1400, 900)
    window.show()
    window.open_catalog(work / "catalog")
    deadline = time.monotonic() + 60
    while (not runner.is_idle() or thumbnails.pending()) and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    gc.freeze()  # as main() does after start-up
    ticks: list[float] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    job_id = window.imports.start_import("products", csv_path, images_dir=csv_path.parent).id
    while not runner.job(job_id).state.finished:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    info = runner.job(job_id)
    offset = time.perf_counter() - time.time()
    inside = [t for t in ticks if info.started + offset <= t <= info.finished + offset]
    gaps = [b - a for a, b in zip(inside, inside[1:], strict=False)]
    result = {
        "rows": rows,
        "state": info.state.value,
        "import_s": round(info.finished - info.started, 2),
        "max_gap_ms": round(max(gaps) * 1000, 1),
        "p99_gap_ms": round(sorted(gaps)[int(len(gaps) * 0.99)] * 1000, 1),
    }
    runner.shutdown()  # first: closing the window with jobs running would ask whether to cancel them
    window.close()
    thumbnails.shutdown()
    return result


def after_start_child(catalog: Path) -> int:
    """In a fresh process: start the app on ``catalog`` and time a 5 ms timer for 6 s; print JSON."""
    from PySide6.QtCore import QTimer

    from stylerec_desktop.gui import app as app_module

    running = app_module.start(["--catalog", str(catalog)])
    late: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        late.append((now - last[0]) * 1000 - 5)
        last[0] = now

    timer = QTimer(interval=5)
    timer.timeout.connect(tick)
    timer.start()
    QTimer.singleShot(6000, running.app.quit)
    running.app.exec()
    running.stop()
    ordered = sorted(late)
    p99 = ordered[int(len(ordered) * 0.99)]
    print(json.dumps({"max_stall_ms": round(ordered[-1], 1), "p99_stall_ms": round(p99, 1),
                      "stalls_over_50_ms": [round(x) for x in late if x > 50],
                      "torch_loaded": "torch" in sys.modules}))  # fmt: skip
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="warm start-up runs")
    parser.add_argument("--big", type=Path, default=ROOT / "bench" / "out" / "gui-100k")
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["startup", "grid", "import", "after-start"])
    parser.add_argument("--child-after-start", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_after_start:
        return after_start_child(args.child_after_start)
    results: dict[str, object] = {"load_average_at_start": os.getloadavg()[0]}
    if "startup" not in args.skip:
        from gui_catalogs import build_small_catalog

        small = scratch_dir("stylerec-startup-") / "catalog"
        build_small_catalog(small).close()
        results["start_to_first_window"] = start_to_first_window(small, args.runs)
    if "grid" not in args.skip:
        results["grid_100k"] = grid_first_paint(args.big)
    if "import" not in args.skip:
        results["import_event_loop"] = import_stall(args.import_rows)
    if "after-start" not in args.skip:
        from gui_catalogs import build_small_catalog

        small = scratch_dir("stylerec-after-start-") / "catalog"
        build_small_catalog(small).close()
        env = {**os.environ, "XDG_CONFIG_HOME": str(small.parent)}  # settings of its own
        child = subprocess.run([sys.executable, __file__, "--child-after-start", str(small)], capture_output=True,
                               text=True, check=True, env=env)  # fmt: skip
        results["after_start_event_loop"] = json.loads(child.stdout.strip().splitlines()[-1])
    results["load_average_at_end"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
