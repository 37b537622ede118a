"""The studio's batch work, driven offscreen: several products from the grid, dropped picture files, the products x
styles matrix as one job, and a variant rendered again from its recipe or reused with changes."""

from __future__ import annotations

import shutil
from pathlib import Path

from gui_helpers import wait_idle
from PIL import Image
from PySide6.QtCore import QItemSelectionModel, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.stylize.samples import product_shot
from stylerec_desktop.gui.jobs import JobRunner, JobState, Lane
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.panels.studio import ENGINES, GATYS_NO_PREVIEW, SOURCES


def _grid_select(window: MainWindow, rows: list[int]) -> list[int]:
    grid, model = window.catalog_panel.grid, window.catalog_panel.model
    grid.setCurrentIndex(model.index(rows[0]))
    for row in rows[1:]:
        grid.selectionModel().select(model.index(row), QItemSelectionModel.SelectionFlag.Select)
    return [model.product_id(row) for row in rows]


def _select_rows(window: MainWindow, rows: list[int]) -> list[int]:
    """Select these rows of the grid and press the studio's Use selection."""
    ids = _grid_select(window, rows)
    window.studio_panel.selection_button.click()
    return ids


def test_several_products_selected_in_the_grid_are_the_studios_content(qtbot: QtBot, window: MainWindow) -> None:
    studio = window.studio_panel
    ids = _select_rows(window, [0, 2, 3])
    qtbot.waitUntil(lambda: len(studio.contents()) == 3, timeout=10_000)
    assert [c.product_id for c in studio.contents()] == ids
    assert "(3 pictures)" in studio.content_label.text()
    assert [p.id for p in studio.products()] == ids
    wait_idle(qtbot, window.runner)


def test_selecting_in_the_grid_leaves_the_studio_alone_until_the_user_asks(qtbot: QtBot, window: MainWindow) -> None:
    studio = window.studio_panel
    first = _select_rows(window, [0])
    qtbot.waitUntil(lambda: [c.product_id for c in studio.contents()] == first, timeout=10_000)
    wait_idle(qtbot, window.runner)
    _grid_select(window, [4, 5])  # to export them, say
    wait_idle(qtbot, window.runner)
    assert [c.product_id for c in studio.contents()] == first
    # Restyle from the product panel is an explicit action: the studio takes that product and comes forward.
    wanted = window.catalog_panel.model.product_id(7)
    window.detail_panel.show_product(wanted)
    qtbot.waitUntil(lambda: getattr(window.detail_panel.product(), "id", None) == wanted, timeout=10_000)
    window.detail_panel.restyle_button.click()
    qtbot.waitUntil(lambda: [c.product_id for c in studio.contents()] == [wanted], timeout=10_000)
    assert window.studio_dock.isVisible()
    wait_idle(qtbot, window.runner)


def test_an_unreadable_dropped_picture_is_named_and_empties_the_studio(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    studio = window.studio_panel
    _select_rows(window, [0])
    qtbot.waitUntil(lambda: studio.render_button.isEnabled() and studio.strip.count() == 1, timeout=10_000)
    fake = tmp_path / "holiday.jpg"
    fake.write_text("this is a text file, not a photo")
    studio.set_files([fake])
    qtbot.waitUntil(lambda: "holiday.jpg" in studio.status_label.text(), timeout=10_000)
    message = studio.status_label.text()
    assert "Error" not in message and "--" not in message  # no exception class, no command-line advice
    assert studio.contents() == [] and not studio.render_button.isEnabled()
    assert studio.preview_label.pixmap().isNull() and studio.strip.count() == 0
    wait_idle(qtbot, window.runner)


def test_dropped_picture_files_become_the_content(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    studio = window.studio_panel
    pictures = []
    for seed in (1, 2):
        path = tmp_path / f"supplier-shot-{seed}.png"
        product_shot((120, 100), seed=seed).save(path)
        pictures.append(path)
    (tmp_path / "notes.txt").write_text("not a picture")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in [*pictures, tmp_path / "notes.txt"]])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)  # fmt: skip
    with qtbot.waitSignal(studio.previewShown, timeout=60_000):
        studio.dropEvent(event)
    assert event.isAccepted()
    assert [c.path for c in studio.contents()] == pictures
    assert all(c.product_id is None for c in studio.contents())
    assert "supplier-shot-1.png" in studio.content_label.text()

    # Rendered from a file: kept in the catalog with no product.
    studio.size_box.setValue(256)
    studio.source_combo.setCurrentIndex(SOURCES.index("Preset blend"))
    with qtbot.waitSignal(studio.renderFinished, timeout=120_000) as finished:
        assert len(studio.render()) == 2
    render = finished.args[0]
    assert render.product_id is None and render.recipe["content"]["path"] == str(pictures[0])
    wait_idle(qtbot, window.runner, timeout=120_000)


