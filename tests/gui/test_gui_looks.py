"""The studio's named looks, its product-safe starting point and its strength readout, driven offscreen; variants in
the results strip are named by what they are."""

from __future__ import annotations

from gui_helpers import wait_idle
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.stylize.looks import SAFE_MASK, SAFE_STRENGTH, preserve_colour_for
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.panels.studio import MASKS, SOURCES


def test_a_look_sets_the_controls_and_names_the_variant(qtbot: QtBot, window: MainWindow) -> None:
    studio = window.studio_panel
    # The studio opens at the product-safe defaults, and the slider says its value.
    assert studio.strength.value() == round(SAFE_STRENGTH * 100)
    assert studio.strength_value.text() == f"{round(SAFE_STRENGTH * 100)}%"
    assert studio.preserve_check.isChecked() is preserve_colour_for(SAFE_MASK)
    assert MASKS[studio.mask_combo.currentIndex()][1] == SAFE_MASK
    # Choosing to restyle the whole picture (the product too) turns colours kept on; the backdrop alone, off.
    studio.mask_combo.setCurrentIndex(0)
    studio.mask_combo.activated.emit(0)
    assert studio.preserve_check.isChecked()
    studio.mask_combo.setCurrentIndex(1)
    studio.mask_combo.activated.emit(1)
    assert not studio.preserve_check.isChecked()
    studio.strength.setValue(35)
    assert studio.strength_value.text() == "35%"

    window.catalog_panel.grid.setCurrentIndex(window.catalog_panel.model.index(0))
    studio.use_selection()  # the studio's content changes only when asked
    qtbot.waitUntil(lambda: len(studio.contents()) == 1, timeout=10_000)
    studio.choose_look("Painterly backdrop")
    assert SOURCES[studio.source_combo.currentIndex()] == "Preset blend" and studio.preset_a.value() == 7
    assert studio.strength.value() == 100 and studio.strength_value.text() == "100%"
    assert MASKS[studio.mask_combo.currentIndex()][1] == "background" and not studio.preserve_check.isChecked()
    assert studio.scale_box.value() == 2.0 and studio.current_look() == "Painterly backdrop"
    studio.size_box.setValue(256)
    with qtbot.waitSignal(studio.renderFinished, timeout=120_000) as finished:
        studio.render()
    render = finished.args[0]
    assert render.recipe["look"] == "Painterly backdrop"
    expected = "Painterly backdrop: Preset 7 at 100%, background only, strokes x2"
    assert studio.strip.currentItem().text() == expected

    # Changed by hand, it is no longer the look, and its name says what it now is.
    studio.strength.setValue(55)
    assert studio.current_look() is None and studio.look_combo.currentText() == "Own settings"
    with qtbot.waitSignal(studio.renderFinished, timeout=120_000) as finished:
        studio.render()
    assert "look" not in finished.args[0].recipe
    assert studio.strip.currentItem().text() == "Preset 7 at 55%, background only, strokes x2"
    wait_idle(qtbot, window.runner, timeout=120_000)
