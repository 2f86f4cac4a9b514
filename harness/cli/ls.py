"""``statbench tasks`` and ``statbench ls``: what is registered (tasks, methods, backends, executors, teachers)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from harness.cli.common import fail


def tasks() -> None:
    """List the bundled lm-eval tasks and what each protocol does with them."""
    from rich.table import Table

    from harness.core.protocols import PROTOCOLS
    from harness.core.tasks import TASKS, task_docs

    table = Table("task", "n", *PROTOCOLS, title="statbench tasks × protocols (headline metric, temperature)")
    table.columns[0].no_wrap = True
    for name, td in TASKS.items():
        cells = [
            f"{p.sampling(td.family).label} T={p.sampling(td.family).temperature:g}"
            for p in PROTOCOLS.values()
        ]
        table.add_row(name, str(len(task_docs(name))), *cells)
    Console().print(table)


KINDS = ("tasks", "suites", "methods", "backends", "executors", "teachers", "protocols")


def ls(
    kind: Annotated[
        str, typer.Argument(help="tasks | suites | methods | backends | executors | teachers | protocols")
    ],
) -> None:
    """List what is registered: one line per entry (name, then what it is)."""
    from harness.core.fileio import format_table

    if kind not in KINDS:
        fail(f"unknown kind '{kind}'; valid: {', '.join(KINDS)}")
    print(format_table(["name", "what"], registry_rows(kind), right=False))


def registry_rows(kind: str) -> list[list[str]]:
    """``[name, description]`` rows of one registry."""
    if kind == "tasks":
        from harness.core.tasks import TASKS

        return [[n, f"{t.short}: {t.description} ({t.family})"] for n, t in TASKS.items()]
    if kind == "suites":
        from harness.core.tasks import SUITES

        return [[n, ", ".join(ts)] for n, ts in SUITES.items()]
    if kind == "methods":
        from harness.recipe.methods import METHODS

        return [
            [n, f"{m.label}: {m.description}" + (" [teacher]" if m.uses_teacher else "")]
            for n, m in METHODS.items()
        ]
    if kind == "backends":
        from harness.evaluation.backends import BACKENDS

        return [[n, d] for n, (_, d) in BACKENDS.items()]
    if kind == "executors":
        from harness.executors import EXECUTORS

        return [[n, d] for n, (_, d) in EXECUTORS.items()]
    if kind == "teachers":
        from harness.adapters.teachers import TEACHERS

        return [[n, d] for n, (_, d) in TEACHERS.items()]
    from harness.core.protocols import PROTOCOLS

    return [[n, p.description] for n, p in PROTOCOLS.items()]
