"""Every dialog of the app, walked: Enter presses its safe button (Close, Keep..., or the dialog's own harmless
action), never one that throws work away. A dialog class or message box added later without a place in this walk
fails the completeness checks below, so the rule cannot be forgotten."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

import stylerec_desktop.gui
from stylerec_desktop.gui.jobs import JobInfo, Lane
from stylerec_desktop.gui.main_window import MainWindow

# The real questions, taken before the autouse fixture of conftest answers the quit question for every test.
ASK_BEFORE_QUITTING = MainWindow.confirm_cancel_jobs
THROWS_WORK_AWAY = ("cancel jobs", "cancel export", "quit", "delete", "remove", "discard", "overwrite")
GUI = Path(stylerec_desktop.gui.__file__).parent


def _enter_button(dialog: QDialog) -> str:
    """The text of the button Enter presses in the shown ``dialog`` (its default button), "&" left out."""
    if isinstance(dialog, QMessageBox):
        button = dialog.defaultButton()
        return button.text().replace("&", "") if button is not None else ""
    defaults = [b for b in dialog.findChildren(QPushButton) if b.isDefault() and b.isVisible()]
    assert len(defaults) == 1, f"{dialog.objectName() or type(dialog).__name__}: {[b.text() for b in defaults]}"
    return defaults[0].text().replace("&", "")


def _asked(monkeypatch: pytest.MonkeyPatch, ask: Callable[[], object]) -> QMessageBox:
    """The message box ``ask`` puts up, caught at ``exec`` (answered by nobody: as if closed)."""
    boxes: list[QMessageBox] = []

    def caught(box: QMessageBox) -> int:
        boxes.append(box)
        return 0

    monkeypatch.setattr(QMessageBox, "exec", caught)
    ask()
    assert len(boxes) == 1
    return boxes[0]


# Dialog classes of the GUI package and the Enter button each must have.
EXPECTED_DIALOGS = {
    "ImportErrorDialog": "Close",
    "LogDialog": "Close",
    "SettingsDialog": "OK",  # applies settings the user chose; nothing is lost
    "EvaluationDialog": "Run",  # reads only
    "ExportDialog": "Export",  # writes new files; an export already there is resumed, never overwritten
    "AboutDialog": "Close",
    "LicenceDialog": "Close",
}
# Message boxes with more than one answer (module: function that builds it).
QUESTION_BOXES = {"main_window.py": "confirm_cancel_jobs", "panels/export_dialog.py": "confirm_cancel_export"}


def test_enter_never_throws_work_away_in_any_dialog(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylerec_desktop.core.licences import SHIPPED
    from stylerec_desktop.gui import logbook
    from stylerec_desktop.gui.about import AboutDialog, LicenceDialog
    from stylerec_desktop.gui.dialogs import ImportErrorDialog, shortcuts_dialog
    from stylerec_desktop.gui.panels.evaluation_dialog import EvaluationDialog
    from stylerec_desktop.gui.panels.export_dialog import ExportDialog
    from stylerec_desktop.gui.panels.log_dialog import LogDialog
    from stylerec_desktop.gui.panels.settings_dialog import SettingsDialog

    catalog = window.catalog()
    assert catalog is not None
    dialogs: dict[str, QDialog] = {
        "ImportErrorDialog": ImportErrorDialog("products.csv", "1 bad row", [(2, "price", "x", "not a number")]),
        "LogDialog": LogDialog(logbook.recent_records(), window.runner, None),
        "SettingsDialog": SettingsDialog(window.preferences, window.runner),
        "EvaluationDialog": EvaluationDialog(window.ranking_fitter),
        "ExportDialog": ExportDialog(catalog, window.runner, [window.catalog_panel.model.product_id(0)]),
        "shortcuts": shortcuts_dialog(window),
        "AboutDialog": AboutDialog(),
        "LicenceDialog": LicenceDialog(SHIPPED[0]),
    }
    expected = {**EXPECTED_DIALOGS, "shortcuts": "Close"}
    pressed = {}
    for name, dialog in dialogs.items():
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        pressed[name] = _enter_button(dialog)
        dialog.close()
    assert pressed == expected

    running = JobInfo(1, "A long import", Lane.WRITE, submitted=0.0)
    quit_box = _asked(monkeypatch, lambda: ASK_BEFORE_QUITTING(window, [running]))
    export = dialogs["ExportDialog"]
    assert isinstance(export, ExportDialog)
    export_box = _asked(monkeypatch, export.confirm_cancel_export)
    for box, safe in ((quit_box, "Keep working"), (export_box, "Keep exporting")):
        assert _enter_button(box) == safe
        assert box.buttonRole(box.defaultButton()) == QMessageBox.ButtonRole.RejectRole
    for text in pressed.values():
        assert not any(word in text.lower() for word in THROWS_WORK_AWAY), text


def test_every_dialog_class_and_question_box_is_in_the_walk() -> None:
    """New dialogs join the walk above: each QDialog subclass of the GUI, and each QMessageBox built with more than
    one button (found in the source: a box built with ``addButton``)."""
    for module in pkgutil.walk_packages(stylerec_desktop.gui.__path__, "stylerec_desktop.gui."):
        importlib.import_module(module.name)
    found: set[str] = set()
    pending: list[type] = [QDialog]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("stylerec_desktop.gui"):
                found.add(sub.__name__)
    assert found == set(EXPECTED_DIALOGS)

    questions = {}
    for source in GUI.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                text = ast.unparse(node)
                if "QMessageBox(" in text and ".addButton(" in text:
                    questions[str(source.relative_to(GUI))] = node.name
    assert questions == QUESTION_BOXES
