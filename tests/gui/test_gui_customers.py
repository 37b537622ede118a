"""The customer picker and the chosen customer's history."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from stylerec_desktop.gui import theme
from stylerec_desktop.gui.item_models import EventKindRole, ProductIdRole, TimestampRole, format_date
from stylerec_desktop.gui.main_window import MainWindow


def _wait_customers_listed(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.customers_panel.customer_model.rowCount() > 0, timeout=5000)


def test_typing_a_customer_and_pressing_enter_shows_their_history(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.customers_panel
    catalog = window.catalog()
    assert catalog is not None
    _wait_customers_listed(qtbot, window)
    customer = max(catalog.customers(), key=lambda c: c.event_count)
    history = catalog.customer_history(customer.customer_id)
    assert history, "the test catalog gives every customer some events"

    panel.search_edit.setFocus()
    with qtbot.waitSignal(panel.historyShown, timeout=5000) as shown:
        qtbot.keyClicks(panel.search_edit, customer.customer_id)
        qtbot.keyClick(panel.search_edit, Qt.Key.Key_Return)  # before the search ran: picked when it answers
    assert shown.args == [customer.customer_id]
    assert panel.customer() is not None and panel.customer().customer_id == customer.customer_id

    model = panel.history_model
    assert model.rowCount() == len(history)
    kinds = [model.index(row).data(EventKindRole) for row in range(model.rowCount())]
    times = [model.index(row).data(TimestampRole) for row in range(model.rowCount())]
    assert kinds == [item.kind for item in history]
    assert times == [item.ts for item in history]
    assert times == sorted(times, reverse=True)  # newest first
    assert [model.index(row).data(ProductIdRole) for row in range(model.rowCount())] == [
        item.product_id for item in history
    ]
    assert format_date(history[0].ts) in model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    header = panel.header_label.text()
    assert panel.id_label.full_text() == customer.customer_id
    for kind in {item.kind for item in history}:
        count = sum(item.kind == kind for item in history)
        assert f"{count} {kind}" in header

    # The badge of the newest event is painted in its kind's colour.
    qtbot.waitUntil(lambda: window.thumbnails.pending() == 0, timeout=10_000)
    image = panel.history_list.viewport().grab().toImage()
    wanted = theme.EVENT_COLOURS[history[0].kind]
    row_rect = panel.history_list.visualRect(model.index(0))
    found = any(
        _close(QColor(image.pixel(x, y)), wanted)
        for x in range(row_rect.left(), row_rect.right(), 2)
        for y in range(row_rect.top(), row_rect.bottom(), 2)
    )
    assert found, f"no {history[0].kind} badge colour in the first history row"


def _close(a: QColor, b: QColor, tolerance: int = 12) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) <= tolerance


def test_arrow_keys_move_through_the_picker_and_enter_chooses(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.customers_panel
    catalog = window.catalog()
    assert catalog is not None
    _wait_customers_listed(qtbot, window)
    everyone = catalog.customers(order="name")  # the picker's first order
    # Nobody is highlighted while the panel says "Pick a customer"; the first Down lands on the first row.
    assert not panel.customer_list.currentIndex().isValid()
    panel.search_edit.setFocus()
    for _ in range(3):
        qtbot.keyClick(panel.search_edit, Qt.Key.Key_Down)
    assert panel.customer_list.currentIndex().row() == 2
    qtbot.keyClick(panel.search_edit, Qt.Key.Key_Up)
    with qtbot.waitSignal(panel.historyShown, timeout=5000) as shown:
        qtbot.keyClick(panel.search_edit, Qt.Key.Key_Enter)
    assert shown.args == [everyone[1].customer_id]


def test_clicking_an_event_shows_its_product(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.customers_panel
    catalog = window.catalog()
    assert catalog is not None
    _wait_customers_listed(qtbot, window)
    customer = max(catalog.customers(), key=lambda c: c.event_count)
    with qtbot.waitSignal(panel.historyShown, timeout=5000):
        panel.choose(customer.customer_id)
    item = catalog.customer_history(customer.customer_id)[0]
    rect = panel.history_list.visualRect(panel.history_model.index(0))
    qtbot.mouseClick(panel.history_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    detail = window.detail_panel
    qtbot.waitUntil(lambda: detail.product() is not None and detail.product().id == item.product_id, timeout=5000)
    assert window.catalog_panel.selected_product() == item.product_id


def test_an_unknown_customer_search_lists_nobody(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.customers_panel
    _wait_customers_listed(qtbot, window)
    qtbot.keyClicks(panel.search_edit, "nobody-by-this-name")
    qtbot.waitUntil(lambda: panel.customer_model.rowCount() == 0, timeout=5000)
    qtbot.keyClick(panel.search_edit, Qt.Key.Key_Return)
    qtbot.wait(50)
    assert panel.customer() is None


def _listed(window: MainWindow) -> list[str]:
    model = window.customers_panel.customer_model
    return [model.customer(row).customer_id for row in range(model.rowCount())]


def test_customers_sort_by_name_activity_and_last_event(qtbot: QtBot, window: MainWindow) -> None:
    panel, catalog = window.customers_panel, window.catalog()
    assert catalog is not None
    _wait_customers_listed(qtbot, window)
    for text, order in (("Most active", "activity"), ("Last event", "recent"), ("Name", "name")):
        panel.sort_combo.setCurrentIndex(panel.sort_combo.findText(text))
        wanted = [c.customer_id for c in catalog.customers(order=order)]
        qtbot.waitUntil(lambda wanted=wanted: _listed(window) == wanted, timeout=5000)
    counts = [c.event_count for c in catalog.customers(order="activity")]
    assert counts == sorted(counts, reverse=True) and len(set(counts)) > 1  # the order is one a user can see


def test_a_long_customer_id_is_cut_in_the_middle_and_copied_whole(qtbot: QtBot, window: MainWindow) -> None:
    from PySide6.QtGui import QGuiApplication

    from stylerec_desktop.core.catalog import CustomerRecord

    catalog = window.catalog()
    assert catalog is not None
    long_id = "f3" + "0123456789abcdef" * 3 + "9e7d5c3b1a2468ac"  # 66 characters, as a hashed export gives
    catalog.upsert_customers([CustomerRecord(long_id, "Hashed Person")])
    panel = window.customers_panel
    panel.reload()
    qtbot.waitUntil(lambda: long_id in _listed(window), timeout=5000)
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() == 1280, timeout=5000)  # the docks settle at the new size
    dock_width = window.customers_dock.width()
    with qtbot.waitSignal(panel.historyShown, timeout=5000):
        panel.choose(long_id)
    qtbot.wait(50)
    assert window.customers_dock.width() == dock_width and window.width() == 1280  # nothing widened
    shown = panel.id_label.text()
    assert shown != long_id and shown.startswith("f3012") and shown.endswith("68ac") and "…" in shown
    assert panel.id_label.toolTip() == long_id
    panel.id_label.actions()[0].trigger()  # its context menu's "Copy customer id"
    assert QGuiApplication.clipboard().text() == long_id
