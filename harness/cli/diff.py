"""``statbench runs diff A B`` and ``statbench runs view RUN [RUN2]``: what changed between two runs, and
every sample of a run in a static page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err
from harness.cli.options import DEFAULT_RUNS, RunsDir


def resolve_run(ref: str, runs_dir: Path) -> Path:
    """A run by directory, id or unique prefix; ``SpecError`` (exit 2) when there is none."""
    from harness.core.errors import SpecError
    from harness.records.store import RunIndex

    if (Path(ref) / "spec.json").is_file():
        return Path(ref)
    if not runs_dir.is_dir():
        raise SpecError(
            f"no run '{ref}' (and no runs directory {runs_dir}); give a run directory or --runs-dir"
        )
    return RunIndex(runs_dir).resolve(ref)


def _write(path: Path, text: str, what: str) -> None:
    from harness.core.errors import SpecError
    from harness.core.fileio import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as e:
        raise SpecError(f"{path}: cannot write the {what} ({e.strerror or e}); choose a writable path") from e


def runs_diff(
    a: Annotated[str, typer.Argument(help="The baseline run (id, prefix or directory).")],
    b: Annotated[str, typer.Argument(help="The run compared with it.")],
    task: Annotated[
        str | None, typer.Option("--task", help="Only these tasks (comma-separated); default: all common.")
    ] = None,
    html: Annotated[
        Path | None, typer.Option(help="Also write every changed problem as a static HTML page.")
    ] = None,
    show: Annotated[int, typer.Option(min=0, help="Problems printed per group and task.")] = 10,
    width: Annotated[int, typer.Option(min=10, help="Characters of each response printed.")] = 100,
    margin: Annotated[float, typer.Option(help="The gate's margin, in points (for the verdict line).")] = 1.0,
    alpha: Annotated[float, typer.Option(help="The gate's one-sided significance level.")] = 0.05,
    allow_mismatch: Annotated[
        bool, typer.Option(help="Diff runs with different protocol, data or checker.")
    ] = False,
    runs_dir: RunsDir = DEFAULT_RUNS,
) -> None:
    """Problems that flipped between runs A and B (pass→fail, fail→pass, changed wrong answer), with both
    runs' answers, statuses and responses side by side, under the regression gate's paired verdict."""
    from harness.reporting.diff import diff_runs, to_html, to_text
    from harness.reporting.regress import check_options

    check_options(margin, alpha)
    pa, pb = resolve_run(a, runs_dir), resolve_run(b, runs_dir)
    tasks = [t.strip() for t in task.split(",") if t.strip()] if task else None
    diffs = diff_runs(pa, pb, tasks, margin, alpha, allow_mismatch)
    print(to_text(diffs, pa.name, pb.name, show, width), end="")
    if html is not None:
        _write(html, to_html(diffs, pa.name, pb.name), "HTML diff")
        err.print(f"wrote {html}")


def runs_view(
    run: Annotated[str, typer.Argument(help="The run to browse (id, prefix or directory).")],
    run2: Annotated[
        str | None, typer.Argument(help="A second run: adds the diff view (paired by problem id).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="The HTML file to write (default: view-<run>.html).")
    ] = None,
    task: Annotated[str | None, typer.Option("--task", help="Only these tasks (comma-separated).")] = None,
    allow_mismatch: Annotated[
        bool, typer.Option(help="With RUN2: diff runs with different protocol, data or checker.")
    ] = False,
    runs_dir: RunsDir = DEFAULT_RUNS,
) -> None:
    """Write a static, offline HTML page to browse every sample of a run: filter by task, status, skill
    label and text; with RUN2, the problems that changed between the runs."""
    from harness.reporting.viewer import build_view

    p1 = resolve_run(run, runs_dir)
    p2 = resolve_run(run2, runs_dir) if run2 else None
    tasks = [t.strip() for t in task.split(",") if t.strip()] if task else None
    page, n = build_view(p1, p2, tasks, allow_mismatch)
    target = out or Path(f"view-{p1.name}.html")
    _write(target, page, "viewer page")
    print(target)
    err.print(f"{n} sample(s) in {target} (open it in a browser; it needs no server or network)")
