"""Training sets the teacher *writes*: STAT-Syn and Embed-Syn (paper §2.3, B.2, App. C.3.3).

- ``stat-syn``: for every (difficult question, missing skill) pair, ``reference_questions`` (3) pool
  questions with that skill -> the teacher proposes ``new_questions`` (2) new questions that emphasise the
  skill -> ``solutions`` (3) teacher solutions each -> keep a question when at least ``min_agree`` (2) final
  answers agree under the checker, with only the agreeing solutions.
- ``embed-syn``: the ``top_k`` (5) pool questions most similar to each difficult question; the teacher
  writes ``syn_new_questions`` (5) new questions, each from a different group of 3 of them; same filter.

Synthetic questions are decontaminated like every other training set (they are seeded from validation
questions, so this matters here most).
"""

from __future__ import annotations

import hashlib
import random
from itertools import combinations
from typing import Any

from harness.adapters.skills import msp_pairs
from harness.scoring import default_checker, extract_answer


def agreeing(solutions: list[str], min_agree: int) -> tuple[list[str], str | None]:
    """The largest group of solutions whose final answers are equivalent, if it has >= min_agree members."""
    checker = default_checker()
    answers = [extract_answer(s).answer for s in solutions]
    groups: list[list[int]] = []
    for i, a in enumerate(answers):
        if a is None:
            continue
        for g in groups:
            if checker.equal_many([(answers[g[0]], a)])[0]:
                g.append(i)
                break
        else:
            groups.append([i])
    best = max(groups, key=len, default=[])
    if len(best) < min_agree:
        return [], None
    return [solutions[i] for i in best], answers[best[0]]


def _rows(
    question: str, sols: list[str], answer: str, source: str, extra: dict[str, Any]
) -> list[dict[str, Any]]:
    qid = "syn-" + hashlib.sha256(question.encode()).hexdigest()[:12]
    return [
        {
            "id": f"{qid}#{j}",
            "question_id": qid,
            "problem": question,
            "solution": s,
            "answer": answer,
            "source": source,
            **extra,
        }
        for j, s in enumerate(sols)
    ]


def _filter(
    questions: list[tuple[str, dict[str, Any]]], teacher, syn_spec, source: str
) -> tuple[list[dict], dict[str, Any]]:
    uniq = list(dict.fromkeys(q for q, _ in questions))
    meta = {q: m for q, m in questions}
    solutions = teacher.solve(uniq, syn_spec.solutions)
    rows, kept = [], 0
    for q, sols in zip(uniq, solutions, strict=True):
        good, answer = agreeing(sols, syn_spec.min_agree)
        if good:
            kept += 1
            rows += _rows(q, good, answer, source, meta[q])
    return rows, {"proposed": len(uniq), "kept_questions": kept, "rejected_inconsistent": len(uniq) - kept}


def stat_syn(
    pool: dict[str, dict], skill_map, msp: dict[str, Any], syn_spec, teacher, seed: int
) -> tuple[list[dict], dict[str, Any]]:
    """STAT-Syn: new teacher questions per (difficult question, missing skill), solved and kept where solutions agree; returns (rows, summary)."""
    rng = random.Random(seed)
    requests, origin = [], []
    for qid, skill, cands in msp_pairs(msp, skill_map, pool):
        if not cands:
            continue
        refs = [pool[c] for c in rng.sample(cands, min(syn_spec.reference_questions, len(cands)))]
        requests.append((skill, refs))
        origin.append((qid, skill))
    proposals = teacher.propose(requests, syn_spec.new_questions)
    questions = [
        (q, {"skill": skill, "seed_question": qid})
        for (qid, skill), qs in zip(origin, proposals, strict=True)
        for q in qs
    ]
    rows, report = _filter(questions, teacher, syn_spec, "synthetic")
    return rows, {"skill_pairs": len(requests), **report}


def embed_syn(
    pool: dict[str, dict], difficult: list[dict[str, Any]], embed_spec, syn_spec, teacher
) -> tuple[list[dict], dict[str, Any]]:
    """Embed-Syn: new teacher questions from 3-subsets of each difficult question's nearest pool questions; returns (rows, summary)."""
    from harness.adapters.embed import nearest_pool

    requests, origin = [], []
    for d, row in zip(difficult, nearest_pool(difficult, pool, embed_spec), strict=True):
        refs = [pool[q] for q in row]
        for group in list(combinations(range(len(refs)), min(3, len(refs))))[: embed_spec.syn_new_questions]:
            requests.append(("the mathematical skills these questions share", [refs[i] for i in group]))
            origin.append(d["id"])
    proposals = teacher.propose(requests, 1)
    questions = [(q, {"seed_question": str(o)}) for o, qs in zip(origin, proposals, strict=True) for q in qs]
    rows, report = _filter(questions, teacher, syn_spec, "synthetic")
    return rows, {"requests": len(requests), **report}
