"""Settings ▸ Processing ▸ "Run batch jobs on" (issue 14): the choice persists, a bad address is marked with the
accepted forms and cannot be applied, the choice is greyed out with the install line without Ray, and a batch job
started from the window runs on the chosen cluster with the Jobs panel saying where ("running on 2 Ray workers").
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from feature_catalog import FakeProduct, build_feature_catalog
from gui_helpers import wait_idle
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog, CustomerRecord, EventRecord
from stylerec_desktop.core.cluster import ClusterSpec, parse_cluster
from stylerec_desktop.core.export import BUILTIN_PRESETS, ExportOptions, export_job, read_manifest
from stylerec_desktop.core.export.items import product_items_by_id
from stylerec_desktop.core.jobs import Progress, run_job
from stylerec_desktop.core.recommend.batch import recommend_batch
from stylerec_desktop.gui import batch_jobs
from stylerec_desktop.gui.jobs import JobRunner, JobState
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.panels import cluster_box, settings_dialog
from stylerec_desktop.gui.panels.export_dialog import ExportDialog
from stylerec_desktop.gui.panels.jobs import JobRow
from stylerec_desktop.gui.panels.settings_dialog import DeviceSupport, SettingsDialog
from stylerec_desktop.gui.settings import AppSettings, Preferences
from stylerec_desktop.gui.thumbnails import ThumbnailLoader

NO_GPU = DeviceSupport(cuda=False, cuda_name="", mps=False, fast_bf16_cpu=False, cpu_threads=2)
CUSTOMERS = [f"C{n}" for n in range(12)]


@pytest.fixture(autouse=True)
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_dialog, "probe_devices", lambda: NO_GPU)


def _ini(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def _dialog(qtbot: QtBot, settings: AppSettings, runner: JobRunner) -> SettingsDialog:
    dialog = SettingsDialog(settings, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    return dialog


def test_the_cluster_setting_persists_and_garbage_reads_as_this_machine(tmp_path: Path) -> None:
    settings = AppSettings(_ini(tmp_path))
    assert settings.preferences().cluster is None  # this machine by default
    settings.save(Preferences(cluster_enabled=True, cluster_address="local[3]"))
    again = AppSettings(_ini(tmp_path)).preferences()
    assert again.cluster == ClusterSpec("local", workers=3)
    raw = _ini(tmp_path)
    raw.setValue("processing/cluster_address", "http://nowhere")
    raw.sync()
    assert AppSettings(_ini(tmp_path)).preferences().cluster == ClusterSpec("auto")


def test_a_bad_address_is_marked_with_the_accepted_forms_and_cannot_be_applied(
    qtbot: QtBot, runner: JobRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster_box, "ray_installed", lambda: True)
    settings = AppSettings(_ini(tmp_path))
    dialog = _dialog(qtbot, settings, runner)
    box = dialog.cluster_box
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert box.here_button.isChecked() and not box.address_edit.isEnabled()

    box.cluster_button.setChecked(True)
    box.address_edit.setText("ray://head")  # no port
    assert box.address_edit.property("invalid") is True
    assert box.error_label.isVisibleTo(dialog)
    assert "ray://HOST:PORT" in box.error_label.text() and "local[N]" in box.error_label.text()
    assert not dialog.apply_button.isEnabled() and not ok.isEnabled()

    box.address_edit.setText("ray://head.example:10001")
    assert box.address_edit.property("invalid") is False and not box.error_label.isVisibleTo(dialog)
    assert dialog.apply_button.isEnabled() and ok.isEnabled()
    dialog.apply_button.click()
    assert AppSettings(_ini(tmp_path)).preferences().cluster == parse_cluster("ray://head.example:10001")

    box.address_edit.setText("local[0]")  # out of range: marked; going back to this machine clears the mark
    assert not ok.isEnabled()
    box.here_button.setChecked(True)
    assert ok.isEnabled() and box.address_edit.property("invalid") is False
    dialog.apply_button.click()
    stored = AppSettings(_ini(tmp_path)).preferences()
    assert stored.cluster is None and stored.cluster_address == "ray://head.example:10001"  # the last good one


def test_without_ray_the_choice_is_greyed_out_with_the_install_line(
    qtbot: QtBot, runner: JobRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster_box, "ray_installed", lambda: False)
    dialog = _dialog(qtbot, AppSettings(_ini(tmp_path)), runner)
    box = dialog.cluster_box
    assert not box.cluster_button.isEnabled() and not box.address_edit.isEnabled()
    assert box.note_label.text() == "Install the cluster extra: pip install 'stylerec-desktop[cluster]'"
    assert box.here_button.isChecked()


# -- a batch job on a local cluster, from the window ----------------------------------------------------------------


@pytest.fixture(scope="module")
def feature_catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("gui-cluster") / "catalog"
    products = [FakeProduct(f"P{look}-{c}", (20.0 + 20 * c, 0.0, 0.0), look=look)
                for look in range(6) for c in range(3)]  # fmt: skip
    catalog = build_feature_catalog(folder, products)
    catalog.upsert_customers([CustomerRecord(c) for c in CUSTOMERS])
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    catalog.add_events([EventRecord(c, f"P{n % 6}-{day % 3}", "purchase", t0 + timedelta(days=day))
                        for n, c in enumerate(CUSTOMERS[:-1]) for day in range(3)])  # fmt: skip
    catalog.close()
    return folder


@pytest.fixture
def cluster_window(
    qtbot: QtBot, feature_catalog_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MainWindow]:
    pytest.importorskip("ray")
    runner, thumbnails = JobRunner(), ThumbnailLoader()
    ini = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    AppSettings(ini).save(Preferences(cluster_enabled=True, cluster_address="local[2]"))
    window = MainWindow(runner, thumbnails, ini)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_catalog(feature_catalog_dir)
    wait_idle(qtbot, runner)
    yield window
    window.close()
    assert runner.shutdown(30_000) and thumbnails.shutdown(10_000)


def test_recommend_to_every_customer_runs_on_the_chosen_cluster_and_the_jobs_panel_says_so(
    qtbot: QtBot, cluster_window: MainWindow, feature_catalog_dir: Path, tmp_path: Path
) -> None:
    window = cluster_window
    assert window.recommend_all_action.isEnabled()
    out = tmp_path / "everyone.jsonl"
    messages: list[str] = []
    job = window.recommend_all.start(out, k=4)
    assert job is not None and job.info.device == "Ray local[2]"
    job.progress.connect(lambda info: messages.append(info.message))
    # While it runs, its row in the Jobs panel says where: on the cluster, in the job's own words.
    rows = [row for row in window.jobs_panel.findChildren(JobRow) if row.job_id == job.id]
    assert len(rows) == 1
    qtbot.waitUntil(lambda: "running on 2 ray workers, 0 gpus" in rows[0].message_label.text().lower(),
                    timeout=120_000)  # fmt: skip
    assert not job.info.state.finished and "Ray local[2]" in rows[0].state_label.text()
    qtbot.waitUntil(lambda: job.info.state.finished, timeout=120_000)
    assert job.info.state is JobState.DONE, job.info.error
    said = list(dict.fromkeys(m for m in messages if m))
    assert said[:2] == ["Starting the Ray cluster local[2]", "Running on 2 Ray workers, 0 GPUs (local[2])"]
    reference = tmp_path / "here.jsonl"
    with Catalog.open(feature_catalog_dir) as catalog:
        run_job(recommend_batch(catalog, sorted(CUSTOMERS), reference, k=4))
    assert out.read_bytes() == reference.read_bytes()
    qtbot.waitUntil(lambda: "Wrote recommendations for 12 customers" in window.statusBar().currentMessage())


def test_the_index_job_goes_to_the_cluster_indexer(feature_catalog_dir: Path, tmp_path: Path) -> None:
    """With a cluster chosen the GUI's index job is the cluster's (its own first message; the cluster is not
    started when every image is indexed already, so this needs no Ray start)."""
    pytest.importorskip("ray")
    folder = tmp_path / "catalog"
    shutil.copytree(feature_catalog_dir, folder)
    steps: list[Progress] = []
    with Catalog.open(folder) as catalog:
        report = run_job(batch_jobs.indexing_job(catalog, "cpu", parse_cluster("local[2]")), steps.append)
    assert steps[0].message == "Nothing to index (18 images already indexed); the cluster is not used"
    assert (report.indexed, report.already_indexed) == (0, 18)


def test_the_export_dialog_exports_on_the_chosen_cluster_with_the_same_files(
    qtbot: QtBot, catalog: Catalog, runner: JobRunner, tmp_path: Path
) -> None:
    """Settings ▸ "Run batch jobs on" reaches the export dialog: its job runs on local[2] (the Jobs panel's place
    says so) and writes the same files a single-machine export of the same products writes."""
    pytest.importorskip("ray")
    ini = _ini(tmp_path)
    AppSettings(ini).save(Preferences(cluster_enabled=True, cluster_address="local[2]"))
    products = catalog.products(limit=2)
    dialog = ExportDialog(catalog, runner, [p.id for p in products], ini)
    qtbot.addWidget(dialog)
    dialog.show()
    for name in ("portrait", "story"):
        dialog.preset_checks[name].setChecked(False)
    dialog.set_folder(tmp_path / "cluster")
    with qtbot.waitSignal(dialog.exported, timeout=180_000) as done:
        assert dialog.start_export() is not None
        job = runner.job(dialog.job_id)
        assert job is not None and job.device == "Ray local[2]"
    assert done.args[0].written == 2
    reference = tmp_path / "here"
    run_job(export_job(product_items_by_id(catalog, [p.id for p in products]), [BUILTIN_PRESETS["square"]],
                       reference, ExportOptions()))  # fmt: skip
    _, rows = read_manifest(tmp_path / "cluster")
    assert sorted(r.path for r in rows) == sorted(f"{p.sku}_square.jpg" for p in products)
    for row in rows:  # the pictures byte for byte (the manifests carry the export's time)
        assert (tmp_path / "cluster" / row.path).read_bytes() == (reference / row.path).read_bytes(), row.path
