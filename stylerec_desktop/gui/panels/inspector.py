"""The style-match inspector: one recommendation beside the history items that drive it.

It shows why the product ranks where it does (the per-signal contributions), which of the customer's history items
it matches (event kind and date, and the reasons: style, palette, bought together), the palette overlap as paired
swatches, and the product and the chosen history item side by side with one zoom and pan. Full images are decoded
on the read lane; only the newest choice is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.gui import theme
from stylerec_desktop.gui.compare import SCENE_SIDE, SideBySide
from stylerec_desktop.gui.jobs import JobRunner, LatestOnly

if TYPE_CHECKING:  # the recommendation modules load torch; the window must open without it (start-up time)
    from stylerec_desktop.core.recommend.explain import Because, Explanation
    from stylerec_desktop.core.recommend.ranking import Recommendation
    from stylerec_desktop.core.recommend.workspace import CustomerWorkspace
from stylerec_desktop.gui.item_models import format_date
from stylerec_desktop.gui.thumbnails import ThumbnailLoader, read_scaled
from stylerec_desktop.gui.widgets import ScoreBars, SwatchStrip

THUMB = 48
_VERBS = {"view": "viewed", "like": "liked", "cart": "carted", "purchase": "bought"}


def _load(path: Path | None) -> QImage | None:
    """Decode an image on a worker, at most the compare scene's side (QImage is allowed off the GUI thread)."""
    if path is None:
        return None
    image = read_scaled(path, SCENE_SIDE)
    return None if image.isNull() else image


