"""Helpers shared by the CLI modules: the stderr console, one-line failures, KEY=VALUE parsing, tables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from harness.records.models import TaskResult

err = Console(stderr=True, soft_wrap=True)  # error lines stay whole (file:line: message)


def progress_bar(total: int, desc: str):
    """A rich progress bar on stderr; returns (context manager, advance callback)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    prog = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    task = prog.add_task(desc, total=total)
    return prog, lambda n=1: prog.advance(task, n)


def fail(e: Exception | str, code: int = 2) -> None:
    """Print ``e`` as one ``error:`` line on stderr and exit with ``code`` (re-raise under ``STATBENCH_DEBUG``)."""
    if os.environ.get("STATBENCH_DEBUG") and isinstance(e, Exception):
        raise e
    err.print(f"[red]error:[/] {e}")
    raise typer.Exit(code)


def parse_kv(pairs: list[str]) -> dict[str, object]:
    """Parse ``KEY=VALUE`` options into a dict, reading ints, floats and true/false as such."""
    out: dict[str, object] = {}
    for p in pairs:
        if "=" not in p:
            raise typer.BadParameter(f"expected KEY=VALUE, got {p!r}")
        k, v = p.split("=", 1)
        out[k] = (
            int(v)
            if v.lstrip("-").isdigit()
            else float(v)
            if v.replace(".", "", 1).isdigit()
            else {"true": True, "false": False}.get(v.lower(), v)
        )
    return out


def print_results(results: dict[str, TaskResult]) -> None:
    """The per-task results of a run record as a table, and the protocol(s) they were made under."""
    from harness.core.fileio import format_table

    rows = []
    for t, r in results.items():
        se = r.stderr
        rows.append(
            [
                t,
                r.label,
                f"{100 * r.value:.1f}",
                f"{100 * se:.1f}" if se is not None else "-",
                str(r.n),
                str(r.k),
                f"{100 * (r.truncation_rate or 0):.0f}%",
                f"{100 * (r.no_answer_rate or 0):.0f}%",
            ]
        )
    protocols = sorted({str(r.protocol) for r in results.values()})
    print(format_table(["task", "metric", "value %", "± stderr", "n", "k", "truncated", "no answer"], rows))
    print(f"protocol: {', '.join(protocols)}")


def write_outcome(result_file: Path | None, **fields) -> None:
    """Write a JobOutcome (run dir and id, stage records, or ``error``) to ``--result-file``; nothing without one."""
    if result_file is None:
        return
    from harness.core.fileio import atomic_write_text
    from harness.records.models import JobOutcome

    outcome = JobOutcome(ok=fields.get("error") is None, **fields)
    atomic_write_text(Path(result_file), outcome.model_dump_json(indent=1) + "\n")
