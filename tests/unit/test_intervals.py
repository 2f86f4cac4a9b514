"""Intervals at the edges: Wilson where the percentile bootstrap collapses (k = 1, near 0 or 100 %)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from harness.core import stats
from harness.records.intervals import edge_interval, proportion_interval
from harness.reporting.render import _edge_note


def test_zero_of_thirty_gets_a_real_interval_where_the_bootstrap_collapses():
    x = np.zeros(30)
    assert stats.ci(x) == (0.0, 0.0)  # what a board showed for an AIME cell with no correct answer
    (lo, hi), method = edge_interval(x)
    assert method == "wilson" and lo == 0.0 and hi == pytest.approx(0.1135, abs=1e-4)
    (lo, hi), _ = edge_interval(np.ones(30))
    assert hi == pytest.approx(1.0) and lo == pytest.approx(1 - 0.1135, abs=1e-4)


def test_away_from_the_edges_and_for_avg_at_k_the_bootstrap_stands():
    assert edge_interval([1.0] * 15 + [0.0] * 15) is None
    assert edge_interval([0.5] + [0.0] * 29) is None  # avg@k scores are not one binomial proportion
    assert edge_interval([1.0] * 4 + [0.0] * 26) is not None  # 4 successes: still at the edge


def test_methods_and_the_footnote():
    assert proportion_interval(0, 30, "jeffreys")[1] < proportion_interval(0, 30, "wilson")[1]
    with pytest.raises(ValueError, match="unknown interval method"):
        proportion_interval(1, 2, "nope")
    board = SimpleNamespace(
        cells={
            ("a", "t"): SimpleNamespace(ci_method="wilson"),
            ("b", "t"): SimpleNamespace(ci_method="bootstrap"),
        }
    )
    assert "wilson score interval" in _edge_note(board)
    assert _edge_note(SimpleNamespace(cells={("b", "t"): SimpleNamespace(ci_method="bootstrap")})) == ""
