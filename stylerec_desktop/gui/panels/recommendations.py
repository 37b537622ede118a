"""The recommendations panel: a ranked list for the picked customer. Each row reads without hovering: its rank and
a match strength, the product's full title (elided in the middle), why it is recommended, and labelled bars of the
signals that carry its score; the raw numbers are in the tooltip and the inspector.

Which blend the sliders start from (their 100 %) is shown above them: the catalog's tuned blend (Settings ▸
Recommendations ▸ Tune) when it has one that was applied, otherwise the user's own default weights (Settings); the
user may switch to their own blend on a tuned catalog too. The tuned ranking is read on a worker when the catalog
opens and after every change to it (the ``catalog_settings`` notification).

The controls (blend weights, diversity, category, price range, in stock, include purchased) re-rank as they move:
each change asks :func:`~stylerec_desktop.core.recommend.workspace.customer_workspace` again on the read lane
through :class:`LatestOnly`, so only the answer to the newest settings is ever shown. Without a style index the
panel says so and offers to index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSlider,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.recommend.controls import Filters, RankingWeights, WorkspaceQuery
from stylerec_desktop.gui import theme
from stylerec_desktop.gui.catalog_changes import CatalogChange, Table
from stylerec_desktop.gui.delegates import _card, _draw_centred
from stylerec_desktop.gui.item_models import ProductIdRole, TitleRole, format_price
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, LatestOnly
from stylerec_desktop.gui.text import person
from stylerec_desktop.gui.thumbnails import ThumbnailLoader
from stylerec_desktop.gui.widgets import SIGNAL_COLOURS, SIGNAL_NAMES, paint_score_bars

if TYPE_CHECKING:  # the recommendation modules load torch; the window must open without it (start-up time)
    from stylerec_desktop.core.recommend.explain import Explanation
    from stylerec_desktop.core.recommend.ranking import Recommendation
    from stylerec_desktop.core.recommend.workspace import CustomerWorkspace

Index = QModelIndex | QPersistentModelIndex
RecommendationRole = Qt.ItemDataRole.UserRole + 40  # (Recommendation, Explanation)

RERANK_DELAY_MS = 80  # slider moves closer together than this are one question
_DEFAULT_WEIGHTS = RankingWeights().as_dict()
_ANY_CATEGORY = "All categories"
BLEND_CATALOG = "catalog"  # the blend combo's data: start from the catalog's tuned blend
BLEND_MINE = "mine"  # ... from the user's default weights


class RecommendationModel(QAbstractListModel):
    """The ranked recommendations of one :class:`CustomerWorkspace`, with their thumbnails."""

    def __init__(self, thumbnails: ThumbnailLoader, thumb_size: int = 72, parent: Any = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self.thumb_size = thumb_size
        self._workspace: CustomerWorkspace | None = None
        self._items: tuple[tuple[Recommendation, Explanation], ...] = ()
        self.scale = 1.0  # the largest term shown: all rows share one bar scale
        self.best = 0.0  # the best score of the list: match strengths are relative to it
        thumbnails.thumbnailReady.connect(self._on_thumbnail)

    def set_workspace(self, workspace: CustomerWorkspace | None) -> None:
        self.beginResetModel()
        self._workspace = workspace
        self._items = workspace.items if workspace is not None else ()
        terms = [abs(v) for rec, _ in self._items for v in rec.components.values()]
        self.scale = max(terms, default=1.0)
        self.best = max((rec.score for rec, _ in self._items), default=0.0)
        self.endResetModel()

    def item(self, row: int) -> tuple[Recommendation, Explanation]:
        return self._items[row]

    def product_ids(self) -> list[int]:
        return [rec.product_id for rec, _ in self._items]

    def strength(self, row: int) -> float:
        """Row ``row``'s match strength 0..1: its score against the best score of this list (1 for the first)."""
        if self.best <= 0:
            return 0.0
        return min(1.0, max(0.0, self._items[row][0].score / self.best))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._items) or self._workspace is None:
            return None
        rec, explanation = self._items[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, TitleRole):
            return rec.title
        if role == ProductIdRole:
            return rec.product_id
        if role == RecommendationRole:
            return rec, explanation
        if role == Qt.ItemDataRole.ToolTipRole:
            terms = "\n".join(f"{SIGNAL_NAMES[n]}: {rec.components[n]:+.2f}" for n in SIGNAL_COLOURS
                               if n in rec.components)  # fmt: skip
            return (
                f"{rec.title} ({rec.sku})\nNo. {index.row() + 1}, {match_words(self.strength(index.row()))} "
                f"(score {rec.score:.2f}; the best here scores {self.best:.2f})\n{terms}\n\n"
                f"Why: {explanation.summary()}"
            )
        if role == Qt.ItemDataRole.DecorationRole:
            tile = self._workspace.tile(rec.product_id)
            if tile is None:
                return self._thumbnails.placeholder(self.thumb_size)
            pixmap = self._thumbnails.pixmap(tile.image_sha256, tile.image_path, self.thumb_size)
            return pixmap if pixmap is not None else self._thumbnails.placeholder(self.thumb_size)
        if role == Qt.ItemDataRole.StatusTipRole:  # the line under the title
            tile = self._workspace.tile(rec.product_id)
            price = format_price(tile.price, tile.currency) if tile is not None else ""
            parts = [rec.sku, tile.category if tile is not None else "", price, "new" if rec.cold_start else ""]
            return " · ".join(p for p in parts if p)
        return None

    def _on_thumbnail(self, sha256: str) -> None:
        if self._workspace is None:
            return
        for row, (rec, _) in enumerate(self._items):
            tile = self._workspace.tile(rec.product_id)
            if tile is not None and tile.image_sha256 == sha256:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


