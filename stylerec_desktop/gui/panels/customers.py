"""The customer panel: pick a customer (type, arrows, Enter) and see their history, newest first.

Each event shows the product's thumbnail, a coloured badge for its kind (view, like, cart, purchase) and its
date. Clicking an event selects its product in the rest of the app.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.core.catalog import EVENT_KINDS, Catalog, Customer, HistoryItem
from stylerec_desktop.gui import theme
from stylerec_desktop.gui.catalog_changes import CatalogChange, Table
from stylerec_desktop.gui.delegates import HistoryItemDelegate
from stylerec_desktop.gui.item_models import CustomerListModel, HistoryModel, ProductIdRole
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, LatestOnly
from stylerec_desktop.gui.thumbnails import ThumbnailLoader
from stylerec_desktop.gui.widgets import ElidedLabel

SEARCH_DELAY_MS = 150
PICKER_LIMIT = 200  # customers listed per search; typing more narrows it down
HISTORY_LIMIT = 500  # newest events shown
#: The picker's sort choices: (what the user reads, the catalog's order).
SORTS = (("Name", "name"), ("Most active", "activity"), ("Last event", "recent"), ("Id", "id"))


class CustomersPanel(QWidget):
    """Emits :attr:`customerChosen` (customer id) and :attr:`historyShown` once that customer's history is
    on screen; :attr:`productSelected` when an event of the history is clicked."""

    customerChosen = Signal(str)
    historyShown = Signal(str)
    productSelected = Signal(int)

    def __init__(self, runner: JobRunner, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._catalog: Catalog | None = None
        self._customer: Customer | None = None
        self._find = LatestOnly(runner, "Find customers", self)
        self._history_read = LatestOnly(runner, "Read customer history", self)
        self._pick_when_found = False

        self.search_edit = QLineEdit(placeholderText="Find a customer: id, name or email")
        self.search_edit.setObjectName("customerSearch")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.installEventFilter(self)
        self.sort_combo = QComboBox()
        self.sort_combo.setObjectName("customerSort")
        self.sort_combo.setToolTip("Order of the customers found")
        for text, order in SORTS:
            self.sort_combo.addItem(text, order)
        self.sort_combo.currentIndexChanged.connect(self.refresh)
        self.customer_model = CustomerListModel(self)
        self.customer_list = QListView()
        self.customer_list.setObjectName("customerList")
        self.customer_list.setModel(self.customer_model)
        self.customer_list.setUniformItemSizes(True)
        self.customer_list.setAlternatingRowColors(True)
        # Hashed ids run to 64 characters: cut in the middle (both ends stay), never widening the dock.
        self.customer_list.setTextElideMode(Qt.TextElideMode.ElideRight)  # ids are cut in the middle already
        self.customer_list.setWordWrap(False)
        self.customer_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.customer_list.setMinimumHeight(3 * 2 * self.fontMetrics().height() + 24)  # three customers
        self.customer_list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy_id = QAction("Copy customer id", self.customer_list)
        copy_id.triggered.connect(self._copy_current_id)
        self.customer_list.addAction(copy_id)
        self.customer_list.activated.connect(self._on_activated)  # Enter, or a click/double-click per platform
        self.customer_list.clicked.connect(self._on_activated)

        self.header_label = QLabel()
        self.header_label.setObjectName("customerHeader")
        self.header_label.setWordWrap(True)
        self.header_label.setTextFormat(Qt.TextFormat.RichText)
        self.header_label.setContentsMargins(2, 4, 2, 0)
        # Its whole height always (name, details, the badges that wrap): the history list below gives way.
        self.header_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        # The id on a line of its own, elided in the middle; the whole id on hover and in its Copy action.
        self.id_label = ElidedLabel(copy_label="Copy customer id")
        self.id_label.setObjectName("customerIdLabel")
        self.id_label.setProperty("role", "muted")
        self.id_label.setContentsMargins(2, 0, 2, 4)
        self.history_model = HistoryModel(thumbnails, thumb_size=64, parent=self)
        self.history_list = QListView()
        self.history_list.setObjectName("historyList")
        self.history_list.setModel(self.history_model)
        self.history_list.setItemDelegate(HistoryItemDelegate(64, self.history_list))
        self.history_list.setUniformItemSizes(True)
        self.history_list.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.history_list.setMouseTracking(True)
        self.history_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.history_list.setMinimumHeight(70)
        self.history_list.clicked.connect(self._on_history_clicked)
        self.history_list.activated.connect(self._on_history_clicked)

        picker = QWidget()
        picker_layout = QVBoxLayout(picker)
        picker_layout.setContentsMargins(0, 0, 0, 0)
        picker_layout.setSpacing(6)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_edit, 1)
        search_row.addWidget(self.sort_combo)
        picker_layout.addLayout(search_row)
        picker_layout.addWidget(self.customer_list, 1)
        history = QWidget()
        history_layout = QVBoxLayout(history)
        history_layout.setContentsMargins(0, 0, 0, 0)
        history_layout.setSpacing(4)
        history_layout.addWidget(self.header_label)
        history_layout.addWidget(self.id_label)
        history_layout.addWidget(self.history_list, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(picker)
        splitter.addWidget(history)
        # The history gets the larger share: its rows are what a merchandiser reads; the picker keeps 3 rows or more.
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(splitter)

        self._debounce = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self.refresh)
        self.search_edit.textChanged.connect(self._debounce.start)
        self._show_header(None, [])

    # -- public API ----------------------------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        self._customer = None
        self._find.invalidate()
        self._history_read.invalidate()
        self.customer_model.set_customers([])
        self.history_model.set_items([])
        self._show_header(None, [])
        self.refresh()

    def catalog_changed(self, change: CatalogChange) -> None:
        """Customers or their events changed, or products were imported (the history's rows show their titles):
        the list and the history shown are read again. An edit of known products leaves them be."""
        if change.touches(Table.CUSTOMERS, Table.EVENTS) or (
            change.touches(Table.PRODUCTS) and change.product_ids is None
        ):
            self.reload()

    def reload(self) -> None:
        """Search again and re-read the shown history (after an import)."""
        self.refresh()
        if self._customer is not None:
            self.choose(self._customer.customer_id)

    def refresh(self) -> None:
        """Run the picker's search now."""
        self._debounce.stop()
        if self._catalog is None:
            return
        catalog, text = self._catalog, self.search_edit.text().strip()
        order = self.sort_combo.currentData()
        self._find.run(lambda: catalog.customers(text, limit=PICKER_LIMIT, order=order), self._show_customers)

    def choose(self, customer_id: str) -> None:
        """Show ``customer_id``'s history (read in the background)."""
        if self._catalog is None:
            return
        catalog = self._catalog

        def read() -> tuple[Customer, list[HistoryItem]]:
            return catalog.customer(customer_id), catalog.customer_history(customer_id, limit=HISTORY_LIMIT)

        self.customerChosen.emit(customer_id)
        for row in range(self.customer_model.rowCount()):
            if self.customer_model.customer(row).customer_id == customer_id:
                self.customer_list.setCurrentIndex(self.customer_model.index(row))
                break
        self._history_read.run(read, self._show_history, self._failed)

    def customer(self) -> Customer | None:
        return self._customer

    # -- keyboard: the search box drives the list ----------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search_edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                self._move_current(key)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._choose_from_search()
                return True
        return super().eventFilter(watched, event)

    def _move_current(self, key: int) -> None:
        rows = self.customer_model.rowCount()
        if not rows:
            return
        current = self.customer_list.currentIndex().row()
        steps: dict[int, int] = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 10, Qt.Key.Key_PageUp: -10}
        step = steps[key]
        row = 0 if current < 0 else min(rows - 1, max(0, current + step))
        self.customer_list.setCurrentIndex(self.customer_model.index(row))

    def _choose_from_search(self) -> None:
        if self._debounce.isActive() or self._find.busy:
            # Enter pressed before the answer to what was typed arrived: pick when it does.
            self._pick_when_found = True
            if self._debounce.isActive():
                self.refresh()
            return
        index = self.customer_list.currentIndex()
        if not index.isValid() and self.customer_model.rowCount():
            index = self.customer_model.index(0)
            self.customer_list.setCurrentIndex(index)
        self._on_activated(index)

    # -- slots ---------------------------------------------------------------------------------------------

    def _show_customers(self, customers: list[Customer]) -> None:
        self.customer_model.set_customers(customers)
        # Only the customer shown is highlighted: none while the panel still says "Pick a customer".
        chosen = self._customer.customer_id if self._customer is not None else None
        row = next((i for i, c in enumerate(customers) if c.customer_id == chosen), None)
        if row is not None:
            self.customer_list.setCurrentIndex(self.customer_model.index(row))
        if self._pick_when_found:
            self._pick_when_found = False
            if customers:
                self._on_activated(self.customer_model.index(0))

    def _on_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.choose(self.customer_model.customer(index.row()).customer_id)

    def _show_history(self, answer: tuple[Customer, list[HistoryItem]]) -> None:
        customer, items = answer
        self._customer = customer
        self.history_model.set_items(items)
        self._show_header(customer, items)
        self.historyShown.emit(customer.customer_id)

    def _copy_current_id(self) -> None:
        index = self.customer_list.currentIndex()
        if index.isValid():
            QGuiApplication.clipboard().setText(self.customer_model.customer(index.row()).customer_id)

    def _failed(self, info: JobInfo) -> None:
        theme.set_rich_text(self.header_label, theme.danger(info.error))

    def _on_history_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.productSelected.emit(index.data(ProductIdRole))

    def _show_header(self, customer: Customer | None, items: list[HistoryItem]) -> None:
        if customer is None:
            theme.set_rich_text(self.header_label, theme.muted("Pick a customer to see their history."))
            self.id_label.set_full_text("")
            self.id_label.hide()
            return
        self.id_label.set_full_text(customer.customer_id)
        self.id_label.show()
        counts = Counter(item.kind for item in items)
        joined = f"joined {customer.joined}" if customer.joined else ""
        details = " · ".join(part for part in (customer.country, joined) if part)
        shown = f" (newest {len(items)} shown)" if customer.event_count > len(items) else ""

        def header(c: theme.Colours) -> str:
            badges = " ".join(
                f"<span style='color:{c.events[kind].name()}; font-weight:600'>"
                f"{counts[kind]} {kind}{'s' if counts[kind] != 1 else ''}</span>"
                for kind in EVENT_KINDS
                if counts[kind]
            )
            muted = c.muted_text.name()
            return (
                f"<div style='font-size:15px; font-weight:600'>{_escape(_short(customer.name or 'No name'))}</div>"
                + (f"<div style='color:{muted}'>{_escape(details)}</div>" if details else "")
                + (f"<div style='color:{muted}'>{_escape(_short(customer.email))}</div>" if customer.email else "")
                + f"<div style='margin-top:3px'>{badges or 'No events yet.'}{shown}</div>"
            )

        theme.set_rich_text(self.header_label, header)


def _short(text: str, limit: int = 48) -> str:
    """At most ``limit`` characters, cut in the middle: a rich-text header cannot elide, and an unbroken name or
    email would widen the dock."""
    return text if len(text) <= limit else f"{text[: limit // 2 - 1]}…{text[-(limit // 2 - 1):]}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


if __name__ == "__main__":
    from stylerec_desktop.gui.panels._standalone import run_panel

    def _build(catalog: Catalog, runner: JobRunner, thumbnails: ThumbnailLoader) -> QWidget:
        panel = CustomersPanel(runner, thumbnails)
        panel.set_catalog(catalog)
        panel.productSelected.connect(lambda product_id: print("productSelected", product_id))
        return panel

    raise SystemExit(run_panel("Customers", _build, size=(400, 760)))
