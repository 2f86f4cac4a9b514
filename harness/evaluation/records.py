"""Turn graded samples into the per-task entries of results.json (shared by eval and rescore)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.scoring import Verdict, sample_metrics
from harness.scoring.metrics import aggregate


def task_result(task: str, rows: Sequence[dict[str, Any]], verdicts: Sequence[Verdict], meta: dict[str, Any]) -> dict[str, Any]:
    """rows/verdicts: one per sample, grouped by ``doc_id`` in order; meta: the task's protocol metadata."""
    per_doc: dict[Any, list[Verdict]] = {}
    for row, v in zip(rows, verdicts, strict=True):
        per_doc.setdefault(row["doc_id"], []).append(v)
    ks = {len(vs) for vs in per_doc.values()}
    agg = aggregate([sample_metrics(vs) for vs in per_doc.values()])
    primary = meta.get("primary_metric", "avg_at_k")
    n_samples = len(rows)
    return {
        "task": task,
        "protocol": meta.get("protocol"),
        "metric": primary,
        "metric_label": meta.get("metric_label"),
        "value": agg[primary]["value"] if agg else None,
        "stderr": agg[primary]["stderr"] if agg else None,
        "n": len(per_doc),
        "k": max(ks) if ks else 0,
        "metrics": agg,
        "truncation_rate": sum(bool(r.get("truncated")) for r in rows) / n_samples if n_samples else None,
        "no_answer_rate": sum(v.status == "no_answer" for v in verdicts) / n_samples if n_samples else None,
        "timeout_rate": sum(v.status == "timeout" for v in verdicts) / n_samples if n_samples else None,
        "mean_tokens": (sum(r.get("tokens") or 0 for r in rows) / n_samples) if n_samples else None,
    }
