"""What is fitted to the open catalog for its recommendations — the tuned ranking and the learned model — and the
jobs that fit, reset and evaluate them (Catalog ▸ Tune for this catalog, Train recommendation model…, Evaluate
recommendations…; Settings ▸ Recommendations).

:class:`RankingFitter` starts each as a job on the runner and hands the :class:`JobHandle` to whoever shows its
progress. Tuning searches on the read lane and stores nothing itself: only when it succeeds is the result saved, by
a short write on the write lane, so a cancelled (or failed) tune leaves the stored ranking as it was. Training
saves its model file in the same job after the last training step (cancelling between steps stores nothing). Every
store is told to the window through :class:`CatalogChanges` (``catalog_settings``, ``learned_model``), which is how
the recommendations panel learns to rank again and :attr:`RankingFitter.fitChanged` reports the new evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.models.hardware import device_label
from stylerec_desktop.gui.catalog_changes import CatalogChange, CatalogChanges, Table
from stylerec_desktop.gui.jobs import JobHandle, JobRunner, Lane, LatestOnly

if TYPE_CHECKING:  # torch-loading modules: imported on workers only
    from stylerec_desktop.core.jobs import Job
    from stylerec_desktop.core.recommend.evaluate import EvaluationReport
    from stylerec_desktop.core.recommend.learned import LearnedInfo
    from stylerec_desktop.core.recommend.tune import TunedRanking

TUNE_TITLE = "Tune recommendations for this catalog"
TRAIN_TITLE = "Train the recommendation model"
EVALUATE_TITLE = "Evaluate recommendations"


@dataclass(frozen=True)
class CatalogFit:
    """What is fitted to one catalog now: its stored tuned ranking (None: never tuned, or reset), its learned
    model's figures (None: no model; ``model_error`` says why a stored one cannot be used), and its event count
    now (for :meth:`TunedRanking.retune_hint`)."""

    tuned: TunedRanking | None
    events_now: int
    model: LearnedInfo | None
    model_error: str | None = None

    @property
    def retune_hint(self) -> str | None:
        return self.tuned.retune_hint(self.events_now) if self.tuned is not None else None


def read_fit(catalog: Catalog) -> CatalogFit:
    """On a worker: the catalog's :class:`CatalogFit`."""
    from stylerec_desktop.core.errors import UserError
    from stylerec_desktop.core.recommend.learned import load_model, model_path
    from stylerec_desktop.core.recommend.service import LEARNED_CACHE
    from stylerec_desktop.core.recommend.tune import stored_ranking

    # The recommendations' own cache: the model is read once for both (a large catalog's takes a while).
    model = LEARNED_CACHE.get(catalog)
    model_info, model_error = (model.info if model is not None else None), None
    if model is None and model_path(catalog).is_file():
        try:  # the cache ranks without a model it cannot use; ask again for the reason, to show it
            load_model(catalog)
        except UserError as exc:
            model_error = str(exc)
    return CatalogFit(stored_ranking(catalog), catalog.counts().events, model_info, model_error)


def _tune(catalog: Catalog, folds: int, test_days: int, k: int, seed: int) -> Job[TunedRanking]:
    from stylerec_desktop.core.recommend.tune import tune_job

    return (yield from tune_job(catalog, folds=folds, test_days=test_days, k=k, seed=seed, save=False))


def _train(catalog: Catalog, device: str, seed: int, epochs: int | None) -> Job[LearnedInfo]:
    from stylerec_desktop.core.recommend.learned import LearnedSettings, save_model, settings_with, train_model_job

    settings = LearnedSettings() if epochs is None else settings_with(LearnedSettings(), epochs=epochs)
    model = yield from train_model_job(catalog, settings=settings, seed=seed, device=device)
    # No step between the last training step and the save: a cancel lands before it or not at all.
    save_model(model, catalog)
    return model.info


def _evaluate(catalog: Catalog, folds: int, test_days: int, k: int, learned: bool) -> Job[EvaluationReport]:
    from stylerec_desktop.core.recommend.evaluate import evaluate_job
    from stylerec_desktop.core.recommend.tune import ranking_settings

    # The blend evaluated is the one recommend uses for this catalog: its tuned one when it has one.
    weights, taste = ranking_settings(catalog)
    return (yield from evaluate_job(catalog, test_days=test_days, k=k, weights=weights, taste_settings=taste,
                                    folds=folds, learned=learned))  # fmt: skip


