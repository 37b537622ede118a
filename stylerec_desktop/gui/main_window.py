"""The main window. It only wires panels together: menus, docks, drag-and-drop, and the open catalog.

Panels are not refreshed from here: each catalog-bound view (:class:`~stylerec_desktop.gui.catalog_changes.
CatalogView`) is handed the catalog that opens, and those that show data subscribe to the one notification after
each write (:class:`~stylerec_desktop.gui.catalog_changes.CatalogChanges`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QStackedWidget,
    QWidget,
)
from shiboken6 import Shiboken

from stylerec_desktop.core.catalog import Catalog, CatalogCounts
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job
from stylerec_desktop.core.paths import display_path
from stylerec_desktop.gui import dialogs, logbook, theme
from stylerec_desktop.gui.batch_jobs import RecommendAllController
from stylerec_desktop.gui.catalog_changes import CatalogChange, CatalogChanges, CatalogView, CatalogWatcher, Table
from stylerec_desktop.gui.docking import StrayTabBarFix
from stylerec_desktop.gui.edits import ProductEdits
from stylerec_desktop.gui.imports import KINDS, ImportController, is_importable
from stylerec_desktop.gui.indexing import IndexController, StyleIndexWarmer
from stylerec_desktop.gui.jobs import JobHandle, JobInfo, JobRunner, JobState, Lane, LatestOnly
from stylerec_desktop.gui.panels.catalog import CatalogPanel
from stylerec_desktop.gui.panels.customers import CustomersPanel
from stylerec_desktop.gui.panels.evaluation_dialog import EvaluationDialog
from stylerec_desktop.gui.panels.inspector import InspectorPanel
from stylerec_desktop.gui.panels.jobs import JobsPanel, JobsStatusWidget
from stylerec_desktop.gui.panels.log_dialog import LogDialog
from stylerec_desktop.gui.panels.product_detail import ProductDetailPanel
from stylerec_desktop.gui.panels.recommendations import RecommendationsPanel
from stylerec_desktop.gui.panels.settings_dialog import SettingsDialog, open_settings_dialog, trim_thumbnail_cache
from stylerec_desktop.gui.panels.similar import SimilarPanel
from stylerec_desktop.gui.panels.start import StartPage
from stylerec_desktop.gui.panels.studio import StudioPanel
from stylerec_desktop.gui.panels.taste import TastePanel
from stylerec_desktop.gui.ranking_fit import RankingFitter
from stylerec_desktop.gui.settings import AppSettings, Preferences, preferences_shortcuts
from stylerec_desktop.gui.text import for_people
from stylerec_desktop.gui.thumbnails import ThumbnailLoader
from stylerec_desktop.gui.widgets import FileDropTarget

if TYPE_CHECKING:  # the recommendation and style modules load torch; the window must open without it
    from stylerec_desktop.core.recommend.explain import Explanation
    from stylerec_desktop.core.recommend.ranking import Recommendation
    from stylerec_desktop.core.recommend.workspace import CustomerWorkspace
    from stylerec_desktop.core.stylize import StyleVector

log = logging.getLogger(__name__)

APP_TITLE = "StyleRec Desktop"
# Window heights below this get the compact default layout (the taste behind a tab beside the customers).
COMPACT_HEIGHT = 800
# Bump when the docks change, so an old saved layout is not forced onto new docks.
_STATE_VERSION = 4


def _scrolling(panel: QWidget) -> QScrollArea:
    """``panel`` in a frameless scroll area: below its minimum size it scrolls instead of clipping or widening
    the window; above it, it fills the dock as it would alone."""
    area = QScrollArea()
    area.setObjectName(f"{panel.objectName() or type(panel).__name__}Scroll")
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(panel)
    return area


class MainWindow(FileDropTarget, QMainWindow):
    """Catalog grid in the middle; customers left, product detail right, jobs below."""

    def __init__(
        self,
        runner: JobRunner,
        thumbnails: ThumbnailLoader,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.thumbnails = thumbnails
        self._settings = settings if settings is not None else QSettings()
        self._catalog: Catalog | None = None
        self._counts_read = LatestOnly(runner, "Count catalog", self)
        self.catalog_changes = CatalogChanges(runner, self)
        self.ranking_fitter = RankingFitter(runner, self.catalog_changes, self)
        self.evaluation_dialog: EvaluationDialog | None = None
        self.setWindowTitle(APP_TITLE)
        self.setObjectName("mainWindow")

        self.catalog_panel = CatalogPanel(runner, thumbnails)
        self.detail_panel = ProductDetailPanel(runner, thumbnails)
        self.customers_panel = CustomersPanel(runner, thumbnails)
        self.jobs_panel = JobsPanel(runner)
        self.start_page = StartPage()
        self._central = QStackedWidget()
        self._central.addWidget(self.start_page)
        self._central.addWidget(self.catalog_panel)
        self.setCentralWidget(self._central)
        self.customers_dock = self._dock("Customers", "customersDock", self.customers_panel)
        self.detail_dock = self._dock("Product", "detailDock", self.detail_panel)
        self.jobs_dock = self._dock("Jobs", "jobsDock", self.jobs_panel)
        self._add_workspace_docks()
        self.reset_layout()
        self.preferences = AppSettings(self._settings)
        self.settings_dialog: SettingsDialog | None = None
        self.log_dialog: LogDialog | None = None
        self._apply_preferences(self.preferences.preferences())

        self.catalog_label = QLabel()
        self.catalog_label.setProperty("role", "muted")
        self.jobs_status = JobsStatusWidget(runner)
        self.statusBar().addWidget(self.catalog_label, 1)
        self.statusBar().addPermanentWidget(self.jobs_status)
        self.statusBar().setSizeGripEnabled(True)

        self.imports = ImportController(runner, self, self.catalog_changes)
        self.edits = ProductEdits(runner, self.catalog_changes, self)
        self.theme = theme.ThemeController(self._settings, self)
        self._build_menus()
        self.setAcceptDrops(True)

        self.catalog_panel.productSelected.connect(self.detail_panel.show_product)
        self.detail_panel.editRequested.connect(self.edits.edit_product)
        self.edits.productChanged.connect(self.detail_panel.show_product)  # what was just undone comes into view
        self.edits.failed.connect(lambda message: self.statusBar().showMessage(message, 15_000))
        self.customers_panel.productSelected.connect(self._show_product_from_history)
        self.imports.imported.connect(self._show_import_summary)
        self.recommend_all.written.connect(lambda report: self.statusBar().showMessage(report.summary(), 15_000))
        self._wire_workspace()
        # Everything bound to the open catalog, the notifier first: its baseline is read before any write ends.
        self.catalog_views: tuple[CatalogView, ...] = (
            self.catalog_changes, self.edits, self.imports, self.indexer, self.style_index, self.catalog_panel,
            self.detail_panel,
            self.customers_panel, self.recommendations_panel, self.taste_panel, self.inspector_panel,
            self.studio_panel, self.similar_panel, self.ranking_fitter, self.recommend_all,
        )  # fmt: skip
        for view in self.catalog_views:
            if isinstance(view, CatalogWatcher):
                self.catalog_changes.changed.connect(view.catalog_changed)
        self.catalog_changes.changed.connect(self._update_counts_after)
        self.jobs_status.showJobsRequested.connect(self.show_jobs)
        self.runner.jobFinished.connect(self._show_failed_job)
        self.start_page.openRequested.connect(self.choose_catalog_to_open)
        self.start_page.newRequested.connect(self.choose_new_catalog)
        self.start_page.demoRequested.connect(self._build_demo_where_asked)
        self._restore_layout()

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # saveState() finds docks by object name
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        return dock

    def _add_workspace_docks(self) -> None:
        """The merchandiser's workspace: taste under the customers, recommendations beside the product detail,
        the inspector and the studio below the grid (beside the jobs)."""
        self.indexer = IndexController(self.runner, self, changes=self.catalog_changes)
        self.recommend_all = RecommendAllController(self.runner, self)
        # The style index loads when a catalog opens, not when the first customer is picked.
        self.style_index = StyleIndexWarmer(self.runner, self)
        self.recommendations_panel = RecommendationsPanel(self.runner, self.thumbnails)
        self.taste_panel = TastePanel(self.runner, self.thumbnails)
        self.inspector_panel = InspectorPanel(self.runner, self.thumbnails)
        self.recommendations_dock = self._dock("Recommendations", "recommendationsDock", self.recommendations_panel)
        self.taste_dock = self._dock("Taste", "tasteDock", self.taste_panel)
        # The studio and the inspector need more room than a 1280x720 screen leaves under the grid: they scroll
        # inside their docks rather than push the window wider than the screen.
        self.inspector_dock = self._dock("Inspector", "inspectorDock", _scrolling(self.inspector_panel))
        self.studio_panel = StudioPanel(self.runner, changes=self.catalog_changes)
        self.studio_dock = self._dock("Studio", "studioDock", _scrolling(self.studio_panel))
        self.similar_panel = SimilarPanel(self.runner, self.thumbnails)
        self.similar_dock = self._dock("Similar", "similarDock", self.similar_panel)
        StrayTabBarFix(self)

    def _all_docks(self) -> tuple[QDockWidget, ...]:
        return (self.customers_dock, self.taste_dock, self.detail_dock, self.recommendations_dock,
                self.similar_dock, self.studio_dock, self.inspector_dock, self.jobs_dock)  # fmt: skip

    def reset_layout(self) -> None:
        """The default layout (View ▸ Reset layout), sized for the window as it is now.

        The catalog grid and the right column (Product, Recommendations, Similar: Product in front) get the
        height; the customers and their taste run down the left. Studio, Inspector and Jobs share the strip under
        the grid and stay closed until there is something to show: Restyle opens the Studio, a picked
        recommendation the Inspector, a failed job (or the status bar's job count) the Jobs.
        """
        left, right, bottom = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea, (
            Qt.DockWidgetArea.BottomDockWidgetArea
        )
        for dock in self._all_docks():
            dock.setFloating(False)
            self.removeDockWidget(dock)
        # Both side columns run the full height; the bottom strip spans the grid only.
        # Corners and splits come before the tabs: done after a tabify, they leave a stray copy of its tab bar.
        self.setCorner(Qt.Corner.BottomLeftCorner, left)
        self.setCorner(Qt.Corner.BottomRightCorner, right)
        self.addDockWidget(left, self.customers_dock)
        self.addDockWidget(right, self.detail_dock)
        self.addDockWidget(bottom, self.studio_dock)
        # Below ~800 px of height the customers and their taste cannot share the left column (the history showed a
        # single row at 1280x720): the taste goes behind a tab there.
        compact = self.height() < COMPACT_HEIGHT
        if not compact:
            self.splitDockWidget(self.customers_dock, self.taste_dock, Qt.Orientation.Vertical)
        self.tabifyDockWidget(self.studio_dock, self.inspector_dock)
        self.tabifyDockWidget(self.studio_dock, self.jobs_dock)
        self.tabifyDockWidget(self.detail_dock, self.recommendations_dock)
        self.tabifyDockWidget(self.detail_dock, self.similar_dock)
        if compact:
            self.tabifyDockWidget(self.customers_dock, self.taste_dock)
        for dock in (self.customers_dock, self.taste_dock, self.detail_dock, self.recommendations_dock,
                     self.similar_dock):  # fmt: skip
            dock.show()
        for dock in (self.studio_dock, self.inspector_dock, self.jobs_dock):
            dock.hide()
        self.detail_dock.raise_()
        self.customers_dock.raise_()
        self.studio_dock.raise_()
        width, height = self.width(), self.height()
        self.resizeDocks(
            [self.customers_dock, self.detail_dock],
            [min(340, max(240, width // 5)), min(520, max(330, width * 28 // 100))],
            Qt.Orientation.Horizontal,
        )
        if not compact:
            self.resizeDocks([self.customers_dock, self.taste_dock], [height * 6 // 10, height * 4 // 10],
                             Qt.Orientation.Vertical)  # fmt: skip

    def _open_bottom(self, dock: QDockWidget) -> None:
        """Show and raise a dock of the bottom strip; opened from closed, it gets about 40% of the height. On a
        window too narrow for the panel beside the side columns (the Studio's three columns at 1280 px), the strip
        runs the window's full width under them instead of scrolling sideways."""
        was_open = any(d.isVisible() for d in (self.studio_dock, self.inspector_dock, self.jobs_dock))
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        if not was_open and self.dockWidgetArea(dock) == bottom:
            self._fit_bottom_strip(dock)
        dock.show()
        dock.raise_()
        if not was_open and self.dockWidgetArea(dock) == bottom:
            self.resizeDocks([dock], [max(300, self.height() * 45 // 100)], Qt.Orientation.Vertical)

    def _fit_bottom_strip(self, dock: QDockWidget) -> None:
        """The bottom strip spans the grid only (the side columns run the full height), unless ``dock`` is the
        Studio and its three columns do not fit under the grid: then the window's whole width (the side columns end
        above it). The Inspector and Jobs fit under the grid at any window size the app supports."""
        area = dock.widget()
        panel = area.widget() if isinstance(area, QScrollArea) else area
        need = panel.minimumSizeHint().width() if panel is not None else 0
        central = self.centralWidget()
        under_grid = central.width() if central is not None else self.width()
        full = dock is self.studio_dock and need > under_grid
        left = Qt.DockWidgetArea.BottomDockWidgetArea if full else Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.BottomDockWidgetArea if full else Qt.DockWidgetArea.RightDockWidgetArea
        self.setCorner(Qt.Corner.BottomLeftCorner, left)
        self.setCorner(Qt.Corner.BottomRightCorner, right)

    def _wire_workspace(self) -> None:
        self.customers_panel.customerChosen.connect(self._show_customer_workspace)
        self.recommendations_panel.workspaceShown.connect(self.taste_panel.show_workspace)
        self.recommendations_panel.recommendationSelected.connect(self._inspect)
        self.recommendations_panel.productSelected.connect(self.detail_panel.show_product)
        self.recommendations_panel.indexRequested.connect(self.indexer.start)
        self.inspector_panel.productSelected.connect(self._show_product_from_history)
        # The studio's content changes only on the user's word: Use selection, Restyle, or a drop on the studio.
        # Selecting products (to export them, say) leaves it alone.
        self.studio_panel.set_selection_source(self.catalog_panel.selected_ids)
        self.detail_panel.restyleRequested.connect(lambda product_id: self.restyle_products([product_id]))
        self.catalog_panel.restyleRequested.connect(self.restyle_products)
        self.taste_panel.restyleRequested.connect(self._restyle_in_taste)
        self.studio_panel.exportRequested.connect(self._export_variants)
        self.similar_panel.productSelected.connect(self.detail_panel.show_product)
        self.similar_panel.indexRequested.connect(self.indexer.start)
        self.detail_panel.findSimilarRequested.connect(self.find_similar)
        self.catalog_panel.findSimilarRequested.connect(self.find_similar)

    def _show_customer_workspace(self, customer_id: str) -> None:
        self.recommendations_panel.show_customer(customer_id)
        self.recommendations_dock.show()
        self.recommendations_dock.raise_()

    def restyle_products(self, product_ids: list[int]) -> None:
        """Put these products in the studio and bring it forward."""
        self.studio_panel.set_products(product_ids)
        self._open_bottom(self.studio_dock)

    def _restyle_in_taste(self, style: StyleVector) -> None:
        self.studio_panel.use_style_vector(style)
        self._open_bottom(self.studio_dock)

    def find_similar(self, product_id: int) -> None:
        self.similar_panel.show_product(product_id)
        self.similar_dock.show()
        self.similar_dock.raise_()

    def _find_similar_to_current(self) -> None:
        """Catalog ▸ Find similar: for the product shown in the product panel, else the one picked in the grid;
        with neither, the Similar panel says what to do."""
        shown = self.detail_panel.product()
        product_id = shown.id if shown is not None else self.catalog_panel.selected_product()
        if product_id is not None:
            self.find_similar(product_id)
        self.similar_dock.show()
        self.similar_dock.raise_()

    def _inspect(self, selection: tuple[Recommendation, Explanation, CustomerWorkspace]) -> None:
        self.inspector_panel.inspect(selection)
        self._open_bottom(self.inspector_dock)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open catalog…", self.choose_catalog_to_open, QKeySequence.StandardKey.Open)
        self._action(file_menu, "&New catalog…", self.choose_new_catalog, QKeySequence.StandardKey.New)
        file_menu.addSeparator()
        shortcuts = {"products": "Ctrl+I", "customers": "Ctrl+Shift+I", "events": "Ctrl+Alt+I"}
        self.import_actions: dict[str, QAction] = {}
        for kind in KINDS:
            self.import_actions[kind] = self._action(
                file_menu,
                f"Import {kind}…",
                lambda _checked=False, kind=kind: self.imports.choose_and_import(kind),
                shortcuts[kind],
            )
        file_menu.addSeparator()
        self._action(file_menu, "&Export selected…", self._export_selected, "Ctrl+E")
        file_menu.addSeparator()
        settings_action = self._action(file_menu, "&Settings…", lambda: self.open_settings())
        settings_action.setShortcuts(preferences_shortcuts())
        settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = self.edits.stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.redo_action = self.edits.stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts(QKeySequence.StandardKey.Redo)
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        self.edit_product_action = self._action(edit_menu, "&Edit product", self._edit_product, "F2")

        catalog_menu = self.menuBar().addMenu("&Catalog")
        self.index_action = self._action(catalog_menu, "Index &styles", self.indexer.start, "Ctrl+Shift+X")
        self.index_action.setEnabled(False)
        self.find_similar_action = self._action(
            catalog_menu, "Find &similar", self._find_similar_to_current, "Ctrl+Shift+F"
        )
        self.find_similar_action.setEnabled(False)
        catalog_menu.addSeparator()
        self.tune_action = self._action(catalog_menu, "&Tune recommendations for this catalog", self.tune_ranking)
        self.train_action = self._action(catalog_menu, "T&rain recommendation model…", self.train_model)
        self.evaluate_action = self._action(catalog_menu, "E&valuate recommendations…", self.show_evaluation)
        self.recommend_all_action = self._action(
            catalog_menu, "Recommend to every &customer…", lambda: self.recommend_all.choose_and_start(self)
        )
        for action in (self.tune_action, self.train_action, self.evaluate_action, self.recommend_all_action):
            action.setEnabled(False)

        view_menu = self.menuBar().addMenu("&View")
        for dock, keys in ((self.customers_dock, "Ctrl+1"), (self.detail_dock, "Ctrl+2"), (self.jobs_dock, "Ctrl+J")):
            action = dock.toggleViewAction()
            action.setShortcut(QKeySequence(keys))
            view_menu.addAction(action)
        workspace_docks = (
            self.recommendations_dock,
            self.taste_dock,
            self.inspector_dock,
            self.studio_dock,
            self.similar_dock,
        )
        for dock, keys in zip(workspace_docks, ("Ctrl+3", "Ctrl+4", "Ctrl+5", "Ctrl+6", "Ctrl+7"), strict=True):
            action = dock.toggleViewAction()
            action.setShortcut(QKeySequence(keys))
            view_menu.addAction(action)
        view_menu.addSeparator()
        self._action(view_menu, "Search products", self._focus_product_search, "Ctrl+F")
        self._action(view_menu, "Find a customer", self._focus_customer_search, "Ctrl+K")
        view_menu.addSeparator()
        self.theme.add_menu(view_menu)
        view_menu.addSeparator()
        self.reset_layout_action = self._action(view_menu, "&Reset layout", self.reset_layout)

        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", lambda: dialogs.shortcuts_dialog(self).exec())
        self._action(help_menu, "&Log…", self.show_log)
        self.open_log_folder_action = self._action(help_menu, "Open log &folder", self.open_log_folder)
        folder = logbook.log_folder()
        self.open_log_folder_action.setEnabled(folder is not None)
        self.open_log_folder_action.setToolTip(str(folder) if folder is not None else "The log is kept in memory only")
        self._action(help_menu, "&About StyleRec Desktop", self._about)

    def _action(
        self, menu: QMenu, text: str, slot: Callable[..., object], keys: QKeySequence.StandardKey | str | None = None
    ) -> QAction:
        action = QAction(text, self)
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    # -- the open catalog ----------------------------------------------------------------------------------

    def catalog(self) -> Catalog | None:
        return self._catalog

    def set_catalog(self, catalog: Catalog | None) -> None:
        """Show ``catalog`` in every panel (None: back to the start page)."""
        self._catalog = catalog
        self.thumbnails.set_thumbnails_dir(catalog.thumbnails_dir if catalog is not None else None)
        # Undo (the edits view starts a fresh stack) and Retry never reach into a catalog no longer shown: a job
        # retried now would work on the catalog it was made for.
        self.runner.forget_retries()
        for view in self.catalog_views:
            view.set_catalog(catalog)
        writable = catalog is not None and not catalog.read_only
        self.index_action.setEnabled(writable)
        self.edit_product_action.setEnabled(writable)
        self.find_similar_action.setEnabled(catalog is not None)
        self.tune_action.setEnabled(writable)
        self.train_action.setEnabled(writable)
        self.evaluate_action.setEnabled(catalog is not None)
        self.recommend_all_action.setEnabled(catalog is not None)
        for action in self.import_actions.values():
            action.setEnabled(writable)
        if catalog is None:
            self.setWindowTitle(APP_TITLE)
            self._central.setCurrentWidget(self.start_page)
            self.catalog_label.clear()
            return
        # A catalog this user may only read (a share, another user's) says so: imports, indexing and edits are off.
        access = " (read-only)" if catalog.read_only else ""
        self.setWindowTitle(f"{catalog.folder.name}{access} — {APP_TITLE}")
        self._central.setCurrentWidget(self.catalog_panel)
        self._update_counts()

    def open_catalog(self, folder: Path) -> bool:
        """Open the catalog in ``folder``; a clear message (and the start page) when it cannot be opened."""
        if not self._can_switch():
            return False
        if not Catalog.exists(folder):
            # The core's message gives the command line's advice; the start page has buttons for it.
            self.show_start(f"There is no catalog in {folder}. Open another folder, create a new catalog, or "
                            "build the demo.")  # fmt: skip
            return False
        try:
            catalog = Catalog.open(folder)
        except UserError as exc:
            self.show_start(for_people(str(exc)))
            return False
        self.set_catalog(catalog)
        self._trim_thumbnails(catalog)
        return True

    def show_start(self, message: str) -> None:
        self.set_catalog(None)
        self.start_page.show_choices(message)

    def build_demo(self, folder: Path) -> JobHandle:
        """Build the demo catalog in ``folder`` on the write lane (first run) and open it when done."""
        self.set_catalog(None)

        def job() -> Job[Catalog]:
            # Made on the worker thread that drives it.
            from stylerec_desktop.core.demo import build_demo_catalog  # heavy (Pillow, numpy): only when needed

            return build_demo_catalog(folder)

        handle = self.runner.submit("Building the demo catalog", job, lane=Lane.WRITE, on_result=self._demo_built)
        for signal in (handle.progress, handle.failed, handle.cancelled, handle.retried):
            signal.connect(self._show_start_job)
        self.start_page.show_job(handle.info)
        return handle

    def _show_start_job(self, info: JobInfo) -> None:
        """Keep the start page in step with the demo build (and its retries), until a catalog is shown."""
        if self._catalog is None:
            self.start_page.show_job(info)

    def _demo_built(self, catalog: Catalog) -> None:
        self.set_catalog(Catalog.open(catalog.folder))  # our own connection; the builder's stays on its thread
        self.indexer.start()  # a first run indexes the demo's styles right away, in the background

    def _can_switch(self) -> bool:
        if any(info.lane is Lane.WRITE for info in self.runner.running()):
            QMessageBox.information(
                self, "Catalog busy", "A job that writes to this catalog (an import, a render or the indexing) is "
                "still running. Wait for it to finish or cancel it in the Jobs panel first."
            )
            return False
        return True

    # -- menu actions --------------------------------------------------------------------------------------

    def choose_catalog_to_open(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open catalog folder")
        if folder:
            self.open_catalog(Path(folder))

    def choose_new_catalog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the new catalog (an empty folder)")
        if not folder or not self._can_switch():
            return
        try:
            self.set_catalog(Catalog.create(Path(folder)))
        except UserError as exc:
            QMessageBox.warning(self, "Cannot create the catalog", for_people(str(exc)))

    def _build_demo_where_asked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the demo catalog (an empty folder)")
        if folder:
            if Catalog.exists(folder):
                self.open_catalog(Path(folder))
            else:
                self.build_demo(Path(folder))

    def show_jobs(self) -> None:
        self._open_bottom(self.jobs_dock)

    def _show_failed_job(self, job_id: int) -> None:
        """A job the user can see failed: the Jobs panel opens on it (its message and Retry are there)."""
        info = self.runner.job(job_id)
        if info.state is JobState.FAILED and not info.hidden:
            self.show_jobs()

    def _export_selected(self) -> None:
        from stylerec_desktop.gui.panels.export_dialog import open_export_dialog

        selected = self.catalog_panel.selected_ids()  # Ctrl/Shift-click picks several
        open_export_dialog(self, self._catalog, self.runner, selected, self._settings)

    def _export_variants(self, renders: list) -> None:
        from stylerec_desktop.gui.panels.export_dialog import open_export_dialog

        open_export_dialog(self, self._catalog, self.runner, [], self._settings, renders=renders)

    def _focus_product_search(self) -> None:
        self.catalog_panel.search_edit.setFocus()
        self.catalog_panel.search_edit.selectAll()

    def _focus_customer_search(self) -> None:
        self.customers_dock.show()
        self.customers_panel.search_edit.setFocus()
        self.customers_panel.search_edit.selectAll()

    def _about(self) -> None:
        from stylerec_desktop.gui.about import AboutDialog

        AboutDialog(self.preferences.device(), self).exec()

    def open_settings(self, tab: str | None = None) -> SettingsDialog:
        """Show Settings (on page ``tab``, e.g. "Recommendations", when given)."""

        def make() -> SettingsDialog:
            dialog = SettingsDialog(
                self.preferences, self.runner, self.catalog, self.choose_catalog_to_open, self,
                fitter=self.ranking_fitter,
            )  # fmt: skip
            dialog.applied.connect(self._apply_preferences)
            dialog.evaluateRequested.connect(self.show_evaluation)
            return dialog

        self.settings_dialog = open_settings_dialog(self.settings_dialog, make)
        if tab is not None:
            self.settings_dialog.show_tab(tab)
        return self.settings_dialog

    def tune_ranking(self) -> None:
        """Catalog ▸ Tune: start tuning and show its progress beside the evidence (Settings ▸ Recommendations)."""
        self.ranking_fitter.tune()
        self.open_settings("Recommendations")

    def train_model(self) -> None:
        """Catalog ▸ Train recommendation model…: start training and show its progress beside the model's figures."""
        self.ranking_fitter.train()
        self.open_settings("Recommendations")

    def show_evaluation(self) -> EvaluationDialog:
        """Catalog ▸ Evaluate recommendations… (one dialog, raised when already open)."""
        dialog = self.evaluation_dialog
        if dialog is None or not Shiboken.isValid(dialog):
            dialog = EvaluationDialog(self.ranking_fitter, self)
            self.evaluation_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def show_log(self) -> None:
        if self.log_dialog is None:
            self.log_dialog = LogDialog(logbook.recent_records(), self.runner, logbook.log_folder(), self)
        self.log_dialog.show()
        self.log_dialog.raise_()
        self.log_dialog.activateWindow()

    def open_log_folder(self) -> None:
        """Show the folder of the rotating log file in the file manager (to attach it to a bug report)."""
        folder = logbook.log_folder()
        if folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _apply_preferences(self, preferences: Preferences) -> None:
        """Hand the settings to the panels that use them (at start, and on Settings ▸ OK/Apply)."""
        self.studio_panel.set_processing(preferences.device, preferences.precision)
        self.studio_panel.set_cluster(preferences.cluster)
        self.recommendations_panel.set_default_weights(preferences.ranking_weights)
        self.indexer.set_device(preferences.device)
        self.indexer.set_cluster(preferences.cluster)
        self.recommend_all.set_cluster(preferences.cluster)
        self.ranking_fitter.set_device(preferences.device)

    def _trim_thumbnails(self, catalog: Catalog) -> None:
        """Keep the catalog's thumbnail cache within Settings ▸ Catalog's limit (oldest out first, on a worker)."""
        folder, limit = catalog.thumbnails_dir, self.preferences.preferences().thumbnail_limit_bytes
        self.runner.submit("Trim the thumbnail cache", lambda: trim_thumbnail_cache(folder, limit), hidden=True)

    # -- reacting to panels --------------------------------------------------------------------------------

    def _edit_product(self) -> None:
        self.detail_dock.show()
        self.detail_dock.raise_()
        self.detail_panel.start_editing()

    def _show_product_from_history(self, product_id: int) -> None:
        self.detail_panel.show_product(product_id)
        self.detail_dock.show()
        self.catalog_panel.select_product(product_id)

    def _show_import_summary(self, kind: str, report: object) -> None:
        summary = getattr(report, "summary", None)
        self.statusBar().showMessage(summary() if callable(summary) else f"Imported {kind}", 10_000)

    def _update_counts_after(self, change: CatalogChange) -> None:
        if change.touches(Table.PRODUCTS, Table.CUSTOMERS, Table.EVENTS):
            self._update_counts()

    def _update_counts(self) -> None:
        catalog = self._catalog
        if catalog is not None:
            self._counts_read.run(catalog.counts, lambda counts: self._show_counts(catalog, counts))

    def _show_counts(self, catalog: Catalog, counts: CatalogCounts) -> None:
        self.catalog_label.setText(
            f"{counts.products:,} products · {counts.categories} categories · {counts.customers:,} customers · "
            f"{counts.events:,} events   —   {display_path(catalog.folder)}"
        )
        self.catalog_label.setToolTip(str(catalog.folder))

    # -- drag and drop -------------------------------------------------------------------------------------

    def accepts_dropped(self, path: Path) -> bool:
        return self._catalog is not None and is_importable(path)

    def take_dropped(self, paths: list[Path]) -> None:
        self.imports.import_files(paths)

    # -- settings ------------------------------------------------------------------------------------------

    def _restore_layout(self) -> None:
        geometry = self._settings.value("window/geometry")
        state = self._settings.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self._fit_screen()
            self.reset_layout()  # sized for the window's first size
        if isinstance(state, QByteArray):
            self.restoreState(state, _STATE_VERSION)

    def _fit_screen(self) -> None:
        """First start: 1400x900, or most of a smaller screen (a 1366x768 laptop gets the whole of it)."""
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        width, height = 1400, 900
        if screen is not None and screen.width() > 0:
            width, height = min(width, screen.width()), min(height, screen.height())
        self.resize(width, height)

    def save_layout(self) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue("window/state", self.saveState(_STATE_VERSION))
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        running = self.runner.running()
        if running:
            if not self.confirm_cancel_jobs(running):
                event.ignore()
                return
            # Each job stops at its next step; a write rolls back, an export leaves no partial file. The app then
            # waits for the workers (RunningApp.stop) before it closes the catalog.
            self.runner.cancel_all()
        self.save_layout()
        super().closeEvent(event)

    def confirm_cancel_jobs(self, running: list[JobInfo]) -> bool:
        """Ask whether to cancel the running jobs and quit; True to quit."""
        titles = "\n".join(f"• {info.title}" for info in running[:6]) + ("\n…" if len(running) > 6 else "")
        count = f"{len(running)} job{'s are' if len(running) != 1 else ' is'}"
        box = QMessageBox(QMessageBox.Icon.Question, "Jobs are running", f"{count} still running:\n{titles}",
                          parent=self)  # fmt: skip
        box.setInformativeText("Cancel them and quit? Finished work is kept; a cancelled import writes nothing.")
        quit_button = box.addButton("Cancel jobs and quit", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep working", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)  # Enter (or Esc) must never throw running work away
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is quit_button
