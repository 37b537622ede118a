"""Helpers the GUI tests share: the small catalog's size and waiting for the job runner to settle.

Kept out of ``conftest.py``: a conftest is pytest's to load, and importing it as a module (``from conftest import``)
loads a second copy under another name whenever another conftest.py is on the path first.
"""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from stylerec_desktop.gui.jobs import JobRunner

SMALL_PRODUCTS = 40
SMALL_CUSTOMERS = 8


def wait_idle(qtbot: QtBot, runner: JobRunner, timeout: int = 60_000) -> None:
    """Until no job (background reads included) is queued or running, and their results were delivered. The bound
    is generous: it only costs time when a test fails, and a render on a loaded 2-core machine can take 10 s+."""
    qtbot.waitUntil(runner.is_idle, timeout=timeout)
    qtbot.wait(20)
