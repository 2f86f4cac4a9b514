"""Statistics over problems: bootstrap CIs (problems resampled, never samples), paired tests.

Everything is seeded and vectorised with numpy, so the same inputs give byte-identical tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from harness.core.hashing import seed_of  # noqa: F401  (re-exported: boards seed their bootstraps with it)

DEFAULT_B = 2000


def bootstrap_means(per_problem: np.ndarray, b: int = DEFAULT_B, seed: int = 0) -> np.ndarray:
    """``b`` bootstrap replicates of the mean of per-problem scores (problems resampled with replacement)."""
    x = np.asarray(per_problem, dtype=float)
    idx = np.random.default_rng(seed).integers(0, len(x), size=(b, len(x)))
    return x[idx].mean(axis=1)


def ci(
    per_problem: np.ndarray, level: float = 0.95, b: int = DEFAULT_B, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean over problems."""
    if len(per_problem) == 0:
        return (float("nan"), float("nan"))
    return percentile_ci(bootstrap_means(per_problem, b, seed), level)


def percentile_ci(reps: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` interval of bootstrap replicates."""
    lo, hi = np.quantile(reps, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


@dataclass(frozen=True)
class PairedResult:
    """A paired comparison of two runs: delta, its confidence interval, one-sided p-values and the test used."""

    delta: float  # candidate - baseline (fraction, not points)
    ci: tuple[float, float]
    p_worse: float  # one-sided p-value for "candidate is worse"
    p_better: float  # one-sided p-value for "candidate is better"
    test: str
    n: int
    discordant: tuple[int, int] | None = None  # (baseline only correct, candidate only correct)


def mcnemar_exact(
    base: np.ndarray, cand: np.ndarray, level: float = 0.95, b: int = DEFAULT_B, seed: int = 0
) -> PairedResult:
    """Exact McNemar test on paired 0/1 outcomes; CI of the difference by paired bootstrap."""
    base, cand = np.asarray(base, dtype=int), np.asarray(cand, dtype=int)
    n01 = int(((base == 1) & (cand == 0)).sum())  # lost by the candidate
    n10 = int(((base == 0) & (cand == 1)).sum())  # won by the candidate
    m = n01 + n10
    p_worse = sum(comb(m, i) for i in range(n01, m + 1)) / 2**m  # exact binomial tails (1.0 when m == 0)
    p_better = sum(comb(m, i) for i in range(n10, m + 1)) / 2**m
    return PairedResult(
        float((cand - base).mean()),
        ci(cand - base, level, b, seed),
        p_worse,
        p_better,
        "mcnemar-exact",
        len(base),
        (n01, n10),
    )


def paired_bootstrap(
    base: np.ndarray, cand: np.ndarray, level: float = 0.95, b: int = 10_000, seed: int = 0
) -> PairedResult:
    """Paired bootstrap over problems of per-problem mean correctness (avg@k): resample problems, keep pairs."""
    d = np.asarray(cand, dtype=float) - np.asarray(base, dtype=float)
    reps = bootstrap_means(d, b, seed)
    # one-sided bootstrap p-values (shifted to the null of no difference)
    centred = reps - d.mean()
    p_worse = float((centred <= d.mean()).mean())
    p_better = float((centred >= d.mean()).mean())
    return PairedResult(
        float(d.mean()),
        percentile_ci(reps, level),
        max(p_worse, 1 / b),
        max(p_better, 1 / b),
        "paired-bootstrap",
        len(d),
    )
