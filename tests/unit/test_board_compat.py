"""The comparison boards and the gate share (harness/reporting/compat.py), and the board's series styles."""

from __future__ import annotations

import pytest

from harness.core.protocols import render
from harness.core.svg import PALETTE, PATTERNS, assign_styles
from harness.records.models import STORED, ResolvedSpec
from harness.reporting import regress
from harness.reporting.compat import FIELDS, differences


def _spec(protocol="stat-paper", toks=2048, data="a", checker="1.0", **extra) -> ResolvedSpec:
    cfg = render(protocol, "math")
    cfg["generation_kwargs"]["max_gen_toks"] = toks
    return ResolvedSpec.model_validate(
        {
            "kind": "eval",
            "spec": {"model": "/m", "tasks": ["statbench_gsm8k"], "protocol": protocol},
            "tasks": {"statbench_gsm8k": cfg},
            "data_sha256": {"gsm8k": data},
            "versions": {"checker": checker},
            **extra,
        },
        context=STORED,
    )


CASES = {
    "same": {},
    "protocol": {"protocol": "greedy"},
    "max new tokens": {"toks": 16},
    "task data": {"data": "b"},
    "checker": {"checker": "2.0"},
    "all": {"protocol": "greedy", "toks": 16, "data": "b", "checker": "2.0"},
}


def _fields(diffs: list[str]) -> set[str]:
    return {f for f in FIELDS if any(f in d for d in diffs)}


@pytest.mark.parametrize("case", CASES)
def test_compat_flags_the_same_fields_as_the_gate(case):
    """Until regress calls compat, the two must agree on which fields make two runs incomparable."""
    a, b = _spec(), _spec(**CASES[case])
    mine = differences(a, b, ["statbench_gsm8k"], ("A", "B"))
    assert _fields(mine) == _fields(regress.check_comparable(a, b, ["statbench_gsm8k"]))
    assert bool(mine) == (case != "same")


def test_a_generation_difference_names_the_keys_and_the_runs():
    (d,) = differences(_spec(toks=24), _spec(toks=16), ["statbench_gsm8k"], ("run-a", "run-b"))
    assert d == "generation config (statbench_gsm8k): max_gen_toks 24 vs 16 (run-a vs run-b)"


def test_a_rescore_is_compared_with_its_source_runs_settings(tmp_path):
    from harness.records.store import write_run

    src = write_run(tmp_path, "20260101T000000-src", _spec(toks=16), {}, {"created": "x"}, {})
    rescore = ResolvedSpec.model_validate(
        {
            "kind": "rescore",
            "spec": {"model": "/m", "tasks": ["statbench_gsm8k"], "protocol": "stat-paper"},
            "source": str(src),
            "source_kind": "run",
            "versions": {"checker": "1.0"},
        },
        context=STORED,
    )
    assert differences(_spec(toks=16), rescore, ["statbench_gsm8k"]) == []
    assert "max_gen_toks 24 vs 16" in differences(_spec(toks=24), rescore, ["statbench_gsm8k"])[0]
    gone = rescore.model_copy(update={"source": str(tmp_path / "deleted")})  # settings unknown: a difference
    assert differences(_spec(toks=16), gone, ["statbench_gsm8k"])


def test_every_series_gets_its_own_style_until_the_pairs_run_out():
    n = len(PALETTE) * len(PATTERNS)
    styles = assign_styles([(f"row {i}", 0) for i in range(n)])
    assert len(set(styles)) == n  # 16 rows no longer repeat the ten colours
    assert [s.pattern for s in styles[: len(PALETTE)]] == ["solid"] * len(PALETTE)
    same = assign_styles([("STAT-Sel", 0), ("Base", 0), ("STAT-Sel", 1)])
    assert same[0].color == same[2].color and same[0].pattern != same[2].pattern  # one label, one colour
    assert assign_styles([("a", 0), ("b", 0)]) == assign_styles([("a", 0), ("b", 0)])  # stable
