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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no test runs alone (see pytest_runtest_protocol)
    fcntl = None  # type: ignore[assignment]

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the app runs (stylerec_desktop/gui/__init__.py)
# Under pytest-xdist (`make test` runs `-n auto`) each worker gets its share of the cores for torch's and OpenCV's
# thread pools: two workers with a 2-thread pool each on 2 cores spin against each other (OpenMP busy-waits) and
# both get slower. Set before any test imports torch; a value the caller set wins.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
if _WORKERS > 1:
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // _WORKERS)))
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, the test files that hold a test marked ``slow`` go first (each keeping its own order).

    ``make test`` hands out whole files (``--dist loadfile --no-loadscope-reorder``) in this order, to whichever
    worker is free: the long files start at once and the many short ones fill in around them, instead of one long
    file starting last and running alone. Every worker collects the same order, as xdist requires."""
    if not _is_xdist_worker(config):
        return
    slow_files = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: files stay whole and in their order


def _shared_lock_files(config: pytest.Config) -> tuple[Path, Path] | None:
    """In a pytest-xdist worker: two lock files in the run's temporary folder, which every worker of the run shares
    (each worker's ``basetemp`` is a folder of it); None in a plain run or where there is no ``fcntl``."""
    basetemp = getattr(config.option, "basetemp", None)
    if fcntl is None or not basetemp or not _is_xdist_worker(config):
        return None
    shared = Path(basetemp).parent
    return shared / "stylerec-timing-turnstile.lock", shared / "stylerec-timing.lock"


@contextmanager
def _holding(config: pytest.Config, alone: bool) -> Iterator[None]:
    """A reader-writer lock over the xdist workers: the exclusive side (``alone``) for a test marked ``timing``,
    the shared side for the others. The turnstile, taken in passing by everyone and held by a timing test until it
    has the exclusive lock, stops the other worker from starting new tests while it waits for the running one."""
    locks = _shared_lock_files(config)
    if locks is None:
        yield
        return
    with open(locks[0], "a") as turnstile, open(locks[1], "a") as lock:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """Under pytest-xdist, a test marked ``timing`` holds the app to a wall-clock budget (a GUI stall, a process
    gone within a second): its body runs while no other worker runs a test, as in a serial run (its fixtures are
    set up beside the others). Every other test holds the shared lock from its setup (module fixtures included) to
    its teardown."""
    if item.get_closest_marker("timing") is not None:
        return (yield)
    with _holding(item.config, alone=False):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    if item.get_closest_marker("timing") is None:
        return (yield)
    with _holding(item.config, alone=True):
        return (yield)


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


def _is_xdist_worker(config: pytest.Config) -> bool:
    """True in a pytest-xdist worker process (the controller, or a plain run, has no ``workerinput``)."""
    return hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    # Under xdist the controller checks the tree once around the whole run: a worker's "after" would catch the
    # other worker's files in the middle of a test that removes them again.
    if not _is_xdist_worker(session.config):
        session.config.stash[_TREE_BEFORE] = _tree_status()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Tests never write into the source tree: a file they add or change there fails the run, by name."""
    if _is_xdist_worker(session.config):
        cases = sys.modules.get("fault_cases")
        if cases is not None:  # the fault tallies travel to the controller, which prints the one table
            session.config.workeroutput["fault_cases"] = cases.tallies()  # type: ignore[attr-defined]
        return
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


@pytest.hookimpl(optionalhook=True)  # an xdist hook: a run without pytest-xdist has none
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist controller: add a finished worker's fault tallies (see :func:`pytest_sessionfinish`) to this process's."""
    tallies = getattr(node, "workeroutput", {}).get("fault_cases")
    if tallies:
        _fault_cases().merge(tallies)


def _fault_cases() -> Any:
    """The fault suite's tally module, imported by the name its tests use (tests/faults is on their path)."""
    if "fault_cases" not in sys.modules:
        sys.path.insert(0, str(Path(__file__).resolve().parent / "faults"))
        import fault_cases  # noqa: F401 - registers itself in sys.modules
    return sys.modules["fault_cases"]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fault suite's table of cases and failures, when it ran (see tests/faults/fault_cases.py)."""
    cases = sys.modules.get("fault_cases")
    if cases is not None:
        cases.print_table(terminalreporter.write_line)
