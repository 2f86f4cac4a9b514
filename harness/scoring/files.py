"""Grading JSONL files: ``statbench grade IN.jsonl [-o OUT.jsonl]``.

Each input line needs ``response`` and ``reference`` (names configurable); every other field passes
through. Each output line adds ``correct``, ``extracted`` and ``status``. A malformed line is reported
with its line number and skipped; every other line is still graded and written.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.core import jsonl
from harness.scoring.checker import Checker, reference_problem


@dataclass
class LineError:
    """A malformed input line: file, line number and what is wrong (printed as FILE:LINE: message)."""

    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


@dataclass
class GradeSummary:
    """Counts over a graded file: lines, correct, and lines per status."""

    n: int = 0
    correct: int = 0
    statuses: Counter = field(default_factory=Counter)
    methods: Counter = field(default_factory=Counter)
    errors: list[LineError] = field(default_factory=list)


def parse_lines(
    lines: Iterable[str], source: str, response_key: str, reference_key: str
) -> tuple[list[dict[str, Any]], list[LineError]]:
    """Parse JSONL lines into rows to grade; each malformed line (bad JSON, missing keys, a response that is
    not a string, a null/NaN/non-string reference) becomes a ``FILE:LINE: message`` error instead."""
    rows, errors = [], []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        obj, why = jsonl.parse(line)  # the one JSONL line parser (harness/core/jsonl.py)
        if why is not None:
            errors.append(LineError(source, i, why))
            continue
        if not isinstance(obj, dict):
            errors.append(LineError(source, i, f"expected a JSON object, got {type(obj).__name__}"))
            continue
        missing = [k for k in (response_key, reference_key) if k not in obj]
        if missing:
            errors.append(LineError(source, i, f"missing key(s) {', '.join(repr(k) for k in missing)}"))
            continue
        if not isinstance(obj[response_key], str):
            errors.append(
                LineError(
                    source, i, f"'{response_key}' must be a string, got {type(obj[response_key]).__name__}"
                )
            )
            continue
        why = reference_problem(obj[reference_key])
        if why is not None:
            errors.append(LineError(source, i, f"'{reference_key}': {why}"))
            continue
        rows.append(obj)
    return rows, errors


def grade_rows(
    rows: list[dict[str, Any]],
    checker: Checker,
    response_key: str = "response",
    reference_key: str = "reference",
    progress: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, Any]], GradeSummary]:
    """Grade parsed rows with ``checker``; returns the rows with verdict fields added and a summary."""
    verdicts = checker.grade_many([(r[response_key], r[reference_key]) for r in rows], progress)
    out, summary = [], GradeSummary()
    for row, v in zip(rows, verdicts, strict=True):
        out.append({**row, "correct": v.correct, "extracted": v.extracted, "status": v.status})
        summary.n += 1
        summary.correct += v.correct
        summary.statuses[v.status] += 1
        summary.methods[v.method] += 1
    return out, summary


def to_jsonl(rows: list[dict[str, Any]]) -> str:
    """Rows as JSON Lines (one object per line, UTF-8 kept)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
