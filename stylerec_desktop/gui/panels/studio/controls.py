"""The studio's settings: the look, where the style comes from, the engine, strength, colours, mask, stroke size,
render size, seed and iterations. :class:`StudioControls` turns them into a style choice and
:class:`~stylerec_desktop.core.stylize.StyleOptions`, and loads a render's recipe back into them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError

if TYPE_CHECKING:
    from stylerec_desktop.core.stylize import StyleOptions, StyleSource, StyleVector
    from stylerec_desktop.core.stylize.recipe import Recipe, StyleRecord

# core.stylize loads torch (~1.5 s). The window opens without it; app.py warms it up on a worker right after, so the
# imports inside the methods below find it loaded by the time anyone moves a control.

SOURCES = ("Preset blend", "Product", "Image file", "Customer taste")
ENGINES = (("Automatic", None), ("Neural (arbitrary)", "arbitrary"), ("Preset network", "preset"),
           ("Colours only", "colour"), ("Gatys (optimisation; slow, needs VGG19)", "gatys"))  # fmt: skip
MASKS = (("Whole picture", "all"), ("Background only (keep the product)", "background"), ("Product only", "product"))
#: The first entry of the looks menu: the controls as set by hand (or the product-safe defaults the studio opens with).
OWN_SETTINGS = "Own settings"


def resolve_style(catalog: Catalog | None, choice: StyleSource | str) -> tuple[StyleSource, str | None]:
    """On a worker: the style source for :meth:`StudioControls.source`'s answer, and the style product's SKU if
    any."""
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


def _percent_slider(value: int) -> QSlider:
    """A horizontal 0..100 slider at ``value``."""
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 100)
    slider.setValue(value)
    return slider


class StudioControls(QWidget):
    """The settings form. :attr:`changed` fires when a setting that changes the picture moves (the studio then
    previews); :attr:`message` carries a sentence for the studio's status line. :attr:`form` is the form layout,
    so the studio can put its own rows (the content) above the settings.
    """

    changed = Signal()
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._taste: StyleVector | None = None
        self._style_file: Path | None = None
        self._processing: tuple[str, str] = ("auto", "auto")  # (device, precision) until set_processing()

        self.source_combo = QComboBox()
        self.source_combo.setObjectName("styleSource")
        self.source_combo.addItems(SOURCES)
        self.preset_a = QSpinBox(minimum=0, maximum=25, value=7)
        self.preset_b = QSpinBox(minimum=0, maximum=25, value=12)
        self.preset_mix = _percent_slider(0)
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
        for page in (preset, self.style_sku, self.file_button, self.taste_label):
            self._source_inputs.addWidget(page)
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
        self.strength = _percent_slider(round(SAFE_STRENGTH * 100))
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

        self.form = QFormLayout()
        self.form.addRow("Look", self.look_combo)
        self.form.addRow("Style from", self.source_combo)
        self.form.addRow("", self._source_inputs)
        self.form.addRow("Engine", self.engine_combo)
        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength, 1)
        strength_row.addWidget(self.strength_value)
        self.form.addRow("Strength", strength_row)
        self.form.addRow("", self.preserve_check)
        self.form.addRow("Mask", self.mask_combo)
        self.form.addRow("Stroke size", self.scale_box)
        self.form.addRow("Render size", self.size_box)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_box, 1)
        seed_row.addWidget(QLabel("Iterations"))
        seed_row.addWidget(self.iterations_box, 1)
        self.form.addRow("Seed", seed_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)

        for signal in (
            self.source_combo.currentIndexChanged, self.preset_a.valueChanged, self.preset_b.valueChanged,
            self.preset_mix.valueChanged, self.style_sku.editingFinished, self.engine_combo.currentIndexChanged,
            self.strength.valueChanged, self.preserve_check.toggled, self.mask_combo.currentIndexChanged,
            self.scale_box.valueChanged,
        ):  # fmt: skip
            signal.connect(self.changed)
        self._engine_changed()

    # -- what the settings say -----------------------------------------------------------------------------

    def set_processing(self, device: str, precision: str) -> None:
        """The device and precision of the next previews and renders (Settings ▸ Processing)."""
        self._processing = (device, precision)

    def options(self, size: int | None) -> StyleOptions:
        """The render options the controls hold, at ``size`` px on the longest side (None: the input's size)."""
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

    def engine_text(self) -> str:
        """The engine as the menu names it ("Preset network")."""
        return ENGINES[self.engine_combo.currentIndex()][0]

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

    # -- looks ---------------------------------------------------------------------------------------------

    def choose_look(self, name: str) -> None:
        """Set the controls to the named look (core ``stylize.looks``): its preset (when it has one), strength,
        mask, colours and stroke size. A look without a style of its own keeps the style chosen."""
        self.look_combo.setCurrentIndex(max(0, self.look_combo.findText(name)))
        self._look_chosen(self.look_combo.currentIndex())

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

    def forget_changed_look(self) -> None:
        """Back to "Own settings" once a control has moved away from the look chosen."""
        if self.look_combo.currentIndex() > 0 and self.current_look() is None:
            self.look_combo.setCurrentIndex(0)  # changed by hand: the menu now says these are one's own settings

    def _look_chosen(self, index: int) -> None:
        from stylerec_desktop.core.stylize.looks import look_named
        from stylerec_desktop.core.stylize.recipe import PresetStyleRecord

        if index <= 0:
            return
        look = look_named(self.look_combo.itemText(index))
        widgets = (self.source_combo, self.preset_a, self.preset_b, self.preset_mix, self.engine_combo,
                   self.strength, self.preserve_check, self.mask_combo, self.scale_box)  # fmt: skip
        for widget in widgets:
            widget.blockSignals(True)
        try:
            if look.source is not None:
                self._load_style(PresetStyleRecord(dict(look.source.weights)))
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
        self.message.emit(f"Look “{look.name}”: {look.description}.")
        self.changed.emit()

    # -- styles from elsewhere -----------------------------------------------------------------------------

    def use_style_vector(self, style: StyleVector) -> None:
        """A customer's taste as the style ("Restyle in this taste")."""
        self._taste = style
        self.taste_label.setText(f"Style: {style.label}")
        self.source_combo.setCurrentIndex(SOURCES.index("Customer taste"))
        self.changed.emit()

    def set_style_file(self, path: Path) -> None:
        self._style_file = path
        self.file_button.setText(path.name)
        self.source_combo.setCurrentIndex(SOURCES.index("Image file"))
        self.changed.emit()

    def load_recipe(self, recipe: Recipe, render_size: int) -> str:
        """Set the controls to a render's style and options (``render_size``: the longest side of the render, for
        a recipe that kept the input's size). Emits nothing; returns a note when the controls cannot hold the whole
        style (a blend of more than two presets), else an empty string."""
        from stylerec_desktop.core.stylize.recipe import PresetStyleRecord

        options = recipe.options
        widgets = (self.source_combo, self.preset_a, self.preset_b, self.preset_mix, self.engine_combo,
                   self.strength, self.preserve_check, self.mask_combo, self.style_sku, self.scale_box)  # fmt: skip
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self._load_style(recipe.style)
            engines = [name for _text, name in ENGINES]
            self.engine_combo.setCurrentIndex(engines.index(recipe.engine) if recipe.engine in engines else 0)
            self.strength.setValue(round(options.strength * 100))
            self.preserve_check.setChecked(options.preserve_colour)
            masks = [name for _text, name in MASKS]
            self.mask_combo.setCurrentIndex(masks.index(options.mask))
            size = options.size or render_size
            self.size_box.setValue(int(size))
            self.seed_box.setValue(options.seed)
            # A version-1 recipe has no style scale (the network ran at its output size); its look is closest to
            # the scale that runs the network at that size.
            scale = options.style_scale or 512 / max(256, int(size))
            self.scale_box.setValue(float(scale))
            if options.iterations:
                self.iterations_box.setValue(options.iterations)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self._source_inputs.setCurrentIndex(self.source_combo.currentIndex())
        self._engine_changed()
        if isinstance(recipe.style, PresetStyleRecord) and len(recipe.style.weights) > 2:
            return "The studio blends two presets: the two strongest of its blend were loaded."
        return ""

    def _load_style(self, style: StyleRecord) -> None:
        from stylerec_desktop.core.stylize import StyleVector
        from stylerec_desktop.core.stylize.recipe import ImageStyleRecord, PresetStyleRecord, VectorStyleRecord

        if isinstance(style, PresetStyleRecord):
            weights = sorted(style.weights.items(), key=lambda kv: -kv[1])
            self.source_combo.setCurrentIndex(SOURCES.index("Preset blend"))
            self.preset_a.setValue(weights[0][0])
            second = weights[1] if len(weights) > 1 else weights[0]
            self.preset_b.setValue(second[0])
            total = sum(w for _k, w in weights[:2])
            self.preset_mix.setValue(round(100 * second[1] / total) if len(weights) > 1 else 0)
        elif isinstance(style, VectorStyleRecord):
            import numpy as np

            taste = StyleVector(np.asarray(style.vector, dtype=np.float32), label=style.label,
                                customer_id=style.customer)  # fmt: skip
            self._taste = taste
            self.taste_label.setText(f"Style: {taste.label}")
            self.source_combo.setCurrentIndex(SOURCES.index("Customer taste"))
        elif isinstance(style, ImageStyleRecord) and style.sku:
            self.style_sku.setText(style.sku)
            self.source_combo.setCurrentIndex(SOURCES.index("Product"))
        elif isinstance(style, ImageStyleRecord):
            self._style_file = Path(style.path)
            self.file_button.setText(self._style_file.name)
            self.source_combo.setCurrentIndex(SOURCES.index("Image file"))

    # -- slots ---------------------------------------------------------------------------------------------

    def _show_strength(self, value: int) -> None:
        self.strength_value.setText(f"{value}%")

    def _engine_changed(self) -> None:
        self.iterations_box.setEnabled(self.engine() == "gatys")

    def _choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Style image", "", "Images (*.png *.jpg *.jpeg *.webp)")
        if name:
            self.set_style_file(Path(name))
