"""Indexing on a Ray cluster (``stylerec index --cluster ...``): the workers compute, the workstation writes.

The workstation makes the same work list and the same batches as :func:`.indexing.index_catalog` (images not yet
indexed by this feature recipe, ``batch_size`` at a time) and sends each batch to a Ray task
(:func:`index_batch_on_worker`). A task decodes and analyses its images (:func:`.prepare.prepare_for_index`), from
the bytes the workstation sent or from the path itself when the cluster was checked to read the same file there
(:meth:`ClusterSession.sees_file`, one check per image folder), runs the networks, and returns the feature blobs and
the images it could not read. Only the workstation writes the catalog, one transaction per returned batch committed
before the job yields, so the job stays resumable and cancellable exactly like the single-machine one; Ray retries
a task whose worker dies, and :func:`.cluster.run_tasks` hands each batch's result over once, so it is written once.

Same batches, same code, same networks: on CPU workers the stored blobs are byte for byte those of a single-machine
run (checked by ``tests/test_cluster_index.py``; torch's CPU results here do not depend on its thread count, which
Ray sets to the task's CPUs).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from stylerec_desktop.core.catalog import Catalog, ImageFeatureBlobs
from stylerec_desktop.core.cluster import ClusterSession, ClusterSpec, open_cluster, ray_module, run_tasks
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress
from stylerec_desktop.core.recommend.features import FeatureExtractor, PreparedImage, extractor_version
from stylerec_desktop.core.recommend.indexing import IndexReport
from stylerec_desktop.core.recommend.prepare import prepare_for_index

log = logging.getLogger(__name__)

#: A task carries up to this many batches (each its own network pass, as on one machine) when there are enough of
#: them to keep ``TASKS_PER_SLOT`` tasks per worker slot: Ray's cost per task (scheduling, the driver's wait, the
#: result's transfer) is then paid per several batches. More tasks per slot keep the slots evenly busy to the end
#: and a dead worker's rerun short.
MAX_BATCHES_PER_TASK = 8
TASKS_PER_SLOT = 4


@dataclass(frozen=True)
class IndexTask:
    """One batch for a worker.

    ``images``: ``(sha256, path, data)`` per image, ``data`` the file's bytes, or None when the worker reads
    ``path`` itself. ``unreadable``: ``(path, reason)`` of the batch's images the workstation could not read; they
    travel with the batch so the failures come back in work-list order. ``version``: the feature recipe the
    workstation stores the rows under (the worker refuses to compute another). ``device``: ``"cpu"`` or
    ``"cuda"``. ``passes``: the workstation batch (0, 1, ...) each of ``images`` belongs to; each batch's readable
    images go through the networks together, so the passes are those of a single-machine run.
    """

    images: tuple[tuple[str, str, bytes | None], ...]
    unreadable: tuple[tuple[str, str], ...]
    version: str
    device: str
    passes: tuple[int, ...]


@dataclass(frozen=True)
class IndexTaskResult:
    """What a worker sends back for one :class:`IndexTask`: the rows to store, the ``(path, reason)`` failures,
    and where and how it ran: the worker's process id, Ray's attempt number (0 on the first try, higher after a
    worker died and Ray ran the task again; -1 when this Ray version does not tell) and the seconds spent."""

    rows: tuple[ImageFeatureBlobs, ...]
    failed: tuple[tuple[str, str], ...]
    worker_pid: int
    attempt: int
    seconds: float


# -- on the worker -------------------------------------------------------------------------------------------

_extractor_lock = threading.Lock()
#: One extractor per device per worker process: Ray reuses its worker processes for further tasks, so the networks
#: are loaded once per process rather than once per batch (about 1.5 s each on this 2-core CPU).
_extractors: dict[str, FeatureExtractor] = {}


def worker_extractor(device: str) -> FeatureExtractor:
    """The feature extractor of this worker process for ``device`` (``"cpu"``/``"cuda"``), loaded on first use."""
    import cv2
    import torch

    with _extractor_lock:
        extractor = _extractors.get(device)
        if extractor is None:
            # Ray sets OMP_NUM_THREADS (and so torch's threads) to the task's CPUs; OpenCV would otherwise use
            # every core of the node, oversubscribing it when one task runs per CPU.
            cv2.setNumThreads(torch.get_num_threads())
            extractor = FeatureExtractor(torch.device(device))
            _extractors[device] = extractor
    return extractor


def _attempt() -> int:
    """How many times Ray had started the running task before. Ray has no public call for it, so the core
    worker's own is used, and -1 comes back where it is missing."""
    try:
        import ray

        core_worker = getattr(ray._private.worker.global_worker, "core_worker")  # noqa: B009 - untyped in Ray
        return int(core_worker.get_current_task_attempt_number())
    except Exception:  # noqa: BLE001 - only a diagnostic: the job does not depend on it
        return -1


