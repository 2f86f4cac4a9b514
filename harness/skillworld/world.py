"""The skill world: a seeded generator of tiny arithmetic problems over seven independent skills, each
written in three surface forms (templates).

Designed so that skill targeting has something to find, and so that skill can be told apart from surface
form: every skill is a small fact table or a one-line rule a 1M-parameter model learns in a few hundred
steps (none needs multi-digit arithmetic), and every problem type comes in three templates (``7*8``,
``7 times 8``, ``product of 7 and 8``). The base student is pre-trained on a mix that nearly omits three
skills, and omits them most in the word templates (meant to concentrate its validation failures there;
the shipped base came out weak on the three skills in every template, see its recipe.json). The test set
covers every (type, template) equally, so it can show whether training on a skill transfers across surface
forms, or only to the forms it saw.

Problem types (answers are integers, written ``\\boxed{n}``); facts = distinct (operands) per type, each
in 3 templates:

=========  ===============  ===============================================  =======
type       skills           templates                                        facts
=========  ===============  ===============================================  =======
add        add              ``7+5``, ``7 plus 5``, ``sum of 7 and 5``         100
sub        sub              ``9-4``, ``9 minus 4``, ``4 less than 9``         55
max        max              ``max(37,82)``, ``larger of ..``, ``top of ..``   10,000
min        min              ``min(37,82)``, ``smaller of ..``, ``low of ..``  10,000
max+add    max, add         ``max(3,8)+4``, ... (the max template, plus c)    1,000
mul        mul (weak)       ``7*8``, ``7 times 8``, ``product of 7 and 8``    81
mod        mod (weak)       ``17%4``, ``17 mod 4``, ``remainder of 17 / 4``   180
conv       conv (weak)      ``5m in s``, ``5 min in sec``, ``secs in 5 mins`` 60
mul+add    mul, add (weak)  ``3*4+5``, ``3 times 4 plus 5``, ...               810
mod+add    mod, add (weak)  ``17%4+2``, ``17 mod 4 plus 2``, ...               1,800
=========  ===============  ===============================================  =======

The training pool holds distinct problem texts only (each at most once), so no arm can gain or lose by
how it treats duplicates.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from harness.core.tasks import PROMPTS

PROMPT = PROMPTS["skillworld"]  # the task registry's prompt for the skill world (tasks/registry.yaml)

SKILLS = ("add", "sub", "max", "min", "mul", "mod", "conv")
WEAK = ("mul", "mod", "conv")
TEMPLATES = 3  # surface forms per problem type: 0 symbolic, 1 and 2 in words
VERSION = 2

# the surface forms of each one-step operation, by template; composites append "+c" in the same template
FORMS: dict[str, tuple[str, str, str]] = {
    "add": ("{a}+{b}", "{a} plus {b}", "sum of {a} and {b}"),
    "sub": ("{a}-{b}", "{a} minus {b}", "{b} less than {a}"),
    "max": ("max({a},{b})", "larger of {a} and {b}", "top of {a} and {b}"),
    "min": ("min({a},{b})", "smaller of {a} and {b}", "low of {a} and {b}"),
    "mul": ("{a}*{b}", "{a} times {b}", "product of {a} and {b}"),
    "mod": ("{a}%{b}", "{a} mod {b}", "remainder of {a} / {b}"),
    "conv": ("{a}m in s", "{a} min in sec", "secs in {a} mins"),
}
PLUS = ("{x}+{c}", "{x} plus {c}", "{x}, plus {c}")
OPS: dict[str, Callable[[int, int], int]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "max": max,
    "min": min,
    "mul": lambda a, b: a * b,
    "mod": lambda a, b: a % b,
    "conv": lambda a, _b: 60 * a,
}


def _operands(op: str, r: random.Random, small: bool = False) -> tuple[int, int]:
    """The operands of one fact of ``op`` (``small``: one-digit max operands, as inside max+add)."""
    if op == "add":
        return r.randint(0, 9), r.randint(0, 9)
    if op == "sub":
        a = r.randint(0, 9)
        return a, r.randint(0, a)
    if op in ("max", "min"):
        hi = 9 if small else 99
        return r.randint(0, hi), r.randint(0, hi)
    if op == "mul":
        return r.randint(1, 9), r.randint(1, 9)
    if op == "mod":
        return r.randint(0, 35), r.randint(2, 6)
    return r.randint(1, 60), 0  # conv: minutes to seconds


@dataclass(frozen=True)
class ProblemType:
    """A kind of skill-world problem: its name, the skills it needs, its one-step operation and whether it adds c."""

    name: str
    skills: tuple[str, ...]
    op: str
    plus: bool = False

    def make(self, r: random.Random, template: int) -> tuple[str, int]:
        """One problem text of this type in ``template`` and its answer."""
        a, b = _operands(self.op, r, small=self.plus)
        text, ans = FORMS[self.op][template].format(a=a, b=b), OPS[self.op](a, b)
        if self.plus:
            c = r.randint(0, 9)
            text, ans = PLUS[template].format(x=text, c=c), ans + c
        return text, ans


TYPES: dict[str, ProblemType] = {
    t.name: t
    for t in (
        ProblemType("add", ("add",), "add"),
        ProblemType("sub", ("sub",), "sub"),
        ProblemType("max", ("max",), "max"),
        ProblemType("min", ("min",), "min"),
        ProblemType("max+add", ("max", "add"), "max", plus=True),
        ProblemType("mul", ("mul",), "mul"),
        ProblemType("mod", ("mod",), "mod"),
        ProblemType("conv", ("conv",), "conv"),
        ProblemType("mul+add", ("mul", "add"), "mul", plus=True),
        ProblemType("mod+add", ("mod", "add"), "mod", plus=True),
    )
}
# the base student's pre-training mix over (type, template) keys "type@t": strong types in every template;
# weak types almost absent, and most absent in the word templates (so its failures concentrate there)
WEAK_TEMPLATE_WEIGHT = (0.01, 0.003, 0.0)
BASE_MIX = {
    f"{name}@{k}": (WEAK_TEMPLATE_WEIGHT[k] if set(t.skills) & set(WEAK) else 1.0)
    for name, t in TYPES.items()
    for k in range(TEMPLATES)
}


def solution(answer: int) -> str:
    """The reference solution for ``answer``."""
    return f"\\boxed{{{answer}}}"


def problem(rng: random.Random, type_name: str, idx: str, template: int | None = None) -> dict:
    """One generated problem of type ``type_name`` (``type@t`` names the template) with id ``idx``."""
    if "@" in type_name:
        type_name, k = type_name.split("@")
        template = int(k)
    template = rng.randrange(TEMPLATES) if template is None else template
    t = TYPES[type_name]
    text, ans = t.make(rng, template)
    return {
        "id": idx,
        "problem": text,
        "answer": str(ans),
        "solution": solution(ans),
        "type": type_name,
        "template": template,
        "skills": list(t.skills),
        "subject": "skillworld",
        "level": len(t.skills),
    }


def sample(rng: random.Random, weights: dict[str, float], n: int, prefix: str) -> list[dict]:
    """``n`` problems with (type, template) keys drawn by ``weights``."""
    names = list(weights)
    types = rng.choices(names, [weights[k] for k in names], k=n)
    return [problem(rng, t, f"{prefix}-{i}") for i, t in enumerate(types)]


def per_type(rng: random.Random, counts: dict[str, int], prefix: str, distinct: bool = False) -> list[dict]:
    """``counts[name]`` problems of each type ``name``, the templates in turn (``distinct``: no problem text
    twice, fewer where the type has fewer distinct problems)."""
    out = []
    for name, n in counts.items():
        seen: set[str] = set()
        tries = 0
        i = 0
        while i < n and tries < 50 * n:
            tries += 1
            p = problem(rng, name, f"{prefix}-{name}-{i}", template=i % TEMPLATES)
            if distinct and p["problem"] in seen:
                continue
            seen.add(p["problem"])
            out.append(p)
            i += 1
    return out


def restricted(rng: random.Random, skills: set[str], n: int, prefix: str) -> list[dict]:
    """n fresh problems whose types use only the given skills, any template (the oracle teacher's synthesis)."""
    names = [k for k, t in TYPES.items() if set(t.skills) <= skills] or [
        k for k, t in TYPES.items() if set(t.skills) & skills
    ]
    return [problem(rng, rng.choice(names), f"{prefix}-{i}") for i in range(n)]


def build_splits(seed: int = 0) -> dict[str, list[dict]]:
    """Every split of the world, deterministic in the seed.

    train: the pool P, up to 600 distinct problems per type (the templates in turn); val: 40 per type
    (Stage 1 and 2); test: 300 per type, 100 per (type, template); replay: 4,000 problems from the base
    student's mix (replayed in every SFT arm so that forgetting does not drown the effect). Problems are
    drawn from small fact tables, so train and test share facts by design: the skill *is* the fact table.
    """
    rng = random.Random(f"skillworld-v{VERSION}-{seed}")
    return {
        "train": per_type(rng, {k: 600 for k in TYPES}, "sw-train", distinct=True),
        "val": per_type(rng, {k: 40 for k in TYPES}, "sw-val"),
        "test": per_type(rng, {k: 300 for k in TYPES}, "sw-test"),
        "replay": sample(rng, BASE_MIX, 4000, "sw-replay"),
    }


def _pattern(form: str) -> re.Pattern[str]:
    """A template as a regex with named groups a, b, c (numbers) and x (the inner problem)."""
    out = re.escape(form)
    for name in "abc":
        out = out.replace(re.escape("{" + name + "}"), rf"(?P<{name}>\d+)")
    return re.compile(out.replace(re.escape("{x}"), "(?P<x>.+)"))


_ONE_STEP = [(op, k, _pattern(form)) for op, forms in FORMS.items() for k, form in enumerate(forms)]
_PLUS = [(k, _pattern(form)) for k, form in enumerate(PLUS)]


def _one_step(text: str) -> tuple[str, int, int] | None:
    for op, k, pat in _ONE_STEP:
        m = pat.fullmatch(text)
        if m:
            g = m.groupdict()
            return op, k, OPS[op](int(g["a"]), int(g.get("b") or 0))
    return None


def parse(text: str) -> tuple[str, int, int] | None:
    """(problem type, template, true answer) of any skill-world problem text; None for anything else."""
    text = text.strip()
    for k, pat in _PLUS:
        m = pat.fullmatch(text)
        if m:
            inner = _one_step(m["x"])
            if inner is not None and inner[1] == k and f"{inner[0]}+add" in TYPES:
                return f"{inner[0]}+add", k, inner[2] + int(m["c"])
    return _one_step(text)


def answer_of(text: str) -> int | None:
    """The true answer of any skill-world problem text (the oracle's solver)."""
    parsed = parse(text)
    return parsed[2] if parsed else None
