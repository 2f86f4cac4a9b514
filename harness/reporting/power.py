"""Power of the regression gate: how many problems × samples it needs to see a drop, and the smallest
drop a comparison it made could have seen (``statbench plan``; the MDE line of ``statbench regress``).

The gate (:func:`harness.reporting.regress.decide`) calls a regression when the one-sided paired test
(exact McNemar for one sample per problem, paired bootstrap for k samples) gives p < alpha **and** the
observed drop exceeds the margin. Its power against a true drop ``delta`` is, by the normal approximation
of either test's statistic (the mean per-problem difference ``d`` over ``n`` problems)::

    threshold = max(z(1 - alpha) * s0 / sqrt(n), margin)
    power     = Phi((delta - threshold) / (s1 / sqrt(n)))

``s0`` is the spread the test measures its null against (McNemar: the discordance rate; bootstrap: the
spread of ``d``), ``s1`` the spread of ``d`` under the drop. Both come from the planning model the gate's
own simulation (:func:`harness.reporting.regress.simulate`) uses: per-problem success probabilities
``p ~ Beta(mu, 1 - mu)`` (mean ``mu`` = the baseline accuracy; most problems nearly always or nearly never
solved, as on real benchmarks; ``Beta(0.5, 0.5)`` at ``mu = 0.5``) and a worse model solving each problem
with probability ``p * (1 - delta / mu)``. ``tests/unit/test_power.py`` checks the closed form against that
simulation of the real test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

POWER = 0.8
_N = NormalDist()


def _moments(mu: float, delta: float, k: int) -> tuple[float, float]:
    """(s0², s1²): the test's null spread and the spread of the per-problem difference under the drop."""
    c = delta / mu
    ep2 = mu * (mu + 1) / 2  # E[p²] for Beta(mu, 1 - mu)
    var_p = ep2 - mu * mu
    e_pq_p = mu - ep2  # E[p(1 - p)]
    e_pq_q = (1 - c) * mu - (1 - c) ** 2 * ep2  # E[q(1 - q)], q = (1 - c) p
    var_d = (e_pq_p + e_pq_q) / k + c * c * var_p
    if k == 1:  # McNemar: the null spread is the discordance rate P(x != y)
        disc = mu + (1 - c) * mu - 2 * (1 - c) * ep2
        return disc, max(disc - delta * delta, 1e-12)
    return var_d, max(var_d, 1e-12)


def power(n: int, k: int, delta: float, mu: float, alpha: float, margin: float) -> float:
    """Probability the gate flags a regression on ``n`` problems × ``k`` samples when the candidate's
    expected accuracy is ``delta`` below the baseline's ``mu`` (fractions; ``margin`` too)."""
    if n < 1 or delta <= 0:
        return 0.0
    s0, s1 = _moments(mu, delta, k)
    threshold = max(_N.inv_cdf(1 - alpha) * math.sqrt(s0 / n), margin)
    return _N.cdf((delta - threshold) / math.sqrt(s1 / n))


def problems_needed(
    k: int, delta: float, mu: float, alpha: float, margin: float, target: float = POWER, cap: int = 10**8
) -> int | None:
    """The fewest problems for ``target`` power at ``k`` samples each; ``None`` when no number of problems
    reaches it (the drop is not larger than the margin) or it would take more than ``cap``."""
    if delta <= margin or power(cap, k, delta, mu, alpha, margin) < target:
        return None
    lo, hi = 1, cap
    while lo < hi:  # power rises with n once delta > margin
        mid = (lo + hi) // 2
        if power(mid, k, delta, mu, alpha, margin) >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def mde(n: int, k: int, mu: float, alpha: float, margin: float, target: float = POWER) -> float | None:
    """The minimum detectable effect: the smallest drop (fraction) the gate flags with ``target`` power on
    ``n`` problems × ``k`` samples from a baseline at accuracy ``mu``; ``None`` if not even a drop to 0."""
    if n < 1 or not 0 < mu <= 1:
        return None
    if power(n, k, mu, mu, alpha, margin) < target:
        return None
    lo, hi = 0.0, mu
    for _ in range(60):
        mid = (lo + hi) / 2
        if power(n, k, mid, mu, alpha, margin) >= target:
            hi = mid
        else:
            lo = mid
    return hi


@dataclass
class Plan:
    """What ``statbench plan`` prints: the drop, the model, and problems needed per samples-per-problem."""

    task: str
    available: int  # problems the task has
    k: int
    mde: float  # points
    baseline: float
    alpha: float
    margin: float  # points
    rows: list[tuple[int, int | None, float]]  # (k, problems needed or None, power with every problem)


def plan(
    task: str,
    available: int,
    mde_points: float,
    k: int,
    baseline: float,
    alpha: float,
    margin_points: float,
    ks: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64),
) -> Plan:
    """Problems needed for 80 % power, for ``k`` and the usual sample counts."""
    delta, margin = mde_points / 100, margin_points / 100
    rows = []
    for kk in sorted({k, *ks}):
        rows.append(
            (
                kk,
                problems_needed(kk, delta, baseline, alpha, margin),
                power(available, kk, delta, baseline, alpha, margin),
            )
        )
    return Plan(task, available, k, mde_points, baseline, alpha, margin_points, rows)


def to_text(p: Plan) -> str:
    """The plan as the lines ``statbench plan`` prints."""
    chosen = next(r for r in p.rows if r[0] == p.k)
    lines = [
        f"{p.task}: to see a {p.mde:g}-point drop from {100 * p.baseline:.1f} % with {100 * POWER:.0f} % power "
        f"(gate: one-sided alpha {p.alpha:g}, margin {p.margin:g} pt; "
        f"{'exact McNemar' if p.k == 1 else 'paired bootstrap'} at k={p.k})",
    ]
    if chosen[1] is None:
        lines.append(
            f"  not reachable: the gate never flags drops of {p.margin:g} pt or less (its margin); "
            f"plan for a larger --mde or gate with a smaller --margin"
            if p.mde <= p.margin
            else "  not reachable with any number of problems"
        )
    else:
        lines.append(
            f"  needs {chosen[1]} problems × {p.k} sample(s) = {chosen[1] * p.k} generations"
            + (
                f"; the task has {p.available}: use more samples per problem (table below)"
                if chosen[1] > p.available
                else f"; the task has {p.available} (power with all of them: {100 * chosen[2]:.0f} %)"
            )
        )
    lines.append("  samples/problem  problems needed  power with all problems")
    for kk, need, pw in p.rows:
        mark = " <-" if kk == p.k else ""
        lines.append(f"  {kk:>15}  {('—' if need is None else str(need)):>15}  {100 * pw:>22.0f} %{mark}")
    lines.append(
        "  model: per-problem success p ~ Beta(mu, 1 - mu), the worse model solves each with p·(1 - drop/mu) "
        "(docs/gate.md: 'Power: how many samples the gate needs')"
    )
    return "\n".join(lines) + "\n"
