"""Batch jobs from the GUI that may run on a Ray cluster (Settings ▸ Processing ▸ "Run batch jobs on").

:func:`indexing_job` is the style-indexing job for the chosen place, :class:`RecommendAllController` writes every
customer's recommendations to a file (Catalog ▸ Recommend to every customer…), like ``stylerec recommend --all``.
Connecting to a cluster, or starting ``local[N]``, takes seconds: it happens inside the job, on its worker thread,
and the job's first message after it says where it runs ("Running on 2 Ray workers, 0 GPUs (local[2])"), which the
Jobs panel shows.

Indexing runs ``core/recommend/index_cluster.py`` there. The Studio's batch render and the export dialog
pass the same setting to their core jobs (``core/stylize/cluster.py``, ``core/export/cluster.py``); previews and
single renders always run here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.cluster import ClusterSpec
from stylerec_desktop.core.jobs import Job
from stylerec_desktop.gui.jobs import JobHandle, JobInfo, JobRunner, Lane

RECOMMEND_ALL_TITLE = "Recommendations for every customer"


def where_label(cluster: ClusterSpec | None, device: str) -> str:
    """The Jobs panel's place column: ``"Ray local[2]"`` on a cluster, else the device's own label."""
    from stylerec_desktop.core.models.hardware import device_label

    return f"Ray {cluster}" if cluster is not None else device_label(device)


def indexing_job(catalog: Catalog, device: str, cluster: ClusterSpec | None) -> Job[Any]:
    """The indexing job for the chosen place (call it on the worker thread: it imports torch)."""
    if cluster is None:
        from stylerec_desktop.core.recommend.indexing import index_catalog

        return index_catalog(catalog, device=device)
    from stylerec_desktop.core.recommend.index_cluster import index_on_cluster

    # A cluster's workers have CUDA GPUs or none: Apple's MPS (a workstation setting) means "auto" there.
    return index_on_cluster(catalog, cluster, device="auto" if device == "mps" else device)


class RecommendAllController(QObject):
    """Writes the recommendations of every customer of the open catalog to a ``.jsonl`` or ``.csv`` file the user
    names, on this machine or the cluster chosen in the settings. :attr:`written` fires with the core's
    ``BatchReport``."""

    written = Signal(object)

    def __init__(self, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._catalog: Catalog | None = None
        self._cluster: ClusterSpec | None = None
        self._job: JobHandle | None = None

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog

    def set_cluster(self, cluster: ClusterSpec | None) -> None:
        """Where the next batch runs (Settings ▸ Processing); None: this machine."""
        self._cluster = cluster

    @property
    def busy(self) -> bool:
        return self._job is not None and not self._job.info.state.finished

    def choose_and_start(self, parent: QWidget | None = None) -> JobHandle | None:
        """Ask for the file, then :meth:`start`."""
        if self._catalog is None:
            return None
        name, _ = QFileDialog.getSaveFileName(
            parent, "Recommendations for every customer", str(self._catalog.folder.parent / "recommendations.jsonl"),
            "JSON Lines, one customer per line (*.jsonl);;CSV, one row per recommendation (*.csv)",
        )  # fmt: skip
        return self.start(Path(name)) if name else None

    def start(self, out: Path, k: int = 10) -> JobHandle | None:
        """Queue the batch into ``out`` (the one running, when there is one). Returns its job."""
        if self._catalog is None:
            return None
        if self.busy:
            return self._job
        catalog, cluster = self._catalog, self._cluster

        def job() -> Job[Any]:
            from stylerec_desktop.core.errors import UserError
            from stylerec_desktop.core.recommend.batch import recommend_batch

            customer_ids = sorted(catalog.customer_external_ids().values())
            if not customer_ids:
                raise UserError("This catalog has no customers yet: import them with File ▸ Import customers….")
            if cluster is None:
                return recommend_batch(catalog, customer_ids, out, k=k)
            from stylerec_desktop.core.recommend.batch_cluster import recommend_batch_on_cluster

            return recommend_batch_on_cluster(catalog, customer_ids, out, cluster, k=k)

        # It writes a file, never the catalog: the read lane, on a cluster too (jobs running at once share the
        # cluster the first opened; the last to end closes it: core.cluster.open_cluster).
        self._job = self._runner.submit(RECOMMEND_ALL_TITLE, job, lane=Lane.READ, device=where_label(cluster, "cpu"))
        self._job.succeeded.connect(self._succeeded)
        return self._job

    def _succeeded(self, info: JobInfo) -> None:
        if self._job is not None and info.id == self._job.id:
            self.written.emit(info.result)
