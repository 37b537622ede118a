"""Connecting to Ray and running a job's tasks on it.

A job uses it like this (the results are written by the job, on the workstation, one batch per transaction)::

    with open_cluster(spec) as cluster:
        yield Progress(0, n, cluster.describe())
        for position, result in run_tasks(cluster, prepare_on_worker, payloads):
            ...write result..., yield Progress(...)

``prepare_on_worker`` must be a module-level function (Ray ships it by reference, so the workers import this same
package). Each task is retried by Ray when its worker process or node dies (``retries`` times); an exception the
function itself raises is not retried and comes back as that exception.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from stylerec_desktop.core.cluster.spec import ClusterSpec
from stylerec_desktop.core.errors import UserError

log = logging.getLogger(__name__)

P = TypeVar("P")
R = TypeVar("R")

INSTALL_HINT = "pip install 'stylerec-desktop[cluster]'"
#: Memory each local worker node reserves for Ray's object store (the image bytes in flight): small, because a
#: local cluster shares this machine's memory with the app.
LOCAL_OBJECT_STORE_BYTES = 128 * 1024 * 1024
#: The most folders a session checks for shared storage (:meth:`ClusterSession.reads_folder_of`); the files of any
#: further folder travel as bytes.
MAX_CHECKED_FOLDERS = 32
#: The package's folder's parent, put first on the local workers' PYTHONPATH so they import this very code.
_PACKAGE_ROOT = Path(__file__).resolve().parents[3]


def ray_module() -> ModuleType:
    """Import Ray, or raise a :class:`UserError` that says how to install it."""
    try:
        import ray
    except ImportError as error:
        raise UserError(f"--cluster needs Ray, which is not installed ({error}). Install it with {INSTALL_HINT}, "
                        "or leave --cluster out to run on this machine.") from error  # fmt: skip
    return ray


@dataclass
class ClusterSession:
    """An open connection to a Ray cluster. ``started`` is true when this session started the cluster (``local``)
    and so stops it at the end."""

    spec: ClusterSpec
    ray: ModuleType
    started: bool = False
    _local: Any = field(default=None, repr=False)
    _folders: dict[Path, bool] = field(default_factory=dict, repr=False)  # folder -> the workers read its files
    _folders_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def resources(self) -> dict[str, float]:
        """Ray's totals over the live nodes, e.g. ``{"CPU": 24.0, "GPU": 3.0, ...}``."""
        return {key: float(value) for key, value in self.ray.cluster_resources().items()}

    @property
    def cpus(self) -> int:
        return int(self.resources().get("CPU", 0))

    @property
    def gpus(self) -> int:
        return int(self.resources().get("GPU", 0))

    def describe(self) -> str:
        """What the Jobs panel and the CLI show: ``"running on 12 Ray workers, 3 GPUs"``."""
        cpus, gpus = self.cpus, self.gpus
        workers = f"{cpus} Ray worker{'s' if cpus != 1 else ''}"
        return f"running on {workers}, {gpus} GPU{'s' if gpus != 1 else ''} ({self.spec})"

    def headline(self) -> str:
        """:meth:`describe` as a job's first message: ``"Running on 12 Ray workers, 3 GPUs"``."""
        where = self.describe()
        return where[:1].upper() + where[1:]

    def sees_file(self, path: Path, sha256: str) -> bool:
        """Whether a worker can read ``path`` with the same content (checked by its sha256, not assumed from the
        path): then tasks may be sent paths on that shared storage instead of the bytes."""
        ref = self.ray.remote(_file_sha256).options(num_cpus=0, max_retries=1).remote(str(path))
        try:
            return bool(self.ray.get(ref, timeout=60) == sha256)
        except Exception as error:  # noqa: BLE001 - any failure means "not visible"; the bytes are sent instead
            log.info("the cluster's workers cannot read %s (%s); sending image bytes", path, error)
            return False

    def reads_folder_of(self, path: Path, sha256: str) -> bool:
        """Whether a task may name ``path`` instead of carrying its bytes. The first file asked about in a folder is
        checked (:meth:`sees_file`) and decides for the folder, as shared storage is mounted per folder, not per
        file; every job of the session (index, render, export) asks this, for each picture and style file. Past
        :data:`MAX_CHECKED_FOLDERS` folders, the bytes are sent."""
        folder = path.parent
        with self._folders_lock:
            known = self._folders.get(folder)
            if known is None and len(self._folders) >= MAX_CHECKED_FOLDERS:
                return False
        if known is None:
            known = self.sees_file(path, sha256)
            with self._folders_lock:
                self._folders[folder] = known
            log.info("the cluster's workers %s %s", "read the files in" if known else
                     "are sent the bytes of the files in", folder)  # fmt: skip
        return known

    def file_check(self, send: str) -> Callable[[Path, str], bool]:
        """What a job asks before naming a file in a task instead of its bytes: :meth:`reads_folder_of` for
        ``send="auto"``; ``send="bytes"`` sends every file's bytes."""
        return _never_reads if send == "bytes" else self.reads_folder_of

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()
            if self._local is not None:
                self._local.shutdown()


