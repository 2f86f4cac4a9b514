"""``statbench regress``: the regression gate (exit 0 pass, 1 regression, 2 usage or input error)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err, fail
from harness.cli.options import DEFAULT_RUNS, RunsDir


def regress(
    candidate: Annotated[str, typer.Option(help="The run under test (id, prefix or directory).")],
    baseline: Annotated[str | None, typer.Option(help="The run to compare against.")] = None,
    reference: Annotated[
        Path | None,
        typer.Option(
            help="Pinned scores instead of a baseline run: {tasks: {task: {value, tolerance}}} in points."
        ),
    ] = None,
    tasks: Annotated[str | None, typer.Option(help="Comma-separated subset of tasks.")] = None,
    margin: Annotated[
        float, typer.Option(help="Drops smaller than this many points never fail the gate.")
    ] = 1.0,
    alpha: Annotated[float, typer.Option(help="One-sided significance level.")] = 0.05,
    allow_mismatch: Annotated[
        bool, typer.Option(help="Compare runs with different protocol, data or checker.")
    ] = False,
    junit: Annotated[Path | None, typer.Option(help="Write a JUnit XML report (for CI).")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write a markdown report (for PR comments).")] = None,
    runs_dir: RunsDir = DEFAULT_RUNS,
) -> None:
    """Gate a checkpoint: exit 0 pass, 1 regression, 2 usage error."""
    from harness.core.errors import SpecError
    from harness.core.fileio import atomic_write_text, format_table
    from harness.records.store import RunIndex
    from harness.reporting.regress import (
        HEADER,
        compare_reference,
        compare_runs,
        to_junit,
        to_markdown,
        to_rows,
    )

    if (baseline is None) == (reference is None):
        fail("give exactly one of --baseline RUN or --reference FILE")
    task_list = [t.strip() for t in tasks.split(",") if t.strip()] if tasks else None
    try:
        index = RunIndex(runs_dir) if runs_dir.is_dir() else None

        def find(ref: str) -> Path | None:
            return (
                Path(ref) if (Path(ref) / "spec.json").is_file() else (index.resolve(ref) if index else None)
            )

        cand = find(candidate)
        if cand is None:
            raise SpecError(f"no run '{candidate}' (and no runs directory {runs_dir})")
        if reference is not None:
            verdicts = compare_reference(cand, reference, task_list, allow_mismatch)
            title = f"statbench regress: {cand.name} vs pinned scores {reference}"
        else:
            base = find(baseline)
            if base is None:
                raise SpecError(f"no run '{baseline}' (and no runs directory {runs_dir})")
            verdicts = compare_runs(base, cand, task_list, margin, alpha, allow_mismatch)
            title = f"statbench regress: {cand.name} vs {base.name} (margin {margin} pt, alpha {alpha})"
    except SpecError as e:
        fail(e)
    print(title)
    print(format_table(HEADER, to_rows(verdicts)))
    for v in verdicts:
        if v.note:
            print(f"note: {v.task}: {v.note}")
    if junit:
        atomic_write_text(junit, to_junit(verdicts, title))
    if markdown:
        atomic_write_text(markdown, to_markdown(verdicts, title))
    failed = [v.task for v in verdicts if v.verdict == "regression"]
    err.print(f"REGRESSION in {', '.join(failed)}" if failed else "pass: no task regressed")
    raise typer.Exit(1 if failed else 0)
