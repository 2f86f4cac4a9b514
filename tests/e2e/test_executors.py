"""Executors on CPU: a checkpoint x seed matrix of tiny evals on Ray with two fake GPUs, equal to the local
executor; a failing job reported while the others finish; a small STAT pipeline run as Ray stage jobs equal
to the in-process run."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import pytest
import yaml

from harness.executors import ExecutorError, make_executor
from harness.executors.jobs import eval_jobs as _eval_jobs
from harness.records.models import EvalSpec
from harness.records.store import iter_samples, read_run
from tests.helpers.cli import statbench_process as statbench

ray = pytest.importorskip("ray")
ROOT = Path(__file__).resolve().parents[2]
TASK = "statbench_amc23"  # sampled (avg@64): every seed gives different generations
OPTIONS = ["--backend", "hf", "--limit", "1", "--max-gen-toks", "8", "--batch-size", "64"]
SPEC = {"backend": "hf", "limit": 1, "max_gen_toks": 8, "batch_size": 64}


def eval_jobs(models, tasks, seeds, runs_dir, gpus=1):
    """The checkpoint x task x seed matrix as eval jobs (job spec files, result files)."""
    specs = [EvalSpec(model=m, tasks=[t], seed=s, **SPEC) for m in models for t in tasks for s in seeds]
    return _eval_jobs(specs, runs_dir, gpus=gpus)


@pytest.fixture(scope="module")
def ray_cluster():
    ex = make_executor("ray", num_cpus=2, num_gpus=2)  # ray.init(num_cpus=2, num_gpus=2): fake GPUs
    yield ex
    ex.shutdown()


@pytest.fixture(scope="module")
def models(tiny_model, tmp_path_factory):
    from harness.evaluation.tinymodel import build_tiny_model

    return [str(tiny_model), str(build_tiny_model(tmp_path_factory.mktemp("ckpts") / "ckpt1", seed=1))]


@pytest.fixture(scope="module")
def matrix(ray_cluster, models, tmp_path_factory):
    runs_ray, runs_local = tmp_path_factory.mktemp("runs-ray"), tmp_path_factory.mktemp("runs-local")
    jobs = eval_jobs(models, [TASK], [0, 1], runs_ray, gpus=1)
    broken = eval_jobs([str(runs_ray / "no-such-model")], [TASK], [0], runs_ray, gpus=1)[0]
    on_ray = ray_cluster.run([*jobs[:2], broken, *jobs[2:]])
    local = make_executor("local").run(eval_jobs(models, [TASK], [0, 1], runs_local, gpus=0))
    return on_ray, local


def _samples(run_dir: str) -> list[tuple]:
    return [(s.doc_id, s.sample, s.response, s.correct) for s in iter_samples(Path(run_dir), TASK)]


def test_ray_matrix_gives_each_running_job_its_own_gpu(matrix):
    on_ray, _ = matrix
    ok = [r for r in on_ray if r.ok]
    assert len(ok) == 4
    assert all(r.device in ("0", "1") for r in on_ray)  # one fake GPU each, as Ray assigned it
    for a, b in itertools.combinations(on_ray, 2):
        if a.started < b.ended and b.started < a.ended:  # ran at the same time
            assert a.device != b.device, (a.job.name, b.job.name)
    assert any(
        a.started < b.ended and b.started < a.ended for a, b in itertools.combinations(on_ray, 2)
    )  # and some did


def test_a_failing_job_is_reported_and_the_others_finish(matrix):
    on_ray, _ = matrix
    broken = next(r for r in on_ray if r.job.name.startswith("no-such-model/"))
    assert not broken.ok and broken.returncode != 0 and "no-such-model" in broken.outcome.error
    assert [r.job.name for r in on_ray if r.ok] == [r.job.name for r in on_ray if r is not broken]
    assert all(r.run_dir() and r.outcome.run_id == Path(r.run_dir()).name for r in on_ray if r.ok)


def test_ray_results_equal_the_local_executor(matrix):
    on_ray, local = matrix
    ray_by = {r.job.name: r for r in on_ray if r.ok}
    assert set(ray_by) == {r.job.name for r in local} and all(r.ok for r in local)
    responses = set()
    for lr in local:
        a, b = read_run(Path(ray_by[lr.job.name].run_dir())), read_run(Path(lr.run_dir()))
        assert a.spec.spec_hash == b.spec.spec_hash
        assert a.results[TASK].value == b.results[TASK].value
        sa, sb = _samples(ray_by[lr.job.name].run_dir()), _samples(lr.run_dir())
        assert len(sa) == 64 and sa == sb, lr.job.name
        responses.add(tuple(x[2] for x in sa))
    assert len(responses) == 4  # two checkpoints x two seeds: four different sets of generations


def test_infeasible_gpu_request_is_refused_not_left_pending(ray_cluster, tmp_path):
    with pytest.raises(ExecutorError, match="more GPUs than the cluster has"):
        ray_cluster.run(eval_jobs(["m"], [TASK], [0], tmp_path, gpus=3))


# ------------------------------------------------------------------------------- the pipeline as stage jobs
def _small_spec(tmp_path: Path) -> Path:
    spec = yaml.safe_load((ROOT / "examples" / "tiny.yaml").read_text())
    spec.update(name="tiny-small", methods=["base", "stat-sel"], post_training=["none"])
    spec["eval"]["tasks"] = ["statbench_gsm8k"]
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_pipeline_stages_as_ray_jobs_equal_the_in_process_run(ray_cluster, tmp_path):
    from harness.executors.jobs import run_pipeline
    from harness.recipe import plan
    from harness.recipe.experiment import load_experiment

    exp = _small_spec(tmp_path)
    wd_ray, wd_local = tmp_path / "ray", tmp_path / "local"
    spec = load_experiment(exp).with_workdir(wd_ray, exp.parent)
    pipe = plan(spec, wd_ray)
    waves = pipe.waves()
    assert len(waves) >= 5 and sum(map(len, waves)) == len(pipe.order) == 11
    log: list[str] = []
    results = run_pipeline(pipe, ray_cluster, exp, wd_ray, log=log.append)
    assert all(r.ok for r in results), [r.log_tail[-1500:] for r in results if not r.ok]
    assert not pipe.todo() and len(results) == 11
    assert all(
        [st.hash for st in r.outcome.stages] == [pipe.stages[r.job.name].hash] for r in results
    )  # result files
    gpu_stages = {r.job.name: r.device for r in results if r.job.gpus}
    assert set(gpu_stages) == {
        s.name for s in pipe.order if s.kind in ("generate", "select-lr", "sft", "eval")
    }
    assert all(d in ("0", "1") for d in gpu_stages.values())

    r = statbench("run", exp, "--workdir", wd_local)
    assert r.returncode == 0, r.stderr[-3000:]
    local = json.loads((wd_local / "experiment.json").read_text())
    by_stage = {s["stage"]: s for s in local["stages"]}
    for s in pipe.order:
        assert by_stage[s.name]["hash"] == s.hash, s.name
        if s.kind in ("dataset", "msp", "difficulty"):
            ours = pipe.record(s).summary
            assert ours == by_stage[s.name]["summary"], s.name

    def board(wd: Path) -> list[dict]:  # every cell, less the run ids (timestamps differ)
        return [
            {k: v for k, v in row.items() if k != "runs"}
            for row in csv.DictReader((wd / "board" / "table.csv").open())
        ]

    assert board(wd_ray) == board(wd_local) and len(board(wd_ray)) == 4  # 2 arms x (GSM8K, MATH^D)


def test_run_cli_with_executor_resumes_and_reports(tmp_path):
    """`statbench run --executor local`: each stage a subprocess; a second call finds everything done."""
    exp = _small_spec(tmp_path)
    spec = yaml.safe_load(exp.read_text())
    spec["methods"] = ["base"]
    exp.write_text(yaml.safe_dump(spec))
    wd = tmp_path / "wd"
    r = statbench("run", exp, "--workdir", wd, "--executor", "local")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "wave 1/" in r.stderr and (wd / "experiment.json").is_file() and "| Base Model |" in r.stdout
    again = statbench("run", exp, "--workdir", wd, "--executor", "local")
    assert again.returncode == 0 and "wave" not in again.stderr
    bad = statbench("run", exp, "--workdir", wd, "--executor", "local", "--only", "board")
    assert bad.returncode == 2 and "not both" in bad.stderr


def test_eval_cli_fans_seeds_out_and_fails_cleanly_without_docker(models, tmp_path):
    runs = tmp_path / "runs"
    r = statbench(
        "eval",
        "--model",
        models[0],
        "--tasks",
        TASK,
        "--seeds",
        "0,1",
        "--executor",
        "local",
        "--runs-dir",
        runs,
        *OPTIONS,
        "--label",
        "method=base",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "2/2 job(s) succeeded on the local executor" in r.stderr and r.stdout.count(" ok ") == 2
    seeds = sorted(read_run(d).spec.spec.seed for d in runs.iterdir() if (d / "spec.json").is_file())
    assert seeds == [0, 1]
    d = statbench(
        "eval",
        "--model",
        models[0],
        "--tasks",
        TASK,
        "--executor",
        "docker",
        "--runs-dir",
        runs,
        env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"},
    )
    assert d.returncode == 1 and "Traceback" not in d.stderr and "no Docker engine reachable" in d.stderr
