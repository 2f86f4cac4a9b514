"""Scores from samples: the per-task entries of results.json (eval, rescore) and per-problem scores (boards, the gate)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.records.models import TaskResult
from harness.records.store import iter_samples
from harness.scoring import Verdict, sample_metrics
from harness.scoring.metrics import aggregate


def task_result(
    task: str, rows: Sequence[Any], verdicts: Sequence[Verdict], meta: dict[str, Any]
) -> TaskResult:
    """rows/verdicts: one per sample (rows: SampleRow, or anything with ``doc_id``, ``truncated``, ``tokens``),
    grouped by ``doc_id`` in order; meta: the task's protocol metadata."""
    per_doc: dict[Any, list[Verdict]] = {}
    for row, v in zip(rows, verdicts, strict=True):
        per_doc.setdefault(row.doc_id, []).append(v)
    ks = {len(vs) for vs in per_doc.values()}
    agg = aggregate([sample_metrics(vs) for vs in per_doc.values()])
    primary = meta.get("primary_metric", "avg_at_k")
    n_samples = len(rows)
    return TaskResult(
        task=task,
        protocol=meta.get("protocol"),
        metric=primary,
        metric_label=meta.get("metric_label"),
        value=agg[primary]["value"] if agg else None,
        stderr=agg[primary]["stderr"] if agg else None,
        n=len(per_doc),
        k=max(ks) if ks else 0,
        metrics=agg,
        truncation_rate=(  # unknown when a sample does not say (lm-eval's output has no finish reason)
            sum(bool(r.truncated) for r in rows) / n_samples
            if n_samples and all(getattr(r, "truncated", None) is not None for r in rows)
            else None
        ),
        no_answer_rate=sum(v.status == "no_answer" for v in verdicts) / n_samples if n_samples else None,
        timeout_rate=sum(v.status == "timeout" for v in verdicts) / n_samples if n_samples else None,
        mean_tokens=(sum(r.tokens or 0 for r in rows) / n_samples) if n_samples else None,
        unfinished_reasoning_rate=sum(v.status == "unfinished_reasoning" for v in verdicts) / n_samples
        if n_samples
        else None,
        mean_reasoning_tokens=_mean([getattr(r, "reasoning_tokens", None) for r in rows]),
        mean_answer_tokens=_mean([getattr(r, "answer_tokens", None) for r in rows]),
    )


def _mean(values: Sequence[int | None]) -> float | None:
    """Mean over samples, or None when any sample lacks the count (older records, rescored lm-eval output)."""
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None) / len(values)


def per_problem_scores(run_dir: Path, task: str, metric: str) -> tuple[dict[str, float], int]:
    """Problem id -> the run's score on it under ``metric`` (e.g. avg@k over its samples), and k."""
    by_doc: dict[str, list[Verdict]] = {}
    for r in iter_samples(run_dir, task):
        by_doc.setdefault(r.problem_id, []).append(Verdict(bool(r.correct), r.extracted, r.status, r.method))
    k = max((len(v) for v in by_doc.values()), default=0)
    return {doc: sample_metrics(vs)[metric] for doc, vs in by_doc.items()}, k
