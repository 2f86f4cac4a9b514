"""The statbench command line: one module per verb, wired here explicitly.

Each verb parses its options, calls one library function and renders what it returns; errors become one
line (``statbench: error: ...``) and a documented exit code (``harness/cli/common.py``).
"""

from __future__ import annotations

import os

import typer

from harness.cli import board, containers, demo, grade, ls, regress, run, runs
from harness.cli import eval as eval_cmd

app = typer.Typer(
    name="statbench",
    help="Benchmark harness and evaluation suite for STAT (Skill-Targeted Adaptive Training).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("eval")(eval_cmd.eval_)
app.command("make-tiny-model")(eval_cmd.make_tiny_model)
app.command("grade")(grade.grade)
app.command("rescore")(runs.rescore)
app.add_typer(runs.runs_app, name="runs")
app.command("tasks")(ls.tasks)
app.command("ls")(ls.ls)
app.command("leaderboard")(board.leaderboard)
app.command("regress")(regress.regress)
app.command("run")(run.run)
app.command("demo")(demo.demo)
app.add_typer(demo.skillworld_app, name="skillworld")
app.command("doctor")(containers.doctor)
app.add_typer(containers.containers_app, name="containers")


def main() -> None:
    """Entry point of the ``statbench`` script."""
    if not os.environ.get("STATBENCH_DEBUG"):  # statbench draws its own progress; silence libraries' bars
        for key, value in (
            ("TQDM_DISABLE", "1"),
            ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
            ("TRANSFORMERS_VERBOSITY", "error"),
            ("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1"),
            ("TOKENIZERS_PARALLELISM", "false"),
        ):
            os.environ.setdefault(key, value)
    app()


if __name__ == "__main__":
    main()
