"""What the open catalog is to the window's views: who is bound to it, and one notification after each write.

Views that show or work on the open catalog follow :class:`CatalogView` (the main window hands each of them the
catalog that opens, or None when it closes); those that show data follow :class:`CatalogWatcher` too and get a
:class:`CatalogChange` after each write, saying which tables changed, so each refreshes only what it shows.

The notification comes from :class:`CatalogChanges`. A writer hands it the job that writes
(:meth:`CatalogChanges.watch`) with what the writer knows (a customers import writes ``customers``, an edit writes
these fields of this product); when the job ends, however it ends, the catalog's revision numbers
(:meth:`~stylerec_desktop.core.catalog.Catalog.revisions`, kept by triggers for products, events and image
features) are read on a worker and compared with the last ones seen. Revisions catch what a writer did not say
(or a cancelled job that committed part of its work); the writer's word covers the tables no trigger counts. Writes
that end close together are told in one change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar, runtime_checkable

from PySide6.QtCore import QObject, Signal

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.gui.jobs import JobHandle, JobInfo, JobRunner, JobState, LatestOnly


class Table(StrEnum):
    """The catalog's tables as views care about them (the values are the SQLite table names, except
    ``LEARNED_MODEL``: the learned model's file in the catalog folder, which changes what is recommended as a
    table would). No trigger counts ``CATALOG_SETTINGS`` or ``LEARNED_MODEL``: their writers say so."""

    PRODUCTS = "products"
    PRODUCT_IMAGES = "product_images"
    CUSTOMERS = "customers"
    EVENTS = "events"
    IMAGE_FEATURES = "image_features"
    RENDERS = "renders"
    CATALOG_SETTINGS = "catalog_settings"  # what was fitted to the catalog: the tuned ranking
    LEARNED_MODEL = "learned_model"


_TABLE_NAMES = frozenset(table.value for table in Table)
T = TypeVar("T")


@dataclass(frozen=True)
class CatalogChange:
    """Which tables one or more writes changed.

    ``product_ids`` and ``product_fields`` narrow a change of ``products`` when every writer of it said which rows
    and which columns it wrote (a product edit); None means any product, any column. Both are empty when
    ``products`` did not change.
    """

    tables: frozenset[Table]
    product_ids: frozenset[int] | None = None
    product_fields: frozenset[str] | None = None

    def touches(self, *tables: Table) -> bool:
        """Whether any of ``tables`` changed."""
        return not self.tables.isdisjoint(tables)

    def touches_product(self, product_id: int) -> bool:
        """Whether product ``product_id``'s row may have changed."""
        return Table.PRODUCTS in self.tables and (self.product_ids is None or product_id in self.product_ids)

    def merged(self, other: CatalogChange) -> CatalogChange:
        """Both changes as one (product ids and fields stay narrow only while both sides know them)."""
        mine, theirs = Table.PRODUCTS in self.tables, Table.PRODUCTS in other.tables
        if not (mine and theirs):
            narrow = self if mine else other
            return CatalogChange(self.tables | other.tables, narrow.product_ids, narrow.product_fields)
        return CatalogChange(
            self.tables | other.tables,
            _union(self.product_ids, other.product_ids),
            _union(self.product_fields, other.product_fields),
        )


def _union(a: frozenset[T] | None, b: frozenset[T] | None) -> frozenset[T] | None:
    return None if a is None or b is None else a | b


def declared(
    tables: Iterable[Table], product_ids: Iterable[int] | None = None, product_fields: Iterable[str] | None = None
) -> CatalogChange:
    """A change as its writer describes it (ids and fields only matter when ``tables`` holds products)."""
    table_set = frozenset(tables)
    if Table.PRODUCTS not in table_set:
        return CatalogChange(table_set, frozenset(), frozenset())
    return CatalogChange(
        table_set,
        None if product_ids is None else frozenset(product_ids),
        None if product_fields is None else frozenset(product_fields),
    )


@runtime_checkable
class CatalogView(Protocol):
    """Something in the window bound to the open catalog (a panel, a controller)."""

    def set_catalog(self, catalog: Catalog | None) -> None:
        """Show or work on ``catalog`` from now on; None: no catalog is open. Reads it off the GUI thread."""


@runtime_checkable
class CatalogWatcher(CatalogView, Protocol):
    """A view that shows catalog data and refreshes it after writes."""

    def catalog_changed(self, change: CatalogChange) -> None:
        """The open catalog changed: re-read (off the GUI thread) what ``change`` affects of what is shown."""


class CatalogChanges(QObject):
    """Tells :attr:`changed` once after the writes to the open catalog that end together (see the module)."""

    changed = Signal(CatalogChange)

    def __init__(self, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._catalog: Catalog | None = None
        self._known: dict[str, int] | None = None  # the revisions last seen
        self._pending = declared(())  # what writers said since the revisions were last read
        self._read = LatestOnly(runner, "Check what changed in the catalog", self)

    def set_catalog(self, catalog: Catalog | None) -> None:
        """Start over on ``catalog``: its revisions now are the baseline (read on a worker)."""
        self._catalog = catalog
        self._known = None
        self._pending = declared(())
        if catalog is None:
            self._read.invalidate()
            return
        self._read.run(catalog.revisions, lambda revisions: self._arrived(catalog, revisions, announce=False))

    def watch(
        self,
        job: JobHandle,
        tables: Iterable[Table] = (),
        *,
        product_ids: Iterable[int] | None = None,
        product_fields: Iterable[str] | None = None,
    ) -> JobHandle:
        """Tell :attr:`changed` after ``job`` (a write to the open catalog) ends, a retry of it too.

        ``tables`` (with ``product_ids``/``product_fields`` for products) is what the writer knows it wrote; it
        counts only when the job succeeded. Returns ``job``.
        """
        catalog, change = self._catalog, declared(tables, product_ids, product_fields)

        def ended(info: JobInfo) -> None:
            if catalog is not self._catalog or catalog is None:
                return  # a write to the catalog shown before: no view shows it any more
            if info.state is JobState.DONE:
                self._pending = self._pending.merged(change)
            self._check(catalog)

        job.finished.connect(ended)
        return job

    def _check(self, catalog: Catalog) -> None:
        # A newer check drops the older one's answer: it reads the revisions after both writes.
        self._read.run(catalog.revisions, lambda revisions: self._arrived(catalog, revisions, announce=True))

    def _arrived(self, catalog: Catalog, revisions: dict[str, int], announce: bool) -> None:
        if catalog is not self._catalog:
            return
        known, self._known = self._known, revisions
        if not announce:
            return
        moved = frozenset(
            Table(name)
            for name, value in revisions.items()
            if known is not None and known.get(name) != value and name in _TABLE_NAMES
        )
        pending, self._pending = self._pending, declared(())
        # A table that moved without a writer saying so may have changed anywhere.
        change = pending.merged(declared(moved - pending.tables))
        if change.tables:
            self.changed.emit(change)
