"""The typed run record: write/read round trip, a version-1 record (no schema_version) migrated, a record
from an unknown schema version refused in one line, and executors that read a job's result file, not its output."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from harness.core.errors import RecordError
from harness.executors import Job, finish
from harness.executors.local import run_subprocess
from harness.records.models import (
    SCHEMA_VERSION,
    STORED,
    EvalJob,
    EvalSpec,
    JobOutcome,
    ResolvedSpec,
    SampleRow,
    TaskResult,
)
from harness.records.store import RunIndex, iter_samples, read_run, write_run

TASK = "statbench_gsm8k"


def _record(tmp_path: Path, run_id: str = "20000101T000000-m-00000000") -> Path:
    spec = ResolvedSpec(
        kind="eval",
        spec=EvalSpec(model="m", tasks=[TASK], seed=3, labels={"method": "base"}),
        model_fingerprint="fp",
        chat_template={"mode": "off", "sha256": None},
        tasks={TASK: {"generation_kwargs": {"temperature": 0.0}}},
        data_sha256={"gsm8k.jsonl": "1"},
        prompt_version=1,
        versions={"checker": "1"},
    ).with_hash()
    result = TaskResult(
        task=TASK,
        protocol="greedy",
        metric="pass_at_1",
        metric_label="pass@1",
        value=0.5,
        stderr=0.5,
        n=2,
        k=1,
        metrics={"pass_at_1": {"value": 0.5, "stderr": 0.5}},
        truncation_rate=0.0,
        no_answer_rate=0.5,
        timeout_rate=0.0,
        mean_tokens=7.5,
    )
    rows = [
        SampleRow(
            id="a",
            doc_id=0,
            sample=0,
            prompt="p",
            response="\\boxed{1}",
            reference="1",
            tokens=5,
            finish_reason="stop",
            truncated=False,
            extracted="1",
            correct=True,
            status="ok",
            method="exact",
        ),
        SampleRow(
            id="b",
            doc_id=1,
            sample=0,
            prompt="q",
            response="no",
            reference="2",
            tokens=10,
            finish_reason="stop",
            truncated=False,
            extracted=None,
            correct=False,
            status="no_answer",
            method="",
        ),
    ]
    return write_run(
        tmp_path, run_id, spec, {TASK: result}, {"created": "2000-01-01T00:00:00Z"}, {TASK: rows}
    )


def test_run_record_round_trips(tmp_path):
    run = _record(tmp_path)
    rec = read_run(run)
    assert rec.schema_version == SCHEMA_VERSION and rec.run_id == run.name and rec.path == run
    assert (
        rec.spec.spec.seed == 3
        and rec.spec.protocol == "stat-paper"
        and rec.spec.generation(TASK) == {"temperature": 0.0}
    )
    assert rec.results[TASK].value == 0.5 and rec.results[TASK].label == "pass@1"
    on_disk = json.loads((run / "spec.json").read_text())
    assert on_disk["schema_version"] == SCHEMA_VERSION and on_disk["spec_hash"] == rec.spec.spec_hash
    assert rec.spec.with_hash().spec_hash == rec.spec.spec_hash  # the hash leaves schema_version out
    rows = list(iter_samples(run, TASK))
    assert [r.problem_id for r in rows] == ["a", "b"] and rows[1].correct is False
    assert json.loads((run / "samples" / f"{TASK}.jsonl").read_text().splitlines()[0]) == rows[0].to_json()
    assert RunIndex(tmp_path).runs()[0]["seed"] == 3


def _rewrite_spec(run: Path, edit) -> None:
    path = run / "spec.json"
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def test_a_version_1_record_is_migrated(tmp_path):
    run = _record(tmp_path)
    _rewrite_spec(run, lambda d: d.pop("schema_version"))
    rec = read_run(run)
    assert rec.schema_version == SCHEMA_VERSION and rec.results[TASK].n == 2
    assert rec.spec.spec_hash == rec.spec.with_hash().spec_hash  # same identity as before schema versions


def test_a_record_from_an_unknown_version_is_refused_in_one_line(tmp_path):
    run = _record(tmp_path)
    _rewrite_spec(run, lambda d: d.update(schema_version=99))
    with pytest.raises(RecordError) as e:
        read_run(run)
    msg = str(e.value)
    assert str(run / "spec.json") in msg and "99" in msg and "\n" not in msg
    assert RunIndex(tmp_path).rebuild() == 0  # the index skips it instead of failing


def test_reading_skips_registry_checks_but_new_specs_get_them():
    stored = {"model": "m", "tasks": ["a-task-removed-since"], "protocol": "retired-protocol"}
    assert EvalSpec.model_validate(stored, context=STORED).tasks == ["a-task-removed-since"]
    with pytest.raises(ValueError, match="unknown task"):
        EvalSpec.model_validate(stored)


def test_a_stored_spec_with_more_shots_than_the_exemplar_set_has_now_still_reads():
    """--num-fewshot is checked against the bundled exemplar set when a spec is made, not when a record is
    read (a set that shrank, or a record from elsewhere, must not make old runs unreadable)."""
    stored = {"model": "m", "tasks": ["statbench_math500"], "num_fewshot": 99}
    assert EvalSpec.model_validate(stored, context=STORED).num_fewshot == 99
    with pytest.raises(ValueError, match="99 shots for statbench_math500"):
        EvalSpec.model_validate(stored)


def test_an_executor_reads_the_result_file_not_the_output(tmp_path):
    job = Job("j", ("eval",), files=str(tmp_path / "job"), spec="{}")
    job.write_spec()
    Path(job.result_file).write_text(
        JobOutcome(ok=True, run_dir="/runs/right", run_id="right").model_dump_json()
    )
    r = finish(job, 0, "run: /runs/wrong  (1 generated)\n", None, 0.0)
    assert r.ok and r.run_dir() == "/runs/right" and r.reason() == "right"
    Path(job.result_file).unlink()
    r = finish(job, 0, "run: /runs/wrong\n", None, 0.0)  # exit 0 but no result file: not a success
    assert not r.ok and r.run_dir() is None and "no readable result file" in r.log_tail


def test_a_local_eval_job_reports_its_failure_in_the_result_file(tmp_path):
    spec = EvalSpec(model=str(tmp_path / "no-such-model"), tasks=[TASK], limit=1)
    job = Job(
        "bad",
        ("eval",),
        files=str(tmp_path / "job"),
        spec=EvalJob(spec=spec, runs_dir=str(tmp_path / "runs")).model_dump_json(),
    )
    r = run_subprocess(
        job, {"STATBENCH_DEBUG": ""} if os.environ.get("STATBENCH_DEBUG") else None, timeout=120
    )
    assert not r.ok and r.returncode == 2 and r.outcome is not None and not r.outcome.ok
    assert "no-such-model" in r.outcome.error and r.run_dir() is None
