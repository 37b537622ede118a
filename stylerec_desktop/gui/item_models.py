"""Qt item models over the catalog. They hold ids and small records; the catalog is read on worker threads.

:class:`ProductGridModel` is the one that must stay smooth at 100,000 products: it holds only the list of ids,
loads grid tiles a page at a time on the read lane the first time a row of that page is asked for, keeps a
bounded number of pages, and repaints only the rows whose thumbnail just arrived.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPixmap

from stylerec_desktop.core.catalog import Catalog, Customer, HistoryItem, ProductTile
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, Lane
from stylerec_desktop.gui.thumbnails import ThumbnailLoader

# Custom roles, shared by the models below and read by the delegates and panels.
ProductIdRole = Qt.ItemDataRole.UserRole + 1
SkuRole = Qt.ItemDataRole.UserRole + 2
TitleRole = Qt.ItemDataRole.UserRole + 3
CategoryRole = Qt.ItemDataRole.UserRole + 4
PriceTextRole = Qt.ItemDataRole.UserRole + 5
TileRole = Qt.ItemDataRole.UserRole + 6  # the ProductTile, or None while its page loads
EventKindRole = Qt.ItemDataRole.UserRole + 7
TimestampRole = Qt.ItemDataRole.UserRole + 8
QuantityRole = Qt.ItemDataRole.UserRole + 9
CustomerIdRole = Qt.ItemDataRole.UserRole + 10

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

Index = QModelIndex | QPersistentModelIndex


def format_price(price: float | None, currency: str) -> str:
    """``$19.50``, ``€1,200.00``, ``12.00 CHF``; an empty string when there is no price."""
    if price is None:
        return ""
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    return f"{symbol}{price:,.2f}" if symbol else f"{price:,.2f} {currency}"


def format_date(ts: datetime) -> str:
    """``3 Mar 2026``, in local time."""
    local = ts.astimezone()
    return f"{local.day} {local:%b %Y}"


class ProductGridModel(QAbstractListModel):
    """A list of product ids whose tiles load lazily, a page at a time, off the GUI thread."""

    def __init__(
        self,
        runner: JobRunner,
        thumbnails: ThumbnailLoader,
        *,
        thumb_size: int = 160,
        page_size: int = 200,
        max_pages: int = 60,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._thumbnails = thumbnails
        self._catalog: Catalog | None = None
        self.thumb_size = thumb_size
        self.page_size = page_size
        self._max_pages = max_pages
        self._ids: list[int] = []
        self._pages: OrderedDict[int, dict[int, ProductTile]] = OrderedDict()
        self._loading: set[int] = set()
        self._rows_by_sha: dict[str, set[int]] = {}
        # Bumped on every reset: a page that arrives for an older id list is dropped (it would land on the
        # wrong rows).
        self._generation = 0
        self.page_loads = 0  # pages requested so far; the tests read it to see that scrolling loads little
        thumbnails.thumbnailReady.connect(self._on_thumbnail)

    # -- feeding -------------------------------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        self.set_ids([])

    def set_ids(self, ids: Sequence[int]) -> None:
        """Show these products, in this order. Nothing is read here; rows load when first shown."""
        self.beginResetModel()
        self._generation += 1
        self._ids = list(ids)
        self._pages.clear()
        self._loading.clear()
        self._rows_by_sha.clear()
        self.endResetModel()

    def ids(self) -> list[int]:
        return list(self._ids)

    def refresh_product(self, product_id: int) -> None:
        """Read the tile of ``product_id`` again (after an edit) and repaint its row; nothing when its page is
        not in memory (it is read fresh when shown)."""
        row = self.row_of(product_id)
        if row is None or self._catalog is None or row // self.page_size not in self._pages:
            return
        catalog, generation, page_no = self._catalog, self._generation, row // self.page_size

        def arrived(tiles: dict[int, ProductTile]) -> None:
            page = self._pages.get(page_no)
            if generation != self._generation or page is None or product_id not in tiles:
                return  # the grid shows another list now, or dropped that page meanwhile
            page[product_id] = tiles[product_id]
            index = self.index(row)
            self.dataChanged.emit(index, index)

        self._runner.submit(
            f"Reload product {product_id}",
            lambda: catalog.product_tiles([product_id]),
            lane=Lane.READ,
            hidden=True,
            on_result=arrived,
        )

    def product_id(self, row: int) -> int:
        return self._ids[row]

    def row_of(self, product_id: int) -> int | None:
        try:
            return self._ids.index(product_id)
        except ValueError:
            return None

    def loaded_pages(self) -> set[int]:
        return set(self._pages)

    def tile(self, row: int) -> ProductTile | None:
        """The tile of ``row`` if its page is in memory (queues the page otherwise)."""
        if not 0 <= row < len(self._ids):
            return None
        page_no = row // self.page_size
        page = self._pages.get(page_no)
        if page is None:
            self._load_page(page_no)
            return None
        self._pages.move_to_end(page_no)  # least recently painted pages are evicted first
        return page.get(self._ids[row])

    # -- Qt model API --------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if not index.isValid() or row >= len(self._ids):
            return None
        if role == ProductIdRole:
            return self._ids[row]
        tile = self.tile(row)
        if role == TileRole:
            return tile
        if tile is None:
            return "Loading…" if role == Qt.ItemDataRole.DisplayRole else None
        if role in (Qt.ItemDataRole.DisplayRole, TitleRole):
            return tile.title
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail(tile)
        if role == Qt.ItemDataRole.ToolTipRole:
            price = format_price(tile.price, tile.currency)
            return f"<b>{_escape(tile.title)}</b><br>{_escape(tile.sku)} · {_escape(tile.category)}" + (
                f"<br>{price}" if price else ""
            )
        if role == SkuRole:
            return tile.sku
        if role == CategoryRole:
            return tile.category
        if role == PriceTextRole:
            return format_price(tile.price, tile.currency)
        return None

    def thumbnail(self, tile: ProductTile) -> QPixmap:
        pixmap = self._thumbnails.pixmap(tile.image_sha256, tile.image_path, self.thumb_size)
        return pixmap if pixmap is not None else self._thumbnails.placeholder(self.thumb_size)

    def thumbnail_ready(self, tile: ProductTile) -> bool:
        """True when the tile's real thumbnail (or its placeholder for no image) is in RAM."""
        if not tile.image_sha256:
            return True
        return self._thumbnails.cached(tile.image_sha256, self.thumb_size) is not None

    # -- loading -------------------------------------------------------------------------------------------

    def _load_page(self, page_no: int) -> None:
        if page_no in self._loading or self._catalog is None:
            return
        self._loading.add(page_no)
        self.page_loads += 1
        catalog, generation = self._catalog, self._generation
        ids = self._ids[page_no * self.page_size : (page_no + 1) * self.page_size]

        def arrived(tiles: dict[int, ProductTile]) -> None:
            if generation == self._generation:
                self._page_arrived(page_no, tiles)

        def failed(info: JobInfo) -> None:
            if generation == self._generation:
                self._loading.discard(page_no)

        self._runner.submit(
            f"Load products {page_no * self.page_size + 1}–{page_no * self.page_size + len(ids)}",
            lambda: catalog.product_tiles(ids),
            lane=Lane.READ,
            hidden=True,
            on_result=arrived,
            on_failure=failed,
        )

    def _page_arrived(self, page_no: int, tiles: dict[int, ProductTile]) -> None:
        self._loading.discard(page_no)
        first = page_no * self.page_size
        last = min(len(self._ids), first + self.page_size) - 1
        self._pages[page_no] = tiles
        for row in range(first, last + 1):
            tile = tiles.get(self._ids[row])
            if tile is not None and tile.image_sha256:
                self._rows_by_sha.setdefault(tile.image_sha256, set()).add(row)
        while len(self._pages) > self._max_pages:
            self._evict(next(iter(self._pages)))
        if last >= first:
            self.dataChanged.emit(self.index(first), self.index(last))

    def _evict(self, page_no: int) -> None:
        tiles = self._pages.pop(page_no)
        first = page_no * self.page_size
        for row in range(first, min(len(self._ids), first + self.page_size)):
            tile = tiles.get(self._ids[row])
            if tile is not None and tile.image_sha256:
                rows = self._rows_by_sha.get(tile.image_sha256)
                if rows is not None:
                    rows.discard(row)
                    if not rows:
                        del self._rows_by_sha[tile.image_sha256]

    def _on_thumbnail(self, sha256: str) -> None:
        rows = self._rows_by_sha.get(sha256)
        if not rows:
            return
        roles = [Qt.ItemDataRole.DecorationRole]
        if len(rows) == 1:
            index = self.index(next(iter(rows)))
            self.dataChanged.emit(index, index, roles)
        else:
            # Many rows sharing one image: one ranged signal; the view repaints what of it is visible.
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)), roles)


