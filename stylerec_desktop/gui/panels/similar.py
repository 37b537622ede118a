"""The "Find similar" panel: products like a chosen one, by style, by look (visual), by colour or by a blend.

:meth:`SimilarPanel.show_product` asks :func:`~stylerec_desktop.core.recommend.similar.similar_to_product` for the
product's :data:`LIMIT` nearest neighbours on the read lane through :class:`LatestOnly`: switching the mode asks
again, and an answer for a mode (or product) that is no longer the current one is dropped.

The threshold slider does not ask again. The neighbours come back best first, so "at least this similar" is always a
prefix of the list: the model shows that prefix and the count line says how many it hides. Moving the slider is
instant, and an answer that arrives later is cut at the threshold set when it arrives.

Above the neighbours, a "Same product, other colours" strip shows the other products of the product's group (its
``item_group_id``), closest colour first, from the same answer; it is hidden for a product in no group. The mode and
the threshold do not apply to it: the group, not a score, says these are the same product.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QPainter, QResizeEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSlider,
    QStackedWidget,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.core.catalog import Catalog, ProductTile
from stylerec_desktop.gui import theme
from stylerec_desktop.gui.catalog_changes import CatalogChange, Table
from stylerec_desktop.gui.delegates import ProductTileDelegate, draw_badge
from stylerec_desktop.gui.item_models import PriceTextRole, ProductIdRole, SkuRole, TileRole, TitleRole, format_price
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, LatestOnly
from stylerec_desktop.gui.panels.catalog import ProductGrid
from stylerec_desktop.gui.thumbnails import ThumbnailLoader
from stylerec_desktop.gui.widgets import SIGNAL_COLOURS, SIGNAL_NAMES

if TYPE_CHECKING:  # the similarity module loads torch; the window must open without it (start-up time)
    from stylerec_desktop.core.recommend.similar import SimilarAnswer, SimilarProduct

Index = QModelIndex | QPersistentModelIndex
SimilarityRole = Qt.ItemDataRole.UserRole + 50  # float: the similarity score, -1..1

#: The modes, in the core's order (``SIMILAR_BY``), with their button text and what each compares.
MODES: dict[str, tuple[str, str]] = {
    "style": ("Style", "Same style: pattern and texture, as the style network reads them"),
    "visual": ("Visual", "Looks alike: shape and kind of product, as the image recogniser sees them"),
    "colour": ("Colour", "Same colours in similar proportions"),
    "blend": ("Blend", "Style, visual and colour together"),
}
DEFAULT_MODE = "blend"
LIMIT = 100  # neighbours asked for; the threshold hides the tail of these
DEFAULT_THRESHOLD = 0.0  # cosine 0 is "unrelated": below it a product is less alike than a random one
THUMB_SIZE = 104
SOURCE_SIZE = 72
GROUP_THUMB_SIZE = 72
SAME_GROUP_TITLE = "Same product, other colours"

NO_PRODUCT = (
    "Pick a product and choose Find similar.\n\n"
    "Catalog ▸ Find similar (Ctrl+Shift+F), the Find similar button of the product panel, or a right-click on a "
    "product in the grid."
)
NOT_INDEXED = (
    "This catalog has no style index yet, so there is nothing to compare. Index the product images "
    "(Catalog ▸ Index styles); it runs in the background and can be resumed."
)


def mode_colour(by: str) -> QColor:
    """The colour of a mode's score badges in the theme shown: its signal's colour, the accent for the blend."""
    return SIGNAL_COLOURS.get(by, theme.colours().accent)


class SimilarModel(QAbstractListModel):
    """The neighbours of one :class:`SimilarAnswer` scoring at least :attr:`threshold`, best first, with the roles
    the product tile delegate reads (tile, thumbnail, price, sku) and the score (:data:`SimilarityRole`).

    With ``same_group`` it holds the answer's other colours of the same product (:attr:`SimilarAnswer.same_group`)
    instead, all of them (its threshold stays at -1)."""

    def __init__(
        self, thumbnails: ThumbnailLoader, thumb_size: int = THUMB_SIZE, parent: Any = None, same_group: bool = False
    ) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self.thumb_size = thumb_size
        self.same_group = same_group
        self._answer: SimilarAnswer | None = None
        self._items: tuple[SimilarProduct, ...] = ()
        self._negated_scores: list[float] = []  # ascending, for bisect
        self._shown = 0
        self.threshold = -1.0 if same_group else DEFAULT_THRESHOLD
        thumbnails.thumbnailReady.connect(self._on_thumbnail)

    def set_answer(self, answer: SimilarAnswer | None) -> None:
        self.beginResetModel()
        self._answer = answer
        self._items = () if answer is None else answer.same_group if self.same_group else answer.items
        self._negated_scores = [-item.score for item in self._items]
        self._shown = self._count_at_least(self.threshold)
        self.endResetModel()

    def set_threshold(self, threshold: float) -> None:
        """Show only the neighbours scoring at least ``threshold``: rows come and go at the end of the list, so the
        selection and the scroll position of the rows that stay are kept."""
        self.threshold = threshold
        shown = self._count_at_least(threshold)
        if shown < self._shown:
            self.beginRemoveRows(QModelIndex(), shown, self._shown - 1)
            self._shown = shown
            self.endRemoveRows()
        elif shown > self._shown:
            self.beginInsertRows(QModelIndex(), self._shown, shown - 1)
            self._shown = shown
            self.endInsertRows()

    def _count_at_least(self, threshold: float) -> int:
        return bisect.bisect_right(self._negated_scores, -threshold)

    @property
    def total(self) -> int:
        """Neighbours in the answer, shown or not."""
        return len(self._items)

    @property
    def hidden(self) -> int:
        return len(self._items) - self._shown

    def item(self, row: int) -> SimilarProduct:
        return self._items[row]

    def product_ids(self) -> list[int]:
        """The products shown, in order."""
        return [item.product_id for item in self._items[: self._shown]]

    def scores(self) -> list[float]:
        return [item.score for item in self._items[: self._shown]]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else self._shown

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self._shown or self._answer is None:
            return None
        item = self._items[index.row()]
        tile = self._answer.tile(item.product_id)
        if role == ProductIdRole:
            return item.product_id
        if role == SimilarityRole:
            return item.score
        if role == TileRole:
            return tile
        if role in (Qt.ItemDataRole.DisplayRole, TitleRole):
            return item.title
        if role == SkuRole:
            return None  # no room for it on these small cards (the tooltip has it); the delegate leaves it out
        if role == Qt.ItemDataRole.ToolTipRole:
            aspects = " · ".join(f"{SIGNAL_NAMES[name]} {value:.2f}" for name, value in item.components.items())
            what = "Colour similarity" if self.same_group else "Similarity"
            return f"{item.title} ({item.sku})\n{what} {item.score:.2f}\n{aspects}"
        if tile is None:
            return None
        if role == PriceTextRole:
            return format_price(tile.price, tile.currency)
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._thumbnails.pixmap(tile.image_sha256, tile.image_path, self.thumb_size)
            return pixmap if pixmap is not None else self._thumbnails.placeholder(self.thumb_size)
        return None

    def _on_thumbnail(self, sha256: str) -> None:
        if self._answer is None:
            return
        for row, item in enumerate(self._items[: self._shown]):
            tile = self._answer.tile(item.product_id)
            if tile is not None and tile.image_sha256 == sha256:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class SimilarTileDelegate(ProductTileDelegate):
    """The catalog's product card with the similarity score as a pill on the thumbnail, in the colour of
    :attr:`mode` (the mode of the answer shown)."""

    def __init__(self, thumb_size: int = THUMB_SIZE, parent: QWidget | None = None) -> None:
        super().__init__(thumb_size, parent)
        self.mode = DEFAULT_MODE

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        super().paint(painter, option, index)
        score = index.data(SimilarityRole)
        if score is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        draw_badge(painter, f"{score:.2f}", mode_colour(self.mode), option.rect.x() + 12, option.rect.y() + 12,
                   option.font)  # fmt: skip
        painter.restore()


class SimilarPanel(QWidget):
    """Products similar to the one given to :meth:`show_product`.

    Signals: :attr:`productSelected` (product id) when a result is picked; :attr:`indexRequested` from the empty
    state's button; :attr:`answerShown` with each answer put on screen (a :class:`SimilarAnswer`).
    """

    productSelected = Signal(int)
    indexRequested = Signal()
    answerShown = Signal(object)

    def __init__(self, runner: JobRunner, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._catalog: Catalog | None = None
        self._product_id: int | None = None
        self._answer: SimilarAnswer | None = None
        self._read = LatestOnly(runner, "Find similar products", self)

        self.model = SimilarModel(thumbnails, parent=self)
        self._delegate = SimilarTileDelegate(THUMB_SIZE)
        self.grid = ProductGrid(self._delegate)
        self.grid.setObjectName("similarGrid")
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setUniformItemSizes(True)
        self.grid.setWordWrap(False)
        self.grid.setMouseTracking(True)
        self.grid.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.grid.verticalScrollBar().setSingleStep(24)
        self.grid.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.grid.setModel(self.model)
        self.grid.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.grid.selectionModel().selectionChanged.connect(self._on_selection)
        self.same_group_box = self._build_same_group()

        self.empty_label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setObjectName("similarEmpty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setProperty("role", "muted")
        self.index_button = QPushButton("Index styles now")
        self.index_button.clicked.connect(self.indexRequested)
        empty = QWidget()
        empty_layout = QVBoxLayout(empty)
        empty_layout.setContentsMargins(16, 0, 16, 0)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty_label)
        empty_layout.addWidget(self.index_button, 0, Qt.AlignmentFlag.AlignHCenter)
        empty_layout.addStretch(2)
        self._stack = QStackedWidget()
        self._stack.addWidget(empty)
        self._stack.addWidget(self.grid)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self._build_source())
        self.controls = self._build_controls()
        layout.addWidget(self.controls)
        layout.addWidget(self.same_group_box)
        layout.addWidget(self._stack, 1)
        thumbnails.thumbnailReady.connect(self._on_thumbnail)
        self._styled_for: theme.Colours | None = None
        self._restyle()
        self.set_catalog(None)

    # -- building ------------------------------------------------------------------------------------------

    def _build_source(self) -> QWidget:
        """The product the neighbours are similar to: its thumbnail, title, and sku · category · price."""
        self.source_box = QWidget()
        self.source_image = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.source_image.setObjectName("similarSource")
        self.source_image.setFixedSize(SOURCE_SIZE + 8, SOURCE_SIZE + 8)
        self.source_title = QLabel()
        self.source_title.setWordWrap(True)
        title_font = QFont(self.source_title.font())
        title_font.setWeight(QFont.Weight.DemiBold)
        title_font.setPointSizeF(title_font.pointSizeF() + 1)
        self.source_title.setFont(title_font)
        self.source_details = QLabel()
        self.source_details.setWordWrap(True)
        self.source_details.setProperty("role", "muted")
        caption = QLabel("Similar to")
        caption.setProperty("role", "muted")
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addStretch(1)
        text.addWidget(caption)
        text.addWidget(self.source_title)
        text.addWidget(self.source_details)
        text.addStretch(1)
        row = QHBoxLayout(self.source_box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(10)
        row.addWidget(self.source_image)
        row.addLayout(text, 1)
        return self.source_box

    def _build_same_group(self) -> QWidget:
        """"Same product, other colours": one row of small cards with the colour similarity on each."""
        self.group_model = SimilarModel(self._thumbnails, GROUP_THUMB_SIZE, parent=self, same_group=True)
        self._group_delegate = SimilarTileDelegate(GROUP_THUMB_SIZE)
        self._group_delegate.mode = "colour"
        self.group_strip = QListView()
        self.group_strip.setObjectName("similarSameGroup")
        self._group_delegate.setParent(self.group_strip)
        self.group_strip.setItemDelegate(self._group_delegate)
        self.group_strip.setViewMode(QListView.ViewMode.IconMode)
        self.group_strip.setFlow(QListView.Flow.LeftToRight)
        self.group_strip.setWrapping(False)
        self.group_strip.setMovement(QListView.Movement.Static)
        self.group_strip.setUniformItemSizes(True)
        self.group_strip.setSpacing(4)
        self.group_strip.setMouseTracking(True)
        self.group_strip.setHorizontalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.group_strip.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.group_strip.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.group_strip.setModel(self.group_model)
        self.group_strip.setIconSize(QSize(GROUP_THUMB_SIZE, GROUP_THUMB_SIZE))
        self.group_strip.selectionModel().selectionChanged.connect(self._on_selection)
        self.group_title = QLabel(SAME_GROUP_TITLE)
        self.group_title.setObjectName("similarSameGroupTitle")
        title_font = QFont(self.group_title.font())
        title_font.setWeight(QFont.Weight.DemiBold)
        self.group_title.setFont(title_font)
        self.group_title.setToolTip(
            "The other products of this product's group (item_group_id in the products file), closest colour first"
        )
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 2, 0, 2)
        column.setSpacing(2)
        column.addWidget(self.group_title)
        column.addWidget(self.group_strip)
        box.hide()
        return box

    def _fit_group_strip(self) -> None:
        """One row of cards high, plus the scroll bar's height only when the group is too long for the width (a
        bar drawn over the cards would hide their prices; room kept for it always would leave a gap)."""
        tile = self._group_delegate.tile_size(self.group_strip.font())
        spacing = self.group_strip.spacing()
        frame = 2 * self.group_strip.frameWidth()
        needed = self.group_model.rowCount() * (tile.width() + 2 * spacing)
        bar = self.group_strip.horizontalScrollBar().sizeHint().height()
        scrolls = needed > self.group_strip.width() - frame
        self.group_strip.setFixedHeight(tile.height() + 2 * spacing + frame + (bar if scrolls else 0))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_group_strip()

    def _build_controls(self) -> QWidget:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        self.mode_buttons: dict[str, QToolButton] = {}
        self._mode_group = QButtonGroup(self)
        modes = QHBoxLayout()
        modes.setSpacing(4)
        for by, (text, tip) in MODES.items():
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setObjectName(f"similarBy_{by}")
            button.setToolTip(tip)
            button.setChecked(by == DEFAULT_MODE)
            button.setMinimumWidth(64)
            self._mode_group.addButton(button)
            modes.addWidget(button)
            self.mode_buttons[by] = button
        modes.addStretch(1)
        self._mode_group.buttonToggled.connect(self._on_mode_toggled)

        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setObjectName("similarThreshold")
        # Hundredths of 0..1: a neighbour worth showing is at least as alike as a random product (a centred cosine
        # of 0; the colour similarity is 0..1 anyway), so the slider spans what a minimum can usefully be.
        self.threshold_slider.setRange(0, 100)
        self.threshold_slider.setSingleStep(5)
        self.threshold_slider.setPageStep(10)
        self.threshold_slider.setValue(round(DEFAULT_THRESHOLD * 100))
        self.threshold_slider.setToolTip(
            "Hide the products less similar than this (1: the same image, 0: no more alike than a random product)"
        )
        self.threshold_slider.valueChanged.connect(self._on_threshold)
        self.threshold_value = QLabel()
        self.threshold_value.setMinimumWidth(self.threshold_value.fontMetrics().horizontalAdvance("≥ 0.00") + 4)
        self.threshold_value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.count_label = QLabel()
        self.count_label.setObjectName("similarCount")
        self.count_label.setProperty("role", "muted")

        grid.addWidget(QLabel("Similar by"), 0, 0)
        grid.addLayout(modes, 0, 1, 1, 2)
        grid.addWidget(QLabel("Minimum"), 1, 0)
        grid.addWidget(self.threshold_slider, 1, 1)
        grid.addWidget(self.threshold_value, 1, 2)
        grid.addWidget(self.count_label, 2, 0, 1, 3)
        grid.setColumnStretch(1, 1)
        self._show_threshold()
        return box

    def _restyle(self) -> None:
        """The panel's own style sheets, in the colours of the theme shown (again after a theme switch)."""
        c = self._styled_for = theme.colours()
        # The catalog grid's look (cards on the list ground), framed: the results are one block under the controls.
        framed_list = (
            f"QListView {{ background: {c.list_background.name()}; border: 1px solid {c.rule.name()}; "
            "border-radius: 6px; }"
        )
        self.grid.setStyleSheet(framed_list)
        self.group_strip.setStyleSheet(framed_list)
        self.source_image.setStyleSheet(
            f"background: {c.card.name()}; border: 1px solid {c.card_border.name()}; border-radius: 6px;"
        )
        # The checked mode must stand out at a glance (Fusion barely shades a checked tool button).
        self.controls.setStyleSheet(
            f"QToolButton {{ padding: 3px 10px; border: 1px solid {c.mid.name()}; border-radius: 4px; "
            f"background: {c.button.name()}; }}"
            f"QToolButton:hover {{ border-color: {c.card_hover_border.name()}; }}"
            f"QToolButton:checked {{ background: {c.card_selected.name()}; border-color: {c.accent.name()}; "
            f"color: {c.accent.name()}; font-weight: 600; }}"
        )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange) and self._styled_for is not (
            theme.colours()
        ):
            self._restyle()

    # -- public API ----------------------------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        self._product_id = None
        self._read.invalidate()
        self._set_answer(None)
        self.source_box.hide()
        self.controls.setEnabled(False)
        self.count_label.clear()
        self._show_empty(NO_PRODUCT, offer_index=False)

    def show_product(self, product_id: int) -> None:
        """Find the products similar to ``product_id`` (in the background)."""
        self._product_id = product_id
        self.controls.setEnabled(True)
        self.refresh()

    def catalog_changed(self, change: CatalogChange) -> None:
        """Ask again when the style index changed (indexing); the neighbours are read from it."""
        if change.touches(Table.IMAGE_FEATURES):
            self.reload()

    def reload(self) -> None:
        """Ask again (after indexing or an import changed what can be compared)."""
        if self._product_id is not None:
            self.refresh()

    def refresh(self) -> None:
        if self._catalog is None or self._product_id is None:
            return
        catalog, product_id, by = self._catalog, self._product_id, self.mode()
        self.count_label.setText("Finding similar products…")
        self._read.run(lambda: _find_similar(catalog, product_id, by), self._show_answer, self._failed)

    def product_id(self) -> int | None:
        """The product the panel finds neighbours of (None before one was given)."""
        return self._product_id

    def answer(self) -> SimilarAnswer | None:
        """The answer on screen (None while there is none)."""
        return self._answer

    def mode(self) -> str:
        return next(by for by, button in self.mode_buttons.items() if button.isChecked())

    def set_mode(self, by: str) -> None:
        self.mode_buttons[by].setChecked(True)

    def threshold(self) -> float:
        return self.threshold_slider.value() / 100

    def set_threshold(self, value: float) -> None:
        """Show the neighbours at least ``value`` similar; clamped to the slider's 0..1."""
        self.threshold_slider.setValue(round(min(1.0, max(0.0, value)) * 100))

    @property
    def busy(self) -> bool:
        return self._read.busy

    def select_row(self, row: int) -> None:
        self.grid.setCurrentIndex(self.model.index(row))

    # -- slots ---------------------------------------------------------------------------------------------

    def _on_mode_toggled(self, _button: QToolButton, checked: bool) -> None:
        if checked:  # the button switched off fires too
            self.refresh()

    def _on_threshold(self) -> None:
        self.model.set_threshold(self.threshold())
        self._show_threshold()
        if self._answer is not None and self._answer.source_indexed:
            self._show_results()

    def _show_threshold(self) -> None:
        self.threshold_value.setText(f"≥ {self.threshold():.2f}")

    def _show_answer(self, answer: SimilarAnswer) -> None:
        self._delegate.mode = answer.by
        self._set_answer(answer)
        self._show_source(answer.source)
        if not answer.indexed:
            self.count_label.clear()
            self._show_empty(NOT_INDEXED, offer_index=True)
        elif not answer.source_indexed:
            self.count_label.clear()
            self._show_empty(
                f"“{answer.source.title}” has no indexed image yet, so it cannot be compared. Index the product "
                "images (Catalog ▸ Index styles) to include it.",
                offer_index=True,
            )
        else:
            self._show_results()
        self.answerShown.emit(answer)

    def _show_results(self) -> None:
        shown, hidden, total = self.model.rowCount(), self.model.hidden, self.model.total
        capped = total >= LIMIT  # the catalog has more products than were asked for: say these are the closest
        if hidden:
            count = f"{shown} product{'s' if shown != 1 else ''} shown · {hidden} below {self.threshold():.2f} hidden"
            count += f", of the {total} closest" if capped else ""
        else:
            count = f"The {total} closest products" if capped else f"{shown} product{'s' if shown != 1 else ''}"
        self.count_label.setText(count)
        if shown:
            self._stack.setCurrentWidget(self.grid)
        elif hidden:
            self._show_empty(
                f"No product is at least {self.threshold():.2f} similar by {self.mode()}. Lower the minimum to see "
                f"the closest ones (the best scores {self.model.item(0).score:.2f}).",
                offer_index=False,
            )
        else:
            self._show_empty("The catalog has no other product to compare with.", offer_index=False)

    def _set_answer(self, answer: SimilarAnswer | None) -> None:
        self._answer = answer
        shown = answer if answer is not None and answer.source_indexed else None
        self.model.set_answer(shown)
        self.group_model.set_answer(shown)
        count = self.group_model.rowCount()
        if count:
            self.group_title.setText(f"{SAME_GROUP_TITLE} ({count})")
        self.same_group_box.setVisible(count > 0)
        self._fit_group_strip()

    def _show_source(self, tile: ProductTile) -> None:
        self.source_box.show()
        self.source_title.setText(tile.title)
        price = format_price(tile.price, tile.currency)
        self.source_details.setText(" · ".join(part for part in (tile.sku, tile.category, price) if part))
        self._update_source_image()

    def _update_source_image(self) -> None:
        tile = self._answer.source if self._answer is not None else None
        pixmap = None
        if tile is not None and tile.image_sha256:
            pixmap = self._thumbnails.pixmap(tile.image_sha256, tile.image_path, SOURCE_SIZE)
        self.source_image.setPixmap(pixmap if pixmap is not None else self._thumbnails.placeholder(SOURCE_SIZE))

    def _show_empty(self, text: str, offer_index: bool) -> None:
        self.empty_label.setText(text)
        self.index_button.setVisible(offer_index)
        self._stack.setCurrentIndex(0)

    def _failed(self, info: JobInfo) -> None:
        self._set_answer(None)
        self.count_label.setText("Could not find similar products.")
        self._show_empty(info.error, offer_index=False)

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if indexes:
            self.productSelected.emit(indexes[0].data(ProductIdRole))

    def same_group_ids(self) -> list[int]:
        """The products of the "Same product, other colours" strip, in order (empty when it is hidden)."""
        return self.group_model.product_ids()

    def _on_thumbnail(self, sha256: str) -> None:
        if self._answer is not None and self._answer.source.image_sha256 == sha256:
            self._update_source_image()


def _find_similar(catalog: Catalog, product_id: int, by: str) -> SimilarAnswer:
    """Runs on the read lane; the import is here so that torch loads on a worker, not at start-up."""
    from stylerec_desktop.core.recommend.similar import similar_to_product

    return similar_to_product(catalog, product_id, by=by, k=LIMIT)


if __name__ == "__main__":
    from stylerec_desktop.gui.indexing import IndexController
    from stylerec_desktop.gui.panels._standalone import run_panel

    def _build(catalog: Catalog, runner: JobRunner, thumbnails: ThumbnailLoader) -> QWidget:
        panel = SimilarPanel(runner, thumbnails)
        panel.set_catalog(catalog)
        indexer = IndexController(runner, panel)
        indexer.set_catalog(catalog)
        panel.indexRequested.connect(indexer.start)
        indexer.indexed.connect(lambda _report: panel.reload())
        ids = catalog.search_product_ids()
        if ids:
            panel.show_product(ids[0])
        panel.productSelected.connect(lambda product_id: print("productSelected", product_id))
        return panel

    raise SystemExit(run_panel("Find similar", _build, size=(480, 780)))
