"""The grader agreement report on the bundled labelled samples."""

import json

import pytest

from harness.evaluation.agreement import FILES, RAW_MV, STATBENCH, run_report
from tests.helpers.cli import statbench


@pytest.mark.slow
def test_statbench_agrees_with_labels_at_least_as_well_as_raw_math_verify():
    reports = run_report()
    assert [r.name for r in reports] == list(FILES)
    for r in reports:
        sb, mv = r.scores[STATBENCH], r.scores[RAW_MV]
        assert sb.agree >= mv.agree, (
            f"{r.name}: statbench {sb.agree}/{r.n} < raw math-verify {mv.agree}/{r.n}"
        )
        assert sb.timeouts == 0, r.name
        assert len(r.disagreements) == r.n - sb.agree


@pytest.mark.slow  # the full report CLI (all labelled sets, 5 items each); the differential tests cover the checker fast
def test_report_cli_writes_its_outputs(tmp_path):
    r = statbench("grade", "--report", "--limit", "5", "--report-dir", tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "raw math-verify" in r.stdout and "lm-eval hendrycks" in r.stdout and "lm-eval minerva" in r.stdout
    summary = json.loads((tmp_path / "agreement.json").read_text())
    assert set(summary) == set(FILES) and all(v["n"] == 5 for v in summary.values())
    assert (
        "| file | n | labelled correct | statbench | raw math-verify |"
        in (tmp_path / "agreement.md").read_text()
    )
    for line in (tmp_path / "disagreements.jsonl").read_text().splitlines():
        d = json.loads(line)
        assert d["statbench"] != d["label"]
