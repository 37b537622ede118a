"""``stylerec-desktop --self-test`` and ``stylerec self-test``: the whole app, end to end, offscreen, in a temp folder.

Order: the weights' checksums, a fresh small demo catalog, its style index, recommendations for one customer, the
main window opened on that catalog (a screenshot that is not blank), one Studio preview per style engine whose
weights are installed (driven through the Studio's own controls and preview job), one export. One line per check
(see ``core/selftest.py``); exit code 0 only when every check passed.

The settings the window reads and writes go to an ini file in the temp folder, never the user's.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from stylerec_desktop.core import selftest
from stylerec_desktop.core.catalog import Catalog, Product
from stylerec_desktop.core.selftest import CheckFailed, SelfTest

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

    from stylerec_desktop.gui.jobs import JobRunner
    from stylerec_desktop.gui.main_window import MainWindow
    from stylerec_desktop.gui.thumbnails import ThumbnailLoader

WINDOW_TIMEOUT_S = 60.0
PREVIEW_TIMEOUT_S = 120.0
MIN_THUMBNAILS = 6  # the grid shows at least this many of the demo's products in a 1280x800 window


def _wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Run the Qt event loop until ``condition()`` holds or ``timeout_s`` passes; True when it held."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def _distinct_colours(image: QImage, step: int = 7) -> int:
    """How many distinct colours a sparse grid of ``image``'s pixels holds: a blank window has ~1."""
    seen = {image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)}
    return len(seen)


class _WindowChecks:
    """The checks that need the main window; holds it and its services so :meth:`close` can shut them down."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.window: MainWindow | None = None
        self.runner: JobRunner | None = None
        self.thumbnails: ThumbnailLoader | None = None

    def open(self, catalog_folder: Path) -> tuple[bool, str]:
        from PySide6.QtCore import QSettings

        from stylerec_desktop.gui.app import create_application
        from stylerec_desktop.gui.jobs import JobRunner
        from stylerec_desktop.gui.main_window import MainWindow
        from stylerec_desktop.gui.thumbnails import ThumbnailLoader

        create_application([sys.argv[0]])
        self.runner = runner = JobRunner()
        self.thumbnails = thumbnails = ThumbnailLoader()
        settings = QSettings(str(self.folder / "settings.ini"), QSettings.Format.IniFormat)
        self.window = window = MainWindow(runner, thumbnails, settings)
        window.resize(1280, 800)
        window.show()
        ready: list[str] = []
        thumbnails.thumbnailReady.connect(ready.append)
        if not window.open_catalog(catalog_folder):
            raise CheckFailed(f"the window did not open the catalog in {catalog_folder}")
        if not _wait_until(lambda: window.catalog_panel.result_count() == selftest.DEMO_PRODUCTS and runner.is_idle(),
                           WINDOW_TIMEOUT_S):  # fmt: skip
            raise CheckFailed(f"the catalog grid shows {window.catalog_panel.result_count()} of "
                              f"{selftest.DEMO_PRODUCTS} products after {WINDOW_TIMEOUT_S:.0f} s")  # fmt: skip
        # The grid's thumbnails are JPEGs decoded by Qt: a bundle without Qt's JPEG plugin shows only placeholders.
        if not _wait_until(lambda: len(ready) >= MIN_THUMBNAILS and thumbnails.pending() == 0, WINDOW_TIMEOUT_S):
            raise CheckFailed(f"{len(ready)} thumbnails after {WINDOW_TIMEOUT_S:.0f} s")
        self._check_qt_reads_thumbnails(catalog_folder)
        shot = window.grab().toImage()
        path = self.folder / "window.png"
        shot.save(str(path))
        colours = _distinct_colours(shot)
        if colours < 20:
            raise CheckFailed(f"the window's screenshot is nearly blank ({colours} colours)")
        return True, (f"{shot.width()}x{shot.height()} screenshot, {colours} colours, {len(ready)} thumbnails, "
                      f"{selftest.DEMO_PRODUCTS} products")  # fmt: skip

    @staticmethod
    def _check_qt_reads_thumbnails(catalog_folder: Path) -> None:
        from stylerec_desktop.gui.thumbnails import read_scaled

        with Catalog.open(catalog_folder) as catalog:
            thumbs = sorted(catalog.thumbnails_dir.rglob("*.jpg"))
        if not thumbs:
            raise CheckFailed("no thumbnail files in the catalog's thumbnails folder")
        if read_scaled(thumbs[0], 64).isNull():
            raise CheckFailed(f"Qt cannot decode the JPEG thumbnail {thumbs[0].name} (its imageformats plugin?)")

    def studio_preview(self, engine: str, product_id: int, style_sku: str) -> tuple[None, str]:
        """One Studio preview with ``engine``: the content is ``product_id``, the style ``style_sku``'s image (the
        preset engine: built-in preset 7)."""
        from stylerec_desktop.gui.panels.studio import ENGINES, SOURCES

        assert self.window is not None and self.runner is not None
        studio = self.window.studio_panel
        if not studio.contents() or studio.contents()[0].product_id != product_id:
            studio.set_products([product_id])
            if not _wait_until(lambda: bool(studio.contents()), WINDOW_TIMEOUT_S):
                raise CheckFailed("the Studio did not take the product as its content")
        shown: list[float] = []
        studio.previewShown.connect(shown.append)
        try:
            studio.source_combo.setCurrentIndex(SOURCES.index("Preset blend" if engine == "preset" else "Product"))
            studio.style_sku.setText(style_sku)
            studio.engine_combo.setCurrentIndex([name for _text, name in ENGINES].index(engine))
            _wait_until(self.runner.is_idle, WINDOW_TIMEOUT_S)  # a preview the control changes started
            shown.clear()
            studio.refresh_preview()
            if not _wait_until(lambda: bool(shown), PREVIEW_TIMEOUT_S):
                raise CheckFailed(f"no preview after {PREVIEW_TIMEOUT_S:.0f} s: {studio.status_label.text()}")
        finally:
            studio.previewShown.disconnect(shown.append)
        pixmap = studio.preview_label.pixmap()
        if pixmap is None or pixmap.isNull():
            raise CheckFailed("the preview is empty")
        image = pixmap.toImage()
        image.save(str(self.folder / f"preview-{engine}.png"))
        return None, f"{image.width()}x{image.height()} in {shown[-1]:.0f} ms, {_distinct_colours(image, 3)} colours"

    def close(self) -> None:
        """Stop the workers, close the window's catalog and the window (again: a no-op)."""
        window, self.window = self.window, None
        catalog = window.catalog() if window is not None else None
        if window is not None:
            window.hide()
        if self.runner is not None:
            self.runner.shutdown(30_000)
            self.runner = None
        if self.thumbnails is not None:
            self.thumbnails.shutdown(10_000)
            self.thumbnails = None
        if catalog is not None:
            catalog.close()
        if window is not None:
            window.deleteLater()


