"""The teacher interface every teacher implements, and the helpers they share (prompts, reply parsing).

Teachers: ``openai`` (any OpenAI-compatible chat model, ``openai.py``), ``oracle`` (MATH ground truth,
``ground_truth.py``) and ``skillworld`` (the skill world's oracle, ``harness/skillworld/teacher.py``); the
registry is ``harness.adapters.teachers.TEACHERS``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

PROMPTS = Path(__file__).resolve().parent / "prompts"


@cache
def _template(name: str) -> str:
    return (PROMPTS / f"{name}.txt").read_text()


def prompt(name: str, **kw: str) -> str:
    """The bundled teacher prompt template ``name`` filled with ``kw``."""
    return _template(name).format(**kw)


def tag(text: str, name: str) -> str | None:
    """Content of the last complete ``<name>...</name>`` in ``text`` (None when absent or empty)."""
    found = re.findall(rf"<{name}>(.*?)</{name}>", text or "", flags=re.DOTALL | re.IGNORECASE)
    return found[-1].strip() or None if found else None


@dataclass
class Judgement:
    """A teacher's verdict on a student solution: correct or not, why, and the skills it was missing."""

    correct: bool
    reason: str
    skills: list[str]


@dataclass
class Usage:
    """Teacher request accounting: requests, cache hits, failures, parse retries, tokens and cost."""

    requests: int = 0
    cached: int = 0
    failed: int = 0
    parse_retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    by_model: dict[str, dict[str, float]] = field(default_factory=dict)


class Teacher(Protocol):
    """What the STAT stages ask of a teacher. Every method maps over its inputs; None = failed item."""

    def judge(
        self, items: Sequence[dict[str, Any]], skill_lists: dict[str, list[str]]
    ) -> list[Judgement | None]: ...

    def label_skills(
        self, items: Sequence[dict[str, Any]], skill_lists: dict[str, list[str]], k: int
    ) -> list[list[str] | None]: ...

    def rewrite(self, items: Sequence[dict[str, Any]], n: int) -> list[list[str]]: ...

    def propose(self, items: Sequence[tuple[str, Sequence[dict[str, Any]]]], n: int) -> list[list[str]]: ...

    def solve(self, questions: Sequence[str], n: int) -> list[list[str]]: ...

    def usage(self) -> dict[str, Any]: ...


def parse_skills(text: str | None, allowed: Sequence[str], limit: int) -> list[str]:
    """Skills named in a ``<skill>`` tag, normalised to the allowed ids, unknown ones dropped, order kept."""
    if not text:
        return []
    norm = {re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_"): s for s in allowed}
    out: list[str] = []
    for part in re.split(r"[,;\n]", text):
        key = re.sub(r"[^a-z0-9]+", "_", part.strip().strip("\"'[]").lower()).strip("_")
        if key in norm and norm[key] not in out:
            out.append(norm[key])
    return out[:limit]


def skill_list_text(skills: Sequence[str]) -> str:
    """Skills as the JSON-like list the prompts show the teacher."""
    return "[\n" + ",\n".join(f'  "{s}"' for s in skills) + "\n]"


def boxed_reply(reply: str) -> str | None:
    """A solution reply: kept (stripped) only if it has a final ``\\boxed{}`` answer."""
    return reply.strip() if "\\boxed" in reply else None
