"""Grader agreement report: statbench vs raw math-verify vs lm-eval's graders, against human/LLM labels.

The labelled samples are bundled in ``tasks/graded_samples/`` (sha256-verified; provenance in its
PROVENANCE.md). For each file and grader: agreement with the labels, false positives (graded correct,
labelled wrong) and false negatives. Every sample where statbench disagrees with the label is listed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.tasks import load_benchmark
from harness.scoring import Checker, reference_text
from harness.scoring.pool import WorkerPool

GRADED_DIR = Path(__file__).resolve().parents[2] / "tasks" / "graded_samples"
FILES = (
    "processbench_math",
    "processbench_gsm8k",
    "qwen25math_math_cot",
    "gsm8k_openai_solutions",
    "reasoneval_mr_math",
    "answer_styles",
    "mv_testsuite",
    "mv_testsuite_heldout",
)
STATBENCH, RAW_MV = "statbench", "raw math-verify"


@dataclass
class GraderScore:
    """One grader's agreement with the labels on one file: agreements, false positives/negatives, timeouts, time."""

    agree: int = 0
    fp: int = 0
    fn: int = 0
    timeouts: int = 0
    seconds: float = 0.0

    def add(self, verdict: bool, label: bool) -> None:
        self.agree += verdict == label
        self.fp += verdict and not label
        self.fn += label and not verdict


@dataclass
class FileReport:
    """Every grader's score on one labelled file, and the disagreements worth reading."""

    name: str
    n: int
    labelled_correct: int
    scores: dict[str, GraderScore] = field(default_factory=dict)
    disagreements: list[dict[str, Any]] = field(default_factory=list)


def _raw_math_verify(rows: list[dict], workers: int, timeout: float, progress) -> list[tuple[bool, bool]]:
    pool = WorkerPool(
        "harness.scoring.equivalence.mv_raw", workers, timeout, warmup="harness.scoring.equivalence.warmup"
    )
    try:
        outs = pool.map([(reference_text(r["reference"]), r["response"]) for r in rows], progress)
    finally:
        pool.close()
    return [(o.status == "ok" and bool(o.value), o.status == "timeout") for o in outs]


def run_report(
    files: tuple[str, ...] = FILES,
    data_dir: Path = GRADED_DIR,
    workers: int | None = None,
    timeout: float = 5.0,
    limit: int | None = None,
    progress: Callable[[str, int], Callable[[int], None]] | None = None,
) -> list[FileReport]:
    """Grade every labelled sample with every grader. ``progress(desc, total)`` returns an advance callback."""
    from harness.evaluation.graders import LM_EVAL_GRADERS

    checker = Checker(workers=workers, timeout=timeout)
    reports = []
    try:
        for name in files:
            rows = load_benchmark(name, data_dir)[:limit]
            rep = FileReport(name, len(rows), sum(r["label"] for r in rows))
            adv = progress(f"{name}: statbench", len(rows)) if progress else None
            t = time.perf_counter()
            verdicts = checker.grade_many([(r["response"], r["reference"]) for r in rows], adv)
            sb = rep.scores[STATBENCH] = GraderScore(seconds=time.perf_counter() - t)
            adv = progress(f"{name}: raw math-verify", len(rows)) if progress else None
            t = time.perf_counter()
            raw = _raw_math_verify(rows, checker.workers, timeout, adv)
            mv = rep.scores[RAW_MV] = GraderScore(seconds=time.perf_counter() - t)
            for row, v, (rv, r_to) in zip(rows, verdicts, raw, strict=True):
                sb.add(v.correct, row["label"])
                sb.timeouts += v.status == "timeout"
                mv.add(rv, row["label"])
                mv.timeouts += r_to
                if v.correct != row["label"]:
                    rep.disagreements.append(
                        {
                            "file": name,
                            "id": row["id"],
                            "label": row["label"],
                            "statbench": v.correct,
                            "raw_math_verify": rv,
                            "status": v.status,
                            "method": v.method,
                            "extracted": v.extracted,
                            "reference": reference_text(row["reference"]),
                            "response_tail": row["response"][-300:],
                        }
                    )
            for gname, fn in LM_EVAL_GRADERS.items():
                t = time.perf_counter()
                gs = rep.scores[gname] = GraderScore()
                for row in rows:
                    gs.add(fn(row["response"], reference_text(row["reference"])), row["label"])
                gs.seconds = time.perf_counter() - t
            reports.append(rep)
    finally:
        checker.close()
    return reports


