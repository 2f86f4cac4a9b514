"""The docker executor without an engine: its exact command lines (golden), the env allowlist, GPU pinning
when jobs run side by side (against a fake SDK client), and the one-sentence error when no engine is there."""

from __future__ import annotations

import os
import shlex
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.executors import ExecutorError, Job, make_executor
from harness.executors.docker import DockerExecutor
from harness.executors.jobs import eval_jobs as _eval_jobs
from harness.executors.jobs import stage_job
from harness.records.models import EvalJob, EvalSpec, JobOutcome

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "docker" / "commands.txt"


def eval_jobs(models, tasks, seeds, runs_dir, gpus=1, **kw):
    """Jobs for every model x task x seed (specs built directly, as ``statbench eval --seeds`` does)."""
    specs = [
        EvalSpec.model_construct(
            **{**EvalSpec(model=m, tasks=["statbench_gsm8k"]).model_dump(), "tasks": [t], "seed": s, **kw}
        )
        for m in models
        for t in tasks
        for s in seeds
    ]
    return _eval_jobs(specs, runs_dir, gpus=gpus)


def _jobs(tmp_path: Path) -> list[Job]:
    ckpt = tmp_path / "ckpt" / "stat-sel"
    ckpt.mkdir(parents=True)
    jobs = eval_jobs(
        [str(ckpt), "Qwen/Qwen2.5-Math-1.5B"],
        ["statbench_math500"],
        [0, 1],
        tmp_path / "runs",
        gpus=1,
        protocol="stat-paper",
        backend="vllm",
    )
    stage = SimpleNamespace(name="sft/stat-sel/s0", gpus=1)
    jobs.append(stage_job(stage, tmp_path / "exp" / "llama.yaml", tmp_path / "experiments" / "llama"))
    return jobs


def _golden_text(tmp_path: Path, ex: DockerExecutor) -> str:
    lines = []
    for i, job in enumerate(_jobs(tmp_path)):
        argv = ex.spec(job, "statbench-eval@sha256:" + "ab" * 32, [str(i % 2)] if i % 3 else None).argv()
        lines.append(shlex.join(argv).replace(str(tmp_path.resolve()), "$TMP"))
    return "\n".join(lines) + "\n"


