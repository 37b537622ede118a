"""Editing a product in the product panel, and Edit ▸ Undo / Redo: the catalog on disk, the grid and the panel."""

from __future__ import annotations

import shutil
from pathlib import Path

from gui_helpers import wait_idle
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog, Product
from stylerec_desktop.gui.item_models import PriceTextRole, TitleRole
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.panels.product_detail import ProductDetailPanel


def _on_disk(window: MainWindow, product_id: int) -> Product:
    """The product as a fresh connection reads it: what was really written."""
    catalog = window.catalog()
    assert catalog is not None
    with Catalog.open(catalog.folder) as fresh:
        return fresh.product(product_id)


def _show_first_product(qtbot: QtBot, window: MainWindow) -> Product:
    product_id = window.catalog_panel.model.product_id(0)
    assert window.catalog_panel.select_product(product_id)
    panel = window.detail_panel
    qtbot.waitUntil(lambda: panel.product() is not None and panel.product().id == product_id, timeout=5_000)
    product = panel.product()
    assert product is not None
    return product


def _type_and_save(panel: ProductDetailPanel, **texts: str) -> None:
    panel.edit_button.click()
    assert panel.is_editing()
    for name, text in texts.items():
        getattr(panel.editor, f"{name}_edit").setText(text)
    panel.editor.save_button.click()


def test_a_price_edit_is_written_and_undone_and_redone(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.detail_panel
    product = _show_first_product(qtbot, window)
    old_text = window.catalog_panel.model.index(0).data(PriceTextRole)
    assert not window.undo_action.isEnabled()

    _type_and_save(panel, price="42.50")
    assert not panel.is_editing()
    qtbot.waitUntil(lambda: _on_disk(window, product.id).price == 42.5, timeout=5_000)
    qtbot.waitUntil(lambda: panel.price_label.text() == "$42.50", timeout=5_000)
    qtbot.waitUntil(lambda: window.catalog_panel.model.index(0).data(PriceTextRole) == "$42.50", timeout=5_000)
    assert window.undo_action.isEnabled()
    assert window.undo_action.text().replace("&", "") == f"Undo Edit price of {product.sku}"
    assert _on_disk(window, product.id).title == product.title  # only the price changed

    window.undo_action.trigger()
    qtbot.waitUntil(lambda: _on_disk(window, product.id).price == product.price, timeout=5_000)
    qtbot.waitUntil(lambda: window.catalog_panel.model.index(0).data(PriceTextRole) == old_text, timeout=5_000)
    qtbot.waitUntil(lambda: panel.price_label.text() == old_text, timeout=5_000)
    assert window.redo_action.isEnabled() and not window.undo_action.isEnabled()

    window.redo_action.trigger()
    qtbot.waitUntil(lambda: _on_disk(window, product.id).price == 42.5, timeout=5_000)
    wait_idle(qtbot, window.runner)
    assert _on_disk(window, product.id) == Product(**{**product.__dict__, "price": 42.5})


def test_an_undo_pressed_before_the_write_finished_still_restores(qtbot: QtBot, window: MainWindow) -> None:
    """Both go down the one write lane in order: the undo finds the values the edit's write replaced."""
    product = _show_first_product(qtbot, window)
    _type_and_save(window.detail_panel, title="Renamed at once", stock="0", tags="sale, sale , linen")
    window.undo_action.trigger()  # no wait in between
    wait_idle(qtbot, window.runner)
    assert _on_disk(window, product.id) == product
    window.redo_action.trigger()
    wait_idle(qtbot, window.runner)
    edited = _on_disk(window, product.id)
    assert (edited.title, edited.stock, edited.in_stock) == ("Renamed at once", 0, False)
    assert edited.tags == ("sale", "linen")
    # A new title can move the product in the title order: the grid was searched again and shows it.
    qtbot.waitUntil(lambda: window.catalog_panel.model.row_of(product.id) is not None, timeout=5_000)
    row = window.catalog_panel.model.row_of(product.id)
    qtbot.waitUntil(lambda: window.catalog_panel.model.index(row).data(TitleRole) == "Renamed at once", timeout=5_000)
    qtbot.waitUntil(lambda: window.detail_panel.stock_label.text() == "Out of stock (0)", timeout=5_000)


def test_invalid_input_is_refused_with_a_message_and_writes_nothing(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.detail_panel
    product = _show_first_product(qtbot, window)
    for texts, message in (
        ({"price": "-3"}, "Price: '-3' is negative"),
        ({"price": "12.345"}, "more than 2 decimals"),
        ({"price": "12,50"}, "use a dot"),
        ({"stock": "2.5"}, "Stock: '2.5' is not a whole number"),
        ({"stock": "-1"}, "Stock: '-1' is negative"),
        ({"title": "   "}, "Title: a product needs a title"),
    ):
        _type_and_save(panel, **texts)
        assert panel.is_editing(), texts  # the form stays open, with what was typed, to be fixed
        assert message in panel.editor.message()
        assert panel.editor.error_label.isVisible()
        panel.editor.cancel_button.click()
        assert not panel.is_editing()
    wait_idle(qtbot, window.runner)
    assert window.edits.stack.count() == 0 and not window.undo_action.isEnabled()
    assert _on_disk(window, product.id) == product

    _type_and_save(panel)  # nothing changed: nothing to write or undo
    wait_idle(qtbot, window.runner)
    assert window.edits.stack.count() == 0


def test_another_catalog_starts_with_nothing_to_undo(
    qtbot: QtBot, window: MainWindow, small_catalog_source: Path, tmp_path: Path
) -> None:
    product = _show_first_product(qtbot, window)
    _type_and_save(window.detail_panel, price="1.00")
    wait_idle(qtbot, window.runner)
    assert window.undo_action.isEnabled()
    first = window.catalog()
    assert first is not None
    other = tmp_path / "other"
    shutil.copytree(small_catalog_source, other)
    assert window.open_catalog(other)
    assert window.edits.stack.count() == 0 and not window.undo_action.isEnabled()
    with Catalog.open(first.folder) as edited:
        assert edited.product(product.id).price == 1.0  # the edit itself stays


def test_a_title_edit_leaves_an_imported_three_decimal_price_alone(qtbot: QtBot, window: MainWindow) -> None:
    """Imports keep prices as the file gave them; editing another field must not round them, and undo restores
    the exact value."""
    catalog = window.catalog()
    assert catalog is not None
    product_id = window.catalog_panel.model.product_id(0)
    catalog.update_product(product_id, price=19.999)  # as an import with three decimals stores it
    product = _show_first_product(qtbot, window)
    window.detail_panel.show_product(product_id)
    qtbot.waitUntil(lambda: window.detail_panel.product().price == 19.999, timeout=5_000)  # type: ignore[union-attr]
    panel = window.detail_panel
    panel.edit_button.click()
    assert panel.editor.price_edit.text() == "19.999"
    panel.editor.title_edit.setText("Renamed tee")
    panel.editor.save_button.click()
    qtbot.waitUntil(lambda: _on_disk(window, product.id).title == "Renamed tee", timeout=5_000)
    assert _on_disk(window, product.id).price == 19.999
    assert window.undo_action.text().replace("&", "") == f"Undo Edit title of {product.sku}"
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: _on_disk(window, product.id).title == product.title, timeout=5_000)
    assert _on_disk(window, product.id).price == 19.999
    wait_idle(qtbot, window.runner)
