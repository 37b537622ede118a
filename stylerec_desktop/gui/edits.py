"""Undoable catalog edits made in the app: one :class:`QUndoStack` for the open catalog (cleared when another
opens), each edit a command whose do, undo and redo write through the job runner's write lane.

A command's first write returns the product's previous values (:meth:`Catalog.update_product`); undo writes them
back. Both run on the single write thread in the order they were asked, so an Undo pressed before the edit's own
write finished still finds those values: the write ran first and left them on the shared :class:`_EditState`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from shiboken6 import Shiboken

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.gui.catalog_changes import CatalogChanges, Table
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, Lane

log = logging.getLogger(__name__)


@dataclass
class _EditState:
    """What one edit's writes share (touched only on the write thread once submitted)."""

    catalog: Catalog
    product_id: int
    changes: dict[str, object]
    before: dict[str, object] | None = field(default=None)  # set by the first successful write


class ProductEdits(QObject):
    """The undo stack of product edits for the open catalog.

    Signals: :attr:`productChanged` (product id, names of the fields written) after each write, undo and redo
    included, on the GUI thread; :attr:`failed` with a sentence for the user when a write failed. The views learn
    of each write from ``changes`` (the product and the fields it wrote).
    """

    productChanged = Signal(int, list)
    failed = Signal(str)

    def __init__(self, runner: JobRunner, changes: CatalogChanges, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._changes = changes
        self._catalog: Catalog | None = None
        self.stack = QUndoStack(self)
        self._pending = 0

    def set_catalog(self, catalog: Catalog | None) -> None:
        """Edits belong to their catalog: another catalog starts with nothing to undo."""
        self._catalog = catalog
        self.stack.clear()

    def edit_product(self, product_id: int, changes: dict[str, object], description: str) -> None:
        """Write ``changes`` (checked field values, see :meth:`Catalog.update_product`) as one undoable step."""
        if self._catalog is None or not changes:
            return
        self.stack.push(_EditProductCommand(self, _EditState(self._catalog, product_id, dict(changes)), description))

    def busy(self) -> bool:
        """An edit, undo or redo is still being written."""
        return self._pending > 0

    # -- called by the commands (GUI thread) -----------------------------------------------------------------

    def _write(self, command: _EditProductCommand, undo: bool) -> None:
        state = command.state
        text = command.text()

        def write() -> list[str]:  # on the write thread
            if undo:
                if state.before is None:
                    return []  # its own write failed: there is nothing to put back
                state.catalog.update_product(state.product_id, **state.before)
                return list(state.before)
            before = state.catalog.update_product(state.product_id, **state.changes)
            if state.before is None:
                state.before = before
            return list(before)

        def done(fields: list[str]) -> None:
            self._pending -= 1
            if fields and state.catalog is self._catalog:
                self.productChanged.emit(state.product_id, fields)

        def failed(info: JobInfo) -> None:
            self._pending -= 1
            if not undo and state.before is None and Shiboken.isValid(command):
                command.setObsolete(True)  # the stack drops it on the next undo instead of undoing nothing
            self.failed.emit(f"Could not {'undo' if undo else 'save'} “{text}”: {info.error}")

        self._pending += 1
        title = f"{'Undo' if undo else 'Save'}: {text}"
        job = self._runner.submit(title, write, lane=Lane.WRITE, hidden=True, on_result=done, on_failure=failed)
        # The fields an undo writes back are those its edit changed; the edit's own are the ones asked for.
        self._changes.watch(job, (Table.PRODUCTS,), product_ids=(state.product_id,), product_fields=state.changes)


class _EditProductCommand(QUndoCommand):
    """One edit of one product. Qt calls :meth:`redo` when it is pushed, and again after an undo."""

    def __init__(self, edits: ProductEdits, state: _EditState, text: str) -> None:
        super().__init__(text)
        self._edits = edits
        self.state = state

    def redo(self) -> None:
        self._edits._write(self, undo=False)

    def undo(self) -> None:
        self._edits._write(self, undo=True)
