"""``statbench plan``: problems × samples the regression gate needs to see a given drop."""

from __future__ import annotations

from typing import Annotated

import typer


def plan(
    task: Annotated[str, typer.Option(help="A registered task (its size and protocol's k are used).")],
    mde: Annotated[float, typer.Option(help="The drop to detect, in points (e.g. 3).")],
    samples_per_problem: Annotated[
        int | None,
        typer.Option(min=1, help="k samples per problem (default: the protocol's k for the task)."),
    ] = None,
    baseline_accuracy: Annotated[
        float, typer.Option(help="The baseline's expected accuracy, a fraction in (0, 1).")
    ] = 0.5,
    margin: Annotated[float, typer.Option(help="The gate's margin, points (as `statbench regress`).")] = 1.0,
    alpha: Annotated[float, typer.Option(help="The gate's one-sided significance level.")] = 0.05,
    protocol: Annotated[str, typer.Option(help="The protocol that sets the default k.")] = "stat-paper",
    verify: Annotated[
        int,
        typer.Option(
            min=0,
            help="Also simulate the real gate this many times at the planned size and print its power (seeded).",
        ),
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed of --verify's simulation.")] = 0,
) -> None:
    """Problems × samples for 80 % power to see a drop of --mde points, at the gate's alpha and margin."""
    import math

    from harness.core.errors import SpecError
    from harness.core.protocols import get_protocol
    from harness.core.tasks import TASKS, task_docs
    from harness.reporting import power
    from harness.reporting.regress import check_options, simulate

    check_options(margin, alpha)
    if task not in TASKS:
        raise SpecError(f"--task: unknown task '{task}'; `statbench ls tasks` lists them")
    if not (math.isfinite(mde) and 0 < mde <= 100):
        raise SpecError(f"--mde must be a drop in points in (0, 100], got {mde}")
    if not (math.isfinite(baseline_accuracy) and 0 < baseline_accuracy < 1):
        raise SpecError(
            f"--baseline-accuracy must be a fraction in (0, 1) (e.g. 0.6), got {baseline_accuracy}"
        )
    if mde / 100 > baseline_accuracy:
        raise SpecError(
            f"--mde {mde:g} points is more than the baseline's accuracy ({100 * baseline_accuracy:g} %)"
        )
    sampling = get_protocol(protocol).sampling(TASKS[task].family)
    k = samples_per_problem or sampling.k
    p = power.plan(task, len(task_docs(task)), mde, k, baseline_accuracy, alpha, margin)
    print(power.to_text(p), end="")
    if sampling.primary_metric != "avg_at_k":
        print(
            f"  note: {task}'s headline metric is {sampling.label}; this plans avg@k, the gate's mean score"
        )
    need = next(r[1] for r in p.rows if r[0] == k)
    if verify and need is not None:
        sim = simulate(need, k, mde / 100, verify, margin / 100, alpha, seed, baseline_accuracy)
        print(
            f"  simulated power of the real gate at {need} × {k}: {100 * sim:.0f} % ({verify} trials, seed {seed})"
        )
