"""Set-up shared by every test: Qt runs headless, and no test touches the user's catalog, data or settings.

This runs before pytest-qt creates the QApplication (and before any test imports Qt), so the environment
below is what Qt and platformdirs see for the whole session. Each test then gets its own catalog location and,
when Qt is loaded, its own QSettings folder.
"""

from __future__ import annotations

import atexit
import os
import shutil
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


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fault suite's table of cases and failures, when it ran (see tests/faults/fault_cases.py)."""
    cases = sys.modules.get("fault_cases")
    if cases is not None:
        cases.print_table(terminalreporter.write_line)
