"""The catalog-change notification: after each write the views that show what changed refresh themselves, with no
main window in between; and the protocol the window binds its views by."""

from __future__ import annotations

from pathlib import Path

from gui_catalogs import draw_images, write_products_csv
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.gui.catalog_changes import CatalogChange, CatalogChanges, CatalogView, CatalogWatcher, Table
from stylerec_desktop.gui.edits import ProductEdits
from stylerec_desktop.gui.imports import ImportController
from stylerec_desktop.gui.item_models import PriceTextRole
from stylerec_desktop.gui.jobs import JobRunner
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.panels.catalog import CatalogPanel
from stylerec_desktop.gui.panels.customers import CustomersPanel
from stylerec_desktop.gui.thumbnails import ThumbnailLoader

SMALL_PRODUCTS, SMALL_CUSTOMERS = 40, 8  # the small catalog of conftest


def _notifier(qtbot: QtBot, runner: JobRunner, catalog: Catalog) -> tuple[QWidget, CatalogChanges, list[CatalogChange]]:
    host = QWidget()
    qtbot.addWidget(host)
    changes = CatalogChanges(runner, host)
    changes.set_catalog(catalog)
    qtbot.waitUntil(runner.is_idle, timeout=5000)  # its baseline revisions are read
    seen: list[CatalogChange] = []
    changes.changed.connect(seen.append)
    return host, changes, seen


def test_an_import_refreshes_the_grid_and_the_customers_list_through_the_notification(
    qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], catalog: Catalog, tmp_path: Path
) -> None:
    runner, thumbnails = services
    host, changes, seen = _notifier(qtbot, runner, catalog)
    thumbnails.set_thumbnails_dir(catalog.thumbnails_dir)
    grid, customers = CatalogPanel(runner, thumbnails), CustomersPanel(runner, thumbnails)
    qtbot.addWidget(grid)
    qtbot.addWidget(customers)
    imports = ImportController(runner, host, changes)
    for view in (imports, grid, customers):
        view.set_catalog(catalog)
    for watcher in (grid, customers):
        changes.changed.connect(watcher.catalog_changed)
    qtbot.waitUntil(lambda: grid.result_count() == SMALL_PRODUCTS, timeout=10_000)
    qtbot.waitUntil(lambda: customers.customer_model.rowCount() == SMALL_CUSTOMERS, timeout=10_000)

    people = tmp_path / "new-customers.csv"
    people.write_text("customer_id,name\nNEW-1,Nora New\nNEW-2,Ned New\n", encoding="utf-8")
    with qtbot.waitSignal(changes.changed, timeout=10_000):
        imports.start_import("customers", people)
    qtbot.waitUntil(lambda: customers.customer_model.rowCount() == SMALL_CUSTOMERS + 2, timeout=10_000)
    assert seen[-1].tables == {Table.CUSTOMERS}  # told by the writer: no trigger counts customers
    assert grid.result_count() == SMALL_PRODUCTS

    images = draw_images(tmp_path / "images", 3, seed=5, size=64)
    products = write_products_csv(tmp_path / "products.csv", 5, images)
    with qtbot.waitSignal(changes.changed, timeout=10_000):
        imports.start_import("products", products, images_dir=tmp_path)
    qtbot.waitUntil(lambda: grid.result_count() == SMALL_PRODUCTS + 5, timeout=10_000)
    assert seen[-1].tables == {Table.PRODUCTS, Table.PRODUCT_IMAGES} and seen[-1].product_ids is None
    assert len(seen) == 2


def test_an_edit_and_its_undo_are_told_narrowly_and_repaint_the_tile_in_place(
    qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], catalog: Catalog
) -> None:
    runner, thumbnails = services
    _host, changes, seen = _notifier(qtbot, runner, catalog)
    thumbnails.set_thumbnails_dir(catalog.thumbnails_dir)
    grid = CatalogPanel(runner, thumbnails)
    qtbot.addWidget(grid)
    grid.set_catalog(catalog)
    changes.changed.connect(grid.catalog_changed)
    edits = ProductEdits(runner, changes)
    edits.set_catalog(catalog)
    qtbot.waitUntil(lambda: grid.result_count() == SMALL_PRODUCTS and grid.model.tile(0) is not None, timeout=10_000)
    product_id = grid.model.product_id(0)
    old_price = grid.model.index(0).data(PriceTextRole)

    with qtbot.waitSignal(changes.changed, timeout=10_000):
        edits.edit_product(product_id, {"price": 1234.5}, "Price")
    assert seen[-1] == CatalogChange(frozenset({Table.PRODUCTS}), frozenset({product_id}), frozenset({"price"}))
    qtbot.waitUntil(lambda: "1,234.50" in str(grid.model.index(0).data(PriceTextRole)), timeout=5000)
    with qtbot.waitSignal(changes.changed, timeout=10_000):
        edits.stack.undo()
    assert seen[-1].product_ids == {product_id}
    qtbot.waitUntil(lambda: grid.model.index(0).data(PriceTextRole) == old_price, timeout=5000)


def test_revisions_tell_an_undeclared_write_and_a_failed_writer_declares_nothing(
    qtbot: QtBot, runner: JobRunner, catalog: Catalog
) -> None:
    _host, changes, seen = _notifier(qtbot, runner, catalog)
    product_id = catalog.products(limit=1)[0].id

    def refuse() -> None:
        raise UserError("The file is not there.")

    changes.watch(runner.submit("Import customers (refused)", refuse), (Table.CUSTOMERS,))
    with qtbot.waitSignal(changes.changed, timeout=10_000):
        changes.watch(runner.submit("Write a price", lambda: catalog.update_product(product_id, price=3.5)))
    assert seen == [CatalogChange(frozenset({Table.PRODUCTS}), None, None)]  # any product: nobody said which


def test_the_window_binds_every_catalog_view_and_the_data_views_watch_changes(window: MainWindow) -> None:
    views = window.catalog_views
    assert all(isinstance(view, CatalogView) for view in views)
    watchers = {view for view in views if isinstance(view, CatalogWatcher)}
    expected = {window.catalog_panel, window.detail_panel, window.customers_panel, window.recommendations_panel,
                window.similar_panel, window.indexer, window.ranking_fitter, window.style_index}  # fmt: skip
    assert watchers == expected
