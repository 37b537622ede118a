"""The app's log: Python logging to a rotating file in the user's log folder, an in-memory ring of recent records
that Help ▸ Log… shows live, and the terminal when there is one.

Records come from every thread (job workers, thumbnail workers, the GUI). :class:`RecentRecords` formats each one in
the thread that logged it, keeps the newest :data:`RECENT_RECORDS` under a lock, and announces it through a Qt signal,
which reaches widgets on the GUI thread as a queued call: a worker never touches a widget.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, SignalInstance
from shiboken6 import Shiboken

LOG_FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"
LOG_FILE_NAME = "stylerec.log"
RECENT_RECORDS = 5000
_FILE_BYTES = 2 * 1024 * 1024
_FILE_BACKUPS = 5

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogEntry:
    """One record as the log dialog shows it: ``text`` is the formatted record, traceback included; ``number``
    counts the records of its ring from 1 (a view that read the ring tells the records it has from new ones)."""

    level: int
    text: str
    number: int = 0


class _Relay(QObject):
    entryAdded = Signal(object)  # LogEntry


class RecentRecords(logging.Handler):
    """A logging handler that keeps the newest ``capacity`` records and signals each new one.

    Connect to :attr:`entryAdded` (a Qt signal carrying a :class:`LogEntry`) from the GUI thread; the connection is
    queued whenever a record comes from another thread.
    """

    def __init__(self, capacity: int = RECENT_RECORDS, level: int = logging.DEBUG) -> None:
        super().__init__(level)
        self.setFormatter(logging.Formatter(LOG_FORMAT))
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._entries_lock = threading.Lock()
        self._count = 0
        self._relay = _Relay()

    @property
    def entryAdded(self) -> SignalInstance:  # noqa: N802 - reads like the Qt signal it is
        return self._relay.entryAdded

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            self.handleError(record)
            return
        with self._entries_lock:
            self._count += 1
            entry = LogEntry(record.levelno, text, self._count)
            self._entries.append(entry)
        if Shiboken.isValid(self._relay):  # gone only while the interpreter shuts down
            self._relay.entryAdded.emit(entry)

    def entries(self, min_level: int = logging.NOTSET) -> list[LogEntry]:
        """The records kept, oldest first, at ``min_level`` or above."""
        with self._entries_lock:
            return [entry for entry in self._entries if entry.level >= min_level]


@dataclass
class _Installed:
    recent: RecentRecords
    folder: Path | None


_installed: _Installed | None = None
_install_lock = threading.Lock()


def configure_logging(folder: Path | None = None, level: int = logging.INFO) -> RecentRecords:
    """Send the app's log to ``folder/stylerec.log`` (rotated at 2 MB, 5 kept), to the recent-records ring and, when
    started from a terminal, to stderr; returns the ring. ``folder`` defaults to the user's log folder. Safe to call
    again: the handlers are installed once per process (a later call returns the same ring).
    """
    global _installed
    with _install_lock:
        if _installed is not None:
            return _installed.recent
        from stylerec_desktop.core.paths import log_dir

        root = logging.getLogger()
        root.setLevel(level)
        if sys.stderr is not None and sys.stderr.isatty():  # started from a terminal (a windowed build has none)
            console = logging.StreamHandler(sys.stderr)
            console.setFormatter(logging.Formatter(LOG_FORMAT))
            root.addHandler(console)
        recent = RecentRecords()
        root.addHandler(recent)
        folder = folder if folder is not None else log_dir()
        problem = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            to_file = logging.handlers.RotatingFileHandler(
                folder / LOG_FILE_NAME, maxBytes=_FILE_BYTES, backupCount=_FILE_BACKUPS, encoding="utf-8"
            )
            to_file.setFormatter(logging.Formatter(LOG_FORMAT))
            root.addHandler(to_file)
        except OSError as exc:  # a read-only home folder: the app still runs, with the log in memory only
            problem, folder = exc, None
        _installed = _Installed(recent, folder)
    if problem is not None:
        log.warning("cannot write the log file: %s", problem)
    return recent


def recent_records() -> RecentRecords:
    """The ring that :func:`configure_logging` installed (installing the logging set-up first if nobody had)."""
    if _installed is None:
        configure_logging()
    assert _installed is not None
    return _installed.recent


def log_folder() -> Path | None:
    """The folder of the log file, or None when it could not be written."""
    if _installed is None:
        configure_logging()
    assert _installed is not None
    return _installed.folder