class RankingFitter(QObject):
    """Tune, reset, train and evaluate for the open catalog (a catalog-bound view of the window).

    Signals: :attr:`fitChanged` with a :class:`CatalogFit` whenever it was read again (on opening a catalog, and
    after each write that changes it); :attr:`jobStarted` with ``(kind, JobHandle)``, ``kind`` one of ``"tune"``,
    ``"train"``, ``"evaluate"``, so a view can follow a job started elsewhere (the menu, or another view).
    """

    fitChanged = Signal(object)  # CatalogFit
    jobStarted = Signal(str, JobHandle)

    def __init__(self, runner: JobRunner, changes: CatalogChanges, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._changes = changes
        self._catalog: Catalog | None = None
        self._device = "auto"
        self._fit: CatalogFit | None = None
        self._read = LatestOnly(runner, "Read what is fitted to the catalog", self)
        self._running: dict[str, JobHandle] = {}

    # -- the catalog ---------------------------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog | None) -> None:
        self._catalog = catalog
        self._fit = None
        self._running.clear()  # jobs on the catalog shown before go on; their results no longer concern us
        self.reload()

    def catalog_changed(self, change: CatalogChange) -> None:
        # Events move the re-tune hint; the stored ranking and the model are the evidence itself.
        if change.touches(Table.CATALOG_SETTINGS, Table.LEARNED_MODEL, Table.EVENTS):
            self.reload()

    def set_device(self, device: str) -> None:
        """Where training runs (Settings ▸ Processing): auto, cpu, cuda or mps."""
        self._device = device

    def catalog(self) -> Catalog | None:
        return self._catalog

    def fit(self) -> CatalogFit | None:
        """The last :class:`CatalogFit` read (None before the first answer, or without a catalog)."""
        return self._fit

    def reload(self) -> None:
        catalog = self._catalog
        if catalog is None:
            self._read.invalidate()
            self.fitChanged.emit(None)
            return
        self._read.run(lambda: read_fit(catalog), self._arrived)

    def running(self, kind: str) -> JobHandle | None:
        """The job of ``kind`` started here that has not ended yet."""
        handle = self._running.get(kind)
        return handle if handle is not None and not handle.info.state.finished else None

    @property
    def busy(self) -> bool:
        return self._read.busy

    # -- the jobs ------------------------------------------------------------------------------------------

    def tune(self, folds: int = 3, test_days: int = 14, k: int = 10, seed: int = 0) -> JobHandle | None:
        """Start tuning (None without a writable catalog, or when a tune already runs: that one's handle)."""
        catalog = self._writable()
        if catalog is None:
            return None
        if (running := self.running("tune")) is not None:
            return running
        handle = self._runner.submit(TUNE_TITLE, lambda: _tune(catalog, folds, test_days, k, seed))
        handle.succeeded.connect(lambda info: self.store_tuned(info.result, catalog))
        return self._started("tune", handle)

    def reset(self) -> JobHandle | None:
        """Forget the catalog's tuned ranking (the defaults apply again)."""
        catalog = self._writable()
        if catalog is None:
            return None

        def forget() -> bool:
            from stylerec_desktop.core.recommend.tune import reset_ranking

            return reset_ranking(catalog)

        handle = self._runner.submit("Reset the tuned ranking", forget, lane=Lane.WRITE)
        return self._changes.watch(handle, [Table.CATALOG_SETTINGS])

    def train(self, seed: int = 0, epochs: int | None = None) -> JobHandle | None:
        """Train the learned model on the catalog's events and store it (None without a writable catalog).
        ``epochs``: at most this many passes (None: the model's default; early stopping usually ends it first)."""
        catalog = self._writable()
        if catalog is None:
            return None
        if (running := self.running("train")) is not None:
            return running
        device = self._device
        handle = self._runner.submit(
            TRAIN_TITLE, lambda: _train(catalog, device, seed, epochs), device=device_label(device)
        )
        self._changes.watch(handle, [Table.LEARNED_MODEL])
        return self._started("train", handle)

    def evaluate(self, folds: int = 4, test_days: int = 14, k: int = 10, learned: bool = False) -> JobHandle | None:
        """Evaluate the catalog's ranking against the baselines (reads only: a read-only catalog may be evaluated)."""
        catalog = self._catalog
        if catalog is None:
            return None
        handle = self._runner.submit(EVALUATE_TITLE, lambda: _evaluate(catalog, folds, test_days, k, learned))
        return self._started("evaluate", handle)

    # -- internals -----------------------------------------------------------------------------------------

    def _writable(self) -> Catalog | None:
        catalog = self._catalog
        return catalog if catalog is not None and not catalog.read_only else None

    def _started(self, kind: str, handle: JobHandle) -> JobHandle:
        self._running[kind] = handle
        self.jobStarted.emit(kind, handle)
        return handle

    def store_tuned(self, tuned: TunedRanking, catalog: Catalog | None = None) -> JobHandle | None:
        """Store ``tuned`` as the ranking of ``catalog`` (the open one when None), on the write lane; what a tune
        does when it succeeds. None when that catalog is no longer open (it was closed meanwhile)."""
        catalog = catalog if catalog is not None else self._catalog
        if catalog is None or catalog is not self._catalog:
            return None

        def store() -> None:
            from stylerec_desktop.core.recommend.tune import save_ranking

            save_ranking(catalog, tuned)

        handle = self._runner.submit("Store the tuned ranking", store, lane=Lane.WRITE, hidden=True)
        return self._changes.watch(handle, [Table.CATALOG_SETTINGS])

    def _arrived(self, fit: CatalogFit) -> None:
        self._fit = fit
        self.fitChanged.emit(fit)
