"""What is fitted to a catalog, in the GUI: Tune with progress and cancel, the tuned ranking's evidence in Settings
and its effect on the recommendations panel, Reset, training the learned model, and the Evaluate view."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gui_helpers import wait_idle
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.recommend.controls import RankingWeights
from stylerec_desktop.core.recommend.evaluate import evaluate
from stylerec_desktop.core.recommend.learned import model_path
from stylerec_desktop.core.recommend.service import recommend_for_customer
from stylerec_desktop.core.recommend.taste import TasteSettings
from stylerec_desktop.core.recommend.tune import TunedRanking, ranking_settings, stored_ranking
from stylerec_desktop.gui.jobs import JobInfo, JobRunner, JobState
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.panels.recommendations import BLEND_MINE
from stylerec_desktop.gui.thumbnails import ThumbnailLoader

ONLY_COLOUR = RankingWeights(**{name: float(name == "colour") for name in RankingWeights().as_dict()})


@pytest.fixture(scope="module")
def tuneable_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo catalog with enough purchases to tune on (300 customers), indexed; never written by a test."""
    from stylerec_desktop.core.demo import build_demo_catalog
    from stylerec_desktop.core.recommend.indexing import index_catalog

    folder = tmp_path_factory.mktemp("tuneable-source") / "catalog"
    catalog = run_job(build_demo_catalog(folder, n_products=40, n_customers=300))
    run_job(index_catalog(catalog, device="cpu"))
    catalog.close()
    return folder


