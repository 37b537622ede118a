"""The job runner: progress, results, errors, cancel, the single-thread write lane, stale-result dropping."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Progress
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, JobState, Lane, LatestOnly
from stylerec_desktop.gui.panels.jobs import JobsPanel, JobsStatusWidget


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[JobRunner]:
    runner = JobRunner()
    yield runner
    assert runner.shutdown(5000)


def _steps(count: int, delay: float = 0.0, closed: list[bool] | None = None) -> Generator[Progress, None, int]:
    try:
        for step in range(count):
            if delay:
                time.sleep(delay)
            yield Progress(step + 1, count, f"step {step + 1}")
    finally:
        # Runs on normal exit and when the runner closes the generator on cancel.
        if closed is not None:
            closed.append(True)
    return count * 10


def _wait_finished(qtbot: QtBot, runner: JobRunner, job_id: int, timeout: int = 5000) -> None:
    qtbot.waitUntil(lambda: runner.job(job_id).state.finished, timeout=timeout)


def test_a_job_reports_progress_and_its_result(qtbot: QtBot, runner: JobRunner) -> None:
    results: list[int] = []
    seen: list[tuple[JobState, int]] = []
    runner.jobChanged.connect(lambda job_id: seen.append((runner.job(job_id).state, runner.job(job_id).done)))
    with qtbot.waitSignal(runner.jobFinished, timeout=5000):
        job_id = runner.submit("Count", _steps(5, delay=0.06), on_result=results.append).id
    info = runner.job(job_id)
    assert info.state is JobState.DONE
    assert info.result == 50 and results == [50]
    assert info.done == 5 and info.fraction == 1.0
    assert info.started is not None and info.finished is not None and info.finished >= info.started
    assert (JobState.RUNNING, 0) in seen
    assert any(state is JobState.RUNNING and done > 0 for state, done in seen)  # progress arrived on the way


def test_a_callable_may_return_a_plain_value(qtbot: QtBot, runner: JobRunner) -> None:
    job_id = runner.submit("Read", lambda: threading.current_thread().name).id
    _wait_finished(qtbot, runner, job_id)
    assert runner.job(job_id).state is JobState.DONE
    assert runner.job(job_id).result != threading.current_thread().name  # it ran on a worker


def test_a_user_error_is_shown_as_its_message(qtbot: QtBot, runner: JobRunner) -> None:
    def job() -> Generator[Progress, None, None]:
        yield Progress(0, 1)
        raise UserError("The file products.csv is empty. Add a header row.")

    failures = []
    job_id = runner.submit("Import", job(), on_failure=failures.append).id
    _wait_finished(qtbot, runner, job_id)
    info = runner.job(job_id)
    assert info.state is JobState.FAILED
    assert info.error == "The file products.csv is empty. Add a header row."
    assert info.detail == ""
    assert isinstance(info.exception, UserError)
    assert failures == [info]


def test_a_bug_logs_its_traceback_and_shows_a_short_message(
    qtbot: QtBot, runner: JobRunner, caplog: pytest.LogCaptureFixture
) -> None:
    def job() -> Generator[Progress, None, None]:
        yield Progress(0, 1)
        raise KeyError("price")

    with caplog.at_level(logging.ERROR, logger="stylerec_desktop.gui.jobs"):
        job_id = runner.submit("Broken", job()).id
        _wait_finished(qtbot, runner, job_id)
    info = runner.job(job_id)
    assert info.state is JobState.FAILED
    # For a person: no exception class, no code word; where the details are.
    assert info.error.startswith("Something went wrong") and "Help ▸ Log" in info.error
    assert "KeyError" not in info.error and "price" not in info.error
    assert "Traceback" in info.detail and "KeyError" in info.detail
    assert any("Traceback" in record.getMessage() for record in caplog.records)


def test_cancel_stops_a_running_job_between_steps_and_closes_it(qtbot: QtBot, runner: JobRunner) -> None:
    closed: list[bool] = []
    results: list[int] = []
    job_id = runner.submit("Slow", _steps(1000, delay=0.01, closed=closed), on_result=results.append).id
    qtbot.waitUntil(lambda: runner.job(job_id).done > 0, timeout=5000)
    runner.cancel(job_id)
    _wait_finished(qtbot, runner, job_id)
    info = runner.job(job_id)
    assert info.state is JobState.CANCELLED
    assert info.error == ""  # cancelled is not an error
    assert info.done < 1000 and results == []
    qtbot.waitUntil(lambda: closed == [True], timeout=2000)


def test_cancelling_a_queued_job_means_it_never_runs(qtbot: QtBot, runner: JobRunner) -> None:
    gate = threading.Event()
    ran: list[str] = []

    def blocker() -> str:
        gate.wait(5)
        return "first"

    first = runner.submit("Blocker", blocker, lane=Lane.WRITE).id
    second = runner.submit("Waiting", lambda: ran.append("second"), lane=Lane.WRITE).id
    assert runner.job(second).state is JobState.QUEUED
    runner.cancel(second)
    assert runner.job(second).state is JobState.CANCELLED  # at once, not when the lane frees up
    gate.set()
    _wait_finished(qtbot, runner, first)
    qtbot.waitUntil(runner.is_idle, timeout=5000)  # the lane is free: a job still queued would have run by now
    assert ran == []
    assert runner.job(second).state is JobState.CANCELLED


def test_the_write_lane_runs_one_job_at_a_time_in_order(qtbot: QtBot, runner: JobRunner) -> None:
    active = 0
    most = 0
    order: list[int] = []
    threads: set[int] = set()
    lock = threading.Lock()

    def writer(n: int) -> Generator[Progress, None, int]:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        threads.add(threading.get_ident())
        time.sleep(0.03)
        yield Progress(1, 1)
        order.append(n)
        with lock:
            active -= 1
        return n

    ids = [runner.submit(f"Write {n}", writer(n), lane=Lane.WRITE).id for n in range(5)]
    for job_id in ids:
        _wait_finished(qtbot, runner, job_id)
    assert most == 1
    assert order == [0, 1, 2, 3, 4]
    assert len(threads) == 1


def test_the_read_lane_runs_jobs_side_by_side(qtbot: QtBot, runner: JobRunner) -> None:
    both_inside = threading.Barrier(2, timeout=5)
    ids = [runner.submit(f"Read {n}", both_inside.wait).id for n in range(2)]
    for job_id in ids:
        _wait_finished(qtbot, runner, job_id)
    assert [runner.job(job_id).state for job_id in ids] == [JobState.DONE, JobState.DONE]


def test_hidden_jobs_are_not_listed(qtbot: QtBot, runner: JobRunner) -> None:
    added: list[int] = []
    runner.jobAdded.connect(added.append)
    results: list[int] = []
    runner.submit("Quick read", lambda: 7, hidden=True, on_result=results.append)
    qtbot.waitUntil(lambda: results == [7], timeout=5000)
    assert added == [] and runner.jobs() == [] and runner.is_idle()


def test_latest_only_drops_answers_to_older_questions(qtbot: QtBot, runner: JobRunner) -> None:
    latest = LatestOnly(runner, "Search")
    slow_started = threading.Event()
    release_slow = threading.Event()
    shown: list[str] = []

    def slow() -> str:
        slow_started.set()
        release_slow.wait(5)
        return "old answer"

    latest.run(slow, shown.append)
    assert slow_started.wait(5)
    latest.run(lambda: "new answer", shown.append)
    qtbot.waitUntil(lambda: shown == ["new answer"], timeout=5000)
    release_slow.set()
    qtbot.waitUntil(runner.is_idle, timeout=5000)
    qtbot.wait(50)
    assert shown == ["new answer"]


def test_jobs_panel_and_status_bar_show_running_finished_and_failed_jobs(qtbot: QtBot, runner: JobRunner) -> None:
    panel = JobsPanel(runner)
    status = JobsStatusWidget(runner)
    qtbot.addWidget(panel)
    qtbot.addWidget(status)
    panel.show()
    status.show()

    def failing() -> Generator[Progress, None, None]:
        yield Progress(1, 2, "half way")
        raise UserError("row 3, column price: 'abc' is not a number")

    done_id = runner.submit("Finishes", _steps(3)).id
    failed_id = runner.submit("Fails", failing()).id
    slow_id = runner.submit("Runs on", _steps(10_000, delay=0.005)).id
    qtbot.waitUntil(lambda: runner.job(done_id).state.finished and runner.job(failed_id).state.finished, timeout=5000)
    qtbot.waitUntil(lambda: runner.job(slow_id).done > 0, timeout=5000)

    rows = {row.job_id: row for row in panel.rows()}
    assert [row.job_id for row in panel.rows()] == [slow_id, failed_id, done_id]  # newest first
    assert "done" in rows[done_id].state_label.text()
    assert "failed" in rows[failed_id].state_label.text()
    assert rows[failed_id].message_label.text() == "row 3, column price: 'abc' is not a number"
    assert rows[failed_id].message_label.isVisible()
    assert rows[slow_id].cancel_button.isVisible() and not rows[done_id].cancel_button.isVisible()
    assert status.isVisible() and status.badge.text() == "1 job running"
    assert status.current_job() == slow_id
    # The status text is cut to the room it has (at most 360 px), the whole of it on hover.
    assert status.message_label.full_text().startswith("Runs on")
    assert status.message_label.width() <= 360

    qtbot.mouseClick(rows[slow_id].cancel_button, Qt.MouseButton.LeftButton)
    _wait_finished(qtbot, runner, slow_id)
    assert "cancelled" in rows[slow_id].state_label.text()
    assert not status.isVisible()
    assert panel.summary_label.text() == "3 finished · 1 failed"
    panel.clear_finished()
    assert panel.rows() == [] and runner.jobs() == []


def test_a_failed_job_is_retried_from_the_panel(qtbot: QtBot, runner: JobRunner) -> None:
    """Retry runs the same callable again as a new job with the same callbacks; a generator runs only once."""
    panel = JobsPanel(runner)
    qtbot.addWidget(panel)
    attempts: list[int] = []
    results: list[str] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise UserError("The disk is full: free some space and retry.")
        return "written"

    job_id = runner.submit("Write files", flaky, on_result=results.append, device="CPU").id
    _wait_finished(qtbot, runner, job_id)
    row = panel.row(job_id)
    assert row is not None and runner.job(job_id).state is JobState.FAILED
    assert not row.retry_button.isHidden() and "CPU" in row.state_label.text()
    with qtbot.waitSignal(runner.jobRetried, timeout=5000) as retried:
        qtbot.mouseClick(row.retry_button, Qt.MouseButton.LeftButton)
    old_id, new_id = retried.args
    assert old_id == job_id and new_id != job_id
    _wait_finished(qtbot, runner, new_id)
    assert runner.job(new_id).state is JobState.DONE and results == ["written"] and len(attempts) == 2
    assert runner.job(new_id).device == "CPU" and runner.job(new_id).title == "Write files"
    assert row.retry_button.isHidden() and not runner.can_retry(job_id)  # retried once: not offered again

    once = runner.submit("Once", _failing_steps()).id
    _wait_finished(qtbot, runner, once)
    assert not runner.can_retry(once) and runner.retry(once) is None
    assert panel.row(once).retry_button.isHidden()  # type: ignore[union-attr]


def _failing_steps() -> Generator[Progress, None, None]:
    yield Progress(1, 2, "half")
    raise UserError("broken")


def test_eta_is_extrapolated_from_the_progress() -> None:
    now = time.time()
    info = JobInfo(1, "Render", Lane.WRITE, state=JobState.RUNNING, done=1, total=4, started=now - 10)
    assert info.eta == pytest.approx(30, abs=0.5)
    assert replace(info, started=now - 1).eta is None  # too early to say
    assert replace(info, total=None).eta is None
    assert replace(info, state=JobState.DONE).eta is None


def test_the_device_label_says_where_a_job_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from stylerec_desktop.core.models import hardware

    monkeypatch.setattr(hardware, "_devices", {})
    assert hardware.device_label("cpu") == "CPU" and hardware.device_label("auto") == ""  # not learnt: nothing guessed
    monkeypatch.setattr(hardware, "_devices", {"learnt": "yes"})  # a machine without accelerators
    assert hardware.device_label("auto") == "CPU" and hardware.device_label("cuda") == "GPU (CUDA)"
    monkeypatch.setattr(hardware, "_devices", {"learnt": "yes", "cuda": "GPU: NVIDIA H100"})
    assert hardware.device_label("auto") == "GPU: NVIDIA H100" and hardware.device_label("cuda") == "GPU: NVIDIA H100"
    assert hardware.device_label("mps") == "GPU (Apple MPS)" and hardware.device_label("cpu") == "CPU"
