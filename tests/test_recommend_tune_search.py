"""The ranking tuner's search on planted-signal folds (tests/tune_support.py): the same seed gives the same result,
and an evidence bar set beyond what the history can give keeps the defaults. Kept apart from
test_recommend_evaluate.py so that pytest-xdist can run these searches beside that file's own (make test)."""

from __future__ import annotations

import pytest
from tune_support import planted_folds

from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.recommend.evaluate import blend_ranker, ndcg_of, units_of
from stylerec_desktop.core.recommend.ranking import RankingWeights
from stylerec_desktop.core.recommend.taste import TasteSettings
from stylerec_desktop.core.recommend.tune import search_job


@pytest.mark.slow
def test_the_search_is_deterministic_given_the_seed() -> None:
    """Checked on a quicker search than test_tuning_finds_the_planted_signal_...: fewer shoppers, no random blends."""
    small_validation, small_held_out = planted_folds(seed=1, customers=60)  # just over the 100 purchases needed
    first, second = (run_job(search_job(small_validation, small_held_out, k=10, seed=3, test_days=15,
                                        random_candidates=2)) for _ in range(2))  # fmt: skip
    assert first.weights == second.weights and first.taste == second.taste
    assert first.held_out == second.held_out


@pytest.mark.slow
def test_without_enough_evidence_the_search_keeps_the_defaults() -> None:
    """A candidate must beat the current ranking by ``evidence_se`` standard errors: asking for far more evidence
    than a few hundred validation purchases can give leaves every setting at its default, although the search scored
    candidates that did better on these windows (the planted colour signal)."""
    validation, held_out = planted_folds(seed=1, customers=90, products=360)
    strict = run_job(search_job(validation, held_out, k=10, seed=3, test_days=15, random_candidates=0,
                                evidence_se=50.0))  # fmt: skip
    assert strict.weights == RankingWeights() and strict.taste == TasteSettings()
    assert strict.validation["tuned"] == strict.validation["default"]
    assert strict.candidates > 50
    colour_only = RankingWeights(**{n: float(n == "colour") for n in RankingWeights().as_dict()})
    units = units_of(validation)
    assert ndcg_of(validation, units, blend_ranker(10, colour_only), 10).mean() > strict.validation["default"]
