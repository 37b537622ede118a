"""Help ▸ Log…: the app's recent log records for support, live, filtered by level, with Copy all, Save as… and
Open log folder.

The records come from :class:`~stylerec_desktop.gui.logbook.RecentRecords`; new ones arrive as queued signals from
whichever thread logged them and are appended in small batches, so a burst of log lines from a worker costs the GUI
one repaint, not hundreds. Saving writes the file on a worker.

Open it alone: ``python -m stylerec_desktop.gui.panels.log_dialog``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import (
    QDesktopServices,
    QFontDatabase,
    QGuiApplication,
    QSyntaxHighlighter,
    QTextCharFormat,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.safe_files import write_atomic
from stylerec_desktop.gui import theme
from stylerec_desktop.gui.jobs import JobHandle, JobInfo, JobRunner
from stylerec_desktop.gui.logbook import LogEntry, RecentRecords

LEVELS = (
    ("Everything", logging.DEBUG),
    ("Information and above", logging.INFO),
    ("Warnings and errors", logging.WARNING),
    ("Errors only", logging.ERROR),
)
_BATCH_MS = 100
_MAX_LINES = 100_000


class _LevelColours(QSyntaxHighlighter):
    """Colours warnings and errors, traceback lines included: a line that starts no record (no timestamp) keeps the
    level of the record above it (the block state carries it)."""

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt's name
        level = _level_of_line(text)
        if level is None:
            level = max(self.previousBlockState(), logging.NOTSET)
        self.setCurrentBlockState(level)
        if level >= logging.WARNING:
            colours = theme.colours()
            style = QTextCharFormat()
            style.setForeground(colours.danger if level >= logging.ERROR else colours.warning)
            self.setFormat(0, len(text), style)


def _level_of_line(text: str) -> int | None:
    """The level of a record's first line (``2024-05-01 12:00:00,123 WARNING [thread] name: …``), else None."""
    parts = text.split(" ", 3)
    if len(parts) < 3 or not (parts[0][:4].isdigit() and parts[0].count("-") == 2):
        return None
    level = logging.getLevelName(parts[2])
    return level if isinstance(level, int) else None


def _write_text(path: Path, text: str) -> Path:
    try:
        write_atomic(path, text)  # a log saved over an older copy is never left half written
    except OSError as exc:
        raise UserError(f"Cannot write {path}: {exc.strerror or exc}. Choose another folder.") from None
    return path


