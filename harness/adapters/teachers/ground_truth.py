"""An offline teacher for MATH that answers from ground truth, implementing the Teacher interface.

- judge: a difficult question's missing skills are its labelled skills (known by construction).
- label_skills: the bundled labels.
- rewrite: none (an oracle cannot paraphrase); methods keep the original solutions only.
- propose: "synthesis by retrieval" — the skill's reference questions themselves (MATH questions cannot be
  invented without a language model; the skill world's oracle synthesises real new problems).
- solve: the reference solution of a known question, n times.

It lets the whole pipeline run on a laptop with no API key; swap in ``teacher.kind: openai`` for the real thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.adapters.teachers.base import Judgement


class OracleTeacher:
    """A teacher that answers from the data set's ground truth (labelled skills, reference solutions); no model, no network."""

    def __init__(self):
        self._solutions: dict[str, str] = {}
        self._calls = 0

    def judge(self, items: Sequence[dict[str, Any]], skill_lists) -> list[Judgement | None]:
        self._calls += len(items)
        return [
            Judgement(False, "oracle: the question's labelled skills", list(it.get("skills") or []))
            if it.get("skills")
            else None
            for it in items
        ]

    def label_skills(self, items, skill_lists, k):
        self._calls += len(items)
        return [list(it.get("skills") or [])[:k] or None for it in items]

    def rewrite(self, items, n):
        return [[] for _ in items]

    def propose(self, items, n):
        out = []
        for _skill, refs in items:
            for r in refs:
                self._solutions[r["problem"]] = r["solution"]
            out.append([r["problem"] for r in refs[:n]])
        self._calls += len(items)
        return out

    def solve(self, questions, n):
        self._calls += len(questions)
        return [[self._solutions[q]] * n if q in self._solutions else [] for q in questions]

    def usage(self) -> dict[str, Any]:
        return {"kind": "oracle", "requests": self._calls, "cost_usd": 0.0}
