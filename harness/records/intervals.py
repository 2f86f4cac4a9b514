"""Confidence intervals that hold at the edges.

A board cell's 95 % interval is a percentile bootstrap over problems. For a single sample per problem
(k = 1, outcomes 0/1) near 0 or 100 % with few problems (AIME: n = 30) the bootstrap collapses: 0/30
correct resamples to [0, 0]. There the Wilson score interval is used instead (statsmodels'
``proportion_confint``, ``method="wilson"``): 0/30 gives [0, 11.4 %]. "Near the edge" is the textbook
rule for the normal approximation: fewer than :data:`EDGE_MIN` successes or failures.
"""

from __future__ import annotations

from collections.abc import Sequence

EDGE_MIN = 5
METHODS = ("wilson", "jeffreys", "beta", "agresti_coull", "normal")


def proportion_interval(
    successes: int, n: int, method: str = "wilson", level: float = 0.95
) -> tuple[float, float]:
    """Interval for a binomial proportion (``successes`` of ``n``) by ``method`` (statsmodels' names)."""
    from statsmodels.stats.proportion import proportion_confint

    if method not in METHODS:
        raise ValueError(f"unknown interval method {method!r}; valid: {', '.join(METHODS)}")
    if n <= 0:
        return (float("nan"), float("nan"))
    lo, hi = proportion_confint(successes, n, alpha=1 - level, method=method)
    return float(max(0.0, lo)), float(min(1.0, hi))


def edge_interval(
    per_problem: Sequence[float], level: float = 0.95, method: str = "wilson"
) -> tuple[tuple[float, float], str] | None:
    """``(interval, method)`` for single-sample 0/1 scores near 0 or 100 % (fewer than ``EDGE_MIN`` successes
    or failures); None otherwise (fractional avg@k scores, or away from the edges: the bootstrap stands)."""
    values = [float(v) for v in per_problem]
    n = len(values)
    if n == 0 or any(v not in (0.0, 1.0) for v in values):
        return None
    c = int(sum(values))
    if min(c, n - c) >= EDGE_MIN:
        return None
    return proportion_interval(c, n, method, level), method
