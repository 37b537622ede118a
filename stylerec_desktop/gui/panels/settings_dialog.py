"""File ▸ Settings…: processing device and precision, where batch jobs run (this machine or a Ray cluster), the
catalog and its thumbnail cache, the default ranking blend, and the pretrained networks.

Nothing here blocks the GUI thread: which devices PyTorch sees is asked on a worker (torch may not be loaded yet when
the dialog opens), the thumbnail folder is measured, trimmed and cleared on a worker, and switching device or
precision unloads the cached networks on a worker. OK and Apply store the values (:class:`AppSettings`) and emit
:attr:`SettingsDialog.applied` with the new :class:`Preferences`, which the window passes on to the panels.

Open it alone: ``python -m stylerec_desktop.gui.panels.settings_dialog [--catalog PATH]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import Shiboken

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.models.hardware import DeviceSupport, probe_devices
from stylerec_desktop.core.models.precision import PRECISIONS
from stylerec_desktop.core.recommend.controls import RankingWeights
from stylerec_desktop.core.thumbnail_cache import CacheUsage
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, LatestOnly
from stylerec_desktop.gui.panels.catalog_fit import CatalogFitBox
from stylerec_desktop.gui.panels.cluster_box import ClusterBox
from stylerec_desktop.gui.panels.models_page import ModelsPage
from stylerec_desktop.gui.ranking_fit import RankingFitter
from stylerec_desktop.gui.settings import (
    MAX_THUMBNAIL_LIMIT_MB,
    MIN_THUMBNAIL_LIMIT_MB,
    AppSettings,
    Preferences,
)
from stylerec_desktop.gui.widgets import SIGNAL_NAMES

DEVICE_CHOICES = (
    ("auto", "Automatic (a GPU when there is one)"),
    ("cpu", "CPU"),
    ("cuda", "NVIDIA GPU (CUDA)"),
    ("mps", "Apple GPU (Metal)"),
)
PRECISION_NOTES = {
    "auto": "Half precision on a GPU, bfloat16 on CPUs that run it natively, otherwise full. Recommended.",
    "fp32": "Full precision everywhere: the reference picture, and the slowest.",
    "fp16": "Half precision on NVIDIA GPUs: about twice as fast, same look. Means full precision on the CPU.",
    "bf16": "bfloat16 on GPUs and on CPUs with AMX or AVX512-BF16. Means full precision elsewhere.",
}
PRECISION_TITLES = {"auto": "Automatic", "fp32": "Full (fp32)", "fp16": "Half (fp16)", "bf16": "bfloat16 (bf16)"}


def unload_networks() -> None:
    """On a worker: drop every cached network, so the next preview or render loads it for the new device/dtype."""
    from stylerec_desktop.core.models import loader
    from stylerec_desktop.core.stylize import gatys

    loader.forget_models()
    gatys.forget_vgg19()


def trim_thumbnail_cache(thumbs_dir: Path, limit_bytes: int) -> CacheUsage:
    """On a worker: trim the cache to ``limit_bytes`` (oldest first); returns what is left."""
    from stylerec_desktop.core.thumbnail_cache import cache_usage, trim_thumbnails

    trim_thumbnails(thumbs_dir, limit_bytes)
    return cache_usage(thumbs_dir)


def describe_usage(usage: CacheUsage) -> str:
    return f"{usage.bytes / 2**20:,.1f} MB in {usage.files:,} files"


class SettingsDialog(QDialog):
    """The four tabs. ``catalog`` answers which catalog is open now; ``open_another`` runs the window's own
    "Open catalog…" flow (the Catalog tab shows the result)."""

    applied = Signal(object)  # Preferences
    evaluateRequested = Signal()  # from the catalog's ranking box
    devicesChecked = Signal(object)  # DeviceSupport
    usageShown = Signal(object)  # CacheUsage

    def __init__(
        self,
        settings: AppSettings,
        runner: JobRunner,
        catalog: Callable[[], Catalog | None] = lambda: None,
        open_another: Callable[[], None] | None = None,
        parent: QWidget | None = None,
        fitter: RankingFitter | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self._settings = settings
        self._runner = runner
        self._catalog = catalog
        self._open_another = open_another
        self._fitter = fitter
        self.fit_box: CatalogFitBox | None = None
        self._applied = settings.preferences()
        self.devices: DeviceSupport | None = None
        self._probe = LatestOnly(runner, "Check the devices", self)
        self._usage_read = LatestOnly(runner, "Measure the thumbnail cache", self)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._processing_tab(), "Processing")
        self.tabs.addTab(self._catalog_tab(), "Catalog")
        self.tabs.addTab(self._recommendations_tab(), "Recommendations")
        self.models_page = ModelsPage(runner)
        self.tabs.addTab(self.models_page, "Models")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.Apply
        )
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.buttons)
        self.resize(840, 540)

        self._show_preferences(self._applied)
        self._show_catalog()
        self._probe.run(probe_devices, self._show_devices, self._probe_failed)
        self.models_page.reload()

    # -- the tabs ------------------------------------------------------------------------------------------

    def _processing_tab(self) -> QWidget:
        self.device_combo = QComboBox()
        self.device_combo.setObjectName("deviceCombo")
        for value, text in DEVICE_CHOICES:
            self.device_combo.addItem(text, value)
        self.device_label = QLabel("Checking which devices PyTorch sees…")
        self.device_label.setWordWrap(True)
        self.device_label.setProperty("role", "muted")
        self.device_warning = QLabel()
        self.device_warning.setWordWrap(True)
        self.device_warning.setProperty("role", "error")
        self.device_warning.setVisible(False)
        self._set_device_item("cuda", enabled=False, tip="Checking whether PyTorch sees a GPU…")
        self._set_device_item("mps", enabled=False, tip="", visible=False)
        self.device_combo.currentIndexChanged.connect(self._changed)
        device_box = QGroupBox("Device")
        device_layout = QVBoxLayout(device_box)
        device_layout.addWidget(self.device_combo)
        device_layout.addWidget(self.device_label)
        device_layout.addWidget(self.device_warning)

        precision_box = QGroupBox("Precision")
        precision_layout = QGridLayout(precision_box)
        precision_layout.setColumnStretch(1, 1)
        precision_layout.setVerticalSpacing(6)
        self.precision_group = QButtonGroup(self)
        self.precision_buttons: dict[str, QRadioButton] = {}
        for row, value in enumerate(PRECISIONS):
            button = QRadioButton(PRECISION_TITLES.get(value, value))
            button.setObjectName(f"precision_{value}")
            note = QLabel(PRECISION_NOTES.get(value, ""))
            note.setWordWrap(True)
            note.setProperty("role", "muted")
            self.precision_group.addButton(button)
            self.precision_buttons[value] = button
            precision_layout.addWidget(button, row, 0, Qt.AlignmentFlag.AlignTop)
            precision_layout.addWidget(note, row, 1)
        self.precision_group.buttonToggled.connect(lambda _button, _on: self._changed())

        unload = QLabel("Changing either unloads the networks; the next preview loads them again (a second or two).")
        unload.setWordWrap(True)
        unload.setProperty("role", "muted")
        self.cluster_box = ClusterBox()
        self.cluster_box.changed.connect(self._changed)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(device_box)
        layout.addWidget(precision_box)
        layout.addWidget(unload)
        layout.addWidget(self.cluster_box)
        layout.addStretch(1)
        return page

    def _catalog_tab(self) -> QWidget:
        self.location_label = QLabel()
        self.location_label.setObjectName("catalogLocation")
        self.location_label.setWordWrap(True)
        self.location_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open another…")
        self.open_button.setEnabled(self._open_another is not None)
        self.open_button.clicked.connect(self._open_another_catalog)
        location = QHBoxLayout()
        location.addWidget(self.location_label, 1)
        location.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignTop)
        catalog_box = QGroupBox("Catalog")
        catalog_box_layout = QVBoxLayout(catalog_box)
        catalog_box_layout.addLayout(location)

        self.usage_label = QLabel()
        self.usage_label.setObjectName("thumbnailUsage")
        self.limit_box = QSpinBox()
        self.limit_box.setObjectName("thumbnailLimit")
        self.limit_box.setRange(MIN_THUMBNAIL_LIMIT_MB, MAX_THUMBNAIL_LIMIT_MB)
        self.limit_box.setSingleStep(256)
        self.limit_box.setSuffix(" MB")
        self.limit_box.setGroupSeparatorShown(True)
        self.limit_box.setMinimumWidth(140)
        self.limit_box.valueChanged.connect(self._changed)
        self.clear_button = QPushButton("Clear thumbnails")
        self.clear_button.setObjectName("clearThumbnails")
        self.clear_button.setToolTip("Delete this catalog's thumbnails; they are made again as products are shown")
        self.clear_button.clicked.connect(self.clear_thumbnails)
        usage_row = QHBoxLayout()
        usage_row.addWidget(self.usage_label, 1)
        usage_row.addWidget(self.clear_button)
        note = QLabel("Past the limit the oldest thumbnails are removed; they are made again when shown.")
        note.setWordWrap(True)
        note.setProperty("role", "muted")
        thumbnails_box = QGroupBox("Thumbnail cache")
        form = QFormLayout(thumbnails_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("On disk", usage_row)
        form.addRow("Keep at most", self.limit_box)
        form.addRow(note)

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(catalog_box)
        layout.addWidget(thumbnails_box)
        layout.addStretch(1)
        return page

    def _recommendations_tab(self) -> QWidget:
        intro = QLabel(
            "Your own blend: the 100 % of the sliders in the Recommendations panel for catalogs that are not "
            "tuned (and for any catalog when the panel is set to start from your blend). Only the ratios between "
            "the weights matter."
        )
        intro.setWordWrap(True)
        box = QGroupBox("Your default weights")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.weight_boxes: dict[str, QDoubleSpinBox] = {}
        for field in fields(RankingWeights):
            spin = QDoubleSpinBox()
            spin.setObjectName(f"default_{field.name}")
            spin.setRange(0.0, 100.0)
            spin.setDecimals(2)
            spin.setSingleStep(0.1)
            spin.setMinimumWidth(110)
            spin.valueChanged.connect(self._changed)
            label = QLabel(SIGNAL_NAMES.get(field.name, field.name))
            label.setProperty("signal", field.name)  # coloured by the theme, as in the Recommendations panel
            form.addRow(label, spin)
            self.weight_boxes[field.name] = spin
        self.reset_weights_button = QPushButton("Reset weights")
        self.reset_weights_button.clicked.connect(self.reset_weights)
        reset_row = QHBoxLayout()
        reset_row.addStretch(1)
        reset_row.addWidget(self.reset_weights_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        if self._fitter is not None:
            # What was fitted to the open catalog comes first: it decides what its customers are shown.
            self.fit_box = CatalogFitBox(self._fitter)
            self.fit_box.evaluateRequested.connect(self.evaluateRequested)
            layout.addWidget(self.fit_box)
        layout.addWidget(intro)
        layout.addWidget(box)
        layout.addLayout(reset_row)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(page)
        return scroll

    # -- public API ----------------------------------------------------------------------------------------

    def preferences(self) -> Preferences:
        """What the controls say now (not yet applied)."""
        checked = self.precision_group.checkedButton()
        precision = next((v for v, b in self.precision_buttons.items() if b is checked), "auto")
        weights = RankingWeights(**{name: spin.value() for name, spin in self.weight_boxes.items()})
        return Preferences(self.device_combo.currentData(), precision, weights, self.limit_box.value(),
                           *self.cluster_box.value())  # fmt: skip

    def apply(self) -> Preferences:
        """Store the controls' values; unload the networks when the device or precision changed; trim the
        thumbnails when the limit went down; then :attr:`applied`."""
        new, old = self.preferences(), self._applied
        self._settings.save(new)
        self._applied = new
        if (new.device, new.precision) != (old.device, old.precision):
            self._runner.submit("Unload the style networks", unload_networks, hidden=True)
        if new.thumbnail_limit_mb < old.thumbnail_limit_mb:
            catalog = self._catalog()
            if catalog is not None:
                thumbs, limit = catalog.thumbnails_dir, new.thumbnail_limit_bytes
                self._usage_read.run(lambda: trim_thumbnail_cache(thumbs, limit), self._show_usage)
        self._changed()
        self.applied.emit(new)
        return new

    def show_tab(self, title: str) -> None:
        """Bring page ``title`` ("Processing", "Catalog", "Recommendations", "Models") to the front."""
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i) == title:
                self.tabs.setCurrentIndex(i)

    def reset_weights(self) -> None:
        for name, value in RankingWeights().as_dict().items():
            self.weight_boxes[name].setValue(value)

    def clear_thumbnails(self) -> None:
        """Delete the open catalog's thumbnails (on a worker)."""
        catalog = self._catalog()
        if catalog is None:
            return
        thumbs = catalog.thumbnails_dir

        def clear() -> CacheUsage:
            from stylerec_desktop.core.thumbnail_cache import cache_usage, clear_thumbnails

            clear_thumbnails(thumbs)
            return cache_usage(thumbs)

        self.usage_label.setText("Clearing…")
        self._usage_read.run(clear, self._show_usage, self._usage_failed)

    @property
    def busy(self) -> bool:
        return self._probe.busy or self._usage_read.busy or self.models_page.busy

    # -- internals -----------------------------------------------------------------------------------------

    def _ok(self) -> None:
        self.apply()
        self.accept()

    def _changed(self) -> None:
        valid = self.cluster_box.valid  # a bad cluster address is marked on its field; nothing is stored until fixed
        self.apply_button.setEnabled(valid and self.preferences() != self._applied)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(valid)
        self._warn_about_device()

    def _show_preferences(self, preferences: Preferences) -> None:
        device = self.device_combo.findData(preferences.device)
        if preferences.device == "mps":
            self._set_device_item("mps", enabled=False, tip="Not checked yet", visible=True)
        self.device_combo.setCurrentIndex(max(0, device))
        self.precision_buttons.get(preferences.precision, self.precision_buttons["auto"]).setChecked(True)
        for name, value in preferences.ranking_weights.as_dict().items():
            self.weight_boxes[name].setValue(value)
        self.limit_box.setValue(preferences.thumbnail_limit_mb)
        self.cluster_box.set_value(preferences.cluster_enabled, preferences.cluster_address)
        self._changed()

    def _show_catalog(self) -> None:
        catalog = self._catalog()
        self.clear_button.setEnabled(catalog is not None)
        if catalog is None:
            self.location_label.setText("No catalog is open.")
            self.usage_label.setText("—")
            return
        self.location_label.setText(str(catalog.folder))
        self.usage_label.setText("Measuring…")
        thumbs = catalog.thumbnails_dir

        def measure() -> CacheUsage:
            from stylerec_desktop.core.thumbnail_cache import cache_usage

            return cache_usage(thumbs)

        self._usage_read.run(measure, self._show_usage, self._usage_failed)

    def _show_usage(self, usage: CacheUsage) -> None:
        self.usage_label.setText(describe_usage(usage))
        self.usageShown.emit(usage)

    def _usage_failed(self, info: JobInfo) -> None:
        self.usage_label.setText(info.error)

    def _open_another_catalog(self) -> None:
        if self._open_another is not None:
            self._open_another()
            self._show_catalog()

    def _set_device_item(self, value: str, enabled: bool, tip: str, visible: bool = True) -> None:
        index = self.device_combo.findData(value)
        model = self.device_combo.model()
        assert isinstance(model, QStandardItemModel)
        item = model.item(index)
        item.setEnabled(enabled)
        item.setToolTip(tip)
        # A hidden row stays in the model (its index keeps its meaning) but is not listed in the popup.
        view = self.device_combo.view()
        assert isinstance(view, QListView)  # QComboBox's default popup view
        view.setRowHidden(index, not visible)

    def _show_devices(self, devices: DeviceSupport) -> None:
        self.devices = devices
        if devices.cuda:
            self._set_device_item("cuda", enabled=True, tip=devices.cuda_name)
        else:
            self._set_device_item(
                "cuda", enabled=False,
                tip="PyTorch sees no CUDA GPU here (no NVIDIA GPU or driver, or a CPU-only PyTorch).",
            )  # fmt: skip
        self._set_device_item(
            "mps", enabled=devices.mps, tip="" if devices.mps else "Apple's Metal GPU is not available here.",
            visible=devices.mps or self._applied.device == "mps",
        )  # fmt: skip
        gpu = f"GPU: {devices.cuda_name}." if devices.cuda else "No CUDA GPU found." if not devices.mps else ""
        mps = " Apple GPU (Metal) available." if devices.mps else ""
        bf16 = "with native bfloat16" if devices.fast_bf16_cpu else "without native bfloat16"
        self.device_label.setText(f"{gpu}{mps} CPU: {devices.cpu_threads} threads, {bf16}.".strip())
        self._warn_about_device()
        self.devicesChecked.emit(devices)

    def _probe_failed(self, info: JobInfo) -> None:
        self.device_label.setText(f"Could not ask PyTorch about the devices: {info.error}")

    def _warn_about_device(self) -> None:
        if self.devices is None:
            return
        device = self.device_combo.currentData()
        missing = {"cuda": not self.devices.cuda, "mps": not self.devices.mps}.get(device, False)
        self.device_warning.setText(
            f"{self.device_combo.currentText()} is not available here: previews and renders will fail until "
            "you choose Automatic or CPU."
            if missing
            else ""
        )
        self.device_warning.setVisible(missing)


def open_settings_dialog(dialog: SettingsDialog | None, make: Callable[[], SettingsDialog]) -> SettingsDialog:
    """Raise ``dialog`` when it is still open, else show a new one from ``make`` (window-modal, deleted on close)."""
    if dialog is not None and Shiboken.isValid(dialog) and dialog.isVisible():
        dialog.raise_()
        dialog.activateWindow()
        return dialog
    dialog = make()
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


if __name__ == "__main__":
    from stylerec_desktop.gui.panels._standalone import run_panel
    from stylerec_desktop.gui.thumbnails import ThumbnailLoader

    def _build(catalog: Catalog, runner: JobRunner, _thumbnails: ThumbnailLoader) -> QWidget:
        dialog = SettingsDialog(AppSettings(), runner, lambda: catalog)
        dialog.applied.connect(lambda preferences: print("applied", preferences))
        return dialog

    raise SystemExit(run_panel("Settings", _build, size=(720, 520)))
