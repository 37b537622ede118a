"""Help ▸ About: the version, the build, what it runs on, and the licence of every component the app ships.

The facts come from ``core/about.py`` (the same list ``stylerec --version --verbose`` prints); each licence can be
read in full (``core/licences.py`` finds the texts in the bundle or the installed packages).

    python -m stylerec_desktop.gui.about      # opens the dialog alone, for a look
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QFontDatabase, QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop import __version__
from stylerec_desktop.core.about import component_version, facts, version_text
from stylerec_desktop.core.licences import SHIPPED, Component, licence_document
from stylerec_desktop.resources import icon_png

TAGLINE = "Style-aware product recommendations and neural restyling for e-commerce catalog teams."
PRIVACY = "Everything runs on this computer; nothing about your customers leaves it."


def _enter_closes(buttons: QDialogButtonBox) -> None:
    """Enter presses Close (the one harmless answer), not whichever button had the focus first."""
    for button in buttons.buttons():
        if isinstance(button, QPushButton):
            button.setAutoDefault(False)
    close = buttons.button(QDialogButtonBox.StandardButton.Close)
    if close is not None:
        close.setDefault(True)


class LicenceDialog(QDialog):
    """One component's licence and notice texts, in full, read-only, in a fixed-width font."""

    def __init__(self, component: Component, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("licenceDialog")
        self.setWindowTitle(f"Licence — {component.name}")
        self.text = QPlainTextEdit(licence_document(component))
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        _enter_closes(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>{component.name}</b> {component_version(component)} — {component.licence}"))
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(720, 560)


class AboutDialog(QDialog):
    """Version, build, versions of Python/Qt/PySide6/PyTorch, the device, and the shipped licences (a table:
    component, version, licence; "Read licence…" or a double-click shows the full text)."""

    def __init__(self, device_preference: str = "auto", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About StyleRec Desktop")
        self._device_preference = device_preference

        icon = QLabel()
        icon.setPixmap(QPixmap(str(icon_png(64))))
        title = QLabel(f"<h2 style='margin:0'>StyleRec Desktop {__version__}</h2><p>{TAGLINE}<br>{PRIVACY}</p>")
        title.setWordWrap(True)
        header = QHBoxLayout()
        header.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(title, 1)

        form = QFormLayout()
        self.facts = facts(qt_version=qVersion(), device_preference=device_preference)
        for label, value in self.facts[1:]:  # the version is in the title
            shown = QLabel(value)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{label}:", shown)

        self.licences = QTableWidget(len(SHIPPED), 3)
        self.licences.setObjectName("licenceTable")
        self.licences.setHorizontalHeaderLabels(["Component", "Version", "Licence"])
        self.licences.verticalHeader().setVisible(False)
        self.licences.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.licences.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.licences.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for row, component in enumerate(SHIPPED):
            for column, text in enumerate((component.name, component_version(component), component.licence)):
                item = QTableWidgetItem(text)
                if component.note:
                    item.setToolTip(component.note)
                self.licences.setItem(row, column, item)
        header_view = self.licences.horizontalHeader()
        header_view.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header_view.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header_view.setStretchLastSection(True)
        self.licences.selectRow(0)
        self.licences.doubleClicked.connect(lambda index: self.show_licence(index.row()))

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.read_button = QPushButton("Read licence…")
        self.read_button.clicked.connect(lambda: self.show_licence(self.licences.currentRow()))
        copy = QPushButton("Copy details")
        copy.setToolTip("Copy the version, build, versions and licences as text (for a support request)")
        copy.clicked.connect(self.copy_details)
        buttons.addButton(self.read_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        _enter_closes(buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(form)
        layout.addWidget(QLabel("<b>Licences of what this app ships</b> (double-click one to read it in full)"))
        layout.addWidget(self.licences, 1)
        layout.addWidget(buttons)
        self.resize(640, 620)

    def listed_components(self) -> list[str]:
        """The component names in the licence table, top to bottom."""
        items = (self.licences.item(row, 0) for row in range(self.licences.rowCount()))
        return [item.text() if item is not None else "" for item in items]

    def show_licence(self, row: int) -> LicenceDialog | None:
        """Open the full text of the component in ``row`` (non-modal); returns the dialog."""
        if not 0 <= row < len(SHIPPED):
            return None
        dialog = LicenceDialog(SHIPPED[row], self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(version_text(True, qt_version=qVersion()))


if __name__ == "__main__":
    from stylerec_desktop.gui.app import create_application

    application = create_application(sys.argv)
    AboutDialog().exec()
