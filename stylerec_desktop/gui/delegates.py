"""Painters for the product grid and the customer history. They read the model's roles and nothing else:
no catalog access, no reaching into the window (calibre's CoverDelegate is the warning)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from stylerec_desktop.gui import theme
from stylerec_desktop.gui.item_models import (
    CategoryRole,
    EventKindRole,
    PriceTextRole,
    QuantityRole,
    SkuRole,
    TileRole,
    TimestampRole,
    format_date,
)

Index = QModelIndex | QPersistentModelIndex

_PAD = 8
_TEXT_GAP = 6
_RADIUS = 6.0


def _card(painter: QPainter, rect: QRect, option: QStyleOptionViewItem) -> None:
    """A rounded card in the theme's card colour; accent ring when selected, stronger border on hover."""
    colours = theme.colours()
    selected = bool(option.state & QStyle.StateFlag.State_Selected)
    hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
    box = QRectF(rect).adjusted(1, 1, -1, -1)
    painter.setBrush(colours.card_selected if selected else colours.card)
    if selected:
        painter.setPen(QPen(colours.accent, 2))
    else:
        painter.setPen(QPen(colours.card_hover_border if hovered else colours.card_border, 1))
    painter.drawRoundedRect(box, _RADIUS, _RADIUS)


def _draw_centred(painter: QPainter, pixmap: QPixmap, area: QRect) -> None:
    size = pixmap.size()
    if size.width() > area.width() or size.height() > area.height():
        size.scale(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
    x = area.x() + (area.width() - size.width()) // 2
    y = area.y() + (area.height() - size.height()) // 2
    painter.drawPixmap(QRect(x, y, size.width(), size.height()), pixmap)


class ProductTileDelegate(QStyledItemDelegate):
    """A card: square thumbnail, title on one line, price and sku below."""

    def __init__(self, thumb_size: int = 160, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumb_size = thumb_size

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return self.tile_size(option.font)

    def tile_size(self, font: QFont) -> QSize:
        """The card's size for ``font``: the same for every product (the view relies on uniform sizes)."""
        line = QFontMetrics(font).height()
        return QSize(self.thumb_size + 2 * _PAD, _PAD + self.thumb_size + _TEXT_GAP + 2 * line + 2 + _PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect
        _card(painter, rect, option)
        image_area = QRect(rect.x() + _PAD, rect.y() + _PAD, rect.width() - 2 * _PAD, self.thumb_size)
        text_left = rect.x() + _PAD
        text_width = rect.width() - 2 * _PAD
        line = QFontMetrics(option.font).height()
        title_top = image_area.bottom() + 1 + _TEXT_GAP
        tile = index.data(TileRole)
        if tile is None:
            # Its page is on its way: grey bars where the text will be, so the grid never looks broken.
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.colours().skeleton)
            painter.drawRoundedRect(QRectF(image_area), 4, 4)
            painter.drawRoundedRect(QRectF(text_left, title_top + 3, text_width * 0.8, line - 6), 3, 3)
            painter.drawRoundedRect(QRectF(text_left, title_top + line + 5, text_width * 0.4, line - 6), 3, 3)
            painter.restore()
            return
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            _draw_centred(painter, pixmap, image_area)
        title_font = QFont(option.font)
        title_font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(title_font)
        painter.setPen(option.palette.color(option.palette.ColorRole.Text))
        title = QFontMetrics(title_font).elidedText(tile.title, Qt.TextElideMode.ElideRight, text_width)
        painter.drawText(QRect(text_left, title_top, text_width, line), Qt.AlignmentFlag.AlignLeft, title)
        meta_top = title_top + line + 2
        price = index.data(PriceTextRole) or ""
        painter.setFont(option.font)
        metrics = QFontMetrics(option.font)
        price_width = metrics.horizontalAdvance(price) + (8 if price else 0)
        painter.drawText(QRect(text_left, meta_top, price_width, line), Qt.AlignmentFlag.AlignLeft, price)
        painter.setPen(theme.colours().muted_text)
        sku = metrics.elidedText(index.data(SkuRole) or "", Qt.TextElideMode.ElideLeft, text_width - price_width)
        painter.drawText(
            QRect(text_left + price_width, meta_top, text_width - price_width, line), Qt.AlignmentFlag.AlignRight, sku
        )
        painter.restore()


def draw_badge(painter: QPainter, text: str, colour: QColor, left: int, top: int, font: QFont) -> int:
    """A coloured pill with the theme's badge text colour; returns its width."""
    badge_font = QFont(font)
    badge_font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
    badge_font.setWeight(QFont.Weight.DemiBold)
    metrics = QFontMetrics(badge_font)
    width = metrics.horizontalAdvance(text) + 12
    height = metrics.height() + 2
    path = QPainterPath()
    path.addRoundedRect(QRectF(left, top, width, height), height / 2, height / 2)
    painter.fillPath(path, colour)
    painter.setFont(badge_font)
    painter.setPen(theme.colours().badge_text)
    painter.drawText(QRect(left, top, width, height), Qt.AlignmentFlag.AlignCenter, text)
    return width


class HistoryItemDelegate(QStyledItemDelegate):
    """One event: thumbnail left; title; kind badge, date and quantity; sku and category."""

    def __init__(self, thumb_size: int = 72, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumb_size = thumb_size

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        line = QFontMetrics(option.font).height()
        return QSize(240, max(self.thumb_size, 3 * line + 8) + 2 * 6)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect.adjusted(4, 2, -4, -2)
        _card(painter, rect, option)
        image_area = QRect(
            rect.x() + 6, rect.y() + (rect.height() - self.thumb_size) // 2, self.thumb_size, self.thumb_size
        )
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            _draw_centred(painter, pixmap, image_area)
        left = image_area.right() + 1 + 10
        width = rect.right() - left - 6
        metrics = QFontMetrics(option.font)
        line = metrics.height()
        top = rect.y() + (rect.height() - (3 * line + 6)) // 2
        title_font = QFont(option.font)
        title_font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(title_font)
        painter.setPen(option.palette.color(option.palette.ColorRole.Text))
        title = QFontMetrics(title_font).elidedText(index.data() or "", Qt.TextElideMode.ElideRight, width)
        painter.drawText(QRect(left, top, width, line), Qt.AlignmentFlag.AlignLeft, title)
        kind = index.data(EventKindRole) or ""
        badge_top = top + line + 3
        colours = theme.colours()
        badge_width = draw_badge(
            painter, kind, colours.events.get(kind, colours.muted_text), left, badge_top, option.font
        )
        when = index.data(TimestampRole)
        quantity = index.data(QuantityRole) or 1
        detail = format_date(when) if when is not None else ""
        if quantity > 1:
            detail += f"  ×{quantity}"
        painter.setFont(option.font)
        painter.setPen(option.palette.color(option.palette.ColorRole.Text))
        painter.drawText(
            QRect(left + badge_width + 8, badge_top, width - badge_width - 8, line + 2),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            detail,
        )
        painter.setPen(colours.muted_text)
        meta = " · ".join(part for part in (index.data(SkuRole), index.data(CategoryRole)) if part)
        meta = metrics.elidedText(meta, Qt.TextElideMode.ElideRight, width)
        painter.drawText(QRect(left, badge_top + line + 5, width, line), Qt.AlignmentFlag.AlignLeft, meta)
        painter.restore()
