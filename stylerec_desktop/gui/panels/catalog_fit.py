"""Settings ▸ Recommendations ▸ This catalog: the tuned ranking with its evidence, the learned model's figures, and
the buttons that tune, reset, train and evaluate (through :class:`~stylerec_desktop.gui.ranking_fit.RankingFitter`).

Each running job shows its progress and a Cancel button here, whether it was started here or from the Catalog menu.
Open it alone: ``python -m stylerec_desktop.gui.panels.catalog_fit [--catalog PATH]``.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
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

from stylerec_desktop.gui import theme
from stylerec_desktop.gui.jobs import JobHandle, JobInfo, JobState
from stylerec_desktop.gui.ranking_fit import CatalogFit, RankingFitter
from stylerec_desktop.gui.text import without_cli_flags
from stylerec_desktop.gui.widgets import SIGNAL_NAMES

if TYPE_CHECKING:
    from stylerec_desktop.core.recommend.learned import LearnedInfo
    from stylerec_desktop.core.recommend.tune import TunedRanking

#: How the evaluation's methods are called in the app.
METHOD_NAMES = {
    "tuned": "Tuned blend",
    "default": "Default blend",
    "stylerec": "This catalog's ranking",
    "popularity": "Recent best-sellers",
    "cooccurrence": "Often bought together",
    "visual_knn": "Visual look-alikes",
    "learned": "Learned model alone",
}


def method_name(method: str) -> str:
    return METHOD_NAMES.get(method, method)


def verdict(lo: float, hi: float, ours: str = "ours") -> str:
    """A paired difference's 95% interval in plain words."""
    if lo > 0:
        return f"{ours} is ahead"
    if hi < 0:
        return f"{ours} is behind"
    return "no clear difference"


