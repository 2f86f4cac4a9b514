"""`statbench run`: the tiny example end to end on CPU, caching and --from, SIGKILL during SFT then resume,
bad inputs, and dry runs of the GPU examples."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.cli import statbench

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    wd = tmp_path_factory.mktemp("tiny")
    r = statbench("run", "examples/tiny.yaml", "--workdir", wd)
    assert r.returncode == 0, r.stderr[-3000:]
    return wd, r


def test_every_method_and_grpo_end_to_end(tiny_run):
    wd, r = tiny_run
    rec = json.loads((wd / "experiment.json").read_text())
    stages = {s["stage"]: s for s in rec["stages"]}
    methods = ["math-train", "math-hard", "math-augment", "embed-sel", "embed-syn", "stat-sel", "stat-syn"]
    for m in methods:
        assert stages[f"dataset/{m}"]["summary"]["pairs"] > 0, m
        assert stages[f"sft/{m}/lr0.001/s0"]["summary"]["steps"] == 4
    for m in ["base", *methods]:
        assert stages[f"grpo/{m}/s0"]["summary"]["steps"] == 2
        assert f"eval/{m}/sft/s0" in stages and f"eval/{m}/grpo/s0" in stages
    assert stages["grpo/base/s0"]["summary"]["no_signal"] is True  # the random tiny model never answers right
    assert stages["difficulty"]["summary"]["test"]["difficult"] == 24
    assert stages["msp"]["summary"]["with_skills"] == 12
    assert "picks_by_skill" in stages["dataset/stat-sel"]["summary"]
    assert list((wd / "stages").glob("msp-*/msp.svg"))
    board = (wd / "board" / "README.md").read_text()
    assert "MATH^D (n=6" in board and "| STAT-Syn |" in board and "Base Model (GRPO only)" in board
    assert "| **SFT+GRPO** |" in board
    table = board.split("## Per-skill")[0]
    rows = [ln for ln in table.splitlines() if ln.startswith("| ") and "**" not in ln and not ln.startswith("| |")]
    assert len(rows) == 16 and all("—" not in ln for ln in rows)  # every arm has every column: no gaps
    assert "| MATH-4k" in r.stdout  # the CLI prints the board


def test_rerun_is_all_cached_and_from_reruns_downstream_only(tiny_run):
    wd, _ = tiny_run
    again = statbench("run", "examples/tiny.yaml", "--workdir", wd)
    assert again.returncode == 0 and "running" not in again.stderr and again.stderr.count("cached") == 51
    part = statbench("run", "examples/tiny.yaml", "--workdir", wd, "--from", "sft/stat-sel")
    assert part.returncode == 0, part.stderr[-2000:]
    rerun = sorted(set(re.findall(r"\] (\S+)\s+running", part.stderr)))
    assert rerun == ["board", "eval/stat-sel/grpo/s0", "eval/stat-sel/sft/s0", "grpo/stat-sel/s0",
                     "sft/stat-sel/lr0.001/s0", "sft/stat-sel/s0"]


def test_dry_run_prints_plan_hashes_and_estimate(tiny_run):
    wd, _ = tiny_run
    r = statbench("run", "examples/tiny.yaml", "--workdir", wd, "--dry-run")
    assert r.returncode == 0 and "compute estimate:" in r.stdout
    assert len(re.findall(r"\s(done)(\s|$)", r.stdout, flags=re.M)) == 51  # everything already computed


@pytest.mark.parametrize("example", ["llama-3.2-3b", "llama-3.2-1b", "qwen2.5-3b"])
def test_gpu_examples_validate(example, tmp_path):
    r = statbench("run", f"examples/{example}.yaml", "--workdir", tmp_path, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "sft/stat-sel/lr0.0005/s2" in r.stdout and "gpu_hours_h100_rough=" in r.stdout
    assert "eval/stat-syn/grpo/s0" in r.stdout and "board" in r.stdout


SFT_SPEC = """
name: kill-sft
student: {{model: "{{workdir}}/models/student", build_tiny_seed: 0}}
teacher: {{kind: oracle}}
data: {{pool_limit: 120, val_limit: 8, test_limit: 8}}
difficulty: {{method: checker, max_gen_toks: 8}}
methods: [math-train]
post_training: [none]
hparams:
  preset: cpu-tiny
  sft: {{max_steps: 60, save_steps: 3}}
eval: {{suite: null, tasks: [statbench_gsm8k], limit: 2, max_gen_toks: 8}}
"""


def test_sigkill_during_sft_then_resume(tmp_path):
    spec = tmp_path / "kill.yaml"
    spec.write_text(SFT_SPEC.format())
    wd = tmp_path / "wd"
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", str(spec), "--workdir", str(wd)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, killed = time.monotonic() + 600, False
    while time.monotonic() < deadline and proc.poll() is None:
        ckpts = list((wd / "work").glob("sft--math-train--*/checkpoint-*")) if (wd / "work").is_dir() else []
        if any(int(c.name.split("-")[1]) >= 6 for c in ckpts):
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.05)
    proc.wait(60)
    assert killed and proc.returncode == -signal.SIGKILL, "SFT finished before it could be killed"
    assert not list((wd / "stages").glob("sft--math-train--lr*")), "a killed stage must not look complete"
    r = statbench("run", spec, "--workdir", wd)
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.search(r"sft: resuming from .*checkpoint-\d+", r.stderr)
    for done in ("skillmap", "student/val", "student/test", "difficulty", "dataset/math-train"):
        assert re.search(rf"\] {re.escape(done)}\s+cached", r.stderr), done
    rec = json.loads((wd / "experiment.json").read_text())
    sft = next(s for s in rec["stages"] if s["stage"].startswith("sft/math-train/lr"))
    assert sft["summary"]["steps"] == 60 and sft["summary"]["resumed_from"]


@pytest.mark.parametrize("body,msg", [
    ("name: x\nstudent: {model: m}\nbogus: 1\n", "bogus: Extra inputs are not permitted"),
    ("name: x\nstudent: {model: m, colour: red}\n", "student.colour: Extra inputs are not permitted"),
    ("name: x\nstudent: {model: m}\nmethods: [stat-magic]\n", "unknown method(s) stat-magic"),
    ("name: x\nstudent: {model: m}\ndifficulty: {consistency_samples: 8}\n", "difficulty.consistency_samples: Input should be 5"),
])
def test_bad_specs_name_the_key_and_file(tmp_path, body, msg):
    f = tmp_path / "bad.yaml"
    f.write_text(body)
    r = statbench("run", f, "--workdir", tmp_path / "wd")
    assert r.returncode == 2 and msg in r.stderr and str(f) in r.stderr


def test_missing_teacher_key_and_empty_pool(tmp_path):
    f = tmp_path / "openai.yaml"
    f.write_text(SFT_SPEC.format().replace("teacher: {kind: oracle}", "teacher: {kind: openai, api_key_env: STATBENCH_NO_SUCH_KEY}")
                 .replace("methods: [math-train]", "methods: [stat-sel]"))
    r = statbench("run", f, "--workdir", tmp_path / "wd")
    assert r.returncode == 2 and "environment variable STATBENCH_NO_SUCH_KEY is not set" in r.stderr
    assert not (tmp_path / "wd" / "stages").exists()  # refused before any work
    f.write_text(SFT_SPEC.format().replace("pool_limit: 120", "pool_limit: 0"))
    r = statbench("run", f, "--workdir", tmp_path / "wd2")
    assert r.returncode == 2 and "data.pool: the training pool is empty" in r.stderr
