"""Screenshots of the app for the README: ``python scripts/screenshots.py --out docs/screenshots``.

Runs offscreen (no display needed). Builds the demo catalog in a temporary folder through the app itself (so the
jobs panel shows that job), or opens ``--catalog PATH``; selects a product and a customer, waits until every
visible thumbnail has arrived, and saves ``main_window.png`` plus one picture per panel and the import error
report (``import_error.png``, from a products file with a bad row). The demo is indexed by the app after it is
built; the workspace pictures (``workspace.png``, recommendations, taste, inspector, studio) show the picked customer,
and ``similar.png`` the products similar to the product picked. Last come the settings dialog (``settings.png``: its
four tabs side by side) and the log of the run (``log.png``).

Each picture is taken in the light and the dark theme (``--theme light|dark|both``, default both), switched just
before the grab, so both show the same moment; a dark picture is saved as ``NAME-dark.png`` beside ``NAME.png``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402 - the platform must be chosen before Qt loads
from PySide6.QtGui import QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

import stylerec_desktop.gui  # noqa: E402, F401 - Qt binding work-arounds
from stylerec_desktop.core.catalog import Catalog, HistoryItem  # noqa: E402
from stylerec_desktop.gui import logbook, theme  # noqa: E402
from stylerec_desktop.gui.app import create_application  # noqa: E402
from stylerec_desktop.gui.jobs import JobRunner  # noqa: E402
from stylerec_desktop.gui.main_window import MainWindow  # noqa: E402
from stylerec_desktop.gui.thumbnails import ThumbnailLoader  # noqa: E402

SIZE = (1400, 900)
MAX_BYTES = 300_000
THEME_CHOICES = {
    "light": (theme.Scheme.LIGHT,),
    "dark": (theme.Scheme.DARK,),
    "both": (theme.Scheme.LIGHT, theme.Scheme.DARK),
}
#: The themes every picture is taken in (``--theme``), set once by :func:`main`.
_themes: tuple[theme.Scheme, ...] = THEME_CHOICES["both"]


def spin(app: QApplication, until: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def settle(app: QApplication, window: MainWindow) -> None:
    """Until no job runs and no thumbnail is pending, twice in a row (a repaint may ask for more)."""
    for _ in range(2):
        spin(
            app,
            lambda: window.runner.is_idle() and window.thumbnails.pending() == 0,
            120,
            "background work to finish",
        )
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)


def show_theme(scheme: theme.Scheme) -> None:
    """Switch the whole app to ``scheme`` and let every widget restyle and repaint."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply(app, scheme)
    end = time.monotonic() + 0.2
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def save(widget: QWidget | Callable[[], QImage], path: Path) -> None:
    """Save a grab of ``widget`` (or the image a callable makes) in each theme asked for: ``path`` for the light
    theme, ``NAME-dark.png`` beside it for the dark one. The app is left in the first theme asked for."""
    for scheme in _themes:
        show_theme(scheme)
        image = widget.grab().toImage() if isinstance(widget, QWidget) else widget()
        target = path if scheme is theme.Scheme.LIGHT else path.with_name(f"{path.stem}-dark{path.suffix}")
        _write(image, target)
    if len(_themes) > 1:
        show_theme(_themes[0])


def _write(image: QImage, path: Path) -> None:
    """Save ``image``; fall back to 256 colours when the full-colour PNG is over the size budget."""
    image.save(str(path), "PNG")
    if path.stat().st_size > MAX_BYTES:
        # 256 colours chosen for this picture, without dithering noise (which compresses badly): flat UI
        # and studio backdrops survive unchanged, and the file shrinks to a third or less.
        from PIL import Image

        with Image.open(path) as full:
            reduced = full.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        reduced.save(path, optimize=True)
    print(f"{path} ({path.stat().st_size // 1024} KB, {image.width()}x{image.height()})")


