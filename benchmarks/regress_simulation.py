"""False-alarm rate and power of `statbench regress`, by simulation (prints its figures).

    .venv/bin/python benchmarks/regress_simulation.py [--trials 400]

Two runs drawn from the same per-problem success probabilities should be flagged as a regression at most
alpha (5 %) of the time; a true 3-point drop on 500 problems should be caught (target power >= 80 %).
Reported for pass@1 (one sample per problem, exact McNemar) and avg@k (k samples, paired bootstrap).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness.reporting.regress import simulate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=400)
    ap.add_argument("--problems", type=int, default=500)
    a = ap.parse_args()
    print(f"{a.problems} problems, {a.trials} trials per cell, alpha 0.05 one-sided, margin 1 point")
    print(
        f"{'samples/problem':>16} {'false alarm (no change)':>24} {'power (3-point drop)':>21} {'power (5-point drop)':>21}"
    )
    for k in (1, 4, 16):
        t = time.perf_counter()
        fa = simulate(a.problems, k, 0.0, a.trials)
        p3 = simulate(a.problems, k, 0.03, a.trials, seed=1)
        p5 = simulate(a.problems, k, 0.05, a.trials, seed=2)
        print(
            f"{k:>16} {100 * fa:>23.1f}% {100 * p3:>20.1f}% {100 * p5:>20.1f}%   ({time.perf_counter() - t:.0f}s)"
        )


if __name__ == "__main__":
    main()
