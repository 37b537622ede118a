"""Find similar, offscreen: the panel on the indexed small catalog (results in order, threshold, modes, the empty
states), then its wiring in the main window (menu action and shortcut, product panel button, grid context menu)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from gui_catalogs import draw_images
from gui_helpers import wait_idle
from PySide6.QtGui import QKeySequence
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog, ProductRecord
from stylerec_desktop.core.recommend.service import INDEX_CACHE
from stylerec_desktop.core.recommend.similar import SIMILAR_BY, SimilarProduct, similar_products
from stylerec_desktop.gui.jobs import JobRunner
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.panels.similar import LIMIT, NO_PRODUCT, SimilarityRole, SimilarPanel, mode_colour
from stylerec_desktop.gui.thumbnails import ThumbnailLoader


@pytest.fixture
def indexed_catalog(indexed_catalog_source: Path, tmp_path: Path) -> Iterator[Catalog]:
    folder = tmp_path / "indexed"
    shutil.copytree(indexed_catalog_source, folder)
    catalog = Catalog.open(folder)
    yield catalog
    catalog.close()


def _panel(qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], catalog: Catalog) -> SimilarPanel:
    runner, thumbnails = services
    panel = SimilarPanel(runner, thumbnails)
    qtbot.addWidget(panel)
    panel.resize(460, 760)
    panel.show()
    panel.set_catalog(catalog)
    return panel


def _wait_answer(qtbot: QtBot, panel: SimilarPanel) -> None:
    qtbot.waitUntil(lambda: not panel.busy and panel.answer() is not None, timeout=30_000)


def _expected(catalog: Catalog, product_id: int, by: str) -> list[SimilarProduct]:
    """What the core ranks for the product: the panel must show the same list."""
    return similar_products(INDEX_CACHE.get(catalog), catalog.product(product_id).sku, by=by, k=LIMIT)


def _tee(catalog: Catalog) -> int:
    return next(p.id for p in catalog.products() if p.category == "tees")


def test_results_come_best_first_without_the_product_itself_and_picking_one_selects_it(
    qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], indexed_catalog: Catalog
) -> None:
    panel = _panel(qtbot, services, indexed_catalog)
    assert panel.empty_label.text() == NO_PRODUCT
    assert NO_PRODUCT.startswith("Pick a product and choose Find similar")
    assert not panel.controls.isEnabled()
    assert tuple(panel.mode_buttons) == SIMILAR_BY

    source = _tee(indexed_catalog)
    panel.show_product(source)
    _wait_answer(qtbot, panel)

    expected = [n for n in _expected(indexed_catalog, source, "blend") if n.score >= panel.threshold()]
    assert panel.mode() == "blend" and panel.threshold() == 0.0
    assert 3 <= len(expected) < len(indexed_catalog.products()) - 1  # some shown, some hidden below 0
    assert panel.model.product_ids() == [n.product_id for n in expected]
    assert source not in panel.model.product_ids()
    assert panel.model.scores() == sorted(panel.model.scores(), reverse=True)
    assert panel.model.index(0).data(SimilarityRole) == pytest.approx(expected[0].score)
    assert panel.source_title.text() == indexed_catalog.product(source).title
    assert panel.source_box.isVisible() and panel.controls.isEnabled()
    assert panel.grid.isVisible() and not panel.index_button.isVisible()
    hidden = panel.model.total - len(expected)
    assert panel.count_label.text() == f"{len(expected)} products shown · {hidden} below 0.00 hidden"

    # The first card carries its score in a pill of the mode's colour.
    qtbot.waitUntil(lambda: panel.grid.visualRect(panel.model.index(0)).isValid())
    card = panel.grid.visualRect(panel.model.index(0))
    image = panel.grid.viewport().grab().toImage()
    corner = [image.pixelColor(card.x() + x, card.y() + y).name() for x in range(12, 40) for y in range(12, 26)]
    assert corner.count(mode_colour("blend").name()) > 100

    with qtbot.waitSignal(panel.productSelected, timeout=1000) as picked:
        panel.select_row(1)
    assert picked.args == [expected[1].product_id]


def test_the_threshold_hides_low_scores_at_once_and_updates_the_count(
    qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], indexed_catalog: Catalog
) -> None:
    runner, _ = services
    panel = _panel(qtbot, services, indexed_catalog)
    source = _tee(indexed_catalog)
    panel.show_product(source)
    _wait_answer(qtbot, panel)
    everything = _expected(indexed_catalog, source, "blend")
    scores = [n.score for n in everything]

    cut = round((scores[1] + scores[2]) / 2, 2)  # between the second and the third best
    panel.set_threshold(cut)
    assert not panel.busy and runner.is_idle()  # no new question: the list is cut where it is
    assert panel.model.product_ids() == [n.product_id for n in everything if n.score >= cut]
    assert panel.model.rowCount() == 2
    assert panel.count_label.text() == f"2 products shown · {len(everything) - 2} below {cut:.2f} hidden"
    assert panel.threshold_value.text() == f"≥ {cut:.2f}"

    panel.set_threshold(1.0)  # nothing is that similar: the panel says what to do
    assert panel.model.rowCount() == 0
    assert not panel.grid.isVisible()
    assert panel.empty_label.text().startswith("No product is at least 1.00 similar by blend. Lower the minimum")

    # The slider spans the similarities worth a minimum, 0..1: its middle is 0.50, and asking for less than 0
    # gives 0, where every neighbour at least as alike as a random product shows.
    assert (panel.threshold_slider.minimum(), panel.threshold_slider.maximum()) == (0, 100)
    panel.threshold_slider.setValue((panel.threshold_slider.minimum() + panel.threshold_slider.maximum()) // 2)
    assert panel.threshold_value.text() == "≥ 0.50"
    panel.set_threshold(-1.0)
    assert panel.threshold() == 0.0
    at_least_random = [n for n in everything if n.score >= 0.0]
    assert panel.model.product_ids() == [n.product_id for n in at_least_random]
    hidden = len(everything) - len(at_least_random)
    shown = f"{len(at_least_random)} products"
    assert panel.count_label.text() == (f"{shown} shown · {hidden} below 0.00 hidden" if hidden else shown)
    assert panel.grid.isVisible()


def test_switching_the_mode_asks_again_and_only_the_newest_answer_is_shown(
    qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], indexed_catalog: Catalog
) -> None:
    panel = _panel(qtbot, services, indexed_catalog)
    source = _tee(indexed_catalog)
    panel.set_threshold(0.0)
    panel.show_product(source)
    _wait_answer(qtbot, panel)
    blend = panel.model.product_ids()

    shown: list[str] = []
    panel.answerShown.connect(lambda answer: shown.append(answer.by))
    for by in ("visual", "colour", "style"):  # quicker than any answer: the first two are dropped
        panel.mode_buttons[by].click()
    assert panel.busy
    _wait_answer(qtbot, panel)
    assert shown == ["style"]
    assert panel.answer().by == "style" and panel.mode() == "style"
    by_style = [n.product_id for n in _expected(indexed_catalog, source, "style") if n.score >= 0.0]
    assert panel.model.product_ids() == by_style
    assert by_style != blend


def test_a_catalog_without_a_style_index_says_so_and_offers_to_index(
    qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], catalog: Catalog
) -> None:
    panel = _panel(qtbot, services, catalog)
    product = catalog.products(limit=1)[0]
    panel.show_product(product.id)
    _wait_answer(qtbot, panel)
    assert not panel.answer().indexed
    assert panel.source_title.text() == product.title
    assert "no style index yet" in panel.empty_label.text()
    assert "Catalog ▸ Index styles" in panel.empty_label.text()
    assert panel.index_button.isVisible() and not panel.grid.isVisible()
    assert panel.model.rowCount() == 0 and panel.count_label.text() == ""
    with qtbot.waitSignal(panel.indexRequested, timeout=1000):
        panel.index_button.click()


def test_a_product_whose_image_is_not_indexed_yet_says_so(
    qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], indexed_catalog: Catalog, tmp_path: Path
) -> None:
    image = draw_images(tmp_path / "new", 1, seed=9)[0]
    indexed_catalog.upsert_products([ProductRecord("NEW-1", "Brand-new Scarf", "scarves", images=(image,))])
    panel = _panel(qtbot, services, indexed_catalog)
    panel.show_product(indexed_catalog.product_by_sku("NEW-1").id)
    _wait_answer(qtbot, panel)
    assert panel.answer().indexed and not panel.answer().source_indexed
    assert panel.empty_label.text().startswith("“Brand-new Scarf” has no indexed image yet")
    assert panel.index_button.isVisible() and panel.model.rowCount() == 0


def test_the_main_window_finds_similar_from_the_menu_the_product_panel_and_the_grid(
    qtbot: QtBot, indexed_window: MainWindow
) -> None:
    window = indexed_window
    panel = window.similar_panel
    catalog = window.catalog()
    assert catalog is not None

    # Catalog ▸ Find similar, Ctrl+Shift+F, taken by no other action of the window.
    action = window.find_similar_action
    assert action.shortcut() == QKeySequence("Ctrl+Shift+F")
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    assert action in menus["&Catalog"].actions()
    taken = [a.text() for a in window.findChildren(type(action)) if a.shortcut() == action.shortcut()]
    assert taken == [action.text()]

    # For the product picked in the grid.
    grid = window.catalog_panel
    first = grid.model.product_id(0)
    grid.select_product(first)
    qtbot.waitUntil(lambda: (p := window.detail_panel.product()) is not None and p.id == first, timeout=10_000)
    action.trigger()
    assert window.similar_dock.isVisible()
    _wait_answer(qtbot, panel)
    assert panel.product_id() == first and panel.answer().source.id == first
    assert panel.model.rowCount() > 0

    # Picking a result shows it in the product panel.
    picked = panel.model.product_ids()[0]
    panel.select_row(0)
    qtbot.waitUntil(lambda: (p := window.detail_panel.product()) is not None and p.id == picked, timeout=10_000)

    # The product panel's button: similar to the product it shows.
    window.detail_dock.raise_()
    qtbot.waitUntil(window.detail_panel.find_similar_button.isVisible)
    window.detail_panel.find_similar_button.click()
    assert window.similar_dock.isVisible()
    _wait_answer(qtbot, panel)
    assert panel.answer().source.id == picked

    # The grid's context menu.
    third = grid.model.product_id(2)
    menu = grid.context_menu(grid.model.index(2))
    assert menu is not None and [a.text() for a in menu.actions()] == ["Find similar", "Restyle"]
    menu.actions()[0].trigger()
    _wait_answer(qtbot, panel)
    assert panel.answer().source.id == third
    assert panel.model.product_ids() == [
        n.product_id for n in _expected(catalog, third, "blend") if n.score >= panel.threshold()
    ]
    wait_idle(qtbot, window.runner)
