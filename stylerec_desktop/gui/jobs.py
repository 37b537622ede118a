"""The one job runner of the GUI: core jobs (Qt-free generators) run on thread pools, reported by signals.

A core job is a generator that yields :class:`~stylerec_desktop.core.jobs.Progress` and returns its result.
:class:`JobRunner` iterates it on a worker thread through :class:`_JobRunnable`, checks the job's
:class:`~stylerec_desktop.core.jobs.CancelToken` between two steps and closes the generator on cancel, so the
job's ``with catalog.transaction()`` rolls back. Everything the GUI sees arrives as queued signals on the GUI
thread.

Two lanes:

* ``Lane.WRITE`` — one thread. Every catalog write (imports, the demo build) runs here, one after the other in
  the order submitted, so two writers never wait on SQLite's lock and an import of events always sees the
  products imported just before it.
* ``Lane.READ`` — a few threads for reads and compute (search, grid pages, customer history).

Errors: a :class:`~stylerec_desktop.core.errors.UserError` carries a sentence for the user, shown as is; any other
exception is a bug, its traceback goes to the log and the user gets a short message. A cancelled job is not an
error.

:class:`LatestOnly` runs one-off background reads whose older answers are dropped when a newer question was
asked meanwhile (search as you type, the customer picked last).
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal
from shiboken6 import Shiboken

from stylerec_desktop.core.errors import UserError, user_error_for
from stylerec_desktop.core.jobs import Cancelled, CancelToken, Progress
from stylerec_desktop.gui.text import for_people

log = logging.getLogger(__name__)

#: What :meth:`JobRunner.submit` accepts: a generator, or a callable run on the worker thread that returns
#: either a generator (run as a job) or a plain value (the result of a one-step job).
JobSource = Generator[Progress, None, Any] | Callable[[], Any]

# Workers report progress at most this often; a job yielding thousands of steps a second would otherwise
# flood the GUI thread's event queue with signals it can only show 60 times a second anyway.
_PROGRESS_INTERVAL_S = 0.05
_SWITCH_INTERVAL_S = 0.001
_WORKER_NICE = 5


class Lane(Enum):
    """Which pool a job runs on."""

    WRITE = "write"
    READ = "read"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class JobInfo:
    """A snapshot of one job, as the GUI shows it. Times are ``time.time()`` seconds."""

    id: int
    title: str
    lane: Lane
    state: JobState = JobState.QUEUED
    done: int = 0
    total: int | None = None
    message: str = ""
    error: str = ""  # the sentence shown to the user when the job failed
    detail: str = ""  # the traceback of a programmer error (empty for a UserError)
    exception: BaseException | None = field(default=None, compare=False, repr=False)
    result: Any = field(default=None, compare=False, repr=False)
    submitted: float = 0.0
    started: float | None = None
    finished: float | None = None
    hidden: bool = False
    device: str = ""  # where a model job runs ("CPU", "GPU: <name>"), shown in the jobs panel

    @property
    def eta(self) -> float | None:
        """Seconds left, extrapolated from the progress so far; None until there is enough to go on."""
        fraction, elapsed = self.fraction, self.elapsed
        if self.state is not JobState.RUNNING or not fraction or elapsed is None or elapsed < 2 or fraction < 0.05:
            return None
        return elapsed * (1 - fraction) / fraction

    @property
    def fraction(self) -> float | None:
        """Progress in 0..1, or None while the total is unknown."""
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))

    @property
    def elapsed(self) -> float | None:
        if self.started is None:
            return None
        return (self.finished or time.time()) - self.started


class JobHandle(QObject):
    """One job as the code that submitted it sees it: its own signals, so an owner never filters a broadcast.

    Every signal carries the job's latest :class:`JobInfo` (the result is ``info.result``). While it runs:
    :attr:`progress` (started, each reported step, "Cancelling…"); when it ends, exactly one of
    :attr:`succeeded`, :attr:`failed` or :attr:`cancelled`, then :attr:`finished`. Retry (the Jobs panel's button,
    or :meth:`retry`) runs the job again under a new id *on the same handle*: :attr:`retried` fires with the new
    run's info, and the same signals follow the new run, so its owner's slots see its result as they would have
    seen the first run's.

    A handle has no parent: it lives as long as its owner (or the runner, until the job is cleared) keeps it.
    """

    progress = Signal(JobInfo)
    succeeded = Signal(JobInfo)
    failed = Signal(JobInfo)
    cancelled = Signal(JobInfo)
    finished = Signal(JobInfo)
    retried = Signal(JobInfo)

    def __init__(self, runner: JobRunner, info: JobInfo) -> None:
        super().__init__()
        self._runner = runner
        self._info = info

    @property
    def id(self) -> int:
        """The id of the job's latest run (a retry gives a new one)."""
        return self._info.id

    @property
    def info(self) -> JobInfo:
        """The latest snapshot of the job's latest run (kept here after the Jobs panel clears it away)."""
        return self._info

    def cancel(self) -> None:
        self._runner.cancel(self._info.id)

    def can_retry(self) -> bool:
        return self._runner.can_retry(self._info.id)

    def retry(self) -> bool:
        """Run the job again (see :meth:`JobRunner.retry`); False when it cannot be retried."""
        return self._runner.retry(self._info.id) is not None

    # -- called by the runner, on the GUI thread --------------------------------------------------------

    def _changed(self, info: JobInfo) -> None:
        self._info = info
        self.progress.emit(info)

    def _ended(self, info: JobInfo) -> None:
        self._info = info
        {JobState.DONE: self.succeeded, JobState.FAILED: self.failed, JobState.CANCELLED: self.cancelled}[
            info.state
        ].emit(info)
        self.finished.emit(info)

    def _rerun(self, info: JobInfo) -> None:
        self._info = info
        self.retried.emit(info)


