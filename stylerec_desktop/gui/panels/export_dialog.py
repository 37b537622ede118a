"""The export dialog: presets, format, file names, folder and zip, with a live preview of each preset's framing.

The preview frames the chosen product into every ticked preset off the GUI thread (the job runner's read lane:
QImages made there, QPixmaps here); an answer that arrives after the choice changed again is dropped. Export runs
the core's :func:`~stylerec_desktop.core.export.job.export_job` as a job with progress and Cancel; a cancelled
export leaves no partial file (finished ones stay, and exporting again into the same folder resumes).

Open it alone: ``python -m stylerec_desktop.gui.panels.export_dialog [--catalog PATH]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from PySide6.QtCore import QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.core.catalog import Catalog, StoredRender
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export import (
    BUILTIN_PRESETS,
    DEFAULT_TEMPLATE,
    ExportOptions,
    ExportPreset,
    ExportResult,
    NameTemplate,
    export_job,
    frame_for_preset,
    parse_preset,
    presets_from_json,
    presets_to_json,
)
from stylerec_desktop.core.export.items import product_items_by_id, render_items
from stylerec_desktop.core.export.naming import NameFields
from stylerec_desktop.core.imaging import load_image
from stylerec_desktop.core.jobs import Job
from stylerec_desktop.core.masks import analyse_product
from stylerec_desktop.core.privacy import Finding, privacy_check, summary
from stylerec_desktop.gui import theme
from stylerec_desktop.gui.batch_jobs import where_label
from stylerec_desktop.gui.jobs import JobHandle, JobInfo, JobRunner, JobState, Lane, LatestOnly
from stylerec_desktop.gui.settings import AppSettings

PREVIEW_HEIGHT = 190
_FORMATS = (("JPEG", "jpeg"), ("PNG", "png"), ("WebP", "webp"))
_BOX_COLOUR = (47, 111, 237)
_USER_PRESETS_KEY = "export/user_presets"
# How many of an export's warnings the end message spells out; the rest are in its tooltip and the manifest.
_WARNINGS_SHOWN = 3


@dataclass(frozen=True)
class FramingPreview:
    """One preset's framing of the product, scaled for the dialog: ``image`` (made on a worker thread)."""

    preset: ExportPreset
    image: QImage
    warnings: tuple[str, ...]


def framing_previews(
    image_path: Path, presets: Sequence[ExportPreset], height: int = PREVIEW_HEIGHT
) -> list[FramingPreview]:
    """Frame ``image_path`` into every preset and scale each result to ``height`` px, the product's box drawn in.
    Runs on a worker thread (it decodes, masks and resizes full-size images)."""
    picture = load_image(image_path)
    product = analyse_product(picture)  # once for every preset, as the export does
    previews = []
    for preset in presets:
        framed = frame_for_preset(picture, preset, product)
        scale = height / framed.image.height
        small = framed.image.resize((max(1, round(framed.image.width * scale)), height), Image.Resampling.BILINEAR)
        left, top, right, bottom = (round(v * scale) for v in framed.product_box)
        ImageDraw.Draw(small).rectangle((left, top, right - 1, bottom - 1), outline=_BOX_COLOUR, width=1)
        data = small.convert("RGB").tobytes()
        qimage = QImage(data, small.width, small.height, 3 * small.width, QImage.Format.Format_RGB888).copy()
        previews.append(FramingPreview(preset, qimage, tuple(w.message for w in framed.warnings)))
    return previews


@dataclass(frozen=True)
class ExportSource:
    """One picture the dialog exports: a product's primary image or a stored render (studio variant)."""

    key: int  # the product id, or the render id
    sku: str
    title: str
    category: str
    path: Path | None


def _read_sources(
    catalog: Catalog, product_ids: Sequence[int], renders: Sequence[StoredRender]
) -> dict[int, ExportSource]:
    """On a worker: what the combo, the example file name and the framing previews need."""
    if renders:
        items = render_items(catalog, renders)
        pairs = zip(renders, items, strict=True)
        return {r.id: ExportSource(r.id, i.sku, i.title, i.category, r.path) for r, i in pairs}
    sources = {}
    for product_id in product_ids:
        product = catalog.product(product_id)
        path = product.primary_image.path if product.primary_image is not None else None
        sources[product_id] = ExportSource(product_id, product.sku, product.title, product.category, path)
    return sources