def test_the_batch_matrix_renders_every_picture_in_every_style_as_one_job(qtbot: QtBot, window: MainWindow) -> None:
    studio = window.studio_panel
    _select_rows(window, [0, 1])
    qtbot.waitUntil(lambda: len(studio.contents()) == 2, timeout=10_000)
    studio.size_box.setValue(256)
    studio.source_combo.setCurrentIndex(SOURCES.index("Preset blend"))
    for preset in (3, 11):
        studio.preset_a.setValue(preset)
        assert studio.add_style_to_batch() is not None
    assert [s.label for s in studio.batch_styles()] == ["preset 3", "preset 11"]
    assert studio.matrix_button.isEnabled() and studio.matrix_button.text() == "Render 2 × 2"

    progress: list[str] = []
    with qtbot.waitSignal(studio.matrixFinished, timeout=240_000) as finished:
        job = studio.render_matrix()
        assert job is not None
        job_id = job.id
        window.runner.jobChanged.connect(
            lambda changed: changed == job_id and progress.append(window.runner.job(job_id).message)
        )
    info = window.runner.job(job_id)
    assert info.state is JobState.DONE and info.lane is Lane.WRITE and info.total == 4
    result = finished.args[0]
    assert len(result.done) == 4 and not result.failed
    assert any("(3 of 4)" in message for message in progress)  # per-cell progress reached the jobs panel
    assert len(studio.variants()) == 4
    with Image.open(result.sheet) as sheet:
        assert sheet.width > 2 * 256
    catalog = window.catalog()
    assert catalog is not None and len(catalog.renders()) == 4
    assert "Batch done: 4 pictures" in studio.status_label.text()
    wait_idle(qtbot, window.runner)


def test_a_variant_renders_again_identically_and_lends_its_settings(qtbot: QtBot, window: MainWindow) -> None:
    studio = window.studio_panel
    _select_rows(window, [1])
    qtbot.waitUntil(lambda: len(studio.contents()) == 1, timeout=10_000)
    studio.size_box.setValue(256)
    studio.source_combo.setCurrentIndex(SOURCES.index("Preset blend"))
    studio.preset_a.setValue(5)
    studio.preset_b.setValue(9)
    studio.preset_mix.setValue(30)
    studio.strength.setValue(60)
    studio.mask_combo.setCurrentIndex(1)  # background only
    studio.scale_box.setValue(1.5)
    assert not studio.rerender_button.isEnabled()
    with qtbot.waitSignal(studio.renderFinished, timeout=120_000) as finished:
        studio.render()
    first = finished.args[0]
    assert studio.current_variant() == first and studio.rerender_button.isEnabled()
    assert first.recipe["style_scale"] == 1.5
    assert f"#{first.id} rendered." in studio.status_label.text() and "fidelity" in studio.status_label.text()

    with qtbot.waitSignal(studio.renderFinished, timeout=120_000) as again:
        studio.rerender_variant()
    second = again.args[0]
    assert second.id != first.id and second.sha256 == first.sha256
    assert "the same picture" in studio.status_label.text()

    # Change everything, then take the first variant's settings back.
    studio.strength.setValue(100)
    studio.mask_combo.setCurrentIndex(0)
    studio.preset_a.setValue(20)
    studio.size_box.setValue(1024)
    studio.scale_box.setValue(1.0)
    studio.strip.setCurrentRow(1)
    assert studio.use_variant_settings()
    assert studio.scale_box.value() == 1.5
    assert studio.strength.value() == 60 and studio.mask_combo.currentIndex() == 1
    assert (studio.preset_a.value(), studio.preset_b.value(), studio.preset_mix.value()) == (5, 9, 30)
    assert studio.size_box.value() == 256
    assert "loaded" in studio.status_label.text()
    wait_idle(qtbot, window.runner, timeout=60_000)


