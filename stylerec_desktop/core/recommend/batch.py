"""Batch recommendations: one explained list per customer for many customers, written to one file for CRM and
ad-team hand-offs.

The style index is loaded once and every customer goes through :func:`.service.recommend_in_index`, the code a
single ``stylerec recommend`` runs after its own index load, so the two never rank differently. The file is written
under a temporary name and renamed into place at the end: a cancelled or failed batch leaves no file (and an older
file of the same name as it was).

Formats, chosen by the output's suffix:

- JSON Lines (``.jsonl`` / ``.ndjson``): one object per customer, the same object as ``stylerec recommend --json``
  (:func:`recommendations_json`).
- CSV (``.csv``): one row per (customer, rank): ``customer_id, rank, sku, title, score, because, no_history``; a
  customer for whom no product passes the filters has no row.

Customers without history (none of their events is about an indexed product) get what ``recommend`` gives them,
the popular products, with ``no_history`` true.

Customers are ranked on a few worker threads (:func:`batch_workers`), each with its own catalog connection, with
numpy's BLAS limited to one thread meanwhile, and written in the order given. Ranking is numpy and torch work that
releases the GIL between Python steps, so threads overlap; on the shared 2-core development machine the gain was lost
in the other sessions' load (paired runs from 0.3x to 1.9x, see BENCHMARKS.md), so it is not yet established there.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export.writers import atomic_file
from stylerec_desktop.core.jobs import Job, Progress, Throttle
from stylerec_desktop.core.recommend.controls import Filters, RankingWeights
from stylerec_desktop.core.recommend.evaluate import one_blas_thread
from stylerec_desktop.core.recommend.service import (
    INDEX_CACHE,
    CustomerRecommendations,
    IndexCache,
    ranking_for,
    recommend_in_index,
)
from stylerec_desktop.core.recommend.taste import TasteSettings

JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_COLUMNS = ("customer_id", "rank", "sku", "title", "score", "because", "no_history")
_UNKNOWN_SHOWN = 5  # unknown ids named in the error; the rest are counted
_AHEAD = 64  # results the workers may hold ahead of the writer


def batch_workers() -> int:
    """Threads that rank customers at once: one per core, at most 4 (beyond that the index's memory bandwidth,
    not the cores, is the limit)."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class BatchReport:
    """What a batch wrote: ``customers`` lists in ``path`` (``format`` ``"jsonl"`` or ``"csv"``), of which
    ``no_history`` for customers with no usable history and ``empty`` with no product passing the filters;
    ``seconds`` of wall time, ``index_seconds`` of it spent loading the index."""

    path: Path
    format: str
    customers: int
    no_history: int
    empty: int
    seconds: float
    index_seconds: float

    def summary(self) -> str:
        rate = self.customers / self.seconds if self.seconds > 0 else 0.0
        extra = f", {self.no_history} without history (given popular products)" if self.no_history else ""
        extra += f", {self.empty} with no product passing the filters" if self.empty else ""
        return (
            f"Wrote recommendations for {self.customers} customers{extra} to {self.path} "
            f"in {self.seconds:.1f} s ({rate:.0f} customers/s; loading the index {self.index_seconds:.1f} s)."
        )


def output_format(path: Path) -> str:
    """``"jsonl"`` or ``"csv"`` from the file's suffix; :class:`UserError` for any other."""
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise UserError(
        f"Cannot tell the format of {path.name}: name the output file .jsonl (one JSON object per customer) "
        "or .csv (one row per recommendation)."
    )


