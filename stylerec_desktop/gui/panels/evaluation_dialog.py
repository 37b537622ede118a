"""Catalog ▸ Evaluate recommendations…: replays the catalog's history over rolling windows and shows how the
catalog's ranking does against the baselines, with 95% intervals, the paired differences in plain words, how many
customers and purchases the figures rest on, and the warning when they are too few.

The evaluation runs as a job (:meth:`RankingFitter.evaluate`) with progress and Cancel; the dialog stays usable.
Open it alone: ``python -m stylerec_desktop.gui.panels.evaluation_dialog [--catalog PATH]``.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stylerec_desktop.gui import theme
from stylerec_desktop.gui.jobs import JobHandle, JobInfo, JobState
from stylerec_desktop.gui.panels.catalog_fit import JobProgressRow, method_name, verdict
from stylerec_desktop.gui.ranking_fit import RankingFitter
from stylerec_desktop.gui.text import without_cli_flags

if TYPE_CHECKING:
    from stylerec_desktop.core.recommend.evaluate import EvaluationReport

_METRIC_COLUMNS = (("ndcg", "NDCG"), ("recall", "Recall"), ("hit_rate", "Hit rate"))


class EvaluationDialog(QDialog):
    """Settings of the replay, Run, and the results (:attr:`report` once one arrived)."""

    def __init__(self, fitter: RankingFitter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluationDialog")
        self.setWindowTitle("Evaluate recommendations")
        self._fitter = fitter
        self._handle: JobHandle | None = None
        self.report: EvaluationReport | None = None

        self.folds_box = _spin(1, 12, 4, " windows", "How many consecutive test windows to replay")
        self.days_box = _spin(1, 120, 14, " days", "The length of each test window")
        self.k_box = _spin(1, 100, 10, "", "How many recommendations count per customer (the k of NDCG@k)")
        self.learned_check = QCheckBox("Also train the learned model for each window (slower)")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Test windows", self.folds_box)
        form.addRow("Each window", self.days_box)
        form.addRow("Top", self.k_box)
        form.addRow(self.learned_check)
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runEvaluation")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(lambda: self.run())
        self.job_row = JobProgressRow()
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.job_row, 1)
        run_row.addStretch(0)

        self.summary_label = QLabel()
        self.summary_label.setObjectName("evaluationSummary")
        self.summary_label.setWordWrap(True)
        self.warning_label = QLabel()
        self.warning_label.setObjectName("evaluationWarning")
        self.warning_label.setWordWrap(True)
        self.warning_label.setProperty("role", "error")
        self.warning_label.hide()
        self.methods_table = _table("evaluationMethods", [f"{n} (95% interval)" for _, n in _METRIC_COLUMNS]
                                    + ["Coverage"])  # fmt: skip
        self.differences_table = _table("evaluationDifferences", ["Ours minus it, NDCG (95% interval)", "Verdict"])
        self.methods_table.hide()
        self.differences_table.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(run_row)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.methods_table, 2)
        layout.addWidget(self.differences_table, 1)
        layout.addWidget(buttons)
        self.resize(760, 560)
        theme.set_rich_text(
            self.summary_label,
            theme.muted(
                "Replays the catalog's history: each window's purchases are predicted only from the events before "
                "it, by this catalog's ranking and by three simple baselines."
            ),
        )

    def run(self) -> JobHandle | None:
        """Start the evaluation with the settings shown (None without a catalog)."""
        handle = self._fitter.evaluate(
            folds=self.folds_box.value(), test_days=self.days_box.value(), k=self.k_box.value(),
            learned=self.learned_check.isChecked(),
        )  # fmt: skip
        if handle is None:
            self.summary_label.setText("No catalog is open.")
            return None
        self._handle = handle
        self.run_button.setEnabled(False)
        self.job_row.follow(handle)
        handle.finished.connect(self._ended)
        return handle

    def _ended(self, info: JobInfo) -> None:
        if self._handle is None or info.id != self._handle.id:
            return
        self._handle = None
        self.run_button.setEnabled(True)
        if info.state is JobState.DONE:
            self.show_report(info.result)
        elif info.state is JobState.CANCELLED:
            theme.set_rich_text(self.summary_label, theme.muted("Evaluation cancelled."))
        else:
            theme.set_rich_text(self.summary_label, theme.danger(escape(without_cli_flags(info.error))))

    def show_report(self, report: EvaluationReport) -> None:
        self.report = report
        k = report.k
        self.summary_label.setText(
            f"<b>{report.test_purchases:,} test purchases</b> by {report.customers:,} customers "
            f"({report.customer_windows:,} customer-windows) in {report.folds} window"
            f"{'s' if report.folds != 1 else ''} of {report.test_days} days from {report.cutoff:%Y-%m-%d}; "
            f"top {k} recommendations each. Higher is better; the intervals say how sure each figure is."
        )
        self.warning_label.setVisible(report.warning is not None)
        self.warning_label.setText(without_cli_flags(report.warning or ""))
        methods = list(report.methods.items())
        self.methods_table.setRowCount(len(methods))
        self.methods_table.setVerticalHeaderLabels([method_name(m) for m, _ in methods])
        for r, (_, m) in enumerate(methods):
            for c, (metric, _) in enumerate(_METRIC_COLUMNS):
                value = getattr(m, metric)
                ci = m.ci.get(metric)
                text = f"{value:.3f}" if ci is None else f"{value:.3f}  [{ci[0]:.3f}, {ci[1]:.3f}]"
                self.methods_table.setItem(r, c, QTableWidgetItem(text))
            self.methods_table.setItem(r, len(_METRIC_COLUMNS), QTableWidgetItem(f"{m.coverage:.0%}"))
        header = self.methods_table.horizontalHeaderItem(0)
        if header is not None:  # set with the table's columns
            header.setText(f"NDCG@{k} (95% interval)")
        diffs = list(report.differences.items())
        self.differences_table.setRowCount(len(diffs))
        self.differences_table.setVerticalHeaderLabels([f"vs {method_name(b)}" for b, _ in diffs])
        for r, (_, d) in enumerate(diffs):
            mean, lo, hi = d["ndcg"]
            self.differences_table.setItem(r, 0, QTableWidgetItem(f"{mean:+.3f}  [{lo:+.3f}, {hi:+.3f}]"))
            self.differences_table.setItem(r, 1, QTableWidgetItem(verdict(lo, hi, "this catalog's ranking")))
        self.methods_table.show()
        self.differences_table.setVisible(bool(diffs))

    def done(self, result: int) -> None:
        # Closing the dialog cancels its evaluation: nobody would see the answer.
        if self._handle is not None:
            self._handle.cancel()
        super().done(result)


def _spin(low: int, high: int, value: int, suffix: str, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setSuffix(suffix)
    box.setToolTip(tip)
    return box


def _table(name: str, headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


if __name__ == "__main__":
    from stylerec_desktop.core.catalog import Catalog
    from stylerec_desktop.gui.catalog_changes import CatalogChanges
    from stylerec_desktop.gui.jobs import JobRunner
    from stylerec_desktop.gui.panels._standalone import run_panel
    from stylerec_desktop.gui.thumbnails import ThumbnailLoader

    def _build(catalog: Catalog, runner: JobRunner, _thumbnails: ThumbnailLoader) -> QWidget:
        changes = CatalogChanges(runner)
        fitter = RankingFitter(runner, changes)
        fitter.set_catalog(catalog)
        dialog = EvaluationDialog(fitter)
        fitter.setParent(dialog)
        changes.setParent(dialog)
        return dialog

    raise SystemExit(run_panel("Evaluate recommendations", _build, size=(760, 560)))
