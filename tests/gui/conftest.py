"""Fixtures of the GUI tests: a small catalog built once per session and copied per test (also with its styles
indexed), the job runner and thumbnail loader (shut down after each test), and a main window showing the catalog."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from gui_catalogs import build_small_catalog
from gui_helpers import SMALL_CUSTOMERS, SMALL_PRODUCTS, wait_idle
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

import stylerec_desktop.gui  # noqa: F401 - applies the Qt binding work-arounds before any Qt call
from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.gui.jobs import JobRunner
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.thumbnails import ThumbnailLoader


@pytest.fixture(autouse=True)
def _closing_cancels_running_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a main window with jobs running asks first (a modal box); tests close windows in their clean-up
    while background jobs may still run, and nobody is there to answer: answer "Cancel jobs and quit".
    Tests of the question itself patch the window's own method."""
    from stylerec_desktop.gui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "confirm_cancel_jobs", lambda _self, _running: True)


@pytest.fixture(scope="session")
def small_catalog_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: never opened for writing by a test (tests get a copy)."""
    folder = tmp_path_factory.mktemp("small-catalog-source") / "catalog"
    catalog = build_small_catalog(folder, SMALL_PRODUCTS, SMALL_CUSTOMERS)
    catalog.close()
    return folder


@pytest.fixture(scope="session")
def indexed_catalog_source(small_catalog_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small catalog with its styles indexed (a few seconds, once per session; never written by a test)."""
    from stylerec_desktop.core.jobs import run_job
    from stylerec_desktop.core.recommend.indexing import index_catalog  # torch: only for the tests that need it

    folder = tmp_path_factory.mktemp("indexed-catalog-source") / "catalog"
    shutil.copytree(small_catalog_source, folder)
    catalog = Catalog.open(folder)
    run_job(index_catalog(catalog, device="cpu"))
    catalog.close()
    return folder


@pytest.fixture
def catalog_dir(small_catalog_source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(small_catalog_source, target)
    return target


@pytest.fixture
def catalog(catalog_dir: Path) -> Iterator[Catalog]:
    catalog = Catalog.open(catalog_dir)
    yield catalog
    catalog.close()


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[JobRunner]:
    """A job runner of the test's own, its workers joined afterwards (test_gui_jobs keeps a stricter one)."""
    runner = JobRunner()
    yield runner
    assert runner.shutdown(10_000)


@pytest.fixture
def services(qtbot: QtBot) -> Iterator[tuple[JobRunner, ThumbnailLoader]]:
    """The job runner and thumbnail loader, shut down (workers joined) after the test."""
    runner = JobRunner()
    thumbnails = ThumbnailLoader()
    yield runner, thumbnails
    assert runner.shutdown(10_000)
    assert thumbnails.shutdown(10_000)


@pytest.fixture
def window(qtbot: QtBot, catalog_dir: Path, services: tuple[JobRunner, ThumbnailLoader], tmp_path: Path) -> MainWindow:
    """The main window at 1400x900 showing a copy of the small catalog, its grid filled."""
    runner, thumbnails = services
    window = MainWindow(runner, thumbnails, QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_catalog(catalog_dir)
    qtbot.waitUntil(lambda: window.catalog_panel.result_count() == SMALL_PRODUCTS, timeout=10_000)
    wait_idle(qtbot, runner)  # categories, customers and counts are read in the background too
    return window


@pytest.fixture
def indexed_window(
    qtbot: QtBot, indexed_catalog_source: Path, services: tuple[JobRunner, ThumbnailLoader], tmp_path: Path
) -> MainWindow:
    """The main window at 1400x900 showing a copy of the indexed small catalog."""
    runner, thumbnails = services
    folder = tmp_path / "indexed"
    shutil.copytree(indexed_catalog_source, folder)
    window = MainWindow(runner, thumbnails, QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_catalog(folder)
    wait_idle(qtbot, runner, timeout=60_000)  # the style index loads as the catalog opens (torch, PCA)
    return window