class _Relay(QObject):
    """Carries what the workers report to the GUI thread (it lives there, so its signals are queued)."""

    started = Signal(int)
    progress = Signal(int, object)  # job id, Progress (object: totals may exceed a C++ int)
    succeeded = Signal(int, object)
    failed = Signal(int, str, str, object)  # job id, message for the user, traceback, exception
    cancelled = Signal(int)


class _JobRunnable(QRunnable):
    """The thin adapter: iterates one core job on a pool thread and reports through the relay."""

    def __init__(
        self,
        job_id: int,
        source: JobSource,
        token: CancelToken,
        relay: _Relay,
        ended: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self._job_id = job_id
        self._source: JobSource | None = source
        self._token = token
        self._relay = relay
        self._ended = ended  # told on the worker thread when the job has stopped, whatever the outcome

    def run(self) -> None:
        try:
            self._run()
        finally:
            if self._ended is not None:
                self._ended()

    def _run(self) -> None:
        job_id, relay, token = self._job_id, self._relay, self._token
        source, self._source = self._source, None  # the generator's frame must not outlive the job
        if token.cancelled:  # cancelled while it waited in the queue
            relay.cancelled.emit(job_id)
            return
        relay.started.emit(job_id)
        yield_cpu_to_the_gui()
        try:
            job = source() if callable(source) and not isinstance(source, Generator) else source
            if not isinstance(job, Generator):
                relay.succeeded.emit(job_id, job)
                return
            last_report = 0.0
            while True:
                if token.cancelled:
                    job.close()  # GeneratorExit unwinds the job's with-blocks: its transaction rolls back
                    relay.cancelled.emit(job_id)
                    return
                try:
                    step = next(job)
                except StopIteration as stop:
                    relay.succeeded.emit(job_id, stop.value)
                    return
                now = time.monotonic()
                if now - last_report >= _PROGRESS_INTERVAL_S:
                    last_report = now
                    relay.progress.emit(job_id, step)
        except Cancelled:
            relay.cancelled.emit(job_id)
        except UserError as exc:
            # An error may carry a wording for an interactive app (no command-line flags); the CLI prints str().
            message = getattr(exc, "interactive_message", None) or for_people(str(exc))
            relay.failed.emit(job_id, message, "", exc.with_traceback(None))
        except Exception as exc:
            explained = user_error_for(exc)  # a full disk, a locked catalog...: the same sentence the CLI prints
            if explained is not None:
                log.warning("job %d failed: %s", job_id, exc)
                relay.failed.emit(job_id, for_people(str(explained)), "", explained)
                return
            detail = traceback.format_exc()
            log.error("job %d failed:\n%s", job_id, detail)
            relay.failed.emit(job_id, _short_message(exc), detail, exc.with_traceback(None))


_thread_state = threading.local()


def yield_cpu_to_the_gui() -> None:
    """Lower the calling worker thread's scheduling priority, once per thread (Linux only).

    On a 2-core workstation an import and two thumbnail workers would otherwise share the cores equally with
    the GUI thread, and the GUI stutters. Linux applies ``nice`` per thread; elsewhere this does nothing, as
    ``setpriority`` there would address the whole process.
    """
    if getattr(_thread_state, "lowered", False) or not sys.platform.startswith("linux"):
        return
    _thread_state.lowered = True
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + _WORKER_NICE)
    except OSError:  # a sandbox may refuse it; the job runs all the same
        log.debug("could not lower the priority of worker thread %s", threading.get_native_id())


