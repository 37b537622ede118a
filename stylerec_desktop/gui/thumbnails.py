"""Thumbnails for the views: made off the GUI thread, kept in RAM as an LRU of pixmaps, on disk by the core.

The design follows calibre's cover cache: requests go on a LIFO stack (the rows the user looks at *now* win
over those scrolled past a second ago), worker threads make the disk thumbnail with
:func:`~stylerec_desktop.core.thumbnail_cache.ensure_thumbnail` and decode it into a ``QImage`` (allowed off the GUI
thread), and the GUI thread turns it into a ``QPixmap`` (which is not) and announces it with
:attr:`ThumbnailLoader.thumbnailReady`. Views ask again on that signal and repaint only the rows showing it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QPointF, QRectF, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPainter, QPainterPath, QPen, QPixmap

from stylerec_desktop.gui import theme
from stylerec_desktop.gui.jobs import yield_cpu_to_the_gui

log = logging.getLogger(__name__)

#: ``render(thumbs_dir, image_path, sha256, size) -> QImage``: what a worker runs for one request.
Render = Callable[[Path, Path, str, int], QImage]
Key = tuple[str, int]

# Disk thumbnails come in a few fixed sizes so that every view size maps onto a handful of cached files.
_DISK_SIZES = (256, 512, 1024)


def _disk_size(size: int) -> int:
    for disk in _DISK_SIZES:
        if size <= disk:
            return disk
    return _DISK_SIZES[-1]


def render_thumbnail(thumbs_dir: Path, image_path: Path, sha256: str, size: int) -> QImage:
    """Make (or find) the disk thumbnail and decode it, scaled to fit ``size`` x ``size``. Runs on a worker.

    Raises :class:`~stylerec_desktop.core.imaging.ImageError` for an unusable image.
    """
    # Imported here so that starting the app does not load Pillow; the first thumbnail pays for it instead.
    from stylerec_desktop.core.imaging import ImageError
    from stylerec_desktop.core.thumbnail_cache import ensure_thumbnail

    path = ensure_thumbnail(thumbs_dir, image_path, sha256, _disk_size(size))
    image = read_scaled(path, size)
    if image.isNull():
        raise ImageError(path, "cannot be decoded by Qt", "a JPEG thumbnail", "decode")
    return image


def read_scaled(path: Path, side: int) -> QImage:
    """Decode the picture at ``path`` to fit ``side`` x ``side`` (smaller ones as they are); a null QImage when it
    cannot be read. For worker threads: ``QImage(path)`` decodes without holding Python's lock, but a smooth
    ``QImage.scaled`` holds it throughout (measured: 48 ms for a 1024 px picture to 72 px, while the GUI thread
    could run no Python). So big pictures first go to twice the size with the cheap nearest-pixel scaling, and only
    that is smoothed (12 ms). (``QImageReader.setScaledSize`` releases the lock but crashed, rarely, with several
    readers in parallel under PySide6 6.11.)"""
    image = QImage(str(path))
    if image.isNull() or (image.width() <= side and image.height() <= side):
        return image
    keep = Qt.AspectRatioMode.KeepAspectRatio
    if max(image.width(), image.height()) > 2 * side:
        image = image.scaled(2 * side, 2 * side, keep, Qt.TransformationMode.FastTransformation)
    return image.scaled(side, side, keep, Qt.TransformationMode.SmoothTransformation)


class _Relay(QObject):
    loaded = Signal(object, object)  # key, QImage or None when the image is unusable


class _Drain(QRunnable):
    """Pops the newest request until the stack is empty; the loader starts at most ``threads`` of these."""

    def __init__(self, loader: ThumbnailLoader) -> None:
        super().__init__()
        self._loader = loader

    def run(self) -> None:
        yield_cpu_to_the_gui()
        loader = self._loader
        while True:
            request = loader._pop()
            if request is None:
                return
            key, thumbs_dir, path = request
            try:
                image: QImage | None = loader._render(thumbs_dir, path, key[0], key[1])
            except Exception as exc:  # a bad image must never take the app down: show it as broken
                # ImageError is a UserError with a readable sentence; anything else is worth a traceback.
                from stylerec_desktop.core.errors import UserError

                if isinstance(exc, UserError):
                    log.info("thumbnail of %s: %s", path, exc)
                else:
                    log.exception("thumbnail of %s failed", path)
                image = None
            loader._relay.loaded.emit(key, image)


class ThumbnailLoader(QObject):
    """Pixmaps of catalog images by (sha256, size), made in the background.

    :meth:`pixmap` answers at once: the cached pixmap, or ``None`` after queueing the request (draw
    :meth:`placeholder` meanwhile). When it is ready, :attr:`thumbnailReady` fires with the image's sha256.
    Unusable images get :meth:`broken` instead, cached like a real thumbnail so they are not retried on
    every repaint.
    """

    thumbnailReady = Signal(str)

    def __init__(
        self,
        thumbs_dir: Path | None = None,
        *,
        threads: int = 2,
        max_bytes: int = 128 * 1024 * 1024,
        max_pending: int = 512,
        render: Render | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._thumbs_dir = thumbs_dir
        self._render: Render = render or render_thumbnail
        self._max_bytes = max_bytes
        self._max_pending = max_pending
        self._threads = threads
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._relay = _Relay(self)
        self._relay.loaded.connect(self._on_loaded)
        self._cache: OrderedDict[Key, QPixmap] = OrderedDict()
        self._cache_bytes = 0
        self._wanted: set[Key] = set()  # queued or being made: asked once, never twice (GUI thread only)
        self._lock = threading.Lock()  # guards _stack and _draining, shared with the workers
        self._stack: list[tuple[Key, Path, Path]] = []
        self._draining = 0
        self._placeholders: dict[tuple[str, int, theme.Scheme], QPixmap] = {}

    # -- the API for views (GUI thread) ------------------------------------------------------------------

    def set_thumbnails_dir(self, thumbs_dir: Path | None) -> None:
        """Switch catalogs. Pixmaps stay cached: a sha256 names the same picture in every catalog."""
        with self._lock:
            dropped = [request[0] for request in self._stack]
            self._stack.clear()
        self._wanted.difference_update(dropped)
        self._thumbs_dir = thumbs_dir

    def pixmap(self, sha256: str | None, path: Path | None, size: int) -> QPixmap | None:
        """The ``size`` px thumbnail of an image, or None while it is being made (it is queued here)."""
        if not sha256 or path is None or self._thumbs_dir is None:
            return self.placeholder(size)
        key = (sha256, size)
        pixmap = self._cache.get(key)
        if pixmap is not None:
            self._cache.move_to_end(key)
            return pixmap
        if key not in self._wanted:
            self._request(key, path)
        return None

    def cached(self, sha256: str, size: int) -> QPixmap | None:
        """The pixmap if it is in RAM; never queues anything."""
        return self._cache.get((sha256, size))

    def clear(self) -> None:
        self._cache.clear()
        self._cache_bytes = 0

    @property
    def cache_bytes(self) -> int:
        return self._cache_bytes

    def pending(self) -> int:
        """Requests queued or being made."""
        return len(self._wanted)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Drop the queue and wait for the workers (on quit)."""
        with self._lock:
            self._stack.clear()
        self._wanted.clear()
        return self._pool.waitForDone(timeout_ms)

    def placeholder(self, size: int) -> QPixmap:
        """A quiet picture frame, drawn while a thumbnail loads or for a product with no image."""
        return self._placeholder("empty", size)

    def broken(self, size: int) -> QPixmap:
        """A crossed-out picture frame for an image that cannot be read."""
        return self._placeholder("broken", size)

    # -- internals -----------------------------------------------------------------------------------------

    def _request(self, key: Key, path: Path) -> None:
        assert self._thumbs_dir is not None
        self._wanted.add(key)
        dropped: list[Key] = []
        start_worker = False
        with self._lock:
            self._stack.append((key, self._thumbs_dir, path))
            if len(self._stack) > self._max_pending:
                # The oldest requests are rows scrolled far away; they are asked again if they come back.
                overflow = len(self._stack) - self._max_pending
                dropped = [request[0] for request in self._stack[:overflow]]
                del self._stack[:overflow]
            if self._draining < self._threads:
                self._draining += 1
                start_worker = True
        self._wanted.difference_update(dropped)
        if start_worker:
            self._pool.start(_Drain(self))

    def _pop(self) -> tuple[Key, Path, Path] | None:
        """Worker side: the newest request, or None (and the worker ends) when there is none."""
        with self._lock:
            if self._stack:
                return self._stack.pop()
            self._draining -= 1
            return None

    def _on_loaded(self, key: Key, image: QImage | None) -> None:
        if key not in self._wanted:
            return  # dropped meanwhile (catalog switched, shutdown)
        self._wanted.discard(key)
        pixmap = self.broken(key[1]) if image is None else QPixmap.fromImage(image)
        self._insert(key, pixmap)
        self.thumbnailReady.emit(key[0])

    def _insert(self, key: Key, pixmap: QPixmap) -> None:
        old = self._cache.pop(key, None)
        if old is not None:
            self._cache_bytes -= _pixmap_bytes(old)
        self._cache[key] = pixmap
        self._cache_bytes += _pixmap_bytes(pixmap)
        while self._cache_bytes > self._max_bytes and len(self._cache) > 1:
            _, evicted = self._cache.popitem(last=False)
            self._cache_bytes -= _pixmap_bytes(evicted)

    def _placeholder(self, kind: str, size: int) -> QPixmap:
        colours = theme.colours()  # drawn once per theme: views ask again on every paint, so a switch shows
        pixmap = self._placeholders.get((kind, size, colours.scheme))
        if pixmap is None:
            pixmap = _draw_placeholder(size, kind == "broken", colours)
            self._placeholders[(kind, size, colours.scheme)] = pixmap
        return pixmap