def test_a_failed_render_retried_from_the_jobs_panel_lands_in_the_strip(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    studio = window.studio_panel
    _select_rows(window, [0])
    qtbot.waitUntil(lambda: len(studio.contents()) == 1, timeout=10_000)
    studio.size_box.setValue(256)
    style = tmp_path / "mood.png"
    studio.set_style_file(style)  # not there yet: the render fails with a message naming it
    [job_id] = [job.id for job in studio.render()]
    qtbot.waitUntil(lambda: window.runner.job(job_id).state.finished, timeout=60_000)
    assert window.runner.job(job_id).state is JobState.FAILED
    assert "mood.png" in window.runner.job(job_id).error
    row = window.jobs_panel.row(job_id)
    assert row is not None and not row.retry_button.isHidden()

    product_shot(96, seed=9).save(style)
    with qtbot.waitSignal(studio.renderFinished, timeout=120_000) as finished:
        row.retry_button.click()
    assert finished.args[0].recipe["style"]["path"] == str(style)
    assert studio.variants() == [finished.args[0]]
    wait_idle(qtbot, window.runner)


def test_gatys_renders_as_a_job_without_a_live_preview(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """Gatys takes minutes on a CPU: choosing it stops the live preview; a render without VGG19 fails with the
    core's instructions; the seed is recorded with every render."""
    studio = window.studio_panel
    _select_rows(window, [0])
    qtbot.waitUntil(lambda: len(studio.contents()) == 1, timeout=10_000)
    studio.size_box.setValue(256)
    studio.seed_box.setValue(42)
    with qtbot.waitSignal(studio.renderFinished, timeout=120_000) as finished:
        studio.render()  # the preset engine, which records the seed too
    assert finished.args[0].recipe["seed"] == 42

    style = tmp_path / "mood.png"
    product_shot(96, seed=5).save(style)
    studio.set_style_file(style)
    assert not studio.iterations_box.isEnabled()
    studio.engine_combo.setCurrentIndex([name for _text, name in ENGINES].index("gatys"))
    assert studio.iterations_box.isEnabled()
    qtbot.waitUntil(lambda: not studio.busy, timeout=30_000)  # a preview asked for before the switch may finish
    studio.refresh_preview()
    assert studio.status_label.text() == GATYS_NO_PREVIEW and not studio.busy
    assert studio.options(256).iterations == studio.iterations_box.value()
    [job_id] = [job.id for job in studio.render()]
    qtbot.waitUntil(lambda: window.runner.job(job_id).state.finished, timeout=60_000)
    info = window.runner.job(job_id)
    assert info.state is JobState.FAILED and "VGG19" in info.error  # this sandbox has no ImageNet VGG19
    wait_idle(qtbot, window.runner)


def test_variants_are_handed_to_the_export_dialog(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    from stylerec_desktop.core.export import read_manifest
    from stylerec_desktop.gui.panels.export_dialog import ExportDialog

    studio = window.studio_panel
    _select_rows(window, [0, 1])
    qtbot.waitUntil(lambda: len(studio.contents()) == 2, timeout=10_000)
    assert not studio.export_button.isEnabled()  # nothing rendered yet
    studio.size_box.setValue(256)
    ids = studio.render()
    qtbot.waitUntil(lambda: len(studio.variants()) == 2, timeout=120_000)
    assert studio.export_button.isEnabled()
    studio.export_button.click()
    dialog = window.findChild(ExportDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.product_combo.count() == 2, timeout=10_000)
    assert dialog.status_label.text().startswith("2 studio variants")
    for name, check in dialog.preset_checks.items():
        check.setChecked(name == "thumb")
    dialog.set_folder(tmp_path / "ads")
    with qtbot.waitSignal(dialog.exported, timeout=60_000) as exported:
        assert dialog.start_export() is not None
    result = exported.args[0]
    assert len(result.files) == 2
    _, rows = read_manifest(tmp_path / "ads")
    assert all(row.recipe_id for row in rows)  # restyled pictures carry their recipe into the provenance
    variants = {render.id: render for render in studio.variants()}
    assert {row.sku for row in rows} == {window.catalog().product(v.product_id).sku for v in variants.values()}  # type: ignore[union-attr]
    assert len(ids) == 2
    dialog.close()
    wait_idle(qtbot, window.runner)


def test_another_catalog_gets_a_clean_studio_and_no_retry_into_the_old_one(
    qtbot: QtBot, window: MainWindow, catalog_dir: Path, tmp_path: Path
) -> None:
    studio = window.studio_panel
    _select_rows(window, [0])
    qtbot.waitUntil(lambda: len(studio.contents()) == 1, timeout=10_000)
    studio.size_box.setValue(256)
    studio.set_style_file(tmp_path / "missing.png")
    [job_id] = [job.id for job in studio.render()]
    qtbot.waitUntil(lambda: window.runner.job(job_id).state.finished, timeout=60_000)
    assert window.runner.can_retry(job_id)
    other = tmp_path / "other"
    shutil.copytree(catalog_dir, other)
    assert window.open_catalog(other)
    wait_idle(qtbot, window.runner)
    assert not window.runner.can_retry(job_id) and window.runner.retry(job_id) is None
    assert window.jobs_panel.row(job_id).retry_button.isHidden()  # type: ignore[union-attr]
    assert studio.contents() == [] and studio.variants() == [] and studio.strip.count() == 0


def test_at_its_narrowest_every_studio_button_shows_its_whole_label(qtbot: QtBot, runner: JobRunner) -> None:
    """The controls column at its minimum width (a small screen, the studio docked under the grid): no button's
    label is cut off (the render row's four buttons once showed "ancel rende" and "Jse selectio")."""
    from PySide6.QtWidgets import QPushButton

    from stylerec_desktop.gui.panels.studio import StudioPanel

    panel = StudioPanel(runner)
    qtbot.addWidget(panel)
    panel.resize(panel.minimumSizeHint().width(), 560)
    panel.show()
    qtbot.waitExposed(panel)
    def label_width(button: QPushButton) -> int:
        return button.fontMetrics().horizontalAdvance(button.text().replace("&", "")) + 6  # and a little room

    clipped = [(b.text(), b.width(), label_width(b)) for b in panel.findChildren(QPushButton)
               if b.isVisible() and b.width() < label_width(b)]  # fmt: skip
    assert clipped == []
