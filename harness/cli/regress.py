"""``statbench regress``: the regression gate (exit 0 pass, 1 regression, 2 usage or input error).

Exit 1 means a regression and nothing else: every error here (options, runs, the reference file, a report
that cannot be written, a record that cannot be read) is exit 2, and an unexpected exception is exit 3
(``harness.cli.common.handle_error``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err, fail
from harness.cli.options import DEFAULT_RUNS, RunsDir

EPILOG = (
    "Exit codes: 0 pass; 1 regression (and only that); 2 usage or input error (options, unknown run, runs not "
    "comparable, a malformed --reference file, a report that cannot be written); 3 internal error; "
    "130 interrupted. See docs/exit-codes.md."
)


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
        float, typer.Option(help="Drops smaller than this many points never fail the gate (0-100).")
    ] = 1.0,
    alpha: Annotated[float, typer.Option(help="One-sided significance level, in (0, 0.5].")] = 0.05,
    allow_mismatch: Annotated[
        bool, typer.Option(help="Compare runs with different protocol, data or checker.")
    ] = False,
    junit: Annotated[Path | None, typer.Option(help="Write a JUnit XML report (for CI).")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write a markdown report (for PR comments).")] = None,
    runs_dir: RunsDir = DEFAULT_RUNS,
) -> None:
    """Gate a checkpoint: exit 0 pass, 1 regression, 2 usage or input error, 3 internal error."""
    from harness.core.errors import SpecError, StatbenchError
    from harness.core.fileio import atomic_write_text, format_table
    from harness.records.store import RunIndex
    from harness.reporting.regress import (
        HEADER,
        check_options,
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
        check_options(margin, alpha)
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
    except StatbenchError as e:  # a RunFailure here is still an input problem: never exit 1
        fail(e, 2)
    except OSError as e:
        fail(SpecError(f"{e.filename or runs_dir}: {e.strerror or e}"), 2)
    print(title)
    print(format_table(HEADER, to_rows(verdicts)))
    for v in verdicts:
        if v.note:
            print(f"note: {v.task}: {v.note}")
    for path, render, what in ((junit, to_junit, "JUnit report"), (markdown, to_markdown, "markdown report")):
        if path is None:
            continue
        try:
            atomic_write_text(path, render(verdicts, title))
        except OSError as e:
            fail(SpecError(f"{path}: cannot write the {what} ({e.strerror or e}); choose a writable path"), 2)
    failed = [v.task for v in verdicts if v.verdict == "regression"]
    err.print(f"REGRESSION in {', '.join(failed)}" if failed else "pass: no task regressed")
    raise typer.Exit(1 if failed else 0)
