"""The export dialog: live framing previews per preset, an inline template error, the export as a job (files and
manifest on disk), and a cancel that leaves no partial file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gui_helpers import wait_idle
from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, QTimer
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export import read_manifest
from stylerec_desktop.gui.jobs import JobRunner, JobState
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.panels.export_dialog import ExportDialog
from stylerec_desktop.gui.thumbnails import ThumbnailLoader


def _dialog(qtbot: QtBot, catalog: Catalog, runner: JobRunner, ids: list[int]) -> ExportDialog:
    dialog = ExportDialog(catalog, runner, ids)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_previews_follow_the_ticked_presets(
    qtbot: QtBot, catalog: Catalog, services: tuple[JobRunner, ThumbnailLoader], tmp_path: Path
) -> None:
    runner, _ = services
    ids = [p.id for p in catalog.products(limit=2)]
    dialog = _dialog(qtbot, catalog, runner, ids)
    qtbot.waitUntil(lambda: dialog.preview_count() == 3, timeout=10_000)  # square, portrait, story by default
    square = dialog.findChild(type(dialog.status_label), "preview-square").pixmap()
    story = dialog.findChild(type(dialog.status_label), "preview-story").pixmap()
    assert square.height() == story.height() and story.width() < square.width()  # 9:16 next to 1:1
    dialog.preset_checks["landscape"].setChecked(True)
    dialog.custom_check.setChecked(True)
    qtbot.waitUntil(lambda: dialog.preview_count() == 5, timeout=10_000)
    dialog.custom_edit.setText("12x")
    qtbot.waitUntil(lambda: dialog.custom_error.isVisible(), timeout=2_000)
    # Only the custom row is marked; the other four presets keep their previews.
    assert "12x" in dialog.custom_error.text() and not dialog.export_button.isEnabled()
    assert dialog.custom_edit.property("invalid") and not dialog.preset_error.isVisible()
    qtbot.waitUntil(lambda: dialog.preview_count() == 4, timeout=10_000)
    assert dialog.findChild(type(dialog.status_label), "preview-square") is not None
    dialog.custom_check.setChecked(False)
    dialog.set_folder("/tmp/anywhere")
    dialog.template_edit.setText("{sku}_{nope}")
    assert "nope" in dialog.template_hint.text() and not dialog.export_button.isEnabled()
    dialog.template_edit.setText("{category}/{sku}_{preset}")
    assert dialog.template_hint.text().startswith("e.g. ") and dialog.export_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.preview_count() == 4, timeout=10_000)
    wait_idle(qtbot, runner)
    # A look at the dialog goes to the test's own folder: tests never write into the source tree.
    shot = tmp_path / "export_dialog.png"
    assert dialog.grab().save(str(shot)) and shot.stat().st_size > 0


def test_export_runs_as_a_job_and_writes_files_and_manifest(
    qtbot: QtBot, catalog: Catalog, services: tuple[JobRunner, ThumbnailLoader], tmp_path: Path
) -> None:
    runner, _ = services
    products = catalog.products(limit=2)
    dialog = _dialog(qtbot, catalog, runner, [p.id for p in products])
    dialog.preset_checks["portrait"].setChecked(False)
    dialog.preset_checks["story"].setChecked(False)
    dialog.preset_checks["thumb"].setChecked(True)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("webp"))
    dialog.set_folder(tmp_path / "out")
    with qtbot.waitSignal(dialog.exported, timeout=30_000) as done:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
        assert dialog.job_id is not None and not dialog.export_button.isEnabled()
    result = done.args[0]
    assert len(result.files) == 4 and result.written == 4
    _, rows = read_manifest(tmp_path / "out")
    assert sorted(r.path for r in rows) == sorted(f"{p.sku}_{s}.webp" for p in products for s in ("square", "thumb"))
    assert all((tmp_path / "out" / r.path).is_file() for r in rows)
    assert dialog.progress.value() == 1000 and "Exported 4 files" in dialog.status_label.text()
    assert dialog.export_button.isEnabled()
    # The 512 px demo shots are enlarged about 2x to fill the 1080 px square: said in the end message (all of it
    # on hover) and in the manifest row of each such file.
    assert result.warnings and f"{len(result.warnings)} warnings" in dialog.status_label.text()
    assert "Enlarged" in dialog.status_label.text() and dialog.status_label.toolTip() == "\n".join(result.warnings)
    assert dialog.show_folder_button.isVisible()
    squares = [r for r in rows if r.preset == "square"]
    assert all(r.upscale > 1.5 and any("Enlarged" in w for w in r.warnings) for r in squares)


def test_cancel_leaves_no_partial_files(
    qtbot: QtBot, catalog: Catalog, services: tuple[JobRunner, ThumbnailLoader], tmp_path: Path
) -> None:
    runner, _ = services
    dialog = _dialog(qtbot, catalog, runner, [p.id for p in catalog.products(limit=40)])
    dialog.preset_checks["web"].setChecked(True)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("png"))
    out = tmp_path / "out"
    dialog.set_folder(out)
    job_id = dialog.start_export()
    assert job_id is not None
    qtbot.waitUntil(lambda: runner.job(job_id).done >= 1, timeout=30_000)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: runner.job(job_id).state.finished, timeout=30_000)
    assert runner.job(job_id).state is JobState.CANCELLED
    assert "cancelled" in dialog.status_label.text()
    names = os.listdir(out)
    assert not [n for n in names if n.startswith(".stylerec-tmp")]  # nothing half-written
    assert "manifest.json" not in names  # not presented as a finished export
    assert len([n for n in names if n.endswith(".png")]) < 40 * 4


def test_file_menu_opens_the_dialog_for_the_selected_product(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    product_id = window.catalog_panel.model.product_id(0)
    window.catalog_panel.select_product(product_id)
    action = next(a for a in window.findChildren(type(window.menuBar().actions()[0])) if "Export selected" in a.text())
    assert action.shortcut().toString() == "Ctrl+E"
    action.trigger()
    dialog = window.findChild(ExportDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.product_combo.currentData() == product_id, timeout=10_000)
    qtbot.waitUntil(lambda: dialog.preview_count() == 3, timeout=10_000)
    dialog.close()


def test_a_saved_user_preset_is_ticked_previewed_and_offered_again(
    qtbot: QtBot, catalog: Catalog, services: tuple[JobRunner, ThumbnailLoader], tmp_path: Path
) -> None:
    runner, _ = services
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    ids = [p.id for p in catalog.products(limit=1)]
    dialog = ExportDialog(catalog, runner, ids, settings)
    qtbot.addWidget(dialog)
    dialog.custom_edit.setText("1600x900")
    dialog.quality_spin.setValue(80)
    for bad in ("square", "no spaces", ""):
        with pytest.raises(UserError):
            dialog.save_user_preset(bad)
    preset = dialog.save_user_preset("Banner-Wide")
    assert (preset.name, preset.width, preset.height, preset.quality) == ("banner-wide", 1600, 900, 80)
    assert dialog.preset_checks["banner-wide"].isChecked()
    assert any(p.name == "banner-wide" and p.size == (1600, 900) for p in dialog.chosen_presets())
    qtbot.waitUntil(lambda: dialog.findChild(QLabel, "preview-banner-wide") is not None, timeout=10_000)
    picture = dialog.findChild(QLabel, "preview-banner-wide")
    qtbot.waitUntil(lambda: picture.pixmap().width() > 0, timeout=10_000)
    # the framed picture fills its frame exactly: 16:9 at the preview height
    assert picture.width() == picture.pixmap().width() and abs(picture.width() / picture.height() - 16 / 9) < 0.02
    wait_idle(qtbot, runner)
    dialog.close()

    again = ExportDialog(catalog, runner, ids, settings)
    qtbot.addWidget(again)
    assert again.user_presets["banner-wide"].size == (1600, 900)
    assert "banner-wide" in again.preset_checks
    wait_idle(qtbot, runner)


def test_export_selected_takes_every_selected_product(qtbot: QtBot, window: MainWindow) -> None:
    grid, model = window.catalog_panel.grid, window.catalog_panel.model
    grid.setCurrentIndex(model.index(0))
    for row in (2, 5):
        grid.selectionModel().select(model.index(row), QItemSelectionModel.SelectionFlag.Select)
    wanted = [model.product_id(row) for row in (0, 2, 5)]
    window._export_selected()
    dialog = window.findChild(ExportDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.product_combo.count() == 3, timeout=10_000)
    assert [dialog.product_combo.itemData(i) for i in range(3)] == wanted
    assert dialog.status_label.text().startswith("3 products selected")
    dialog.close()


def test_customer_ids_stay_out_unless_the_box_is_ticked(
    qtbot: QtBot, catalog: Catalog, services: tuple[JobRunner, ThumbnailLoader], tmp_path: Path
) -> None:
    import shutil

    from stylerec_desktop.core.privacy import TASTE_OF_A_CUSTOMER

    runner, _ = services
    customer = catalog.customers("", limit=1)[0].customer_id
    product = catalog.products(limit=1)[0]
    path = catalog.renders_dir / "taste.png"
    shutil.copyfile(product.primary_image.path, path)
    style = {"kind": "vector", "vector": [0.0] * 100, "label": f"{customer}'s taste", "customer": customer}
    recipe = {"engine": "arbitrary", "style": style, "options": {}, "seed": 0}
    render = catalog.render(catalog.add_render(path, "0" * 64, (64, 64), "1" * 64, "arbitrary", recipe, product.id))
    for ticked, folder in ((False, "private"), (True, "named")):
        dialog = ExportDialog(catalog, runner, [], renders=[render])
        qtbot.addWidget(dialog)
        assert not dialog.customer_ids_check.isChecked()  # off by default, every time
        dialog.customer_ids_check.setChecked(ticked)
        for name, check in dialog.preset_checks.items():
            check.setChecked(name == "thumb")
        dialog.template_edit.setText("{sku}_{style}_{preset}")
        dialog.set_folder(tmp_path / folder)
        with qtbot.waitSignal(dialog.exported, timeout=30_000):
            dialog.start_export()
        [row] = read_manifest(tmp_path / folder)[1]
        if ticked:
            assert customer in row.style_source and customer in row.path
            assert "customer identifiers" in dialog.privacy_label.text()
        else:
            assert row.style_source == TASTE_OF_A_CUSTOMER and customer not in row.path
            assert "no customer id" in dialog.privacy_label.text()


def test_close_during_an_export_asks_and_keeping_it_is_the_default(
    qtbot: QtBot, catalog: Catalog, services: tuple[JobRunner, ThumbnailLoader], tmp_path: Path
) -> None:
    runner, _ = services
    dialog = _dialog(qtbot, catalog, runner, [p.id for p in catalog.products(limit=40)])
    dialog.preset_checks["web"].setChecked(True)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("png"))
    dialog.set_folder(tmp_path / "out")
    job_id = dialog.start_export()
    assert job_id is not None
    answers: list[str] = []

    def answer(button_text: str | None) -> None:
        box = dialog._confirm_box
        if box is None:  # not shown yet
            QTimer.singleShot(20, lambda: answer(button_text))
            return
        answers.append(box.defaultButton().text())
        if button_text is None:
            box.defaultButton().click()  # Enter
        else:
            next(b for b in box.buttons() if b.text() == button_text).click()

    QTimer.singleShot(0, lambda: answer(None))
    dialog.close()
    assert answers == ["Keep exporting"] and dialog.isVisible()
    assert runner.job(job_id).state is not JobState.CANCELLED  # Enter kept the export going
    QTimer.singleShot(0, lambda: answer("Cancel export"))
    dialog.close()
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: runner.job(job_id).state.finished, timeout=30_000)
    assert runner.job(job_id).state is JobState.CANCELLED
