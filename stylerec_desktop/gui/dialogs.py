"""Dialogs: the import error report and the keyboard shortcuts (About is gui/about.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

# Keys that are not menu actions; the menu actions' own shortcuts are read from the window (see shortcuts_dialog).
EXTRA_SHORTCUTS = (
    ("↑ ↓, Enter", "In the customer search: move through the list, show that customer"),
    ("Arrow keys", "In the grid: move between products"),
)


def menu_shortcuts(window: QMainWindow) -> list[tuple[str, str]]:
    """``(keys, what it does)`` for every menu action of ``window`` that has a shortcut, in menu order."""
    found: list[tuple[str, str]] = []
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()  # typed QObject by PySide6; a menu bar's entries hold QMenus
        for action in menu.actions() if isinstance(menu, QMenu) else ():
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys:
                found.append((keys, action.text().replace("&", "").rstrip("…")))
    return found


class ImportErrorDialog(QDialog):
    """Shows every bad row of a refused import file, and offers to import only the good rows.

    ``errors`` are ``(row, column, problem, expected)``; ``headline`` is the first line of the error.
    :attr:`import_good_rows` is True when the user chose "Import the good rows".
    """

    def __init__(
        self,
        file_name: str,
        headline: str,
        errors: list[tuple[int, str, str, str]],
        can_skip_bad: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("importErrorDialog")
        self.setWindowTitle(f"Import refused — {file_name}")
        self.import_good_rows = False
        self._errors = errors
        intro = QLabel(
            f"<b>{_escape(headline)}</b><br>The catalog has not been changed. "
            "Fix the rows below in the file and import it again"
            + (
                ", or import only the good rows now (the bad ones go to a rejects file beside it)."
                if can_skip_bad
                else "."
            )
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(len(errors), 4)
        self.table.setObjectName("importErrors")
        self.table.setHorizontalHeaderLabels(["Row", "Column", "Problem", "Expected"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        for r, (row, column, problem, expected) in enumerate(errors):
            number = QTableWidgetItem()
            number.setData(Qt.ItemDataRole.DisplayRole, row)  # numeric, so it sorts as a number
            self.table.setItem(r, 0, number)
            for c, text in enumerate((column or "(whole row)", problem, expected), start=1):
                self.table.setItem(r, c, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        count = QLabel(f"{len(errors)} problem{'s' if len(errors) != 1 else ''} in {len({e[0] for e in errors})} rows")
        count.setProperty("role", "muted")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy report")
        copy.clicked.connect(self.copy_report)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        if can_skip_bad:
            self.skip_button = QPushButton("Import the good rows")
            self.skip_button.clicked.connect(self._choose_skip_bad)
            buttons.addButton(self.skip_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        # Enter closes: importing the good rows writes to the catalog, so it is never what Enter does.
        for button in buttons.buttons():
            if isinstance(button, QPushButton):  # a button box's buttons are push buttons
                button.setAutoDefault(False)
        buttons.button(QDialogButtonBox.StandardButton.Close).setDefault(True)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(count)
        layout.addWidget(buttons)
        self.resize(860, 440)

    def report_text(self) -> str:
        """Tab-separated, header first: pastes into a spreadsheet as a table."""
        lines = ["row\tcolumn\tproblem\texpected"]
        lines += [f"{row}\t{column}\t{problem}\t{expected}" for row, column, problem, expected in self._errors]
        return "\n".join(lines)

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report_text())

    def _choose_skip_bad(self) -> None:
        self.import_good_rows = True
        self.accept()


def shortcuts_dialog(window: QMainWindow) -> QDialog:
    """Every shortcut of ``window``'s menus (so the list cannot go stale) plus the keys that are not menu actions."""
    shortcuts = [*menu_shortcuts(window), *EXTRA_SHORTCUTS]
    dialog = QDialog(window)
    dialog.setWindowTitle("Keyboard shortcuts")
    table = QTableWidget(len(shortcuts), 2)
    table.setHorizontalHeaderLabels(["Keys", "Does"])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    for row, (keys, does) in enumerate(shortcuts):
        table.setItem(row, 0, QTableWidgetItem(keys))
        table.setItem(row, 1, QTableWidgetItem(does))
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(table)
    layout.addWidget(buttons)
    dialog.resize(520, 400)
    return dialog


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
