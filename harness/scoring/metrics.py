"""Per-problem sample metrics: avg@k, unbiased pass@k, maj@k, no-answer rate."""

from __future__ import annotations

from collections.abc import Sequence
from math import comb

from harness.scoring import normalize as N
from harness.scoring.checker import Verdict


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021) from n samples with c correct."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def answer_key(extracted: str) -> str:
    """Key under which two extracted answers count as the same vote (exact value for numbers)."""
    canon, pct = N.canon(extracted)
    value = N.parse_number(canon)
    if value is not None:
        return f"num:{value}{'%' if pct else ''}"
    return f"str:{canon}"


def majority_correct(verdicts: Sequence[Verdict]) -> float:
    """1.0 if the most common answer (ties: first seen) is correct; no-answer samples do not vote."""
    votes: dict[str, list[Verdict]] = {}
    for v in verdicts:
        if v.extracted is not None:
            votes.setdefault(answer_key(v.extracted), []).append(v)
    if not votes:
        return 0.0
    best = max(votes.values(), key=len)  # max() keeps the first of equal-length groups
    return float(best[0].correct)


def sample_metrics(verdicts: Sequence[Verdict], k: int | None = None) -> dict[str, float]:
    """Metrics of one problem's k samples; pass@k uses all n samples unless ``k`` is given."""
    n = len(verdicts)
    if n == 0:
        raise ValueError("no samples to score")
    c = sum(v.correct for v in verdicts)
    return {
        "avg_at_k": c / n,
        "pass_at_k": pass_at_k(n, c, k or n),
        "maj_at_k": majority_correct(verdicts),
        # no answer to grade: none extracted, or a reasoning trace that never finished
        "no_answer": sum(v.status in ("no_answer", "unfinished_reasoning") for v in verdicts) / n,
    }


def aggregate(per_doc: Sequence[dict[str, float]]) -> dict[str, dict[str, float | None]]:
    """Mean of each per-problem metric with lm-eval's stderr (sample std, ddof=1, over sqrt(n))."""
    out: dict[str, dict[str, float | None]] = {}
    n = len(per_doc)
    for name in per_doc[0] if per_doc else ():
        vals = [d[name] for d in per_doc]
        mean = sum(vals) / n
        se = (sum((v - mean) ** 2 for v in vals) / (n - 1) / n) ** 0.5 if n > 1 else None
        out[name] = {"value": mean, "stderr": se}
    return out
