"""Training-set budgets: how many pairs each arm can reach (for ``--dry-run``) and the check a dataset stage
makes on what it built.

Every arm but MATH-Train is subsampled to ``budget`` pairs (less the replay share). An arm that builds fewer
is *short*: the dataset stage stops with a one-line error unless the spec says ``budget_policy: allow-short``,
in which case its summary records ``budget_shortfall`` (the board footnotes it). The dry run computes an
upper bound per arm from the spec and the (decontaminated) pool, before any teacher call or filtering: a
bound below the budget is a certain shortfall and is refused before anything runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from harness.core.errors import SpecError
from harness.recipe.experiment import ExperimentSpec


def target(spec: ExperimentSpec, method: str) -> int | None:
    """The number of pairs ``method``'s dataset stage must build (None: no budget, MATH-Train keeps all)."""
    from harness.recipe.methods import METHODS

    if not METHODS[method].subsample:
        return None
    return spec.budget - replay_pairs(spec)


def replay_pairs(spec: ExperimentSpec) -> int:
    """The replay rows every arm gets (``data.replay_fraction`` of the budget)."""
    return round(spec.budget * spec.data.replay_fraction) if spec.data.replay_pool else 0


@dataclass(frozen=True)
class Reach:
    """An upper bound on an arm's pairs, before the teacher, the filters and de-duplication."""

    method: str
    target: int | None
    bound: int
    how: str
    per_difficult: int | None = None  # pairs per difficult validation question, where that is the unit

    @property
    def short(self) -> bool:
        return self.target is not None and self.bound < self.target

    def needed_difficult(self) -> int | None:
        """Difficult validation questions the arm needs to reach its target (None: not that kind of arm)."""
        if self.per_difficult is None or self.target is None:
            return None
        return math.ceil(self.target / self.per_difficult)


@lru_cache(maxsize=8)
def _clean_pool_counts(pool: str, limit: int | None, decontaminate: bool, ngram: int) -> tuple[int, int]:
    from harness.core.tasks import load_benchmark
    from harness.recipe.decontam import decontaminate as clean

    rows = load_benchmark(pool)
    rows = rows[:limit] if limit is not None else rows
    if decontaminate:
        rows, _ = clean(rows, ngram)
    return len(rows), sum(1 for r in rows if (r.get("level") or 0) >= 4)


def clean_pool_size(spec: ExperimentSpec) -> int:
    """Pool questions left after decontamination (the GRPO pool and MATH-Train's size)."""
    return _clean_pool_counts(
        spec.data.pool, spec.data.pool_limit, spec.data.decontaminate, spec.data.decontam_ngram
    )[0]


def reach(spec: ExperimentSpec, method: str, n_val: int) -> Reach:
    """The most pairs ``method`` can build under ``spec`` with ``n_val`` validation questions."""
    n_pool, n_hard = _clean_pool_counts(
        spec.data.pool, spec.data.pool_limit, spec.data.decontaminate, spec.data.decontam_ngram
    )
    sel, syn, emb = spec.select, spec.syn, spec.embed
    answers = sel.answers_per_question if sel.rewrites else 1
    t = target(spec, method)
    pairs = min(spec.msp.max_questions, n_val) * spec.msp.max_skills  # (difficult question, skill) pairs
    clean = "decontaminated " if spec.data.decontaminate else ""
    if method in ("uniform", "math-train"):
        return Reach(method, t, n_pool, f"{n_pool:,} {clean}pool questions x 1 solution")
    if method == "math-hard":
        return Reach(method, t, n_hard * answers, f"{n_hard:,} level 4-5 questions x {answers} answers")
    if method == "math-augment":
        per = sel.answers_per_question if sel.rewrites else 1
        return Reach(method, t, n_pool * per, f"{n_pool:,} questions x {per} rewrites")
    if method == "embed-sel":
        k = emb.top_k_max or emb.top_k
        per = k * answers
        return Reach(
            method, t, n_val * per, f"{per} per difficult question (top {k} x {answers} answers)", per
        )
    if method == "embed-syn":
        per = min(emb.syn_new_questions, math.comb(emb.top_k, min(3, emb.top_k))) * syn.solutions
        return Reach(
            method,
            t,
            n_val * per,
            f"{per} per difficult question ({per // syn.solutions} new questions x {syn.solutions} solutions)",
            per,
        )
    if method == "stat-sel":
        per = sel.questions_per_skill * answers
        return Reach(
            method,
            t,
            pairs * per,
            f"{pairs:,} (question, skill) pairs x {sel.questions_per_skill} questions x {answers} answers",
        )
    if method == "stat-syn":
        per = syn.new_questions * syn.solutions
        return Reach(
            method,
            t,
            pairs * per,
            f"{pairs:,} (question, skill) pairs x {syn.new_questions} new questions x {syn.solutions} solutions",
        )
    raise SpecError(f"methods: no reachable-size rule for '{method}'")


KNOBS = {
    "stat-syn": "raise syn.new_questions",
    "stat-sel": "raise select.questions_per_skill",
    "embed-sel": "set embed.top_k_max",
    "embed-syn": "raise embed.syn_new_questions (at most C(top_k, 3))",
    "math-hard": "raise select.answers_per_question",
    "math-augment": "raise select.answers_per_question",
    "uniform": "lower budget",
}


def check(spec: ExperimentSpec, method: str, pairs: int) -> dict[str, Any]:
    """The budget fields of a dataset stage's summary; a shortfall is a SpecError unless allowed."""
    t = target(spec, method)
    if t is None:
        return {"budget": None, "budget_shortfall": 0}
    short = max(0, t - pairs)
    if short and spec.budget_policy != "allow-short":
        raise SpecError(
            f"dataset/{method}: built {pairs:,} pairs, {short:,} short of the budget of {t:,}; "
            f"{KNOBS.get(method, 'lower budget')}, or set budget_policy: allow-short"
        )
    return {"budget": t, "budget_shortfall": short}