def test_command_lines_match_golden(tmp_path, monkeypatch):
    for name in (
        "HF_HUB_OFFLINE",
        "HF_DATASETS_OFFLINE",
        "STATBENCH_GRADER_WORKERS",
        "STATBENCH_GRADER_TIMEOUT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-do-not-leak")
    monkeypatch.setenv("WANDB_API_KEY", "also-secret")
    ex = DockerExecutor(
        image="statbench-eval:latest", env_allow=["WANDB_API_KEY"], hf_cache="/", user="1000:1000"
    )
    got = _golden_text(tmp_path, ex)
    if os.environ.get("STATBENCH_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(got)
    assert got == GOLDEN.read_text(), (
        "docker command lines changed (intended? regenerate with STATBENCH_UPDATE_GOLDEN=1)"
    )
    assert "sk-do-not-leak" not in got and "also-secret" not in got  # names only, never values
    assert "-e OPENAI_API_KEY" not in got and "-e WANDB_API_KEY" in got  # only allowlisted names pass


def test_sdk_call_matches_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-do-not-leak")
    ex = DockerExecutor(image="img:1", env_allow=["OPENAI_API_KEY"], hf_cache=str(tmp_path), user="1000:1000")
    job = _jobs(tmp_path)[0]
    spec = ex.spec(job, "img@sha256:" + "0" * 64, ["1"])
    kw = spec.sdk_kwargs()
    assert kw["image"] == "img:1" and kw["command"] == job.command() and kw["user"] == "1000:1000"
    assert (
        kw["environment"]["OPENAI_API_KEY"] == "sk-do-not-leak"
    )  # the value goes to the engine, not to logs
    assert kw["environment"]["STATBENCH_IMAGE_DIGEST"] == "img@sha256:" + "0" * 64
    assert kw["device_requests"][0]["DeviceIDs"] == ["1"] and kw["device_requests"][0]["Capabilities"] == [
        ["gpu"]
    ]
    runs = str((tmp_path / "runs").resolve())
    assert kw["volumes"][runs] == {"bind": runs, "mode": "rw"}
    model = str((tmp_path / "ckpt" / "stat-sel").resolve())
    assert kw["volumes"][model]["mode"] == "ro"
    assert kw["volumes"][str(tmp_path)]["bind"] == "/home/statbench/.cache/huggingface"


class _FakeContainer:
    def __init__(self, client, kw):
        self.client, self.kw = client, kw
        self.devices = kw.get("device_requests", [{}])[0].get("DeviceIDs")

    def wait(self, timeout=None):
        with self.client.lock:
            self.client.running.append(self.devices)
            self.client.overlaps.append([d for r in self.client.running for d in r])
        time.sleep(0.05)
        with self.client.lock:
            self.client.running.remove(self.devices)
        cmd = self.kw["command"]
        job = EvalJob.model_validate_json(
            Path(cmd[cmd.index("--spec") + 1]).read_text(), context={"stored": True}
        )
        if "broken" in job.spec.tasks:
            return {"StatusCode": 3}
        run = f"/runs/{job.spec.model}-{job.spec.tasks[0]}"  # what the job reports in its result file
        Path(cmd[cmd.index("--result-file") + 1]).write_text(
            JobOutcome(ok=True, run_dir=run, run_id=Path(run).name).model_dump_json()
        )
        return {"StatusCode": 0}

    def logs(self):
        return (
            b"run: /runs/not-this-one\n"  # printed text is not an interface: executors read the result file
        )

    def remove(self, force=False):
        pass


class _FakeClient:
    """The two SDK calls the executor makes; records which devices were in use at the same time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.running, self.overlaps = [], []
        self.images = SimpleNamespace(
            get=lambda name: SimpleNamespace(attrs={"RepoDigests": [f"{name}@sha256:" + "1" * 64]}, id="x")
        )
        self.containers = SimpleNamespace(run=lambda **kw: _FakeContainer(self, kw))


def test_jobs_share_the_gpus_without_sharing_a_device(tmp_path):
    client = _FakeClient()
    ex = DockerExecutor(image="img:1", hf_cache=str(tmp_path), num_gpus=2, client=client, user="1:1")
    jobs = eval_jobs(["m1", "m2"], ["statbench_gsm8k", "broken"], [0], tmp_path / "runs", gpus=1)
    results = ex.run(jobs)
    assert [r.ok for r in results] == [True, False, True, False]  # failures reported, the others finished
    assert [r.run_dir() for r in results] == [
        "/runs/m1-statbench_gsm8k",
        None,
        "/runs/m2-statbench_gsm8k",
        None,
    ]
    assert {r.device for r in results} == {"0", "1"}
    assert max(len(o) for o in client.overlaps) == 2  # two at a time on two GPUs...
    assert all(len(o) == len(set(o)) for o in client.overlaps)  # ...never on the same one
    assert all(r.extra["image"] == "img:1@sha256:" + "1" * 64 for r in results)
    with pytest.raises(ExecutorError, match="more GPUs than this host has"):
        ex.run(eval_jobs(["m1"], ["t"], [0], tmp_path / "runs", gpus=3))


def test_no_engine_is_one_clear_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    ex = make_executor("docker", image="statbench-eval:latest")
    with pytest.raises(ExecutorError) as e:
        ex.run(eval_jobs(["m"], ["statbench_gsm8k"], [0], tmp_path / "runs"))
    msg = str(e.value)
    assert msg.startswith("no Docker engine reachable") and "--executor local" in msg and "\n" not in msg


def test_unknown_executor_names_the_valid_ones():
    with pytest.raises(ExecutorError, match="valid executors: local, docker, ray, slurm"):
        make_executor("kubernetes")


@pytest.mark.parametrize("via_env", [False, True])
def test_task_folders_and_their_data_reach_the_container(tmp_path, monkeypatch, registry, via_env):
    """A task folder whose data lies outside it: the job registers the folder (absolute; also one known only
    from $STATBENCH_INCLUDE_PATH, which a container does not inherit) and the container can read both."""
    data = tmp_path / "shared-data" / "q.jsonl"
    data.parent.mkdir()
    data.write_text('{"q": "1+1", "a": 2}\n')
    folder = tmp_path / "mytasks"
    folder.mkdir()
    (folder / "t1.yaml").write_text(
        "task: t1\ndataset_kwargs: {data: ../shared-data/q.jsonl, question: q, answer: a, family: aime}\n"
    )
    (folder / "t2.yaml").write_text(  # its data inside the folder: no mount of its own
        "task: t2\ndataset_kwargs: {data: t2.jsonl, question: q, answer: a, family: aime}\n"
    )
    from harness.core.task_folders import include_path

    include_path([folder])  # into the registry (the fixture restores it)
    monkeypatch.chdir(tmp_path)
    given = [] if via_env else ["mytasks"]  # relative, as typed on the command line
    [job] = eval_jobs(["Qwen/Qwen2.5-Math-1.5B"], ["t1"], [0], tmp_path / "runs", include_path=given)
    sent = EvalJob.model_validate_json(job.spec).spec
    assert sent.include_path == [str(folder.resolve())]
    assert set(job.mounts) == {str(folder.resolve()), str(data.resolve()), str((tmp_path / "runs").resolve())}
    argv = DockerExecutor(image="img:1", hf_cache="/nonexistent", user="1000:1000").spec(job).argv()
    for p in (folder, data):
        assert f"{p.resolve()}:{p.resolve()}:ro" in argv
    # the job id does not depend on where the folder sits on this machine
    [plain] = eval_jobs(["Qwen/Qwen2.5-Math-1.5B"], ["t1"], [0], tmp_path / "runs")
    assert job.files == plain.files


def test_the_skill_world_stages_see_their_task_folder():
    from harness.core.task_folders import task_folder_paths

    root = Path(__file__).resolve().parents[2]
    folders, paths = task_folder_paths([root / "examples" / "skillworld" / "tasks"])
    assert folders == [str(root / "examples" / "skillworld" / "tasks")]
    assert paths == [
        folders[0],
        str(root / "tasks" / "data" / "skillworld_test.jsonl"),
        str(root / "tasks" / "data" / "skillworld_val.jsonl"),
    ]
