"""Indexing styles from the GUI: runs the core's resumable ``index_catalog`` job on the write lane (on the Ray
cluster chosen in the settings when there is one: :mod:`.batch_jobs`).

The job writes feature rows, so it shares the write lane with imports: it starts after an import queued before it
and never races it for SQLite's lock. It is resumable, so a cancelled run (or a quit) only costs the batch in
flight; the next run picks up the rest.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.cluster import ClusterSpec
from stylerec_desktop.core.jobs import Job
from stylerec_desktop.gui.batch_jobs import indexing_job, where_label
from stylerec_desktop.gui.catalog_changes import CatalogChange, CatalogChanges, Table
from stylerec_desktop.gui.jobs import JobHandle, JobInfo, JobRunner, Lane

log = logging.getLogger(__name__)

INDEX_TITLE = "Indexing product styles"
WARM_TITLE = "Loading the style index"


class IndexController(QObject):
    """Starts style indexing for the open catalog. :attr:`indexed` fires with the core's ``IndexReport``; the
    views learn of the new features through ``changes`` (the window's; a panel opened alone has none)."""

    indexed = Signal(object)

    def __init__(
        self,
        runner: JobRunner,
        parent: QObject | None = None,
        device: str = "auto",
        *,
        changes: CatalogChanges | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._changes = changes
        self._device = device
        self._cluster: ClusterSpec | None = None
        self._catalog: Catalog | None = None
        self._pending: JobHandle | None = None

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        self._pending = None

    def catalog_changed(self, change: CatalogChange) -> None:
        """New product pictures (an import) need their style features before they can be recommended."""
        if change.touches(Table.PRODUCT_IMAGES):
            self.start()

    @property
    def busy(self) -> bool:
        return self._pending is not None and not self._pending.info.state.finished

    def _succeeded(self, info: JobInfo) -> None:
        if self._pending is not None and info.id == self._pending.id:  # not a run for the catalog shown before
            self.indexed.emit(info.result)

    def set_device(self, device: str) -> None:
        """The device the next indexing run uses (Settings ▸ Processing)."""
        self._device = device

    def set_cluster(self, cluster: ClusterSpec | None) -> None:
        """The Ray cluster the next indexing run uses, None for this machine (Settings ▸ Processing)."""
        self._cluster = cluster

    def start(self) -> JobHandle | None:
        """Queue an indexing run (none when no catalog is open; the one queued or running when there is one).
        Returns its job."""
        if self._catalog is None:
            return None
        if self.busy:
            return self._pending
        catalog, device, cluster = self._catalog, self._device, self._cluster

        def job() -> Job[object]:
            # torch and the networks load (and a cluster connects) on the worker thread, never on the GUI thread.
            return indexing_job(catalog, device, cluster)

        self._pending = self._runner.submit(INDEX_TITLE, job, lane=Lane.WRITE, device=where_label(cluster, device))
        # A slot of ours, not a callback: a run that ends after this controller is gone (the window closed) tells
        # no one.
        self._pending.succeeded.connect(self._succeeded)
        if self._changes is not None:  # the features it writes show in the revisions: nothing to declare
            self._changes.watch(self._pending)
        return self._pending


class StyleIndexWarmer(QObject):
    """Loads the open catalog's style index in the background as soon as the catalog opens (a visible job: the
    status bar shows it), and again after a change that makes the cached one stale, so the first customer's
    recommendations come as fast as the next ones. :attr:`ready` fires with True once the index is in memory
    (False: nothing indexed yet)."""

    ready = Signal(bool)

    def __init__(self, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._catalog: Catalog | None = None
        self._job: JobHandle | None = None

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        if self._job is not None and not self._job.info.state.finished:
            self._job.cancel()  # it stops after its load; the catalog shown before is not warmed any further
        self._job = None
        self.start()

    def catalog_changed(self, change: CatalogChange) -> None:
        """New features (indexing), events or product rows: the cached index is stale; load the new one now."""
        if change.touches(Table.IMAGE_FEATURES, Table.EVENTS, Table.PRODUCTS):
            self.start()

    @property
    def job(self) -> JobHandle | None:
        return self._job

    def start(self) -> JobHandle | None:
        if self._catalog is None:
            return None
        if self._job is not None and not self._job.info.state.finished:
            return self._job
        catalog = self._catalog

        def job() -> Job[bool] | bool:
            if not catalog.has_image_features():
                return False  # nothing indexed: no index to load (and no torch to import for it)
            # torch and numpy load on the worker, never on the GUI thread.
            from stylerec_desktop.core.recommend.service import INDEX_CACHE

            return INDEX_CACHE.warm_job(catalog)

        # Disposable: it writes nothing, so quitting need not wait for a load it cannot interrupt.
        self._job = self._runner.submit(WARM_TITLE, job, lane=Lane.READ, disposable=True)
        self._job.succeeded.connect(self._succeeded)
        return self._job

    def _succeeded(self, info: JobInfo) -> None:
        if self._job is not None and info.id == self._job.id:
            self.ready.emit(bool(info.result))
