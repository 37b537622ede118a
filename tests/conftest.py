"""Set-up shared by every test: Qt runs headless, and no test touches the user's catalog, data or settings.

This runs before pytest-qt creates the QApplication (and before any test imports Qt), so the environment
below is what Qt and platformdirs see for the whole session. Each test then gets its own catalog location and,
when Qt is loaded, its own QSettings folder.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the app runs (stylerec_desktop/gui/__init__.py)
os.environ.setdefault("PYTEST_QT_API", "pyside6")
_SANDBOX = Path(tempfile.mkdtemp(prefix="stylerec-tests-"))
atexit.register(shutil.rmtree, _SANDBOX, ignore_errors=True)
# Qt and platformdirs read these on Linux: settings, the default catalog, caches and logs land in the sandbox.
for _name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
    (_SANDBOX / _name.lower()).mkdir(mode=0o700)
    os.environ[_name] = str(_SANDBOX / _name.lower())
os.environ["STYLEREC_CATALOG"] = str(_SANDBOX / "default-catalog")


@pytest.fixture(autouse=True)
def _isolated_user_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per test: a default catalog path that does not exist yet, and QSettings in a folder of its own."""
    monkeypatch.setenv("STYLEREC_CATALOG", str(tmp_path / "default-catalog"))
    if "PySide6.QtCore" in sys.modules:
        from PySide6.QtCore import QSettings

        for settings_format in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
            QSettings.setPath(settings_format, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
            QSettings.setPath(settings_format, QSettings.Scope.SystemScope, str(tmp_path / "qsettings-system"))


_REPO = Path(__file__).resolve().parent.parent
_TREE_BEFORE = pytest.StashKey[set[str] | None]()


def _tree_status() -> set[str] | None:
    """``git status --porcelain`` lines of the source tree (ignored files left out), or None outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=_REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return set(result.stdout.splitlines()) if result.returncode == 0 else None


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_TREE_BEFORE] = _tree_status()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Tests never write into the source tree: a file they add or change there fails the run, by name."""
    before = session.config.stash.get(_TREE_BEFORE, None)
    after = _tree_status()
    if before is None or after is None:
        return
    written = sorted(after - before)
    if written:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write("\n")
            reporter.write_line("The source tree changed during the test run (tests must write under tmp_path; "
                                "or was it edited meanwhile?):", red=True)  # fmt: skip
            for line in written:
                reporter.write_line(f"    {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fault suite's table of cases and failures, when it ran (see tests/faults/fault_cases.py)."""
    cases = sys.modules.get("fault_cases")
    if cases is not None:
        cases.print_table(terminalreporter.write_line)
