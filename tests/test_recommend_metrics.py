"""The evaluation's metrics on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stylerec_desktop.core.recommend.evaluate import gini, ranking_metrics


def test_ranking_metrics_by_hand() -> None:
    # relevant items 7 and 9; the list hits 9 at rank 2 and 7 at rank 4
    ndcg, recall, hit, rr = ranking_metrics([1, 9, 3, 7, 5], {7, 9}, k=5)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    assert ndcg == pytest.approx(dcg / (1 + 1 / math.log2(3)))
    assert (recall, hit, rr) == (1.0, 1.0, 0.5)
    # only the first k count
    assert ranking_metrics([1, 9, 3, 7, 5], {7}, k=3) == (0.0, 0.0, 0.0, 0.0)
    assert ranking_metrics([7], {7}, k=10) == (1.0, 1.0, 1.0, 1.0)


def test_gini_of_exposure() -> None:
    assert gini(np.array([5, 5, 5, 5])) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 12])) == pytest.approx(0.75)  # (n - 1) / n for one product shown to all
    assert gini(np.zeros(3)) == 0.0
