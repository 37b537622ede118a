"""Every job the user started: its progress, state and error, with Cancel for running ones.

:class:`JobsPanel` lists them (newest first); :class:`JobsStatusWidget` is the compact form for the main
window's status bar: the newest running job's progress bar, its Cancel button, and an "N jobs running" badge.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.gui import theme
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, JobState
from stylerec_desktop.gui.widgets import ElidedLabel


def _state_colour(state: JobState, colours: theme.Colours) -> QColor:
    return {
        JobState.QUEUED: colours.muted_text,
        JobState.RUNNING: colours.accent,
        JobState.DONE: colours.success,
        JobState.FAILED: colours.danger,
        JobState.CANCELLED: colours.warning,
    }[state]


def _set_progress(bar: QProgressBar, info: JobInfo) -> None:
    if info.state is JobState.DONE:
        bar.setRange(0, 1)
        bar.setValue(1)
    elif info.total:
        # Qt progress bars hold C ints: scale to per-mille so byte counts and huge row counts fit.
        bar.setRange(0, 1000)
        bar.setValue(int(1000 * (info.fraction or 0.0)))
    elif info.state is JobState.RUNNING:
        bar.setRange(0, 0)  # busy indicator until the job says how much there is
    else:
        bar.setRange(0, 1)
        bar.setValue(0)


def _eta(info: JobInfo) -> str:
    eta = info.eta
    if eta is None:
        return ""
    return f"about {eta:.0f} s left" if eta < 90 else f"about {eta / 60:.0f} min left"


def _duration(info: JobInfo) -> str:
    elapsed = info.elapsed
    if elapsed is None:
        return ""
    return f"{elapsed:.1f} s" if elapsed < 60 else f"{int(elapsed // 60)} min {int(elapsed % 60)} s"


class JobRow(QFrame):
    """One job in the panel."""

    def __init__(self, runner: JobRunner, job_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobRow")
        self.job_id = job_id
        self._runner = runner
        self.title_label = QLabel()
        self.title_label.setStyleSheet("font-weight: 600;")
        self.state_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this job at its next step: an import or an edit writes nothing; a batch "
                                      "or an export keeps the files it finished (an export resumes on Retry)")
        self.cancel_button.clicked.connect(lambda: runner.cancel(job_id))
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Run this job again (e.g. after freeing disk space or fixing the file it names)")
        self.retry_button.clicked.connect(lambda: runner.retry(job_id))
        grid = QGridLayout(self)
        grid.setContentsMargins(10, 8, 10, 8)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        grid.addWidget(self.title_label, 0, 0)
        grid.addWidget(self.state_label, 0, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.cancel_button, 0, 2, 2, 1, Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self.retry_button, 0, 3, 2, 1, Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self.progress, 1, 0, 1, 2)
        grid.addWidget(self.message_label, 2, 0, 1, 3)
        grid.setColumnStretch(0, 1)
        self.update_from(runner.job(job_id))

    def update_from(self, info: JobInfo) -> None:
        self.title_label.setText(info.title)
        duration = " · ".join(part for part in (_duration(info), _eta(info), info.device) if part)
        theme.set_rich_text(
            self.state_label,
            lambda c: (
                f"<span style='color:{_state_colour(info.state, c).name()}; font-weight:600'>"
                f"{info.state.value}</span>"
                + (f" <span style='color:{c.muted_text.name()}'>· {duration}</span>" if duration else "")
            ),
        )
        _set_progress(self.progress, info)
        self.progress.setVisible(not info.state.finished)
        if info.state is JobState.FAILED:
            self.message_label.setText(info.error)
            theme.set_role(self.message_label, "error")
            self.message_label.setToolTip(info.detail or info.error)
        else:
            self.message_label.setText(info.message)
            theme.set_role(self.message_label, "muted")
            self.message_label.setToolTip("")
        self.message_label.setVisible(bool(self.message_label.text()))
        self.cancel_button.setVisible(not info.state.finished)
        self.retry_button.setVisible(self._runner.can_retry(info.id))


class JobsPanel(QWidget):
    """The list of jobs, newest first, with a button to clear the finished ones."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._rows: dict[int, JobRow] = {}
        self.summary_label = QLabel()
        self.summary_label.setProperty("role", "muted")
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.clicked.connect(self.clear_finished)
        self.empty_label = QLabel("No jobs yet. Imports and other long tasks show up here.")
        self.empty_label.setProperty("role", "muted")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(0, 0, 0, 0)
        self._list_layout.setSpacing(6)
        self._list_layout.addWidget(self.empty_label)
        self._list_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._list)
        top = QHBoxLayout()
        top.addWidget(self.summary_label, 1)
        top.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        runner.jobAdded.connect(self._on_added)
        runner.jobChanged.connect(self._on_changed)
        for info in runner.jobs():
            self._on_added(info.id)
        self._update_summary()

    def row(self, job_id: int) -> JobRow | None:
        return self._rows.get(job_id)

    def rows(self) -> list[JobRow]:
        """The rows as shown, top (newest) first."""
        return sorted(self._rows.values(), key=lambda row: -row.job_id)

    def clear_finished(self) -> None:
        self._runner.clear_finished()
        for job_id in [job_id for job_id, row in self._rows.items() if not self._known(job_id)]:
            row = self._rows.pop(job_id)
            self._list_layout.removeWidget(row)
            row.deleteLater()
        self._update_summary()

    def _known(self, job_id: int) -> bool:
        return any(info.id == job_id for info in self._runner.jobs())

    def _on_added(self, job_id: int) -> None:
        row = JobRow(self._runner, job_id)
        self._rows[job_id] = row
        self._list_layout.insertWidget(0, row)  # newest on top
        self._update_summary()

    def _on_changed(self, job_id: int) -> None:
        row = self._rows.get(job_id)
        if row is not None:
            row.update_from(self._runner.job(job_id))
        self._update_summary()

    def _update_summary(self) -> None:
        jobs = self._runner.jobs()
        running = sum(1 for info in jobs if not info.state.finished)
        failed = sum(1 for info in jobs if info.state is JobState.FAILED)
        parts = [f"{running} running"] if running else []
        parts.append(f"{len(jobs) - running} finished")
        if failed:
            parts.append(f"{failed} failed")
        self.summary_label.setText(" · ".join(parts) if jobs else "")
        self.empty_label.setVisible(not self._rows)
        self.clear_button.setEnabled(len(jobs) > running)


