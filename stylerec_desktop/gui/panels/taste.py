"""The customer's taste, shown visually: the palette of their history, each taste cluster with its share, palette
and representative products, and "Restyle in this taste", which hands the taste to the studio as a style.

It draws the :class:`~stylerec_desktop.core.recommend.workspace.CustomerWorkspace` the recommendations panel
computed; it reads nothing itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.recommend.controls import REPRESENTATIVES
from stylerec_desktop.gui import theme
from stylerec_desktop.gui.jobs import JobRunner
from stylerec_desktop.gui.text import person
from stylerec_desktop.gui.thumbnails import ThumbnailLoader
from stylerec_desktop.gui.widgets import ProductThumb, SwatchStrip

if TYPE_CHECKING:  # the recommendation modules load torch; the window must open without it (start-up time)
    from stylerec_desktop.core.recommend.workspace import CustomerWorkspace, TasteCluster

THUMB = 56


class _ClusterRow(QFrame):
    """One look: how much of the history it covers ("Look 1 · 64 % of their history · 12 of 30 products", and a bar
    of that share), its palette, its heaviest products, and a restyle button."""

    def __init__(self, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.coverage = QProgressBar()
        self.coverage.setRange(0, 1000)
        self.coverage.setTextVisible(False)
        self.coverage.setMaximumHeight(6)
        self.swatches = SwatchStrip(14)
        self.thumbs = [ProductThumb(thumbnails, THUMB) for _ in range(REPRESENTATIVES)]
        self.restyle_button = QPushButton("Restyle in this taste")
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.setVerticalSpacing(4)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.restyle_button)
        grid.addLayout(top, 0, 0)
        grid.addWidget(self.coverage, 1, 0)
        grid.addWidget(self.swatches, 2, 0)
        thumbs = QHBoxLayout()
        thumbs.setSpacing(4)
        for thumb in self.thumbs:
            thumbs.addWidget(thumb)
        thumbs.addStretch(1)
        grid.addLayout(thumbs, 3, 0)

    def show_cluster(self, workspace: CustomerWorkspace, cluster: TasteCluster, history_items: int) -> None:
        """``history_items``: how many products the whole taste was built from."""
        self.title.setText(
            f"<b>Look {cluster.number + 1}</b> · {cluster.share:.0%} of their history · "
            f"{cluster.items} of {history_items} product{'s' if history_items != 1 else ''}"
        )
        self.coverage.setValue(round(1000 * cluster.share))
        self.coverage.setToolTip(
            f"This look holds {cluster.share:.0%} of the weight of their history (recent purchases weigh most) "
            f"and {cluster.items} of the {history_items} products in it."
        )
        self.swatches.set_colours([(s.hex, s.share) for s in cluster.palette])
        for i, thumb in enumerate(self.thumbs):
            tile = workspace.tile(cluster.product_ids[i]) if i < len(cluster.product_ids) else None
            thumb.set_tile(tile)
            thumb.setVisible(tile is not None)


class TastePanel(QWidget):
    """Emits :attr:`restyleRequested` with a ``StyleVector`` (the whole taste, or one cluster of it)."""

    restyleRequested = Signal(object)

    def __init__(self, runner: JobRunner, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._workspace: CustomerWorkspace | None = None
        self.header_label = QLabel()
        self.header_label.setWordWrap(True)
        self.palette_strip = SwatchStrip(26)
        self.palette_strip.setObjectName("tastePalette")
        self.restyle_button = QPushButton("Restyle in this taste")
        self.restyle_button.setObjectName("restyleInTaste")
        self.restyle_button.setToolTip("Send this customer's taste to the studio as the style to apply")
        self.restyle_button.clicked.connect(lambda: self._restyle(None))
        self.cluster_rows: list[_ClusterRow] = []
        self._clusters = QVBoxLayout()
        self._clusters.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.header_label)
        layout.addWidget(self.palette_strip)
        layout.addWidget(self.restyle_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(self._clusters)
        layout.addStretch(1)
        self.show_workspace(None)

    def set_catalog(self, catalog: Catalog | None) -> None:
        self.show_workspace(None)

    def show_workspace(self, workspace: CustomerWorkspace | None) -> None:
        self._workspace = workspace
        taste = workspace.taste if workspace is not None else None
        has_taste = taste is not None and not taste.is_empty
        who = (
            person(workspace.customer_name, workspace.query.customer_id, QFontMetrics(self.header_label.font()))
            if workspace is not None
            else ""
        )
        self.restyle_button.setEnabled(has_taste)
        self.palette_strip.setVisible(has_taste)
        if workspace is None or taste is None:
            theme.set_rich_text(self.header_label, theme.muted("Pick a customer to see their taste."))
        elif not has_taste:
            self.header_label.setText(f"<b>{who}</b> has no indexed history yet, so no taste.")
        else:
            self.header_label.setText(
                f"<b>Taste of {who}</b> — from {len(taste.items)} products, "
                f"{len(taste.tastes)} look{'s' if len(taste.tastes) != 1 else ''}"
            )
            self.palette_strip.set_colours([(s.hex, s.share) for s in workspace.palette])
        clusters = workspace.clusters if workspace is not None and has_taste else ()
        while len(self.cluster_rows) < len(clusters):
            row = _ClusterRow(self._thumbnails)
            number = len(self.cluster_rows)
            row.restyle_button.clicked.connect(lambda _checked=False, n=number: self._restyle(n))
            self._clusters.addWidget(row)
            self.cluster_rows.append(row)
        for i, row in enumerate(self.cluster_rows):
            row.setVisible(i < len(clusters))
            if i < len(clusters):
                assert workspace is not None
                row.show_cluster(workspace, clusters[i], len(taste.items) if taste is not None else 0)
                # With one taste the cluster's button would repeat the main one.
                row.restyle_button.setVisible(len(clusters) > 1)

    def _restyle(self, which: int | None) -> None:
        if self._workspace is not None and self._workspace.taste is not None:
            # Loaded already: the workspace shown here was computed on a worker with these modules.
            from stylerec_desktop.core.recommend.service import taste_as_style

            self.restyleRequested.emit(taste_as_style(self._workspace.taste, which))


if __name__ == "__main__":
    from stylerec_desktop.gui.panels._standalone import run_panel
    from stylerec_desktop.gui.panels.recommendations import RecommendationsPanel

    def _build(catalog: Catalog, runner: JobRunner, thumbnails: ThumbnailLoader) -> QWidget:
        # The taste comes with a recommendations answer: a hidden recommendations panel asks for it.
        panel = TastePanel(runner, thumbnails)
        source = RecommendationsPanel(runner, thumbnails, panel)
        source.hide()
        source.set_catalog(catalog)
        source.workspaceShown.connect(panel.show_workspace)
        customers = sorted(catalog.customers(), key=lambda c: -c.event_count)
        if customers:
            source.show_customer(customers[0].customer_id)
        panel.restyleRequested.connect(lambda style: print("restyleRequested", style.label))
        return panel

    raise SystemExit(run_panel("Customer taste", _build, size=(380, 520)))
