"""The studio's coordinator: :class:`StudioPanel` holds the content, runs the live preview, the renders, re-renders
and the batch matrix as jobs, and passes their results to the variant strip. The settings are
:class:`~stylerec_desktop.gui.panels.studio.controls.StudioControls`, the batch
:class:`~stylerec_desktop.gui.panels.studio.batch.BatchBox`, the results
:class:`~stylerec_desktop.gui.panels.studio.variants.VariantStrip`.

The preview runs core ``stylize.preview.Previewer`` (the render's own pipeline, which keeps each picture's work
across control changes) at :data:`PREVIEW_SIDE` on the read lane through :class:`LatestOnly`: as sliders move,
older previews are dropped. "Render" queues
:func:`~stylerec_desktop.core.stylize.renders.render_into_catalog_job` on the write lane (it adds a catalog row), one
job per content picture, visible and cancellable in the jobs panel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFileDialog, QGridLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from stylerec_desktop.core.catalog import Catalog, Product
from stylerec_desktop.core.catalog.catalog import StoredRender
from stylerec_desktop.core.cluster import ClusterSpec
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.imaging import inspect_image
from stylerec_desktop.core.jobs import Job
from stylerec_desktop.core.models.hardware import device_label
from stylerec_desktop.gui import theme
from stylerec_desktop.gui.batch_jobs import where_label
from stylerec_desktop.gui.catalog_changes import CatalogChanges, Table
from stylerec_desktop.gui.jobs import JobHandle, JobInfo, JobRunner, JobState, Lane, LatestOnly
from stylerec_desktop.gui.panels.studio.batch import BatchBox, BatchStyle
from stylerec_desktop.gui.panels.studio.content import (
    IMAGE_SUFFIXES,
    MAX_CONTENTS,
    PREVIEW_SIDE,
    Content,
    escape,
    image_files,
    previewer,
    to_qimage,
)
from stylerec_desktop.gui.panels.studio.controls import StudioControls, describe_style, resolve_style
from stylerec_desktop.gui.panels.studio.variants import VariantStrip, fidelity_text, icon_image
from stylerec_desktop.gui.widgets import FileDropTarget

if TYPE_CHECKING:
    from stylerec_desktop.core.stylize import StyleOptions, StyleSource, StyleVector

PREVIEW_DELAY_MS = 30  # a slider drag asks at most this often
GATYS_NO_PREVIEW = "Gatys optimises for minutes on a CPU, so there is no live preview: Render shows the result."

#: What the studio remembers of a job of its own: its kind ("render", "rerender", "matrix") and, for a re-render,
#: the variant it remakes.
Followed = tuple[str, "StoredRender | None"]


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
        self._asked_at = 0.0
        self._cluster: ClusterSpec | None = None  # where the batch render runs (None: this machine)
        # Our jobs in this catalog: handle -> (kind, the variant a re-render remakes): "render", "rerender" or
        # "matrix". Running ones, and failed or cancelled ones: the jobs panel's Retry runs them again on the same
        # handle, and the new run's result comes to the strip like the first one's would have.
        self._jobs: dict[JobHandle, Followed] = {}
        self.last_preview_ms: float | None = None
        self._preview = LatestOnly(runner, "Studio preview", self)
        self._product_read = LatestOnly(runner, "Read studio products", self)

        self.controls = StudioControls()
        self.batch = BatchBox()
        self.results = VariantStrip(runner)
        self._name_parts()

        self.content_label = QLabel()
        self.content_label.setWordWrap(True)
        self.controls.form.insertRow(0, "Content", self.content_label)
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

        self.batch.add_batch_button.clicked.connect(self.add_style_to_batch)
        self.batch.matrix_button.clicked.connect(self.render_matrix)
        self.results.rerenderRequested.connect(self.rerender_variant)
        self.results.reuseRequested.connect(self.use_variant_settings)
        self.results.exportRequested.connect(self.exportRequested)
        self.results.comparisonShown.connect(self.comparisonShown)

        # Two rows: in one, the four labels did not fit the controls' 320 px and were cut off.
        buttons = QGridLayout()
        buttons.addWidget(self.render_button, 0, 0)
        buttons.addWidget(self.cancel_button, 0, 1)
        buttons.addWidget(self.selection_button, 1, 0)
        buttons.addWidget(self.files_button, 1, 1)
        controls = QWidget()
        controls_layout = QVBoxLayout(controls)
        controls_layout.setContentsMargins(0, 0, 0, 0)
        controls_layout.addWidget(self.controls)
        controls_layout.addLayout(buttons)
        controls_layout.addWidget(self.batch)
        controls_layout.addStretch(1)
        preview = QWidget()
        preview_layout = QVBoxLayout(preview)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.addWidget(QLabel("<b>Live preview</b>"))
        preview_layout.addWidget(self.preview_label)
        preview_layout.addWidget(self.status_label)
        preview_layout.addStretch(1)
        # Left to right, as the eye works: what and how, the preview, then the finished variants.
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(controls)
        splitter.addWidget(preview)
        splitter.addWidget(self.results)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(2, 4)
        splitter.setChildrenCollapsible(False)
        controls.setMinimumWidth(320)  # the results pane's own buttons set its minimum
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(splitter)

        self._debounce = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._debounce.timeout.connect(self.refresh_preview)
        self.controls.changed.connect(self._controls_changed)
        self.controls.message.connect(self.status_label.setText)
        self.setAcceptDrops(True)
        self._show_content()

    def _name_parts(self) -> None:
        """The parts' widgets under the names the window, scripts and tests have always driven the studio by."""
        c, b, r = self.controls, self.batch, self.results
        self.look_combo, self.source_combo, self.engine_combo, self.mask_combo = (
            c.look_combo, c.source_combo, c.engine_combo, c.mask_combo)  # fmt: skip
        self.preset_a, self.preset_b, self.preset_mix, self.style_sku, self.taste_label = (
            c.preset_a, c.preset_b, c.preset_mix, c.style_sku, c.taste_label)  # fmt: skip
        self.strength, self.strength_value, self.preserve_check = c.strength, c.strength_value, c.preserve_check
        self.size_box, self.scale_box, self.seed_box, self.iterations_box = (
            c.size_box, c.scale_box, c.seed_box, c.iterations_box)  # fmt: skip
        self.batch_list, self.add_batch_button, self.remove_batch_button, self.matrix_button = (
            b.batch_list, b.add_batch_button, b.remove_batch_button, b.matrix_button)  # fmt: skip
        self.strip, self.compare = r.strip, r.compare
        self.rerender_button, self.reuse_button, self.export_button = r.rerender_button, r.reuse_button, r.export_button

    # -- public API ----------------------------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        self._products = []
        self._contents = []
        self.selection_button.setEnabled(catalog is not None and self._selection is not None)
        # Jobs and reads of the catalog shown before finish into that catalog; their answers are not for this one.
        self._jobs = {}
        for read in (self._preview, self._product_read):
            read.invalidate()
        self._update_cancel_button()
        self.batch.clear()
        self.batch.set_pictures(0)
        self.results.clear()
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
            return products, contents, icon_image(contents[0].path) if contents else None

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
            return [], contents, icon_image(usable[0]), problems

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
        self.results.clear()
        self.status_label.setText(info.error)

    def contents(self) -> list[Content]:
        """The pictures the next preview, render or matrix uses (the first one is previewed)."""
        return list(self._contents)

    def set_processing(self, device: str, precision: str) -> None:
        """The device and precision of the next previews and renders (Settings ▸ Processing)."""
        self.controls.set_processing(device, precision)

    def set_cluster(self, cluster: ClusterSpec | None) -> None:
        """Where the batch render (every content in every batch style) runs: a Ray cluster, or None for this
        machine (Settings ▸ Processing ▸ "Run batch jobs on"). Previews and single renders stay here."""
        self._cluster = cluster

    def use_style_vector(self, style: StyleVector) -> None:
        """A customer's taste as the style ("Restyle in this taste")."""
        self.controls.use_style_vector(style)

    def products(self) -> list[Product]:
        return list(self._products)

    def options(self, size: int | None) -> StyleOptions:
        return self.controls.options(size)

    def engine(self) -> str | None:
        return self.controls.engine()

    def choose_look(self, name: str) -> None:
        """Set the controls to the named look (see :meth:`StudioControls.choose_look`)."""
        self.controls.choose_look(name)

    def current_look(self) -> str | None:
        return self.controls.current_look()

    def source(self) -> StyleSource | str:
        return self.controls.source()

    def set_style_file(self, path: Path) -> None:
        self.controls.set_style_file(path)

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
            picture, note = previewer().preview(path, source, options, engine=engine)
            return to_qimage(picture), note

        self.status_label.setText("Previewing…")
        self._preview.run(work, self._show_preview, self._preview_failed)

    # Named for the button the user presses; QWidget.render (paint into a device) is not used on the studio.
    def render(self) -> list[JobHandle]:  # type: ignore[override]
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
                return stored, icon_image(stored.path)

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
        label = describe_style(choice) + (f" ({self.controls.engine_text()})" if engine else "")
        style = BatchStyle(choice, engine, label)
        self.batch.add(style)
        return style

    def batch_styles(self) -> list[BatchStyle]:
        return self.batch.styles()

    def render_matrix(self) -> JobHandle | None:
        """Queue every content picture in every batch style as one job (per-cell progress); returns it."""
        styles, contents, catalog = self.batch_styles(), list(self._contents), self._catalog
        if catalog is None or not styles or not contents:
            return None
        options = self.options(self.size_box.value())
        cluster = self._cluster

        def job() -> Job[tuple[object, list[QImage]]]:
            from stylerec_desktop.core.stylize.matrix import MatrixContent, MatrixStyle, render_matrix_job

            columns = []
            for style in styles:
                source, style_sku = resolve_style(catalog, style.choice)  # type: ignore[arg-type]
                columns.append(MatrixStyle(source, style.label, style_sku, style.engine))
            rows = [MatrixContent(c.path, c.sku, c.product_id) for c in contents]
            result = yield from render_matrix_job(catalog, rows, columns, options, fallback=(), cluster=cluster)
            return result, [icon_image(render.path) for render in result.done]

        title = f"Render {len(contents)} × {len(styles)} batch ({len(contents) * len(styles)} pictures)"
        where = where_label(cluster, options.device)
        handle = self._runner.submit(title, job, lane=Lane.WRITE, device=where)
        self._follow(handle, ("matrix", None))
        self.status_label.setText(f"{title}: follow it in the Jobs panel.")
        return handle

    # -- variants: render again, or reuse the settings ----------------------------------------------------

    def current_variant(self) -> StoredRender | None:
        return self.results.current_variant()

    def variants(self) -> list[StoredRender]:
        """The renders in the results strip, oldest first."""
        return self.results.variants()

    def rerender_variant(self) -> JobHandle | None:
        """Render the selected variant again from its recipe (a new variant; identical on this machine)."""
        render, catalog = self.current_variant(), self._catalog
        if render is None or catalog is None:
            return None

        def job() -> Job[tuple[StoredRender, QImage]]:
            from stylerec_desktop.core.stylize.renders import rerender_into_catalog_job

            stored = yield from rerender_into_catalog_job(catalog, render)
            return stored, icon_image(stored.path)

        device = device_label(str(render.recipe.get("device", "auto")))  # shown before the worker reads the recipe
        handle = self._runner.submit(f"Render #{render.id} again from its recipe", job, lane=Lane.WRITE, device=device)
        self._follow(handle, ("rerender", render))
        return handle

    def use_variant_settings(self) -> bool:
        """Load the selected variant's style and options into the controls ("duplicate with changes")."""
        render = self.current_variant()
        if render is None:
            return False
        from stylerec_desktop.core.stylize.recipe import Recipe

        try:
            recipe = Recipe.from_json(render.recipe)
        except UserError as error:
            self.status_label.setText(f"The settings of #{render.id} cannot be read: {error}")
            return False
        note = self.controls.load_recipe(recipe, max(render.size))
        note = f" {note}" if note else ""
        self.status_label.setText(f"Settings of #{render.id} loaded: change what you like, then Render.{note}")
        self._controls_changed()
        return True

    # -- slots ---------------------------------------------------------------------------------------------

    def _controls_changed(self) -> None:
        self.controls.forget_changed_look()
        if not self._asked_at:
            self._asked_at = time.perf_counter()
        self._debounce.start()

    def _contents_arrived(self, answer: tuple[list[Product], list[Content], QImage | None]) -> None:
        products, contents, icon = answer
        self._products, self._contents = products, contents
        self._show_content()
        self.batch.set_pictures(len(contents))
        # The panes show the new content's pictures, never the old product's.
        self.results.show_original(icon, contents[0].path if contents else None, len(contents))
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
        self.content_label.setText(f"<b>{escape(contents[0].title or contents[0].label)}</b>{count}<br>"
                                   f"{escape(names)}")  # fmt: skip
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
            self.results.add_variant(render, icon)
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
            self.results.add_variant(render, icon)
        text = f"Batch done: {len(result.done)} pictures"
        if result.sheet is not None:
            text += f"; contact sheet {result.sheet.name} in the catalog's renders folder"
        if result.failed:
            text += f". {len(result.failed)} failed: " + "; ".join(f"{c} in {s}: {e}" for c, s, e in result.failed[:3])
        self.status_label.setText(text)
        self.matrixFinished.emit(result)

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