def index_batch_on_worker(task: IndexTask) -> IndexTaskResult:
    """Run on a Ray worker: prepare ``task``'s images and compute their features (see :class:`IndexTask`).

    An image that cannot be read or decoded is a ``(path, reason)`` failure, as on a single machine, never an
    exception. Raises :class:`UserError` when this worker's code computes another feature recipe than the
    workstation expects (a different stylerec-desktop version installed on the cluster).
    """
    started = time.perf_counter()
    extractor = worker_extractor(task.device)
    if extractor.version != task.version:
        raise UserError(f"The cluster's workers compute the features {extractor.version!r}, but this "
                        f"workstation stores {task.version!r}: install the same stylerec-desktop version on the "
                        "cluster.")  # fmt: skip
    threads = extractor_threads()

    def prepare(item: tuple[str, str, bytes | None]) -> PreparedImage | str:
        return prepare_for_index(Path(item[1]), item[2])

    if threads > 1:  # a task given several CPUs (a GPU task) prepares its images in parallel
        with ThreadPoolExecutor(threads, thread_name_prefix="index-prepare") as pool:
            prepared = list(pool.map(prepare, task.images))
    else:
        prepared = [prepare(item) for item in task.images]
    failed = list(task.unreadable)
    ready: dict[int, list[tuple[str, PreparedImage]]] = {}
    for (sha, path, _data), batch, result in zip(task.images, task.passes, prepared, strict=True):
        if isinstance(result, str):
            failed.append((path, result))
        else:
            ready.setdefault(batch, []).append((sha, result))
    # The workstation's batches one by one (less what could not be read), as index_catalog runs them.
    rows: list[ImageFeatureBlobs] = []
    for batch in sorted(ready):
        features = extractor.extract([image for _sha, image in ready[batch]])
        rows.extend(f.to_blobs(sha, task.version) for (sha, _image), f in zip(ready[batch], features, strict=True))
    return IndexTaskResult(tuple(rows), tuple(failed), os.getpid(), _attempt(), time.perf_counter() - started)


def extractor_threads() -> int:
    """The CPU threads this task may use (Ray's OMP_NUM_THREADS for the task, via torch)."""
    import torch

    return max(1, torch.get_num_threads())


# -- on the workstation --------------------------------------------------------------------------------------


class _Tasks(Sequence[IndexTask]):
    """The job's tasks (each a run of consecutive batches), built when :func:`run_tasks` submits them: the image
    bytes are read only then, so no more of them are in memory than the tasks in flight."""

    def __init__(self, groups: list[list[list[tuple[str, Path]]]], make: _TaskMaker) -> None:
        self._groups = groups
        self._make = make

    def __len__(self) -> int:
        return len(self._groups)

    # Positions only: run_tasks never slices.
    def __getitem__(self, position: int) -> IndexTask:  # type: ignore[override]
        return self._make(self._groups[position])


