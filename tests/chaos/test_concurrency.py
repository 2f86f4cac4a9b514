"""Concurrent processes on one workdir or one runs dir."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from harness.core.pipeline import LOCK
from harness.records.store import RunIndex
from tests.chaos.conftest import (
    assert_no_temp,
    assert_one_line_error,
    eval_args,
    experiment,
    popen,
    record_content,
    run_dirs,
)
from tests.helpers.cli import statbench


def _wait_for(pred, proc: subprocess.Popen, log: Path, what: str) -> None:
    """Poll until ``pred()``; fails only if the process ends first (no wall-clock deadline)."""
    while not pred():
        assert proc.poll() is None, f"ended before {what}: {log.read_text()[-3000:]}"
        time.sleep(0.05)


def _holder(workdir: Path) -> int | None:
    try:
        return int((workdir / LOCK).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _finish(proc: subprocess.Popen, log: Path) -> subprocess.CompletedProcess:
    proc.wait()
    text = log.read_text()
    return subprocess.CompletedProcess(proc.args, proc.returncode, "", text)


def test_two_runs_on_one_workdir_one_refuses_one_waits_then_all_done(tmp_path):
    spec = experiment(tmp_path / "chaos.yaml")  # the student is built inside the workdir, under the lock
    wd = tmp_path / "wd"
    a = popen(["run", spec, "--workdir", wd], tmp_path / "a.log")
    try:
        _wait_for(lambda: _holder(wd) == a.pid, a, tmp_path / "a.log", "taking the workdir lock")
        os.kill(
            a.pid, signal.SIGSTOP
        )  # hold it there: the second run meets a busy workdir whatever the timing
        b = statbench("run", spec, "--workdir", wd)
        assert_one_line_error(b, 1, str(wd), f"pid {a.pid}", "--wait")
        assert not list((wd / "stages").glob(".tmp-*")) if (wd / "stages").is_dir() else True
        c = popen(["run", spec, "--workdir", wd, "--wait"], tmp_path / "c.log")
        _wait_for(
            lambda: "waiting for it" in (tmp_path / "c.log").read_text(), c, tmp_path / "c.log", "waiting"
        )
    finally:
        os.kill(a.pid, signal.SIGCONT)
    ra, rc = _finish(a, tmp_path / "a.log"), _finish(c, tmp_path / "c.log")
    assert ra.returncode == 0 and "Traceback" not in ra.stderr, ra.stderr[-3000:]
    assert rc.returncode == 0 and "Traceback" not in rc.stderr, rc.stderr[-3000:]
    assert f"(pid {a.pid})" in rc.stderr and rc.stderr.count(" cached") == 6  # it found every stage done
    third = statbench("run", spec, "--workdir", wd)
    assert third.returncode == 0 and third.stderr.count(" cached") == 6, third.stderr
    stages = [p for p in (wd / "stages").iterdir()]
    assert len(stages) == 6 and all((p / "done.json").is_file() for p in stages)
    assert_no_temp(wd)


def test_four_concurrent_evals_into_one_runs_dir(tiny_model, tmp_path, clean_run):
    runs = tmp_path / "runs"
    seeds = [0, 1, 0, 1]  # two specs, each twice
    procs = [
        popen([*eval_args(tiny_model, seed=s), "--runs-dir", runs], tmp_path / f"{i}.log")
        for i, s in enumerate(seeds)
    ]
    for i, p in enumerate(procs):
        r = _finish(p, tmp_path / f"{i}.log")
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-3000:]
    dirs = run_dirs(runs)
    assert 2 <= len(dirs) <= 4  # a process that started after another finished reuses its record
    contents = {d.name: record_content(d) for d in dirs}  # every record complete and readable
    by_hash: dict[str, list] = {}
    for c in contents.values():
        by_hash.setdefault(c["spec_hash"], []).append(c)
    assert len(by_hash) == 2
    for same in by_hash.values():
        assert all(c == same[0] for c in same)  # identical specs gave identical records
    assert clean_run[1] in [same[0] for same in by_hash.values()]  # seed 0 equals an undisturbed run
    indexed = {r["run_id"] for r in RunIndex(runs).runs()}
    assert indexed == {d.name for d in dirs}
    assert RunIndex(runs).rebuild() == len(dirs)
    assert_no_temp(runs)
