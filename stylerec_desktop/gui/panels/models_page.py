"""Settings ▸ Models: every pretrained network StyleRec knows, whether its weights are here, and what needs it;
Gatys' VGG19 (not shipped in a package) can be downloaded or imported from a file.

The table is read on a worker (:func:`model_rows`: checking the weights hashes files and loads torch). Download and
import run as visible jobs, with their progress in the page and in the Jobs panel.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.core.jobs import Progress
from stylerec_desktop.gui import theme
from stylerec_desktop.gui.jobs import JobHandle, JobInfo, JobRunner, JobSource, JobState, LatestOnly

COLUMNS = ("Network", "Package", "Status", "Needed by", "")
STATES = {"present": "Present", "missing": "Missing", "mismatch": "Bad file"}
# What the user calls each engine (the studio's names) and the style index, which is not a stylize engine.
_ENGINE_TITLES = {"arbitrary": "Neural (arbitrary)", "preset": "Preset network", "gatys": "Gatys"}
_INDEX = "Style index (recommendations)"
# The networks core.recommend.features loads for every indexed image.
_INDEX_WEIGHTS = ("style-predictor", "efficientnet-lite0")


@dataclass(frozen=True)
class ModelRow:
    """One line of the table. ``state`` is ``present``, ``missing`` or ``mismatch``; ``note`` says where the file
    is or what to do."""

    name: str
    package: str
    state: str
    needed_by: str
    note: str
    is_vgg19: bool = False


def model_rows() -> list[ModelRow]:
    """On a worker: every registered network (:func:`~stylerec_desktop.core.models.weights.model_status`) and
    Gatys' VGG19, with the engines that need each."""
    from stylerec_desktop.core.models.weights import model_status
    from stylerec_desktop.core.stylize.gatys import vgg19_status
    from stylerec_desktop.core.stylize.recipe import ENGINE_WEIGHTS

    def needed_by(name: str) -> str:
        users = [_ENGINE_TITLES.get(engine, engine) for engine, needs in ENGINE_WEIGHTS.items()
                 if any(weights.name == name for weights in needs)]  # fmt: skip
        if name in _INDEX_WEIGHTS:
            users.append(_INDEX)
        return ", ".join(users) or "—"

    rows = [
        ModelRow(
            status.weights.name,
            f"{status.weights.distribution} {status.weights.version}",
            status.state,
            needed_by(status.weights.name),
            str(status.path) if status.state == "present" else status.message,
        )
        for status in model_status()
    ]
    vgg = vgg19_status()
    note = str(vgg.path) if vgg.state == "present" else f"{vgg.message} (it goes to {vgg.path})"
    rows.append(ModelRow(vgg.name, "torchvision (torch hub cache)", vgg.state, _ENGINE_TITLES["gatys"], note, True))
    return rows


def fetch_vgg19_job() -> Generator[Progress, None, Path]:
    """On a worker: download VGG19 into the torch hub cache, with progress; Cancel stops it and keeps nothing."""
    from stylerec_desktop.core.stylize.gatys import download_vgg19_job

    return (yield from download_vgg19_job())


def import_vgg19_job(path: Path) -> object:
    """On a worker: check ``path`` and copy it into the torch hub cache (an ``ImportedVGG19``)."""
    from stylerec_desktop.core.stylize.gatys import import_vgg19_weights

    return import_vgg19_weights(path)


