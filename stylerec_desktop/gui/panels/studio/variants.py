"""The studio's results: the original and its variants (renders) in a strip, the buttons that act on the chosen
variant (render it again, reuse its settings) or on them all (export), and the side-by-side comparison of the chosen
variant with its own original. :class:`VariantStrip` shows; the studio runs the jobs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from stylerec_desktop.core.catalog.catalog import StoredRender
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.gui.compare import SCENE_SIDE, SideBySide
from stylerec_desktop.gui.jobs import JobRunner, LatestOnly
from stylerec_desktop.gui.panels.studio.content import escape
from stylerec_desktop.gui.thumbnails import read_scaled

STRIP_ICON = 72


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


def variant_name(render: StoredRender) -> str:
    """``"#12 Preset 4 at 60%, background only"``: a variant by its number and what it is (core ``describe_recipe``)."""
    from stylerec_desktop.core.stylize.looks import describe_recipe

    return f"#{render.id} {describe_recipe(render.recipe)}"


def variant_content(render: StoredRender) -> tuple[str | None, Path | None]:
    """The sku and file of the picture ``render`` was made from, from its typed recipe; (None, None) when the stored
    recipe cannot be read (the variant still shows, without them)."""
    from stylerec_desktop.core.stylize.recipe import Recipe

    try:
        content = Recipe.from_json(render.recipe).content
    except UserError:
        return None, None
    return content.sku, Path(content.path)


def icon_image(path: Path) -> QImage:
    """A strip icon of the picture at ``path``, decoded on a worker."""
    return read_scaled(path, STRIP_ICON)


class VariantStrip(QWidget):
    """The results column. :meth:`show_original` starts it with the content's first picture; :meth:`add_variant`
    appends a render and selects it; choosing an item compares it with its own original (read on a worker).
    :attr:`rerenderRequested` and :attr:`reuseRequested` ask the studio to act on :meth:`current_variant`;
    :attr:`exportRequested` carries every variant."""

    rerenderRequested = Signal()
    reuseRequested = Signal()
    #: the variants in the strip (a list of StoredRender), to export for the ad team
    exportRequested = Signal(list)
    comparisonShown = Signal()

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._original: Path | None = None
        self._several = False
        self._compare_read = LatestOnly(runner, "Load images to compare", self)

        self.rerender_button = QPushButton("Render again")
        self.rerender_button.setToolTip("Make this variant again from its recipe (the same picture on this machine)")
        self.rerender_button.clicked.connect(self.rerenderRequested)
        self.reuse_button = QPushButton("Use its settings")
        self.reuse_button.setToolTip("Load this variant's style and options into the controls, to change and render")
        self.reuse_button.clicked.connect(self.reuseRequested)
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

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Results</b> — the original and its variants"))
        layout.addWidget(self.strip)
        buttons = QHBoxLayout()
        buttons.addWidget(self.rerender_button)
        buttons.addWidget(self.reuse_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        layout.addLayout(buttons)
        layout.addWidget(self.compare, 1)
        self._update_buttons()

    def clear(self) -> None:
        """No pictures: an empty strip and empty comparison panes (never the previous content's)."""
        self._original, self._several = None, False
        self._compare_read.invalidate()
        self.strip.clear()
        self.compare.set_images(None, None)

    def show_original(self, icon: QImage | None, path: Path | None, pictures: int) -> None:
        """Start again with new content: ``path`` is its first picture (``icon`` its strip icon), ``pictures`` how
        many the studio holds (with several, variants are also named by whose they are)."""
        self.clear()
        self._original, self._several = path, pictures > 1
        if icon is not None:
            original = QListWidgetItem(QIcon(QPixmap.fromImage(icon)), "Original")
            original.setData(Qt.ItemDataRole.UserRole, None)
            self.strip.addItem(original)
            self.strip.setCurrentItem(original)

    def add_variant(self, render: StoredRender, icon: QImage) -> None:
        from stylerec_desktop.core.stylize.looks import describe_recipe

        sku, _path = variant_content(render)
        name = describe_recipe(render.recipe)
        # Named by what it is; with several pictures in the studio, also whose variant it is.
        label = f"{sku}: {name}" if sku and self._several else name
        item = QListWidgetItem(QIcon(QPixmap.fromImage(icon)), label)
        item.setData(Qt.ItemDataRole.UserRole, render)
        item.setToolTip(f"#{render.id} {name}\n{sku or 'a picture file'}, {render.engine} engine\n{render.path}")
        self.strip.addItem(item)
        self.strip.setCurrentItem(item)

    def current_variant(self) -> StoredRender | None:
        item = self.strip.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def variants(self) -> list[StoredRender]:
        """The renders in the results strip, oldest first (the "Original" item carries none)."""
        items = (self.strip.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.strip.count()))
        return [render for render in items if render is not None]

    def _update_buttons(self) -> None:
        has_variant = self.current_variant() is not None
        self.rerender_button.setEnabled(has_variant)
        self.reuse_button.setEnabled(has_variant)
        self.export_button.setEnabled(self.strip.count() > 1)

    def _compare_variant(self, row: int) -> None:
        self._update_buttons()
        if row < 0 or self._original is None:
            self._compare_read.invalidate()
            self.compare.set_images(None, None)
            return
        render = self.strip.item(row).data(Qt.ItemDataRole.UserRole)
        original_path = self._original
        if render is not None:  # each variant is compared with its own original (a batch has several)
            original_path = variant_content(render)[1] or original_path
        variant_path = render.path if render is not None else original_path
        self.compare.set_titles("<b>Original</b>", f"<b>{escape(variant_name(render))}</b>" if render else "Original")

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