def _pixmap_bytes(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * max(1, pixmap.depth() // 8)


def _draw_placeholder(size: int, broken: bool, colours: theme.Colours) -> QPixmap:
    """A quiet square with a small landscape glyph (crossed out when ``broken``)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(colours.track)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    glyph = size * 0.34
    left, top = (size - glyph) / 2, (size - glyph * 0.8) / 2
    frame = QRectF(left, top, glyph, glyph * 0.8)
    ink = colours.broken_ink if broken else colours.placeholder_ink
    painter.setPen(QPen(ink, max(1.0, size / 80)))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(frame, glyph * 0.08, glyph * 0.08)
    hills = QPainterPath(QPointF(frame.left(), frame.bottom() - glyph * 0.12))
    hills.lineTo(frame.left() + glyph * 0.35, frame.top() + glyph * 0.4)
    hills.lineTo(frame.left() + glyph * 0.6, frame.top() + glyph * 0.58)
    hills.lineTo(frame.left() + glyph * 0.75, frame.top() + glyph * 0.46)
    hills.lineTo(frame.right(), frame.bottom() - glyph * 0.2)
    painter.drawPath(hills)
    painter.setBrush(ink)
    painter.drawEllipse(QPointF(frame.left() + glyph * 0.72, frame.top() + glyph * 0.22), glyph * 0.07, glyph * 0.07)
    if broken:
        painter.setPen(QPen(colours.danger, max(1.5, size / 60)))
        painter.drawLine(frame.topLeft(), frame.bottomRight())
    painter.end()
    return pixmap