def run_self_test(out: TextIO = sys.stdout, keep: Path | None = None) -> int:
    """Run every check and print the report to ``out``; returns the exit code (0: all passed, 1: a check failed).

    ``keep``: do the work in this folder and leave it there (screenshots, previews, the export) instead of a temp
    folder that is removed afterwards.
    """
    # Offscreen unless the caller chose a platform: the self-test runs on servers and in CI with no screen.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(f"StyleRec Desktop self-test ({_version_line()})", file=out, flush=True)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        return _run_in(keep, out)
    with tempfile.TemporaryDirectory(prefix="stylerec-self-test-") as folder:
        return _run_in(Path(folder), out)


def _version_line() -> str:
    from stylerec_desktop import __version__
    from stylerec_desktop.core.about import build_info

    info = build_info()
    return f"version {__version__}, build {info.commit}"


def _run_in(folder: Path, out: TextIO) -> int:
    test = SelfTest(out)
    test.run("weights checksums", selftest.check_weights)
    made = test.run("demo catalog", lambda: selftest.check_demo(folder / "catalog"))
    if made is None:
        return _finish(test, out)
    demo: Catalog = made
    window = _WindowChecks(folder)
    try:
        try:
            test.run("style index", lambda: selftest.check_index(demo))
            skus = test.run("recommendations", lambda: selftest.check_recommend(demo))
            content, style = demo.products(limit=2)[:2]
        finally:
            demo.close()  # the window opens it itself; one writer at a time
        opened = test.run("main window", lambda: window.open(folder / "catalog"))
        engines = test.run("style engines", selftest.check_engines) or []
        for engine, missing in engines:
            name = f"preview: {engine}"
            if missing is not None:
                test.skip(name, missing)
            elif engine == "gatys" or not opened:
                # Gatys has no live preview in the Studio (minutes on a CPU), and without a window there is no
                # Studio: a small render through the core then.
                test.run(name, _core_preview(engine, content, style))
            else:
                test.run(name, _studio_preview(window, engine, content.id, style.sku))
        window.close()  # before the export opens the catalog: one writer at a time
        reopened = Catalog.open(folder / "catalog")
        try:
            sku = skus[0] if skus else content.sku
            test.run("export", lambda: selftest.check_export(reopened, sku, folder / "export"))
        finally:
            reopened.close()
    finally:
        window.close()
    return _finish(test, out)


def _core_preview(engine: str, content: Product, style: Product) -> Callable[[], tuple[None, str]]:
    def check() -> tuple[None, str]:
        if content.primary_image is None or style.primary_image is None:
            raise CheckFailed("the demo's products have no pictures")
        return selftest.check_core_preview(engine, content.primary_image.path, style.primary_image.path)

    return check


def _studio_preview(
    window: _WindowChecks, engine: str, content_id: int, style_sku: str
) -> Callable[[], tuple[None, str]]:
    return lambda: window.studio_preview(engine, content_id, style_sku)


def _finish(test: SelfTest, out: TextIO) -> int:
    print(test.summary(), file=out, flush=True)
    return 0 if test.passed else 1
