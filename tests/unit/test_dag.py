"""The DAG engine on toy stages: hashes, waves for executors, --only, --from, and the failure rules."""

from __future__ import annotations

import json

import pytest

from harness.core.errors import SpecError
from harness.core.pipeline import Pipeline, Stage


def _stages(calls: list[str], fail: str | None = None) -> list[Stage]:
    def fn(name):
        def run(ctx):
            calls.append(name)
            if name == fail:
                raise RuntimeError(f"{name} broke")
            inputs = {d: json.loads((p / "out.json").read_text()) for d, p in ctx.inputs.items()}
            (ctx.out / "out.json").write_text(json.dumps({"name": name, "inputs": inputs}))
            return {"n": len(inputs)}

        return run

    spec = {"a": [], "b": [], "c": ["a"], "d": ["a", "b"], "e": ["c", "d"]}
    return [Stage(n, "toy", {"n": n}, deps, fn(n), gpus=int(n in "cd")) for n, deps in spec.items()]


def test_waves_group_by_longest_path_and_shrink_as_stages_finish(tmp_path):
    calls: list[str] = []
    pipe = Pipeline(_stages(calls), tmp_path)
    assert [[s.name for s in w] for w in pipe.waves()] == [["a", "b"], ["c", "d"], ["e"]]
    pipe.run(only=["a", "b"], log=lambda m: None)
    assert calls == ["a", "b"] and [[s.name for s in w] for w in pipe.waves()] == [["c", "d"], ["e"]]
    assert [[s.name for s in w] for w in pipe.waves(start="a")] == [["a"], ["c", "d"], ["e"]]  # b stays done


def test_only_runs_exactly_the_named_stages_and_needs_their_inputs(tmp_path):
    calls: list[str] = []
    pipe = Pipeline(_stages(calls), tmp_path)
    with pytest.raises(SpecError, match="--only c: dependency a is not done yet"):
        pipe.run(only=["c"])
    with pytest.raises(SpecError, match="--only zz: no such stage"):
        pipe.run(only=["zz"])
    pipe.run(only=["a", "c"], log=lambda m: None)  # a dependency named in the same call is fine
    assert calls == ["a", "c"]
    pipe.run(only=["a"], log=lambda m: None)  # --only always reruns
    assert calls == ["a", "c", "a"] and pipe.is_done(pipe.stages["c"])


def test_jobs_and_one_process_give_the_same_outputs(tmp_path):
    one, jobs = Pipeline(_stages([]), tmp_path / "one"), Pipeline(_stages([]), tmp_path / "jobs")
    one.run(log=lambda m: None)
    for wave in jobs.waves():
        for s in wave:
            Pipeline(_stages([]), tmp_path / "jobs").run(
                only=[s.name], log=lambda m: None
            )  # a fresh process each
    assert jobs.summary() == one.summary()
    for s in one.order:
        assert (one.out_dir(s) / "out.json").read_text() == (jobs.out_dir(s) / "out.json").read_text()
    assert {s.name: s.gpus for s in one.order} == {"a": 0, "b": 0, "c": 1, "d": 1, "e": 0}


def test_a_failed_stage_leaves_no_output_and_keeps_the_rest(tmp_path):
    calls: list[str] = []
    with pytest.raises(RuntimeError, match="d broke"):
        Pipeline(_stages(calls, fail="d"), tmp_path).run(log=lambda m: None)
    pipe = Pipeline(_stages([]), tmp_path)
    assert {s.name for s in pipe.order if pipe.is_done(s)} == {"a", "b", "c"}
    assert not list((tmp_path / "stages").glob(".tmp-*"))
    assert [s.name for s in pipe.todo()] == ["d", "e"]


def test_wave_driver_skips_only_what_depends_on_a_failed_job(tmp_path):
    from harness.executors import JobResult
    from harness.executors.jobs import run_pipeline

    class InProcess:  # an executor that runs each stage job here; the job for "c" fails
        name = "toy"

        def __init__(self):
            self.batches: list[list[str]] = []

        def run(self, jobs):
            self.batches.append([j.name for j in jobs])
            out = []
            for j in jobs:
                assert j.argv[-2:] == ("--only", j.name) and j.gpus == int(j.name in "cd")
                if j.name != "c":
                    Pipeline(_stages([]), tmp_path).run(only=[j.name], log=lambda m: None)
                out.append(JobResult(j, j.name != "c", 0 if j.name != "c" else 1))
            return out

    ex, log = InProcess(), []
    pipe = Pipeline(_stages([]), tmp_path)
    results = run_pipeline(pipe, ex, tmp_path / "exp.yaml", tmp_path, log=log.append)
    assert ex.batches == [["a", "b"], ["c", "d"]]  # e never submitted: it needs c
    assert [(r.job.name, r.ok) for r in results] == [("a", True), ("b", True), ("c", False), ("d", True)]
    assert [s.name for s in pipe.todo()] == ["c", "e"] and any(
        "skipped 1 stage(s)" in m and "e" in m for m in log
    )
