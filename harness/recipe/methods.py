"""The training-set methods of the STAT recipe, in one table (``statbench ls methods``).

A ``Method`` says what its dataset stage depends on, whether it calls the teacher, how it builds its
question–answer pairs (``build``) and how boards label it. ``base`` builds nothing: it is the student itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BuildInputs:
    """What a dataset stage hands a method's ``build``: the pool by id, Stage 1/2 outputs and the spec."""

    pool: dict[str, dict[str, Any]]
    spec: Any  # ExperimentSpec
    seed: int
    difficult: list[dict[str, Any]] | None = None
    skill_map: Any = None
    msp: dict[str, Any] | None = None


Build = Callable[[BuildInputs, Any], tuple[list[dict[str, Any]], dict[str, Any]]]


@dataclass(frozen=True)
class Method:
    """One row of the method table."""

    name: str
    label: str  # board label (paper naming)
    short: str  # the demo's arm label
    deps: tuple[str, ...]  # stages the dataset stage reads
    uses_teacher: bool  # always calls the teacher
    teacher_for_rewrites: bool  # calls it when select.rewrites > 0
    build: Build | None  # None: no training set (the base model)
    subsample: bool = True  # cut to the budget (MATH-Train keeps every pair)
    description: str = ""

    def needs_teacher(self, select: Any) -> bool:
        """Whether building this method's training set calls the teacher under ``select``."""
        return self.uses_teacher or bool(self.teacher_for_rewrites and select.rewrites)


def _original(inp: BuildInputs, teacher: Any):
    from harness.adapters import select

    return [select.original(q) for q in inp.pool.values()], {}


def _math_hard(inp: BuildInputs, teacher: Any):
    from harness.adapters import select

    hard = [q for q in inp.pool.values() if (q.get("level") or 0) >= 4]
    return select.with_answers(hard, teacher, inp.spec.select), {"hard_questions": len(hard)}


def _math_augment(inp: BuildInputs, teacher: Any):
    from harness.adapters import select

    return select.with_answers(list(inp.pool.values()), teacher, inp.spec.select, rewrites_only=True), {}


def _embed_sel(inp: BuildInputs, teacher: Any):
    from harness.adapters import select
    from harness.recipe.budget import target

    answers = inp.spec.select.answers_per_question if inp.spec.select.rewrites else 1
    need = target(inp.spec, "embed-sel")
    qs, rep = select.embed_sel(
        inp.pool, inp.difficult, inp.spec.embed, None if need is None else -(-need // answers)
    )
    return select.with_answers(qs, teacher, inp.spec.select), rep


def _stat_sel(inp: BuildInputs, teacher: Any):
    from harness.adapters import select

    qs, rep = select.stat_sel(inp.pool, inp.skill_map, inp.msp, inp.spec.select, inp.seed)
    return select.with_answers(qs, teacher, inp.spec.select), rep


def _stat_syn(inp: BuildInputs, teacher: Any):
    from harness.adapters import synthesize

    return synthesize.stat_syn(inp.pool, inp.skill_map, inp.msp, inp.spec.syn, teacher, inp.seed)


def _embed_syn(inp: BuildInputs, teacher: Any):
    from harness.adapters import synthesize

    return synthesize.embed_syn(inp.pool, inp.difficult, inp.spec.embed, inp.spec.syn, teacher)


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("base", "Base Model", "Base", (), False, False, None, description="the student as it is"),
        Method(
            "uniform",
            "Uniform SFT",
            "Uniform SFT",
            (),
            False,
            False,
            _original,
            description="the pool's original solutions, subsampled uniformly",
        ),
        Method(
            "math-train",
            "MATH-Train",
            "MATH-Train",
            (),
            False,
            False,
            _original,
            subsample=False,
            description="every pool question with its original solution",
        ),
        Method(
            "math-hard",
            "MATH-Hard",
            "MATH-Hard",
            (),
            False,
            True,
            _math_hard,
            description="level 4-5 questions × answers",
        ),
        Method(
            "math-augment",
            "MATH-Augment",
            "MATH-Augment",
            (),
            True,
            False,
            _math_augment,
            description="teacher-rewritten answers for every question",
        ),
        Method(
            "embed-sel",
            "Embed-Sel",
            "Embed-Sel",
            ("difficulty",),
            False,
            True,
            _embed_sel,
            description="nearest pool questions to each difficult question (embeddings)",
        ),
        Method(
            "embed-syn",
            "Embed-Syn",
            "Embed-Syn",
            ("difficulty",),
            True,
            False,
            _embed_syn,
            description="teacher questions from retrieved neighbours",
        ),
        Method(
            "stat-sel",
            "STAT-Sel",
            "STAT-Sel",
            ("msp", "skillmap"),
            True,
            False,
            _stat_sel,
            description="pool questions of the Missing-Skill-Profile's skills",
        ),
        Method(
            "stat-syn",
            "STAT-Syn",
            "STAT-Syn",
            ("msp", "skillmap"),
            True,
            False,
            _stat_syn,
            description="teacher questions for the Missing-Skill-Profile's skills",
        ),
    )
}
