"""`statbench run` on specs it must accept without running (dry runs of the GPU examples) or refuse before any
work (bad keys, a missing teacher key, an empty pool). In-process CLI calls."""

from __future__ import annotations

import pytest

from tests.helpers.cli import statbench
from tests.helpers.specs import SFT_SPEC


@pytest.mark.parametrize("example", ["llama-3.2-3b", "llama-3.2-1b", "qwen2.5-3b"])
def test_gpu_examples_validate(example, tmp_path):
    r = statbench("run", f"examples/{example}.yaml", "--workdir", tmp_path, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "sft/stat-sel/lr0.0005/s2" in r.stdout and "gpu_hours_h100_rough=" in r.stdout
    assert "eval/stat-syn/grpo/s0" in r.stdout and "board" in r.stdout


@pytest.mark.parametrize(
    "body,msg",
    [
        ("name: x\nstudent: {model: m}\nbogus: 1\n", "bogus: Extra inputs are not permitted"),
        ("name: x\nstudent: {model: m, colour: red}\n", "student.colour: Extra inputs are not permitted"),
        ("name: x\nstudent: {model: m}\nmethods: [stat-magic]\n", "unknown method(s) stat-magic"),
        (
            "name: x\nstudent: {model: m}\ndifficulty: {consistency_samples: 8}\n",
            "difficulty.consistency_samples: Input should be 5",
        ),
    ],
)
def test_bad_specs_name_the_key_and_file(tmp_path, body, msg):
    f = tmp_path / "bad.yaml"
    f.write_text(body)
    r = statbench("run", f, "--workdir", tmp_path / "wd")
    assert r.returncode == 2 and msg in r.stderr and str(f) in r.stderr


def test_missing_teacher_key_and_empty_pool(tmp_path):
    f = tmp_path / "openai.yaml"
    f.write_text(
        SFT_SPEC.format()
        .replace("teacher: {kind: oracle}", "teacher: {kind: openai, api_key_env: STATBENCH_NO_SUCH_KEY}")
        .replace("methods: [math-train]", "methods: [stat-sel]")
    )
    r = statbench("run", f, "--workdir", tmp_path / "wd")
    assert r.returncode == 2 and "environment variable STATBENCH_NO_SUCH_KEY is not set" in r.stderr
    assert not (tmp_path / "wd" / "stages").exists()  # refused before any work
    f.write_text(SFT_SPEC.format().replace("pool_limit: 120", "pool_limit: 0"))
    r = statbench("run", f, "--workdir", tmp_path / "wd2")
    assert r.returncode == 2 and "data.pool: the training pool is empty" in r.stderr
