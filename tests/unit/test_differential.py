"""Differential test against raw math-verify, the engine statbench wraps.

For every labelled pair where raw math-verify agrees with the label, statbench must agree too, unless the
pair is listed in ``tasks/graded_samples/mv_allowlist.jsonl`` (one JSON object per line: ``file``, ``id``,
``reason``), a reviewed list of cases where math-verify is wrong. The corpora are described in
``tasks/graded_samples/PROVENANCE.md``; the five bundled graded-sample files are large and marked slow.
"""

import json

import pytest

from harness.core.tasks import load_benchmark
from harness.evaluation.agreement import FILES, GRADED_DIR
from harness.scoring import reference_text
from harness.scoring.pool import WorkerPool

CORPORA = ("answer_styles", "mv_testsuite", "mv_testsuite_heldout")
ALLOWLIST = GRADED_DIR / "mv_allowlist.jsonl"


def allowlist() -> dict[tuple[str, str], str]:
    entries = [json.loads(line) for line in ALLOWLIST.read_text().splitlines() if line.strip()]
    return {(e["file"], e["id"]): e["reason"] for e in entries}


def raw_math_verify(rows: list[dict]) -> list[bool]:
    pool = WorkerPool(
        "harness.scoring.equivalence.mv_raw", 2, 10.0, warmup="harness.scoring.equivalence.warmup"
    )
    try:
        outs = pool.map([(reference_text(r["reference"]), r["response"]) for r in rows])
    finally:
        pool.close()
    return [o.status == "ok" and bool(o.value) for o in outs]


@pytest.mark.parametrize("name", [*CORPORA, *(pytest.param(f, marks=pytest.mark.slow) for f in FILES)])
def test_statbench_is_right_wherever_math_verify_is(checker, name):
    rows = load_benchmark(name, GRADED_DIR)
    verdicts = checker.grade_many([(r["response"], r["reference"]) for r in rows])
    raw = raw_math_verify(rows)
    allowed = allowlist()
    worse = [
        f"{r['id']}: label={r['label']} statbench={v.correct} ({v.method}, extracted {v.extracted!r})"
        for r, v, mv in zip(rows, verdicts, raw, strict=True)
        if mv == r["label"] and v.correct != r["label"] and (name, r["id"]) not in allowed
    ]
    assert not worse, f"{name}: math-verify right, statbench wrong on {len(worse)}:\n" + "\n".join(worse[:20])


def test_allowlist_entries_are_short_reviewed_cases_where_math_verify_is_wrong():
    entries = allowlist()
    assert len(entries) <= 20, "the allowlist must stay short"
    by_file: dict[str, list[dict]] = {}
    for (name, row_id), reason in entries.items():
        assert reason.strip() and "\n" not in reason and len(reason) <= 200, (name, row_id)
        rows = {r["id"]: r for r in load_benchmark(name, GRADED_DIR)}
        assert row_id in rows, f"{name}:{row_id} is not in the corpus"
        by_file.setdefault(name, []).append(rows[row_id])
    for rows in by_file.values():
        for r, mv in zip(rows, raw_math_verify(rows), strict=True):
            assert mv != r["label"], (
                f"{r['id']}: math-verify agrees with the label, so it cannot be allowlisted"
            )
