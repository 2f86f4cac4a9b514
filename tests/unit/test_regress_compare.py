"""`check_comparable`: which fields make two runs incomparable, and the texts that name them."""

from __future__ import annotations

from harness.records.models import STORED, ResolvedSpec
from harness.reporting.regress import check_comparable as _check


def _spec(protocol="stat-paper", gen=None, data=None, checker="1.0", tasks=("t1", "t2")):
    return {
        "kind": "eval",
        "spec": {"model": "m", "tasks": list(tasks), "protocol": protocol},
        "tasks": {t: {"generation_kwargs": gen or {"temperature": 0.0}} for t in tasks},
        "data_sha256": data if data is not None else {"a.jsonl": "1", "b.jsonl": "2"},
        "versions": {"checker": checker},
    }


def check_comparable(base: dict, cand: dict, tasks: list[str]) -> list[str]:
    """The gate's check on two stored resolved specs (read as records are: no registry checks)."""
    return _check(*(ResolvedSpec.model_validate(s, context=STORED) for s in (base, cand)), tasks)


def test_identical_runs_are_comparable():
    assert check_comparable(_spec(), _spec(), ["t1", "t2"]) == []


def test_each_differing_field_is_named_once():
    base, cand = (
        _spec(),
        _spec(
            protocol="greedy", gen={"temperature": 0.6}, data={"a.jsonl": "9", "b.jsonl": "2"}, checker="1.1"
        ),
    )
    assert check_comparable(base, cand, ["t1"]) == [
        "protocol: baseline 'stat-paper' vs candidate 'greedy'",
        "generation config (t1): temperature 0.0 vs 0.6 (baseline vs candidate)",
        "t1: task data hashes differ (a.jsonl)",
        "checker version: baseline '1.0' vs candidate '1.1'",
    ]
    diffs = check_comparable(base, cand, ["t1", "t2"])
    assert (
        sum(d.startswith("protocol:") for d in diffs) == 1
        and sum(d.startswith("generation config") for d in diffs) == 1
    )
    assert sum("task data hashes differ (a.jsonl)" in d for d in diffs) == 1


def test_generation_config_of_any_task_and_missing_hashes_refuse():
    cand = _spec()
    cand["tasks"]["t2"]["generation_kwargs"] = {"temperature": 0.6}
    assert check_comparable(_spec(), cand, ["t1"]) == []
    assert check_comparable(_spec(), cand, ["t1", "t2"]) == [
        "generation config (t2): temperature 0.0 vs 0.6 (baseline vs candidate)"
    ]
    assert (
        check_comparable(_spec(), _spec(data={"c.jsonl": "1"}), ["t1"]) == []
    )  # no common file: nothing to compare
    none = _spec()
    none["data_sha256"] = None
    assert check_comparable(none, _spec(), ["t1", "t2"]) == [
        "task data hashes: baseline None vs candidate {'a.jsonl': '1', 'b.jsonl': '2'}"
    ]
