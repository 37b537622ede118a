"""The export's framing and encoding on a Ray cluster (``stylerec export --cluster``).

The workstation does what decides *which* files to make and writes every one of them: it plans the names, checks
which files a previous run finished (skipped, as on one machine), and for each item with files still to make sends
a Ray task the item (its planned files, presets and provenance) with the picture's bytes, or only its path when the
cluster is checked to see this machine's files (``ClusterSession.sees_file``; each worker then checks the file's
sha256). A worker (:func:`export_item_task`) loads, masks, frames and encodes with the same code as the export's
threads (``job._encode_files``) and returns the files' bytes with their manifest rows; the workstation writes each
file atomically and notes it in the journal, once per item even when Ray re-ran a task whose worker died. So an
export on a cluster leaves the same bytes, manifest and journal as one on this machine, and resumes the same way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from stylerec_desktop.core.cluster import ClusterSpec, open_cluster, run_tasks
from stylerec_desktop.core.export.job import (
    ExportFailure,
    ExportOptions,
    ManifestRow,
    _check_item,
    _encode_files,
    _in_preset_order,
    _ItemOutcome,
    _ItemTask,
    _PlannedFile,
    _write_file,
)
from stylerec_desktop.core.jobs import Job, Progress

#: An item still to make: its task, the files to make with their input keys, and its picture file's SHA-256.
_Work = tuple[_ItemTask, list[tuple[_PlannedFile, str]], str]


@dataclass(frozen=True)
class ExportTask:
    """What travels to a worker: the item (its image a path, only naming the picture, or a PIL image: a render in
    memory), the files still to make with their input keys, the export's options, and the picture file's bytes
    (None: a PIL image, or a path on storage the cluster sees, then checked against ``sha256``)."""

    task: _ItemTask
    todo: tuple[tuple[_PlannedFile, str], ...]
    options: ExportOptions
    data: bytes | None
    sha256: str = ""


@dataclass(frozen=True)
class ExportedItem:
    """What a worker returns: the files' ``(relative path, bytes)``, their manifest rows, the warnings, and why the
    item failed (None: it did not)."""

    files: tuple[tuple[str, bytes], ...]
    rows: tuple[ManifestRow, ...]
    warnings: tuple[str, ...]
    failure: ExportFailure | None


def export_item_task(payload: ExportTask) -> ExportedItem:
    """Frame and encode one item's files on a cluster worker (module-level: Ray ships it by reference)."""
    task, data = payload.task, payload.data
    source = task.item.image if isinstance(task.item.image, Image.Image) else Path(str(task.item.image))
    if data is None and isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as exc:
            failure = ExportFailure(task.item.sku, f"The image {source} cannot be read ({exc.strerror or exc}).")
            return ExportedItem((), (), (), failure)
        if hashlib.sha256(data).hexdigest() != payload.sha256:
            failure = ExportFailure(task.item.sku, f"The image {source} changed while it was being exported; export "
                                    "again.")  # fmt: skip
            return ExportedItem((), (), (), failure)
    outcome = _ItemOutcome(task.index, [])
    # A worker is never stopped between files: a cancelled export cancels its Ray tasks instead.
    files = tuple(_encode_files(task, source, payload.todo, payload.options, outcome, threading.Event(), data))
    return ExportedItem(files, tuple(outcome.rows), tuple(outcome.warnings), outcome.failure)


class _Payloads(Sequence[ExportTask]):
    """The tasks, each picture read from disk only when its task is submitted (not all held in memory)."""

    def __init__(self, work: Sequence[_Work], options: ExportOptions, reads: Callable[[Path, str], bool]) -> None:
        self.work, self.options, self.reads = work, options, reads  # reads(path, sha256): the workers read it

    def __len__(self) -> int:
        return len(self.work)

    def __getitem__(self, index: int) -> ExportTask:  # type: ignore[override]
        task, todo, sha256 = self.work[index]
        data = None
        if not isinstance(task.item.image, Image.Image) and not self.reads(Path(str(task.item.image)), sha256):
            # Gone since it was hashed: the worker then tries the path and reports it as one machine would.
            with contextlib.suppress(OSError):
                data = Path(str(task.item.image)).read_bytes()
        return ExportTask(task, tuple(todo), self.options, data, sha256)


def export_on_cluster_job(
    cluster: ClusterSpec,
    tasks: Sequence[_ItemTask],
    presets: int,
    out_dir: Path,
    options: ExportOptions,
    previous: Mapping[str, ManifestRow],
    record: Callable[[_ItemOutcome], None],
    send: str = "auto",
) -> Job[None]:
    """The export loop of ``job.export_job`` on ``cluster``: ``record(outcome)`` (which keeps it and writes the
    journal) runs here once per item, after its files are written. Yields ``Progress(0, n, "... running on ...")``
    first, then one step per finished item. ``send``: ``"auto"`` (paths when the cluster sees this machine's
    files) or ``"bytes"``. Closing it (cancel) cancels the tasks still running; the files written stay."""
    total = len(tasks)
    work: list[_Work] = []
    checked: dict[int, _ItemOutcome] = {}
    for task in tasks:
        outcome, todo, _, sha256 = _check_item(task, out_dir, options, previous)
        checked[task.index] = outcome
        if outcome.failure is None and todo:
            work.append((task, todo, sha256))
    with open_cluster(cluster) as session:
        yield Progress(0, total, f"Exporting {total} items x {presets} presets {session.describe()}")
        sent = {task.index for task, _, _ in work}
        done = 0
        for task in tasks:  # nothing to make (all finished before, or unreadable): recorded at once
            if task.index not in sent:
                record(_in_preset_order(checked[task.index], task))
                done += 1
        payloads = _Payloads(work, options, session.file_check(send))
        with closing(run_tasks(session, export_item_task, payloads)) as stream:
            for position, exported in stream:
                task = work[position][0]
                outcome = checked[task.index]
                for path, data in exported.files:
                    _write_file(out_dir, path, data)
                outcome = dataclasses.replace(
                    outcome, rows=[*outcome.rows, *exported.rows], written=len(exported.rows),
                    warnings=[*outcome.warnings, *exported.warnings], failure=exported.failure,
                )  # fmt: skip
                record(_in_preset_order(outcome, task))
                done += 1
                yield Progress(done, total, f"Exported {done} of {total} items")
