"""Help ▸ About: the facts a support request needs, every shipped licence listed and readable, the app icon."""

from __future__ import annotations

import torch
from PySide6.QtCore import QSize, qVersion
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from stylerec_desktop import __version__
from stylerec_desktop.core.about import build_info
from stylerec_desktop.core.licences import SHIPPED
from stylerec_desktop.gui.about import AboutDialog
from stylerec_desktop.gui.app import create_application
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.resources import ICON_SIZES


def _texts(dialog: AboutDialog) -> str:
    return "\n".join(label.text() for label in dialog.findChildren(QLabel))


def test_about_lists_version_build_runtimes_device_and_every_shipped_licence(qtbot: QtBot) -> None:
    dialog = AboutDialog("cpu")
    qtbot.addWidget(dialog)
    shown = _texts(dialog)
    assert f"StyleRec Desktop {__version__}" in shown
    assert build_info().commit in shown
    assert torch.__version__ in shown and qVersion() in shown
    assert "cpu (" in shown  # the device the networks run on, with its threads
    assert dialog.listed_components() == [c.name for c in SHIPPED]
    licences = [dialog.licences.item(row, 2).text() for row in range(dialog.licences.rowCount())]
    assert licences == [c.licence for c in SHIPPED]
    assert "LGPL-3.0-only" in licences and "Apache-2.0" in licences


def test_a_licence_opens_in_full_from_the_about_box(qtbot: QtBot) -> None:
    dialog = AboutDialog("cpu")
    qtbot.addWidget(dialog)
    row = dialog.listed_components().index("Qt 6")
    dialog.licences.selectRow(row)
    opened = dialog.show_licence(dialog.licences.currentRow())
    assert opened is not None
    text = opened.text.toPlainText()
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in text and "Version 3" in text
    assert "GNU GENERAL PUBLIC LICENSE" in text  # the LGPL builds on the GPL's text: both are shipped
    opened.close()


def test_the_app_and_its_windows_carry_the_icon_at_every_size(qtbot: QtBot, window: MainWindow) -> None:
    app = create_application([])
    assert isinstance(app, QApplication)
    icon = app.windowIcon()
    assert not icon.isNull()
    assert {size.width() for size in icon.availableSizes()} == set(ICON_SIZES)
    pixmap = icon.pixmap(QSize(32, 32))
    assert (pixmap.width(), pixmap.height()) == (32, 32)
    # The tile's violet fills the icon's middle row at 32 px (a blank or missing icon is transparent there).
    colour = pixmap.toImage().pixelColor(4, 16)
    assert colour.alpha() == 255 and colour.blue() > colour.green()
    assert not window.windowIcon().isNull()