def match_words(strength: float) -> str:
    """A match strength 0..1 (against the best of the list) in words."""
    if strength >= 0.85:
        return "strong match"
    if strength >= 0.6:
        return "good match"
    return "fair match"


def carrying_signals(components: dict[str, float], count: int = 4) -> dict[str, float]:
    """The ``count`` signals with the largest terms (by size), in the bars' order; signals at 0 are left out."""
    ranked = sorted((n for n in components if abs(components[n]) > 1e-9), key=lambda n: -abs(components[n]))
    kept = set(ranked[:count])
    return {n: components[n] for n in SIGNAL_COLOURS if n in kept}


class RecommendationDelegate(QStyledItemDelegate):
    """A row card: rank and match strength; thumbnail; full title (elided in the middle), details and the "why"
    sentence; labelled bars of the signals that carry the score."""

    BARS_WIDTH = 170
    BAR_ROWS = 3
    WHY_LINES = 3

    def __init__(self, model: RecommendationModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model

    #: The narrowest card: the list stretches cards to its width, and scrolls sideways only below this (a narrow
    #: dock shortens the title, details and "why" instead; the bars take at most half of the text's width).
    MIN_WIDTH = 260

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        line = QFontMetrics(option.font).height() + 2
        return QSize(self.MIN_WIDTH, max(self._model.thumb_size, (2 + self.WHY_LINES) * line) + 16)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect.adjusted(2, 2, -2, -2)
        _card(painter, rect, option)
        rec, explanation = index.data(RecommendationRole)
        thumb = self._model.thumb_size
        inner = rect.adjusted(8, 6, -8, -6)
        metrics = QFontMetrics(option.font)
        line = metrics.height() + 2
        colours = theme.colours()
        strength = self._model.strength(index.row())
        bold = QFont(option.font)
        bold.setBold(True)
        rank_w = QFontMetrics(bold).horizontalAdvance("000") + 4
        painter.setFont(bold)
        painter.setPen(option.palette.text().color())
        painter.drawText(QRect(inner.left(), inner.top() + 2, rank_w, line), Qt.AlignmentFlag.AlignHCenter,
                         str(index.row() + 1))  # fmt: skip
        self._paint_strength(painter, QRect(inner.left(), inner.top() + 2 + line, rank_w, 10), strength)
        _draw_centred(painter, index.data(Qt.ItemDataRole.DecorationRole), QRect(inner.left() + rank_w, inner.top(),
                                                                              thumb, thumb))  # fmt: skip
        # Title and details run the card's full width; the why sentence and the bars share the lines below.
        text_left = inner.left() + rank_w + thumb + 10
        full_w = max(20, inner.right() - text_left)
        painter.setFont(bold)
        painter.setPen(option.palette.text().color())
        # Elided in the middle: the words that tell two similar products apart are often at the end.
        title = QFontMetrics(bold).elidedText(rec.title, Qt.TextElideMode.ElideMiddle, full_w)
        painter.drawText(QRect(text_left, inner.top() + 2, full_w, line), Qt.AlignmentFlag.AlignLeft, title)
        painter.setFont(option.font)
        painter.setPen(colours.muted_text)
        details = " · ".join(p for p in (match_words(strength).capitalize(),
                                         index.data(Qt.ItemDataRole.StatusTipRole) or "") if p)  # fmt: skip
        details = metrics.elidedText(details, Qt.TextElideMode.ElideRight, full_w)
        painter.drawText(QRect(text_left, inner.top() + 2 + line, full_w, line), Qt.AlignmentFlag.AlignLeft, details)
        lower = inner.top() + 4 + 2 * line
        bars_w = min(self.BARS_WIDTH, full_w // 2)
        bars = QRect(inner.right() - bars_w, lower, bars_w, self.BAR_ROWS * (line - 2))
        why_w = max(20, bars.left() - 10 - text_left)
        painter.setPen(option.palette.text().color())
        why = _sentence(explanation.summary())
        why_rect = QRect(text_left, lower, why_w, self.WHY_LINES * metrics.lineSpacing())
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        while len(why) > 4 and metrics.boundingRect(why_rect, flags, why).height() > why_rect.height():
            why = why[: int(len(why) * 0.9)].rstrip() + "…"  # shorten until it fits its lines
            why = why.replace("……", "…")
        painter.drawText(why_rect, flags, why)
        paint_score_bars(painter, bars, carrying_signals(rec.components, self.BAR_ROWS), self._model.scale,
                         labels=True, values=False)  # fmt: skip
        painter.restore()

    @staticmethod
    def _paint_strength(painter: QPainter, area: QRect, strength: float) -> None:
        """Five dots under the rank, as many filled as the match strength earns (of the best in the list)."""
        colours = theme.colours()
        size, gap = 5, 2
        left = area.left() + (area.width() - (5 * size + 4 * gap)) // 2
        filled = max(1, round(strength * 5))
        painter.setPen(Qt.PenStyle.NoPen)
        for i in range(5):
            painter.setBrush(colours.accent if i < filled else colours.track)
            painter.drawEllipse(QRect(left + i * (size + gap), area.top() + 2, size, size))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


class RecommendationsPanel(QWidget):
    """Recommendations for the customer given to :meth:`show_customer`.

    Signals: :attr:`productSelected` (product id) and :attr:`recommendationSelected` (``(Recommendation,
    Explanation, CustomerWorkspace)``) when a row is picked; :attr:`workspaceShown` with each new answer;
    :attr:`indexRequested` from the empty state's button.
    """

    productSelected = Signal(int)
    recommendationSelected = Signal(object)
    workspaceShown = Signal(object)
    indexRequested = Signal()

    def __init__(self, runner: JobRunner, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._catalog: Catalog | None = None
        self._customer_id: str | None = None
        self._workspace: CustomerWorkspace | None = None
        self._default_weights = dict(_DEFAULT_WEIGHTS)  # the user's own blend (Settings ▸ Recommendations)
        self._tuned: TunedBlend | None = None  # the catalog's tuned ranking, as last read
        self._prefer_mine = False  # the user chose their own blend over the catalog's tuned one
        self._read = LatestOnly(runner, "Rank recommendations", self)
        self._tuned_read = LatestOnly(runner, "Read the catalog's tuned ranking", self)

        self.header_label = QLabel()
        self.header_label.setObjectName("recommendationsHeader")
        self.header_label.setWordWrap(True)
        self.blend_combo = QComboBox()
        self.blend_combo.setObjectName("blendSource")
        self.blend_combo.addItem("This catalog's tuned blend", BLEND_CATALOG)
        self.blend_combo.addItem("My default blend", BLEND_MINE)
        self.blend_combo.setToolTip("What the sliders' 100 % stands for")
        # Narrow docks: the combo may shrink below its longest item's width (the popup still shows it whole).
        self.blend_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.blend_combo.setMinimumContentsLength(12)
        self.blend_combo.currentIndexChanged.connect(self._blend_chosen)
        self.blend_label = QLabel()
        self.blend_label.setObjectName("blendInUse")
        self.blend_label.setWordWrap(True)
        self.blend_label.setProperty("role", "muted")
        blend_row = QHBoxLayout()
        blend_row.addWidget(QLabel("Start from"))
        blend_row.addWidget(self.blend_combo, 1)
        self.model = RecommendationModel(thumbnails, parent=self)
        self.list_view = QListView()
        self.list_view.setObjectName("recommendationList")
        self.list_view.setModel(self.model)
        self.list_view.setItemDelegate(RecommendationDelegate(self.model, self.list_view))
        self.list_view.setUniformItemSizes(True)
        self.list_view.setMouseTracking(True)
        self.list_view.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.list_view.selectionModel().currentChanged.connect(self._on_current)

        self.empty_label = QLabel()
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setProperty("role", "muted")
        self.index_button = QPushButton("Index styles now")
        self.index_button.clicked.connect(self.indexRequested)
        empty = QWidget()
        empty_layout = QVBoxLayout(empty)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty_label)
        empty_layout.addWidget(self.index_button, 0, Qt.AlignmentFlag.AlignHCenter)
        empty_layout.addStretch(2)
        self._stack = QStackedWidget()
        self._stack.addWidget(empty)
        self._stack.addWidget(self.list_view)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.header_label)
        layout.addLayout(blend_row)
        layout.addWidget(self.blend_label)
        layout.addWidget(self._build_controls())
        layout.addWidget(self._stack, 1)

        self._debounce = QTimer(self, singleShot=True, interval=RERANK_DELAY_MS)
        self._debounce.timeout.connect(self.refresh)
        self._show_empty("Pick a customer to see what to recommend to them.", offer_index=False)
        self._show_blend()

    # -- controls ------------------------------------------------------------------------------------------

    def _build_controls(self) -> QWidget:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.weight_sliders: dict[str, QSlider] = {}
        # Sliders go 0..200 % of each signal's default weight: a merchandiser nudges the blend, not raw numbers.
        for i, name in enumerate(SIGNAL_COLOURS):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, 200)
            slider.setValue(100)
            slider.setObjectName(f"weight_{name}")
            slider.setToolTip(f"Weight of {SIGNAL_NAMES[name].lower()} in the score (100 % = the blend started from)")
            slider.valueChanged.connect(self._controls_changed)
            label = QLabel(SIGNAL_NAMES[name])
            label.setProperty("signal", name)  # coloured by the theme's style sheet
            row, col = divmod(i, 2)
            grid.addWidget(label, row, col * 2)
            grid.addWidget(slider, row, col * 2 + 1)
            self.weight_sliders[name] = slider
        self.diversity_slider = QSlider(Qt.Orientation.Horizontal)
        self.diversity_slider.setObjectName("diversity")
        self.diversity_slider.setRange(0, 100)
        self.diversity_slider.setToolTip("0: best score first; higher: fewer look-alikes next to each other")
        self.diversity_slider.valueChanged.connect(self._controls_changed)
        reset = QToolButton()
        reset.setText("Reset")
        reset.setToolTip("Back to the blend started from (all sliders at 100 %, no diversity)")
        reset.clicked.connect(self.reset_controls)
        below = (len(self.weight_sliders) + 1) // 2  # the first grid row under the weight sliders
        grid.addWidget(QLabel("Diversity"), below, 0)
        grid.addWidget(self.diversity_slider, below, 1)
        grid.addWidget(reset, below, 3, Qt.AlignmentFlag.AlignRight)

        self.category_combo = QComboBox()
        self.category_combo.setObjectName("recommendationCategory")
        self.category_combo.addItem(_ANY_CATEGORY)
        self.category_combo.currentIndexChanged.connect(self._controls_changed)
        self.min_price = self._price_box("Lowest price (0: no limit)")
        self.max_price = self._price_box("Highest price (0: no limit)")
        self.in_stock_check = QCheckBox("In stock")
        self.purchased_check = QCheckBox("Include purchased")
        for check in (self.in_stock_check, self.purchased_check):
            check.toggled.connect(self._controls_changed)
        filters = QHBoxLayout()
        filters.setSpacing(6)
        filters.addWidget(self.category_combo, 1)
        filters.addWidget(QLabel("Price"))
        filters.addWidget(self.min_price)
        filters.addWidget(QLabel("–"))
        filters.addWidget(self.max_price)
        checks = QHBoxLayout()
        checks.addWidget(self.in_stock_check)
        checks.addWidget(self.purchased_check)
        checks.addStretch(1)
        grid.addLayout(filters, below + 1, 0, 1, 4)
        grid.addLayout(checks, below + 2, 0, 1, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        return box

    def _price_box(self, tip: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0, 1_000_000)
        box.setDecimals(0)
        box.setSpecialValueText("any")
        box.setToolTip(tip)
        box.setMaximumWidth(80)
        box.valueChanged.connect(self._controls_changed)
        return box

    def reset_controls(self) -> None:
        for slider in self.weight_sliders.values():
            slider.setValue(100)
        self.diversity_slider.setValue(0)

    def query(self) -> WorkspaceQuery | None:
        """The question the controls ask now (None without a customer)."""
        if self._customer_id is None:
            return None
        catalog_blend = self.uses_catalog_blend()
        base = self._tuned.weights.as_dict() if catalog_blend and self._tuned is not None else self._default_weights
        weights = RankingWeights(**{n: base[n] * s.value() / 100 for n, s in self.weight_sliders.items()})
        category = self.category_combo.currentText()
        filters = Filters(
            categories=(category,) if self.category_combo.currentIndex() > 0 else (),
            min_price=self.min_price.value() or None,
            max_price=self.max_price.value() or None,
            in_stock_only=self.in_stock_check.isChecked(),
            include_purchased=self.purchased_check.isChecked(),
        )
        return WorkspaceQuery(self._customer_id, weights=weights, diversity=self.diversity_slider.value() / 100,
                              filters=filters, catalog_taste=catalog_blend)  # fmt: skip

    def uses_catalog_blend(self) -> bool:
        """Whether the ranking starts from the catalog's tuned blend and taste settings (it has applied ones, and
        the user did not choose their own blend instead)."""
        return (
            self._tuned is not None and self._tuned.applied and self.blend_combo.currentData() == BLEND_CATALOG
        )

    # -- public API ----------------------------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        self._customer_id = None
        self._read.invalidate()
        self._set_workspace(None)
        self._show_empty("Pick a customer to see what to recommend to them.", offer_index=False)
        self._tuned = None
        self._prefer_mine = False  # a newly opened catalog starts from its own tuned blend, if it has one
        self._show_blend()
        self._read_tuned()

    def show_customer(self, customer_id: str) -> None:
        self._customer_id = customer_id
        self.refresh()

    def set_default_weights(self, weights: RankingWeights) -> None:
        """The blend the sliders' 100 % stands for (Settings ▸ Recommendations); ranks the shown customer again."""
        self._default_weights = weights.as_dict()
        self.reload()

    def catalog_changed(self, change: CatalogChange) -> None:
        """Ask again when the ranking's inputs changed: products (prices, stock, categories for the filters),
        customers, their events, the style index, the learned model, or the tuned ranking (read first)."""
        if change.touches(Table.CATALOG_SETTINGS, Table.EVENTS):
            self._read_tuned()  # ranks again once it has arrived (new events may call for tuning again)
        elif change.touches(Table.PRODUCTS, Table.CUSTOMERS, Table.EVENTS, Table.IMAGE_FEATURES, Table.LEARNED_MODEL):
            self.reload()

    def reload(self) -> None:
        """Ask again (after indexing or an import changed what the ranking sees)."""
        if self._customer_id is not None:
            self.refresh()

    def refresh(self) -> None:
        self._debounce.stop()
        query = self.query()
        if self._catalog is None or query is None:
            return
        catalog = self._catalog
        who = person("", query.customer_id, QFontMetrics(self.header_label.font()))
        theme.set_rich_text(self.header_label, theme.muted(f"Ranking for {who}…"))
        self._read.run(lambda: _workspace(catalog, query), self._show_workspace, self._failed)

    def workspace(self) -> CustomerWorkspace | None:
        return self._workspace

    @property
    def busy(self) -> bool:
        return self._debounce.isActive() or self._read.busy or self._tuned_read.busy

    def tuned_blend(self) -> TunedBlend | None:
        """The catalog's tuned ranking as last read (None: not tuned, or not read yet)."""
        return self._tuned

    def select_row(self, row: int) -> None:
        self.list_view.setCurrentIndex(self.model.index(row))

    # -- the blend started from -----------------------------------------------------------------------------

    def _read_tuned(self) -> None:
        catalog = self._catalog
        if catalog is None:
            self._tuned_read.invalidate()
            return
        self._tuned_read.run(lambda: _tuned_blend(catalog), self._tuned_arrived, self._tuned_failed)

    def _tuned_arrived(self, tuned: TunedBlend | None) -> None:
        self._tuned = tuned
        self._show_blend()
        self.reload()

    def _tuned_failed(self, info: JobInfo) -> None:
        self._tuned = None
        self._show_blend()
        self.blend_label.setText(f"Could not read this catalog's tuned ranking ({info.error}); your blend applies.")

    def _blend_chosen(self) -> None:
        self._prefer_mine = self.blend_combo.currentData() == BLEND_MINE
        self._show_blend()
        self._controls_changed()

    def _show_blend(self) -> None:
        """Say which blend the sliders' 100 % is, and why."""
        tuned = self._tuned
        model = self.blend_combo.model()
        assert isinstance(model, QStandardItemModel)
        model.item(0).setEnabled(tuned is not None and tuned.applied)
        want = 0 if tuned is not None and tuned.applied and not self._prefer_mine else 1
        if self.blend_combo.currentIndex() != want:
            self.blend_combo.blockSignals(True)
            self.blend_combo.setCurrentIndex(want)
            self.blend_combo.blockSignals(False)
        if self.uses_catalog_blend() and tuned is not None:
            text = (f"Tuned for this catalog on {tuned.fitted_at} from {tuned.events:,} events; "
                    "its taste settings apply too.")  # fmt: skip
        elif tuned is not None and tuned.applied:
            text = "Your default weights (Settings ▸ Recommendations), instead of this catalog's tuned blend."
        elif tuned is not None:
            text = f"Your default weights. Tuning on {tuned.fitted_at} kept them: {tuned.reason or ''}"
        elif self._catalog is not None:
            text = "Your default weights. This catalog is not tuned yet (Catalog ▸ Tune recommendations)."
        else:
            text = ""
        if tuned is not None and tuned.retune_hint:
            text += " " + tuned.retune_hint
        self.blend_label.setText(text)

    # -- slots ---------------------------------------------------------------------------------------------

    def _controls_changed(self) -> None:
        if self._customer_id is not None:
            self._debounce.start()

    def _show_workspace(self, workspace: CustomerWorkspace) -> None:
        if not workspace.indexed:
            self._set_workspace(None)
            self._show_empty(
                "This catalog has no style index yet, so there is nothing to rank. Index the product images "
                "(Catalog ▸ Index styles); it runs in the background and can be resumed.",
                offer_index=True,
            )
            return
        self._update_categories(workspace.categories)
        selected = self.list_view.currentIndex().data(ProductIdRole)
        self._set_workspace(workspace)
        taste = workspace.taste
        n = len(workspace.items)
        who = person(workspace.customer_name, workspace.query.customer_id, QFontMetrics(self.header_label.font()))
        if taste is not None and taste.is_empty:
            lead = f"<b>{who}</b> has no history yet: {n} popular products that fit the filters."
        else:
            lead = f"<b>Top {n} for {who}</b>"
        self.header_label.setText(lead)
        self.header_label.setToolTip(f"{workspace.customer_name} ({workspace.query.customer_id})".strip())
        if n == 0:
            self._show_empty("No product passes these filters. Widen the price range or pick another category.",
                             offer_index=False)  # fmt: skip
        else:
            self._stack.setCurrentWidget(self.list_view)
            if selected in self.model.product_ids():
                self.select_row(self.model.product_ids().index(selected))
        self.workspaceShown.emit(workspace)

    def _set_workspace(self, workspace: CustomerWorkspace | None) -> None:
        self._workspace = workspace
        self.model.set_workspace(workspace)

    def _update_categories(self, categories: tuple[str, ...]) -> None:
        current = [self.category_combo.itemText(i) for i in range(1, self.category_combo.count())]
        if current == list(categories):
            return
        chosen = self.category_combo.currentText()
        self.category_combo.blockSignals(True)
        self.category_combo.clear()
        self.category_combo.addItem(_ANY_CATEGORY)
        self.category_combo.addItems(list(categories))
        self.category_combo.setCurrentText(chosen if chosen in categories else _ANY_CATEGORY)
        self.category_combo.blockSignals(False)

    def _show_empty(self, text: str, offer_index: bool) -> None:
        self.empty_label.setText(text)
        self.index_button.setVisible(offer_index)
        self._stack.setCurrentIndex(0)
        if offer_index:
            self.header_label.setText("<b>No style index</b>")
        elif self._customer_id is None:
            theme.set_rich_text(self.header_label, theme.muted("No customer picked."))

    def _failed(self, info: JobInfo) -> None:
        self._set_workspace(None)
        self._show_empty(info.error, offer_index=False)
        theme.set_rich_text(self.header_label, theme.danger("Could not rank."))

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid() or self._workspace is None:
            return
        rec, explanation = current.data(RecommendationRole)
        self.productSelected.emit(rec.product_id)
        self.recommendationSelected.emit((rec, explanation, self._workspace))


@dataclass(frozen=True)
class TunedBlend:
    """What the panel needs of a catalog's tuned ranking: its weights, whether it was applied (and why not), and
    when and on how many events it was fitted (``fitted_at`` as ``YYYY-MM-DD``)."""

    weights: RankingWeights
    applied: bool
    reason: str | None
    fitted_at: str
    events: int
    retune_hint: str | None = None  # the catalog has grown well past what it was tuned on


def _tuned_blend(catalog: Catalog) -> TunedBlend | None:
    """Runs on the read lane (the tuning module loads numpy)."""
    from stylerec_desktop.core.recommend.tune import stored_ranking

    tuned = stored_ranking(catalog)
    if tuned is None:
        return None
    hint = tuned.retune_hint(catalog.counts().events)
    if hint is not None:
        hint = hint.replace("stylerec tune, or ", "Settings ▸ Recommendations ▸ ")
    return TunedBlend(tuned.weights, tuned.applied, tuned.reason, f"{tuned.fitted_at:%Y-%m-%d}", tuned.events, hint)


def _workspace(catalog: Catalog, query: WorkspaceQuery) -> CustomerWorkspace:
    """Runs on the read lane; the import is here so that torch loads on a worker, not at start-up."""
    from stylerec_desktop.core.recommend.workspace import customer_workspace

    return customer_workspace(catalog, query)


if __name__ == "__main__":
    from stylerec_desktop.gui.panels._standalone import run_panel

    def _build(catalog: Catalog, runner: JobRunner, thumbnails: ThumbnailLoader) -> QWidget:
        panel = RecommendationsPanel(runner, thumbnails)
        panel.set_catalog(catalog)
        customers = sorted(catalog.customers(), key=lambda c: -c.event_count)
        if customers:
            panel.show_customer(customers[0].customer_id)
        panel.productSelected.connect(lambda product_id: print("productSelected", product_id))
        return panel

    raise SystemExit(run_panel("Recommendations", _build, size=(520, 820)))
