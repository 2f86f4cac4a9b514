"""The CLI's one place for errors (harness.cli.common.handle_error behind the top-level group): every
exception a verb raises is one stderr line and a documented exit code; no traceback unless STATBENCH_DEBUG=1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.core.errors import RecordError, RunFailure, SpecError
from tests.helpers.cli import ROOT, assert_one_error, statbench, statbench_process


def _raise(exc: BaseException):
    def boom(*args, **kwargs):
        raise exc

    return boom


@pytest.fixture
def run_dir(tmp_path) -> Path:
    """A folder ``regress`` takes for a run (it holds a spec.json); what is inside is never reached."""
    d = tmp_path / "cand"
    d.mkdir()
    (d / "spec.json").write_text("{}")
    return d


@pytest.mark.parametrize(
    ("exc", "code", "needle"),
    [
        (SpecError("ref.yaml: tasks: bad"), 2, "statbench: error: ref.yaml: tasks: bad"),
        (RecordError("runs/x/results.json: damaged"), 2, "damaged"),
        (RunFailure("the server died"), 2, "the server died"),  # regress: never 1 except for a regression
    ],
)
def test_statbench_errors_are_one_line_with_their_exit_code(
    monkeypatch, run_dir, tmp_path, exc, code, needle
):
    import harness.reporting.regress as regress

    monkeypatch.setattr(regress, "compare_reference", _raise(exc))
    r = statbench("regress", "--candidate", run_dir, "--reference", tmp_path / "ref.yaml")
    assert_one_error(r, code, needle)


def test_a_crash_is_an_internal_error_exit_3_never_1(monkeypatch, run_dir, tmp_path):
    import harness.reporting.regress as regress

    monkeypatch.setattr(regress, "compare_reference", _raise(KeyError("tasks")))
    r = statbench("regress", "--candidate", run_dir, "--reference", tmp_path / "ref.yaml")
    assert r.returncode == 3 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines == [
        "statbench: internal error: KeyError: 'tasks' (run with STATBENCH_DEBUG=1 for the traceback)"
    ]


def test_debug_shows_the_real_exception(monkeypatch, run_dir, tmp_path):
    import harness.reporting.regress as regress

    monkeypatch.setattr(regress, "compare_reference", _raise(KeyError("tasks")))
    with pytest.raises(KeyError):
        statbench(
            "regress",
            "--candidate",
            run_dir,
            "--reference",
            tmp_path / "r.yaml",
            env={"STATBENCH_DEBUG": "1"},
        )


def test_ctrl_c_says_what_is_kept_and_exits_130(monkeypatch, tmp_path):
    import harness.evaluation.runner as runner

    monkeypatch.setattr(runner, "run_eval", _raise(KeyboardInterrupt()))
    result = tmp_path / "outcome.json"
    model = tmp_path / "m"
    model.mkdir()
    r = statbench(
        "eval", "--model", model, "--tasks", "statbench_gsm8k", "--runs-dir", tmp_path / "runs",
        "--result-file", result,
    )  # fmt: skip
    assert r.returncode == 130 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines[-1].startswith("statbench: interrupted:") and "cached" in lines[-1] and "rerun" in lines[-1]
    assert '"error": "interrupted"' in result.read_text()


def test_an_os_error_names_the_path_in_one_line(monkeypatch, tmp_path):
    import harness.evaluation.runner as runner

    err = OSError(28, "No space left on device", str(tmp_path / "runs" / "x"))
    monkeypatch.setattr(runner, "run_eval", _raise(err))
    model = tmp_path / "m"
    model.mkdir()
    r = statbench("eval", "--model", model, "--tasks", "statbench_gsm8k", "--runs-dir", tmp_path / "runs")
    assert_one_error(r, 1, "No space left on device", str(tmp_path / "runs" / "x"))


def test_multi_line_messages_and_markup_stay_one_literal_line(monkeypatch, run_dir, tmp_path):
    import harness.reporting.regress as regress

    monkeypatch.setattr(regress, "compare_reference", _raise(SpecError("first\nsecond [red]x[/] [bold]")))
    r = statbench("regress", "--candidate", run_dir, "--reference", tmp_path / "ref.yaml")
    assert_one_error(r, 2, "first second [red]x[/] [bold]")


def test_error_lines_redact_secrets_in_urls(monkeypatch, run_dir, tmp_path):
    import harness.reporting.regress as regress

    monkeypatch.setattr(
        regress, "compare_reference", _raise(SpecError("http://me:PASSWORD@h/v1?api-key=TOKEN refused"))
    )
    r = statbench("regress", "--candidate", run_dir, "--reference", tmp_path / "ref.yaml")
    line = assert_one_error(r, 2, "http://me:***@h/v1?api-key=*** refused")
    assert "PASSWORD" not in r.stderr and "TOKEN" not in r.stderr, line


def test_usage_errors_of_several_verbs_read_statbench_error(tmp_path):
    assert_one_error(statbench("ls", "nonsense"), 2, "unknown kind 'nonsense'")
    assert_one_error(statbench("grade"), 2, "give an input JSONL file")
    assert_one_error(statbench("eval", "--tasks", "statbench_gsm8k"), 2, "give --model")
    assert_one_error(
        statbench("eval", "--model", tmp_path, "--tasks", "statbench_gsm8k", "--seeds", "1,x"), 2, "--seeds"
    )


def test_every_verb_has_its_exit_codes_documented():
    """docs/exit-codes.md has a row per command of the CLI, and the codes handle_error uses."""
    from typer.main import get_command

    from harness.cli import app

    doc = (ROOT / "docs" / "exit-codes.md").read_text()
    group = get_command(app)
    names = []
    for name, cmd in group.commands.items():
        subs = getattr(cmd, "commands", None)
        names += [f"{name} {s}" for s in subs] if subs else [name]
    missing = [n for n in names if not re.search(rf"`statbench {re.escape(n)}[` ]", doc)]
    assert not missing, f"docs/exit-codes.md lacks {missing}"
    for code in ("0", "1", "2", "3", "130"):
        assert f"| {code} |" in doc
    help_text = statbench("regress", "--help").stdout
    assert "1 regression" in " ".join(help_text.split())
    groups = [n for n, cmd in group.commands.items() if getattr(cmd, "commands", None)]
    for name in [*names, *groups, ""]:  # every command and group says its exit codes, once
        text = statbench(*name.split(), "--help").stdout
        assert text.count("Exit codes:") == 1 and "docs/exit-codes.md" in text, name


def test_unknown_options_stay_usage_errors_exit_2():
    """Usage errors are one line like every other error (no rich box), exit 2, naming the --help to read."""
    cases = {
        ("eval", "--bogus"): "No such option: --bogus (see 'statbench eval --help')",
        ("regress", "--alpha", "x"): "Invalid value for '--alpha'",
        ("runs", "nope"): "No such command 'nope'. (see 'statbench runs --help')",
        ("nope",): "No such command 'nope'. (see 'statbench --help')",
        ("runs", "show"): "Missing argument 'run'.",
    }
    for args, msg in cases.items():
        r = statbench(*args)
        assert r.returncode == 2 and r.stderr.startswith("statbench: error: ") and msg in r.stderr, (args, r)
        assert r.stderr.count("\n") == 1 and "╭" not in r.stderr, r.stderr


def test_usage_errors_in_a_real_process_and_bare_groups_print_help():
    r = statbench_process("eval", "--bogus")
    assert (r.returncode, r.stderr) == (
        2,
        "statbench: error: No such option: --bogus (see 'statbench eval --help')\n",
    )
    bare = statbench_process("runs")  # a group alone: its help on stdout, exit 2 (as before)
    assert bare.returncode == 2 and bare.stdout.count("Usage: statbench runs") == 1 and not bare.stderr


@pytest.mark.parametrize("args", [("ls", "tasks"), ("ls", "suites")])
def test_a_reader_that_left_is_not_a_disk_error(args):
    """`statbench ls tasks | head -1`: the pipe's reader is gone before all is written. Quiet, exit 1 (as
    click and rich do for --help and tables), not 'Broken pipe; check ... the free disk space'."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)  # the reader has left before the first write: deterministic EPIPE
    try:
        r = subprocess.run(
            [sys.executable, "-m", "harness", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
    finally:
        os.close(write)
    assert (r.returncode, r.stderr) == (1, "")


def test_a_broken_pipe_elsewhere_still_says_so(monkeypatch):
    """A BrokenPipeError that is not stdout's (a worker's pipe) is still reported, one line."""
    monkeypatch.setattr("harness.cli.ls.registry_rows", _raise(BrokenPipeError(32, "Broken pipe")))
    assert_one_error(statbench("ls", "tasks"), 1, "Broken pipe")
