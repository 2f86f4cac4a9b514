"""``statbench tasks`` and ``statbench ls``: what is registered (tasks, methods, backends, executors, teachers)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harness.cli.common import fail

IncludePath = Annotated[
    list[Path] | None,
    typer.Option(
        "--include-path",
        help="A task folder (your own benchmarks: task YAMLs naming JSONL files; repeatable). "
        "Also read from $STATBENCH_INCLUDE_PATH (os.pathsep-separated).",
    ),
]

tasks_app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
    help="The tasks × protocols table; `statbench tasks add DIR/NAME.yaml` pins a task folder's data.",
)


@tasks_app.callback()
def tasks(ctx: typer.Context, include_path: IncludePath = None) -> None:
    """List the registered lm-eval tasks (bundled, and those in --include-path folders) and what each protocol does with them."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.markup import escape
    from rich.table import Table

    from harness.core.errors import StatbenchError
    from harness.core.protocols import PROTOCOLS
    from harness.core.task_folders import include_path as register
    from harness.core.tasks import TASKS, task_docs

    try:
        register(include_path or [])
    except StatbenchError as e:
        fail(e)
    table = Table(
        "task",
        "n",
        *PROTOCOLS,
        title="statbench tasks × protocols (headline metric, temperature)",
    )
    table.columns[0].no_wrap = True  # names whole; where a task-folder task comes from is listed below
    for col, name in zip(table.columns[2:], PROTOCOLS, strict=True):
        col.min_width = len(name)  # protocol names whole
    sources = []
    for name, td in TASKS.items():
        try:
            n = str(len(task_docs(name)))
        except StatbenchError as e:
            fail(e)
        cells = [
            f"{p.sampling(td.family).label} T={p.sampling(td.family).temperature:g}"
            for p in PROTOCOLS.values()
        ]
        if td.user is not None:
            sources.append(f"  {name}: {td.user.yaml}")
        table.add_row(escape(name) + (" *" if td.user is not None else ""), n, *cells)
    # ":x:" in a folder name is not an emoji; piped (not a terminal), the table is as wide as it needs
    console = Console(emoji=False, width=None if sys.stdout.isatty() else 160)
    console.print(table)
    if sources:
        print("* from a task folder:\n" + "\n".join(sources))  # plain: paths are neither markup nor wrapped


@tasks_app.command("add")
def tasks_add(
    task_yaml: Annotated[Path, typer.Argument(help="A task YAML in a task folder (DIR/NAME.yaml).")],
) -> None:
    """Pin a task-folder task's data: write the JSONL file's sha256 into the YAML (statbench refuses data that
    no longer matches it) and the lm-eval keys that let plain `lm_eval --include_path DIR` run it too."""
    from harness.cli.common import err
    from harness.core.errors import StatbenchError
    from harness.core.task_folders import pin_user_task

    try:
        name, sha, old = pin_user_task(task_yaml)
    except StatbenchError as e:
        fail(e)
    what = "pinned" if old is None else ("unchanged" if old == sha else f"re-pinned (was {old[:16]}…)")
    err.print(
        f"{name}: data sha256 {sha[:16]}… {what}; wrote {task_yaml}",
        highlight=False,
        markup=False,
        emoji=False,
    )


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
