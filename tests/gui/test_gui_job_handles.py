"""Job handles: the object :meth:`JobRunner.submit` returns, with the job's own signals, following it across Retry."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Progress
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, JobState
from stylerec_desktop.gui.panels.export_dialog import ExportDialog
from stylerec_desktop.gui.panels.jobs import JobsPanel
from stylerec_desktop.gui.thumbnails import ThumbnailLoader


def _counting(count: int, delay: float) -> Generator[Progress, None, str]:
    for step in range(count):
        time.sleep(delay)
        yield Progress(step + 1, count, f"step {step + 1} of {count}")
    return "counted"


def test_a_handle_reports_progress_then_its_outcome_then_finished(qtbot: QtBot, runner: JobRunner) -> None:
    seen: list[tuple[str, JobState, int]] = []
    handle = runner.submit("Count", _counting(4, delay=0.08))
    for name in ("progress", "succeeded", "failed", "cancelled", "finished"):
        getattr(handle, name).connect(lambda info, name=name: seen.append((name, info.state, info.done)))
    with qtbot.waitSignals([handle.succeeded, handle.finished], order="strict", timeout=5000):
        pass
    names = [name for name, _state, _done in seen]
    assert names[-2:] == ["succeeded", "finished"] and set(names[:-2]) == {"progress"}
    assert any(state is JobState.RUNNING and done > 0 for name, state, done in seen if name == "progress")
    assert seen[-1] == ("finished", JobState.DONE, 4)
    assert handle.info.result == "counted" and handle.info is runner.job(handle.id)


def test_a_handle_follows_its_job_across_a_retry_from_the_jobs_panel(qtbot: QtBot, runner: JobRunner) -> None:
    """The owner keeps one handle: the retried run's outcome arrives on it, in order, like the first run's."""
    panel = JobsPanel(runner)
    qtbot.addWidget(panel)
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise UserError("The disk is full: free some space and retry.")
        return "written"

    handle = runner.submit("Write files", flaky)
    first_id = handle.id
    with qtbot.waitSignals([handle.progress, handle.failed, handle.finished], order="strict", timeout=5000):
        pass
    assert handle.info.state is JobState.FAILED and handle.id == first_id
    assert handle.info.error == "The disk is full: free some space and retry." and handle.can_retry()

    row = panel.row(first_id)
    assert row is not None
    ended: list[JobInfo] = []
    handle.finished.connect(ended.append)
    with qtbot.waitSignals(
        [handle.retried, handle.progress, handle.succeeded, handle.finished], order="strict", timeout=5000
    ):
        qtbot.mouseClick(row.retry_button, Qt.MouseButton.LeftButton)
    [finished] = ended
    assert handle.id != first_id and finished.id == handle.id  # same handle, the new run's id
    assert finished.state is JobState.DONE and handle.info.result == "written" and len(attempts) == 2
    assert runner.job(first_id).state is JobState.FAILED  # the first run stays in the panel as it ended
    assert not handle.can_retry()


def test_a_handle_hears_only_its_own_job_and_cancel_is_not_a_failure(qtbot: QtBot, runner: JobRunner) -> None:
    release = threading.Event()

    def slow() -> Generator[Progress, None, None]:
        while not release.wait(0.01):
            yield Progress(0, None, "waiting")

    mine = runner.submit("Mine", slow())
    other = runner.submit("Other", lambda: "theirs")
    heard: list[int] = []
    mine.progress.connect(lambda info: heard.append(info.id))
    mine.finished.connect(lambda info: heard.append(info.id))
    qtbot.waitUntil(lambda: other.info.state is JobState.DONE, timeout=5000)
    qtbot.waitUntil(lambda: mine.info.state is JobState.RUNNING, timeout=5000)
    with qtbot.waitSignals([mine.cancelled, mine.finished], order="strict", timeout=5000):
        mine.cancel()
    release.set()
    assert heard and set(heard) == {mine.id}
    assert mine.info.state is JobState.CANCELLED and mine.info.error == ""


def test_the_export_dialog_follows_its_export_across_a_retry(
    qtbot: QtBot, catalog: Catalog, services: tuple[JobRunner, ThumbnailLoader], tmp_path: Path
) -> None:
    """A failed export retried from the Jobs panel: the dialog shows the new run's progress and its result."""
    runner, _ = services
    dialog = ExportDialog(catalog, runner, [p.id for p in catalog.products(limit=2)])
    qtbot.addWidget(dialog)
    dialog.show()
    for name, check in dialog.preset_checks.items():
        check.setChecked(name == "thumb")
    out = tmp_path / "ads"
    out.write_text("a file where the folder should be", encoding="utf-8")
    dialog.set_folder(out)
    first_id = dialog.start_export()
    assert first_id is not None
    qtbot.waitUntil(lambda: runner.job(first_id).state.finished, timeout=30_000)
    assert runner.job(first_id).state is JobState.FAILED
    assert dialog.status_label.text().startswith("The export failed") and dialog.job_id is None
    assert dialog.export_button.isEnabled() and not dialog.cancel_button.isEnabled()

    out.unlink()
    with qtbot.waitSignal(dialog.exported, timeout=30_000) as exported:
        assert runner.retry(first_id) is not None
        assert dialog.job_id is not None and dialog.cancel_button.isEnabled()  # it follows the new run
    assert len(exported.args[0].files) == 2 and all((out / row.path).is_file() for row in exported.args[0].files)
    assert dialog.status_label.text().startswith("Exported 2 files") and dialog.job_id is None