def to_markdown(reports: list[FileReport]) -> str:
    """The agreement reports as a markdown table, one row per file and a total."""
    graders = list(reports[0].scores) if reports else []
    head = "| file | n | labelled correct | " + " | ".join(graders) + " |"
    lines = [head, "|" + "---|" * (3 + len(graders))]
    for r in reports:
        cells = [f"{100 * s.agree / r.n:.1f}% (FP {s.fp}, FN {s.fn})" for s in r.scores.values()]
        lines.append(f"| {r.name} | {r.n} | {r.labelled_correct} | " + " | ".join(cells) + " |")
    total = sum(r.n for r in reports)
    if total:
        cells = [f"{100 * sum(r.scores[g].agree for r in reports) / total:.1f}%" for g in graders]
        lines.append(
            f"| **all** | {total} | {sum(r.labelled_correct for r in reports)} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


SHORT = {
    STATBENCH: "statbench",
    RAW_MV: "raw math-verify",
    "lm-eval minerva exact_match": "lm-eval minerva",
    "lm-eval hendrycks is_equiv": "lm-eval hendrycks",
}


def to_text(reports: list[FileReport]) -> str:
    """Fixed-width table for terminals: % agreement (false positives/false negatives) per grader."""
    from harness.core.fileio import format_table

    graders = list(reports[0].scores) if reports else []
    rows = [
        [r.name, str(r.n), *[f"{100 * s.agree / r.n:5.1f} ({s.fp}/{s.fn})" for s in r.scores.values()]]
        for r in reports
    ]
    total = sum(r.n for r in reports)
    if total:
        rows.append(
            [
                "all",
                str(total),
                *[
                    f"{100 * sum(r.scores[g].agree for r in reports) / total:5.1f} "
                    f"({sum(r.scores[g].fp for r in reports)}/{sum(r.scores[g].fn for r in reports)})"
                    for g in graders
                ],
            ]
        )
    return format_table(["file", "n", *[SHORT.get(g, g) for g in graders]], rows)


def write_outputs(reports: list[FileReport], out_dir: Path) -> dict[str, Path]:
    """``agreement.md``, ``agreement.json`` and ``disagreements.jsonl``, each written atomically."""
    from harness.core.fileio import atomic_write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {
        r.name: {
            "n": r.n,
            "labelled_correct": r.labelled_correct,
            "graders": {g: vars(s) for g, s in r.scores.items()},
        }
        for r in reports
    }
    paths = {
        "markdown": out_dir / "agreement.md",
        "json": out_dir / "agreement.json",
        "disagreements": out_dir / "disagreements.jsonl",
    }
    from harness.scoring import checker_version

    head = (
        "# Grader agreement with labels\n\n"
        f"Checker: `{checker_version()}`. Cells: % of samples where the grader agrees with the label "
        "(false positives = graded correct but labelled wrong, false negatives = the reverse). Label sources "
        "differ per file (tasks/graded_samples/PROVENANCE.md): ProcessBench = LLM judge, Qwen2.5-Math = "
        "Qwen's rule-based grader, GSM8K = OpenAI's grading, ReasonEval = humans (positives only); answer_styles = "
        "hand-written answer-format cases, mv_testsuite(_heldout) = math-verify 0.9.0's own test expectations "
        "(the held-out part was never tuned on).\n\n"
    )
    atomic_write_text(paths["markdown"], head + to_markdown(reports) + "\n")
    atomic_write_text(paths["json"], json.dumps(summary, indent=2, sort_keys=True) + "\n")
    atomic_write_text(
        paths["disagreements"],
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for r in reports for d in r.disagreements),
    )
    return paths