class ExportDialog(QDialog):
    """Export the products ``product_ids`` of ``catalog`` or, when ``renders`` is given, those stored renders (the
    studio's variants, with their recipes in the provenance). ``exported`` carries the result when an export ends."""

    exported = Signal(object)

    def __init__(
        self,
        catalog: Catalog,
        runner: JobRunner,
        product_ids: Sequence[int],
        settings: QSettings | None = None,
        parent: QWidget | None = None,
        renders: Sequence[StoredRender] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export for ad teams")
        self.setObjectName("exportDialog")
        self._catalog = catalog
        self._runner = runner
        self._renders = list(renders)
        self._ids = [r.id for r in self._renders] if self._renders else list(dict.fromkeys(product_ids))
        self._settings = settings
        self._privacy_findings: list[Finding] = []  # the last export's privacy check (set by its job)
        self._preview_read = LatestOnly(runner, "Preview export framing", self)
        # The pictures' sku/title/image, read once off the GUI thread; previews and the example name wait for it.
        self._sources: dict[int, ExportSource] = {}
        self._products_read = LatestOnly(runner, "Read the products to export", self)
        self._job: JobHandle | None = None  # the last export started (Retry in the jobs panel runs it again)
        self._confirm_box: QMessageBox | None = None  # the "Keep exporting / Cancel export" question while shown
        self.export_result: ExportResult | None = None  # not `result`: that is QDialog.result()
        self._preview_timer = QTimer(self, singleShot=True, interval=120)
        self._preview_timer.timeout.connect(self._refresh_preview)
        self._build()
        self._restore()
        self._update_template()
        self._update_state()
        ids, renders = list(self._ids), list(self._renders)
        self._products_read.run(lambda: _read_sources(catalog, ids, renders), self._sources_loaded)

    # -- building -----------------------------------------------------------------------------------------

    def _build(self) -> None:
        presets_box = QGroupBox("Presets")
        box_layout = QVBoxLayout(presets_box)
        grid = QGridLayout()
        self._user_grid = QGridLayout()
        box_layout.addLayout(grid)
        box_layout.addLayout(self._user_grid)
        self.preset_checks: dict[str, QCheckBox] = {}
        self.user_presets: dict[str, ExportPreset] = self._load_user_presets()
        for i, preset in enumerate(BUILTIN_PRESETS.values()):
            self._add_preset_check(preset, grid, i, checked=preset.name in ("square", "portrait", "story"))
        for i, preset in enumerate(self.user_presets.values()):
            self._add_preset_check(preset, self._user_grid, i)
        grid = QGridLayout()
        box_layout.addLayout(grid)
        self.custom_check = QCheckBox("custom")
        self.custom_edit = QLineEdit("1200x800")
        self.custom_edit.setPlaceholderText("WxH, e.g. 1200x800")
        self.custom_check.toggled.connect(self._on_choice_changed)
        self.custom_edit.textChanged.connect(self._on_choice_changed)
        self.save_preset_button = QPushButton("Save as preset…")
        self.save_preset_button.setToolTip("Keep this size, format and quality as a named preset for later exports")
        self.save_preset_button.clicked.connect(self._ask_preset_name)
        grid.addWidget(self.custom_check, 0, 0)
        grid.addWidget(self.custom_edit, 0, 1)
        # A bad custom size is said under its own row; the other presets keep their previews.
        self.custom_error = self._error_label()
        self.custom_error.setObjectName("customSizeError")
        grid.addWidget(self.custom_error, 1, 0, 1, 2)
        grid.addWidget(self.save_preset_button, 2, 1)
        self.preset_error = self._error_label()
        grid.addWidget(self.preset_error, 3, 0, 1, 2)

        form = QFormLayout()
        self.format_combo = QComboBox()
        for text, value in _FORMATS:
            self.format_combo.addItem(text, value)
        self.quality_spin = QSpinBox()
        self.quality_spin.setRange(1, 100)
        self.quality_spin.setValue(90)
        self.quality_spin.setSuffix(" quality")
        self.format_combo.currentIndexChanged.connect(self._update_state)
        fmt_row = QHBoxLayout()
        fmt_row.addWidget(self.format_combo, 1)
        fmt_row.addWidget(self.quality_spin)
        form.addRow("Format", fmt_row)

        self.template_edit = QLineEdit(DEFAULT_TEMPLATE)
        self.template_edit.setToolTip("Tokens: {sku} {title} {category} {style} {preset} {w} {h} {date} {seq}")
        self.template_edit.textChanged.connect(self._update_template)
        self.template_hint = QLabel()
        self.template_hint.setProperty("role", "muted")
        self.template_hint.setWordWrap(True)
        form.addRow("File names", self.template_edit)
        form.addRow("", self.template_hint)

        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("Choose the export folder")
        self.folder_edit.textChanged.connect(self._update_state)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        form.addRow("Folder", folder_row)
        self.zip_check = QCheckBox("Also write a zip of the whole set")
        form.addRow("", self.zip_check)
        # Off by default and never remembered between exports: the opt-in is per export (issue 15, item 10).
        self.customer_ids_check = QCheckBox("Include customer ids")
        self.customer_ids_check.setObjectName("includeCustomerIds")
        self.customer_ids_check.setToolTip(
            "Writes the customer's id into file names, image metadata and manifests when a variant is in a "
            "customer's taste. Leave it off for files that leave the company: the taste is then described as "
            "\"Taste of a customer\"."
        )
        form.addRow("", self.customer_ids_check)
        # Says what the box does until an export ends, then what the privacy check found in the folder.
        self.privacy_label = QLabel(
            "Ticked: customer ids go into file names, image metadata and manifests. Off: a customer's taste is "
            "written as \"Taste of a customer\"."
        )
        self.privacy_label.setObjectName("privacyFindings")
        self.privacy_label.setWordWrap(True)
        form.addRow("", self.privacy_label)

        left = QVBoxLayout()
        left.addWidget(presets_box)
        left.addLayout(form)
        left.addStretch(1)

        self.product_combo = QComboBox()
        self.product_combo.setPlaceholderText("Reading the products…")
        self.product_combo.currentIndexChanged.connect(self._schedule_preview)
        self.preview_status = QLabel("Framing…")
        self.preview_status.setProperty("role", "muted")
        self._strip = QWidget()
        self._strip_layout = QHBoxLayout(self._strip)
        self._strip_layout.setContentsMargins(0, 0, 0, 0)
        self._strip_layout.setSpacing(12)
        self._strip_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._strip)
        scroll.setMinimumHeight(PREVIEW_HEIGHT + 70)
        right = QVBoxLayout()
        heading = QLabel("Preview of the framing")
        heading.setProperty("role", "heading")
        right.addWidget(heading)
        right.addWidget(self.product_combo)
        right.addWidget(scroll, 1)
        right.addWidget(self.preview_status)

        body = QHBoxLayout()
        body.addLayout(left, 0)
        body.addLayout(right, 1)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        what = "studio variant" if self._renders else "product"
        self.status_label = QLabel(f"{len(self._ids)} {what}{'s' if len(self._ids) != 1 else ''} selected")
        self.status_label.setWordWrap(True)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button = QPushButton("Cancel export")
        self.cancel_button.clicked.connect(self.cancel_export)
        self.show_folder_button = QPushButton("Show in folder")
        self.show_folder_button.setObjectName("showInFolder")
        self.show_folder_button.clicked.connect(self.show_in_folder)
        self.show_folder_button.hide()  # until an export has written its files
        close = QPushButton("Close")
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.show_folder_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        self.resize(1220, 480)

    def _sources_loaded(self, sources: dict[int, ExportSource]) -> None:
        self._sources = sources
        for key, source in sources.items():
            label = f"#{key} {source.sku}" if self._renders else source.sku
            self.product_combo.addItem(f"{label} — {source.title}" if source.title else label, key)
        self.product_combo.setCurrentIndex(0 if sources else -1)  # a placeholder keeps the index at -1 otherwise
        self._update_template()
        self._schedule_preview()

    def _add_preset_check(
        self, preset: ExportPreset, grid: QGridLayout, index: int, checked: bool = False
    ) -> QCheckBox:
        check = QCheckBox(f"{preset.name}  {preset.width}×{preset.height}")
        check.setChecked(checked)  # before connecting: the dialog is still being built
        check.toggled.connect(self._on_choice_changed)
        self.preset_checks[preset.name] = check
        grid.addWidget(check, index // 2, index % 2)
        return check

    # -- user-defined presets -----------------------------------------------------------------------------

    def _load_user_presets(self) -> dict[str, ExportPreset]:
        text = self._settings.value(_USER_PRESETS_KEY) if self._settings is not None else None
        if not isinstance(text, str) or not text:
            return {}
        try:
            return presets_from_json(text)
        except UserError:
            return {}  # a damaged entry must not keep the dialog from opening; saving a preset rewrites it

    def save_user_preset(self, name: str) -> ExportPreset:
        """Keep the custom size with the chosen format and quality as the preset ``name`` (ticked at once).
        Raises UserError for a bad name or size."""
        name = name.strip().lower()
        if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
            raise UserError("A preset name is letters, digits, '-' or '_', e.g. banner-wide.")
        if name in BUILTIN_PRESETS:
            raise UserError(f"{name!r} is a built-in preset; choose another name.")
        size = parse_preset(self.custom_edit.text())
        preset = replace(size, name=name).with_format(self.format_combo.currentData())
        if preset.format != "png":
            preset = replace(preset, quality=self.quality_spin.value())
        self.user_presets[name] = preset
        if self._settings is not None:
            self._settings.setValue(_USER_PRESETS_KEY, presets_to_json(self.user_presets.values()))
        check = self.preset_checks.get(name)
        if check is None:
            check = self._add_preset_check(preset, self._user_grid, len(self.user_presets) - 1)
        check.setText(f"{preset.name}  {preset.width}×{preset.height}")
        check.setChecked(True)
        self._schedule_preview()
        return preset

    def _ask_preset_name(self) -> None:
        name, ok = QInputDialog.getText(self, "Save export preset", "Name of the new preset:")
        if not ok:
            return
        try:
            self.save_user_preset(name)
            self.preset_error.hide()
        except UserError as exc:
            self._show_error(self.preset_error, str(exc))

    @staticmethod
    def _error_label() -> QLabel:
        label = QLabel()
        label.setProperty("role", "error")
        label.setWordWrap(True)
        label.hide()
        return label

    # -- reading the choices ------------------------------------------------------------------------------

    def chosen_presets(self) -> list[ExportPreset]:
        """The ticked presets in the chosen format and quality. Raises UserError for a bad custom size."""
        presets = self._ticked_presets()
        if self.custom_check.isChecked():
            presets.append(parse_preset(self.custom_edit.text()))
        return self._in_chosen_format(presets)

    def _ticked_presets(self) -> list[ExportPreset]:
        return [BUILTIN_PRESETS.get(name) or self.user_presets[name]
                for name, check in self.preset_checks.items() if check.isChecked()]  # fmt: skip

    def custom_size_error(self) -> str:
        """The message about the custom size when it is ticked and unusable; empty otherwise."""
        if not self.custom_check.isChecked():
            return ""
        try:
            parse_preset(self.custom_edit.text())
        except UserError as exc:
            return str(exc)
        return ""

    def _in_chosen_format(self, presets: list[ExportPreset]) -> list[ExportPreset]:
        fmt = self.format_combo.currentData()
        chosen = []
        for preset in dict((p.name, p) for p in presets).values():
            changed = preset.with_format(fmt)
            if changed.quality != self.quality_spin.value() and fmt != "png":
                changed = replace(changed, quality=self.quality_spin.value())
            chosen.append(changed)
        return chosen

    def _presets_or_error(self) -> list[ExportPreset] | None:
        """The presets to export, or None when one is unusable: a bad custom size is marked on its own row."""
        custom_error = self._mark_custom_row()
        if custom_error:
            self.preset_error.hide()
            return None
        presets = self.chosen_presets()
        if not presets:
            self._show_error(self.preset_error, "Tick at least one preset.")
            return None
        self.preset_error.hide()
        return presets

    def _mark_custom_row(self) -> str:
        error = self.custom_size_error()
        if bool(self.custom_edit.property("invalid")) != bool(error):
            self.custom_edit.setProperty("invalid", bool(error))  # the theme draws an invalid field's border red
            self.custom_edit.style().unpolish(self.custom_edit)
            self.custom_edit.style().polish(self.custom_edit)
        if error:
            self._show_error(self.custom_error, error)
        else:
            self.custom_error.hide()
        return error

    def _previewable_presets(self) -> list[ExportPreset]:
        """What the preview shows: the ticked presets, and the custom size only while it is valid."""
        presets = self._ticked_presets()
        if self.custom_check.isChecked() and not self.custom_size_error():
            presets.append(parse_preset(self.custom_edit.text()))
        return self._in_chosen_format(presets)

    @staticmethod
    def _show_error(label: QLabel, text: str) -> None:
        label.setText(text)
        label.show()

    def template_error(self) -> str:
        """The inline message about the naming template; empty when it is usable."""
        try:
            NameTemplate(self.template_edit.text())
        except UserError as exc:
            return str(exc)
        return ""

    # -- live updates -------------------------------------------------------------------------------------

    def _on_choice_changed(self) -> None:
        self._update_state()
        self._schedule_preview()

    def _update_template(self) -> None:
        error = self.template_error()
        if error:
            self.template_hint.setText(error)
            theme.set_role(self.template_hint, "error")
        else:
            example = self._example_name()
            self.template_hint.setText(f"e.g. {example}" if example else "")
            theme.set_role(self.template_hint, "muted")
        self._update_state()

    def _example_name(self) -> str:
        product = self._sources.get(self._ids[0]) if self._ids else None
        if product is None:
            return ""
        preset = next((p for p in BUILTIN_PRESETS.values() if self.preset_checks[p.name].isChecked()), None)
        preset = preset or BUILTIN_PRESETS["square"]
        fields = NameFields(sku=product.sku, title=product.title, category=product.category, preset=preset.name,
                            w=preset.width, h=preset.height, date="2026-01-31", seq=1)  # fmt: skip
        fmt = self.format_combo.currentData()
        return NameTemplate(self.template_edit.text()).render(fields) + preset.with_format(fmt).extension

    def _update_state(self) -> None:
        running = self.job_id is not None
        presets = self._presets_or_error()
        ok = bool(presets) and not self.template_error() and bool(self.folder_edit.text().strip()) and bool(self._ids)
        self.export_button.setEnabled(ok and not running)
        self.cancel_button.setEnabled(running)
        self.quality_spin.setEnabled(self.format_combo.currentData() != "png")

    def _schedule_preview(self) -> None:
        self._preview_timer.start()

    def _refresh_preview(self) -> None:
        presets = self._previewable_presets()
        product_id = self.product_combo.currentData()
        if not presets or product_id is None:
            self._show_previews([])
            return
        source = self._sources[product_id]
        if source.path is None:
            self.preview_status.setText(f"{source.sku} has no image to preview.")
            return
        path = source.path
        self.preview_status.setText("Framing…")
        self._preview_read.run(
            lambda: framing_previews(path, presets),
            self._show_previews,
            lambda info: self.preview_status.setText(f"No preview: {info.error}"),
        )

    def _show_previews(self, previews: list[FramingPreview]) -> None:
        while self._strip_layout.count() > 1:
            item = self._strip_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for preview in previews:
            tile = QVBoxLayout()
            picture = QLabel()
            picture.setPixmap(QPixmap.fromImage(preview.image))
            # Exactly the framed image's size: a wider label (its caption is wider than a 9:16 frame) would draw
            # the frame's border around empty space and misstate the preset's proportions.
            picture.setFixedSize(picture.sizeHint())
            picture.setObjectName(f"preview-{preview.preset.name}")
            picture.setFrameShape(QFrame.Shape.Box)
            picture.setToolTip("\n".join(preview.warnings) or "The product fits whole, with its margin.")
            caption = QLabel(f"{preview.preset.name}  {preview.preset.width}×{preview.preset.height}")
            caption.setProperty("role", "muted")
            tile.addWidget(picture)
            tile.addWidget(caption)
            if preview.warnings:
                # In words under the frame, as wide as the frame: a warning must not need a hover to be seen.
                warning = QLabel("\n".join(f"⚠ {w}" for w in preview.warnings))
                warning.setObjectName(f"warning-{preview.preset.name}")
                warning.setProperty("role", "warning")
                warning.setWordWrap(True)
                warning.setMaximumWidth(max(picture.width(), 160))
                tile.addWidget(warning)
            tile.addStretch(1)
            holder = QWidget()
            holder.setLayout(tile)
            self._strip_layout.insertWidget(self._strip_layout.count() - 1, holder)
        warned = sum(1 for p in previews if p.warnings)
        self.preview_status.setText(
            f"{len(previews)} preset{'s' if len(previews) != 1 else ''}; the blue box is the product"
            + (f"; {warned} with a warning (under its frame)" if warned else "")
        )

    def preview_count(self) -> int:
        """How many preset previews are shown."""
        return self._strip_layout.count() - 1

    # -- folder, export, cancel ---------------------------------------------------------------------------

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def set_folder(self, folder: Path | str) -> None:
        self.folder_edit.setText(str(folder))

    def start_export(self) -> int | None:
        """Start the export job; its id, or None when a choice is not usable (the reason is shown inline)."""
        presets = self._presets_or_error()
        if not presets or self.template_error() or not self.folder_edit.text().strip() or self.job_id is not None:
            return None
        out_dir = Path(self.folder_edit.text().strip()).expanduser()
        options = ExportOptions(template=self.template_edit.text(), zip=self.zip_check.isChecked())
        catalog, ids, renders = self._catalog, list(self._ids), list(self._renders)
        include_ids = self.customer_ids_check.isChecked()
        # Settings ▸ Processing ▸ "Run batch jobs on": the files are framed and encoded there, and written here.
        cluster = AppSettings(self._settings).preferences().cluster if self._settings is not None else None

        def job() -> Job[ExportResult]:
            # On the worker: catalog reads stay off the GUI thread. Renders carry their recipes into provenance.
            if renders:
                items = render_items(catalog, renders, include_customer_ids=include_ids)
            else:
                items = product_items_by_id(catalog, ids)
            result = yield from export_job(items, presets, out_dir, options, cluster=cluster)
            self._privacy_findings = privacy_check(catalog, out_dir)  # read on the GUI thread once the job is done
            return result

        self._save()
        self.export_result = None
        self.show_folder_button.hide()
        self.progress.setValue(0)
        self.status_label.setText("Starting the export…")
        count, what = len(ids), "variant" if renders else "product"
        previous, self._job = self._job, self._runner.submit(
            f"Export {count} {what}{'s' if count != 1 else ''} × {len(presets)} presets", job, lane=Lane.READ,
            device=where_label(cluster, "cpu") if cluster is not None else "",
        )
        if previous is not None:
            self._follow(previous, False)  # the Jobs panel's Retry of an older export does not speak to this dialog
        self._follow(self._job, True)
        self._update_state()
        return self._job.id

    def _follow(self, job: JobHandle, follow: bool) -> None:
        for signal, slot in ((job.progress, self._on_job_progress), (job.finished, self._on_job_finished),
                             (job.retried, self._on_job_retried)):  # fmt: skip
            if follow:
                signal.connect(slot)
            else:
                signal.disconnect(slot)

    def cancel_export(self) -> None:
        if self._job is not None:
            self._job.cancel()

    @property
    def job_id(self) -> int | None:
        """The id of the export running now (None when none is)."""
        return self._job.id if self._job is not None and not self._job.info.state.finished else None

    def _on_job_retried(self, _info: JobInfo) -> None:
        """Retry in the jobs panel (after a full disk, say): the dialog follows the new run, which resumes."""
        self.status_label.setText("Exporting again (files already written are kept)…")
        self._update_state()

    def _on_job_progress(self, info: JobInfo) -> None:
        if info.fraction is not None:
            self.progress.setValue(int(1000 * info.fraction))
        self.status_label.setText(info.message or "Exporting…")

    def _on_job_finished(self, info: JobInfo) -> None:
        if info.fraction is not None:
            self.progress.setValue(int(1000 * info.fraction))
        self._finished(info)
        self._update_state()

    def _finished(self, info: JobInfo) -> None:
        if info.state is JobState.DONE:
            result: ExportResult = info.result
            self.export_result = result
            self.progress.setValue(1000)
            extra = f", {len(result.failures)} failed" if result.failures else ""
            text = (
                f"Exported {len(result.files)} files to {result.out_dir} ({result.written} written, "
                f"{result.skipped} already there{extra}); manifest.csv and manifest.json list them."
            )
            if result.warnings:
                # Every warning in the end message (the first few in words, all of them on hover), as well as in
                # the manifest's warnings column and the log.
                shown = "\n".join(f"⚠ {w}" for w in result.warnings[:_WARNINGS_SHOWN])
                more = len(result.warnings) - _WARNINGS_SHOWN
                text += f"\n{len(result.warnings)} warnings (also in the manifest's warnings column):\n{shown}"
                text += f"\n… and {more} more, listed in manifest.csv" if more > 0 else ""
            self.status_label.setText(text)
            self.status_label.setToolTip("\n".join(result.warnings))
            self.privacy_label.setText("\n".join(summary(self._privacy_findings, result.out_dir, limit=3)))
            self.show_folder_button.show()
            self.exported.emit(result)
        elif info.state is JobState.CANCELLED:
            self.progress.setValue(0)
            self.status_label.setText("Export cancelled: no partial file was left. Export again to resume.")
        else:
            self.status_label.setText(f"The export failed: {info.error}")

    # -- settings -----------------------------------------------------------------------------------------

    def _restore(self) -> None:
        if self._settings is None:
            return
        checked = self._settings.value("export/presets")
        if isinstance(checked, str):
            names = set(filter(None, checked.split(",")))
            for name, check in self.preset_checks.items():
                check.setChecked(name in names)
        for key, edit in (("template", self.template_edit), ("folder", self.folder_edit),
                          ("custom", self.custom_edit)):  # fmt: skip
            value = self._settings.value(f"export/{key}")
            if isinstance(value, str) and value:
                edit.setText(value)
        index = self.format_combo.findData(self._settings.value("export/format"))
        if index >= 0:
            self.format_combo.setCurrentIndex(index)

    def _save(self) -> None:
        if self._settings is None:
            return
        names = [name for name, check in self.preset_checks.items() if check.isChecked()]
        values: dict[str, Any] = {"presets": ",".join(names), "template": self.template_edit.text(),
                                  "folder": self.folder_edit.text(), "custom": self.custom_edit.text(),
                                  "format": self.format_combo.currentData()}  # fmt: skip
        for key, value in values.items():
            self._settings.setValue(f"export/{key}", value)

    def show_in_folder(self) -> None:
        """Open the last export's folder in the system's file manager."""
        if self.export_result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.export_result.out_dir)))

    def reject(self) -> None:
        """Close (or Esc, or the window's close box). During an export it asks first; keeping it is the default."""
        if self.job_id is not None and not self.confirm_cancel_export():
            return
        self._preview_read.invalidate()
        super().reject()

    def confirm_cancel_export(self) -> bool:
        """Ask whether to cancel the running export; True when it was cancelled (the dialog may then close)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Export running", "The export is still running.", parent=self)
        box.setInformativeText(
            "Cancel it and close? Files already written stay; exporting again into the same folder resumes."
        )
        keep = box.addButton("Keep exporting", QMessageBox.ButtonRole.RejectRole)
        cancel = box.addButton("Cancel export", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(keep)  # Enter must never throw work away
        box.setEscapeButton(keep)
        self._confirm_box = box  # tests answer it
        box.exec()
        self._confirm_box = None
        if box.clickedButton() is not cancel:
            return False
        self.cancel_export()
        return True


def open_export_dialog(
    parent: QWidget,
    catalog: Catalog | None,
    runner: JobRunner,
    product_ids: Sequence[int],
    settings: QSettings,
    renders: Sequence[StoredRender] = (),
) -> ExportDialog | None:
    """Show the export dialog (non-modal) for ``product_ids`` or ``renders``; a note when there is nothing to
    export."""
    from PySide6.QtWidgets import QMessageBox

    ids = [i for i in product_ids if i is not None]
    if catalog is None or not (ids or renders):
        QMessageBox.information(parent, "Export", "Select a product in the catalog first, then export it.")
        return None
    dialog = ExportDialog(catalog, runner, ids, settings, parent, renders=renders)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


if __name__ == "__main__":
    from stylerec_desktop.gui.panels._standalone import run_panel

    def _build(catalog: Catalog, runner: JobRunner, _thumbnails: Any) -> QWidget:
        ids = [p.id for p in catalog.products(limit=3)]
        return ExportDialog(catalog, runner, ids)

    raise SystemExit(run_panel("Export", _build, size=(1220, 480)))