class JobsStatusWidget(QWidget):
    """For the status bar: newest running job's message and progress, Cancel, and a count badge.

    Hidden while nothing runs. Emits :attr:`showJobsRequested` when the badge is clicked.
    """

    showJobsRequested = Signal()

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._current: int | None = None
        # Elided to the width it is given (never drawn under the progress bar); the whole text on hover.
        self.message_label = ElidedLabel(mode=Qt.TextElideMode.ElideRight)
        self.message_label.setMinimumWidth(120)
        self.message_label.setMaximumWidth(360)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(180)
        self.progress.setFixedHeight(14)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._cancel_current)
        self.badge = QPushButton()
        self.badge.setObjectName("jobsBadge")
        self.badge.setFlat(True)
        self.badge.setCursor(Qt.CursorShape.PointingHandCursor)
        self.badge.clicked.connect(self.showJobsRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.setSpacing(8)
        layout.addWidget(self.message_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.badge)
        runner.jobAdded.connect(self._update)
        runner.jobChanged.connect(self._update)
        self._update()

    def current_job(self) -> int | None:
        return self._current

    def _cancel_current(self) -> None:
        if self._current is not None:
            self._runner.cancel(self._current)

    def _update(self, _job_id: int | None = None) -> None:
        running = self._runner.running()
        self.setVisible(bool(running))
        if not running:
            self._current = None
            return
        info = running[-1]
        self._current = info.id
        text = info.title + (f" — {info.message}" if info.message else "")
        self.message_label.set_full_text(text)
        _set_progress(self.progress, info)
        self.badge.setText(f"{len(running)} job{'s' if len(running) != 1 else ''} running")


if __name__ == "__main__":
    from collections.abc import Generator

    from stylerec_desktop.core.catalog import Catalog
    from stylerec_desktop.core.errors import UserError
    from stylerec_desktop.core.jobs import Progress
    from stylerec_desktop.gui.panels._standalone import run_panel
    from stylerec_desktop.gui.thumbnails import ThumbnailLoader

    def _sleepy(steps: int, fail: bool = False) -> Generator[Progress, None, int]:
        for step in range(steps):
            time.sleep(0.1)
            yield Progress(step + 1, steps, f"Step {step + 1} of {steps}")
        if fail:
            raise UserError("This demo job fails on purpose, to show how a failure looks.")
        return steps

    def _build(catalog: Catalog, runner: JobRunner, thumbnails: ThumbnailLoader) -> QWidget:
        panel = JobsPanel(runner)
        runner.submit("A job that finishes", _sleepy(20))
        runner.submit("A job that fails", _sleepy(10, fail=True))
        runner.submit("A long job (cancel me)", _sleepy(600))
        return panel

    raise SystemExit(run_panel("Jobs", _build, size=(520, 420)))
