"""The merchandiser's workspace, driven end to end offscreen: indexing from the GUI, a customer's recommendations
and taste, re-ranking as the controls move, and the style-match inspector."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from gui_catalogs import draw_images, write_products_csv
from gui_helpers import wait_idle
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.recommend.ranking import SIGNALS, Filters
from stylerec_desktop.core.recommend.service import recommend_for_customer
from stylerec_desktop.core.stylize import StyleVector
from stylerec_desktop.gui.indexing import INDEX_TITLE, WARM_TITLE
from stylerec_desktop.gui.jobs import JobRunner, JobState, Lane
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.thumbnails import ThumbnailLoader


def _busiest_customer(catalog: Catalog) -> str:
    return max(catalog.customers(), key=lambda c: c.event_count).customer_id


def _pick(qtbot: QtBot, window: MainWindow, customer_id: str) -> None:
    panel = window.recommendations_panel
    window.customers_panel.choose(customer_id)
    qtbot.waitUntil(lambda: not panel.busy and panel.model.rowCount() > 0, timeout=60_000)


def test_picking_a_customer_shows_their_ranked_recommendations_and_taste(
    qtbot: QtBot, indexed_window: MainWindow
) -> None:
    window = indexed_window
    catalog = window.catalog()
    assert catalog is not None
    customer_id = _busiest_customer(catalog)
    _pick(qtbot, window, customer_id)

    panel = window.recommendations_panel
    expected = recommend_for_customer(catalog, customer_id, k=24)
    assert panel.model.product_ids() == [rec.product_id for rec, _ in expected.items]
    assert window.recommendations_dock.isVisible()
    # Every row has a score bar per signal and the same terms as the core's ranking.
    rec, _ = panel.model.item(0)
    assert set(rec.components) == set(SIGNALS)
    assert rec.score == pytest.approx(expected.items[0][0].score)
    # A narrow dock shortens the cards instead of scrolling them sideways (the list cut them off at the right).
    view = panel.list_view
    for width in (340, 520):
        panel.resize(width, panel.height())
        qtbot.waitUntil(lambda w=width: abs(panel.width() - w) <= 40, timeout=2000)  # noqa: B023
        qtbot.waitUntil(lambda: view.visualRect(panel.model.index(0)).width() >= view.viewport().width() - 2,
                        timeout=2000)  # fmt: skip
        assert view.horizontalScrollBar().maximum() == 0

    taste = window.taste_panel
    assert taste.restyle_button.isEnabled()
    assert len(taste.palette_strip.colours()) >= 2
    assert sum(share for _, share in taste.palette_strip.colours()) == pytest.approx(1.0)
    shown_rows = [row for row in taste.cluster_rows if row.isVisibleTo(taste)]
    assert len(shown_rows) == len(expected.taste.tastes)
    heaviest = max(expected.taste.items, key=lambda item: item.weight)
    first_thumbs = [thumb.tile() for thumb in shown_rows[0].thumbs if thumb.tile() is not None]
    assert heaviest.product_id in [tile.id for tile in first_thumbs]

    with qtbot.waitSignal(taste.restyleRequested, timeout=1000) as sent:
        taste.restyle_button.click()
    style = sent.args[0]
    assert isinstance(style, StyleVector)
    assert np.allclose(style.vector, expected.taste.style_vector, atol=1e-5)

    # Picking a recommendation shows that product in the product panel.
    panel.select_row(2)
    picked = panel.model.item(2)[0].product_id
    qtbot.waitUntil(lambda: (p := window.detail_panel.product()) is not None and p.id == picked, timeout=10_000)
    wait_idle(qtbot, window.runner)


def test_controls_rerank_off_the_gui_thread_and_only_the_newest_answer_counts(
    qtbot: QtBot, indexed_window: MainWindow
) -> None:
    window = indexed_window
    catalog = window.catalog()
    assert catalog is not None
    customer_id = _busiest_customer(catalog)
    _pick(qtbot, window, customer_id)
    panel = window.recommendations_panel

    category = panel.workspace().categories[0]
    panel.category_combo.setCurrentText(category)
    # Several quick moves: only the last settings may end up on screen.
    for value in (20, 80, 150, 0):
        panel.weight_sliders["behaviour"].setValue(value)
    panel.diversity_slider.setValue(40)
    panel.purchased_check.setChecked(True)
    qtbot.waitUntil(lambda: not panel.busy and panel.workspace().query == panel.query(), timeout=30_000)

    shown = panel.workspace()
    assert shown.query.filters.categories == (category,)
    assert shown.query.weights.behaviour == 0.0
    assert shown.query.diversity == pytest.approx(0.4)
    expected = recommend_for_customer(
        catalog, customer_id, k=24, weights=shown.query.weights, diversity=0.4,
        filters=Filters(categories=(category,), include_purchased=True),
    )  # fmt: skip
    assert panel.model.product_ids() == [rec.product_id for rec, _ in expected.items]
    assert all(rec.components["behaviour"] == 0.0 for rec, _ in shown.items)
    assert {shown.tile(rec.product_id).category for rec, _ in shown.items} == {category}

    panel.min_price.setValue(1e6 - 1)  # nothing costs that much
    qtbot.waitUntil(lambda: not panel.busy and panel.workspace().query == panel.query(), timeout=30_000)
    assert panel.model.rowCount() == 0
    assert "No product passes these filters" in panel.empty_label.text()


def test_inspector_shows_the_history_item_driving_a_recommendation(qtbot: QtBot, indexed_window: MainWindow) -> None:
    window = indexed_window
    catalog = window.catalog()
    assert catalog is not None
    customer_id = _busiest_customer(catalog)
    _pick(qtbot, window, customer_id)
    panel, inspector = window.recommendations_panel, window.inspector_panel
    expected = recommend_for_customer(catalog, customer_id, k=24)
    row = next(i for i, (_, explanation) in enumerate(expected.items) if explanation.because)
    rec, explanation = expected.items[row]

    with qtbot.waitSignal(inspector.imagesShown, timeout=10_000):
        panel.select_row(row)
    assert window.inspector_dock.isVisible()
    driving = inspector.driving_items()
    assert [b.sku for b in driving] == [b.sku for b in explanation.because]
    first = driving[0]
    assert first.kind in ("view", "like", "cart", "purchase")
    text = inspector.because_list.item(0).text()
    assert first.title in text and f"{first.ts.day} {first.ts:%b %Y}" in text
    assert inspector.bars.components() == pytest.approx(rec.components)
    assert len(inspector.product_colours.colours()) == len(explanation.shared_colours)
    assert rec.title in inspector.compare.left_label.text()
    assert first.title in inspector.compare.right_label.text()
    assert not inspector.compare.left.item.pixmap().isNull()
    assert not inspector.compare.right.item.pixmap().isNull()

    # One zoom and one pan for both pictures.
    compare = inspector.compare
    compare.set_zoom(3.0)
    assert compare.left.transform().m11() == pytest.approx(3.0)
    assert compare.right.transform().m11() == pytest.approx(3.0)
    bar = compare.left.horizontalScrollBar()
    bar.setValue((bar.minimum() + bar.maximum()) // 3)
    assert compare.right.horizontalScrollBar().value() == bar.value()
    compare.right.verticalScrollBar().setValue(compare.right.verticalScrollBar().maximum())
    assert compare.left.verticalScrollBar().value() == compare.right.verticalScrollBar().value()
    wait_idle(qtbot, window.runner)


def test_without_an_index_the_panel_says_so_and_indexing_runs_as_a_write_job(qtbot: QtBot, window: MainWindow) -> None:
    catalog = window.catalog()
    assert catalog is not None
    panel = window.recommendations_panel
    window.customers_panel.choose(_busiest_customer(catalog))
    qtbot.waitUntil(lambda: not panel.busy and panel.index_button.isVisibleTo(panel), timeout=30_000)
    assert "no style index" in panel.empty_label.text()
    assert panel.model.rowCount() == 0

    panel.index_button.click()
    jobs = [info for info in window.runner.jobs() if info.title == INDEX_TITLE]
    assert len(jobs) == 1 and jobs[0].lane is Lane.WRITE
    assert window.jobs_panel.row(jobs[0].id) is not None  # visible, with progress and Cancel, in the jobs panel
    window.index_action.trigger()  # asking again while it runs queues nothing more
    assert len([info for info in window.runner.jobs() if info.title == INDEX_TITLE]) == 1
    qtbot.waitUntil(lambda: window.runner.job(jobs[0].id).state.finished, timeout=120_000)
    assert window.runner.job(jobs[0].id).state is JobState.DONE
    assert window.runner.job(jobs[0].id).done == window.runner.job(jobs[0].id).total == 40
    # The panel re-asks by itself once the index exists.
    qtbot.waitUntil(lambda: not panel.busy and panel.model.rowCount() > 0, timeout=60_000)
    wait_idle(qtbot, window.runner)


def _studio_with_product(qtbot: QtBot, window: MainWindow) -> tuple[int, float]:
    """Select the first product of the grid and press Use selection; returns its id and the latency of the first
    preview (ms)."""
    studio = window.studio_panel
    product_id = window.catalog_panel.model.product_id(0)
    window.catalog_panel.select_product(product_id)
    with qtbot.waitSignal(studio.previewShown, timeout=60_000) as shown:
        studio.selection_button.click()
    assert [p.id for p in studio.products()] == [product_id]
    return product_id, shown.args[0]


def test_studio_previews_as_sliders_move_and_renders_into_the_strip(qtbot: QtBot, indexed_window: MainWindow) -> None:
    window = indexed_window
    studio = window.studio_panel
    product_id, _ = _studio_with_product(qtbot, window)
    first = studio.preview_label.pixmap().toImage()
    assert max(first.width(), first.height()) == 256

    # A slider drag: many changes, one preview for the last value, quickly.
    latencies = []
    for value in (90, 70, 50):
        with qtbot.waitSignal(studio.previewShown, timeout=30_000) as shown:
            studio.strength.setValue(value)
        latencies.append(shown.args[0])
    assert studio.preview_label.pixmap().toImage() != first
    print(f"studio preview latency after a slider change (ms): {[round(x) for x in latencies]}")
    # The target is 300 ms on an idle 2-core CPU; the bound here leaves room for a busy test machine.
    assert min(latencies) < 1000

    studio.size_box.setValue(256)
    with qtbot.waitSignal(studio.renderFinished, timeout=120_000) as finished:
        job_ids = [job.id for job in studio.render()]
    assert len(job_ids) == 1
    info = window.runner.job(job_ids[0])
    assert info.state is JobState.DONE and info.lane is Lane.WRITE
    render = finished.args[0]
    assert render.path.is_file() and render.product_id == product_id
    assert max(render.size) == 256
    assert studio.variants() == [render]
    assert studio.strip.count() == 2  # the original, then the variant
    qtbot.waitUntil(lambda: not studio.compare.right.item.pixmap().isNull(), timeout=10_000)
    catalog = window.catalog()
    assert catalog is not None
    assert [r.id for r in catalog.renders(product_id=product_id)] == [render.id]
    wait_idle(qtbot, window.runner)


def test_cancelling_a_render_cancels_its_job(qtbot: QtBot, indexed_window: MainWindow) -> None:
    window = indexed_window
    studio = window.studio_panel
    _studio_with_product(qtbot, window)
    # A write job ahead keeps the render queued, so the cancel lands before it starts.
    # Held until the cancel was clicked (not for a guessed time, which a loaded machine can outlast).
    release = threading.Event()
    gate = window.runner.submit("Hold the write lane", lambda: release.wait(30), lane=Lane.WRITE).id
    job_ids = [job.id for job in studio.render()]
    assert studio.cancel_button.isEnabled()
    studio.cancel_button.click()
    release.set()
    qtbot.waitUntil(lambda: window.runner.job(job_ids[0]).state.finished, timeout=30_000)
    assert window.runner.job(job_ids[0]).state is JobState.CANCELLED
    assert studio.variants() == []
    assert not studio.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: window.runner.job(gate).state.finished, timeout=10_000)
    wait_idle(qtbot, window.runner)


def test_restyle_in_this_taste_previews_with_the_customers_taste(qtbot: QtBot, indexed_window: MainWindow) -> None:
    window = indexed_window
    catalog = window.catalog()
    assert catalog is not None
    _studio_with_product(qtbot, window)
    _pick(qtbot, window, _busiest_customer(catalog))
    studio = window.studio_panel
    with qtbot.waitSignal(studio.previewShown, timeout=60_000) as shown:
        window.taste_panel.restyle_button.click()
    print(f"studio preview latency, customer taste (arbitrary engine), first: {shown.args[0]:.0f} ms")
    with qtbot.waitSignal(studio.previewShown, timeout=60_000) as shown:
        studio.strength.setValue(60)
    print(f"studio preview latency, customer taste, after a slider change: {shown.args[0]:.0f} ms")
    assert window.studio_dock.isVisible()
    source = studio.source()
    assert isinstance(source, StyleVector) and "taste" in source.label
    assert "taste" in studio.taste_label.text()
    wait_idle(qtbot, window.runner)


def test_a_products_import_is_followed_by_indexing_of_the_new_images(
    qtbot: QtBot, indexed_window: MainWindow, tmp_path: Path
) -> None:
    window = indexed_window
    folder = tmp_path / "to-import"
    images = draw_images(folder / "images", 3, seed=23, size=96)
    csv_path = write_products_csv(folder / "products.csv", 3, images, prefix="NEW")
    with qtbot.waitSignal(window.imports.imported, timeout=30_000):
        window.imports.start_import("products", csv_path, images_dir=folder)
    with qtbot.waitSignal(window.indexer.indexed, timeout=120_000) as indexed:
        # The indexer starts on the catalog's change notification, which follows the import's end.
        qtbot.waitUntil(lambda: any(info.title == INDEX_TITLE for info in window.runner.jobs()), timeout=10_000)
    jobs = [info for info in window.runner.jobs() if info.title == INDEX_TITLE]
    assert len(jobs) == 1 and jobs[0].lane is Lane.WRITE
    report = indexed.args[0]
    assert report.indexed == 3  # only the new images: the rest were indexed already
    wait_idle(qtbot, window.runner)


def test_the_first_run_demo_is_indexed_right_after_it_is_built(
    qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stylerec_desktop.core.demo as demo

    full_size = demo.build_demo_catalog
    monkeypatch.setattr(demo, "build_demo_catalog", lambda folder: full_size(folder, n_products=24, n_customers=4))
    runner, thumbnails = services
    window = MainWindow(runner, thumbnails, QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.indexer.indexed, timeout=180_000) as indexed:
        window.build_demo(tmp_path / "demo")
    assert indexed.args[0].indexed == 24
    titles = [info.title for info in runner.jobs()]
    # The style index loads as the built demo opens (nothing indexed yet: a quick no-op), then the indexing runs.
    assert titles == ["Building the demo catalog", WARM_TITLE, INDEX_TITLE]
    wait_idle(qtbot, runner)


def test_a_products_style_is_looked_up_off_the_gui_thread_and_named_in_the_job(
    qtbot: QtBot, indexed_window: MainWindow
) -> None:
    window = indexed_window
    studio = window.studio_panel
    _studio_with_product(qtbot, window)
    catalog = window.catalog()
    assert catalog is not None
    style_product = catalog.products(limit=3)[2]
    studio.style_sku.setText(style_product.sku)
    with qtbot.waitSignal(studio.previewShown, timeout=60_000):
        studio.source_combo.setCurrentIndex(1)  # "Product"
    assert studio.source() == style_product.sku
    studio.strength.setValue(100)
    studio.style_sku.setText("NO-SUCH-SKU")
    studio.refresh_preview()
    qtbot.waitUntil(lambda: not studio.busy, timeout=30_000)
    assert "NO-SUCH-SKU" in studio.status_label.text()  # the user is told, nothing crashes
    studio.style_sku.setText(style_product.sku)
    studio.size_box.setValue(256)
    with qtbot.waitSignal(studio.renderFinished, timeout=120_000) as finished:
        job_ids = [job.id for job in studio.render()]
    assert window.runner.job(job_ids[0]).title.endswith(f"in the style of {style_product.sku}")
    assert finished.args[0].recipe["style"]  # the recipe travels with the render
    wait_idle(qtbot, window.runner)


def test_the_style_index_loads_in_the_background_when_the_catalog_opens(
    qtbot: QtBot, indexed_window: MainWindow
) -> None:
    """The first customer's list must not wait for the index: it is loaded as the catalog opens, as a job the
    status bar shows, and the first pick finds it in memory."""
    from stylerec_desktop.core.recommend.service import INDEX_CACHE
    from stylerec_desktop.gui.indexing import WARM_TITLE

    window = indexed_window
    catalog = window.catalog()
    assert catalog is not None
    assert INDEX_CACHE.cached(catalog)  # loaded while the fixture opened the catalog
    INDEX_CACHE.clear()
    seen: list[str] = []
    window.runner.jobAdded.connect(lambda job_id: seen.append(window.runner.job(job_id).title))
    window.set_catalog(catalog)  # as opening it again
    assert WARM_TITLE in seen  # a visible job: its progress is in the status bar and the Jobs panel
    handle = window.style_index.job
    assert handle is not None
    qtbot.waitUntil(lambda: handle.info.state.finished, timeout=60_000)
    assert handle.info.result is True and INDEX_CACHE.cached(catalog)
