"""The thumbnail loader: newest request first, no duplicate work, bad images drawn as broken, bounded RAM."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gui_catalogs import draw_images
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.imaging import ImageError
from stylerec_desktop.gui.thumbnails import ThumbnailLoader

SHA = [f"{i:02x}" * 32 for i in range(40)]


class GatedRender:
    """A render function that blocks until released and records what it was asked for, in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate = threading.Event()
        self.first_started = threading.Event()

    def __call__(self, thumbs_dir: Path, path: Path, sha256: str, size: int) -> QImage:
        self.calls.append(sha256)
        self.first_started.set()
        self.gate.wait(5)
        image = QImage(size, size, QImage.Format.Format_RGB32)
        image.fill(QColor("#3366cc"))
        return image


@pytest.fixture
def gated(qtbot: QtBot, tmp_path: Path) -> Iterator[tuple[ThumbnailLoader, GatedRender]]:
    render = GatedRender()
    loader = ThumbnailLoader(tmp_path, threads=1, render=render)
    yield loader, render
    render.gate.set()
    loader.shutdown()


def test_requests_are_served_newest_first(qtbot: QtBot, gated: tuple[ThumbnailLoader, GatedRender]) -> None:
    loader, render = gated
    assert loader.pixmap(SHA[0], Path("a.png"), 64) is None
    assert render.first_started.wait(5)  # the only worker is now busy with SHA[0]
    for sha in SHA[1:4]:
        loader.pixmap(sha, Path("x.png"), 64)
    render.gate.set()
    qtbot.waitUntil(lambda: loader.pending() == 0, timeout=5000)
    assert render.calls == [SHA[0], SHA[3], SHA[2], SHA[1]]


def test_a_thumbnail_asked_for_twice_is_made_once(qtbot: QtBot, gated: tuple[ThumbnailLoader, GatedRender]) -> None:
    loader, render = gated
    for _ in range(5):
        loader.pixmap(SHA[0], Path("a.png"), 64)
    render.gate.set()
    with qtbot.waitSignal(loader.thumbnailReady, timeout=5000) as ready:
        pass
    assert ready.args == [SHA[0]]
    assert render.calls == [SHA[0]]
    pixmap = loader.pixmap(SHA[0], Path("a.png"), 64)
    assert pixmap is not None and pixmap.width() == 64


def test_old_requests_beyond_the_limit_are_dropped(qtbot: QtBot, tmp_path: Path) -> None:
    render = GatedRender()
    loader = ThumbnailLoader(tmp_path, threads=1, max_pending=5, render=render)
    loader.pixmap(SHA[0], Path("a.png"), 64)
    assert render.first_started.wait(5)
    for sha in SHA[1:20]:
        loader.pixmap(sha, Path("x.png"), 64)
    render.gate.set()
    qtbot.waitUntil(lambda: loader.pending() == 0, timeout=5000)
    loader.shutdown()
    assert render.calls == [SHA[0], *reversed(SHA[15:20])]  # the 5 newest; the rows scrolled past were skipped


def test_real_images_become_pixmaps_and_disk_thumbnails(qtbot: QtBot, tmp_path: Path) -> None:
    images = draw_images(tmp_path / "images", 2, size=300)
    loader = ThumbnailLoader(tmp_path / "thumbs")
    try:
        for info in images:
            assert loader.pixmap(info.sha256, info.path, 160) is None
        qtbot.waitUntil(lambda: loader.pending() == 0, timeout=10_000)
        for info in images:
            pixmap = loader.pixmap(info.sha256, info.path, 160)
            assert pixmap is not None and pixmap.width() == 160 and pixmap.height() == 160
            # The disc's colour is in the middle: a real picture, not a placeholder.
            centre = pixmap.toImage().pixelColor(80, 80)
            assert centre != QColor("#f1f3f5") and centre != QColor("#ffffff")
        assert len(list((tmp_path / "thumbs").rglob("*.jpg"))) == 2
    finally:
        loader.shutdown()


def test_a_corrupt_image_shows_as_broken_without_crashing(qtbot: QtBot, tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    loader = ThumbnailLoader(tmp_path / "thumbs")
    try:
        with qtbot.waitSignal(loader.thumbnailReady, timeout=10_000):
            assert loader.pixmap(SHA[7], bad, 96) is None
        pixmap = loader.pixmap(SHA[7], bad, 96)
        assert pixmap is not None
        assert pixmap.toImage() == loader.broken(96).toImage()
        assert pixmap.toImage() != loader.placeholder(96).toImage()
    finally:
        loader.shutdown()


def test_a_render_that_raises_image_error_gives_the_broken_picture(qtbot: QtBot, tmp_path: Path) -> None:
    def render(thumbs_dir: Path, path: Path, sha256: str, size: int) -> QImage:
        raise ImageError(path, "is truncated", "a complete image file", "decode")

    loader = ThumbnailLoader(tmp_path, render=render)
    with qtbot.waitSignal(loader.thumbnailReady, timeout=5000):
        loader.pixmap(SHA[1], Path("gone.png"), 64)
    assert loader.pixmap(SHA[1], Path("gone.png"), 64).toImage() == loader.broken(64).toImage()
    loader.shutdown()


def test_products_without_an_image_get_the_placeholder_at_once(tmp_path: Path, qtbot: QtBot) -> None:
    loader = ThumbnailLoader(tmp_path)
    assert loader.pixmap(None, None, 64).toImage() == loader.placeholder(64).toImage()
    assert loader.pending() == 0


def test_the_ram_cache_is_bounded(qtbot: QtBot, tmp_path: Path) -> None:
    def render(thumbs_dir: Path, path: Path, sha256: str, size: int) -> QImage:
        image = QImage(size, size, QImage.Format.Format_RGB32)
        image.fill(QColor("#808080"))
        return image

    one = 64 * 64 * 4
    loader = ThumbnailLoader(tmp_path, render=render, max_bytes=10 * one)
    for sha in SHA[:30]:
        loader.pixmap(sha, Path("x.png"), 64)
    qtbot.waitUntil(lambda: loader.pending() == 0, timeout=5000)
    assert loader.cache_bytes <= 10 * one
    cached = [sha for sha in SHA[:30] if loader.cached(sha, 64) is not None]
    assert len(cached) == 10
    loader.shutdown()
