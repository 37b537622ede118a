"""100,000 products: the grid paints its first screen in under a second, and scrolling loads only the pages
that come into view, always on worker threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gui_catalogs import build_big_catalog
from PySide6.QtCore import QPoint, QTimer
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog, ProductTile
from stylerec_desktop.gui.jobs import JobRunner
from stylerec_desktop.gui.panels.catalog import CatalogPanel
from stylerec_desktop.gui.thumbnails import ThumbnailLoader

BIG = 100_000
pytestmark = [pytest.mark.slow, pytest.mark.timing]


@pytest.fixture(scope="session")
def big_catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big-catalog") / "catalog"
    build_big_catalog(folder, BIG).close()
    return folder


@pytest.fixture
def big_catalog(big_catalog_dir: Path) -> Iterator[Catalog]:
    catalog = Catalog.open(big_catalog_dir)
    yield catalog
    catalog.close()


def _visible_rows(panel: CatalogPanel) -> list[int]:
    """Rows under a fine grid of points over the viewport (asking every row of 100,000 would be slow)."""
    viewport = panel.grid.viewport().rect()
    rows = {
        panel.grid.indexAt(QPoint(x, y)).row()
        for x in range(viewport.left() + 2, viewport.right(), 20)
        for y in range(viewport.top() + 2, viewport.bottom(), 20)
    }
    rows.discard(-1)
    return sorted(rows)


def _tiles_loaded(panel: CatalogPanel) -> bool:
    rows = _visible_rows(panel)
    return bool(rows) and all(panel.model.tile(row) is not None for row in rows)


class GapRecorder:
    """A 10 ms timer on the GUI thread; ``worst`` is the longest wait between two ticks."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self._timer = QTimer(interval=10)
        self._timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def start(self) -> None:
        self.ticks = [time.perf_counter()]
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        self.ticks.append(time.perf_counter())
        return max(b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False))


def test_100k_products_paint_fast_and_scroll_without_loading_everything(
    qtbot: QtBot,
    big_catalog: Catalog,
    services: tuple[JobRunner, ThumbnailLoader],
    monkeypatch: pytest.MonkeyPatch,
    record_property: Callable[[str, object], None],
) -> None:
    runner, thumbnails = services
    tile_threads: list[str] = []
    original = big_catalog.product_tiles

    def spy(ids: list[int]) -> dict[int, ProductTile]:
        tile_threads.append(threading.current_thread().name)
        return original(ids)

    monkeypatch.setattr(big_catalog, "product_tiles", spy)
    thumbnails.set_thumbnails_dir(big_catalog.thumbnails_dir)
    panel = CatalogPanel(runner, thumbnails)
    qtbot.addWidget(panel)
    panel.resize(1000, 800)
    panel.show()
    qtbot.waitExposed(panel)

    # Timings on a shared 2-core machine pick up other processes' load: the best of up to 3 tries is the
    # app's own figure (a try that meets the budget ends the loop).
    gaps = GapRecorder()
    first_paint = open_gap = float("inf")
    for _ in range(3):
        panel.set_catalog(None)
        qtbot.wait(50)
        gaps.start()
        started = time.perf_counter()
        panel.set_catalog(big_catalog)
        qtbot.waitUntil(lambda: panel.result_count() == BIG and _tiles_loaded(panel), timeout=10_000)
        panel.grid.viewport().repaint()
        first_paint = min(first_paint, time.perf_counter() - started)
        open_gap = min(open_gap, gaps.stop())
        if first_paint < 1.0:
            break
    record_property("first_paint_s", round(first_paint, 3))
    record_property("max_gap_while_opening_ms", round(open_gap * 1000, 1))
    print(
        f"100k: first paint {first_paint * 1000:.0f} ms, longest event-loop gap while opening {open_gap * 1000:.0f} ms"
    )
    assert first_paint < 1.0
    assert panel.model.page_loads <= 2

    # Scroll to a few places, as a user dragging the scroll bar would, waiting for each screen to fill.
    bar = panel.grid.verticalScrollBar()
    last = panel.model.index(BIG - 1)
    qtbot.waitUntil(lambda: panel.grid.visualRect(last).isValid(), timeout=10_000)  # batched layout done
    layout_done = time.perf_counter() - started
    print(f"100k: whole grid laid out after {layout_done * 1000:.0f} ms")
    scroll_gap = float("inf")
    for _ in range(3):
        bar.setValue(0)
        qtbot.waitUntil(lambda: _tiles_loaded(panel), timeout=5000)
        gaps.start()
        for fraction in (0.25, 0.5, 0.9, 1.0):
            bar.setValue(int(bar.maximum() * fraction))
            qtbot.waitUntil(lambda: _tiles_loaded(panel), timeout=5000)
        scroll_gap = min(scroll_gap, gaps.stop())
        if scroll_gap < 0.1:
            break
    record_property("max_gap_while_scrolling_ms", round(scroll_gap * 1000, 1))
    print(f"100k: longest event-loop gap while scrolling {scroll_gap * 1000:.0f} ms")
    assert _visible_rows(panel)[-1] == BIG - 1
    pages = panel.model.page_loads
    # Each screen (about 20 tiles) needs one or two pages of 200; 3 rounds over 5 places, pages kept in RAM.
    assert pages <= 2 + 3 * 5 * 2, f"{pages} pages loaded"
    assert len(panel.model.loaded_pages()) <= pages < BIG // panel.model.page_size // 10
    assert tile_threads and threading.main_thread().name not in tile_threads
    assert scroll_gap < 0.1
