"""Throughput of the statbench checker vs raw math-verify, measured side by side in one run.

    .venv/bin/python benchmarks/grader_throughput.py [--n 3000] [--seed 0]

The pair mix is realistic for math evals: references drawn from the bundled benchmarks (so mostly
integers, some LaTeX), responses shaped like chain-of-thought with a boxed answer, 60 % correct (some
re-formatted: 27 vs 27.0, \\dfrac vs \\frac, x = 5), 40 % wrong. Raw math-verify is the usual loop,
``verify(parse("$gold$"), parse(response))`` with its default (signal-based) timeouts, in this process.
Prints pairs/s for each and the ratio; verdict agreement between the two is printed as a sanity check.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.core.tasks import load_benchmark  # noqa: E402
from harness.scoring import Checker, reference_text  # noqa: E402
from harness.scoring.normalize import canon, parse_number  # noqa: E402

MIX = {"gsm8k": 0.35, "math500": 0.3, "math": 0.2, "aime24": 0.05, "amc23": 0.05, "olympiadbench": 0.05}
FILLER = "Let us set up the equations carefully. Substituting and simplifying step by step, we obtain"


def make_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pools = {name: [reference_text(r["answer"]) for r in load_benchmark(name)] for name in MIX}
    names, weights = zip(*MIX.items(), strict=True)
    pairs = []
    for _ in range(n):
        gold = rng.choice(pools[rng.choices(names, weights)[0]])
        value = parse_number(canon(gold)[0])
        if rng.random() < 0.6:
            ans = gold
            if value is not None and value.denominator == 1 and rng.random() < 0.3:
                ans = f"{int(value)}.0"
            elif "\\frac" in gold and rng.random() < 0.5:
                ans = gold.replace("\\frac", "\\dfrac")
            elif rng.random() < 0.1:
                ans = f"x = {gold}"
        else:
            ans = (
                str(int(value) + rng.randint(1, 9))
                if value is not None and value.denominator == 1
                else rng.choice(pools["math500"])
            )
        pairs.append(
            (
                f"{FILLER} {rng.randint(2, 99)} + {rng.randint(2, 99)}.\n\nTherefore the answer is $\\boxed{{{ans}}}$.",
                gold,
            )
        )
    return pairs


def raw_math_verify(pairs: list[tuple[str, str]]) -> list[bool]:
    from math_verify import parse, verify

    out = []
    for response, gold in pairs:
        try:
            out.append(bool(verify(parse(f"${gold}$"), parse(response))))
        except Exception:  # noqa: BLE001
            out.append(False)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    pairs = make_pairs(args.n, args.seed)

    t = time.perf_counter()
    raw = raw_math_verify(pairs)
    t_raw = time.perf_counter() - t

    results = {}
    for workers in (1, 2):
        checker = Checker(workers=workers)
        t = time.perf_counter()
        checker.grade("\\boxed{(x+1)^2}", "x^2+2x+1")  # start the pool (worker boot is not timed below)
        t_boot = time.perf_counter() - t
        t = time.perf_counter()
        verdicts = checker.grade_many(pairs)
        results[workers] = (time.perf_counter() - t, t_boot, verdicts)
        checker.close()

    print(
        f"{args.n} pairs (seed {args.seed}); fraction decided by fast paths: "
        f"{sum(v.method != 'math_verify' for v in results[1][2]) / args.n:.0%}"
    )
    print(f"raw math-verify (1 process)     : {args.n / t_raw:8.0f} pairs/s  ({t_raw:.2f}s)")
    for w, (secs, boot, verdicts) in results.items():
        agree = sum(v.correct == r for v, r in zip(verdicts, raw, strict=True)) / args.n
        print(
            f"statbench grade_many, {w} worker(s): {args.n / secs:8.0f} pairs/s  ({secs:.2f}s; pool start {boot:.1f}s; "
            f"verdicts agree with raw math-verify on {agree:.1%})"
        )
    for w, (secs, _, _) in results.items():
        print(f"ratio statbench({w} worker{'s' if w > 1 else ''}) / raw math-verify: {t_raw / secs:.1f}x")


if __name__ == "__main__":
    main()
