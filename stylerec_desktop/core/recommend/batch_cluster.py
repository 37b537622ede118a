"""Batch recommendations on a Ray cluster: ``stylerec recommend --all --cluster ...``.

The workstation stays the only reader of the catalog. It loads the style index once (the same cached load as the
single-machine batch), resolves the ranking settings and the learned model once, and puts all of that into Ray's
object store once (:class:`RankingInputs`); every task then gets a reference to it plus a chunk of customers with
their history already read here (:class:`CustomerHistory`: a customer's events are a few hundred bytes, the catalog
stays on the workstation). A task builds each customer's taste, ranks and explains with
:func:`.service.recommend_for_taste` (the very code ``recommend`` runs) and returns :class:`BatchLine` s: the object
``recommend --json`` prints, or the CSV rows. The workstation writes them in the customers' order into the file
(atomically, as the single-machine batch does), so the file is identical to a single-machine run's.

Why chunks: one task per customer costs Ray's per-task overhead (a few ms) against a ranking of 10-50 ms; a chunk
of up to :data:`MAX_CHUNK` customers makes that small while leaving several tasks per worker for balance and
progress.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.cluster import ClusterSpec, open_cluster, run_tasks
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export.writers import atomic_file
from stylerec_desktop.core.jobs import Job, Progress, Throttle
from stylerec_desktop.core.recommend.batch import (
    CSV_COLUMNS,
    BatchReport,
    checked_batch_request,
    csv_rows,
    recommendations_json,
)
from stylerec_desktop.core.recommend.controls import Filters, RankingWeights
from stylerec_desktop.core.recommend.service import (
    INDEX_CACHE,
    LEARNED_CACHE,
    IndexCache,
    ranking_for,
    recommend_for_taste,
)
from stylerec_desktop.core.recommend.taste import TasteEvent, TasteSettings, customer_taste

if TYPE_CHECKING:
    from stylerec_desktop.core.recommend.index import StyleIndex
    from stylerec_desktop.core.recommend.learned import LearnedModel

#: Most customers in one task (see the module docstring).
MAX_CHUNK = 32


@dataclass(frozen=True)
class RankingInputs:
    """Everything a worker needs besides the customers, shipped once per batch: the index, the learned model (None
    when the catalog has none), the resolved weights and taste settings, and the request's options. ``fmt`` is
    ``"jsonl"`` or ``"csv"``: which record each :class:`BatchLine` carries."""

    index: StyleIndex
    learned: LearnedModel | None
    weights: RankingWeights
    settings: TasteSettings
    filters: Filters | None
    k: int
    diversity: float
    fmt: str


@dataclass(frozen=True)
class CustomerHistory:
    """One customer as the workstation read them: their own id, the catalog's internal id, and their events
    ``(product_id, kind, ts, quantity)``, newest first (``Catalog.events_of_customers``: the order of
    ``customer_history``, which the single-machine path reads, so tastes sum in the same order)."""

    customer_id: str
    internal_id: int
    events: list[TasteEvent]


@dataclass(frozen=True)
class BatchLine:
    """What a task returns per customer: ``record`` is the ``recommend --json`` object (``fmt`` ``"jsonl"``) or the
    customer's CSV rows (``"csv"``); ``no_history`` and ``empty`` feed the batch's report."""

    no_history: bool
    empty: bool
    record: Any


# One worker process runs many chunks of one batch: it deserialises the shared inputs (the index: megabytes to a
# gigabyte) once and keeps them for the next chunk, keyed by the object's id; a new batch replaces them.
_WORKER_INPUTS: dict[str, RankingInputs] = {}


def _inputs_on_worker(ref: Any) -> RankingInputs:
    key = ref.hex()
    inputs = _WORKER_INPUTS.get(key)
    if inputs is None:
        import ray

        inputs = ray.get(ref)
        _WORKER_INPUTS.clear()
        _WORKER_INPUTS[key] = inputs
    return inputs


def rank_chunk(payload: tuple[Any, list[CustomerHistory]]) -> list[BatchLine]:
    """Run on a Ray worker: ``payload`` is (the reference to the batch's :class:`RankingInputs`, a chunk of
    customers); returns one :class:`BatchLine` per customer, in the chunk's order."""
    ref, customers = payload
    return rank_customers(_inputs_on_worker(ref), customers)


def rank_customers(inputs: RankingInputs, customers: Sequence[CustomerHistory]) -> list[BatchLine]:
    """Rank and explain for each of ``customers`` with ``inputs``, exactly as ``recommend`` does for one."""
    lines = []
    for customer in customers:
        taste = customer_taste(inputs.index, customer.customer_id, customer.events, customer.internal_id,
                               inputs.settings)  # fmt: skip
        result = recommend_for_taste(inputs.index, taste, inputs.k, inputs.filters, inputs.weights, inputs.diversity,
                                     inputs.learned)  # fmt: skip
        record = recommendations_json(result) if inputs.fmt == "jsonl" else csv_rows(result)
        lines.append(BatchLine(taste.is_empty, not result.items, record))
    return lines


