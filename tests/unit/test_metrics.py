"""avg@k, unbiased pass@k, maj@k."""

from math import comb

import pytest

from harness.scoring import Verdict, pass_at_k, sample_metrics


def v(correct, extracted, status="ok"):
    return Verdict(correct, extracted, status, "test")


@pytest.mark.parametrize("n,c,k", [(10, 3, 1), (10, 3, 5), (64, 1, 64), (64, 0, 8), (5, 5, 2)])
def test_pass_at_k_matches_the_definition(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k))


def test_pass_at_k_needs_enough_samples():
    with pytest.raises(ValueError, match="pass@5 needs at least 5 samples"):
        pass_at_k(3, 1, 5)


def test_sample_metrics():
    vs = [v(False, "3"), v(True, "4"), v(False, "3.0"), v(False, None, "no_answer")]
    m = sample_metrics(vs)
    assert m == {"avg_at_k": 0.25, "pass_at_k": 1.0, "maj_at_k": 0.0, "no_answer": 0.25}


def test_majority_groups_equal_values_and_breaks_ties_by_first_seen():
    assert sample_metrics([v(True, "1/2"), v(False, "3"), v(True, "0.5")])["maj_at_k"] == 1.0
    assert sample_metrics([v(False, "3"), v(True, "4")])["maj_at_k"] == 0.0
    assert sample_metrics([v(False, None, "no_answer")])["maj_at_k"] == 0.0
