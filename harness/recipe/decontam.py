"""Decontamination of training sets against every bundled benchmark test set.

A training question is a hit when its normalized text equals a test problem's, or when it shares any
13-gram of words with one (lm-eval's and GPT-3's n-gram criterion). Hits are dropped and reported per
benchmark. This matters most for STAT-Syn and Embed-Syn, which are seeded from validation questions, and
for MATH-Perturb, whose problems are edits of MATH train problems.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any

from harness.core.tasks import TASKS, task_docs

N = 13
_WORD = re.compile(r"[a-z0-9]+")


def normalize(text: str) -> str:
    """Lower-cased words of ``text`` joined by single spaces."""
    return " ".join(_WORD.findall(text.lower()))


def ngrams(words: list[str], n: int = N) -> set[tuple[str, ...]]:
    """The set of word ``n``-grams of ``words``."""
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@lru_cache(maxsize=4)
def _index(n: int = N) -> tuple[dict[str, str], dict[tuple[str, ...], str]]:
    exact: dict[str, str] = {}
    grams: dict[tuple[str, ...], str] = {}
    seen: set[tuple[str, str]] = set()  # tasks over the same data file share documents: index each once
    for task in TASKS:
        if not TASKS[task].decontam:
            continue
        data = TASKS[task].data
        for d in task_docs(task):
            if (data, d["id"]) in seen:
                continue
            seen.add((data, d["id"]))
            norm = normalize(d["problem"])
            exact.setdefault(norm, data)
            for g in ngrams(norm.split(), n):
                grams.setdefault(g, data)
    return exact, grams


def check(problem: str, n: int = N) -> tuple[str, str] | None:
    """(benchmark, "exact" | "<n>-gram") of the first contamination found, else None."""
    exact, grams = _index(n)
    norm = normalize(problem)
    if norm in exact:
        return exact[norm], "exact"
    for g in ngrams(norm.split(), n):
        if g in grams:
            return grams[g], f"{n}-gram"
    return None


def decontaminate(rows: list[dict[str, Any]], n: int = N) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Drop rows whose ``problem`` hits a test set; return (kept rows, report)."""
    kept, hits = [], []
    verdict_cache: dict[str, tuple[str, str] | None] = {}
    for r in rows:
        p = r["problem"]
        if p not in verdict_cache:
            verdict_cache[p] = check(p, n)
        hit = verdict_cache[p]
        if hit is None:
            kept.append(r)
        else:
            hits.append({"id": r.get("question_id", r.get("id")), "benchmark": hit[0], "kind": hit[1]})
    by = Counter(f"{h['benchmark']} ({h['kind']})" for h in hits)
    unique_q = len({h["id"] for h in hits})
    return kept, {
        "ngram": n,
        "rows_in": len(rows),
        "rows_dropped": len(hits),
        "questions_dropped": unique_q,
        "by_benchmark": dict(sorted(by.items())),
        "dropped_ids": sorted({str(h["id"]) for h in hits}),
    }
