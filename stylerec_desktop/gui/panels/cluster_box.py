"""Settings ▸ Processing ▸ "Run batch jobs on": this machine, or a Ray cluster at an address.

The address is checked with the core's :func:`~stylerec_desktop.core.cluster.parse_cluster` as it is typed; a value
it refuses marks the field red and shows the accepted forms, and the dialog keeps OK and Apply off until it is fixed.
Without Ray installed the cluster choice is greyed out with the one line that installs it. Nothing here connects to
a cluster: a batch job connects (or starts ``local[N]``) on its worker thread when it runs.
"""

from __future__ import annotations

import importlib.util

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QGroupBox, QLabel, QLineEdit, QRadioButton, QWidget

from stylerec_desktop.core.cluster import parse_cluster
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.gui.settings import DEFAULT_CLUSTER_ADDRESS

INSTALL_RAY = "Install the cluster extra: pip install 'stylerec-desktop[cluster]'"
ACCEPTED_FORMS = (
    "Use auto (the Ray cluster this machine belongs to), ray://HOST:PORT (a Ray Client address, usually port "
    "10001) or local[N] (N worker processes on this machine, for trying it out)."
)
WHAT_RUNS_THERE = (
    "Indexing styles and recommendations for every customer run there; the catalog is still read and written "
    "on this machine. Connecting (or starting local[N]) takes a few seconds, at the start of each job."
)


def ray_installed() -> bool:
    """Whether Ray can be imported here (found without importing it: that alone takes seconds)."""
    return importlib.util.find_spec("ray") is not None


class ClusterBox(QGroupBox):
    """The two choices and the address. :attr:`changed` fires on any edit; :meth:`value` gives
    ``(enabled, address)`` with the last valid address; :attr:`valid` is False while the cluster is chosen with an
    address :func:`parse_cluster` refuses."""

    changed = Signal()

    def __init__(self, ray_available: bool | None = None, parent: QWidget | None = None) -> None:
        super().__init__("Run batch jobs on", parent)
        self.setObjectName("clusterBox")
        self.ray_available = ray_installed() if ray_available is None else ray_available
        self._last_valid = DEFAULT_CLUSTER_ADDRESS
        self.here_button = QRadioButton("This machine")
        self.here_button.setObjectName("clusterHere")
        self.cluster_button = QRadioButton("A Ray cluster:")
        self.cluster_button.setObjectName("clusterOn")
        group = QButtonGroup(self)
        group.addButton(self.here_button)
        group.addButton(self.cluster_button)
        self.here_button.setChecked(True)
        self.address_edit = QLineEdit(DEFAULT_CLUSTER_ADDRESS)
        self.address_edit.setObjectName("clusterAddress")
        self.address_edit.setPlaceholderText("auto, ray://HOST:PORT or local[N]")
        self.address_edit.setToolTip(ACCEPTED_FORMS)
        self.error_label = QLabel()
        self.error_label.setObjectName("clusterError")
        self.error_label.setWordWrap(True)
        self.error_label.setProperty("role", "error")
        self.error_label.hide()
        self.note_label = QLabel(WHAT_RUNS_THERE if self.ray_available else INSTALL_RAY)
        self.note_label.setObjectName("clusterNote")
        self.note_label.setWordWrap(True)
        self.note_label.setProperty("role", "muted")
        self.note_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # to copy the pip line
        layout = QGridLayout(self)
        layout.addWidget(self.here_button, 0, 0, 1, 2)
        layout.addWidget(self.cluster_button, 1, 0)
        layout.addWidget(self.address_edit, 1, 1)
        layout.addWidget(self.error_label, 2, 0, 1, 2)
        layout.addWidget(self.note_label, 3, 0, 1, 2)
        layout.setColumnStretch(1, 1)
        if not self.ray_available:
            self.cluster_button.setEnabled(False)
            self.cluster_button.setToolTip(INSTALL_RAY)
        self.here_button.toggled.connect(self._edited)
        self.address_edit.textChanged.connect(self._edited)
        self._edited()

    @property
    def valid(self) -> bool:
        return not self.cluster_button.isChecked() or self._error() == ""

    def value(self) -> tuple[bool, str]:
        """``(run on the cluster, its address)``; the address is the last one typed that parses."""
        return self.cluster_button.isChecked(), self._last_valid

    def set_value(self, enabled: bool, address: str) -> None:
        self.address_edit.setText(address)
        # Chosen before but Ray is gone since (uninstalled): show it chosen, greyed, so the user sees why batch
        # jobs fail instead of the setting silently flipping.
        (self.cluster_button if enabled else self.here_button).setChecked(True)
        self._edited()

    def _error(self) -> str:
        try:
            self._last_valid = str(parse_cluster(self.address_edit.text()))
        except UserError:
            text = self.address_edit.text().strip()
            return f"{text!r} is not a cluster address. {ACCEPTED_FORMS}" if text else f"Give one. {ACCEPTED_FORMS}"
        return ""

    def _edited(self) -> None:
        self.address_edit.setEnabled(self.ray_available and self.cluster_button.isChecked())
        error = self._error() if self.cluster_button.isChecked() else ""
        if bool(self.address_edit.property("invalid")) != bool(error):
            self.address_edit.setProperty("invalid", bool(error))  # the theme draws an invalid field's border red
            self.address_edit.style().unpolish(self.address_edit)
            self.address_edit.style().polish(self.address_edit)
        self.error_label.setText(error)
        self.error_label.setVisible(bool(error))
        self.changed.emit()
