"""The product detail panel: a large image, the product's fields, its tags and attributes, and all its images."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.core.catalog import Catalog, Product, ProductImage
from stylerec_desktop.gui import theme
from stylerec_desktop.gui.catalog_changes import CatalogChange, Table
from stylerec_desktop.gui.item_models import format_price
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, LatestOnly
from stylerec_desktop.gui.panels.product_editor import ProductEditForm, describe
from stylerec_desktop.gui.thumbnails import ThumbnailLoader

LARGE_SIZE = 512  # the large image is made at this size and scaled down to the panel's width
STRIP_SIZE = 64


def _value_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


EDIT_TIP = "Change the title, category, price, stock or tags (Edit ▸ Undo takes it back)"
READ_ONLY_TIP = "This catalog is read-only for you (a shared or another user's file): products cannot be edited here."


class ProductDetailPanel(QWidget):
    """Shows one product. :meth:`show_product` reads it in the background and fills the panel.
    :attr:`findSimilarRequested` carries the shown product's id when its Find similar button is pressed.

    Edit switches to a form for the title, category, price, stock and tags; Save emits :attr:`editRequested`
    (product id, changed fields, undo text) for the window's undo stack to write. The panel writes nothing itself.
    """

    findSimilarRequested = Signal(int)
    #: the shown product's id, when Restyle is pressed: the studio takes it as its content
    restyleRequested = Signal(int)
    editRequested = Signal(int, object, str)

    def __init__(self, runner: JobRunner, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._catalog: Catalog | None = None
        self._read = LatestOnly(runner, "Read product", self)
        self._product: Product | None = None
        self._shown_image: ProductImage | None = None
        self._fitted_width = -1  # the panel width the large picture was last scaled for

        self.image_label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.image_label.setObjectName("productImage")
        self.image_label.setMinimumHeight(160)
        self.image_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title_label = _value_label()
        self.title_label.setProperty("role", "heading")
        self.price_label = _value_label()
        self.price_label.setProperty("role", "price")
        self.edit_button = QPushButton("Edit")
        self.edit_button.setObjectName("editProductButton")
        self.edit_button.setToolTip(EDIT_TIP)
        self.edit_button.clicked.connect(self.start_editing)
        self.editor = ProductEditForm()
        self.editor.hide()
        self.editor.saveRequested.connect(self._save)
        self.editor.cancelled.connect(self.stop_editing)
        self.find_similar_button = QPushButton("Find similar")
        self.find_similar_button.setToolTip("Products like this one, by style, look or colour (Ctrl+Shift+F)")
        self.find_similar_button.clicked.connect(self._find_similar)
        self.restyle_button = QPushButton("Restyle")
        self.restyle_button.setObjectName("restyleProductButton")
        self.restyle_button.setToolTip("Open this product in the Studio to restyle it")
        self.restyle_button.clicked.connect(self._restyle)
        self.sku_label = _value_label()
        self.category_label = _value_label()
        self.brand_label = _value_label()
        self.stock_label = _value_label()
        self.tags_label = _value_label()
        self.tags_label.setTextFormat(Qt.TextFormat.RichText)
        self.attributes_label = _value_label()
        self.images_list = QListWidget()
        self.images_list.setObjectName("productImages")
        self.images_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.images_list.setFlow(QListWidget.Flow.LeftToRight)
        self.images_list.setWrapping(False)
        self.images_list.setIconSize(QSize(STRIP_SIZE, STRIP_SIZE))
        self.images_list.setFixedHeight(STRIP_SIZE + 26)
        self.images_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.images_list.currentItemChanged.connect(self._on_image_chosen)
        self.message_label = _value_label()
        self.message_label.setProperty("role", "muted")

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(6)
        form.addRow("SKU", self.sku_label)
        form.addRow("Category", self.category_label)
        form.addRow("Brand", self.brand_label)
        form.addRow("Stock", self.stock_label)
        form.addRow("Tags", self.tags_label)
        form.addRow("Attributes", self.attributes_label)
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            label = item.widget() if item is not None else None
            if label is not None:
                label.setProperty("role", "muted")
        self._form = form

        self._content = QWidget()
        content = QVBoxLayout(self._content)
        content.setContentsMargins(12, 12, 12, 12)
        content.setSpacing(8)
        # The facts first (title, price, what to do, the attributes), then the pictures: at 1280x720 the whole
        # record is in view without scrolling, and the gallery takes what height is left.
        content.addWidget(self.title_label)
        price_row = QHBoxLayout()
        price_row.addWidget(self.price_label, 1)
        price_row.addWidget(self.find_similar_button)
        price_row.addWidget(self.restyle_button)
        price_row.addWidget(self.edit_button)
        content.addLayout(price_row)
        content.addWidget(self.editor)
        content.addLayout(form)
        line = QFrame(frameShape=QFrame.Shape.HLine)
        line.setObjectName("rule")
        content.addWidget(line)
        content.addWidget(self.image_label, 1)
        content.addWidget(self.images_list)
        content.addStretch(0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message_label)
        layout.addWidget(scroll, 1)
        self._scroll = scroll
        thumbnails.thumbnailReady.connect(self._on_thumbnail)
        self._show_message("Select a product to see its details.")

    # -- public API ----------------------------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        self._read.invalidate()
        self.stop_editing()
        # A catalog this user may only read (a share, another user's file) shows its products but offers no edit.
        writable = catalog is not None and not catalog.read_only
        self.edit_button.setEnabled(writable)
        self.edit_button.setToolTip(EDIT_TIP if writable or catalog is None else READ_ONLY_TIP)
        self._product = None
        self._show_message("Select a product to see its details.")

    def show_product(self, product_id: int) -> None:
        if self._catalog is None:
            return
        catalog = self._catalog
        self._read.run(lambda: catalog.product(product_id), self._fill, self._failed)

    def catalog_changed(self, change: CatalogChange) -> None:
        """Read the product shown again when its row or its pictures may have changed."""
        if self._product is not None and (
            change.touches_product(self._product.id) or change.touches(Table.PRODUCT_IMAGES)
        ):
            self.refresh()

    def refresh(self) -> None:
        """Read the product shown again (after an import changed it)."""
        if self._product is not None:
            self.show_product(self._product.id)

    def product(self) -> Product | None:
        return self._product

    def _find_similar(self) -> None:
        if self._product is not None:
            self.findSimilarRequested.emit(self._product.id)

    def _restyle(self) -> None:
        if self._product is not None:
            self.restyleRequested.emit(self._product.id)

    # -- edit mode -----------------------------------------------------------------------------------------

    def start_editing(self) -> None:
        """Swap the title, price, category, stock and tags for the edit form, filled with the shown product."""
        if self._product is None or self._catalog is None or self._catalog.read_only:
            return
        self.editor.start(self._product)
        self._set_editing(True)

    def stop_editing(self) -> None:
        """Back to the read-only view; whatever was typed and not saved is dropped."""
        self._set_editing(False)

    def is_editing(self) -> bool:
        return not self.editor.isHidden()

    def _set_editing(self, editing: bool) -> None:
        for widget in (self.title_label, self.price_label, self.find_similar_button, self.restyle_button,
                       self.edit_button):  # fmt: skip
            widget.setVisible(not editing)
        for field in (self.category_label, self.stock_label, self.tags_label):
            self._form.setRowVisible(field, not editing)
        self.editor.setVisible(editing)

    def _save(self, changes: dict) -> None:
        product = self.editor.product()
        self.stop_editing()
        if product is not None and changes:
            self.editRequested.emit(product.id, changes, describe(product, changes))

    # -- filling -------------------------------------------------------------------------------------------

    def _fill(self, product: Product) -> None:
        editing = self.editor.product()
        if self.is_editing() and (editing is None or editing.id != product.id):
            self.stop_editing()  # another product: the unsaved form was for the one before
        self._product = product
        self.message_label.hide()
        self._scroll.show()
        self.title_label.setText(product.title)
        self.price_label.setText(format_price(product.price, product.currency) or "No price")
        self.sku_label.setText(product.sku)
        self.category_label.setText(product.category or "—")
        self.brand_label.setText(product.brand or "—")
        self.stock_label.setText(_stock_text(product))
        theme.set_role(self.stock_label, "success" if product.in_stock else "error")
        theme.set_rich_text(self.tags_label, lambda colours: _chips(product.tags, colours) or "—")
        attributes = "\n".join(f"{name}: {value}" for name, value in sorted(product.attributes.items()))
        self.attributes_label.setText(attributes or "—")
        self.images_list.blockSignals(True)
        self.images_list.clear()
        for image in product.images:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, image)
            item.setToolTip(f"{image.path.name}\n{image.width} × {image.height}")
            self.images_list.addItem(item)
        self.images_list.setVisible(len(product.images) > 1)
        self.images_list.blockSignals(False)
        if product.images:
            self.images_list.setCurrentRow(0)
        self._show_image(product.primary_image)
        self._update_strip()

    def _failed(self, info: JobInfo) -> None:
        self._show_message(info.error)

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setContentsMargins(12, 12, 12, 12)
        self.message_label.show()
        self._scroll.hide()

    def _show_image(self, image: ProductImage | None) -> None:
        self._shown_image = image
        self._update_large_image()

    def _update_large_image(self) -> None:
        image = self._shown_image
        pixmap = self._thumbnails.pixmap(image.sha256, image.path, LARGE_SIZE) if image is not None else None
        if pixmap is None:
            pixmap = self._thumbnails.placeholder(LARGE_SIZE)
        self.image_label.setPixmap(self._fit(pixmap))

    def _fit(self, pixmap: QPixmap) -> QPixmap:
        # From the panel's width, less a scroll bar whether or not one shows: sized from the label's own width, a
        # picture that brought the scroll bar in would shrink, send it away, grow, bring it back... for ever (the
        # GUI thread spun at 94% CPU and starved the workers).
        bar = self.style().pixelMetric(self.style().PixelMetric.PM_ScrollBarExtent)
        width = max(160, self.width() - bar - 24 - 16)
        side = min(width, 320, LARGE_SIZE)  # below the facts: a picture that leaves the dock room at 720 px
        return pixmap.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)

    def _update_strip(self) -> None:
        for row in range(self.images_list.count()):
            item = self.images_list.item(row)
            image: ProductImage = item.data(Qt.ItemDataRole.UserRole)
            pixmap = self._thumbnails.pixmap(image.sha256, image.path, STRIP_SIZE)
            item.setIcon(QIcon(pixmap if pixmap is not None else self._thumbnails.placeholder(STRIP_SIZE)))

    def _on_image_chosen(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is not None:
            self._show_image(current.data(Qt.ItemDataRole.UserRole))

    def _on_thumbnail(self, sha256: str) -> None:
        if self._product is None:
            return
        if self._shown_image is not None and self._shown_image.sha256 == sha256:
            self._update_large_image()
        if any(image.sha256 == sha256 for image in self._product.images):
            self._update_strip()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._product is not None and self._fitted_width != self.width():
            self._fitted_width = self.width()
            self._update_large_image()


def _stock_text(product: Product) -> str:
    if product.stock is None:
        return "In stock" if product.in_stock else "Out of stock"
    return f"{product.stock:,} in stock" if product.stock else "Out of stock (0)"


def _chips(tags: tuple[str, ...], colours: theme.Colours) -> str:
    """Tags as chips in the theme's chip colours (rich text)."""
    style = f"background-color:{colours.chip.name()}; color:{colours.chip_text.name()};"
    chip = f'<span style="{style}">&nbsp;{{}}&nbsp;</span>'
    return "&nbsp; ".join(chip.format(_escape(tag)) for tag in tags)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


if __name__ == "__main__":
    from stylerec_desktop.gui.panels._standalone import run_panel

    def _build(catalog: Catalog, runner: JobRunner, thumbnails: ThumbnailLoader) -> QWidget:
        panel = ProductDetailPanel(runner, thumbnails)
        panel.set_catalog(catalog)
        ids = catalog.search_product_ids()
        if ids:
            panel.show_product(ids[0])
        return panel

    raise SystemExit(run_panel("Product detail", _build, size=(380, 760)))
