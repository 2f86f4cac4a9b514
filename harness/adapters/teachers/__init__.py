"""Teachers by name: a dict registry (``statbench ls teachers``). Entries are ``module:Class`` paths, imported on
use, so that a teacher defined in a higher layer (the skill world's) adds no import edge from here."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from harness.adapters.teachers.base import Teacher

TEACHERS: dict[str, tuple[str, str]] = {
    "openai": (
        "harness.adapters.teachers.openai:OpenAITeacher",
        "any OpenAI-compatible chat endpoint (OpenAI, vllm serve, ...)",
    ),
    "oracle": (
        "harness.adapters.teachers.ground_truth:OracleTeacher",
        "MATH ground truth, offline (no synthesis)",
    ),
    "skillworld": (
        "harness.skillworld.teacher:SkillWorldTeacher",
        "the skill world's teacher (by construction)",
    ),
}


def _load(path: str) -> Any:
    mod, name = path.split(":")
    return getattr(importlib.import_module(mod), name)


def make_teacher(spec: Any, cache_path: Path, seed: int = 0) -> Teacher:
    """The teacher ``spec.kind`` names (``TEACHERS``)."""
    cls = _load(TEACHERS[spec.kind][0])
    if spec.kind == "openai":
        return cls(spec, cache_path)
    if spec.kind == "skillworld":
        return cls(seed)
    return cls()
