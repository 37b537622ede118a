"""The main window at the screen sizes merchandisers have: ``python scripts/layout_screenshots.py --catalog PATH
--out docs/screenshots``.

Takes ``layout-WxH.png`` (and ``layout-WxH-dark.png``) of the default layout, a product and a customer picked, at
1280x720, 1366x768 and 1920x1080. ``QT_SCALE_FACTOR=2`` gives the HiDPI picture: run it again with that variable
and ``--sizes 1280x720``, and the file is named after the pixels it holds (``layout-2560x1440@2x.png``). Also
prints the window's minimum size, and any widget wider than its dock (a clipped panel), for each size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402 - the platform must be chosen before Qt loads
from PySide6.QtWidgets import QApplication, QDockWidget  # noqa: E402

import stylerec_desktop.gui  # noqa: E402, F401 - Qt binding work-arounds
from stylerec_desktop.gui import theme  # noqa: E402
from stylerec_desktop.gui.app import create_application  # noqa: E402
from stylerec_desktop.gui.jobs import JobRunner  # noqa: E402
from stylerec_desktop.gui.main_window import MainWindow  # noqa: E402
from stylerec_desktop.gui.thumbnails import ThumbnailLoader  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import _write  # noqa: E402 - the same size budget (256 colours past 300 KB)

SIZES = ("1280x720", "1366x768", "1920x1080")


def spin(app: QApplication, seconds: float, until: object = None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if callable(until) and until():
            return
        time.sleep(0.01)


def clipped(window: MainWindow) -> list[str]:
    """Docks whose panel is wider or taller than the dock shows (the panel is cut off at an edge)."""
    found = []
    for dock in window.findChildren(QDockWidget):
        panel = dock.widget()
        if dock.isVisible() and panel is not None and panel.isVisible():
            need = panel.minimumSizeHint()
            if need.width() > panel.width() + 1 or need.height() > panel.height() + 1:
                found.append(f"{dock.windowTitle()} needs {need.width()}x{need.height()}, "
                             f"has {panel.width()}x{panel.height()}")  # fmt: skip
    return found


def shoot(app: QApplication, window: MainWindow, schemes: tuple[theme.Scheme, ...], path: Path) -> None:
    """``path`` in the light theme, ``NAME-dark.png`` in the dark one (those asked for)."""
    for scheme in schemes:
        theme.apply(app, scheme)
        spin(app, 0.3)
        target = path if scheme is theme.Scheme.LIGHT else path.with_name(f"{path.stem}-dark{path.suffix}")
        _write(window.grab().toImage(), target)
    theme.apply(app, schemes[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, required=True, help="an indexed catalog (the demo, say)")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), help="window sizes WxH, in logical pixels")
    parser.add_argument("--theme", choices=("light", "dark", "both"), default="both")
    parser.add_argument("--studio", action="store_true", help="also a picture with the studio open, per size")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="stylerec-layout-"))
    app = create_application([sys.argv[0]])
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)  # never the user's own layout
    runner, thumbnails = JobRunner(), ThumbnailLoader()
    window = MainWindow(runner, thumbnails, settings)
    window.show()
    # The status bar shows the catalog's folder from the home folder: a copy under a stand-in home, so the pictures
    # name the same folder on every machine (not this checkout's).
    shown = work / "StyleRec" / "Demo catalog"
    shutil.copytree(args.catalog, shown)
    os.environ["HOME"] = str(work)
    window.open_catalog(shown)
    catalog = window.catalog()
    assert catalog is not None
    spin(app, 60, lambda: window.catalog_panel.result_count() > 0 and runner.is_idle())
    customer = catalog.customers(order="activity", limit=3)[-1]
    window.customers_panel.choose(customer.customer_id)
    spin(app, 120, lambda: window.recommendations_panel.isVisible() and runner.is_idle())
    window.catalog_panel.select_product(window.catalog_panel.model.product_id(1))
    window.detail_dock.raise_()
    schemes = {"light": (theme.Scheme.LIGHT,), "dark": (theme.Scheme.DARK,)}.get(
        args.theme, (theme.Scheme.LIGHT, theme.Scheme.DARK)
    )
    ratio = window.devicePixelRatioF()
    print(f"minimum window size: {window.minimumSizeHint().width()}x{window.minimumSizeHint().height()}")
    for size in args.sizes:
        width, height = (int(v) for v in size.split("x"))
        window.resize(width, height)
        window.reset_layout()
        # Once more: the layout before the reset (made for the previous size) may have held the window wider.
        window.resize(width, height)
        spin(app, 1.0)
        spin(app, 60, lambda: runner.is_idle() and thumbnails.pending() == 0)
        spin(app, 0.5)
        name = f"layout-{round(width * ratio)}x{round(height * ratio)}" + ("@2x" if ratio > 1 else "")
        print(f"{size} (x{ratio:g}): window {window.width()}x{window.height()}; clipped: {clipped(window) or 'none'}")
        shoot(app, window, schemes, args.out / f"{name}.png")
        if args.studio:
            # The same size with the studio open under the grid (Restyle on the product shown).
            window.restyle_products([window.catalog_panel.model.product_id(1)])
            spin(app, 60, lambda: runner.is_idle() and thumbnails.pending() == 0)
            spin(app, 1.0)
            print(f"  with the studio: clipped: {clipped(window) or 'none'}")
            shoot(app, window, schemes, args.out / f"{name}-studio.png")
    runner.shutdown()
    window.close()
    thumbnails.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
