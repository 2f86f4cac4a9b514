"""The STAT recipe's plan (no stage runs): what each stage's hash keys on."""

from __future__ import annotations

from pathlib import Path

from harness.recipe import plan
from harness.recipe.experiment import load_experiment

TINY = Path(__file__).resolve().parents[2] / "examples" / "tiny.yaml"


def _hashes(spec, workdir: Path) -> dict[str, str]:
    return {name: s.hash for name, s in plan(spec, workdir, build_student=False).stages.items()}


def _with_difficulty(spec, **update):
    return spec.model_copy(update={"difficulty": spec.difficulty.model_copy(update=update)})


def test_the_stage1_protocol_keys_the_student_samples(tmp_path):
    spec = load_experiment(TINY).with_workdir(tmp_path, TINY.parent)
    before, after = _hashes(spec, tmp_path), _hashes(_with_difficulty(spec, protocol="greedy"), tmp_path)
    for name in ("student/val", "student/test", "difficulty", "msp", "board"):
        assert before[name] != after[name], name
    for name in (
        "skillmap",
        "dataset/math-train",
        "sft/math-train/s0",
    ):  # nothing upstream of Stage 1 changes
        assert before[name] == after[name], name


def test_the_consistency_rule_samples_under_its_own_protocol_whatever_difficulty_protocol_says(tmp_path):
    spec = _with_difficulty(load_experiment(TINY).with_workdir(tmp_path, TINY.parent), method="consistency")
    before, after = _hashes(spec, tmp_path), _hashes(_with_difficulty(spec, protocol="greedy"), tmp_path)
    assert before["student/val"] == after["student/val"] and before["student/test"] == after["student/test"]
