"""The slurm executor on fake Slurm tools (tests/helpers/fake_slurm: sbatch/srun/sacct/squeue/scancel that run
batch jobs locally) and on submitit's local executor: the batch script asks for what the options say,
results come back through the job's result file, a job Slurm kills is a failure quoting its Slurm log, a
refused submission is a failed job, and reruns submit only what is missing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.core.errors import SpecError
from harness.executors import ExecutorError, Job, make_executor
from harness.records.models import EvalJob, EvalSpec

pytest.importorskip("submitit", reason="the slurm executor needs the 'cluster' extra (submitit)")
FAKE = Path(__file__).resolve().parents[1] / "helpers" / "fake_slurm"


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch):
    state = tmp_path / "slurm-state"
    monkeypatch.setenv("PATH", f"{FAKE}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM_DIR", str(state))
    return state


def _job(name: str, argv: tuple[str, ...], gpus: int = 1) -> Job:
    return Job(name, argv, gpus)  # no job files: the job's exit status alone says ok


def test_parse_time():
    from harness.executors.slurm import parse_time

    assert [parse_time(t) for t in ("240", "4:00:00", "30:30", "1-00", "1-2:30", "0-0:0:1")] == [
        240,
        240,
        31,
        1440,
        1590,
        1,
    ]
    for bad in ("4h", "", "1:2:3:4", "0", "-1"):
        with pytest.raises(SpecError, match="--slurm-time"):
            parse_time(bad)


def test_no_slurm_here_is_one_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExecutorError, match="no Slurm here"):
        make_executor("slurm")


def test_jobs_on_fake_slurm(fake_slurm, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_SLURM_KILL", "killed")
    folder = tmp_path / "slurm"
    ex = make_executor(
        "slurm", partition="gpu-a100", gpus_per_job=2, time_limit="4:00:00", poll=0.5, folder=folder
    )
    ok = _job("ok", ("ls", "executors"))
    cpu = _job("cpu", ("ls", "executors"), gpus=0)
    bad = _job("bad", ("eval", "--spec", str(tmp_path / "missing.json")))
    killed = _job("killed", ("ls", "executors"))
    results = ex.run([ok, cpu, bad, killed])
    assert [r.ok for r in results] == [True, True, False, False], [r.log_tail for r in results]
    assert "slurm" in results[0].log_tail and results[0].device == "0,1"  # --gpus-per-node=2 on the node
    assert results[1].device is None  # a CPU job asks for no GPU
    scripts = {
        j.name: (folder / f"{r.extra['slurm_job_id']}_submission.sh").read_text()
        for j, r in zip([ok, cpu, bad, killed], results, strict=True)
    }
    assert "#SBATCH --partition=gpu-a100" in scripts["ok"] and "#SBATCH --time=240" in scripts["ok"]
    assert "#SBATCH --gpus-per-node=2" in scripts["ok"] and "#SBATCH --gpus-per-node=0" in scripts["cpu"]
    assert "missing.json" in results[2].log_tail and results[2].returncode != 0  # the job's own error
    assert "CANCELLED DUE TO TIME LIMIT" in results[3].log_tail and "FAILED" in results[3].log_tail


def test_refused_submission_is_a_failed_job(fake_slurm, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_SLURM_REFUSE", "1")
    (r,) = make_executor("slurm", poll=0.5, folder=tmp_path).run([_job("x", ("ls", "executors"))])
    assert not r.ok and "sbatch refused the job" in r.log_tail and "invalid partition" in r.log_tail


def test_submitit_local_cluster_and_reruns_skip_done_jobs(tmp_path, tiny_model):
    spec = EvalSpec(model=str(tiny_model), tasks=["statbench_gsm8k"], limit=1, max_gen_toks=4, batch_size=8)
    from harness.executors.jobs import eval_jobs

    (job,) = eval_jobs([spec], tmp_path / "runs", gpus=0)
    ex = make_executor("slurm", cluster="local", poll=0.5)
    (first,) = ex.run([job])
    assert first.ok and first.outcome.run_id and first.extra.get("slurm_job_id"), first.log_tail[-2000:]
    (again,) = ex.run([job])  # already done: not submitted again
    assert again.ok and again.extra == {"skipped": "done before"} and again.outcome == first.outcome
    assert len(list((Path(job.files) / "slurm").glob("*_submitted.pkl"))) == 1
    payload = json.loads(job.spec)
    forced = Job(
        job.name, job.argv, 0, job.mounts, job.writable, job.files, json.dumps({**payload, "force": True})
    )
    from harness.executors.slurm import previous_success

    assert previous_success(forced) is None  # another spec (or force): submitted again
    EvalJob.model_validate(payload)