def write_bad_products(folder: Path, catalog: Catalog) -> Path:
    """A products file of three rows, the second with a price that is not a number, using a demo image."""
    image = next(image.path for product in catalog.products(limit=1) for image in product.images)
    path = folder / "new-products.csv"
    path.write_text(
        "sku,title,category,price,image\n"
        f"NEW-1,Linen Shirt,shirts,39.00,{image}\n"
        f"NEW-2,Canvas Tote,totes,twelve,{image}\n"
        f"NEW-3,Wool Scarf,scarves,-5,{image}\n",
        encoding="utf-8",
    )
    return path


def save_similar(app: QApplication, window: MainWindow, product_id: int, out: Path) -> None:
    """Find similar for ``product_id``, the weaker matches hidden; shown on its own at a working size."""
    panel = window.similar_panel
    window.find_similar(product_id)
    panel.set_threshold(0.5)
    spin(app, lambda: not panel.busy and panel.answer() is not None, 120, "the similar products")
    window.similar_dock.setFloating(True)
    window.similar_dock.resize(470, 760)
    settle(app, window)
    save(panel, out / "similar.png")
    window.similar_dock.setFloating(False)


def save_workspace(app: QApplication, window: MainWindow, out: Path) -> None:
    """The merchandiser's workspace for the customer picked: recommendations, taste, and the inspector explaining
    the first recommendation that has a driving history item."""
    panel = window.recommendations_panel
    window.recommendations_dock.raise_()
    spin(app, lambda: not panel.busy and panel.model.rowCount() > 0, 120, "the recommendations")
    workspace = panel.workspace()
    assert workspace is not None
    row = next((i for i, (_, why) in enumerate(workspace.items) if why.because), 0)
    panel.select_row(row)
    settle(app, window)
    save(window, out / "workspace.png")
    save(panel, out / "recommendations_panel.png")
    save(window.taste_panel, out / "taste_panel.png")
    # The inspector wants room: shown on its own at a working size.
    window.inspector_dock.setFloating(True)
    window.inspector_dock.resize(1000, 720)
    settle(app, window)
    window.inspector_panel.compare.fit()
    settle(app, window)
    save(window.inspector_panel, out / "inspector_panel.png")
    window.inspector_dock.setFloating(False)

    # The studio: the recommended product in the customer's taste, previewed, then one full render.
    studio = window.studio_panel
    studio.set_products([workspace.items[row][0].product_id])
    window.taste_panel.restyle_button.click()
    spin(app, lambda: not studio.busy and studio.last_preview_ms is not None, 120, "the studio preview")
    studio.size_box.setValue(768)
    jobs = studio.render()
    spin(app, lambda: all(job.info.state.finished for job in jobs), 300, "the render")
    settle(app, window)
    window.studio_dock.setFloating(True)
    window.studio_dock.resize(1200, 560)
    settle(app, window)
    save(studio, out / "studio_panel.png")
    window.studio_dock.setFloating(False)


def save_settings_and_log(app: QApplication, window: MainWindow, out: Path) -> None:
    """The settings dialog's four tabs in a 2x2 picture, and the log of everything this run did."""
    window.open_settings()
    dialog = window.settings_dialog
    assert dialog is not None
    spin(app, lambda: not dialog.busy and dialog.devices is not None, 120, "the settings dialog")


    def montage() -> QImage:
        tabs = []
        for index in range(dialog.tabs.count()):
            dialog.tabs.setCurrentIndex(index)
            settle(app, window)
            tabs.append(dialog.grab().toImage())
        gap = 12
        width, height = tabs[0].width(), tabs[0].height()
        image = QImage(2 * width + gap, 2 * height + gap, QImage.Format.Format_RGB32)
        image.fill(theme.colours().window)
        painter = QPainter(image)
        for index, tab in enumerate(tabs):
            row, column = divmod(index, 2)
            painter.drawImage(column * (width + gap), row * (height + gap), tab)
        painter.end()
        return image

    save(montage, out / "settings.png")
    dialog.reject()
    window.show_log()
    assert window.log_dialog is not None
    settle(app, window)
    save(window.log_dialog, out / "log.png")
    window.log_dialog.close()