def _short_message(exc: BaseException) -> str:
    """What a person reads about a bug: no exception class or code words (those go to the log with the
    traceback), what to do next, and the error's own first line only when it reads as a sentence."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    said = f" ({text.rstrip('.')})" if " " in text and len(text) <= 160 else ""
    return (f"Something went wrong that StyleRec did not expect{said}. Try again; if it happens again, Help ▸ Log "
            "shows the details to send to support.")  # fmt: skip


@dataclass
class _Entry:
    info: JobInfo
    token: CancelToken
    on_result: Callable[[Any], None] | None
    on_failure: Callable[[JobInfo], None] | None
    handle: JobHandle
    rerun: Callable[[], Any] | None = None  # the callable source again, for Retry (a generator runs once)
    disposable: bool = False  # quitting need not wait for it (see JobRunner.submit)


class JobRunner(QObject):
    """Runs core jobs in the background, one lane for catalog writes and one for reads.

    :meth:`submit` returns the job's :class:`JobHandle`, whose signals are the way for its owner to follow it.
    The runner's own signals carry the job id of *every* visible job, for the views that show them all (the Jobs
    panel, the status bar); :meth:`job` gives a job's latest :class:`JobInfo`. Hidden jobs (quick background
    reads) emit none of the runner's signals (their handles do) and are forgotten once they end.
    """

    jobAdded = Signal(int)
    jobChanged = Signal(int)
    jobFinished = Signal(int)
    #: (old id, new id) when a failed or cancelled job is run again: whoever follows the old id follows the new one
    jobRetried = Signal(int, int)

    def __init__(self, parent: QObject | None = None, read_threads: int | None = None) -> None:
        super().__init__(parent)
        # Workers run Python (CSV parsing, image checks) while the GUI thread re-enters Python for every
        # delegate paint and model call. A thread that wants the GIL waits up to the switch interval, so at
        # the default 5 ms one repaint of a grid (dozens of such calls) stalled the GUI thread for 100-200 ms
        # during an import. At 1 ms the longest stall measured is well under the 100 ms budget.
        if sys.getswitchinterval() > _SWITCH_INTERVAL_S:
            sys.setswitchinterval(_SWITCH_INTERVAL_S)
        write_pool = QThreadPool(self)
        write_pool.setMaxThreadCount(1)
        read_pool = QThreadPool(self)
        read_pool.setMaxThreadCount(read_threads or max(2, QThread.idealThreadCount()))
        self._pools = {Lane.WRITE: write_pool, Lane.READ: read_pool}
        self._entries: dict[int, _Entry] = {}
        self._ids = itertools.count(1)
        # Jobs quitting must wait for (all but the disposable ones), counted on the workers' threads.
        self._must_finish = 0
        self._must_finish_changed = threading.Condition()
        self._relay = _Relay(self)
        self._relay.started.connect(self._on_started)
        self._relay.progress.connect(self._on_progress)
        self._relay.succeeded.connect(self._on_succeeded)
        self._relay.failed.connect(self._on_failed)
        self._relay.cancelled.connect(self._on_cancelled)

    # -- submitting and cancelling ----------------------------------------------------------------------

    def submit(
        self,
        title: str,
        source: JobSource,
        *,
        lane: Lane = Lane.READ,
        on_result: Callable[[Any], None] | None = None,
        on_failure: Callable[[JobInfo], None] | None = None,
        hidden: bool = False,
        device: str = "",
        disposable: bool = False,
    ) -> JobHandle:
        """Queue a job and return its handle. ``on_result``/``on_failure`` run on the GUI thread when it ends
        (before the handle's signals).

        A callable ``source`` can be run again with :meth:`retry` once the job failed or was cancelled.
        ``disposable``: a job that writes nothing and cannot stop early (warming up imports, say); quitting does
        not wait for it (:meth:`shutdown` with ``wait_for_disposable=False``).
        """
        return self._start(title, source, lane, on_result, on_failure, hidden, device, None, disposable)

    def _start(
        self,
        title: str,
        source: JobSource,
        lane: Lane,
        on_result: Callable[[Any], None] | None,
        on_failure: Callable[[JobInfo], None] | None,
        hidden: bool,
        device: str,
        handle: JobHandle | None,
        disposable: bool = False,
    ) -> JobHandle:
        job_id = next(self._ids)
        token = CancelToken()
        info = JobInfo(job_id, title, lane, submitted=time.time(), hidden=hidden, device=device)
        rerun = source if callable(source) and not isinstance(source, Generator) else None
        if handle is None:
            handle = JobHandle(self, info)
        else:
            handle._rerun(info)
        self._entries[job_id] = _Entry(info, token, on_result, on_failure, handle, rerun, disposable)
        if not hidden:
            self.jobAdded.emit(job_id)
        ended = None
        if not disposable:
            with self._must_finish_changed:
                self._must_finish += 1
            ended = self._one_less_to_finish
        self._pools[lane].start(_JobRunnable(job_id, source, token, self._relay, ended))
        return handle

    def can_retry(self, job_id: int) -> bool:
        entry = self._entries.get(job_id)
        return (
            entry is not None and entry.rerun is not None and entry.info.state in (JobState.FAILED, JobState.CANCELLED)
        )

    def retry(self, job_id: int) -> int | None:
        """Run a failed or cancelled job again as a new job (same title, lane, callbacks and handle: its owner
        follows the new run without doing anything); its id, or None when it cannot be retried (still running, or
        submitted as a generator, which runs only once)."""
        if not self.can_retry(job_id):
            return None
        entry = self._entries[job_id]
        info = entry.info
        rerun, entry.rerun = entry.rerun, None  # retried once: its row stops offering Retry
        assert rerun is not None  # can_retry checked it
        new_id = self._start(info.title, rerun, info.lane, entry.on_result, entry.on_failure, info.hidden,
                             info.device, entry.handle, entry.disposable).id  # fmt: skip
        if not info.hidden:
            self.jobChanged.emit(job_id)
        self.jobRetried.emit(job_id, new_id)
        return new_id

    def forget_retries(self) -> None:
        """Stop offering Retry for every job so far (another catalog was opened: they would run on the old one)."""
        for job_id, entry in self._entries.items():
            if entry.rerun is not None:
                entry.rerun = None
                if not entry.info.hidden:
                    self.jobChanged.emit(job_id)

    def cancel(self, job_id: int) -> None:
        """Ask a job to stop. A queued job is cancelled at once; a running one at its next step."""
        entry = self._entries.get(job_id)
        if entry is None or entry.info.state.finished:
            return
        entry.token.cancel()
        if entry.info.state is JobState.QUEUED:
            # Its runnable will see the token and report nothing more; the user sees "cancelled" now.
            self._finish(job_id, state=JobState.CANCELLED)
        elif not entry.info.hidden:
            self._update(job_id, message="Cancelling…")

    def cancel_all(self) -> None:
        for job_id in list(self._entries):
            self.cancel(job_id)

    def shutdown(self, timeout_ms: int = 10_000, *, wait_for_disposable: bool = True) -> bool:
        """Cancel everything and wait for the workers (on quit). True when all of them stopped in time.

        With ``wait_for_disposable=False`` it returns as soon as every job that is not disposable has stopped
        (each stops at its next step: a write rolls back, an export leaves no partial file); the app then ends the
        process without waiting for a disposable one (an import of torch cannot be interrupted)."""
        self.cancel_all()
        if wait_for_disposable:
            return all(pool.waitForDone(timeout_ms) for pool in self._pools.values())
        with self._must_finish_changed:
            return self._must_finish_changed.wait_for(lambda: self._must_finish == 0, timeout_ms / 1000)

    def workers_idle(self, wait_ms: int = 100) -> bool:
        """Whether no job runs on any worker thread, waiting up to ``wait_ms`` for the pools' threads to return (a
        job that has just stopped may not have left its thread yet). Read from Qt's pools, so it holds on any
        thread and after the event loop has ended (when the GUI's own job states are no longer updated)."""
        return all(pool.waitForDone(wait_ms) for pool in self._pools.values())

    def _one_less_to_finish(self) -> None:
        """On a worker thread, when a job that quitting waits for has stopped."""
        with self._must_finish_changed:
            self._must_finish -= 1
            self._must_finish_changed.notify_all()

    # -- reading -----------------------------------------------------------------------------------------

    def job(self, job_id: int) -> JobInfo:
        return self._entries[job_id].info

    def jobs(self) -> list[JobInfo]:
        """Every visible job still remembered, oldest first."""
        return [entry.info for entry in self._entries.values() if not entry.info.hidden]

    def running(self) -> list[JobInfo]:
        """Visible jobs queued or running, oldest first."""
        return [info for info in self.jobs() if not info.state.finished]

    def clear_finished(self) -> None:
        for job_id in [i.id for i in self.jobs() if i.state.finished]:
            del self._entries[job_id]

    def is_idle(self) -> bool:
        """No job at all (hidden ones included) is queued or running."""
        return all(entry.info.state.finished for entry in self._entries.values())

    # -- slots: worker reports, on the GUI thread ---------------------------------------------------------

    def _update(self, job_id: int, **changes: Any) -> JobInfo | None:
        entry = self._entries.get(job_id)
        if entry is None or entry.info.state.finished:
            return None  # a late report from a job cancelled while queued, or one cleared away
        entry.info = replace(entry.info, **changes)
        if not entry.info.hidden:
            self.jobChanged.emit(job_id)
        if entry.handle.id == job_id:  # a late report of a run already retried is not the handle's news
            entry.handle._changed(entry.info)
        return entry.info

    def _finish(self, job_id: int, **changes: Any) -> None:
        entry = self._entries.get(job_id)
        if entry is None or entry.info.state.finished:
            return
        entry.info = replace(entry.info, finished=time.time(), **changes)
        info = entry.info
        if info.hidden:
            del self._entries[job_id]
        else:
            self.jobChanged.emit(job_id)
            # For support: how each job the user saw ended (a bug's traceback was logged by its worker).
            if info.state is JobState.FAILED:
                # The log keeps the whole story (an import's bad rows) where the window shows the short wording.
                full = str(info.exception) if isinstance(info.exception, UserError) else ""
                extra = f"\n{full}" if full and full != info.error else ""
                log.warning("job %d %r failed: %s%s", job_id, info.title, info.error, extra)
            else:
                log.info("job %d %r %s after %.1f s", job_id, info.title, info.state, info.elapsed or 0.0)
        if info.state is JobState.DONE and entry.on_result is not None:
            entry.on_result(info.result)
        elif info.state is JobState.FAILED:
            if entry.on_failure is not None:
                entry.on_failure(info)
            elif info.hidden:
                log.warning("background read %r failed: %s", info.title, info.error)
        if entry.handle.id == job_id:
            entry.handle._ended(info)
        if not info.hidden:
            self.jobFinished.emit(job_id)

    def _on_started(self, job_id: int) -> None:
        self._update(job_id, state=JobState.RUNNING, started=time.time())

    def _on_progress(self, job_id: int, step: Progress) -> None:
        self._update(job_id, done=step.done, total=step.total, message=step.message)

    def _on_succeeded(self, job_id: int, result: Any) -> None:
        entry = self._entries.get(job_id)
        done = (entry.info.total or entry.info.done) if entry is not None else 0
        self._finish(job_id, state=JobState.DONE, result=result, done=done, message="Done")

    def _on_failed(self, job_id: int, message: str, detail: str, exception: BaseException) -> None:
        self._finish(job_id, state=JobState.FAILED, error=message, detail=detail, exception=exception)

    def _on_cancelled(self, job_id: int) -> None:
        self._finish(job_id, state=JobState.CANCELLED, message="Cancelled")


class LatestOnly(QObject):
    """One-off background reads where only the answer to the newest question counts.

    Each :meth:`run` bumps a generation counter; an answer that comes back after a newer :meth:`run` (or after
    :meth:`invalidate`) is dropped, so a slow search for "dr" can never overwrite the faster one for "dress".
    The previous read is also cancelled if it has not started yet. Owned by the widget it serves, so an answer
    arriving after that widget is gone is dropped too.
    """

    def __init__(self, runner: JobRunner, title: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._title = title
        self._generation = 0
        self._pending: JobHandle | None = None

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def busy(self) -> bool:
        """A read was asked and its answer has not arrived yet."""
        return self._pending is not None

    def run(
        self,
        read: Callable[[], Any],
        on_result: Callable[[Any], None],
        on_failure: Callable[[JobInfo], None] | None = None,
    ) -> int:
        """Run ``read`` on the read lane (returns its generation); call ``on_result`` on the GUI thread unless a
        newer read was asked."""
        self.invalidate()
        generation = self._generation

        def current() -> bool:
            return Shiboken.isValid(self) and generation == self._generation

        def deliver(result: Any) -> None:
            if current():
                self._pending = None
                on_result(result)

        def fail(info: JobInfo) -> None:
            if current():
                self._pending = None
                if on_failure is not None:
                    on_failure(info)
                else:
                    log.warning("%s failed: %s", self._title, info.error)

        self._pending = self._runner.submit(
            self._title, read, lane=Lane.READ, hidden=True, on_result=deliver, on_failure=fail
        )
        return generation

    def invalidate(self) -> None:
        """Drop whatever answer is still on its way."""
        self._generation += 1
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
