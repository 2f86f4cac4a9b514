"""The statbench command line: one module per verb, wired here explicitly.

Each verb parses its options, calls one library function and renders what it returns. Whatever a verb
raises becomes one line on stderr and a documented exit code (``docs/exit-codes.md``): the group below
catches it around every command (in-process test runs included) and hands it to
``harness.cli.common.handle_error``. No traceback reaches a user unless ``STATBENCH_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys

import typer
from typer._click import exceptions as cx  # typer 0.29 vendors click (pinned in constraints.txt)
from typer.core import HAS_RICH, TyperGroup

from harness.cli import board, containers, demo, diff, export, grade, ls, plan, regress, run, runs
from harness.cli import eval as eval_cmd


class GuardedGroup(TyperGroup):
    """The top-level group: every exception a command raises becomes one stderr line and an exit code."""

    def invoke(self, ctx):
        from harness.cli.common import handle_error

        try:
            from harness.core.task_folders import register_env

            register_env()  # task folders in $STATBENCH_INCLUDE_PATH (your own benchmarks)
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # an exit code a verb chose, usage errors (typer's click): main below prints them, exit 2
        except (Exception, KeyboardInterrupt) as e:
            raise typer.Exit(handle_error(e)) from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Usage errors are one line too: ``statbench: error: No such option: --x (see 'statbench eval
        --help')``, exit 2 (click's code for them); ``statbench`` alone prints the help, exit 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except cx.NoArgsIsHelpError as e:  # typer has printed the help (rich); plain click leaves it to us
            if not HAS_RICH:
                e.show()
            sys.exit(e.exit_code)
        except cx.ClickException as e:  # usage errors (and click's others): one line, their exit code
            from harness.cli.common import error_line

            usage = isinstance(e, cx.UsageError) and e.ctx is not None
            error_line(e.format_message() + (f" (see '{e.ctx.command_path} --help')" if usage else ""))
            sys.exit(e.exit_code)
        except typer.Abort:
            print("statbench: aborted", file=sys.stderr)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=GuardedGroup,
    name="statbench",
    help="Benchmark harness and evaluation suite for STAT (Skill-Targeted Adaptive Training).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Exit codes (docs/exit-codes.md), in each verb's --help.
EXIT_CODES = (
    "Exit codes: 0 success; 1 the work failed (a backend, job or stage); 2 usage or input error; "
    "3 internal error (a bug; STATBENCH_DEBUG=1 shows the traceback); 130 interrupted (Ctrl-C). "
    "See docs/exit-codes.md."
)
EVAL_CODES = (
    "Exit codes: 0 the run is recorded; 1 generation failed (failed requests are named; the others are "
    "cached) or a job of the matrix failed; 2 usage or input error (options, --backend-arg, model, spec); "
    "3 internal error; 130 interrupted (finished generations are cached: rerun to resume). "
    "See docs/exit-codes.md."
)
GRADE_CODES = (
    "Exit codes: 0 every line graded; 1 malformed lines were skipped (the others were graded and written); "
    "2 usage or input error; 3 internal error; 130 interrupted. See docs/exit-codes.md."
)
DOCTOR_CODES = (
    "Exit codes: 0 every check passed; 1 a check failed (FAIL lines); 3 internal error. "
    "See docs/exit-codes.md."
)

app.command("eval", epilog=EVAL_CODES)(eval_cmd.eval_)
app.command("make-tiny-model", epilog=EXIT_CODES)(eval_cmd.make_tiny_model)
app.command("grade", epilog=GRADE_CODES)(grade.grade)
app.command("rescore", epilog=EXIT_CODES)(runs.rescore)
runs.runs_app.command("diff", epilog=EXIT_CODES)(diff.runs_diff)
runs.runs_app.command("view", epilog=EXIT_CODES)(diff.runs_view)
runs.runs_app.command("export", epilog=EXIT_CODES)(export.runs_export)
app.add_typer(runs.runs_app, name="runs")
app.add_typer(ls.tasks_app, name="tasks")
app.command("ls")(ls.ls)
app.command("leaderboard", epilog=board.EPILOG)(board.leaderboard)
app.command("regress", epilog=regress.EPILOG)(regress.regress)
app.command("plan", epilog=EXIT_CODES)(plan.plan)
app.command("run", epilog=EXIT_CODES)(run.run)
app.command("demo", epilog=EXIT_CODES)(demo.demo)
app.add_typer(demo.skillworld_app, name="skillworld")
app.command("doctor", epilog=DOCTOR_CODES)(containers.doctor)
app.add_typer(containers.containers_app, name="containers")
for _sub in (runs.runs_app, ls.tasks_app, demo.skillworld_app, containers.containers_app, app):
    for _info in _sub.registered_commands:  # every command's --help ends with its exit codes
        _info.epilog = _info.epilog or EXIT_CODES
    _sub.info.epilog = _sub.info.epilog or EXIT_CODES  # groups too (`statbench tasks` is one)


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
    try:
        app(prog_name="statbench")  # also under `python -m harness`: hints name the installed command
    except KeyboardInterrupt:  # Ctrl-C before or after a command ran (imports, option parsing)
        from harness.cli.common import INTERRUPTED

        print(INTERRUPTED, file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
