"""The catalog panel: search box, category filter, and the virtualised thumbnail grid of every product found.

Searching runs on the read lane (debounced while typing); the grid's model holds ids only and loads the tiles
it shows a page at a time, so the panel behaves the same with 240 products and with 100,000.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QModelIndex, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.gui.catalog_changes import CatalogChange, Table
from stylerec_desktop.gui.delegates import ProductTileDelegate
from stylerec_desktop.gui.item_models import ProductGridModel, ProductIdRole
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, LatestOnly
from stylerec_desktop.gui.thumbnails import ThumbnailLoader

SEARCH_DELAY_MS = 200  # long enough to skip the keystrokes of a word being typed, short enough to feel live
THUMB_SIZE = 160


class ProductGrid(QListView):
    """The thumbnail grid: an icon-mode list whose columns share the spare width, so the cards sit evenly
    instead of leaving a ragged gap on the right."""

    MIN_GAP = 10

    def __init__(self, delegate: ProductTileDelegate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._delegate = delegate
        delegate.setParent(self)
        self.setItemDelegate(delegate)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        tile = self._delegate.tile_size(self.font())
        # QListView wraps a cell that would touch the last pixel column: a row of cells filling the width
        # exactly would lose its last card to the next row.
        width = self.viewport().width() - 1
        columns = max(1, width // (tile.width() + self.MIN_GAP))
        cell = QSize(max(tile.width() + self.MIN_GAP, width // columns), tile.height() + self.MIN_GAP)
        if cell != self.gridSize():
            self.setGridSize(cell)  # relays out (batched): only when the column width really changes


class CatalogPanel(QWidget):
    """Browse the catalog. Emits :attr:`productSelected` with the id of the product made current."""

    productSelected = Signal(int)
    #: the ids of all selected products (several with Ctrl/Shift-click), in grid order
    selectionChanged = Signal(list)
    #: "Find similar" from a product's context menu, with its id.
    findSimilarRequested = Signal(int)
    #: "Restyle" from a product's context menu: the selected products' ids (the clicked one when it is not among
    #: them), for the studio to take as its content.
    restyleRequested = Signal(list)
    #: Emitted when a search finished and the grid shows its result (the count is in :meth:`result_count`).
    resultsShown = Signal()

    def __init__(self, runner: JobRunner, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._catalog: Catalog | None = None
        self._search = LatestOnly(runner, "Search products", self)
        self._categories_read = LatestOnly(runner, "Read categories", self)
        self._total = 0

        self.search_edit = QLineEdit(placeholderText="Search sku, title, brand or tag")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setObjectName("productSearch")
        self.category_combo = QComboBox()
        self.category_combo.setObjectName("categoryFilter")
        self.category_combo.setMinimumContentsLength(18)
        self.category_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.count_label = QLabel()
        self.count_label.setProperty("role", "muted")

        self.model = ProductGridModel(runner, thumbnails, thumb_size=THUMB_SIZE, parent=self)
        self.grid = ProductGrid(ProductTileDelegate(THUMB_SIZE))
        self.grid.setObjectName("productGrid")
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setMovement(QListView.Movement.Static)  # a catalog is sorted, not arranged by hand
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setUniformItemSizes(True)  # one sizeHint for all rows: layout of 100k rows stays cheap
        # Batched layout paints the first screen at once and lays the rest out in slices between events,
        # so opening 100,000 products (or resizing) never blocks the GUI thread for long.
        self.grid.setLayoutMode(QListView.LayoutMode.Batched)
        self.grid.setBatchSize(2000)
        self.grid.setWordWrap(False)
        self.grid.setMouseTracking(True)  # hover highlight on cards
        self.grid.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.grid.verticalScrollBar().setSingleStep(24)
        # Ctrl/Shift-click picks several products (the studio restyles them all); the current one shows in detail.
        self.grid.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.grid.setModel(self.model)
        self.grid.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.grid.customContextMenuRequested.connect(self._on_context_menu)

        self.empty_label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setProperty("role", "muted")
        self.empty_label.setWordWrap(True)

        bar = QHBoxLayout()
        bar.setSpacing(8)
        bar.addWidget(self.search_edit, 3)
        bar.addWidget(self.category_combo, 1)
        bar.addWidget(self.count_label)
        self._stack = QStackedLayout()
        self._stack.addWidget(self.grid)
        self._stack.addWidget(self.empty_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 6)
        layout.setSpacing(8)
        layout.addLayout(bar)
        layout.addLayout(self._stack, 1)

        self._debounce = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self.refresh)
        self.search_edit.textChanged.connect(self._debounce.start)
        self.search_edit.returnPressed.connect(self.refresh)  # Enter searches now, without the wait
        self.category_combo.currentIndexChanged.connect(self.refresh)
        self.grid.selectionModel().selectionChanged.connect(self._on_selection)
        self._show_message("No catalog open.")

    # -- public API ----------------------------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        self._search.invalidate()
        self._categories_read.invalidate()
        self.model.set_catalog(catalog)
        self.category_combo.blockSignals(True)
        self.category_combo.clear()
        self.category_combo.blockSignals(False)
        if catalog is None:
            self._show_message("No catalog open.")
            self.count_label.clear()
            return
        self.reload()

    def catalog_changed(self, change: CatalogChange) -> None:
        """Products changed: repaint the edited tiles in place, or search again when rows may have come, gone
        or moved (an import; an edit of a title or category, which order and filter the grid)."""
        if not change.touches(Table.PRODUCTS, Table.PRODUCT_IMAGES):
            return
        ids, fields = change.product_ids, change.product_fields
        if ids is None or fields is None or {"title", "category"} & fields or change.touches(Table.PRODUCT_IMAGES):
            self.reload()
            return
        for product_id in ids:
            self.model.refresh_product(product_id)

    def reload(self) -> None:
        """Read categories and the current search again (after an import)."""
        if self._catalog is None:
            return
        catalog = self._catalog
        self._categories_read.run(catalog.categories, self._show_categories)
        self.refresh()

    def refresh(self) -> None:
        """Run the current search now."""
        self._debounce.stop()
        if self._catalog is None:
            return
        catalog, text, category = self._catalog, self.search_edit.text().strip(), self.current_category()
        self._search.run(lambda: catalog.search_product_ids(text, category), self._show_results, self._failed)

    def current_category(self) -> str | None:
        return self.category_combo.currentData()

    def set_category(self, category: str | None) -> None:
        index = self.category_combo.findData(category)
        if index >= 0:
            self.category_combo.setCurrentIndex(index)

    def result_count(self) -> int:
        return self.model.rowCount()

    def select_product(self, product_id: int) -> bool:
        """Make ``product_id`` current if it is in the grid; False when the current search hides it."""
        row = self.model.row_of(product_id)
        if row is None:
            return False
        index = self.model.index(row)
        self.grid.setCurrentIndex(index)
        self.grid.scrollTo(index)
        return True

    def selected_product(self) -> int | None:
        index = self.grid.currentIndex()
        return index.data(ProductIdRole) if index.isValid() else None

    # -- slots ---------------------------------------------------------------------------------------------

    def _show_categories(self, categories: list[tuple[str, int]]) -> None:
        keep = self.current_category()
        total = sum(count for _, count in categories)
        self.category_combo.blockSignals(True)
        self.category_combo.clear()
        self.category_combo.addItem(f"All categories ({total:,})", None)
        for name, count in categories:
            self.category_combo.addItem(f"{name or '(none)'} ({count:,})", name)
        index = self.category_combo.findData(keep)
        self.category_combo.setCurrentIndex(max(0, index))
        self.category_combo.blockSignals(False)
        if keep is not None and index < 0:
            self.refresh()  # the category it filtered on is gone: show everything again

    def _show_results(self, ids: list[int]) -> None:
        keep = self.selected_product()
        self.model.set_ids(ids)
        count = len(ids)
        self.count_label.setText(f"{count:,} product{'s' if count != 1 else ''}")
        if count:
            self._stack.setCurrentWidget(self.grid)
            if keep is not None:
                self.select_product(keep)
        elif self.search_edit.text().strip() or self.current_category():
            self._show_message("No products match this search. Try fewer words or another category.")
        else:
            self._show_message("This catalog has no products yet.\nImport a products file with File ▸ Import.")
        self.resultsShown.emit()

    def _failed(self, info: JobInfo) -> None:
        self._show_message(f"The search failed: {info.error}")

    def _show_message(self, text: str) -> None:
        self.empty_label.setText(text)
        self._stack.setCurrentWidget(self.empty_label)

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        current = self.grid.currentIndex()
        indexes = selected.indexes()
        if current.isValid() and current in indexes:
            self.productSelected.emit(self.model.product_id(current.row()))
        elif indexes:
            self.productSelected.emit(self.model.product_id(indexes[0].row()))
        self.selectionChanged.emit(self.selected_ids())

    def selected_ids(self) -> list[int]:
        """The selected products' ids, in grid order."""
        rows = sorted(index.row() for index in self.grid.selectionModel().selectedIndexes())
        return [self.model.product_id(row) for row in rows]

    def current_index(self) -> QModelIndex:
        return self.grid.currentIndex()

    def context_menu(self, index: QModelIndex) -> QMenu | None:
        """The menu of the product at ``index`` (None off the cards)."""
        product_id = index.data(ProductIdRole) if index.isValid() else None
        if product_id is None:
            return None
        menu = QMenu(self)
        find = menu.addAction("Find similar")
        find.triggered.connect(lambda: self.findSimilarRequested.emit(product_id))
        selected = self.selected_ids()
        ids = selected if product_id in selected else [product_id]
        restyle = menu.addAction("Restyle" if len(ids) == 1 else f"Restyle {len(ids)} products")
        restyle.triggered.connect(lambda: self.restyleRequested.emit(ids))
        return menu

    def _on_context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu(self.grid.indexAt(pos))
        if menu is not None:
            menu.exec(self.grid.viewport().mapToGlobal(pos))
            menu.deleteLater()


if __name__ == "__main__":
    from stylerec_desktop.gui.panels._standalone import run_panel

    def _build(catalog: Catalog, runner: JobRunner, thumbnails: ThumbnailLoader) -> QWidget:
        panel = CatalogPanel(runner, thumbnails)
        panel.set_catalog(catalog)
        panel.productSelected.connect(lambda product_id: print("productSelected", product_id))
        return panel

    raise SystemExit(run_panel("Catalog", _build, size=(1000, 760)))
