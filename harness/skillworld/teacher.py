"""The skill world's oracle teacher: the Teacher interface answered by construction.

- judge: names the skills of a failed problem that *this student* lacks, the profile a competent teacher
  gives: a skill is missing when the student's validation accuracy on the problems that use that skill
  alone (the single-skill types, every template) is below ``THRESHOLD``. So a failed ``3*4+5`` names
  ``mul`` and not ``add`` when the student adds well. A failed problem none of whose skills is below the
  threshold names its weakest skill (a slip is still attributed somewhere). The accuracies come from the
  judge call itself: the MSP stage hands it every difficult validation problem (the validation split, 400
  problems, is under ``msp.max_questions``), so accuracy = 1 - difficult / all, per single-skill type;
- propose: fresh problems from the generator restricted to the missing skill, any template;
- solve: the true answer, boxed (every solution agrees, so the consistency filter keeps them);
- rewrite: none (there is one way to write ``\\boxed{12}``).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from harness.adapters.teachers.base import Judgement
from harness.skillworld import world

THRESHOLD = 0.7  # a skill whose single-skill validation accuracy is below this is "missing"


def skill_accuracy(difficult_ids: set[str]) -> dict[str, float]:
    """Validation accuracy per skill on its single-skill problems, given the ids the student failed."""
    from harness.core.tasks import load_benchmark

    total: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for p in load_benchmark("skillworld_val"):
        if len(p["skills"]) == 1:
            total[p["skills"][0]] += 1
            failed[p["skills"][0]] += str(p["id"]) in difficult_ids
    return {s: 1 - failed[s] / total[s] for s in total}


class SkillWorldTeacher:
    """The skill world's oracle teacher: exact skills and solutions, no model."""

    def __init__(self, seed: int = 0, threshold: float = THRESHOLD):
        self.rng = random.Random(f"skillworld-oracle-{seed}")
        self.threshold = threshold
        self.calls = 0
        self.accuracy: dict[str, float] = {}

    def missing(self, skills: list[str]) -> list[str]:
        """The skills of a failed problem this student lacks (its weakest one when none is below the threshold)."""
        below = [s for s in skills if self.accuracy.get(s, 0.0) < self.threshold]
        return below or [min(skills, key=lambda s: self.accuracy.get(s, 0.0))]

    def judge(self, items, skill_lists):
        self.calls += len(items)
        self.accuracy = skill_accuracy({str(it["id"]) for it in items})
        return [
            Judgement(
                False,
                "oracle: the problem's skills below "
                f"{self.threshold:.0%} validation accuracy ("
                + ", ".join(f"{s} {self.accuracy.get(s, 0.0):.0%}" for s in it["skills"])
                + ")",
                self.missing(list(it["skills"])),
            )
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
