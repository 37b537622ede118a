"""Two images side by side with one zoom and one pan (a light table for two): wheel zooms both, dragging or
scrolling either pans both. Used by the style-match inspector and the studio's results strip."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.gui import theme

# Both pictures are shown at this side, so the same scene point is the same place on both (products are shot
# square or nearly; a different aspect is letterboxed).
SCENE_SIDE = 1024
MIN_ZOOM, MAX_ZOOM = 0.05, 16.0


class _View(QGraphicsView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.item)
        self.scene().setSceneRect(0, 0, SCENE_SIDE, SCENE_SIDE)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        painter.fillRect(rect, theme.colours().base)  # the theme shown now: a switch repaints it

    def set_image(self, image: QImage | None) -> None:
        if image is None or image.isNull():
            self.item.setPixmap(QPixmap())
            return
        pixmap = QPixmap.fromImage(image).scaled(
            SCENE_SIDE, SCENE_SIDE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        self.item.setPixmap(pixmap)
        self.item.setPos((SCENE_SIDE - pixmap.width()) / 2, (SCENE_SIDE - pixmap.height()) / 2)


class SideBySide(QWidget):
    """Left and right image views that always show the same region at the same zoom."""

    zoomChanged = Signal(float)

    def __init__(self, left_title: str = "", right_title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.left, self.right = _View(), _View()
        self.left_label, self.right_label = QLabel(left_title), QLabel(right_title)
        self._zoom = 1.0
        self._fitted = True  # follows the view's size until the user zooms
        self._syncing = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for label, view in ((self.left_label, self.left), (self.right_label, self.right)):
            label.setWordWrap(True)
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(label)
            column.addWidget(view, 1)
            layout.addLayout(column, 1)
            view.viewport().installEventFilter(self)
            view.horizontalScrollBar().valueChanged.connect(lambda _v, v=view: self._sync_scroll(v))
            view.verticalScrollBar().valueChanged.connect(lambda _v, v=view: self._sync_scroll(v))

    def set_images(self, left: QImage | None, right: QImage | None) -> None:
        self.left.set_image(left)
        self.right.set_image(right)

    def set_titles(self, left: str, right: str) -> None:
        self.left_label.setText(left)
        self.right_label.setText(right)

    def zoom(self) -> float:
        return self._zoom

    def fit(self) -> None:
        """Zoom so the whole picture fits the smaller of the two views."""
        side = min(self.left.viewport().width(), self.left.viewport().height())
        self.set_zoom(max(MIN_ZOOM, side / SCENE_SIDE) if side > 0 else 0.25)
        self._fitted = True

    def set_zoom(self, zoom: float) -> None:
        self._fitted = False
        self._zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        for view in (self.left, self.right):
            view.resetTransform()
            view.scale(self._zoom, self._zoom)
        self._sync_scroll(self.left)
        self.zoomChanged.emit(self._zoom)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fitted:
            self.fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and watched in (self.left.viewport(), self.right.viewport()):
            assert isinstance(event, QWheelEvent)
            steps = event.angleDelta().y() / 120
            if steps:
                self.set_zoom(self._zoom * (1.25**steps))
            return True
        return super().eventFilter(watched, event)

    def _sync_scroll(self, source: _View) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            target = self.right if source is self.left else self.left
            target.horizontalScrollBar().setValue(source.horizontalScrollBar().value())
            target.verticalScrollBar().setValue(source.verticalScrollBar().value())
        finally:
            self._syncing = False