def read_customer_ids(path: Path) -> list[str]:
    """The customer ids listed in ``path``: one per line, or a CSV file with a ``customer_id`` column (a CRM
    export); blank lines are skipped and repeats kept once, in the file's order. :class:`UserError` for a missing,
    unreadable or empty file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"The customers file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"Cannot read the customers file {path} ({exc}); give UTF-8 text, one id per line.") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise UserError(f"The customers file {path} lists no customer: give one customer id per line.")
    header = [cell.strip().lower() for cell in next(csv.reader([lines[0]]))]
    if "customer_id" in header:
        column = header.index("customer_id")
        ids = [row[column].strip() for row in csv.reader(lines[1:]) if len(row) > column and row[column].strip()]
    else:
        ids = [line.strip() for line in lines]
    if not ids:
        raise UserError(f"The customers file {path} has a customer_id column but no id under it.")
    return list(dict.fromkeys(ids))


def checked_customer_ids(catalog: Catalog, customer_ids: Sequence[str], source: str) -> list[str]:
    """``customer_ids`` if every one is a customer of ``catalog``; else :class:`UserError` naming the unknown ones
    (``source`` says where they came from, e.g. the file)."""
    known = catalog.customer_ids_by_external(customer_ids)
    unknown = [c for c in customer_ids if c not in known]
    if unknown:
        named = ", ".join(repr(c) for c in unknown[:_UNKNOWN_SHOWN])
        more = f" and {len(unknown) - _UNKNOWN_SHOWN} more" if len(unknown) > _UNKNOWN_SHOWN else ""
        ids_are = "customer ids in" if len(unknown) != 1 else "customer id in"
        raise UserError(
            f"{len(unknown)} {ids_are} {source} {'are' if len(unknown) != 1 else 'is'} not in this catalog: "
            f"{named}{more}. Fix the list or import those customers; nothing was written."
        )
    return list(customer_ids)


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def recommendations_json(result: CustomerRecommendations) -> dict[str, Any]:
    """One customer's explained recommendations as the JSON object of ``stylerec recommend --json`` (only JSON
    types: dates as ISO-8601 UTC text with ``Z``)."""
    taste = result.taste
    return {
        "customer": taste.customer_id,
        "no_history": taste.is_empty,
        "tastes": [{"share": t.share, "items": [taste.items[i].sku for i in t.members]} for t in taste.tastes],
        "items": [
            {
                "sku": rec.sku,
                "title": rec.title,
                "score": rec.score,
                "components": rec.components,
                "because": [
                    {
                        "sku": b.sku,
                        "title": b.title,
                        "kind": b.kind,
                        "date": _iso(b.ts),
                        "reasons": list(b.reasons),
                        "similarity": b.similarity,
                        "text": b.sentence(),
                    }
                    for b in why.because
                ],
                "palette_overlap": why.palette_overlap,
                "shared_colours": [asdict(c) for c in why.shared_colours],
                "taste": rec.taste,
                "cold_start": rec.cold_start,
            }
            for rec, why in result.items
        ],
    }


def csv_rows(result: CustomerRecommendations) -> list[list[object]]:
    """One customer's rows of the CSV format (see the module docstring), without the header."""
    no_history = "true" if result.taste.is_empty else "false"
    return [
        [result.taste.customer_id, rank, rec.sku, rec.title, f"{rec.score:.6f}", why.summary(), no_history]
        for rank, (rec, why) in enumerate(result.items, start=1)
    ]


class _InOrder:
    """``rank(id)`` for each of ``customer_ids``, yielded by :meth:`results` in their order, computed on ``workers``
    threads (at most :data:`_AHEAD` results ahead of the consumer). An error is raised when its customer's turn
    comes. Closing the generator stops the workers after the customers they are on; each worker closes its own
    catalog connection."""

    def __init__(
        self, catalog: Catalog, customer_ids: Sequence[str], rank: Callable[[str], CustomerRecommendations],
        workers: int,
    ) -> None:  # fmt: skip
        self._catalog = catalog
        self._ids = customer_ids
        self._rank = rank
        self._workers = workers
        self._results: dict[int, CustomerRecommendations | BaseException] = {}
        self._turn = 0  # the position the consumer waits for next
        self._claimed = 0  # the next position a worker takes
        self._stop = False
        self._ready = threading.Condition()

    def results(self) -> Generator[CustomerRecommendations, None, None]:
        if self._workers <= 1:
            for customer_id in self._ids:
                yield self._rank(customer_id)
            return
        threads = [threading.Thread(target=self._work, name=f"batch-recommend-{i}", daemon=True)
                   for i in range(self._workers)]  # fmt: skip
        for thread in threads:
            thread.start()
        try:
            for position in range(len(self._ids)):
                with self._ready:
                    while position not in self._results:
                        self._ready.wait()
                    result = self._results.pop(position)
                    self._turn = position + 1
                    self._ready.notify_all()
                if isinstance(result, BaseException):
                    raise result
                yield result
        finally:
            with self._ready:
                self._stop = True
                self._ready.notify_all()
            for thread in threads:
                thread.join()

    def _claim(self) -> int | None:
        """The next position to rank, once it is within reach of the consumer; None when there is no more work."""
        with self._ready:
            while not (self._stop or self._claimed >= len(self._ids) or self._claimed < self._turn + _AHEAD):
                self._ready.wait()
            if self._stop or self._claimed >= len(self._ids):
                return None
            self._claimed += 1
            return self._claimed - 1

    def _work(self) -> None:
        try:
            while (position := self._claim()) is not None:
                try:
                    result: CustomerRecommendations | BaseException = self._rank(self._ids[position])
                except BaseException as error:  # handed to the consumer, raised there in order
                    result = error
                with self._ready:
                    self._results[position] = result
                    self._ready.notify_all()
        finally:
            self._catalog.close_thread_connection()


