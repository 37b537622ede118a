"""Small painted widgets shared by the workspace panels: palette swatches, score bars, product thumbnails and a
label that elides long ids.

They draw what they are given; none reads the catalog.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFontMetrics,
    QGuiApplication,
    QPaintDevice,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from stylerec_desktop.core.catalog import ProductTile
from stylerec_desktop.gui import theme
from stylerec_desktop.gui.thumbnails import ThumbnailLoader


@contextmanager
def painting(device: QPaintDevice) -> Iterator[QPainter]:
    """A QPainter on ``device`` for the ``with`` block, ended when the block ends.

    Never leave the end to Python dropping the object: a frame kept alive past the paint event (a profiler's stack
    sample, ``sys._current_frames()``, a stored traceback) keeps the painter active after Qt finished the paint
    event ("QBackingStore::endPaint() called with active painter"), and whichever thread drops that frame ends it
    later, while the GUI thread paints: a segfault in the next ``drawText`` (scripts/workspace_timings.py
    --explain crashed that way).
    """
    painter = QPainter(device)
    try:
        yield painter
    finally:
        painter.end()

class FileDropTarget:
    """Mixin (before the Qt class) for a widget that takes files dropped on it: :meth:`accepts_dropped` says which
    files it takes (by name only: this runs on the GUI thread for every drag move), :meth:`take_dropped` gets them.
    The widget still calls ``setAcceptDrops(True)``."""

    def accepts_dropped(self, path: Path) -> bool:
        raise NotImplementedError

    def take_dropped(self, paths: list[Path]) -> None:
        raise NotImplementedError

    def _dropped(self, event: QDropEvent) -> list[Path]:
        # QDragEnterEvent and QDragMoveEvent are QDropEvents: one reading of the dragged files for all three.
        if not event.mimeData().hasUrls():
            return []
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        return [path for path in paths if self.accepts_dropped(path)]

    def _answer_drag(self, event: QDragMoveEvent) -> None:
        if self._dropped(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self._answer_drag(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self._answer_drag(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped(event)
        if paths:
            event.acceptProposedAction()
            self.take_dropped(paths)
        else:
            event.ignore()

#: Colour (in the theme shown) and user-facing name of each ranking signal, in the order the bars are drawn.
SIGNAL_COLOURS = theme.LiveColours(lambda colours: colours.signals)
SIGNAL_NAMES = {
    "style": "Style",
    "visual": "Visual",
    "colour": "Colour",
    "pattern": "Pattern",
    "neighbour": "Close match",
    "group": "Same product",
    "behaviour": "Bought together",
    "popularity": "Popularity",
    "learned": "Learned",
}


class SwatchStrip(QWidget):
    """A row of colour swatches (``[(hex, share), ...]``), each as wide as its share, or all square with
    ``square`` (for pairs of colours shown one strip above the other); tooltips give the hex."""

    def __init__(self, height: int = 22, parent: QWidget | None = None, square: bool = False) -> None:
        super().__init__(parent)
        self._colours: list[tuple[str, float]] = []
        self._square = square
        self.setMinimumHeight(height)
        self.setMaximumHeight(height)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_colours(self, colours: Sequence[tuple[str, float]]) -> None:
        self._colours = list(colours)
        self.setToolTip("  ".join(f"{hex_} {share:.0%}" for hex_, share in self._colours))
        self.update()

    def colours(self) -> list[tuple[str, float]]:
        return list(self._colours)

    def sizeHint(self) -> QSize:
        return QSize(160, self.minimumHeight())

    def paintEvent(self, event: QPaintEvent) -> None:
        with painting(self) as painter:
            self._paint(painter)

    def _paint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        border = theme.colours().card_border
        if not self._colours:
            painter.setPen(QPen(border, 1, Qt.PenStyle.DashLine))
            painter.drawRoundedRect(rect, 4, 4)
            return
        if self._square:
            for i, (hex_, _share) in enumerate(self._colours):
                box = QRectF(rect.left() + i * (rect.height() + 4), rect.top(), rect.height(), rect.height())
                painter.setPen(QPen(border, 1))
                painter.setBrush(QColor(hex_))
                painter.drawRoundedRect(box, 3, 3)
            return
        total = sum(max(share, 0.02) for _, share in self._colours)
        x = rect.left()
        for hex_, share in self._colours:
            width = rect.width() * max(share, 0.02) / total
            painter.fillRect(QRectF(x, rect.top(), width, rect.height()), QColor(hex_))
            x += width
        painter.setPen(QPen(border, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, 3, 3)


def paint_score_bars(
    painter: QPainter,
    rect: QRect,
    components: Mapping[str, float],
    scale: float,
    labels: bool = False,
    values: bool = True,
) -> None:
    """One thin horizontal bar per signal in ``rect``; positive terms grow right of a zero line, negative ones left.
    ``scale`` is the term that fills the positive side; ``labels`` writes the signal names to the left, and with
    ``values`` the term's number to the right."""
    names = [name for name in SIGNAL_COLOURS if name in components]
    if not names:
        return
    row_h = rect.height() / len(names)
    metrics = QFontMetrics(painter.font())
    label_w = max(metrics.horizontalAdvance(SIGNAL_NAMES[n]) for n in names) + 6 if labels else 0
    value_w = metrics.horizontalAdvance("+00.0") + 16 if labels and values else 0
    bar_left = rect.left() + label_w
    bar_w = max(10, rect.width() - label_w - value_w)
    zero = bar_left + bar_w * 0.2  # room for negative terms, which are small by construction
    colours = theme.colours()
    for i, name in enumerate(names):
        top = rect.top() + i * row_h
        bar_h = max(2.0, min(row_h - 2, 8.0))
        y = top + (row_h - bar_h) / 2
        if labels:
            painter.setPen(colours.muted_text)
            text_rect = QRectF(rect.left(), top, label_w - 6, row_h)
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, SIGNAL_NAMES[name])
        painter.fillRect(QRectF(bar_left, y, bar_w, bar_h), colours.track)
        value = components[name]
        length = (bar_w * 0.8 if value >= 0 else bar_w * 0.2) * min(1.0, abs(value) / max(scale, 1e-6))
        left = zero if value >= 0 else zero - length
        painter.fillRect(QRectF(left, y, length, bar_h), colours.signals[name])
        if labels and values:
            painter.setPen(colours.muted_text)
            value_rect = QRectF(bar_left + bar_w + 4, top, value_w, row_h)
            painter.drawText(value_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{value:+.1f}")
    painter.setPen(QPen(colours.card_hover_border, 1))
    painter.drawLine(int(zero), rect.top(), int(zero), rect.bottom())


class ScoreBars(QWidget):
    """The per-signal contributions of one recommendation, labelled (the inspector's breakdown)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._components: dict[str, float] = {}
        self.setMinimumHeight(len(SIGNAL_NAMES) * 18)  # one readable row per signal
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_components(self, components: Mapping[str, float]) -> None:
        self._components = dict(components)
        tips = [f"{SIGNAL_NAMES[n]}: {components[n]:+.2f}" for n in SIGNAL_COLOURS if n in components]
        self.setToolTip("\n".join(tips))
        self.update()

    def components(self) -> dict[str, float]:
        return dict(self._components)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._components:
            return
        scale = max(abs(v) for v in self._components.values())
        with painting(self) as painter:
            paint_score_bars(painter, self.rect().adjusted(0, 0, -2, 0), self._components, scale, labels=True)


class ProductThumb(QLabel):
    """A product's thumbnail, filled in when the loader has made it."""

    def __init__(self, thumbnails: ThumbnailLoader, size: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._size = size
        self._tile: ProductTile | None = None
        self.setFixedSize(size, size)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        thumbnails.thumbnailReady.connect(self._on_ready)
        self.setPixmap(thumbnails.placeholder(size))

    def set_tile(self, tile: ProductTile | None) -> None:
        self._tile = tile
        self.setToolTip(f"{tile.title}\n{tile.sku}" if tile is not None else "")
        self._show()

    def tile(self) -> ProductTile | None:
        return self._tile

    def _show(self) -> None:
        tile = self._tile
        pixmap = None
        if tile is not None:
            pixmap = self._thumbnails.pixmap(tile.image_sha256, tile.image_path, self._size)
        self.setPixmap(pixmap if pixmap is not None else self._thumbnails.placeholder(self._size))

    def _on_ready(self, sha256: str) -> None:
        if self._tile is not None and self._tile.image_sha256 == sha256:
            self._show()


class ElidedLabel(QLabel):
    """One line of plain text that never widens its layout: too long for its width, it is elided (in the middle
    by default, so both ends of a hashed id stay readable) and the whole text is its tooltip. Its context menu
    offers Copy (the whole text)."""

    def __init__(
        self,
        text: str = "",
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle,
        parent: QWidget | None = None,
        copy_label: str = "Copy",
    ) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self._copy_label = copy_label
        self.setTextFormat(Qt.TextFormat.PlainText)
        # Ignored width: the label takes what the layout gives it, and asks for nothing more.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy = QAction(copy_label, self)
        copy.triggered.connect(self.copy_text)
        self.addAction(copy)
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self._elide()

    def full_text(self) -> str:
        return self._full

    def copy_text(self) -> None:
        """Put the whole text on the clipboard."""
        QGuiApplication.clipboard().setText(self._full)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance(self._full) + 4), hint.height())

    def _elide(self) -> None:
        width = max(10, self.contentsRect().width())
        shown = self.fontMetrics().elidedText(self._full, self._mode, width)
        if shown != self.text():  # a new text asks for a new layout, which resizes us: only when it changed
            super().setText(shown)
        tip = self._full if shown != self._full else ""
        if tip != self.toolTip():
            self.setToolTip(tip)