class HistoryModel(QAbstractListModel):
    """A customer's events (newest first), each with its product's thumbnail."""

    def __init__(self, thumbnails: ThumbnailLoader, thumb_size: int = 72, parent: Any = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self.thumb_size = thumb_size
        self._items: list[HistoryItem] = []
        self._rows_by_sha: dict[str, list[int]] = {}
        thumbnails.thumbnailReady.connect(self._on_thumbnail)

    def set_items(self, items: Sequence[HistoryItem]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self._rows_by_sha = {}
        for row, item in enumerate(self._items):
            if item.image_sha256:
                self._rows_by_sha.setdefault(item.image_sha256, []).append(row)
        self.endResetModel()

    def items(self) -> list[HistoryItem]:
        return list(self._items)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._items):
            return None
        item = self._items[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, TitleRole):
            return item.title
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._thumbnails.pixmap(item.image_sha256, item.image_path, self.thumb_size)
            return pixmap if pixmap is not None else self._thumbnails.placeholder(self.thumb_size)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{item.kind} · {format_date(item.ts)} · {item.sku} · {item.category}"
        if role == ProductIdRole:
            return item.product_id
        if role == SkuRole:
            return item.sku
        if role == CategoryRole:
            return item.category
        if role == EventKindRole:
            return item.kind
        if role == TimestampRole:
            return item.ts
        if role == QuantityRole:
            return item.quantity
        return None

    def _on_thumbnail(self, sha256: str) -> None:
        for row in self._rows_by_sha.get(sha256, ()):
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class CustomerListModel(QAbstractListModel):
    """Customers found by the picker's search."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._customers: list[Customer] = []

    def set_customers(self, customers: Sequence[Customer]) -> None:
        self.beginResetModel()
        self._customers = list(customers)
        self.endResetModel()

    def customer(self, row: int) -> Customer:
        return self._customers[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self._customers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._customers):
            return None
        customer = self._customers[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            # Two lines, each elided on its own by the view (in the middle: a hashed id keeps both ends).
            name = customer.name or customer.email or "(no name)"
            events = f"{customer.event_count} event{'s' if customer.event_count != 1 else ''}"
            last = f" · last {format_date(customer.last_event)}" if customer.last_event is not None else ""
            return f"{name}\n{_middle(customer.customer_id)} · {events}{last}"
        if role == Qt.ItemDataRole.ToolTipRole:
            parts = [customer.customer_id, customer.email, customer.country]
            return "\n".join(part for part in parts if part)
        if role == CustomerIdRole:
            return customer.customer_id
        return None


def _middle(text: str, limit: int = 22) -> str:
    """``text`` cut in the middle to ``limit`` characters: a 64-character hashed id keeps both ends in a list row,
    and the event count after it stays in view. The whole id is in the row's tooltip."""
    return text if len(text) <= limit else f"{text[: limit // 2 - 1]}…{text[-(limit // 2 - 1) :]}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