class InspectorPanel(QWidget):
    """Call :meth:`inspect` with ``(Recommendation, Explanation, CustomerWorkspace)``; :attr:`productSelected`
    fires when a history item is double-clicked."""

    productSelected = Signal(int)
    imagesShown = Signal()

    def __init__(self, runner: JobRunner, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._shown: tuple[Recommendation, Explanation, CustomerWorkspace] | None = None
        self._images = LatestOnly(runner, "Load images to compare", self)

        self.title_label = QLabel()
        self.title_label.setObjectName("inspectorTitle")
        self.title_label.setWordWrap(True)
        self.why_label = QLabel()
        self.why_label.setWordWrap(True)
        self.why_label.setProperty("role", "muted")
        self.bars = ScoreBars()
        self.because_list = QListWidget()
        self.because_list.setObjectName("becauseList")
        self.because_list.setIconSize(QSize(THUMB, THUMB))
        self.because_list.setWordWrap(True)
        self.because_list.currentRowChanged.connect(self._compare_with)
        self.because_list.itemDoubleClicked.connect(
            lambda item: self.productSelected.emit(item.data(Qt.ItemDataRole.UserRole).product_id)
        )
        self.overlap_label = QLabel()
        self.overlap_label.setWordWrap(True)
        self.product_colours = SwatchStrip(18, square=True)
        self.history_colours = SwatchStrip(18, square=True)
        self.compare = SideBySide()
        self.compare.setMinimumSize(320, 180)
        thumbnails.thumbnailReady.connect(self._on_thumbnail)

        facts = QWidget()
        facts_layout = QVBoxLayout(facts)
        facts_layout.setContentsMargins(0, 0, 0, 0)
        facts_layout.setSpacing(4)
        facts_layout.addWidget(self.title_label)
        facts_layout.addWidget(self.why_label)
        facts_layout.addWidget(_heading("Contributions to the score"))
        facts_layout.addWidget(self.bars)
        facts_layout.addWidget(_heading("Palette overlap"))
        facts_layout.addWidget(self.overlap_label)
        for label, strip in (("Product", self.product_colours), ("History", self.history_colours)):
            row = QHBoxLayout()
            name = QLabel(label)
            name.setMinimumWidth(52)
            row.addWidget(name)
            row.addWidget(strip, 1)
            facts_layout.addLayout(row)
        facts_layout.addStretch(1)
        driving = QWidget()
        driving_layout = QVBoxLayout(driving)
        driving_layout.setContentsMargins(0, 0, 0, 0)
        driving_layout.addWidget(_heading("History items that drive it"))
        driving_layout.addWidget(self.because_list, 1)
        # Side by side, left to right: it docks below the grid, where the app is wide and short.
        splitter = QSplitter(Qt.Orientation.Horizontal)
        facts_scroll = QScrollArea()
        facts_scroll.setWidget(facts)
        facts_scroll.setWidgetResizable(True)
        facts_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        facts_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        splitter.addWidget(facts_scroll)
        splitter.addWidget(driving)
        splitter.addWidget(self.compare)
        splitter.setSizes([380, 240, 520])
        splitter.setChildrenCollapsible(False)
        facts_scroll.setMinimumWidth(290)
        driving.setMinimumWidth(220)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(splitter)
        self.clear()

    # -- public API ----------------------------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog | None) -> None:
        self.clear()

    def clear(self) -> None:
        self._shown = None
        self._images.invalidate()
        theme.set_rich_text(self.title_label, theme.muted("Pick a recommendation to see why it matches."))
        self.why_label.clear()
        self.bars.set_components({})
        self.because_list.clear()
        self.overlap_label.clear()
        self.product_colours.set_colours([])
        self.history_colours.set_colours([])
        self.compare.set_images(None, None)
        self.compare.set_titles("", "")

    def inspect(self, selection: tuple[Recommendation, Explanation, CustomerWorkspace]) -> None:
        rec, explanation, workspace = selection
        self._shown = selection
        tile = workspace.tile(rec.product_id)
        category = f" · {tile.category}" if tile is not None else ""
        rank = next((i + 1 for i, (r, _) in enumerate(workspace.items) if r.product_id == rec.product_id), None)
        place = f"no. {rank} of {len(workspace.items)} · " if rank is not None else ""
        theme.set_rich_text(
            self.title_label,
            lambda c: f"<div style='font-size:15px; font-weight:600'>{_escape(rec.title)}</div>"
            f"<div style='color:{c.muted_text.name()}'>{rec.sku}{category} · {place}score {rec.score:.2f}"
            f"{' · new product' if rec.cold_start else ''}</div>",
        )
        self.why_label.setText("Why: " + _escape(explanation.summary()))
        self.bars.set_components(rec.components)
        if explanation.palette_sku:
            self.overlap_label.setText(
                f"{explanation.palette_overlap:.0%} of its colours match {explanation.palette_sku} "
                f"({len(explanation.shared_colours)} colour pair{'s' if len(explanation.shared_colours) != 1 else ''})"
            )
        else:
            self.overlap_label.setText("No history item shares its palette.")
        self.product_colours.set_colours([(m.product_hex, m.product_share) for m in explanation.shared_colours])
        self.history_colours.set_colours([(m.history_hex, m.product_share) for m in explanation.shared_colours])
        self.because_list.blockSignals(True)
        self.because_list.clear()
        for because in explanation.because:
            item = QListWidgetItem(self._because_text(because))
            item.setData(Qt.ItemDataRole.UserRole, because)
            item.setForeground(theme.colours().events.get(because.kind, theme.colours().muted_text))
            item.setToolTip(because.sentence())
            item.setIcon(self._icon(workspace, because.product_id))
            self.because_list.addItem(item)
        self.because_list.blockSignals(False)
        if explanation.because:
            self.because_list.setCurrentRow(0)  # loads the pair of images
        else:
            self._compare_with(-1)

    def driving_items(self) -> list[Because]:
        """The history items listed, in order."""
        return [self.because_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.because_list.count())]

    # -- internals -----------------------------------------------------------------------------------------

    @staticmethod
    def _because_text(because: Because) -> str:
        reasons = ", ".join(because.reasons)
        return f"{_VERBS[because.kind]} {format_date(because.ts)} — {because.title}\n{because.sku} · {reasons}"

    def _icon(self, workspace: CustomerWorkspace, product_id: int) -> QIcon:
        tile = workspace.tile(product_id)
        pixmap = None if tile is None else self._thumbnails.pixmap(tile.image_sha256, tile.image_path, THUMB)
        return QIcon(pixmap if pixmap is not None else self._thumbnails.placeholder(THUMB))

    def _on_thumbnail(self, sha256: str) -> None:
        if self._shown is None:
            return
        workspace = self._shown[2]
        for i in range(self.because_list.count()):
            item = self.because_list.item(i)
            tile = workspace.tile(item.data(Qt.ItemDataRole.UserRole).product_id)
            if tile is not None and tile.image_sha256 == sha256:
                item.setIcon(self._icon(workspace, tile.id))

    def _compare_with(self, row: int) -> None:
        if self._shown is None:
            return
        rec, _, workspace = self._shown
        tile = workspace.tile(rec.product_id)
        because = self.because_list.item(row).data(Qt.ItemDataRole.UserRole) if row >= 0 else None
        other = workspace.tile(because.product_id) if because is not None else None
        left_path = tile.image_path if tile is not None else None
        right_path = other.image_path if other is not None else None
        self.compare.set_titles(
            f"<b>Recommended</b> · {_escape(rec.title)}",
            f"<b>{_VERBS[because.kind].capitalize()} {format_date(because.ts)}</b> · {_escape(because.title)}"
            if because is not None else "No history item to compare with",
        )  # fmt: skip
        self._images.run(lambda: (_load(left_path), _load(right_path)), self._show_images)

    def _show_images(self, images: tuple[QImage | None, QImage | None]) -> None:
        self.compare.set_images(*images)
        self.compare.fit()
        self.imagesShown.emit()


def _heading(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    label.setContentsMargins(0, 6, 0, 0)
    return label


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


if __name__ == "__main__":
    from stylerec_desktop.gui.panels._standalone import run_panel
    from stylerec_desktop.gui.panels.recommendations import RecommendationsPanel

    def _build(catalog: Catalog, runner: JobRunner, thumbnails: ThumbnailLoader) -> QWidget:
        # The inspector explains a pick of the recommendations panel: show both, side by side.
        window = QSplitter()
        source = RecommendationsPanel(runner, thumbnails)
        panel = InspectorPanel(runner, thumbnails)
        window.addWidget(source)
        window.addWidget(panel)
        source.set_catalog(catalog)
        source.recommendationSelected.connect(panel.inspect)
        source.workspaceShown.connect(lambda _ws: source.select_row(0) if source.model.rowCount() else None)
        customers = sorted(catalog.customers(), key=lambda c: -c.event_count)
        if customers:
            source.show_customer(customers[0].customer_id)
        return window

    raise SystemExit(run_panel("Style-match inspector", _build, size=(1200, 760)))
