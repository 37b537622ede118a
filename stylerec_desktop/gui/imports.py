"""Importing files from the GUI: choosing them (menu or drag-and-drop), running the import on the write lane, and
showing what happened (a summary, or the report of every bad row)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.jobs import Job
from stylerec_desktop.gui.catalog_changes import CatalogChanges, Table
from stylerec_desktop.gui.dialogs import ImportErrorDialog
from stylerec_desktop.gui.jobs import JobHandle, JobInfo, JobRunner, Lane

log = logging.getLogger(__name__)

KINDS = ("products", "customers", "events")  # also the order dropped files are imported in: events need both
# What an import of each kind writes (told to the views after it).
_WRITES = {
    "products": (Table.PRODUCTS, Table.PRODUCT_IMAGES),
    "customers": (Table.CUSTOMERS,),
    "events": (Table.EVENTS,),
}
IMPORT_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json")
_FILTERS = {
    "products": "Products (*.csv *.jsonl *.ndjson);;All files (*)",
    "customers": "Customers (*.csv);;All files (*)",
    "events": "Events (*.csv);;All files (*)",
}


def is_importable(path: Path) -> bool:
    return path.suffix.lower() in IMPORT_SUFFIXES and path.is_file()


class ImportController(QObject):
    """Starts imports as write-lane jobs for the window and reports their outcome.

    :attr:`imported` fires with the kind and the core's ``ImportReport`` after a successful import;
    :attr:`refused` with the error dialog after a file with bad rows was refused (the catalog is unchanged).
    """

    imported = Signal(str, object)
    refused = Signal(object)

    def __init__(self, runner: JobRunner, window: QWidget, changes: CatalogChanges) -> None:
        super().__init__(window)
        self._runner = runner
        self._changes = changes
        self._window = window
        self._catalog: Catalog | None = None
        self.last_error_dialog: ImportErrorDialog | None = None

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog

    # -- asking the user -----------------------------------------------------------------------------------

    def choose_and_import(self, kind: str) -> JobHandle | None:
        """File ▸ Import…: pick a file (and for products the images folder), then import it."""
        if not self._check_catalog():
            return None
        name, _ = QFileDialog.getOpenFileName(self._window, f"Import {kind}", "", _FILTERS[kind])
        if not name:
            return None
        path = Path(name)
        images_dir = None
        if kind == "products":
            folder = QFileDialog.getExistingDirectory(
                self._window, "Folder the image paths in this file are relative to", str(path.parent)
            )
            if not folder:
                return None
            images_dir = Path(folder)
        return self.start_import(kind, path, images_dir)

    def import_files(self, paths: list[Path]) -> list[JobHandle]:
        """Files dropped on the window: tell what each holds and import them, products first, events last."""
        if not self._check_catalog():
            return []
        from stylerec_desktop.core.importers import detect_kind

        planned: list[tuple[str, Path]] = []
        for path in paths:
            kind = detect_kind(path)
            if kind is None:
                kind = self._ask_kind(path)
            if kind is not None:
                planned.append((kind, path))
        planned.sort(key=lambda plan: KINDS.index(plan[0]))
        return [self.start_import(kind, path) for kind, path in planned]

    def _ask_kind(self, path: Path) -> str | None:
        kind, ok = QInputDialog.getItem(
            self._window,
            "What does this file hold?",
            f"StyleRec cannot tell from its columns what {path.name} holds. Import it as:",
            list(KINDS),
            0,
            False,
        )
        return kind if ok else None

    def _check_catalog(self) -> bool:
        if self._catalog is None:
            QMessageBox.information(self._window, "No catalog", "Open or create a catalog first (File menu).")
            return False
        return True

    # -- running -------------------------------------------------------------------------------------------

    def start_import(
        self, kind: str, path: Path, images_dir: Path | None = None, skip_bad: bool = False
    ) -> JobHandle:
        """Queue the import of ``path`` on the write lane and return its job."""
        assert self._catalog is not None
        catalog = self._catalog

        def job() -> Job[Any]:
            # Made on the worker thread that drives it: an import job must run on one thread start to end.
            # Imported on first use: the importers pull in Pillow, which app start-up should not wait for.
            from stylerec_desktop.core.importers import import_file

            return import_file(catalog, kind, path, images_dir=images_dir, skip_bad=skip_bad)

        title = f"Import {kind} from {path.name}" + (" (good rows only)" if skip_bad else "")
        handle = self._runner.submit(
            title,
            job,
            lane=Lane.WRITE,
            on_result=lambda report: self._succeeded(kind, report),
            on_failure=lambda info: self._failed(kind, path, images_dir, info),
        )
        return self._changes.watch(handle, _WRITES[kind])

    def _succeeded(self, kind: str, report: object) -> None:
        summary = getattr(report, "summary", None)
        log.info("%s", summary() if callable(summary) else f"imported {kind}")
        self.imported.emit(kind, report)

    def _failed(self, kind: str, path: Path, images_dir: Path | None, info: JobInfo) -> None:
        from stylerec_desktop.core.importers import ImportFailed

        exc = info.exception
        if isinstance(exc, ImportFailed):
            errors = [(e.row, e.column, e.problem, e.expected) for e in exc.report.errors]
            # The core's headline goes on to give the CLI's advice (--skip-bad); the dialog has its own button.
            headline = str(exc).splitlines()[0].split(". ")[0].rstrip(".") + "."
            dialog = ImportErrorDialog(path.name, headline, errors, can_skip_bad=True, parent=self._window)

            def import_good_rows() -> None:
                if dialog.import_good_rows:
                    self.start_import(kind, path, images_dir, skip_bad=True)

            dialog.accepted.connect(import_good_rows)
            self.last_error_dialog = dialog
            dialog.show()  # not modal: the user can look at the grid (or the file) while reading it
            self.refused.emit(dialog)
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Import failed", info.error, QMessageBox.StandardButton.Close, self._window
        )
        if info.detail:
            box.setDetailedText(info.detail)
        box.setModal(False)
        box.show()
