"""The main window on the small catalog: the grid, its thumbnails, search, category filter, scrolling, detail."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from gui_helpers import SMALL_PRODUCTS
from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtGui import QPixmap
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog, ProductTile
from stylerec_desktop.gui.item_models import ProductIdRole, SkuRole, TileRole
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.panels.catalog import CatalogPanel


def _visible_rows(panel: CatalogPanel) -> list[int]:
    viewport = panel.grid.viewport().rect()
    model = panel.model
    return [row for row in range(model.rowCount()) if panel.grid.visualRect(model.index(row)).intersects(viewport)]


def _thumbnails_shown(panel: CatalogPanel, rows: list[int]) -> bool:
    for row in rows:
        tile = panel.model.tile(row)
        if tile is None or not panel.model.thumbnail_ready(tile):
            return False
    return True


def test_the_grid_shows_every_product_and_their_thumbnails_arrive(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.catalog_panel
    catalog = window.catalog()
    assert catalog is not None
    assert panel.model.ids() == catalog.search_product_ids()
    assert panel.count_label.text() == f"{SMALL_PRODUCTS} products"
    visible = _visible_rows(panel)
    assert len(visible) >= 6  # a real grid: several columns and rows at 1400x900
    qtbot.waitUntil(lambda: _thumbnails_shown(panel, visible), timeout=15_000)
    placeholder = window.thumbnails.placeholder(panel.model.thumb_size).toImage()
    for row in visible:
        pixmap = panel.model.index(row).data(Qt.ItemDataRole.DecorationRole)
        assert isinstance(pixmap, QPixmap) and pixmap.toImage() != placeholder
    # Every tile shown is the product its id says.
    tiles = catalog.product_tiles(panel.model.ids())
    for row in visible:
        index = panel.model.index(row)
        assert index.data(SkuRole) == tiles[index.data(ProductIdRole)].sku


def test_search_narrows_the_grid(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.catalog_panel
    catalog = window.catalog()
    assert catalog is not None
    some = catalog.product_tiles(catalog.search_product_ids()[3:4])
    sku = next(iter(some.values())).sku
    with qtbot.waitSignal(panel.resultsShown, timeout=5000):
        qtbot.keyClicks(panel.search_edit, sku)  # typed key by key: one search after the pause, not one per key
    assert panel.model.ids() == catalog.search_product_ids(sku)
    assert 1 <= panel.result_count() < SMALL_PRODUCTS
    assert panel.model.index(0).data(TileRole) is None or panel.model.index(0).data(SkuRole).startswith(sku)

    with qtbot.waitSignal(panel.resultsShown, timeout=5000):
        qtbot.keyClicks(panel.search_edit, " no-such-word-anywhere")
    assert panel.result_count() == 0
    assert panel.empty_label.isVisible() and "No products match" in panel.empty_label.text()

    with qtbot.waitSignal(panel.resultsShown, timeout=5000):
        panel.search_edit.clear()
    assert panel.result_count() == SMALL_PRODUCTS and panel.grid.isVisible()


def test_the_category_filter_narrows_the_grid_and_shows_counts(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.catalog_panel
    catalog = window.catalog()
    assert catalog is not None
    categories = catalog.categories()
    assert panel.category_combo.count() == len(categories) + 1
    assert panel.category_combo.itemText(0) == f"All categories ({SMALL_PRODUCTS})"
    name, count = categories[1]
    assert panel.category_combo.itemText(2) == f"{name} ({count})"
    with qtbot.waitSignal(panel.resultsShown, timeout=5000):
        panel.set_category(name)
    assert panel.model.ids() == catalog.search_product_ids("", name)
    assert panel.result_count() == count < SMALL_PRODUCTS
    qtbot.waitUntil(lambda: all(panel.model.tile(row) is not None for row in range(count)), timeout=5000)
    assert {panel.model.tile(row).category for row in range(count)} == {name}


def test_scrolling_to_the_bottom_shows_the_last_products(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.catalog_panel
    panel.grid.scrollToBottom()
    last = panel.result_count() - 1
    qtbot.waitUntil(lambda: last in _visible_rows(panel), timeout=5000)
    bottom = _visible_rows(panel)
    assert 0 not in bottom
    qtbot.waitUntil(lambda: _thumbnails_shown(panel, bottom), timeout=15_000)
    assert panel.grid.verticalScrollBar().value() == panel.grid.verticalScrollBar().maximum()


def test_selecting_a_product_shows_its_details(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.catalog_panel
    catalog = window.catalog()
    assert catalog is not None
    product_id = panel.model.product_id(5)
    product = catalog.product(product_id)
    rect = panel.grid.visualRect(panel.model.index(5))
    with qtbot.waitSignal(panel.productSelected, timeout=5000) as selected:
        qtbot.mouseClick(panel.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert selected.args == [product_id]
    detail = window.detail_panel
    qtbot.waitUntil(lambda: detail.product() is not None and detail.product().id == product_id, timeout=5000)
    assert detail.sku_label.text() == product.sku
    assert detail.title_label.text() == product.title
    assert detail.category_label.text() == product.category
    assert product.primary_image is not None
    sha = product.primary_image.sha256
    qtbot.waitUntil(lambda: window.thumbnails.cached(sha, 512) is not None, timeout=10_000)
    shown = detail.image_label.pixmap()
    assert not shown.isNull() and shown.width() > 150


def test_window_layout_is_saved_to_the_test_settings_only(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    window.jobs_dock.hide()
    window.save_layout()
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    assert settings.value("window/state") is not None
    # The app's default QSettings lives in this test's own folder (see tests/conftest.py), never in ~/.config.
    default = QSettings()
    assert str(tmp_path) in default.fileName()


def test_opening_a_folder_without_a_catalog_explains_what_to_do(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    empty = tmp_path / "not-a-catalog"
    empty.mkdir()
    assert not window.open_catalog(empty)
    assert window.catalog() is None
    message = window.start_page.message.text()
    assert "There is no catalog in" in message and "stylerec" not in message  # the page's buttons, no CLI
    assert window.catalog_panel.isHidden() or not window.catalog_panel.isVisible()
    assert window.start_page.isVisible()


def test_the_grid_model_never_queries_the_catalog_on_the_gui_thread(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = window.catalog()
    assert isinstance(catalog, Catalog)
    calls: list[str] = []
    original = catalog.product_tiles

    def spy(ids: list[int]) -> dict[int, ProductTile]:
        calls.append(threading.current_thread().name)
        return original(ids)

    monkeypatch.setattr(catalog, "product_tiles", spy)
    panel = window.catalog_panel
    with qtbot.waitSignal(panel.resultsShown, timeout=5000):
        panel.refresh()
    panel.grid.scrollToBottom()
    last = panel.model.index(panel.result_count() - 1)
    qtbot.waitUntil(lambda: last.data(TileRole) is not None, timeout=5000)
    assert calls and threading.main_thread().name not in calls
    assert QModelIndex().data(TileRole) is None
