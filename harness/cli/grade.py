"""``statbench grade``: grade a JSONL of responses, or the grader-agreement report."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err, error_line, progress_bar
from harness.cli.options import Workers


def grade(
    input: Annotated[
        Path | None, typer.Argument(help="JSONL with 'response' and 'reference' per line ('-' = stdin).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write graded JSONL here (atomically) instead of stdout."),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Agreement report on the bundled graded samples instead.")
    ] = False,
    report_dir: Annotated[
        Path, typer.Option(help="Where --report writes agreement.md/.json and disagreements.jsonl.")
    ] = Path("reports/grader_agreement"),
    response_key: Annotated[str, typer.Option(help="Field holding the model response.")] = "response",
    reference_key: Annotated[str, typer.Option(help="Field holding the reference answer.")] = "reference",
    workers: Workers = None,
    timeout: Annotated[
        float, typer.Option(help="Per-pair time limit in seconds; over it: status=timeout.")
    ] = 5.0,
    limit: Annotated[int | None, typer.Option(help="--report only: first N samples per file.")] = None,
) -> None:
    """Grade responses against references with the statbench checker (or --report grader agreement)."""
    from harness.scoring import Checker, checker_version
    from harness.scoring.files import grade_rows, parse_lines, to_jsonl

    if report:
        _report(report_dir, workers, timeout, limit)
        return
    if input is None:
        error_line("give an input JSONL file (or '-' for stdin), or --report")
        raise typer.Exit(2)
    if str(input) != "-" and not input.is_file():
        error_line(f"{input}: no such file")
        raise typer.Exit(2)
    text = sys.stdin.read() if str(input) == "-" else input.read_text(encoding="utf-8")
    rows, errors = parse_lines(text.splitlines(), str(input), response_key, reference_key)
    checker = Checker(workers=workers, timeout=timeout)
    t0 = time.perf_counter()
    prog, advance = progress_bar(len(rows), "grading")
    try:
        with prog:
            graded, summary = grade_rows(rows, checker, response_key, reference_key, advance)
    finally:
        checker.close()
    if output is None:
        sys.stdout.write(to_jsonl(graded))
    else:
        from harness.core.fileio import atomic_write_text

        atomic_write_text(output, to_jsonl(graded))
    secs = time.perf_counter() - t0
    acc = f"{100 * summary.correct / summary.n:.1f}%" if summary.n else "n/a"
    err.print(
        f"graded {summary.n} lines in {secs:.1f}s: {summary.correct} correct ({acc}); "
        f"status {dict(summary.statuses)}; {checker_version()}" + (f"; wrote {output}" if output else "")
    )
    for e in errors:
        error_line(e)
    if errors:
        err.print(f"[red]{len(errors)} malformed line(s) skipped[/]; all other lines were graded and written")
        raise typer.Exit(1)


def _report(out_dir: Path, workers: int | None, timeout: float, limit: int | None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from harness.evaluation.agreement import run_report, to_text, write_outputs
    from harness.scoring import checker_version

    t0 = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err, transient=True
    ) as prog:

        def progress(desc: str, total: int):
            task = prog.add_task(desc, total=total)
            return lambda n=1: prog.advance(task, n)

        reports = run_report(workers=workers, timeout=timeout, limit=limit, progress=progress)
    paths = write_outputs(reports, out_dir)
    n_dis = sum(len(r.disagreements) for r in reports)
    print(f"Grader agreement with the labels of the bundled graded samples ({checker_version()})")
    print("% of samples where the grader agrees with the label (false positives/false negatives)\n")
    print(to_text(reports))
    print(
        f"\nstatbench disagrees with the label on {n_dis} samples; each is listed in {paths['disagreements']}."
        f"\nFull report: {paths['markdown']} ({time.perf_counter() - t0:.0f}s)"
    )
