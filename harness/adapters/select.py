"""Training sets built by *selecting* pool questions: STAT-Sel and the selection baselines.

- ``stat-sel`` (paper §2.3, Alg. 1): for every (difficult validation question, missing skill) pair, sample
  ``questions_per_skill`` pool questions labelled with that skill (5 per B.2/README; Alg. 1 says 3). A skill
  contributes in proportion to how often the Missing-Skill-Profile names it — there is no other weighting.
- ``math-train``: every pool question with its original solution (7.5k in the paper; no budget).
- ``math-hard``: level 4-5 questions.
- ``math-augment``: teacher rewrites of every pool question (3 per question in the paper).
- ``embed-sel``: the ``top_k`` pool questions most similar to each difficult validation question (up to
  ``top_k_max`` when the spec asks to fill the budget).

Each selected question carries up to ``answers_per_question`` answers (its original solution plus teacher
rewrites that keep the final answer); pairs are de-duplicated, decontaminated, then subsampled (seeded) to
the budget.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from harness.adapters.skills import msp_pairs


def original(q: dict[str, Any]) -> dict[str, Any]:
    """A question's own solution as a training pair (the ``#0`` answer of that question)."""
    return {
        "id": f"{q['id']}#0",
        "question_id": q["id"],
        "problem": q["problem"],
        "solution": q["solution"],
        "answer": q["answer"],
        "source": "original",
    }


def with_answers(
    questions: list[dict[str, Any]], teacher, spec, rewrites_only: bool = False
) -> list[dict[str, Any]]:
    """Original solution plus up to ``answers_per_question - 1`` verified teacher rewrites per question."""
    n_rewrites = spec.answers_per_question - (0 if rewrites_only else 1)
    rewrites = (
        teacher.rewrite(questions, n_rewrites)
        if (spec.rewrites and teacher is not None and n_rewrites > 0)
        else [[] for _ in questions]
    )
    rows, seen = [], set()
    for q, extra in zip(questions, rewrites, strict=True):
        cands = ([] if rewrites_only and extra else [original(q)]) + [
            {**original(q), "id": f"{q['id']}#{j + 1}", "solution": s, "source": "rewrite"}
            for j, s in enumerate(extra)
        ]
        for r in cands:
            key = (r["problem"], r["solution"])
            if key not in seen:
                seen.add(key)
                rows.append(r)
    return rows


def subsample(rows: list[dict[str, Any]], budget: int | None, seed: int) -> list[dict[str, Any]]:
    """At most ``budget`` of ``rows``, a seeded sample kept in input order (all rows when ``budget`` is None),
    after dropping repeated (problem, solution) pairs: every arm that is cut to the budget is de-duplicated
    the same way (STAT-Sel's answers already are; synthetic questions can get identical solutions)."""
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        unique.setdefault((r["problem"], r["solution"]), r)
    rows = list(unique.values())
    if budget is None or len(rows) <= budget:
        return rows
    keep = set(random.Random(seed).sample(range(len(rows)), budget))
    return [r for i, r in enumerate(rows) if i in keep]


def stat_sel(
    pool: dict[str, dict], skill_map, msp: dict[str, Any], spec, seed: int
) -> tuple[list[dict], dict[str, Any]]:
    """Selected pool questions and how many picks each skill drove."""
    rng = random.Random(seed)
    picks: list[str] = []
    by_skill: Counter[str] = Counter()
    for _qid, skill, cands in msp_pairs(msp, skill_map, pool):
        chosen = rng.sample(cands, min(spec.questions_per_skill, len(cands)))
        picks += chosen
        by_skill[skill] += len(chosen)
    unique = list(dict.fromkeys(picks))
    return [pool[q] for q in unique], {
        "picks": len(picks),
        "unique_questions": len(unique),
        "picks_by_skill": dict(by_skill.most_common()),
    }


def embed_sel(
    pool: dict[str, dict],
    difficult: list[dict[str, Any]],
    embed_spec,
    target_questions: int | None = None,
) -> tuple[list[dict], dict[str, Any]]:
    """Embed-Sel: the pool questions nearest to each difficult question, deduplicated; returns (rows, summary).

    Paper: the ``top_k`` (5) nearest. With ``embed_spec.top_k_max`` set (a deviation, to fill the budget),
    k grows from ``top_k`` until the distinct questions reach ``target_questions`` or k reaches the max."""
    from harness.adapters.embed import nearest_pool

    k_max = max(embed_spec.top_k, getattr(embed_spec, "top_k_max", None) or embed_spec.top_k)
    hits = nearest_pool(difficult, pool, embed_spec, k_max)
    k = embed_spec.top_k
    unique = list(dict.fromkeys(q for row in hits for q in row[:k]))
    while target_questions is not None and len(unique) < target_questions and k < k_max:
        k += 1
        unique = list(dict.fromkeys(q for row in hits for q in row[:k]))
    return [pool[q] for q in unique], {
        "retrieved": sum(len(r[:k]) for r in hits),
        "unique_questions": len(unique),
        "top_k_used": k,
    }
