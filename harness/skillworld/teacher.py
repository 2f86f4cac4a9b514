"""The skill world's oracle teacher: the Teacher interface answered by construction.

- judge: the missing skills of a failed problem are its skills (known by construction);
- propose: fresh problems from the generator restricted to the missing skill;
- solve: the true answer, boxed (every solution agrees, so the consistency filter keeps them);
- rewrite: none (there is one way to write ``\\boxed{12}``).
"""

from __future__ import annotations

import random
from typing import Any

from harness.adapters.teachers.base import Judgement
from harness.skillworld import world


class SkillWorldTeacher:
    """The skill world's oracle teacher: exact skills and solutions, no model."""

    def __init__(self, seed: int = 0):
        self.rng = random.Random(f"skillworld-oracle-{seed}")
        self.calls = 0

    def judge(self, items, skill_lists):
        self.calls += len(items)
        return [
            Judgement(False, "oracle: the problem's skills", list(it.get("skills") or []))
            if it.get("skills")
            else None
            for it in items
        ]

    def label_skills(self, items, skill_lists, k):
        return [list(it.get("skills") or [])[:k] or None for it in items]

    def rewrite(self, items, n):
        return [[] for _ in items]

    def propose(self, items, n):
        self.calls += len(items)
        return [
            [p["problem"] for p in world.restricted(self.rng, {skill}, n, "syn")] for skill, _refs in items
        ]

    def solve(self, questions, n):
        self.calls += len(questions)
        out = []
        for q in questions:
            ans = world.answer_of(q)
            out.append([world.solution(ans)] * n if ans is not None else [])
        return out

    def usage(self) -> dict[str, Any]:
        return {"kind": "skillworld-oracle", "requests": self.calls, "cost_usd": 0.0}