def checked_batch_request(out: Path, customer_ids: Sequence[str], k: int) -> str:
    """The output format of ``out`` (:func:`output_format`), after checking what a batch needs before it starts
    (on this machine or a cluster): the folder exists, there are customers, ``k`` >= 1. Raises :class:`UserError`."""
    fmt = output_format(out)
    if not out.parent.is_dir():
        raise UserError(f"The folder {out.parent} does not exist: create it or write the file elsewhere.")
    if not customer_ids:
        raise UserError("No customers to recommend to: the catalog has none, or the list is empty.")
    if k < 1:
        raise UserError(f"k must be at least 1, got {k}.")
    return fmt


def recommend_batch(
    catalog: Catalog,
    customer_ids: Sequence[str],
    out: Path,
    k: int = 10,
    filters: Filters | None = None,
    weights: RankingWeights | None = None,
    diversity: float = 0.0,
    settings: TasteSettings | None = None,
    cache: IndexCache = INDEX_CACHE,
    workers: int | None = None,
) -> Job[BatchReport]:
    """Recommend ``k`` products to each of ``customer_ids`` (all known to ``catalog``: see
    :func:`checked_customer_ids`) and write them to ``out`` (format by suffix, see the module docstring), ranking
    on ``workers`` threads (default :func:`batch_workers`).

    A job: yields :class:`Progress` (one unit per customer) and returns a :class:`BatchReport`. Closing it
    (cancel) or an error removes the partly written file. Drive it from one thread: the catalog connection it loads
    the index with belongs to that thread (the workers open, and close, their own).
    """
    out = Path(out)
    fmt = checked_batch_request(out, customer_ids, k)
    total = len(customer_ids)
    started = time.perf_counter()
    yield Progress(0, total, "Loading the style index")
    index = cache.get(catalog)
    weights, settings = ranking_for(catalog, weights, settings)  # read once, not once per customer
    index_seconds = time.perf_counter() - started
    throttle = Throttle()
    no_history = empty = 0

    def rank(customer_id: str) -> CustomerRecommendations:
        return recommend_in_index(
            catalog, index, customer_id, k=k, filters=filters, weights=weights, diversity=diversity, settings=settings
        )

    ranked = _InOrder(catalog, customer_ids, rank, batch_workers() if workers is None else workers).results()
    # numpy's BLAS on one thread while the workers rank: the workers are the parallelism, and BLAS threads on top of
    # them oversubscribed the cores (paired runs at load ~7 on the 2-core machine: 65 s -> 46 s, 75 s -> 38 s).
    # The limit is process-wide for as long as the batch runs; only the CLI runs batches.
    with atomic_file(out) as stream, contextlib.closing(ranked), one_blas_thread():
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
        for done, result in enumerate(ranked, start=1):
            no_history += result.taste.is_empty
            empty += not result.items
            if fmt == "jsonl":
                stream.write(json.dumps(recommendations_json(result), ensure_ascii=False).encode("utf-8") + b"\n")
            else:
                writer.writerows(csv_rows(result))
                stream.write(buffer.getvalue().encode("utf-8"))
                buffer.seek(0)
                buffer.truncate()
            if throttle.ready():
                yield Progress(done, total, f"Recommended for {done} of {total} customers")
        yield Progress(total, total, "Writing the file")
    return BatchReport(
        path=out, format=fmt, customers=total, no_history=no_history, empty=empty,
        seconds=time.perf_counter() - started, index_seconds=index_seconds,
    )  # fmt: skip