def batches_per_task(batches: int, slots: int) -> int:
    """How many consecutive batches one task carries: enough to pay Ray's per-task cost once per several batches,
    few enough to leave ``TASKS_PER_SLOT`` tasks per worker slot (1 to ``MAX_BATCHES_PER_TASK``)."""
    return max(1, min(MAX_BATCHES_PER_TASK, batches // (TASKS_PER_SLOT * max(1, slots))))


class _TaskMaker:
    """Turns a batch of ``(sha256, path)`` into an :class:`IndexTask`: a path where the workers were checked to
    read that folder's files, the bytes otherwise."""

    def __init__(self, session: ClusterSession, version: str, device: str, send_bytes: bool) -> None:
        self._session = session
        self._version = version
        self._device = device
        self._send_bytes = send_bytes

    def _workers_see(self, sha: str, path: Path) -> bool:
        return not self._send_bytes and self._session.reads_folder_of(path, sha)

    def __call__(self, batches: list[list[tuple[str, Path]]]) -> IndexTask:
        from stylerec_desktop.core.imaging import read_image_bytes

        images: list[tuple[str, str, bytes | None]] = []
        passes: list[int] = []
        unreadable: list[tuple[str, str]] = []
        for number, batch in enumerate(batches):
            for sha, path in batch:
                if self._workers_see(sha, path):
                    images.append((sha, str(path), None))
                    passes.append(number)
                    continue
                try:
                    images.append((sha, str(path), read_image_bytes(path)))
                    passes.append(number)
                except UserError as error:  # the same message a single-machine run gives for that file
                    unreadable.append((str(path), str(error)))
        return IndexTask(tuple(images), tuple(unreadable), self._version, self._device, tuple(passes))


@dataclass(frozen=True)
class _Placement:
    """Where the tasks run: the worker's torch device and the Ray resources of one task."""

    device: str
    num_cpus: float
    num_gpus: float


def _placement(session: ClusterSession, device: str) -> _Placement:
    """``--device`` on a cluster: ``auto`` uses GPUs when the cluster has them, ``cpu`` never, ``cuda`` insists."""
    gpus = session.gpus if device != "cpu" else 0
    if device == "cuda" and gpus == 0:
        raise UserError(f"--device cuda: the Ray cluster {session.spec} has no GPUs. Use --device cpu (or auto), "
                        "or add GPU nodes to the cluster.")  # fmt: skip
    if gpus == 0:
        return _Placement("cpu", 1, 0)
    # One task per GPU, with the CPUs that GPU's node has per GPU, so the task prepares images in parallel and the
    # tasks spread over the GPU nodes; the smallest share over the nodes, so every GPU node can run one.
    shares = [
        node["Resources"].get("CPU", 1) / node["Resources"]["GPU"]
        for node in session.ray.nodes()
        if node.get("Alive") and node["Resources"].get("GPU", 0) > 0
    ]
    return _Placement("cuda", max(1, int(min(shares, default=1))), 1)


def index_on_cluster(
    catalog: Catalog,
    cluster: ClusterSpec,
    device: str = "auto",
    batch_size: int = 16,
    send_bytes: bool = False,
) -> Job[IndexReport]:
    """:func:`.indexing.index_catalog` with the images prepared and the networks run on the Ray ``cluster``.

    ``device``: ``auto`` (the cluster's GPUs when it has them), ``cpu`` or ``cuda``. ``batch_size`` images go
    through the networks at once, as on one machine; a task carries one or more whole batches
    (:func:`batches_per_task`) and its rows are stored in one transaction. ``send_bytes``: always send the image
    bytes, even to workers that read the files themselves (for shared storage slower than the network). The first
    progress message says what the job runs on. Raises :class:`UserError` when Ray is missing or the cluster cannot
    be reached; a task whose worker died more often than Ray retries ends the job, keeping what was written (a
    rerun resumes).
    """
    if batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {batch_size}.")
    if device not in ("auto", "cpu", "cuda"):
        raise UserError(f"--device {device} cannot be used with --cluster: use auto, cpu or cuda.")
    ray_module()  # without Ray, say how to install it before anything else, even when nothing is left to index
    version = extractor_version()  # the default recipe, named without loading its networks here
    started = time.perf_counter()
    pending = catalog.images_to_index(version)
    indexed_before, total = catalog.image_feature_counts(version)
    if not pending:
        yield Progress(0, 0, f"Nothing to index ({indexed_before} images already indexed); the cluster is not used")
        return IndexReport(version, 0, indexed_before, total, time.perf_counter() - started)
    batches = [pending[i : i + batch_size] for i in range(0, len(pending), batch_size)]
    failed_by_batch: dict[int, tuple[tuple[str, str], ...]] = {}
    done = 0
    with open_cluster(cluster) as session:
        placement = _placement(session, device)
        yield Progress(0, len(pending), f"{session.headline()}: {len(pending)} images to index "
                                        f"({indexed_before} already indexed)")  # fmt: skip
        slots = int(session.gpus if placement.num_gpus else session.cpus // placement.num_cpus)
        per_task = batches_per_task(len(batches), slots)
        groups = [batches[i : i + per_task] for i in range(0, len(batches), per_task)]
        tasks = _Tasks(groups, _TaskMaker(session, version, placement.device, send_bytes))
        results = run_tasks(session, index_batch_on_worker, tasks, num_cpus=placement.num_cpus,
                            num_gpus=placement.num_gpus)  # fmt: skip
        # closing(): a cancel (the job closed at a yield) cancels the tasks in flight before the cluster goes.
        with closing(results):
            for position, result in results:
                # One transaction per task (whole batches), committed before the yield: a cancel lands between.
                catalog.store_image_features(result.rows)
                # In work-list order, as a single-machine run lists them (the workstation reads some, workers others).
                work = [path for batch in groups[position] for _sha, path in batch]
                order = {str(path): i for i, path in enumerate(work)}
                failed_by_batch[position] = tuple(sorted(result.failed, key=lambda f: order.get(f[0], 0)))
                done += len(work)
                if result.attempt > 0:
                    log.info("batch %d ran %d more time(s) after its worker died", position + 1, result.attempt)
                yield Progress(done, len(pending), f"Indexed {done} of {len(pending)} images on the cluster")
    failed = tuple(f for position in sorted(failed_by_batch) for f in failed_by_batch[position])
    report = IndexReport(version, done - len(failed), indexed_before, total, time.perf_counter() - started, failed)
    log.info("index of %s on %s: %d images indexed, %d failed, in %.1f s", catalog.folder, cluster, report.indexed,
             len(failed), report.seconds)  # fmt: skip
    return report
