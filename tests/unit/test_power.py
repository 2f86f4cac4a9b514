"""Power planning: the closed form of the gate's power agrees with a simulation of the real gate (the same
McNemar / paired-bootstrap decision, `regress.simulate`), and `statbench plan` prints what it computes."""

from __future__ import annotations

import re

import pytest

from harness.reporting import power
from harness.reporting.regress import simulate
from tests.helpers.cli import statbench


@pytest.mark.parametrize(("k", "mu", "drop"), [(1, 0.6, 0.06), (8, 0.4, 0.05)])
def test_planned_size_has_80_percent_power_in_simulation(k, mu, drop):
    n = power.problems_needed(k, drop, mu, alpha=0.05, margin=0.01)
    assert n is not None and n > 20
    sim = simulate(n, k, drop, trials=300, margin=0.01, alpha=0.05, seed=2, baseline_accuracy=mu)
    assert abs(sim - 0.8) < 0.07, (n, sim)  # 300 trials: sd of the estimate ~0.023
    # and with 60 % of those problems it is visibly short of it
    assert simulate(n * 3 // 5, k, drop, 300, 0.01, 0.05, 3, mu) < 0.72


def test_mde_and_problems_needed_are_inverse():
    for k in (1, 4, 16):
        n = power.problems_needed(k, 0.04, 0.5, 0.05, 0.01)
        m = power.mde(n, k, 0.5, 0.05, 0.01)
        assert m <= 0.04 and power.power(n, k, m, 0.5, 0.05, 0.01) == pytest.approx(0.8, abs=1e-6)
        assert power.mde(n - 1, k, 0.5, 0.05, 0.01) > m  # fewer problems: a larger drop is needed
    assert power.problems_needed(4, 0.01, 0.5, 0.05, 0.01) is None  # never above the margin
    assert power.problems_needed(1, 0.03, 0.5, 0.05, 0.01) > power.problems_needed(4, 0.03, 0.5, 0.05, 0.01)


def test_plan_cli_prints_the_closed_form_and_its_simulation():
    res = statbench(
        "plan", "--task", "statbench_math500", "--mde", "6", "--baseline-accuracy", "0.6", "--verify", "100"
    )
    assert res.returncode == 0, res.stderr
    n = power.problems_needed(1, 0.06, 0.6, 0.05, 0.01)
    assert f"needs {n} problems × 1 sample(s)" in res.stdout and "the task has 500" in res.stdout
    sim = re.search(r"simulated power of the real gate at (\d+) × 1: (\d+) %", res.stdout)
    assert sim and int(sim.group(1)) == n and 65 <= int(sim.group(2)) <= 95
    # k from the option; the table row for it is marked
    res = statbench("plan", "--task", "statbench_math500", "--mde", "3", "--samples-per-problem", "8")
    n8 = power.problems_needed(8, 0.03, 0.5, 0.05, 0.01)
    assert f"needs {n8} problems × 8 sample(s)" in res.stdout
    assert re.search(rf"^\s+8\s+{n8}\s+\d+ % <-$", res.stdout, re.M)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mde", "0.5"], "not reachable"),
        (["--mde", "3", "--baseline-accuracy", "60"], "--baseline-accuracy must be a fraction in (0, 1)"),
        (["--mde", "-1"], "--mde must be a drop in points"),
        (["--mde", "3", "--alpha", "0.9"], "--alpha must be in (0, 0.5]"),
    ],
)
def test_plan_inputs(args, message):
    res = statbench("plan", "--task", "statbench_math500", *args)
    if message == "not reachable":
        assert res.returncode == 0 and message in res.stdout
    else:
        assert res.returncode == 2 and message in res.stderr and res.stderr.count("\n") == 1
    bad = statbench("plan", "--task", "nope", "--mde", "3")
    assert bad.returncode == 2 and "unknown task 'nope'" in bad.stderr