class _Chunks(Sequence[tuple[Any, list[CustomerHistory]]]):
    """The tasks' payloads, made when :func:`.run_tasks` submits each one: a chunk's histories are read from the
    catalog just in time (on the job's thread, which owns the catalog connection), so a million customers never
    sit in memory at once and the first tasks start at once."""

    def __init__(self, catalog: Catalog, ref: Any, customer_ids: Sequence[str], size: int) -> None:
        self._catalog = catalog
        self._ref = ref
        self._ids = customer_ids
        self.size = size

    def __len__(self) -> int:
        return math.ceil(len(self._ids) / self.size)

    @overload
    def __getitem__(self, position: int) -> tuple[Any, list[CustomerHistory]]: ...
    @overload
    def __getitem__(self, position: slice) -> Sequence[tuple[Any, list[CustomerHistory]]]: ...

    def __getitem__(self, position: int | slice) -> Any:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        if not 0 <= position < len(self):
            raise IndexError(position)
        ids = self._ids[position * self.size : (position + 1) * self.size]
        events = self._catalog.events_of_customers(ids)
        missing = [c for c in ids if c not in events]
        if missing:
            raise UserError(f"Customer {missing[0]!r} is no longer in this catalog (removed while the batch ran): "
                            "run the batch again.")  # fmt: skip
        return self._ref, [CustomerHistory(c, *events[c]) for c in ids]


def chunk_size(customers: int, cpus: int) -> int:
    """Customers per task: about four tasks per CPU of the cluster, at most :data:`MAX_CHUNK`, at least 1."""
    return max(1, min(MAX_CHUNK, math.ceil(customers / max(1, 4 * cpus))))


def recommend_batch_on_cluster(
    catalog: Catalog,
    customer_ids: Sequence[str],
    out: Path,
    cluster: ClusterSpec,
    k: int = 10,
    filters: Filters | None = None,
    weights: RankingWeights | None = None,
    diversity: float = 0.0,
    settings: TasteSettings | None = None,
    cache: IndexCache = INDEX_CACHE,
) -> Job[BatchReport]:
    """:func:`.batch.recommend_batch` with the ranking done by Ray tasks on ``cluster``; same file, same report.

    A job: it says it is starting or connecting, then, connected, the cluster's :meth:`~.ClusterSession.describe`
    ("Running on 2 Ray workers, 0 GPUs (local[2])"), which every later message repeats; one unit per customer.
    The report's ``index_seconds`` includes putting the index into the object store. Closing it (cancel) cancels
    the tasks in flight, removes the partly written file and, for ``local[N]``, stops the cluster it started. Drive
    it from one thread (the catalog connection that reads the histories belongs to it).
    """
    out = Path(out)
    fmt = checked_batch_request(out, customer_ids, k)
    if not catalog.has_image_features():  # said before a cluster is started for nothing
        raise UserError("No product images are indexed yet: run `stylerec index` first.")
    total = len(customer_ids)
    started = time.perf_counter()
    yield Progress(0, total, f"Starting the Ray cluster {cluster}" if cluster.kind == "local"
                   else f"Connecting to the Ray cluster {cluster}")  # fmt: skip
    with open_cluster(cluster) as session:
        where = session.describe()
        yield Progress(0, total, session.headline())
        index_started = time.perf_counter()
        yield Progress(0, total, f"Loading the style index, {where}")
        index = cache.get(catalog)
        weights, settings = ranking_for(catalog, weights, settings)
        inputs = RankingInputs(index, LEARNED_CACHE.get(catalog), weights, settings, filters, k, diversity, fmt)
        ref = session.ray.put(inputs)
        index_seconds = time.perf_counter() - index_started
        chunks = _Chunks(catalog, ref, customer_ids, chunk_size(total, session.cpus))
        # Closing the task stream cancels the tasks still in flight.
        tasks = run_tasks(session, rank_chunk, chunks)
        with atomic_file(out) as stream, contextlib.closing(tasks):
            tally = yield from _write_in_order(stream, fmt, tasks, total, where)
            yield Progress(total, total, f"Writing the file, {where}")
    return BatchReport(
        path=out, format=fmt, customers=total, no_history=tally[0], empty=tally[1],
        seconds=time.perf_counter() - started, index_seconds=index_seconds,
    )  # fmt: skip


def _write_in_order(
    stream: Any, fmt: str, tasks: Iterator[tuple[int, list[BatchLine]]], total: int, where: str
) -> Generator[Progress, None, tuple[int, int]]:
    """Write each chunk's lines once every chunk before it is written (tasks finish in any order); progress counts
    the customers ranked so far, written or waiting for an earlier chunk. Returns ``(no_history, empty)`` counts."""
    waiting: dict[int, list[BatchLine]] = {}
    next_chunk = ranked = no_history = empty = 0
    throttle = Throttle()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if fmt == "csv":
        writer.writerow(CSV_COLUMNS)
    for position, lines in tasks:
        waiting[position] = lines
        ranked += len(lines)
        while next_chunk in waiting:
            for line in waiting.pop(next_chunk):
                no_history += line.no_history
                empty += line.empty
                if fmt == "jsonl":
                    buffer.write(json.dumps(line.record, ensure_ascii=False) + "\n")
                else:
                    writer.writerows(line.record)
            stream.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
            next_chunk += 1
        if throttle.ready():
            yield Progress(ranked, total, f"Recommended for {ranked} of {total} customers, {where}")
    return no_history, empty
