"""The stylization studio: restyle the chosen products with a style from a product, an image file, a preset blend
or a customer's taste, with a live low-resolution preview and full-resolution renders kept in the catalog.

The preview runs :func:`~stylerec_desktop.core.stylize.stylize` at :data:`PREVIEW_SIDE` on the read lane through
:class:`LatestOnly`: as sliders move, older previews are dropped. "Render" queues
:func:`~stylerec_desktop.core.stylize.renders.render_into_catalog_job` on the write lane (it adds a catalog row), one
job per content product, visible and cancellable in the jobs panel; finished renders join the results strip, where
the original and a variant are compared side by side.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
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
from stylerec_desktop.core.jobs import Job
from stylerec_desktop.gui.compare import SideBySide
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, JobState, Lane, LatestOnly

if TYPE_CHECKING:
    from stylerec_desktop.core.stylize import StyleOptions, StyleSource, StyleVector

# core.stylize loads torch (~1.5 s). The window opens without it; app.py warms it up on a worker right after, so the
# imports inside the methods below find it loaded by the time anyone moves a control.

PREVIEW_SIDE = 256
PREVIEW_DELAY_MS = 30  # a slider drag asks at most this often
STRIP_ICON = 72
SOURCES = ("Preset blend", "Product", "Image file", "Customer taste")
ENGINES = (("Automatic", None), ("Neural (arbitrary)", "arbitrary"), ("Preset network", "preset"),
           ("Colours only", "colour"))  # fmt: skip
MASKS = (("Whole picture", "all"), ("Background only (keep the product)", "background"), ("Product only", "product"))

_previews_lock = threading.Lock()
_preview_contents: dict[Path, Image.Image] = {}


def _preview_content(path: Path) -> Image.Image:
    """The content image at preview size, decoded once per file (on a worker)."""
    with _previews_lock:
        cached = _preview_contents.get(path)
    if cached is None:
        from stylerec_desktop.core.stylize import prepare_content

        with Image.open(path) as opened:
            cached = prepare_content(opened, PREVIEW_SIDE)
        with _previews_lock:
            if len(_preview_contents) > 32:
                _preview_contents.clear()
            _preview_contents[path] = cached
    return cached


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


def _icon_image(path: Path) -> QImage:
    """A strip icon of the picture at ``path``, decoded on a worker."""
    image = QImage(str(path))
    return image.scaled(STRIP_ICON, STRIP_ICON, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)  # fmt: skip


def _to_qimage(image: Image.Image) -> QImage:
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    return QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888).copy()


class StudioPanel(QWidget):
    """Content products come from :meth:`set_products`; a customer's taste from :meth:`use_style_vector`.

    :attr:`previewShown` fires with the preview's latency in ms (from the last control change to the picture on
    screen); :attr:`renderFinished` with each :class:`StoredRender`.
    """

    previewShown = Signal(float)
    renderFinished = Signal(object)
    comparisonShown = Signal()

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._catalog: Catalog | None = None
        self._products: list[Product] = []
        self._taste: StyleVector | None = None
        self._style_file: Path | None = None
        self._asked_at = 0.0
        self._renders: list[int] = []
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

        self.engine_combo = QComboBox()
        for text, _ in ENGINES:
            self.engine_combo.addItem(text)
        self.strength = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=100)
        self.strength.setObjectName("strength")
        self.preserve_check = QCheckBox("Preserve the product's colours")
        self.mask_combo = QComboBox()
        for text, _ in MASKS:
            self.mask_combo.addItem(text)
        self.size_box = QSpinBox(minimum=256, maximum=8192, value=1024, singleStep=256, suffix=" px")
        self.size_box.setToolTip("Longest side of full renders")

        self.preview_label = QLabel()
        self.preview_label.setObjectName("studioPreview")
        self.preview_label.setFixedSize(PREVIEW_SIDE, PREVIEW_SIDE)
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_label.setStyleSheet("background: #f1f3f5; border: 1px solid #dde1e6")
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

        self.strip = QListWidget()
        self.strip.setObjectName("resultsStrip")
        self.strip.setViewMode(QListWidget.ViewMode.IconMode)
        self.strip.setFlow(QListWidget.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(QSize(STRIP_ICON, STRIP_ICON))
        self.strip.setFixedHeight(STRIP_ICON + 40)
        self.strip.currentRowChanged.connect(self._compare_variant)
        self.compare = SideBySide("Original", "Variant")
        self.compare.setMinimumHeight(140)

        form = QFormLayout()
        form.addRow("Content", self.content_label)
        form.addRow("Style from", self.source_combo)
        form.addRow("", self._source_inputs)
        form.addRow("Engine", self.engine_combo)
        form.addRow("Strength", self.strength)
        form.addRow("", self.preserve_check)
        form.addRow("Mask", self.mask_combo)
        form.addRow("Render size", self.size_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.render_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        controls = QWidget()
        controls_layout = QVBoxLayout(controls)
        controls_layout.setContentsMargins(0, 0, 0, 0)
        controls_layout.addLayout(form)
        controls_layout.addLayout(buttons)
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
        results_layout.addWidget(self.compare, 1)
        # Left to right, as the eye works: what and how, the preview, then the finished variants.
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(controls)
        splitter.addWidget(preview)
        splitter.addWidget(results)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(2, 4)
        splitter.setChildrenCollapsible(False)
        controls.setMinimumWidth(300)
        results.setMinimumWidth(300)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(splitter)

        self._debounce = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._debounce.timeout.connect(self.refresh_preview)
        for signal in (
            self.source_combo.currentIndexChanged, self.preset_a.valueChanged, self.preset_b.valueChanged,
            self.preset_mix.valueChanged, self.style_sku.editingFinished, self.engine_combo.currentIndexChanged,
            self.strength.valueChanged, self.preserve_check.toggled, self.mask_combo.currentIndexChanged,
        ):  # fmt: skip
            signal.connect(self._controls_changed)
        runner.jobFinished.connect(self._on_job_finished)
        self._show_content()

    # -- public API ----------------------------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        self._products = []
        self._preview.invalidate()
        self.strip.clear()
        self.compare.set_images(None, None)
        self._show_content()

    def set_products(self, product_ids: list[int]) -> None:
        """The content: these products' primary images (read in the background)."""
        if self._catalog is None:
            return
        catalog = self._catalog

        def read() -> tuple[list[Product], QImage | None]:
            products = [catalog.product(i) for i in product_ids]
            image = products[0].primary_image if products else None
            return products, _icon_image(image.path) if image is not None else None

        self._product_read.run(read, self._products_arrived)

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

        return StyleOptions(
            strength=self.strength.value() / 100,
            preserve_colour=self.preserve_check.isChecked(),
            mask=MASKS[self.mask_combo.currentIndex()][1],  # type: ignore[arg-type]
            size=size,
        )

    def engine(self) -> str | None:
        return ENGINES[self.engine_combo.currentIndex()][1]

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
        image = self._products[0].primary_image if self._products else None
        if image is None:
            return
        try:
            choice = self.source()
            options = self.options(PREVIEW_SIDE)
        except UserError as exc:
            self.status_label.setText(str(exc))
            return
        engine, path, catalog = self.engine(), image.path, self._catalog
        if not self._asked_at:
            self._asked_at = time.perf_counter()

        def work() -> QImage:
            from stylerec_desktop.core.stylize import stylize

            source, _ = resolve_style(catalog, choice)
            return _to_qimage(stylize(_preview_content(path), source, options, engine=engine))

        self.status_label.setText("Previewing…")
        self._preview.run(work, self._show_preview, self._preview_failed)

    def render(self) -> list[int]:
        """Queue one full-resolution render per content product; returns the job ids."""
        if self._catalog is None or not self._products:
            return []
        try:
            choice = self.source()
            options = self.options(self.size_box.value())
        except UserError as exc:
            self.status_label.setText(str(exc))
            return []
        catalog, engine = self._catalog, self.engine()
        ids = []
        for product in self._products:
            image = product.primary_image
            if image is None:
                continue

            def job(product: Product = product, path: Path = image.path) -> Job[tuple[StoredRender, QImage]]:
                from stylerec_desktop.core.stylize.renders import render_into_catalog_job

                source, style_sku = resolve_style(catalog, choice)
                stored = yield from render_into_catalog_job(catalog, path, source, options, engine, product.sku,
                                                            style_sku, product.id)  # fmt: skip
                return stored, _icon_image(stored.path)

            title = f"Render {product.sku} in {describe_style(choice)}"
            ids.append(self._runner.submit(title, job, lane=Lane.WRITE))
        self._renders.extend(ids)
        self.cancel_button.setEnabled(bool(ids))
        return ids

    def cancel_renders(self) -> None:
        for job_id in self._renders:
            self._runner.cancel(job_id)

    def variants(self) -> list[StoredRender]:
        """The renders in the results strip, oldest first."""
        return [self.strip.item(i).data(Qt.ItemDataRole.UserRole) for i in range(1, self.strip.count())]

    # -- slots ---------------------------------------------------------------------------------------------

    def _controls_changed(self) -> None:
        if not self._asked_at:
            self._asked_at = time.perf_counter()
        self._debounce.start()

    def _products_arrived(self, answer: tuple[list[Product], QImage | None]) -> None:
        products, icon = answer
        self._products = products
        self._show_content()
        self.strip.clear()
        if icon is not None:
            original = QListWidgetItem(QIcon(QPixmap.fromImage(icon)), "Original")
            original.setData(Qt.ItemDataRole.UserRole, None)
            self.strip.addItem(original)
        self._controls_changed()

    def _show_content(self) -> None:
        if not self._products:
            self.content_label.setText("<span style='color:#5f6b7a'>Select products in the catalog.</span>")
            self.preview_label.clear()
            self.render_button.setEnabled(False)
            return
        names = ", ".join(p.sku for p in self._products[:4]) + ("…" if len(self._products) > 4 else "")
        self.content_label.setText(f"<b>{self._products[0].title}</b><br>{names}")
        self.render_button.setEnabled(True)

    def _show_preview(self, image: QImage) -> None:
        self.last_preview_ms = (time.perf_counter() - self._asked_at) * 1000 if self._asked_at else 0.0
        self._asked_at = 0.0
        self.preview_label.setPixmap(QPixmap.fromImage(image))
        self.status_label.setText(f"Preview {image.width()}x{image.height()} in {self.last_preview_ms:.0f} ms")
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

    def _on_job_finished(self, job_id: int) -> None:
        if job_id not in self._renders:
            return
        info = self._runner.job(job_id)
        self._renders.remove(job_id)
        self.cancel_button.setEnabled(bool(self._renders))
        if info.state is JobState.DONE:
            render, icon = info.result
            item = QListWidgetItem(QIcon(QPixmap.fromImage(icon)), f"{render.engine} #{render.id}")
            item.setData(Qt.ItemDataRole.UserRole, render)
            item.setToolTip(str(render.path))
            self.strip.addItem(item)
            self.strip.setCurrentItem(item)
            self.renderFinished.emit(render)
        elif info.error:
            self.status_label.setText(info.error)

    def _compare_variant(self, row: int) -> None:
        if row < 0 or not self._products or self._products[0].primary_image is None:
            return
        render = self.strip.item(row).data(Qt.ItemDataRole.UserRole)
        original_path = self._products[0].primary_image.path
        variant_path = render.path if render is not None else original_path
        self.compare.set_titles("<b>Original</b>", f"<b>{render.engine}</b> #{render.id}" if render else "Original")
        self._compare_read.run(lambda: (QImage(str(original_path)), QImage(str(variant_path))), self._show_pair)

    def _show_pair(self, images: tuple[QImage, QImage]) -> None:
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
