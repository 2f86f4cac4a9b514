"""A 2 checkpoints x 2 seeds eval matrix through `statbench eval --executor slurm` on fake Slurm tools
(tests/helpers/fake_slurm) gives the same samples as the local executor; a rerun submits nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.executors import make_executor
from harness.executors.jobs import eval_jobs
from harness.records.models import EvalSpec
from harness.records.store import iter_samples, read_run
from tests.helpers.cli import statbench_process as statbench

pytest.importorskip("submitit", reason="the slurm executor needs the 'cluster' extra (submitit)")
FAKE = Path(__file__).resolve().parents[1] / "helpers" / "fake_slurm"
TASK = "statbench_amc23"  # sampled: every seed gives different generations
SPEC = {"backend": "hf", "limit": 1, "max_gen_toks": 8, "batch_size": 64}


def _samples(run_dir: Path) -> list[tuple]:
    return [(s.doc_id, s.sample, s.response, s.correct) for s in iter_samples(run_dir, TASK)]


def test_slurm_matrix_equals_local(tiny_model, tmp_path):
    from harness.evaluation.tinymodel import build_tiny_model

    models = [str(tiny_model), str(build_tiny_model(tmp_path / "ckpt1", seed=1))]
    state, runs = tmp_path / "slurm-state", tmp_path / "runs-slurm"
    env = {
        "PATH": f"{FAKE}{os.pathsep}{os.environ['PATH']}",
        "FAKE_SLURM_DIR": str(state),
        "STATBENCH_SLURM_POLL": "1",
    }
    args = [
        "eval",
        "--model",
        ",".join(models),
        "--tasks",
        TASK,
        "--seeds",
        "0,1",
        "--backend",
        "hf",
        "--limit",
        "1",
        "--max-gen-toks",
        "8",
        "--batch-size",
        "64",
        "--executor",
        "slurm",
        "--slurm-partition",
        "gpu",
        "--slurm-gpus-per-job",
        "1",
        "--slurm-time",
        "4:00:00",
        "--runs-dir",
        runs,
    ]
    r = statbench(*args, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "4/4 job(s) succeeded on the slurm executor" in r.stderr
    submitted = int((state / "counter").read_text()) - 999
    assert submitted == 4
    scripts = sorted(runs.glob(".jobs/*/slurm/*_submission.sh"))
    assert len(scripts) == 4 and all("#SBATCH --partition=gpu" in s.read_text() for s in scripts)

    local_runs = tmp_path / "runs-local"
    specs = [EvalSpec(model=m, tasks=[TASK], seed=s, **SPEC) for m in models for s in (0, 1)]
    local = make_executor("local").run(eval_jobs(specs, local_runs, gpus=0))
    assert all(x.ok for x in local)
    by_key = {}
    for d in runs.iterdir():
        if (d / "spec.json").is_file():
            spec = read_run(d).spec.spec
            by_key[(Path(spec.model).name, spec.seed)] = d
    assert len(by_key) == 4
    responses = set()
    for x in local:
        mine = read_run(Path(x.run_dir())).spec.spec
        other = by_key[(Path(mine.model).name, mine.seed)]
        assert read_run(other).spec.spec_hash == read_run(Path(x.run_dir())).spec.spec_hash
        a, b = _samples(other), _samples(Path(x.run_dir()))
        assert len(a) == 64 and a == b
        responses.add(tuple(s[2] for s in a))
    assert len(responses) == 4  # four different sets of generations, each equal to the local one

    again = statbench(*args, env=env)  # a rerun: everything is done, nothing is submitted
    assert again.returncode == 0 and "4/4 job(s) succeeded" in again.stderr, again.stderr[-2000:]
    assert int((state / "counter").read_text()) - 999 == 4
