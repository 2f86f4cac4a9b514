"""SIGKILL at a seeded random point of eval, write_run and the pipeline, then resume: the records equal an
undisturbed run's. The kill point is drawn from ``STATBENCH_KILL_SEED`` (to replay a failure) or fresh
randomness, and printed; the process kills itself there (``STATBENCH_FAULT``, harness/core/faults.py), so the
point does not depend on the machine's speed."""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

from harness.records.store import RunIndex, iter_samples, read_run, write_run
from tests.chaos.conftest import (
    assert_no_temp,
    eval_args,
    pipeline_content,
    popen,
    record_content,
    run_dirs,
)
from tests.helpers.cli import statbench

WRITE_RUN = [
    "write_run:start",
    "write_run:spec",
    "write_run:results",
    "write_run:samples",
    "write_run:rename",
    "write_run:index",
]
EVAL_POINTS = ["cache:commit:1", *WRITE_RUN]
STAGE_POINTS = [f"stage:{w}:{n}" for w in ("start", "done", "committed") for n in range(1, 7)] + [
    f"{p}:{n}"
    for p in WRITE_RUN
    for n in (1, 2, 3)  # the pipeline writes three run records
]


def _draw(points: list[str], label: str) -> str:
    seed = int(os.environ.get("STATBENCH_KILL_SEED") or random.SystemRandom().randrange(2**32))
    point = random.Random(seed).choice(points)
    print(f"\n{label}: kill seed {seed} (STATBENCH_KILL_SEED) -> STATBENCH_FAULT={point}")
    return point


def _killed(args: list, log: Path, point: str) -> None:
    proc = popen(args, log, env={"STATBENCH_FAULT": point})
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"[{point}] not killed: {log.read_text()[-3000:]}"


def test_sigkill_eval_then_resume(tiny_model, tmp_path, clean_run):
    point = _draw(EVAL_POINTS, "eval")
    runs = tmp_path / "runs"
    _killed([*eval_args(tiny_model), "--runs-dir", runs], tmp_path / "killed.log", point)
    for d in run_dirs(runs):  # what a kill leaves is a whole record or none
        assert record_content(d) == clean_run[1], point
    resumed = statbench(*eval_args(tiny_model), "--runs-dir", runs)
    assert resumed.returncode == 0 and "Traceback" not in resumed.stderr, f"[{point}] {resumed.stderr}"
    [run] = run_dirs(runs)  # resumed into the one record (or reused the one the kill left)
    assert record_content(run) == clean_run[1], point
    assert [r["run_id"] for r in RunIndex(runs).runs()] == [run.name]
    assert_no_temp(runs)  # the dead process's temp folder was removed


def _write_run_in_child(runs: Path, src: Path, point: str) -> int:
    """``write_run`` of a copy of ``src`` in a forked child that SIGKILLs itself at ``point``; its exit status."""
    rec = read_run(src)
    samples = {t: list(iter_samples(src, t)) for t in rec.results}
    pid = os.fork()
    if pid == 0:  # the child: only file I/O, then SIGKILL (or exit 0 if the point is never reached)
        os.environ["STATBENCH_FAULT"] = point
        try:
            write_run(runs, src.name, rec.spec, rec.results, rec.provenance, samples)
        finally:
            os._exit(0)
    return os.waitpid(pid, 0)[1]


def test_sigkill_write_run_at_each_point_leaves_no_partial_record(tmp_path, clean_run):
    """write_run killed at each of its points in turn: a whole record or none, and the next write_run
    removes the dead processes' temp folders."""
    src = run_dirs(clean_run[0])[0]
    runs = tmp_path / "runs"
    for point in WRITE_RUN:
        status = _write_run_in_child(runs, src, point)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, point
        for d in run_dirs(runs):
            assert record_content(d) == clean_run[1], point
        # its own temp folder is left (until the rename); those of the earlier, dead children were removed
        assert len(list(runs.glob(".tmp-*"))) == (point != "write_run:index"), point
    assert len(run_dirs(runs)) == 1  # only the kill after the rename (write_run:index) left a record
    rec = read_run(src)
    final = write_run(
        runs, src.name, rec.spec, rec.results, rec.provenance, {t: iter_samples(src, t) for t in rec.results}
    )
    assert final.name == f"{src.name}-2"  # never overwrites the record the killed process completed
    assert_no_temp(runs)
    assert {r["run_id"] for r in RunIndex(runs).runs()} == {d.name for d in run_dirs(runs)}
    assert all(record_content(d) == clean_run[1] for d in run_dirs(runs))


def test_sigkill_pipeline_then_resume(tmp_path, clean_pipeline):
    spec, clean = clean_pipeline
    point = _draw(STAGE_POINTS, "pipeline")
    wd = tmp_path / "wd"
    _killed(["run", spec, "--workdir", wd], tmp_path / "killed.log", point)
    resumed = statbench("run", spec, "--workdir", wd)
    assert resumed.returncode == 0 and "Traceback" not in resumed.stderr, f"[{point}] {resumed.stderr}"
    assert pipeline_content(wd) == clean, point
    assert_no_temp(wd)