class ModelsPage(QWidget):
    """The table of networks and the VGG19 actions. :attr:`rowsShown` fires each time the table is filled."""

    rowsShown = Signal()

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._rows: list[ModelRow] = []
        self._vgg_job: JobHandle | None = None
        self._notice: tuple[str, bool] | None = None  # what the last VGG19 job said, shown over the summary
        self.download_button = QPushButton()
        self.import_button = QPushButton()
        self._read = LatestOnly(runner, "Check the networks' weights", self)

        intro = QLabel(
            "The pretrained networks each engine needs. All but Gatys' VGG19 come with StyleRec's packages; "
            "VGG19 (548 MB) is downloaded once, or imported from a file copied from another computer."
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("modelsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setMinimumSectionSize(26)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        # "Needed by" wraps: its rows grow or shrink with the column (once the header has settled).
        self._fit_rows = QTimer(self, singleShot=True, interval=0)
        self._fit_rows.timeout.connect(self.table.resizeRowsToContents)
        header.sectionResized.connect(lambda column, _old, _new: column == 3 and self._fit_rows.start())
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.message_label = QLabel()
        self.message_label.setObjectName("modelsMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.message_label)

    # -- public API ----------------------------------------------------------------------------------------

    def reload(self) -> None:
        """Check every network again (on a worker); the table fills when the answer comes."""
        if not self._rows:
            self.message_label.setText("Checking the networks…")
        self._read.run(model_rows, self._show_rows, self._read_failed)

    def rows(self) -> list[ModelRow]:
        return list(self._rows)

    @property
    def busy(self) -> bool:
        return self._read.busy or self._vgg_job is not None

    def download_vgg19(self) -> JobHandle:
        return self._start_vgg19_job("Download the VGG19 weights", fetch_vgg19_job, "Downloading VGG19…")

    def import_vgg19(self, path: Path) -> JobHandle:
        return self._start_vgg19_job(
            f"Import VGG19 weights from {path.name}", lambda: import_vgg19_job(path), f"Checking {path.name}…"
        )

    # -- internals -----------------------------------------------------------------------------------------

    def _start_vgg19_job(self, title: str, job: JobSource, message: str) -> JobHandle:
        self._vgg_job = self._runner.submit(title, job)
        self._vgg_job.progress.connect(self._on_job_progress)
        self._vgg_job.finished.connect(self._on_job_finished)
        self._set_vgg_buttons_enabled(False)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self._set_message(message)
        return self._vgg_job

    def _choose_vgg19_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "VGG19 weights file", "", "PyTorch weights (*.pth *.pt);;All (*)")
        if name:
            self.import_vgg19(Path(name))

    def _show_rows(self, rows: list[ModelRow]) -> None:
        self._rows = rows
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            status = QTableWidgetItem(STATES.get(row.state, row.state))
            colours = theme.colours()
            status.setForeground(colours.success if row.state == "present" else colours.danger)
            for c, item in enumerate((QTableWidgetItem(row.name), QTableWidgetItem(row.package), status,
                                      QTableWidgetItem(row.needed_by))):  # fmt: skip
                item.setToolTip(row.note)
                self.table.setItem(r, c, item)
            if row.is_vgg19:
                # A new pair each time: the table deletes the widget a cell held when it gets another.
                self.table.setCellWidget(r, len(COLUMNS) - 1, self._vgg19_buttons(present=row.state == "present"))
        self.table.resizeRowsToContents()
        missing = [row for row in rows if row.state != "present"]
        if self._notice is not None:
            self._set_message(*self._notice)
            self._notice = None
        elif self._vgg_job is None:
            self._set_message(
                "Every network is here." if not missing else "\n".join(f"{row.name}: {row.note}" for row in missing)
            )
        self.rowsShown.emit()

    def _vgg19_buttons(self, present: bool) -> QWidget:
        self.download_button = QPushButton("Download")
        self.download_button.setObjectName("downloadVgg19")
        self.download_button.setToolTip(
            "Already downloaded" if present else "Download torchvision's ImageNet VGG19 (548 MB; needs internet)"
        )
        self.download_button.setEnabled(not present and self._vgg_job is None)
        self.download_button.clicked.connect(self.download_vgg19)
        self.import_button = QPushButton("Import file…")
        self.import_button.setObjectName("importVgg19")
        self.import_button.setToolTip("Import a VGG19 weights file (vgg19-dcbb9e9d.pth) copied from elsewhere")
        self.import_button.setEnabled(self._vgg_job is None)
        self.import_button.clicked.connect(self._choose_vgg19_file)
        box = QWidget()
        buttons = QHBoxLayout(box)
        buttons.setContentsMargins(4, 2, 4, 2)
        buttons.setSpacing(4)
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.import_button)
        return box

    def _read_failed(self, info: JobInfo) -> None:
        self._set_message(f"Could not check the networks: {info.error}", error=True)

    def _following(self, info: JobInfo) -> bool:
        # The page follows the download it started while it runs; a later Retry from the Jobs panel shows there.
        return self._vgg_job is not None and info.id == self._vgg_job.id

    def _on_job_progress(self, info: JobInfo) -> None:
        if not self._following(info):
            return
        if info.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(1000 * (info.fraction or 0.0)))
        if info.message:
            self._set_message(info.message)

    def _on_job_finished(self, info: JobInfo) -> None:
        if not self._following(info):
            return
        self._vgg_job = None
        self.progress.setVisible(False)
        self._set_vgg_buttons_enabled(True)
        if info.state is JobState.DONE:
            result = info.result
            official = getattr(result, "official", True)
            where = getattr(result, "path", result)
            note = "" if official else " It is not torchvision's own file; Gatys will work with its own look."
            self._notice = (f"VGG19 weights are in {where}.{note}", False)
        elif info.state is JobState.FAILED:
            self._notice = (info.error, True)
        else:
            self._notice = ("Stopped watching the download; if it completes, the file lands in the cache.", False)
        self._set_message(*self._notice)
        self.reload()

    def _set_vgg_buttons_enabled(self, enabled: bool) -> None:
        self.download_button.setEnabled(enabled)
        self.import_button.setEnabled(enabled)

    def _set_message(self, text: str, error: bool = False) -> None:
        theme.set_role(self.message_label, "error" if error else "")
        self.message_label.setText(text)