def save_export(app: QApplication, window: MainWindow, out: Path) -> None:
    """The export dialog for three products selected in the grid, once its framing previews are shown."""
    from PySide6.QtCore import QItemSelectionModel

    from stylerec_desktop.gui.panels.export_dialog import ExportDialog

    grid, model = window.catalog_panel.grid, window.catalog_panel.model
    grid.setCurrentIndex(model.index(0))
    for row in (1, 2):
        grid.selectionModel().select(model.index(row), QItemSelectionModel.SelectionFlag.Select)
    window._export_selected()
    dialog = window.findChild(ExportDialog)
    assert dialog is not None
    spin(app, lambda: dialog.preview_count() > 0, 60, "the export previews")
    settle(app, window)
    save(dialog, out / "export_dialog.png")
    dialog.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--catalog", type=Path, default=None, help="an existing catalog (default: build the demo)")
    parser.add_argument(
        "--theme", choices=sorted(THEME_CHOICES), default="both", help="the theme(s) to take each picture in"
    )
    args = parser.parse_args(argv)
    global _themes
    _themes = THEME_CHOICES[args.theme]
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="stylerec-screenshots-"))
    # The status bar shows the catalog's folder from the home folder: a stand-in home, the same on every machine.
    os.environ["HOME"] = str(work)
    app = create_application([sys.argv[0]])
    logbook.configure_logging(work / "log")  # what the log picture shows; never the user's own log
    # Never the user's saved layout: the pictures must look the same on every machine.
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    runner, thumbnails = JobRunner(), ThumbnailLoader()
    window = MainWindow(runner, thumbnails, settings)
    window.resize(*SIZE)
    window.show()
    if args.catalog is not None:
        window.open_catalog(args.catalog)
    else:
        print(f"Building the demo catalog in {work / 'StyleRec' / 'Demo catalog'} …")
        window.build_demo(work / "StyleRec" / "Demo catalog")
    spin(app, lambda: window.catalog() is not None, 600, "the catalog")
    catalog = window.catalog()
    assert catalog is not None
    settle(app, window)

    # A failed import, so the jobs panel shows a finished and a failed job, and the report can be pictured.
    window.imports.start_import("products", write_bad_products(work, catalog), images_dir=work)
    spin(app, lambda: window.imports.last_error_dialog is not None, 60, "the import report")
    dialog = window.imports.last_error_dialog
    assert dialog is not None
    settle(app, window)
    save(dialog, args.out / "import_error.png")
    dialog.close()

    # A customer with a long history, and a product she liked that shows near the top of its category.
    customers = sorted(catalog.customers(), key=lambda c: -c.event_count)
    customer = customers[min(2, len(customers) - 1)]
    window.customers_panel.choose(customer.customer_id)
    history = sorted(
        catalog.customer_history(customer.customer_id), key=lambda item: item.kind not in ("like", "purchase")
    )
    columns = 3  # at 1400 px with both side docks open

    def place(item: HistoryItem) -> int:
        return catalog.search_product_ids("", item.category).index(item.product_id)

    liked = next((item for item in history if place(item) < 2 * columns), history[0])
    window.catalog_panel.set_category(liked.category)
    spin(app, lambda: window.catalog_panel.model.row_of(liked.product_id) is not None, 30, "the category")
    window.catalog_panel.select_product(liked.product_id)
    settle(app, window)

    save(window, args.out / "main_window.png")
    save(window.catalog_panel, args.out / "catalog_panel.png")
    save(window.customers_panel, args.out / "customers_panel.png")
    window.detail_dock.raise_()
    window.detail_dock.setFloating(True)  # on its own at a working size: the image, the fields and Edit
    window.detail_dock.resize(420, 760)
    settle(app, window)
    save(window.detail_panel, args.out / "product_panel.png")
    window.detail_dock.setFloating(False)
    save(window.jobs_panel, args.out / "jobs_panel.png")
    save_similar(app, window, liked.product_id, args.out)
    save_workspace(app, window, args.out)
    save_settings_and_log(app, window, args.out)
    save_export(app, window, args.out)
    runner.shutdown()  # first: closing the window with jobs running would ask whether to cancel them
    window.close()
    thumbnails.shutdown()
    catalog.close()
    if args.catalog is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
