"""What opening a catalog costs the GUI: ``python scripts/open_timings.py [--big PATH] [--indexed PATH]``.

* ``--big`` (default ``bench/out/gui-100k``, 100,000 products, built once like ``gui_timings.py`` does): the real
  main window at 1920x1080 opens it; printed are the longest and the 99th-percentile lateness of a 5 ms timer on the
  GUI thread from the call to open until every job has ended and the first screen of the grid is painted, and that
  time itself.
* ``--indexed`` (an indexed catalog, the demo say): the first and the second customer's recommendations, from the
  pick to the list on screen, with the style index loaded in the background when the catalog opens (what the app
  does) and, for comparison, without (the first pick then loads it).

Runs offscreen. The figures depend on the machine's load: give ``uptime`` with them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "gui"))  # the catalog builder the GUI tests use

from PySide6.QtCore import QPoint, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from stylerec_desktop.core.catalog import Catalog  # noqa: E402
from stylerec_desktop.gui.app import create_application  # noqa: E402
from stylerec_desktop.gui.jobs import JobRunner  # noqa: E402
from stylerec_desktop.gui.main_window import MainWindow  # noqa: E402
from stylerec_desktop.gui.thumbnails import ThumbnailLoader  # noqa: E402


class Ticks:
    """A 5 ms timer on the GUI thread; ``gaps`` are the times between its ticks (seconds)."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer(interval=5)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def stop(self) -> tuple[float, float]:
        """(max, p99) lateness in ms beyond the 5 ms interval."""
        self._timer.stop()
        gaps = sorted(self.gaps) or [0.005]
        return (gaps[-1] - 0.005) * 1000, (gaps[int(len(gaps) * 0.99)] - 0.005) * 1000


def spin(app: QApplication, until: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not until():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        app.processEvents()
        time.sleep(0.001)


def new_window(app: QApplication) -> MainWindow:
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(JobRunner(), ThumbnailLoader(), settings)
    window.resize(1920, 1080)
    window.reset_layout()
    window.show()
    app.processEvents()
    return window


def close(window: MainWindow) -> None:
    window.runner.shutdown()
    window.close()
    window.thumbnails.shutdown()


def open_big(app: QApplication, big: Path) -> None:
    if not Catalog.exists(big):
        from gui_catalogs import build_big_catalog

        print(f"building 100,000 products in {big} …", file=sys.stderr)
        build_big_catalog(big, 100_000).close()
    window = new_window(app)
    panel = window.catalog_panel

    def settled() -> bool:
        index = panel.grid.indexAt(QPoint(20, 20))
        return (window.runner.is_idle() and panel.result_count() == 100_000 and index.isValid()
                and panel.model.tile(index.row()) is not None and window.thumbnails.pending() == 0)  # fmt: skip

    ticks, started = Ticks(), time.perf_counter()
    window.open_catalog(big)
    spin(app, settled, 300)
    took = time.perf_counter() - started
    worst, p99 = ticks.stop()
    print(f"100,000 products: open to settled {took:.2f} s; GUI stall max {worst:.0f} ms, p99 {p99:.0f} ms")
    close(window)


def first_customers(app: QApplication, folder: Path, warm: bool) -> None:
    from stylerec_desktop.core.recommend.service import INDEX_CACHE

    INDEX_CACHE.clear()
    window = new_window(app)
    if not warm:
        window.style_index.start = lambda: None  # type: ignore[method-assign]
    window.open_catalog(folder)
    catalog = window.catalog()
    assert catalog is not None
    spin(app, window.runner.is_idle, 120)
    times = []
    for customer in catalog.customers(order="activity", limit=2):
        shown: list[float] = []
        window.recommendations_panel.workspaceShown.connect(lambda _w, shown=shown: shown.append(time.perf_counter()))
        started = time.perf_counter()
        window.customers_panel.choose(customer.customer_id)
        spin(app, lambda shown=shown: bool(shown), 120)
        times.append(shown[0] - started)
    what = "index loaded when the catalog opened" if warm else "no warm-up (the first pick loads the index)"
    print(f"{what}: first customer {times[0] * 1000:.0f} ms, second {times[1] * 1000:.0f} ms")
    close(window)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=Path, default=ROOT / "bench" / "out" / "gui-100k")
    parser.add_argument("--indexed", type=Path, default=None, help="an indexed catalog (the demo)")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--one", choices=("warm", "cold"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:  # one process per way: torch's import and the like are paid by each alike
        first_customers(create_application([sys.argv[0]]), args.indexed, warm=args.one == "warm")
        return 0
    print(f"load: {os.getloadavg()[0]:.1f} (1 min)")
    if not args.skip_big:
        open_big(create_application([sys.argv[0]]), args.big)
    if args.indexed is not None:
        import subprocess

        for way in ("cold", "warm", "cold", "warm"):
            subprocess.run([sys.executable, __file__, "--indexed", str(args.indexed), "--one", way], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