class JobProgressRow(QWidget):
    """A progress bar, its message and a Cancel button for one job kind; hidden while nothing runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.handle: JobHandle | None = None
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(200)
        self.message = QLabel()
        self.message.setProperty("role", "muted")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.cancel_button)
        self.hide()

    def follow(self, handle: JobHandle) -> None:
        self.handle = handle
        handle.progress.connect(self._show)
        handle.finished.connect(self._ended)
        self._show(handle.info)
        self.show()

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()

    def _show(self, info: JobInfo) -> None:
        if self.handle is None or info.id != self.handle.id:
            return
        if info.total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * (info.fraction or 0.0)))
        else:
            self.bar.setRange(0, 0)  # busy: the total is not known yet
        self.message.setText(info.message or ("Waiting…" if info.state is JobState.QUEUED else "Working…"))

    def _ended(self, info: JobInfo) -> None:
        if self.handle is not None and info.id == self.handle.id:
            self.handle = None
            self.hide()


class CatalogFitBox(QGroupBox):
    """The evidence and the controls. :attr:`evaluateRequested` asks the window for the Evaluate view."""

    evaluateRequested = Signal()

    def __init__(self, fitter: RankingFitter, parent: QWidget | None = None) -> None:
        super().__init__("This catalog's ranking", parent)
        self.setObjectName("catalogFitBox")
        self._fitter = fitter
        self.tuned_label = _wrapping_label("tunedStatus")
        self.evidence_table = QTableWidget(0, 3)
        self.evidence_table.setObjectName("tunedEvidence")
        self.evidence_table.setHorizontalHeaderLabels(["NDCG (95% interval)", "Tuned minus it", "In plain words"])
        self.evidence_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.evidence_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.evidence_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.evidence_table.horizontalHeader().setStretchLastSection(True)
        self.evidence_table.setMaximumHeight(190)
        self.settings_label = _wrapping_label("tunedSettings", muted=True)
        self.hint_label = _wrapping_label("retuneHint")
        self.outcome_label = _wrapping_label("fitOutcome")
        self.tune_button = QPushButton("Tune for this catalog")
        self.tune_button.setObjectName("tuneButton")
        self.tune_button.setToolTip(
            "Search the blend and the taste settings that best predict this catalog's own next purchases, "
            "checked on later weeks the search never saw. Runs in the background."
        )
        self.tune_button.clicked.connect(lambda: self._fitter.tune())  # not clicked(checked) as an argument
        self.reset_button = QPushButton("Reset to defaults")
        self.reset_button.setObjectName("resetRanking")
        self.reset_button.clicked.connect(lambda: self._fitter.reset())
        self.evaluate_button = QPushButton("Evaluate…")
        self.evaluate_button.clicked.connect(self.evaluateRequested)
        self.tune_row = JobProgressRow()
        buttons = QHBoxLayout()
        buttons.addWidget(self.tune_button)
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        buttons.addWidget(self.evaluate_button)

        self.model_label = _wrapping_label("modelStatus")
        self.train_button = QPushButton("Train recommendation model")
        self.train_button.setObjectName("trainButton")
        self.train_button.setToolTip(
            "Learn from this catalog's events, product pictures and attributes which products each customer takes "
            "next; the model becomes one more signal of the blend."
        )
        self.train_button.clicked.connect(lambda: self._fitter.train())
        self.train_row = JobProgressRow()
        train_buttons = QHBoxLayout()
        train_buttons.addWidget(self.train_button)
        train_buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tuned_label)
        layout.addWidget(self.evidence_table)
        layout.addWidget(self.settings_label)
        layout.addWidget(self.hint_label)
        layout.addLayout(buttons)
        layout.addWidget(self.tune_row)
        layout.addWidget(self.outcome_label)
        layout.addSpacing(6)
        layout.addWidget(self.model_label)
        layout.addLayout(train_buttons)
        layout.addWidget(self.train_row)

        fitter.fitChanged.connect(self.show_fit)
        fitter.jobStarted.connect(self._follow)
        for kind in ("tune", "train"):  # started before this box opened (from the Catalog menu)
            running = fitter.running(kind)
            if running is not None:
                self._follow(kind, running)
        self.show_fit(fitter.fit())
        self._update_buttons()

    # -- what is shown -------------------------------------------------------------------------------------

    def show_fit(self, fit: CatalogFit | None) -> None:
        catalog = self._fitter.catalog()
        if catalog is None:
            self.tuned_label.setText("No catalog is open.")
            self.model_label.clear()
        elif fit is None:
            theme.set_rich_text(self.tuned_label, theme.muted("Reading what is fitted to this catalog…"))
        else:
            self._show_tuned(fit.tuned)
            self._show_model(fit.model, fit.model_error)
        hint = fit.retune_hint if fit is not None else None
        self.hint_label.setVisible(hint is not None)
        self.hint_label.setText(hint.replace(" (stylerec tune, or Tune for this catalog)", " (Tune for this catalog)")
                                if hint else "")  # fmt: skip
        self._update_buttons()

    def _show_tuned(self, tuned: TunedRanking | None) -> None:
        self.evidence_table.setVisible(tuned is not None)
        self.settings_label.setVisible(tuned is not None)
        if tuned is None:
            self.tuned_label.setText(
                "<b>Not tuned.</b> The default blend applies. Tuning fits it to this catalog's own history."
            )
            return
        when = f"{tuned.fitted_at:%Y-%m-%d %H:%M}"
        checked_days = tuned.held_out_folds * tuned.test_days
        basis = (
            f"on {tuned.events:,} events ({tuned.validation_purchases:,} purchases in {tuned.folds} windows of "
            f"{tuned.test_days} days; {tuned.candidates} rankings tried), checked on the {checked_days} days after "
            f"them ({tuned.held_out_purchases:,} purchases)"
        )
        if tuned.applied:
            lead = f"<b>Tuned on {when}</b>, {basis}. In use for this catalog."
        else:
            lead = f"<b>Tuned on {when} but not applied:</b> {escape(tuned.reason or '')} ({basis})."
        if tuned.warning:
            lead += "<br>" + theme.danger(escape(without_cli_flags(tuned.warning)))(theme.colours())
        self.tuned_label.setText(lead)
        rows = list(tuned.held_out.items())
        self.evidence_table.setRowCount(len(rows))
        self.evidence_table.setVerticalHeaderLabels([method_name(m) for m, _ in rows])
        for r, (method, figures) in enumerate(rows):
            lo, hi = figures["ci"]
            diff = tuned.differences.get(method)
            cells = [
                f"{figures['ndcg']:.3f}  [{lo:.3f}, {hi:.3f}]",
                f"{diff[0]:+.3f}  [{diff[1]:+.3f}, {diff[2]:+.3f}]" if diff else "",
                verdict(diff[1], diff[2], "tuned") if diff else "",
            ]
            for c, text in enumerate(cells):
                self.evidence_table.setItem(r, c, QTableWidgetItem(text))
        header = self.evidence_table.horizontalHeaderItem(0)
        if header is not None:  # set with the table's columns
            header.setText(f"NDCG@{tuned.k} (95% interval)")
        weights = ", ".join(f"{SIGNAL_NAMES.get(n, n)} {v:.3g}" for n, v in tuned.weights.as_dict().items())
        t = tuned.taste
        kinds = ", ".join(f"{n} {v:g}" for n, v in t.kind_weights.items())
        self.settings_label.setText(
            f"Weights: {weights}.\nTaste: half-life {t.half_life_days:g} days, split into looks at gain "
            f"{t.split_gain:g}, looks combined by “{t.aggregation}”, event weights {kinds}."
        )

    def _show_model(self, info: LearnedInfo | None, error: str | None) -> None:
        if error is not None:
            message = escape(error.replace("run `stylerec learn` to train it again", "train it again"))
            self.model_label.setText(f"<b>Learned model:</b> {theme.danger(message)(theme.colours())}")
            return
        if info is None:
            self.model_label.setText("<b>Learned model:</b> none yet. Recommendations use the blend's other signals.")
            return
        text = (
            f"<b>Learned model</b> trained {info.trained_at[:16].replace('T', ' ')} on {info.events:,} events of "
            f"{info.customers:,} customers and {info.products:,} products ({info.cold_products:,} without events, "
            f"scored by their looks), up to {info.data_until[:10]}; {info.epochs} epochs (kept {info.best_epoch}) "
            f"on {info.device}, {info.seconds:.0f} s."
        )
        v = info.validation
        if v is None:
            text += " No purchases in its validation window, so its length was not chosen on data."
        else:
            text += (
                f" On the purchases after {v.since[:10]} ({v.purchases:,} by {v.customers:,} customers): "
                f"NDCG@{v.k} {v.ndcg:.3f} against {v.popularity_ndcg:.3f} for best-sellers; recall {v.recall:.3f} "
                f"against {v.popularity_recall:.3f}."
            )
        self.model_label.setText(text)

    # -- jobs ----------------------------------------------------------------------------------------------

    def _follow(self, kind: str, handle: JobHandle) -> None:
        row = {"tune": self.tune_row, "train": self.train_row}.get(kind)
        if row is None:
            return
        self.outcome_label.clear()
        row.follow(handle)
        handle.finished.connect(lambda info, kind=kind: self._ended(kind, info))
        self._update_buttons()

    def _ended(self, kind: str, info: JobInfo) -> None:
        what = "Tuning" if kind == "tune" else "Training"
        if info.state is JobState.CANCELLED:
            theme.set_rich_text(self.outcome_label, theme.muted(f"{what} cancelled: nothing was stored."))
        elif info.state is JobState.FAILED:
            message = without_cli_flags(info.error)
            theme.set_rich_text(self.outcome_label, theme.danger(escape(f"{what} stopped: {message}")))
        else:
            self.outcome_label.clear()
        self._update_buttons()

    def _update_buttons(self) -> None:
        catalog = self._fitter.catalog()
        writable = catalog is not None and not catalog.read_only
        fit = self._fitter.fit()
        self.tune_button.setEnabled(writable and self._fitter.running("tune") is None)
        self.train_button.setEnabled(writable and self._fitter.running("train") is None)
        self.reset_button.setEnabled(writable and fit is not None and fit.tuned is not None)
        self.evaluate_button.setEnabled(catalog is not None)


def _wrapping_label(name: str, muted: bool = False) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if not muted else Qt.TextFormat.PlainText)
    if muted:
        label.setProperty("role", "muted")
    return label



if __name__ == "__main__":
    from stylerec_desktop.core.catalog import Catalog
    from stylerec_desktop.gui.catalog_changes import CatalogChanges
    from stylerec_desktop.gui.jobs import JobRunner
    from stylerec_desktop.gui.panels._standalone import run_panel
    from stylerec_desktop.gui.thumbnails import ThumbnailLoader

    def _build(catalog: Catalog, runner: JobRunner, _thumbnails: ThumbnailLoader) -> QWidget:
        changes = CatalogChanges(runner)
        fitter = RankingFitter(runner, changes)
        changes.set_catalog(catalog)
        changes.changed.connect(fitter.catalog_changed)
        box = CatalogFitBox(fitter)
        fitter.setParent(box)
        changes.setParent(box)
        fitter.set_catalog(catalog)
        box.evaluateRequested.connect(lambda: print("evaluateRequested"))
        return box

    raise SystemExit(run_panel("This catalog's ranking", _build, size=(760, 560)))
