"""The stylization studio: restyle the chosen products (or picture files dropped on it) with a style from a product,
an image file, a preset blend or a customer's taste, with a live low-resolution preview and full-resolution renders
kept in the catalog.

The preview runs core ``stylize.preview.Previewer`` (the render's own pipeline, which keeps each picture's work
across control changes) at :data:`PREVIEW_SIDE` on the read lane through :class:`LatestOnly`: as sliders move,
older previews are dropped. "Render" queues
:func:`~stylerec_desktop.core.stylize.renders.render_into_catalog_job` on the write lane (it adds a catalog row), one
job per content picture, visible and cancellable in the jobs panel; finished renders join the results strip, where
the original and a variant are compared side by side. A variant can be rendered again from its recipe, or its
settings loaded back into the controls to make a changed copy. "Add to batch" collects styles; "Render matrix" renders
every content picture in every collected style as one job (:mod:`stylerec_desktop.core.stylize.matrix`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.core.catalog import Catalog, Product
from stylerec_desktop.core.catalog.catalog import StoredRender
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.imaging import inspect_image
from stylerec_desktop.core.jobs import Job
from stylerec_desktop.gui import theme
from stylerec_desktop.gui.catalog_changes import CatalogChanges, Table
from stylerec_desktop.gui.compare import SCENE_SIDE, SideBySide
from stylerec_desktop.gui.jobs import JobHandle, JobInfo, JobRunner, JobState, Lane, LatestOnly, device_label
from stylerec_desktop.gui.thumbnails import read_scaled
from stylerec_desktop.gui.widgets import FileDropTarget

if TYPE_CHECKING:
    from stylerec_desktop.core.stylize import StyleOptions, StyleSource, StyleVector
    from stylerec_desktop.core.stylize.preview import Previewer

# core.stylize loads torch (~1.5 s). The window opens without it; app.py warms it up on a worker right after, so the
# imports inside the methods below find it loaded by the time anyone moves a control.

PREVIEW_SIDE = 256
PREVIEW_DELAY_MS = 30  # a slider drag asks at most this often
STRIP_ICON = 72
SOURCES = ("Preset blend", "Product", "Image file", "Customer taste")
ENGINES = (("Automatic", None), ("Neural (arbitrary)", "arbitrary"), ("Preset network", "preset"),
           ("Colours only", "colour"), ("Gatys (optimisation; slow, needs VGG19)", "gatys"))  # fmt: skip
GATYS_NO_PREVIEW = "Gatys optimises for minutes on a CPU, so there is no live preview: Render shows the result."
MASKS = (("Whole picture", "all"), ("Background only (keep the product)", "background"), ("Product only", "product"))
#: The first entry of the looks menu: the controls as set by hand (or the product-safe defaults the studio opens with).
OWN_SETTINGS = "Own settings"

#: The most pictures the studio takes at once (each render is a job and a row in the jobs panel; a whole-catalog
#: selection is a batch for the CLI, `stylerec stylize`).
MAX_CONTENTS = 200
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")


@dataclass(frozen=True)
class Content:
    """One picture to restyle: a catalog product's primary image, or a file from outside the catalog."""

    path: Path
    sku: str | None = None
    product_id: int | None = None
    title: str = ""

    @property
    def label(self) -> str:
        return self.sku or self.path.name


@dataclass(frozen=True)
class BatchStyle:
    """A style collected for the batch matrix: the choice (a style source or a product SKU), its engine, a label."""

    choice: object
    engine: str | None
    label: str


def image_files(paths: list[Path]) -> list[Path]:
    """The picture files among ``paths``, by extension (no disk access: this runs on the GUI thread; the render
    job reports an unreadable one by name)."""
    return [p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES]


#: What the studio remembers of a job of its own: its kind ("render", "rerender", "matrix") and, for a re-render,
#: the variant it remakes.
Followed = tuple[str, "StoredRender | None"]

_previewer_lock = threading.Lock()
_previewers: list[Previewer] = []


def _previewer() -> Previewer:
    """The previews' per-picture work, kept across control changes (core ``stylize.preview``); made on first use,
    on a worker, because core.stylize loads torch."""
    from stylerec_desktop.core.stylize.preview import Previewer

    with _previewer_lock:
        if not _previewers:
            _previewers.append(Previewer())
        return _previewers[0]


def fidelity_text(recipe: Mapping[str, object]) -> str:
    """A render's measured fidelity to its product (``recipe["fidelity"]``, see core ``stylize.fidelity``) in a
    sentence for the status line."""
    measured = recipe.get("fidelity")
    if not isinstance(measured, Mapping):
        return "Its fidelity to the product was not measured (an older render)."
    if measured.get("product_fidelity") is None:
        return "No product was found in it, so its fidelity to the product is not measured."
    return (
        f"Product fidelity {float(measured['product_fidelity']):.2f}: colour ΔE "
        f"{float(measured['product_delta_e']):.1f}, edges kept {float(measured['product_edge_ssim']):.2f}, "
        f"background ΔE {float(measured['background_change']):.1f}."
    )


def resolve_style(catalog: Catalog | None, choice: StyleSource | str) -> tuple[StyleSource, str | None]:
    """On a worker: the style source for :meth:`StudioPanel.source`'s answer, and the style product's SKU if any."""
    if not isinstance(choice, str):
        return choice, None
    if catalog is None:
        raise UserError("Open a catalog first.")
    from stylerec_desktop.core.stylize import StyleImage

    image = catalog.product_by_sku(choice).primary_image
    if image is None:
        raise UserError(f"{choice} has no image to take a style from.")
    return StyleImage(image.path, label=choice), choice