def _open(qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], source: Path, tmp_path: Path) -> MainWindow:
    runner, thumbnails = services
    folder = tmp_path / "catalog"
    shutil.copytree(source, folder)
    window = MainWindow(runner, thumbnails, QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_catalog(folder)
    wait_idle(qtbot, runner)
    return window


def _busiest(catalog: Catalog) -> str:
    return max(catalog.customers(), key=lambda c: c.event_count).customer_id


def _pick(qtbot: QtBot, window: MainWindow, customer_id: str) -> None:
    panel = window.recommendations_panel
    window.customers_panel.choose(customer_id)
    qtbot.waitUntil(lambda: not panel.busy and panel.model.rowCount() > 0, timeout=60_000)


def _settled(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.recommendations_panel
    qtbot.waitUntil(
        lambda: not panel.busy and panel.workspace() is not None and panel.workspace().query == panel.query(),
        timeout=60_000,
    )
    wait_idle(qtbot, window.runner)


def _tuned(weights: RankingWeights, applied: bool = True, events: int = 1234) -> TunedRanking:
    """A tuned ranking as a tune would store it (figures made up for the display; only the weights rank)."""
    return TunedRanking(
        weights=weights, taste=TasteSettings(half_life_days=30.0), fitted_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        events=events, newest_event=datetime(2026, 11, 30, tzinfo=UTC), folds=3, test_days=14, k=10, seed=0,
        validation={"tuned": 0.31, "default": 0.22, "customer_windows": 120},
        held_out={"tuned": {"ndcg": 0.301, "ci": [0.25, 0.35]}, "default": {"ndcg": 0.212, "ci": [0.17, 0.26]},
                  "popularity": {"ndcg": 0.104, "ci": [0.07, 0.14]}},
        differences={"default": [0.089, 0.031, 0.142], "popularity": [0.197, -0.01, 0.3]},
        held_out_purchases=150, validation_purchases=210, candidates=99, applied=applied,
        reason=None if applied else "The tuned ranking did worse than the defaults on the held-out window.",
    )  # fmt: skip


def test_tune_shows_progress_and_a_cancelled_tune_stores_nothing(
    qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], tuneable_source: Path, tmp_path: Path
) -> None:
    window = _open(qtbot, services, tuneable_source, tmp_path)
    steps: list[JobInfo] = []
    window.ranking_fitter.jobStarted.connect(lambda _kind, handle: handle.progress.connect(steps.append))
    window.tune_action.trigger()  # Catalog ▸ Tune: starts it and shows Settings ▸ Recommendations
    dialog = window.settings_dialog
    assert dialog is not None and dialog.fit_box is not None
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Recommendations"
    box = dialog.fit_box
    handle = window.ranking_fitter.running("tune")
    assert handle is not None and not box.tune_button.isEnabled()
    # The search reports each ranking it tries: wait for a few, shown in the box's bar and message.
    qtbot.waitUntil(lambda: len({s.done for s in steps if s.total}) >= 2, timeout=90_000)
    assert box.tune_row.isVisible() and box.tune_row.bar.maximum() == 1000 and box.tune_row.bar.value() > 0
    assert "rankings tried" in box.tune_row.message.text()

    box.tune_row.cancel_button.click()
    qtbot.waitUntil(lambda: handle.info.state.finished, timeout=60_000)
    wait_idle(qtbot, window.runner)
    assert handle.info.state is JobState.CANCELLED
    catalog = window.catalog()
    assert catalog is not None and stored_ranking(catalog) is None
    assert "cancelled: nothing was stored" in box.outcome_label.text()
    assert not box.tune_row.isVisible() and box.tune_button.isEnabled()
    assert "Not tuned" in box.tuned_label.text()


def test_too_little_history_to_tune_says_why_in_words_and_keeps_the_defaults(
    qtbot: QtBot, indexed_window: MainWindow
) -> None:
    window = indexed_window
    window.tune_ranking()
    box = window.settings_dialog.fit_box
    assert box is not None
    handle = window.ranking_fitter.running("tune")
    assert handle is not None
    qtbot.waitUntil(lambda: handle.info.state.finished, timeout=60_000)
    wait_idle(qtbot, window.runner)
    assert handle.info.state is JobState.FAILED
    text = box.outcome_label.text()
    assert "Too little history" in text and "default ranking stays" in text and "--" not in text
    assert stored_ranking(window.catalog()) is None


def test_a_stored_tuned_ranking_changes_what_the_panel_shows_reset_undoes_it_and_a_rejected_one_says_why(
    qtbot: QtBot, indexed_window: MainWindow
) -> None:
    window = indexed_window
    catalog = window.catalog()
    assert catalog is not None
    customer_id = _busiest(catalog)
    panel = window.recommendations_panel
    _pick(qtbot, window, customer_id)
    before = panel.model.product_ids()
    assert not panel.uses_catalog_blend() and "not tuned yet" in panel.blend_label.text()

    assert window.ranking_fitter.store_tuned(_tuned(ONLY_COLOUR)) is not None
    qtbot.waitUntil(lambda: panel.uses_catalog_blend(), timeout=30_000)
    _settled(qtbot, window)
    # The panel ranks as recommend does for this catalog now: with its tuned weights and taste settings.
    assert ranking_settings(catalog) == (ONLY_COLOUR, TasteSettings(half_life_days=30.0))
    expected = recommend_for_customer(catalog, customer_id, k=24)
    assert panel.model.product_ids() == [rec.product_id for rec, _ in expected.items]
    assert panel.model.product_ids() != before
    shown = [panel.model.item(row)[0] for row in range(panel.model.rowCount())]
    assert all(v == 0.0 for rec in shown for name, v in rec.components.items() if name != "colour")
    assert "Tuned for this catalog on 2026-12-01 from 1,234 events" in panel.blend_label.text()

    # Settings shows the evidence.
    dialog = window.open_settings("Recommendations")
    box = dialog.fit_box
    assert box is not None
    qtbot.waitUntil(lambda: box.evidence_table.rowCount() == 3, timeout=10_000)
    assert "Tuned on 2026-12-01 09:30" in box.tuned_label.text() and "In use" in box.tuned_label.text()
    assert box.evidence_table.item(0, 0).text() == "0.301  [0.250, 0.350]"
    assert box.evidence_table.verticalHeaderItem(2).text() == "Recent best-sellers"
    assert box.evidence_table.item(1, 2).text() == "tuned is ahead"
    assert box.evidence_table.item(2, 2).text() == "no clear difference"
    assert "Colour 1" in box.settings_label.text() and "half-life 30 days" in box.settings_label.text()

    # The user may start from their own blend instead: the defaults rank again, and the label says so.
    panel.blend_combo.setCurrentIndex(panel.blend_combo.findData(BLEND_MINE))
    _settled(qtbot, window)
    assert not panel.uses_catalog_blend() and "instead of this catalog's tuned blend" in panel.blend_label.text()
    assert panel.model.product_ids() == before

    box.reset_button.click()
    qtbot.waitUntil(lambda: "Not tuned" in box.tuned_label.text(), timeout=30_000)
    _settled(qtbot, window)
    assert stored_ranking(catalog) is None and not box.reset_button.isEnabled()
    assert "not tuned yet" in panel.blend_label.text()
    assert panel.model.product_ids() == before

    # A tune that kept the defaults says why, and the panel ranks as before. It was fitted on a single event: the
    # catalog has grown well past it, so tuning again is suggested (in words, not as a command).
    window.ranking_fitter.store_tuned(_tuned(ONLY_COLOUR, applied=False, events=1))
    qtbot.waitUntil(lambda: "kept them" in panel.blend_label.text(), timeout=30_000)
    _settled(qtbot, window)
    assert "did worse than the defaults" in panel.blend_label.text() and not panel.uses_catalog_blend()
    assert "Tune it again" in panel.blend_label.text() and "stylerec" not in panel.blend_label.text()
    assert panel.model.product_ids() == before
    qtbot.waitUntil(lambda: "not applied" in box.tuned_label.text(), timeout=10_000)
    assert box.hint_label.isVisibleTo(box) and "Tune it again" in box.hint_label.text()


def test_training_shows_progress_cancel_stores_nothing_and_a_trained_model_joins_the_ranking(
    qtbot: QtBot, indexed_window: MainWindow
) -> None:
    window = indexed_window
    catalog = window.catalog()
    assert catalog is not None
    customer_id = _busiest(catalog)
    panel = window.recommendations_panel
    _pick(qtbot, window, customer_id)
    assert all(panel.model.item(r)[0].components["learned"] == 0.0 for r in range(panel.model.rowCount()))

    steps: list[JobInfo] = []
    window.ranking_fitter.jobStarted.connect(lambda _kind, handle: handle.progress.connect(steps.append))
    window.train_action.trigger()
    box = window.settings_dialog.fit_box
    assert box is not None
    handle = window.ranking_fitter.running("train")
    assert handle is not None
    qtbot.waitUntil(lambda: any(s.total for s in steps), timeout=60_000)
    box.train_row.cancel_button.click()
    qtbot.waitUntil(lambda: handle.info.state.finished, timeout=60_000)
    wait_idle(qtbot, window.runner)
    assert handle.info.state is JobState.CANCELLED and not model_path(catalog).exists()
    assert "Training cancelled: nothing was stored" in box.outcome_label.text()

    handle = window.ranking_fitter.train(epochs=1)  # what the button starts, shorter
    assert handle is not None and not box.train_button.isEnabled()
    qtbot.waitUntil(lambda: handle.info.state.finished, timeout=120_000)
    assert handle.info.state is JobState.DONE, handle.info.error
    assert model_path(catalog).is_file()
    info = handle.info.result
    qtbot.waitUntil(lambda: "trained" in box.model_label.text(), timeout=30_000)
    assert f"on {info.events:,} events of {info.customers:,} customers" in box.model_label.text()
    _settled(qtbot, window)
    # The stored model is one more signal of what the panel shows.
    assert any(panel.model.item(r)[0].components["learned"] != 0.0 for r in range(panel.model.rowCount()))
    expected = recommend_for_customer(catalog, customer_id, k=24)
    assert panel.model.product_ids() == [rec.product_id for rec, _ in expected.items]


def test_the_evaluate_view_shows_figures_with_intervals_differences_in_words_and_the_warning(
    qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], tuneable_source: Path, tmp_path: Path
) -> None:
    window = _open(qtbot, services, tuneable_source, tmp_path)
    window.evaluate_action.trigger()
    dialog = window.evaluation_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.folds_box.setValue(1)
    dialog.days_box.setValue(10)
    handle = dialog.run()
    assert handle is not None and not dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=120_000)
    catalog = window.catalog()
    assert catalog is not None
    expected = evaluate(catalog, folds=1, test_days=10, k=10)
    report = dialog.report
    assert report.test_purchases == expected.test_purchases
    assert {m: r.ndcg for m, r in report.methods.items()} == {m: r.ndcg for m, r in expected.methods.items()}
    table = dialog.methods_table
    assert table.rowCount() == len(expected.methods)
    first = expected.methods["stylerec"]
    lo, hi = first.ci["ndcg"]
    assert table.verticalHeaderItem(0).text() == "This catalog's ranking"
    assert table.item(0, 0).text() == f"{first.ndcg:.3f}  [{lo:.3f}, {hi:.3f}]"
    diffs = dialog.differences_table
    assert diffs.rowCount() == len(expected.differences)
    for row, (_, d) in enumerate(expected.differences.items()):
        mean, lo, hi = d["ndcg"]
        words = diffs.item(row, 1).text()
        assert words == ("this catalog's ranking is ahead" if lo > 0 else "this catalog's ranking is behind"
                         if hi < 0 else "no clear difference")  # fmt: skip
    assert f"{expected.test_purchases:,} test purchases" in dialog.summary_label.text()
    assert dialog.warning_label.isVisible() == (expected.warning is not None)
    assert "--" not in dialog.warning_label.text()
    assert dialog.run_button.isEnabled()
