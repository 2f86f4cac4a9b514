"""The skill world: a seeded generator of tiny arithmetic problems over seven independent skills.

Designed so that skill targeting has something to find: every skill is a small fact
table or a one-line rule a 1M-parameter model learns in a few hundred steps; none needs multi-digit
arithmetic. The base student is pre-trained on a mix that nearly omits three skills, so it is strong on
four and near zero on three, and its failures concentrate on the weak skills.

Problem types (answers are integers, written ``\\boxed{n}``):

=========  ===============  ==============================  =========
type       skills           example                         facts
=========  ===============  ==============================  =========
add        add              ``7+5``                          100
sub        sub              ``9-4``                          55
max        max              ``max(37,82)``                   10,000
min        min              ``min(37,82)``                   10,000
max+add    max, add         ``max(3,8)+4``                   1,000
mul        mul (weak)       ``7*8``                          81
mod        mod (weak)       ``17%4``                         112
conv       conv (weak)      ``5m in s``  (minutes to sec.)   40
mul+add    mul, add (weak)  ``3*4+5``                        810
mod+add    mod, add (weak)  ``17%4+2``                       1,120
=========  ===============  ==============================  =========
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from harness.core.tasks import PROMPTS

PROMPT = PROMPTS["skillworld"]  # the task registry's prompt for the skill world (tasks/registry.yaml)

SKILLS = ("add", "sub", "max", "min", "mul", "mod", "conv")
WEAK = ("mul", "mod", "conv")
VERSION = 1


@dataclass(frozen=True)
class ProblemType:
    """A kind of skill-world problem: its name, the skills it needs and its generator."""

    name: str
    skills: tuple[str, ...]
    make: Callable[[random.Random], tuple[str, int]]


def _add(r):
    a, b = r.randint(0, 9), r.randint(0, 9)
    return f"{a}+{b}", a + b


def _sub(r):
    a = r.randint(0, 9)
    b = r.randint(0, a)
    return f"{a}-{b}", a - b


def _max(r):
    a, b = r.randint(0, 99), r.randint(0, 99)
    return f"max({a},{b})", max(a, b)


def _min(r):
    a, b = r.randint(0, 99), r.randint(0, 99)
    return f"min({a},{b})", min(a, b)


def _max_add(r):
    a, b, c = r.randint(0, 9), r.randint(0, 9), r.randint(0, 9)
    return f"max({a},{b})+{c}", max(a, b) + c


def _mul(r):
    a, b = r.randint(1, 9), r.randint(1, 9)
    return f"{a}*{b}", a * b


def _mod(r):
    a, b = r.randint(0, 27), r.randint(2, 5)
    return f"{a}%{b}", a % b


def _conv(r):
    m = r.randint(1, 40)
    return f"{m}m in s", 60 * m


def _mul_add(r):
    a, b, c = r.randint(1, 9), r.randint(1, 9), r.randint(0, 9)
    return f"{a}*{b}+{c}", a * b + c


def _mod_add(r):
    a, b, c = r.randint(0, 27), r.randint(2, 5), r.randint(0, 9)
    return f"{a}%{b}+{c}", a % b + c


TYPES: dict[str, ProblemType] = {
    t.name: t
    for t in (
        ProblemType("add", ("add",), _add),
        ProblemType("sub", ("sub",), _sub),
        ProblemType("max", ("max",), _max),
        ProblemType("min", ("min",), _min),
        ProblemType("max+add", ("max", "add"), _max_add),
        ProblemType("mul", ("mul",), _mul),
        ProblemType("mod", ("mod",), _mod),
        ProblemType("conv", ("conv",), _conv),
        ProblemType("mul+add", ("mul", "add"), _mul_add),
        ProblemType("mod+add", ("mod", "add"), _mod_add),
    )
}
# the base student's pre-training mix: weak-skill types almost absent
BASE_MIX = {name: (0.002 if set(t.skills) & set(WEAK) else 1.0) for name, t in TYPES.items()}


def solution(answer: int) -> str:
    """The reference solution for ``answer``."""
    return f"\\boxed{{{answer}}}"


def problem(rng: random.Random, type_name: str, idx: str) -> dict:
    """One generated problem of type ``type_name`` with id ``idx``."""
    t = TYPES[type_name]
    text, ans = t.make(rng)
    return {
        "id": idx,
        "problem": text,
        "answer": str(ans),
        "solution": solution(ans),
        "type": type_name,
        "skills": list(t.skills),
        "subject": "skillworld",
        "level": len(t.skills),
    }


def sample(rng: random.Random, weights: dict[str, float], n: int, prefix: str) -> list[dict]:
    """``n`` problems with types drawn by ``weights``."""
    names = list(weights)
    types = rng.choices(names, [weights[k] for k in names], k=n)
    return [problem(rng, t, f"{prefix}-{i}") for i, t in enumerate(types)]


def per_type(rng: random.Random, counts: dict[str, int], prefix: str) -> list[dict]:
    """``counts[name]`` problems of each type ``name``."""
    out = []
    for name, n in counts.items():
        out += [problem(rng, name, f"{prefix}-{name}-{i}") for i in range(n)]
    return out


def restricted(rng: random.Random, skills: set[str], n: int, prefix: str) -> list[dict]:
    """n fresh problems whose types use only the given skills (the oracle teacher's synthesis)."""
    names = [k for k, t in TYPES.items() if set(t.skills) <= skills] or [
        k for k, t in TYPES.items() if set(t.skills) & skills
    ]
    return [problem(rng, rng.choice(names), f"{prefix}-{i}") for i in range(n)]


def build_splits(seed: int = 0) -> dict[str, list[dict]]:
    """Every split of the world, deterministic in the seed.

    train: the pool P, 600 per type (uniform over types); val: 40 per type (Stage 1 and 2); test: 300 per
    type (>= 300 per weak type); replay: 4,000 problems from the base student's mix (replayed in every SFT
    arm so that forgetting does not drown the effect). Problems are drawn from small fact tables, so train
    and test share facts by design: the skill *is* the fact table.
    """
    rng = random.Random(f"skillworld-v{VERSION}-{seed}")
    return {
        "train": per_type(rng, {k: 600 for k in TYPES}, "sw-train"),
        "val": per_type(rng, {k: 40 for k in TYPES}, "sw-val"),
        "test": per_type(rng, {k: 300 for k in TYPES}, "sw-test"),
        "replay": sample(rng, BASE_MIX, 4000, "sw-replay"),
    }


def answer_of(text: str) -> int | None:
    """The true answer of any skill-world problem text (the oracle's solver)."""
    import re

    patterns: list[tuple[str, Callable[..., int]]] = [
        (r"^max\((\d+),(\d+)\)\+(\d+)$", lambda a, b, c: max(a, b) + c),
        (r"^(\d+)\*(\d+)\+(\d+)$", lambda a, b, c: a * b + c),
        (r"^(\d+)%(\d+)\+(\d+)$", lambda a, b, c: a % b + c),
        (r"^(\d+)\+(\d+)$", lambda a, b: a + b),
        (r"^(\d+)-(\d+)$", lambda a, b: a - b),
        (r"^max\((\d+),(\d+)\)$", max),
        (r"^min\((\d+),(\d+)\)$", min),
        (r"^(\d+)\*(\d+)$", lambda a, b: a * b),
        (r"^(\d+)%(\d+)$", lambda a, b: a % b),
        (r"^(\d+)m in s$", lambda m: 60 * m),
    ]
    for pat, fn in patterns:
        m = re.match(pat, text.strip())
        if m:
            return fn(*map(int, m.groups()))
    return None