class LogDialog(QDialog):
    """The records of ``recent`` at the chosen level and above, growing as new ones are logged."""

    def __init__(
        self, recent: RecentRecords, runner: JobRunner, folder: Path | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("logDialog")
        self.setWindowTitle("Log")
        self._recent = recent
        self._runner = runner
        self._folder = folder
        self._pending: list[LogEntry] = []
        self._shown = 0
        self._read_up_to = 0  # the number of the newest record the last full read of the ring saw

        self.level_combo = QComboBox()
        self.level_combo.setObjectName("logLevel")
        for text, level in LEVELS:
            self.level_combo.addItem(text, level)
        self.level_combo.setCurrentIndex(1)
        self.level_combo.currentIndexChanged.connect(self._reload)
        self.count_label = QLabel()
        self.count_label.setProperty("role", "muted")
        self.text = QPlainTextEdit()
        self.text.setObjectName("logText")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setMaximumBlockCount(_MAX_LINES)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlaceholderText("Nothing logged at this level yet.")
        self._colours = _LevelColours(self.text.document())
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setProperty("role", "muted")

        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.level_combo)
        top.addStretch(1)
        top.addWidget(self.count_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.copy_button = QPushButton("Copy all")
        self.copy_button.setToolTip("Copy the records shown, to paste into a support request")
        self.copy_button.clicked.connect(self.copy_all)
        self.save_button = QPushButton("Save as…")
        self.save_button.clicked.connect(self._choose_save_path)
        self.folder_button = QPushButton("Open log folder")
        self.folder_button.setEnabled(folder is not None)
        self.folder_button.setToolTip(str(folder) if folder is not None else "The log could not be written to a file")
        self.folder_button.clicked.connect(self.open_folder)
        for button in (self.copy_button, self.save_button, self.folder_button):
            button.setAutoDefault(False)  # Enter closes the log, whichever button had the focus last
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        if close is not None:
            close.setDefault(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)
        layout.addLayout(bottom)
        self.resize(960, 520)

        self._flush_timer = QTimer(self, singleShot=True, interval=_BATCH_MS)
        self._flush_timer.timeout.connect(self._flush)
        recent.entryAdded.connect(self._on_entry)
        self._reload()

    # -- public API ----------------------------------------------------------------------------------------

    def min_level(self) -> int:
        return int(self.level_combo.currentData())

    def set_min_level(self, level: int) -> None:
        """Show records at ``level`` and above (one of :data:`LEVELS`' levels)."""
        index = self.level_combo.findData(level)
        if index < 0:
            raise ValueError(f"not a level of the filter: {level}")
        self.level_combo.setCurrentIndex(index)

    def shown_text(self) -> str:
        return self.text.toPlainText()

    def shown_count(self) -> int:
        return self._shown

    def copy_all(self) -> None:
        QGuiApplication.clipboard().setText(self.shown_text())
        self.status_label.setText("Copied the records shown.")

    def save_to(self, path: Path) -> JobHandle:
        """Write the records shown to ``path`` (on a worker); returns its job."""
        text = self.shown_text() + "\n"
        return self._runner.submit(
            f"Save the log to {path.name}",
            lambda: _write_text(path, text),
            hidden=True,
            on_result=lambda saved: self.status_label.setText(f"Saved the log to {saved}."),
            on_failure=self._save_failed,
        )

    def open_folder(self) -> None:
        if self._folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._folder)))

    # -- internals -----------------------------------------------------------------------------------------

    def _reload(self) -> None:
        self._flush_timer.stop()
        self._pending.clear()
        everything = self._recent.entries()
        # Records logged while the ring was read also arrive as signals: those the read already had are skipped.
        self._read_up_to = everything[-1].number if everything else 0
        entries = [entry for entry in everything if entry.level >= self.min_level()]
        self.text.setPlainText("\n".join(entry.text for entry in entries))
        self._shown = len(entries)
        self._update_count()
        self._scroll_to_end()

    def _on_entry(self, entry: LogEntry) -> None:
        if entry.level >= self.min_level() and entry.number > self._read_up_to:
            self._pending.append(entry)
            if not self._flush_timer.isActive():
                self._flush_timer.start()

    def _flush(self) -> None:
        if not self._pending:
            return
        bar = self.text.verticalScrollBar()
        following = bar.value() >= bar.maximum() - 2  # the user is reading the end: keep up with new records
        self.text.appendPlainText("\n".join(entry.text for entry in self._pending))
        self._shown += len(self._pending)
        self._pending.clear()
        self._update_count()
        if following:
            self._scroll_to_end()

    def _update_count(self) -> None:
        self.count_label.setText(f"{self._shown:,} record" + ("" if self._shown == 1 else "s"))

    def _scroll_to_end(self) -> None:
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _choose_save_path(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save the log", "stylerec-log.txt", "Text files (*.txt *.log)")
        if name:
            self.save_to(Path(name))

    def _save_failed(self, info: JobInfo) -> None:
        self.status_label.setText(f"Could not save the log: {info.error}")


if __name__ == "__main__":
    import sys

    from PySide6.QtWidgets import QApplication

    from stylerec_desktop.gui import logbook
    from stylerec_desktop.gui.panels._standalone import announce_when_idle

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    theme.apply(app)
    recent = logbook.configure_logging()
    logging.getLogger("stylerec_desktop.demo").warning("a warning, to see the colours")
    try:
        raise ValueError("an example error")
    except ValueError:
        logging.getLogger("stylerec_desktop.demo").exception("an error with its traceback")
    runner = JobRunner()
    dialog = LogDialog(recent, runner, logbook.log_folder())
    dialog.show()
    announce_when_idle(runner)
    code = app.exec()
    runner.shutdown()
    raise SystemExit(code)
