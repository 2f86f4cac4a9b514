"""The skill world: the world is deterministic and correct, the shipped base student matches its recipe, and
the oracle teacher answers by construction. The demo itself: tests/e2e/test_demo.py."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from harness.core.errors import SpecError
from harness.core.tasks import load_benchmark
from harness.skillworld import world
from harness.skillworld.base import verify
from harness.skillworld.teacher import SkillWorldTeacher

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "examples" / "skillworld" / "base"


def test_bundled_splits_are_the_generator_output():
    splits = world.build_splits(0)
    for name in ("train", "val", "test", "replay"):
        assert load_benchmark(f"skillworld_{name}") == splits[name]
    test = splits["test"]
    for weak in world.WEAK:
        assert sum(weak in p["skills"] for p in test) >= 300
    assert all(world.answer_of(p["problem"]) == int(p["answer"]) for p in test)


def test_shipped_base_matches_its_recipe(tmp_path):
    meta = verify(BASE)
    acc = meta["val_accuracy_by_type"]
    assert min(acc[t] for t in ("add", "sub", "max", "min")) >= 0.8  # strong skills are strong
    assert max(acc[t] for t in ("mul", "conv")) <= 0.2  # weak skills are weak
    copy = tmp_path / "base"
    shutil.copytree(BASE, copy)
    w = copy / "model.safetensors"
    data = bytearray(w.read_bytes())
    data[-1] ^= 1
    w.chmod(0o644)
    w.write_bytes(bytes(data))
    with pytest.raises(SpecError, match=r"sha256 .* does not match recipe\.json"):
        verify(copy)


def test_oracle_teacher_by_construction():
    t = SkillWorldTeacher(0)
    [j] = t.judge([{"id": "x", "problem": "3*4+5", "skills": ["mul", "add"]}], {})
    assert j.skills == ["mul", "add"] and not j.correct
    [qs] = t.propose([("conv", [])], 3)
    assert len(qs) == 3 and all(q.endswith("m in s") for q in qs)
    assert t.solve(qs[:1], 3) == [[world.solution(world.answer_of(qs[0]))] * 3]
    assert world.restricted(random.Random(0), {"mul"}, 5, "p")[0]["skills"] == ["mul"]
