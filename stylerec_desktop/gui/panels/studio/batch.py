"""The studio's batch: styles collected one by one, then every content picture rendered in every style as one job
(:mod:`stylerec_desktop.core.stylize.matrix`). :class:`BatchBox` holds the list and its buttons; the studio adds
the style its controls hold and starts the matrix."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget


@dataclass(frozen=True)
class BatchStyle:
    """A style collected for the batch matrix: the choice (a style source or a product SKU), its engine, a label."""

    choice: object
    engine: str | None
    label: str


class BatchBox(QGroupBox):
    """"Batch: pictures × styles": the styles collected, Add this style, Remove, and Render matrix (named by the
    matrix's shape once there are pictures and styles). The studio connects ``add_batch_button`` and
    ``matrix_button``, and tells how many pictures it holds with :meth:`set_pictures`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Batch: pictures × styles", parent)
        self._pictures = 0
        self.batch_list = QListWidget()
        self.batch_list.setObjectName("batchStyles")
        self.batch_list.setMaximumHeight(90)
        self.batch_list.setToolTip("The styles of the batch matrix; Delete removes the selected one")
        self.add_batch_button = QPushButton("Add this style")
        self.add_batch_button.setToolTip("Collect the style chosen above for a products × styles batch")
        self.remove_batch_button = QPushButton("Remove")
        self.remove_batch_button.clicked.connect(self._remove_selected)
        self.matrix_button = QPushButton("Render matrix")
        self.matrix_button.setObjectName("matrixButton")
        self.matrix_button.setToolTip("Render every content picture in every batch style, as one job")
        layout = QVBoxLayout(self)
        layout.addWidget(self.batch_list)
        buttons = QHBoxLayout()
        for button in (self.add_batch_button, self.remove_batch_button, self.matrix_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self._update_buttons()

    def add(self, style: BatchStyle) -> None:
        item = QListWidgetItem(style.label)
        item.setData(Qt.ItemDataRole.UserRole, style)
        self.batch_list.addItem(item)
        self._update_buttons()

    def styles(self) -> list[BatchStyle]:
        return [self.batch_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.batch_list.count())]

    def clear(self) -> None:
        self.batch_list.clear()
        self._update_buttons()

    def set_pictures(self, count: int) -> None:
        """How many content pictures the matrix would render each style for."""
        self._pictures = count
        self._update_buttons()

    def _remove_selected(self) -> None:
        for item in self.batch_list.selectedItems():
            self.batch_list.takeItem(self.batch_list.row(item))
        self._update_buttons()

    def _update_buttons(self) -> None:
        count, pictures = self.batch_list.count(), self._pictures
        self.matrix_button.setEnabled(count > 0 and pictures > 0)
        self.matrix_button.setText(f"Render {pictures} × {count}" if count and pictures else "Render matrix")
        self.remove_batch_button.setEnabled(count > 0)
