"""``statbench rescore SOURCE``: re-grade saved generations with the current checker, no regeneration.

SOURCE is a statbench run (directory or id) or lm-eval ``--log_samples`` output (a ``samples_<task>_<ts>.jsonl``
file or a directory of them). The result is a new run record (``kind: rescore``) linked to its source,
with ``changes.jsonl`` listing every verdict that flipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core import jsonl
from harness.core.errors import SpecError
from harness.records.models import STORED, ResolvedSpec, SampleRow, SourceSpec, TaskResult
from harness.records.provenance import collect, core_versions
from harness.records.scores import task_result
from harness.records.store import RunIndex, iter_samples, new_run_id, read_run, write_run
from harness.scoring import Checker, reference_problem, reference_text
from harness.scoring.reasoning import DEFAULT_THINK, grade_responses, opens_reasoning

_LM_EVAL_NAME = re.compile(r"samples_(.+?)_\d{4}-\d{2}-\d{2}T[\d\-:.]+\.jsonl$")
_OLD_METRICS = ("avg_at_k", "exact_match", "math_verify", "acc")


@dataclass
class RescoreOutcome:
    """The new (``kind: rescore``) run record, its results and every verdict that flipped."""

    run_dir: Path
    results: dict[str, TaskResult]
    changes: list[dict[str, Any]]


def _from_run(run_dir: Path) -> tuple[ResolvedSpec | None, dict[str, list[SampleRow]], dict[str, dict]]:
    rec = read_run(run_dir)
    tasks = {t: list(iter_samples(run_dir, t)) for t in rec.results}
    meta = {
        t: {"protocol": r.protocol, "primary_metric": r.metric, "metric_label": r.metric_label}
        for t, r in rec.results.items()
    }
    return rec.spec, tasks, meta


def _lm_eval_files(source: Path) -> list[Path]:
    files = sorted(source.rglob("samples_*.jsonl")) if source.is_dir() else [source]
    if not files:
        raise SpecError(f"{source}: no lm-eval samples_*.jsonl files")
    return files


def _from_lm_eval(source: Path) -> tuple[ResolvedSpec | None, dict[str, list[SampleRow]], dict[str, dict]]:
    tasks: dict[str, list[SampleRow]] = {}
    for path in _lm_eval_files(source):
        m = _LM_EVAL_NAME.search(path.name)
        task = m.group(1) if m else path.stem
        rows = []
        for line in jsonl.lines(path):  # "\n" only: U+2028 in a response is not a line break
            i = line.number
            s, why = jsonl.parse(line.text) if line.text is not None else (None, line.error)
            if why is not None:
                raise SpecError(f"{path}:{i}: not an lm-eval sample line ({why}); nothing was written")
            try:
                doc, resps = s["doc"], s["resps"]
            except (KeyError, TypeError) as e:
                raise SpecError(
                    f"{path}:{i}: not an lm-eval sample line ({type(e).__name__}: {e}); nothing was written"
                ) from e
            if not isinstance(doc, dict):
                raise SpecError(
                    f"{path}:{i}: not an lm-eval sample line (doc is not an object); nothing was written"
                )
            ref = doc.get("answer", s.get("target"))
            if ref is None:
                raise SpecError(f"{path}:{i}: sample has neither doc.answer nor target to grade against")
            if (bad := reference_problem(ref)) is not None:  # NaN, [], lists nested hundreds deep, ...
                raise SpecError(f"{path}:{i}: cannot grade against this sample: {bad}; nothing was written")
            responses = resps[0] if resps and isinstance(resps[0], list) else resps
            old = next((float(s[k]) for k in _OLD_METRICS if isinstance(s.get(k), int | float)), None)
            for j, response in enumerate(responses):
                rows.append(
                    SampleRow(
                        id=doc.get("id", s.get("doc_id")),
                        doc_id=s.get("doc_id", i - 1),
                        sample=j,
                        response=response,
                        reference=reference_text(ref),
                        previous_doc_score=old,
                    )
                )
        tasks[task] = rows
    meta = {t: {"protocol": None, "primary_metric": "avg_at_k"} for t in tasks}
    return None, tasks, meta


def rescore(source: str, runs_dir: Path, workers: int | None = None) -> RescoreOutcome:
    """Re-grade ``source`` (a run or lm-eval samples) with the current checker into a new run record."""
    runs_dir = Path(runs_dir)
    src = Path(source)
    if src.is_file() or (
        src.is_dir() and not (src / "spec.json").is_file() and any(src.rglob("samples_*.jsonl"))
    ):
        src_spec, tasks, meta = _from_lm_eval(src)
        kind = "lm-eval"
    else:
        if not runs_dir.is_dir() and not (src / "spec.json").is_file():
            raise SpecError(f"{source}: not a file, and no runs directory {runs_dir} to look the run up in")
        src = RunIndex(runs_dir).resolve(source) if not (src / "spec.json").is_file() else src
        src_spec, tasks, meta = _from_run(src)
        kind = "run"
    checker = Checker(workers=workers)
    results, samples, changes = {}, {}, []
    try:
        for task, rows in tasks.items():
            eval_spec = src_spec.eval_spec if src_spec else None
            think = (eval_spec.think if eval_spec else None) or DEFAULT_THINK
            verdicts = grade_responses(  # the answer after the reasoning trace, as eval grades it
                checker,
                [(r.response, r.reference) for r in rows],
                think,
                [isinstance(r.prompt, str) and opens_reasoning(r.prompt, think) for r in rows],
                [r.reasoning for r in rows],
            )
            new_rows = []
            for r, v in zip(rows, verdicts, strict=True):
                prev = r.correct
                new_rows.append(_regraded(r, v))
                if prev is not None and prev != v.correct:
                    changes.append(
                        {
                            "task": task,
                            "id": r.id,
                            "doc_id": r.doc_id,
                            "sample": r.sample,
                            "before": prev,
                            "after": v.correct,
                            "extracted": v.extracted,
                            "reference": r.reference,
                        }
                    )
            res = task_result(task, new_rows, verdicts, meta[task])
            if kind == "lm-eval":
                res = res.model_copy(update={"metric_label": "pass@1" if res.k == 1 else f"avg@{res.k}"})
                changes += _doc_changes(task, new_rows)
            results[task], samples[task] = res, new_rows
    finally:
        checker.close()
    spec = ResolvedSpec.model_validate(
        {
            "kind": "rescore",
            "source": str(src.resolve()),
            "source_kind": kind,
            "source_spec_hash": src_spec.spec_hash if src_spec else None,
            "spec": src_spec.spec if src_spec else SourceSpec(),
            "model_fingerprint": src_spec.model_fingerprint if src_spec else None,
            "versions": core_versions(),
        },
        context=STORED,
    ).with_hash()
    model = spec.spec.model
    label = f"rescore-{(model and Path(model).name) or src.stem}"
    run_dir = write_run(
        runs_dir,
        new_run_id(label, spec.spec_hash),
        spec,
        results,
        collect({"rescore_of": str(src)}),
        samples,
        {"changes.jsonl": "".join(json.dumps(c) + "\n" for c in changes)},
    )
    return RescoreOutcome(run_dir, results, changes)


def _regraded(row: SampleRow, v) -> SampleRow:
    """The row with the new verdict; ``previous_correct`` keeps the old one (None if it had none)."""
    return SampleRow(
        **{
            **row.to_json(),
            "previous_correct": row.correct,
            "extracted": v.extracted,
            "correct": v.correct,
            "status": v.status,
            "method": v.method,
        }
    )


def _doc_changes(task: str, rows: list[SampleRow]) -> list[dict]:
    """lm-eval sources carry one score per document: list documents whose score moved."""
    by_doc: dict[Any, list[SampleRow]] = {}
    for r in rows:
        by_doc.setdefault(r.doc_id, []).append(r)
    out = []
    for doc_id, rs in by_doc.items():
        old = rs[0].previous_doc_score
        new = sum(bool(r.correct) for r in rs) / len(rs)
        if old is not None and abs(old - new) > 1e-9:
            out.append(
                {
                    "task": task,
                    "id": rs[0].id,
                    "doc_id": doc_id,
                    "before": old,
                    "after": new,
                    "extracted": rs[0].extracted,
                    "reference": rs[0].reference,
                }
            )
    return out