def describe_style(choice: StyleSource | str) -> str:
    """A few words for a job title: "preset 7", "C0022's taste", "the style of TEE-0002"."""
    from stylerec_desktop.core.stylize import PresetBlend

    if isinstance(choice, str):
        return f"the style of {choice}"
    if isinstance(choice, PresetBlend):
        return "preset " + " + ".join(str(k) for k in choice.weights)
    return choice.label or "a style image"


def variant_name(render: StoredRender) -> str:
    """``"#12 Preset 4 at 60%, background only"``: a variant by its number and what it is (core ``describe_recipe``)."""
    from stylerec_desktop.core.stylize.looks import describe_recipe

    return f"#{render.id} {describe_recipe(render.recipe)}"


def _icon_image(path: Path) -> QImage:
    """A strip icon of the picture at ``path``, decoded on a worker."""
    return read_scaled(path, STRIP_ICON)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _to_qimage(image: Image.Image) -> QImage:
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    return QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888).copy()


class StudioPanel(FileDropTarget, QWidget):
    """Content comes from :meth:`set_products` (catalog products) or :meth:`set_files` (pictures dropped on the
    panel or chosen with "Use files…"); a customer's taste from :meth:`use_style_vector`.

    :attr:`previewShown` fires with the preview's latency in ms (from the last control change to the picture on
    screen); :attr:`renderFinished` with each :class:`StoredRender`; :attr:`matrixFinished` with each batch
    matrix's :class:`~stylerec_desktop.core.stylize.matrix.MatrixResult`.
    """

    previewShown = Signal(float)
    renderFinished = Signal(object)
    matrixFinished = Signal(object)
    #: the variants in the results strip (a list of StoredRender), to export for the ad team
    exportRequested = Signal(list)
    comparisonShown = Signal()

    def __init__(
        self, runner: JobRunner, parent: QWidget | None = None, *, changes: CatalogChanges | None = None
    ) -> None:
        """``changes``: where the renders written are told (the window's; a studio opened alone has none)."""
        super().__init__(parent)
        self._runner = runner
        self._changes = changes
        self._catalog: Catalog | None = None
        self._products: list[Product] = []
        self._contents: list[Content] = []
        self._taste: StyleVector | None = None
        self._style_file: Path | None = None
        self._asked_at = 0.0
        # Our jobs in this catalog: handle -> (kind, the variant a re-render remakes): "render", "rerender" or
        # "matrix". Running ones, and failed or cancelled ones: the jobs panel's Retry runs them again on the same
        # handle, and the new run's result comes to the strip like the first one's would have.
        self._jobs: dict[JobHandle, Followed] = {}
        self.last_preview_ms: float | None = None
        self._preview = LatestOnly(runner, "Studio preview", self)
        self._product_read = LatestOnly(runner, "Read studio products", self)
        self._compare_read = LatestOnly(runner, "Load images to compare", self)

        self.content_label = QLabel()
        self.content_label.setWordWrap(True)
        self.source_combo = QComboBox()
        self.source_combo.setObjectName("styleSource")
        self.source_combo.addItems(SOURCES)
        self.preset_a = QSpinBox(minimum=0, maximum=25, value=7)
        self.preset_b = QSpinBox(minimum=0, maximum=25, value=12)
        self.preset_mix = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=0)
        self.preset_mix.setToolTip("Share of the second preset in the blend")
        self.preset_mix.setMinimumWidth(90)
        preset = QWidget()
        preset_row = QHBoxLayout(preset)
        preset_row.setContentsMargins(0, 0, 0, 0)
        for widget in (QLabel("Preset"), self.preset_a, QLabel("blend with"), self.preset_b, self.preset_mix):
            preset_row.addWidget(widget)
        self.style_sku = QLineEdit(placeholderText="SKU of the product whose style to use")
        self.file_button = QPushButton("Choose an image…")
        self.file_button.clicked.connect(self._choose_file)
        self.taste_label = QLabel("No taste yet: use “Restyle in this taste” in the Taste panel.")
        self.taste_label.setWordWrap(True)
        self._source_inputs = QStackedWidget()
        for widget in (preset, self.style_sku, self.file_button, self.taste_label):
            self._source_inputs.addWidget(widget)
        self.source_combo.currentIndexChanged.connect(self._source_inputs.setCurrentIndex)

        from stylerec_desktop.core.stylize.looks import LOOKS, SAFE_MASK, SAFE_STRENGTH, preserve_colour_for

        self.look_combo = QComboBox()
        self.look_combo.setObjectName("look")
        self.look_combo.addItem(OWN_SETTINGS)
        for look in LOOKS:
            self.look_combo.addItem(look.name)
            self.look_combo.setItemData(self.look_combo.count() - 1, look.description, Qt.ItemDataRole.ToolTipRole)
        self.look_combo.setToolTip("Named looks: saved settings a merchandiser can ship; choosing one sets the "
                                   "controls")  # fmt: skip
        self.look_combo.activated.connect(self._look_chosen)
        self.engine_combo = QComboBox()
        for text, _ in ENGINES:
            self.engine_combo.addItem(text)
        # Opens at the product-safe defaults (measured: bench/bench_defaults.py, BENCHMARKS.md).
        self.strength = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=round(SAFE_STRENGTH * 100))
        self.strength.setObjectName("strength")
        self.strength_value = QLabel()
        self.strength_value.setObjectName("strengthValue")
        self.strength_value.setMinimumWidth(36)
        self.strength.valueChanged.connect(self._show_strength)
        self._show_strength(self.strength.value())
        self.preserve_check = QCheckBox("Preserve the product's colours")
        self.preserve_check.setChecked(preserve_colour_for(SAFE_MASK))
        self.mask_combo = QComboBox()
        for text, _ in MASKS:
            self.mask_combo.addItem(text)
        self.mask_combo.setCurrentIndex([name for _text, name in MASKS].index(SAFE_MASK))
        # Restyling the product turns colours kept on, the backdrop alone turns it off (the product-safe rule);
        # the box can still be changed after.
        self.mask_combo.activated.connect(
            lambda index: self.preserve_check.setChecked(preserve_colour_for(MASKS[index][1]))  # type: ignore[arg-type]
        )
        self.size_box = QSpinBox(minimum=256, maximum=8192, value=1024, singleStep=256, suffix=" px")
        self.size_box.setToolTip("Longest side of full renders")
        self.scale_box = QDoubleSpinBox(minimum=0.25, maximum=4.0, value=1.0, singleStep=0.25, decimals=2)
        self.scale_box.setObjectName("styleScale")
        self.scale_box.setToolTip("Stroke size relative to the picture, the same in the preview and at every render "
                                  "size: 1 = strokes as on a 512 px picture, 2 = twice as large")  # fmt: skip
        self.seed_box = QSpinBox(minimum=0, maximum=2_147_483_647, value=0)
        self.seed_box.setToolTip("Kept with every render; the Gatys engine starts its optimisation from it")
        self.iterations_box = QSpinBox(minimum=10, maximum=2000, value=200, singleStep=50)
        self.iterations_box.setToolTip("Gatys only: optimisation steps (more is slower and closer to the style)")
        self.engine_combo.currentIndexChanged.connect(self._engine_changed)

        self.preview_label = QLabel()
        self.preview_label.setObjectName("studioPreview")
        self.preview_label.setFixedSize(PREVIEW_SIDE, PREVIEW_SIDE)
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setProperty("role", "muted")
        self.render_button = QPushButton("Render")
        self.render_button.setObjectName("renderButton")
        self.render_button.setDefault(True)
        self.render_button.clicked.connect(self.render)
        self.cancel_button = QPushButton("Cancel renders")
        self.cancel_button.clicked.connect(self.cancel_renders)
        self.cancel_button.setEnabled(False)
        # The studio's content changes only when the user says so: this button, a drop, or Restyle elsewhere.
        self.selection_button = QPushButton("Use selection")
        self.selection_button.setObjectName("useSelection")
        self.selection_button.setToolTip("Restyle the products selected in the catalog (Ctrl/Shift-click for several)")
        self.selection_button.clicked.connect(self.use_selection)
        self.selection_button.setEnabled(False)  # until the window says where the selection comes from
        self._selection: Callable[[], list[int]] | None = None
        self.files_button = QPushButton("Use files…")
        self.files_button.setToolTip("Restyle picture files from outside the catalog (or drop them on the studio)")
        self.files_button.clicked.connect(self._choose_content_files)

        self.batch_list = QListWidget()
        self.batch_list.setObjectName("batchStyles")
        self.batch_list.setMaximumHeight(90)
        self.batch_list.setToolTip("The styles of the batch matrix; Delete removes the selected one")
        self.add_batch_button = QPushButton("Add this style")
        self.add_batch_button.setToolTip("Collect the style chosen above for a products × styles batch")
        self.add_batch_button.clicked.connect(self.add_style_to_batch)
        self.remove_batch_button = QPushButton("Remove")
        self.remove_batch_button.clicked.connect(self._remove_batch_style)
        self.matrix_button = QPushButton("Render matrix")
        self.matrix_button.setObjectName("matrixButton")
        self.matrix_button.setToolTip("Render every content picture in every batch style, as one job")
        self.matrix_button.clicked.connect(self.render_matrix)
        batch = QGroupBox("Batch: pictures × styles")
        batch_layout = QVBoxLayout(batch)
        batch_layout.addWidget(self.batch_list)
        batch_buttons = QHBoxLayout()
        for button in (self.add_batch_button, self.remove_batch_button, self.matrix_button):
            batch_buttons.addWidget(button)
        batch_buttons.addStretch(1)
        batch_layout.addLayout(batch_buttons)

        self.rerender_button = QPushButton("Render again")
        self.rerender_button.setToolTip("Make this variant again from its recipe (the same picture on this machine)")
        self.rerender_button.clicked.connect(self.rerender_variant)
        self.reuse_button = QPushButton("Use its settings")
        self.reuse_button.setToolTip("Load this variant's style and options into the controls, to change and render")
        self.reuse_button.clicked.connect(self.use_variant_settings)
        self.export_button = QPushButton("Export variants…")
        self.export_button.setToolTip("Export every variant in the strip in ad formats, with their recipes")
        self.export_button.clicked.connect(lambda: self.exportRequested.emit(self.variants()))

        self.strip = QListWidget()
        self.strip.setObjectName("resultsStrip")
        self.strip.setViewMode(QListWidget.ViewMode.IconMode)
        self.strip.setFlow(QListWidget.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setWordWrap(True)
        self.strip.setGridSize(QSize(STRIP_ICON * 2, STRIP_ICON + 36))
        self.strip.setIconSize(QSize(STRIP_ICON, STRIP_ICON))
        self.strip.setFixedHeight(STRIP_ICON + 56)
        self.strip.currentRowChanged.connect(self._compare_variant)
        self.compare = SideBySide("Original", "Variant")
        self.compare.setMinimumHeight(140)

        form = QFormLayout()
        form.addRow("Content", self.content_label)
        form.addRow("Look", self.look_combo)
        form.addRow("Style from", self.source_combo)
        form.addRow("", self._source_inputs)
        form.addRow("Engine", self.engine_combo)
        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength, 1)
        strength_row.addWidget(self.strength_value)
        form.addRow("Strength", strength_row)
        form.addRow("", self.preserve_check)
        form.addRow("Mask", self.mask_combo)
        form.addRow("Stroke size", self.scale_box)
        form.addRow("Render size", self.size_box)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_box, 1)
        seed_row.addWidget(QLabel("Iterations"))
        seed_row.addWidget(self.iterations_box, 1)
        form.addRow("Seed", seed_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.render_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.selection_button)
        buttons.addWidget(self.files_button)
        controls = QWidget()
        controls_layout = QVBoxLayout(controls)
        controls_layout.setContentsMargins(0, 0, 0, 0)
        controls_layout.addLayout(form)
        controls_layout.addLayout(buttons)
        controls_layout.addWidget(batch)
        controls_layout.addStretch(1)
        preview = QWidget()
        preview_layout = QVBoxLayout(preview)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.addWidget(QLabel("<b>Live preview</b>"))
        preview_layout.addWidget(self.preview_label)
        preview_layout.addWidget(self.status_label)
        preview_layout.addStretch(1)
        results = QWidget()
        results_layout = QVBoxLayout(results)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.addWidget(QLabel("<b>Results</b> — the original and its variants"))
        results_layout.addWidget(self.strip)
        variant_buttons = QHBoxLayout()
        variant_buttons.addWidget(self.rerender_button)
        variant_buttons.addWidget(self.reuse_button)
        variant_buttons.addStretch(1)
        variant_buttons.addWidget(self.export_button)
        results_layout.addLayout(variant_buttons)
        results_layout.addWidget(self.compare, 1)
        # Left to right, as the eye works: what and how, the preview, then the finished variants.
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(controls)
        splitter.addWidget(preview)
        splitter.addWidget(results)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(2, 4)
        splitter.setChildrenCollapsible(False)
        controls.setMinimumWidth(320)  # the results pane's own buttons set its minimum
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(splitter)

        self._debounce = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._debounce.timeout.connect(self.refresh_preview)
        for signal in (
            self.source_combo.currentIndexChanged, self.preset_a.valueChanged, self.preset_b.valueChanged,
            self.preset_mix.valueChanged, self.style_sku.editingFinished, self.engine_combo.currentIndexChanged,
            self.strength.valueChanged, self.preserve_check.toggled, self.mask_combo.currentIndexChanged,
            self.scale_box.valueChanged,
        ):  # fmt: skip
            signal.connect(self._controls_changed)
        self.setAcceptDrops(True)
        self._show_content()
        self._update_batch_buttons()
        self._update_variant_buttons()
        self._engine_changed()

    # -- public API ----------------------------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        self._products = []
        self._contents = []
        self.selection_button.setEnabled(catalog is not None and self._selection is not None)
        # Jobs and reads of the catalog shown before finish into that catalog; their answers are not for this one.
        self._jobs = {}
        for read in (self._preview, self._product_read, self._compare_read):
            read.invalidate()
        self._update_cancel_button()
        self.batch_list.clear()
        self._update_batch_buttons()
        self.strip.clear()
        self.compare.set_images(None, None)
        self._show_content()

    def set_products(self, product_ids: list[int]) -> None:
        """The content: these products' primary images (read in the background)."""
        if self._catalog is None:
            return
        catalog = self._catalog

        if len(product_ids) > MAX_CONTENTS:
            self.status_label.setText(f"The studio takes the first {MAX_CONTENTS} of the {len(product_ids)} "
                                      "products selected.")  # fmt: skip
            product_ids = product_ids[:MAX_CONTENTS]

        def read() -> tuple[list[Product], list[Content], QImage | None]:
            products = [catalog.product(i) for i in product_ids]
            contents = [
                Content(p.primary_image.path, p.sku, p.id, p.title) for p in products if p.primary_image is not None
            ]
            return products, contents, _icon_image(contents[0].path) if contents else None

        self._product_read.run(read, self._contents_arrived)

    def set_selection_source(self, selected_ids: Callable[[], list[int]]) -> None:
        """Where "Use selection" takes its products from (the catalog grid's selected ids)."""
        self._selection = selected_ids
        self.selection_button.setEnabled(self._catalog is not None)

    def use_selection(self) -> None:
        """Take the products selected in the catalog as the content; a note when none is selected."""
        ids = self._selection() if self._selection is not None else []
        if not ids:
            self.status_label.setText("Select products in the catalog first, then press Use selection.")
            return
        self.set_products(ids)

    def set_files(self, paths: list[Path]) -> None:
        """Picture files from outside the catalog as the content (renders are still kept in the catalog). Each
        file is checked first: one that cannot be read is named with the reason, and when none can be used the
        studio is emptied (no stale preview, nothing to render)."""
        files = image_files(paths)
        if not files:
            self.status_label.setText("None of those is a picture file (PNG, JPEG, WebP, TIFF or BMP).")
            return

        def read() -> tuple[list[Product], list[Content], QImage | None, list[str]]:
            usable, problems = [], []
            for path in files[:MAX_CONTENTS]:
                try:
                    inspect_image(path)  # every pixel decodes: a text file named .jpg is caught here
                except UserError as exc:
                    problems.append(str(exc))
                else:
                    usable.append(path)
            if not usable:
                raise UserError(problems[0] if len(problems) == 1 else
                                f"None of the {len(problems)} files can be used. {problems[0]}")  # fmt: skip
            contents = [Content(path, title=path.name) for path in usable]
            return [], contents, _icon_image(usable[0]), problems

        def arrived(answer: tuple[list[Product], list[Content], QImage | None, list[str]]) -> None:
            products, contents, icon, problems = answer
            self._contents_arrived((products, contents, icon))
            if problems:
                skipped = f"{len(problems)} file{'s' if len(problems) != 1 else ''} left out: "
                self.status_label.setText(skipped + problems[0])

        self._product_read.run(read, arrived, self._files_failed)

    def _files_failed(self, info: JobInfo) -> None:
        """None of the files could be used: say which and why, and empty the studio so nothing stale remains."""
        self._products, self._contents = [], []
        self._preview.invalidate()
        self._show_content()
        self.strip.clear()
        self.compare.set_images(None, None)
        self.status_label.setText(info.error)

    def contents(self) -> list[Content]:
        """The pictures the next preview, render or matrix uses (the first one is previewed)."""
        return list(self._contents)

    _processing: tuple[str, str] = ("auto", "auto")  # (device, precision) until set_processing()

    def set_processing(self, device: str, precision: str) -> None:
        """The device and precision of the next previews and renders (Settings ▸ Processing)."""
        self._processing = (device, precision)

    def use_style_vector(self, style: StyleVector) -> None:
        """A customer's taste as the style ("Restyle in this taste")."""
        self._taste = style
        self.taste_label.setText(f"Style: {style.label}")
        self.source_combo.setCurrentIndex(SOURCES.index("Customer taste"))
        self._controls_changed()

    def products(self) -> list[Product]:
        return list(self._products)

    def options(self, size: int | None) -> StyleOptions:
        from stylerec_desktop.core.stylize import StyleOptions

        device, precision = self._processing
        return StyleOptions(
            strength=self.strength.value() / 100,
            preserve_colour=self.preserve_check.isChecked(),
            mask=MASKS[self.mask_combo.currentIndex()][1],  # type: ignore[arg-type]
            size=size,
            seed=self.seed_box.value(),
            iterations=self.iterations_box.value() if self.engine() == "gatys" else None,
            style_scale=self.scale_box.value(),
            device=device,
            precision=precision,
        )

    def engine(self) -> str | None:
        return ENGINES[self.engine_combo.currentIndex()][1]

    def _show_strength(self, value: int) -> None:
        self.strength_value.setText(f"{value}%")

    def choose_look(self, name: str) -> None:
        """Set the controls to the named look (core ``stylize.looks``): its preset (when it has one), strength,
        mask, colours and stroke size. A look without a style of its own keeps the style chosen."""
        self.look_combo.setCurrentIndex(max(0, self.look_combo.findText(name)))
        self._look_chosen(self.look_combo.currentIndex())

    def _look_chosen(self, index: int) -> None:
        from stylerec_desktop.core.stylize.looks import look_named

        if index <= 0:
            return
        look = look_named(self.look_combo.itemText(index))
        widgets = (self.source_combo, self.preset_a, self.preset_b, self.preset_mix, self.engine_combo,
                   self.strength, self.preserve_check, self.mask_combo, self.scale_box)  # fmt: skip
        for widget in widgets:
            widget.blockSignals(True)
        try:
            if look.source is not None:
                self._load_style({"kind": "preset", "weights": {str(k): v for k, v in look.source.weights.items()}})
                self.engine_combo.setCurrentIndex([name for _text, name in ENGINES].index(look.engine))
            self.strength.setValue(round(look.strength * 100))
            self.preserve_check.setChecked(look.preserve_colour)
            self.mask_combo.setCurrentIndex([name for _text, name in MASKS].index(look.mask))
            self.scale_box.setValue(look.style_scale)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self._source_inputs.setCurrentIndex(self.source_combo.currentIndex())
        self._show_strength(self.strength.value())
        self._engine_changed()
        self.status_label.setText(f"Look “{look.name}”: {look.description}.")
        self._controls_changed()

    def current_look(self) -> str | None:
        """The look chosen, while the controls still hold its settings (a changed control makes them one's own)."""
        from stylerec_desktop.core.stylize.looks import look_named

        if self.look_combo.currentIndex() <= 0:
            return None
        look = look_named(self.look_combo.currentText())
        options = self.options(None)
        try:
            same_style = look.source is None or self.source() == look.source
        except UserError:  # no style chosen yet (a taste, a file): not the look's preset either
            return None
        same = (same_style and round(look.strength * 100) == self.strength.value()
                and options.mask == look.mask and options.preserve_colour == look.preserve_colour
                and abs((options.style_scale or 0.0) - look.style_scale) < 1e-9
                and (look.engine is None or look.engine == self.engine()))  # fmt: skip
        return look.name if same else None

    def source(self) -> StyleSource | str:
        """The style chosen: a style source, or the SKU of the product whose style to use (looked up on a worker
        by :func:`resolve_style`: never a catalog read on the GUI thread). Raises UserError with what is missing."""
        from stylerec_desktop.core.stylize import PresetBlend, StyleImage

        kind = SOURCES[self.source_combo.currentIndex()]
        if kind == "Preset blend":
            mix = self.preset_mix.value() / 100
            weights = {self.preset_a.value(): 1.0 - mix}
            weights[self.preset_b.value()] = weights.get(self.preset_b.value(), 0.0) + mix
            return PresetBlend({k: v for k, v in weights.items() if v > 0})
        if kind == "Customer taste":
            if self._taste is None:
                raise UserError("Pick a customer and use “Restyle in this taste” first.")
            return self._taste
        if kind == "Image file":
            if self._style_file is None:
                raise UserError("Choose a style image first.")
            return StyleImage(self._style_file, label=self._style_file.name)
        sku = self.style_sku.text().strip()
        if not sku:
            raise UserError("Type the SKU of the product whose style to use.")
        return sku

    @property
    def busy(self) -> bool:
        return self._debounce.isActive() or self._preview.busy

    def refresh_preview(self) -> None:
        self._debounce.stop()
        if not self._contents:
            return
        if self.engine() == "gatys":
            self._asked_at = 0.0
            self._preview.invalidate()  # a preview still on its way belongs to the engine chosen before
            self.status_label.setText(GATYS_NO_PREVIEW)
            return
        try:
            choice = self.source()
            options = self.options(PREVIEW_SIDE)
        except UserError as exc:
            self.status_label.setText(str(exc))
            return
        engine, path, catalog = self.engine(), self._contents[0].path, self._catalog
        if not self._asked_at:
            self._asked_at = time.perf_counter()

        def work() -> tuple[QImage, str]:
            source, _ = resolve_style(catalog, choice)
            # The same picture a render or an export makes, doubtful-mask rule included (core stylize.preview).
            picture, note = _previewer().preview(path, source, options, engine=engine)
            return _to_qimage(picture), note

        self.status_label.setText("Previewing…")
        self._preview.run(work, self._show_preview, self._preview_failed)

    def render(self) -> list[JobHandle]:
        """Queue one full-resolution render per content picture; returns their jobs."""
        if self._catalog is None or not self._contents:
            return []
        try:
            choice = self.source()
            options = self.options(self.size_box.value())
        except UserError as exc:
            self.status_label.setText(str(exc))
            return []
        catalog, engine, look = self._catalog, self.engine(), self.current_look()
        handles = []
        for content in self._contents:

            def job(content: Content = content) -> Job[tuple[StoredRender, QImage]]:
                from stylerec_desktop.core.stylize.renders import render_into_catalog_job

                source, style_sku = resolve_style(catalog, choice)
                stored = yield from render_into_catalog_job(catalog, content.path, source, options, engine,
                                                            content.sku, style_sku, content.product_id,
                                                            look, fallback=())  # fmt: skip
                return stored, _icon_image(stored.path)

            title = f"Render {content.label} in {describe_style(choice)}"
            handle = self._runner.submit(title, job, lane=Lane.WRITE, device=device_label(options.device))
            self._follow(handle, ("render", None))
            handles.append(handle)
        return handles

    def cancel_renders(self) -> None:
        for handle in list(self._jobs):
            handle.cancel()

    # -- the batch matrix ----------------------------------------------------------------------------------

    def add_style_to_batch(self) -> BatchStyle | None:
        """Collect the style chosen in the controls (with the engine) for the matrix; returns it."""
        try:
            choice = self.source()
        except UserError as exc:
            self.status_label.setText(str(exc))
            return None
        engine = self.engine()
        label = describe_style(choice) + (f" ({ENGINES[self.engine_combo.currentIndex()][0]})" if engine else "")
        style = BatchStyle(choice, engine, label)
        item = QListWidgetItem(label)
        item.setData(Qt.ItemDataRole.UserRole, style)
        self.batch_list.addItem(item)
        self._update_batch_buttons()
        return style

    def batch_styles(self) -> list[BatchStyle]:
        return [self.batch_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.batch_list.count())]

    def render_matrix(self) -> JobHandle | None:
        """Queue every content picture in every batch style as one job (per-cell progress); returns it."""
        styles, contents, catalog = self.batch_styles(), list(self._contents), self._catalog
        if catalog is None or not styles or not contents:
            return None
        options = self.options(self.size_box.value())

        def job() -> Job[tuple[object, list[QImage]]]:
            from stylerec_desktop.core.stylize.matrix import MatrixContent, MatrixStyle, render_matrix_job

            columns = []
            for style in styles:
                source, style_sku = resolve_style(catalog, style.choice)  # type: ignore[arg-type]
                columns.append(MatrixStyle(source, style.label, style_sku, style.engine))
            rows = [MatrixContent(c.path, c.sku, c.product_id) for c in contents]
            result = yield from render_matrix_job(catalog, rows, columns, options, fallback=())
            return result, [_icon_image(render.path) for render in result.done]

        title = f"Render {len(contents)} × {len(styles)} batch ({len(contents) * len(styles)} pictures)"
        handle = self._runner.submit(title, job, lane=Lane.WRITE, device=device_label(options.device))
        self._follow(handle, ("matrix", None))
        self.status_label.setText(f"{title}: follow it in the Jobs panel.")
        return handle

    def _remove_batch_style(self) -> None:
        for item in self.batch_list.selectedItems():
            self.batch_list.takeItem(self.batch_list.row(item))
        self._update_batch_buttons()

    def _update_batch_buttons(self) -> None:
        count = self.batch_list.count()
        pictures = len(self._contents)
        self.matrix_button.setEnabled(count > 0 and pictures > 0)
        self.matrix_button.setText(f"Render {pictures} × {count}" if count and pictures else "Render matrix")
        self.remove_batch_button.setEnabled(count > 0)

    # -- variants: render again, or reuse the settings ----------------------------------------------------

    def current_variant(self) -> StoredRender | None:
        item = self.strip.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def rerender_variant(self) -> JobHandle | None:
        """Render the selected variant again from its recipe (a new variant; identical on this machine)."""
        render, catalog = self.current_variant(), self._catalog
        if render is None or catalog is None:
            return None

        def job() -> Job[tuple[StoredRender, QImage]]:
            from stylerec_desktop.core.stylize.renders import rerender_into_catalog_job

            stored = yield from rerender_into_catalog_job(catalog, render)
            return stored, _icon_image(stored.path)

        device = device_label(str(render.recipe.get("device", "auto")))
        handle = self._runner.submit(f"Render #{render.id} again from its recipe", job, lane=Lane.WRITE, device=device)
        self._follow(handle, ("rerender", render))
        return handle

    def use_variant_settings(self) -> bool:
        """Load the selected variant's style and options into the controls ("duplicate with changes")."""
        render = self.current_variant()
        if render is None:
            return False
        recipe = render.recipe
        style, options = dict(recipe["style"]), dict(recipe["options"])  # type: ignore[arg-type]
        widgets = (self.source_combo, self.preset_a, self.preset_b, self.preset_mix, self.engine_combo,
                   self.strength, self.preserve_check, self.mask_combo, self.style_sku, self.scale_box)  # fmt: skip
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self._load_style(style)
            engines = [name for _text, name in ENGINES]
            self.engine_combo.setCurrentIndex(engines.index(recipe["engine"]) if recipe["engine"] in engines else 0)
            self.strength.setValue(round(float(options.get("strength", 1.0)) * 100))
            self.preserve_check.setChecked(bool(options.get("preserve_colour", False)))
            masks = [name for _text, name in MASKS]
            self.mask_combo.setCurrentIndex(masks.index(options.get("mask", "all")))
            size = options.get("size") or max(render.size)
            self.size_box.setValue(int(size))
            self.seed_box.setValue(int(options.get("seed", 0)))
            # A version-1 recipe has no style scale (the network ran at its output size); its look is closest to
            # the scale that runs the network at that size.
            scale = options.get("style_scale") or 512 / max(256, int(size))
            self.scale_box.setValue(float(scale))
            if options.get("iterations"):
                self.iterations_box.setValue(int(options["iterations"]))
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self._source_inputs.setCurrentIndex(self.source_combo.currentIndex())
        self._engine_changed()
        note = ""
        if style.get("kind") == "preset" and len(dict(style["weights"])) > 2:  # type: ignore[arg-type]
            note = " The studio blends two presets: the two strongest of its blend were loaded."
        self.status_label.setText(f"Settings of #{render.id} loaded: change what you like, then Render.{note}")
        self._controls_changed()
        return True

    def _load_style(self, style: dict[str, object]) -> None:
        from stylerec_desktop.core.stylize import StyleVector

        kind = style.get("kind")
        if kind == "preset":
            weights = sorted(((int(k), float(v)) for k, v in dict(style["weights"]).items()), key=lambda kv: -kv[1])
            self.source_combo.setCurrentIndex(SOURCES.index("Preset blend"))
            self.preset_a.setValue(weights[0][0])
            second = weights[1] if len(weights) > 1 else weights[0]
            self.preset_b.setValue(second[0])
            total = sum(w for _k, w in weights[:2])
            self.preset_mix.setValue(round(100 * second[1] / total) if len(weights) > 1 else 0)
        elif kind == "vector":
            import numpy as np

            taste = StyleVector(
                np.asarray(style["vector"], dtype=np.float32), label=str(style.get("label", "")),
                customer_id=str(style.get("customer", "")),
            )
            self._taste = taste
            self.taste_label.setText(f"Style: {taste.label}")
            self.source_combo.setCurrentIndex(SOURCES.index("Customer taste"))
        elif style.get("sku"):
            self.style_sku.setText(str(style["sku"]))
            self.source_combo.setCurrentIndex(SOURCES.index("Product"))
        elif kind == "image":
            self._style_file = Path(str(style["path"]))
            self.file_button.setText(self._style_file.name)
            self.source_combo.setCurrentIndex(SOURCES.index("Image file"))

    def _engine_changed(self) -> None:
        self.iterations_box.setEnabled(self.engine() == "gatys")

    def _update_variant_buttons(self) -> None:
        has_variant = self.current_variant() is not None
        self.rerender_button.setEnabled(has_variant)
        self.reuse_button.setEnabled(has_variant)
        self.export_button.setEnabled(self.strip.count() > 1)

    def variants(self) -> list[StoredRender]:
        """The renders in the results strip, oldest first (the "Original" item carries none)."""
        items = (self.strip.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.strip.count()))
        return [render for render in items if render is not None]

    # -- slots ---------------------------------------------------------------------------------------------

    def _controls_changed(self) -> None:
        if self.look_combo.currentIndex() > 0 and self.current_look() is None:
            self.look_combo.setCurrentIndex(0)  # changed by hand: the menu now says these are one's own settings
        if not self._asked_at:
            self._asked_at = time.perf_counter()
        self._debounce.start()

    def _contents_arrived(self, answer: tuple[list[Product], list[Content], QImage | None]) -> None:
        products, contents, icon = answer
        self._products, self._contents = products, contents
        self._show_content()
        self._update_batch_buttons()
        self.strip.clear()
        self.compare.set_images(None, None)  # the panes show the new content's pictures, never the old product's
        if icon is not None:
            original = QListWidgetItem(QIcon(QPixmap.fromImage(icon)), "Original")
            original.setData(Qt.ItemDataRole.UserRole, None)
            self.strip.addItem(original)
            self.strip.setCurrentItem(original)
        self._controls_changed()

    def _show_content(self) -> None:
        if not self._contents:
            text = ("Select products in the catalog and press Use selection (or Restyle on a product), or drop "
                    "picture files here.")  # fmt: skip
            theme.set_rich_text(self.content_label, theme.muted(text))
            self.preview_label.clear()
            self.render_button.setEnabled(False)
            return
        contents = self._contents
        names = ", ".join(c.label for c in contents[:4]) + ("…" if len(contents) > 4 else "")
        count = f" ({len(contents)} pictures)" if len(contents) > 1 else ""
        self.content_label.setText(f"<b>{_escape(contents[0].title or contents[0].label)}</b>{count}<br>"
                                   f"{_escape(names)}")  # fmt: skip
        self.render_button.setEnabled(True)

    def _show_preview(self, answer: tuple[QImage, str]) -> None:
        image, note = answer
        self.last_preview_ms = (time.perf_counter() - self._asked_at) * 1000 if self._asked_at else 0.0
        self._asked_at = 0.0
        self.preview_label.setPixmap(QPixmap.fromImage(image))
        shown = f"Preview {image.width()}x{image.height()} in {self.last_preview_ms:.0f} ms"
        self.status_label.setText(f"{shown}. {note}" if note else shown)
        self.previewShown.emit(self.last_preview_ms)

    def _preview_failed(self, info: JobInfo) -> None:
        self._asked_at = 0.0
        self.status_label.setText(info.error)

    def _choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Style image", "", "Images (*.png *.jpg *.jpeg *.webp)")
        if name:
            self.set_style_file(Path(name))

    def set_style_file(self, path: Path) -> None:
        self._style_file = path
        self.file_button.setText(path.name)
        self.source_combo.setCurrentIndex(SOURCES.index("Image file"))
        self._controls_changed()

    def _follow(self, handle: JobHandle, followed: Followed) -> None:
        if self._changes is not None:
            self._changes.watch(handle, (Table.RENDERS,))
        self._jobs[handle] = followed
        handle.finished.connect(self._on_job_finished)
        handle.retried.connect(self._update_cancel_button)
        self._update_cancel_button()

    def _on_job_finished(self, info: JobInfo) -> None:
        handle = next((h for h in self._jobs if h.id == info.id), None)
        if handle is None:
            return  # a job of the catalog shown before
        self._update_cancel_button()
        followed = self._jobs[handle] if info.state is not JobState.DONE else self._jobs.pop(handle)
        kind, original = followed
        if kind == "matrix":
            self._matrix_finished(info)
            return
        if info.state is JobState.DONE:
            render, icon = info.result
            self._add_variant(render, icon)
            if original is not None:
                same = render.sha256 == original.sha256
                verdict = "the same picture" if same else "a different picture (made with another thread count?)"
                self.status_label.setText(f"#{original.id} rendered again as #{render.id}: {verdict}.")
            else:
                self.status_label.setText(f"#{render.id} rendered. {fidelity_text(render.recipe)}")
            self.renderFinished.emit(render)
        elif info.error:
            self.status_label.setText(info.error)

    def _matrix_finished(self, info: JobInfo) -> None:
        if info.state is not JobState.DONE:
            if info.state is JobState.CANCELLED:
                self.status_label.setText("Batch cancelled: the pictures finished before it are kept in the catalog.")
            if info.error:
                self.status_label.setText(info.error)
            return
        result, icons = info.result
        for render, icon in zip(result.done, icons, strict=True):
            self._add_variant(render, icon)
        text = f"Batch done: {len(result.done)} pictures"
        if result.sheet is not None:
            text += f"; contact sheet {result.sheet.name} in the catalog's renders folder"
        if result.failed:
            text += f". {len(result.failed)} failed: " + "; ".join(f"{c} in {s}: {e}" for c, s, e in result.failed[:3])
        self.status_label.setText(text)
        self.matrixFinished.emit(result)

    def _add_variant(self, render: StoredRender, icon: QImage) -> None:
        from stylerec_desktop.core.stylize.looks import describe_recipe

        sku = render.recipe.get("content", {}).get("sku")  # type: ignore[union-attr]
        name = describe_recipe(render.recipe)
        # Named by what it is; with several pictures in the studio, also whose variant it is.
        label = f"{sku}: {name}" if sku and len(self._contents) > 1 else name
        item = QListWidgetItem(QIcon(QPixmap.fromImage(icon)), label)
        item.setData(Qt.ItemDataRole.UserRole, render)
        item.setToolTip(f"#{render.id} {name}\n{sku or 'a picture file'}, {render.engine} engine\n{render.path}")
        self.strip.addItem(item)
        self.strip.setCurrentItem(item)

    def _update_cancel_button(self) -> None:
        self.cancel_button.setEnabled(any(not handle.info.state.finished for handle in self._jobs))

    def _choose_content_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self, "Pictures to restyle", "", "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)"
        )
        if names:
            self.set_files([Path(name) for name in names])

    def accepts_dropped(self, path: Path) -> bool:
        return path.suffix.lower() in IMAGE_SUFFIXES

    def take_dropped(self, paths: list[Path]) -> None:
        self.set_files(paths)

    def _compare_variant(self, row: int) -> None:
        self._update_variant_buttons()
        if row < 0 or not self._contents:
            self._compare_read.invalidate()
            self.compare.set_images(None, None)
            return
        render = self.strip.item(row).data(Qt.ItemDataRole.UserRole)
        original_path = self._contents[0].path
        if render is not None:  # each variant is compared with its own original (a batch has several)
            original_path = Path(str(render.recipe.get("content", {}).get("path", original_path)))  # type: ignore[union-attr]
        variant_path = render.path if render is not None else original_path
        self.compare.set_titles("<b>Original</b>", f"<b>{_escape(variant_name(render))}</b>" if render else "Original")

        def read() -> tuple[QImage | None, QImage | None]:
            # At the compare scene's size: a camera original decoded whole and scaled on the GUI thread took 0.2 s.
            pictures = [read_scaled(path, SCENE_SIDE) if path.is_file() else QImage()
                        for path in (original_path, variant_path)]  # fmt: skip
            original, variant = (None if picture.isNull() else picture for picture in pictures)
            return original, variant

        self._compare_read.run(read, self._show_pair)

    def _show_pair(self, images: tuple[QImage | None, QImage | None]) -> None:
        if images[0] is None:
            self.compare.left_label.setText("<b>Original</b>: its file is gone")
        self.compare.set_images(*images)
        self.compare.fit()
        self.comparisonShown.emit()


if __name__ == "__main__":
    from stylerec_desktop.gui.panels._standalone import run_panel
    from stylerec_desktop.gui.thumbnails import ThumbnailLoader

    def _build(catalog: Catalog, runner: JobRunner, thumbnails: ThumbnailLoader) -> QWidget:
        panel = StudioPanel(runner)
        panel.set_catalog(catalog)
        first = catalog.products(limit=1)
        if first:
            panel.set_products([first[0].id])
        panel.renderFinished.connect(lambda render: print("rendered", render.path))
        return panel

    raise SystemExit(run_panel("Stylization studio", _build, size=(900, 820)))
