"""Garbage written into each state file in turn: a documented exit code, one line, no traceback, and nothing
else lost."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.records.store import RunIndex
from tests.chaos.conftest import (
    assert_one_line_error,
    copy_runs,
    eval_args,
    record_content,
    run_dirs,
)
from tests.helpers.cli import statbench

GARBAGE = b"\x00\xff garbage {not json\n\xe2\x80\xa8]]\n"


def _spoil(path: Path, data: bytes = GARBAGE) -> None:
    path.chmod(0o644)
    path.write_bytes(data)


@pytest.fixture
def runs(clean_run, tmp_path) -> tuple[Path, Path]:
    """A copy of the undisturbed runs dir and its one run."""
    runs = copy_runs(clean_run[0], tmp_path / "runs")
    return runs, run_dirs(runs)[0]


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "warning:" in line]


HUGE_INT = b'{"x": ' + b"9" * 5000 + b"}"  # valid JSON that Python refuses to parse (over 4,300 digits)


@pytest.mark.parametrize(
    "name, data",
    [
        ("results.json", GARBAGE),
        ("spec.json", GARBAGE),
        ("provenance.json", GARBAGE),
        ("spec.json", HUGE_INT),
    ],
)
def test_damaged_record_file(runs, name, data, tiny_model, clean_run):
    runs, run = runs
    _spoil(run / name, data)
    show = statbench("runs", "show", run.name, "--runs-dir", runs)
    assert_one_line_error(show, 2, str(run / name), "damaged run record")
    gate = statbench("regress", "--baseline", run, "--candidate", run, "--runs-dir", runs)
    assert_one_line_error(gate, 2, str(run / name))  # 2 (input error), never 1 (regression)
    again = statbench(*eval_args(tiny_model), "--runs-dir", runs)  # the damaged record is not reused
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert f"not reusing it: {run / name}" in again.stderr
    [new] = [d for d in run_dirs(runs) if d != run]
    assert record_content(new) == clean_run[1]
    reindex = statbench("runs", "reindex", "--runs-dir", runs)
    assert reindex.returncode == 0 and "indexed 1 run(s)" in reindex.stderr, reindex.stderr


def test_damaged_samples_file(runs):
    runs, run = runs
    samples = next((run / "samples").iterdir())
    good = samples.read_bytes()
    _spoil(samples, good + b"\xff\xfe\n")
    r = statbench("rescore", run.name, "--runs-dir", runs)
    bad_line = good.count(b"\n") + 1
    assert_one_line_error(r, 2, f"{samples}:{bad_line}:", "invalid UTF-8")
    _spoil(samples, good.replace(b"\n", b"\n{oops\n", 1))
    r = statbench("rescore", run.name, "--runs-dir", runs)
    assert_one_line_error(r, 2, f"{samples}:2:")
    assert len(run_dirs(runs)) == 1  # nothing was written


def test_damaged_index_is_ignored_then_rebuilt(runs, tiny_model):
    runs, run = runs
    _spoil(runs / "index.sqlite", b"SQLite format 3\x00" + b"\xff" * 5000)
    listed = statbench("runs", "list", "--runs-dir", runs)
    assert listed.returncode == 0 and run.name in listed.stdout, listed.stderr
    [warning] = _warnings(listed.stderr)
    assert "index.sqlite" in warning and "reindex" in warning and "Traceback" not in listed.stderr
    show = statbench("runs", "show", run.name[:15], "--runs-dir", runs)
    assert show.returncode == 0 and run.name in show.stdout
    gate = statbench("regress", "--baseline", run.name, "--candidate", run.name, "--runs-dir", runs)
    assert gate.returncode == 0, gate.stderr
    ev = statbench(*eval_args(tiny_model), "--runs-dir", runs, "--force")  # a writer rebuilds it
    assert ev.returncode == 0 and "Traceback" not in ev.stderr, ev.stderr
    assert any("rebuilding it" in w for w in _warnings(ev.stderr)), ev.stderr
    assert len(RunIndex(runs).runs()) == 2
    for garbage in (GARBAGE, b""):  # whatever the old file holds
        _spoil(runs / "index.sqlite", garbage)
        r = statbench("runs", "reindex", "--runs-dir", runs)
        assert r.returncode == 0 and "indexed 2 run(s)" in r.stderr and "Traceback" not in r.stderr, r.stderr
        listed = statbench("runs", "list", "--runs-dir", runs)
        assert run.name in listed.stdout and not _warnings(listed.stderr), listed.stderr


def test_damaged_generation_cache_is_moved_aside(runs, tiny_model, clean_run):
    runs, run = runs
    cache = runs / ".cache" / "generations.sqlite"
    for side in cache.parent.glob("generations.sqlite-*"):  # a write-ahead log would mask the damage
        side.unlink()
    _spoil(cache)
    r = statbench(*eval_args(tiny_model), "--runs-dir", runs, "--force")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    [warning] = [w for w in _warnings(r.stderr) if "generations.sqlite" in w]
    assert "moved it to generations.sqlite.damaged-" in warning
    [aside] = list(cache.parent.glob("generations.sqlite.damaged-*"))
    assert aside.read_bytes() == GARBAGE  # kept for inspection
    assert all(record_content(d) == clean_run[1] for d in run_dirs(runs))  # nothing else lost
    assert len(run_dirs(runs)) == 2


def test_damaged_stage_record(tmp_path, clean_pipeline):
    spec, _ = clean_pipeline
    wd = tmp_path / "wd"
    shutil.copytree(Path(spec).parent / "wd", wd)
    done = next((wd / "stages").glob("difficulty-*")) / "done.json"
    _spoil(done)
    r = statbench("run", spec, "--workdir", wd)
    assert_one_line_error(r, 2, str(done), "--from difficulty")
    fixed = statbench("run", spec, "--workdir", wd, "--from", "difficulty")
    assert fixed.returncode == 0, fixed.stderr
    assert json.loads(done.read_text())["stage"] == "difficulty"