def _never_reads(_path: Path, _sha256: str) -> bool:
    return False


def _file_sha256(path: str) -> str | None:
    """Run on a worker: the file's sha256, or None when it cannot be read there."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _start_local(ray: ModuleType, workers: int) -> Any:
    """A head that runs no tasks plus ``workers`` worker nodes of one CPU each, all on this machine."""
    from ray.cluster_utils import Cluster

    # The raylets (and so the workers) inherit this environment: put this package first so they run this code.
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(_PACKAGE_ROOT), *([old] if old else [])])
    try:
        with _sigterm_hooks_only_on_main_thread(ray):
            local = Cluster(
                initialize_head=True,
                head_node_args={"num_cpus": 0, "object_store_memory": LOCAL_OBJECT_STORE_BYTES},
            )
            for _ in range(workers):
                local.add_node(num_cpus=1, object_store_memory=LOCAL_OBJECT_STORE_BYTES)
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    return local


@contextmanager
def _sigterm_hooks_only_on_main_thread(ray: ModuleType) -> Iterator[None]:
    """Let a job on a worker thread (the GUI's) start a local cluster: each node Ray starts installs a SIGTERM
    handler, which Python allows only on the main thread ("signal only works in main thread"). Off it, skip that
    one handler; the nodes are still stopped by :meth:`ClusterSession.close` and by Ray's own exit hook."""
    if threading.current_thread() is threading.main_thread():
        yield
        return
    utils = ray._private.utils
    original = utils.set_sigterm_handler
    utils.set_sigterm_handler = lambda handler: None
    try:
        yield
    finally:
        utils.set_sigterm_handler = original


#: The cluster this process opened and how many jobs use it: a second job (the GUI runs an index and an export at
#: once) joins it, and the last one to end closes it, so no job loses its connection under it.
_shared_lock = threading.Lock()
_shared: ClusterSession | None = None
_shared_users = 0


@contextmanager
def open_cluster(spec: ClusterSpec) -> Iterator[ClusterSession]:
    """Connect to (or, for ``local[N]``, start) the cluster, and disconnect (stop) at the end, also on cancel.

    A second job in this process while the first runs joins the same cluster (it must name the same one: a
    :class:`UserError` otherwise) and the cluster is closed when the last of them ends. A Ray this module did not
    start (initialised by the caller) is used as it is and left open. Raises :class:`UserError` when Ray is missing
    or the cluster cannot be reached.
    """
    global _shared, _shared_users
    ray = ray_module()
    with _shared_lock:
        if _shared is not None:
            if _shared.spec != spec:
                raise UserError(f"Another job is running on the Ray cluster {_shared.spec}; this one asks for "
                                f"{spec}. Wait for it to finish, or run this job on the same cluster.")  # fmt: skip
            _shared_users += 1
            session = _shared
        elif ray.is_initialized():
            session = ClusterSession(spec, ray, started=False)
        else:
            session = _connect(ray, spec)
            _shared, _shared_users = session, 1
    try:
        yield session
    finally:
        if session.started:
            with _shared_lock:
                _shared_users -= 1
                if _shared_users == 0:
                    _shared = None
                    session.close()


def _connect(ray: ModuleType, spec: ClusterSpec) -> ClusterSession:
    local = None
    try:
        if spec.kind == "local":
            local = _start_local(ray, spec.workers)
            ray.init(address=local.address, log_to_driver=False, logging_level=logging.WARNING)
        elif spec.kind == "address":
            # A remote cluster gets this package shipped with the job; the weights packages must be installed there.
            package = str(_PACKAGE_ROOT / "stylerec_desktop")
            ray.init(address=spec.address, runtime_env={"py_modules": [package]}, log_to_driver=False,
                     logging_level=logging.WARNING)  # fmt: skip
        else:
            ray.init(address="auto", log_to_driver=False, logging_level=logging.WARNING)
    except UserError:
        raise
    except Exception as error:  # ConnectionError, RuntimeError, ...: Ray's own messages are precise
        if local is not None:
            local.shutdown()
        raise UserError(f"Could not reach the Ray cluster {spec} ({error}). Check that it is running (`ray status` "
                        "on the head node) and that this machine can reach it, or leave --cluster out to run "
                        "here.") from error  # fmt: skip
    _ray_messages_to_the_log()
    session = ClusterSession(spec, ray, started=True, _local=local)
    log.info("connected to the Ray cluster %s: %s", spec, session.describe())
    return session


def _ray_messages_to_the_log() -> None:
    """Send the error messages Ray's driver prints to stdout from a thread of its own ("A worker died or was killed
    while executing a task ...", then retried) to this log instead: on stdout they would break a command's --json.
    Ray offers no setting for it, so its printing function is wrapped (left as it is if a Ray version lacks it)."""
    from ray._private import worker

    printer = getattr(worker, "print_to_stdstream", None)
    if printer is None or getattr(printer, "to_the_log", False):
        return

    def to_the_log(data: dict[str, Any], ignore_prefix: bool) -> None:
        if data.get("pid") != "raylet":
            printer(data, ignore_prefix)
            return
        for line in data.get("lines", ()):
            log.warning("Ray: %s", str(line).strip())

    to_the_log.to_the_log = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = to_the_log


def run_tasks(
    cluster: ClusterSession,
    function: Callable[[P], R],
    payloads: Sequence[P],
    *,
    window: int | None = None,
    retries: int = 3,
    num_cpus: float = 1,
    num_gpus: float = 0,
) -> Generator[tuple[int, R], None, None]:
    """Run ``function(payload)`` for every payload on the cluster; yield ``(position, result)`` as tasks finish.

    At most ``window`` tasks are in flight (default: twice the cluster's CPUs), so a million payloads do not all
    sit in the object store. Each position is yielded exactly once. A task whose worker dies is retried up to
    ``retries`` times, then a :class:`UserError` names the payload's position; an exception raised by ``function``
    comes back as itself (not retried: it would fail again). Closing the iterator (a cancelled job) cancels the
    tasks still running.
    """
    ray = cluster.ray
    from ray import exceptions

    window = window or max(2, 2 * cluster.cpus)
    remote = ray.remote(function).options(max_retries=retries, retry_exceptions=False, num_cpus=num_cpus,
                                          num_gpus=num_gpus)  # fmt: skip
    pending: dict[Any, int] = {}
    submitted = 0
    try:
        while submitted < len(payloads) or pending:
            while submitted < len(payloads) and len(pending) < window:
                pending[remote.remote(payloads[submitted])] = submitted
                submitted += 1
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                position = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except exceptions.RayTaskError as error:
                    raise error.as_instanceof_cause() from None
                except (exceptions.WorkerCrashedError, exceptions.NodeDiedError,
                        exceptions.RaySystemError) as error:  # fmt: skip
                    raise UserError(f"A Ray worker died {retries + 1} times running task {position + 1} of "
                                    f"{len(payloads)} ({type(error).__name__}); what finished before is kept. "
                                    "Check the cluster's workers (`ray status`) and run it again: it resumes.") \
                        from error  # fmt: skip
                yield position, result
    finally:
        for ref in pending:
            ray.cancel(ref)
