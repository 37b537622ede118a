"""Long-running work as plain generators.

A job is a generator that yields :class:`Progress` between steps and returns its result. It never touches Qt:
the GUI runs it on a worker thread through one adapter, the CLI and the tests drive it with :func:`run_job`.
Cancelling means the driver stops asking for the next step and closes the generator; the ``GeneratorExit`` then
unwinds through the job's ``with`` blocks, so a transaction open at that point rolls back.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeVar

from stylerec_desktop.core.errors import UserError

R = TypeVar("R")


@dataclass(frozen=True)
class Progress:
    """One step of a job: ``done`` out of ``total`` units (``total`` None when unknown)."""

    done: int
    total: int | None
    message: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))


Job = Generator[Progress, None, R]


def logged_outcome(job: Job[R], logger: logging.Logger, what: str, summary: Callable[[R], str]) -> Job[R]:
    """Run ``job`` unchanged and log how it ended, for someone reading the log later: INFO ``"<what> finished in
    1.2 s: <summary(result)>"``, INFO ``"<what> cancelled after 0.4 s"`` when it is closed early, and
    ``"<what> failed after 0.1 s: <error>"`` when it raises (the error still propagates): INFO for an error the
    user can act on (a UserError, a full disk, a locked or read-only catalog: the caller tells them, and a second
    line on the console would only repeat it), WARNING for anything else (a bug)."""
    started = time.perf_counter()
    try:
        result = yield from job
    except GeneratorExit:
        logger.info("%s cancelled after %.1f s", what, time.perf_counter() - started)
        raise
    except Exception as error:
        actionable = isinstance(error, UserError | OSError | sqlite3.Error)
        level = logging.INFO if actionable else logging.WARNING
        logger.log(level, "%s failed after %.1f s: %s", what, time.perf_counter() - started, error)
        raise
    logger.info("%s finished in %.1f s: %s", what, time.perf_counter() - started, summary(result))
    return result


def map_progress(job: Job[R], to_outer: Callable[[Progress], Progress]) -> Job[R]:
    """Run ``job`` as one step of a bigger job: each of its steps is reported as ``to_outer(step)``, its result is
    returned, and closing the outer job closes ``job`` at once (its clean-up runs)."""
    try:
        while True:
            try:
                step = next(job)
            except StopIteration as stop:
                return stop.value
            yield to_outer(step)
    finally:
        job.close()


class Cancelled(Exception):
    """Raised by :func:`run_job` when the job was cancelled before it finished."""


class CancelToken:
    """Thread-safe flag a user sets to stop a job between two of its steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def run_job(
    job: Job[R],
    on_progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> R:
    """Drive ``job`` to completion on the calling thread and return its result.

    Raises :class:`Cancelled` (after closing the generator, so its clean-up runs) when ``cancel`` is set.
    """
    while True:
        if cancel is not None and cancel.cancelled:
            job.close()
            raise Cancelled("cancelled")
        try:
            progress = next(job)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(progress)


class Throttle:
    """Lets a job report progress at most every ``interval`` seconds (plus always the last step)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self._last = 0.0

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            return True
        return False
