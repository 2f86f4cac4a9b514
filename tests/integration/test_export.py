"""`statbench runs export --to wandb|mlflow`, offline: W&B in offline mode (its transaction log read back)
and an MLflow local file store (read back through its client): metrics with CIs, the spec as config, the
samples as tables / artifacts, all equal to what the run record holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.records.models import STORED, ResolvedSpec, SampleRow, TaskResult
from harness.records.store import iter_samples, read_run, write_run
from harness.reporting.export import SAMPLE_COLUMNS, run_metrics
from tests.helpers.cli import statbench

TASK = "statbench_gsm8k"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("export") / "runs"
    rows = [
        SampleRow(
            id=f"p{j}",
            doc_id=j,
            sample=0,
            response=f"answer <b>{j}</b> | \u2028 done",
            reference=str(j),
            correct=j % 3 != 0,
            extracted=str(j) if j % 3 else None,
            status="ok" if j % 3 else "no_answer",
            tokens=12,
            method="number",
        )
        for j in range(30)
    ]
    acc = sum(r.correct for r in rows) / len(rows)
    result = TaskResult(
        task=TASK,
        metric="avg_at_k",
        metric_label="pass@1",
        value=acc,
        stderr=0.08,
        n=30,
        k=1,
        metrics={"avg_at_k": {"value": acc, "stderr": 0.08}, "no_answer": {"value": 0.0 + 10 / 30}},
        no_answer_rate=10 / 30,
        truncation_rate=0.0,
        protocol="stat-paper",
    )
    spec = ResolvedSpec.model_validate(
        {
            "kind": "eval",
            "spec_hash": "e" * 64,
            "spec": {
                "model": "/ckpt/stat-sel",
                "tasks": [TASK],
                "protocol": "stat-paper",
                "labels": {"method": "stat-sel", "stage": "sft"},
            },
        },
        context=STORED,
    )
    return write_run(runs, "20260101T000000-export", spec, {TASK: result}, {"git": "abc"}, {TASK: rows})


def test_metrics_have_cis(run):
    m = run_metrics(run)
    assert m[f"{TASK}/value"] == pytest.approx(20 / 30) and m[f"{TASK}/n"] == 30
    assert m[f"{TASK}/ci95_low"] < m[f"{TASK}/value"] < m[f"{TASK}/ci95_high"]
    assert m[f"{TASK}/avg_at_k_stderr"] == 0.08 and m[f"{TASK}/no_answer_rate"] == pytest.approx(1 / 3)
    assert run_metrics(run) == m  # seeded: the same CI every export


def test_wandb_offline_reads_back_equal(run, tmp_path):
    pytest.importorskip("wandb", reason="needs the 'trackers' extra (wandb)")
    from tests.helpers.wandb_records import read_offline_run

    res = statbench(
        "runs", "export", run, "--to", "wandb", "--offline", "--wandb-dir", tmp_path, "--project", "t"
    )
    assert res.returncode == 0, res.stderr
    m = run_metrics(run)
    assert "wandb run " in res.stdout and f"{len(m)} metrics, 1 sample table(s)" in res.stdout
    (folder,) = (tmp_path / "wandb").glob("offline-run-*")
    back = read_offline_run(folder)
    assert back["name"] == run.name and sorted(back["tags"]) == ["method=stat-sel", "stage=sft"]
    assert {k: v for k, v in back["summary"].items() if k in m} == m  # every metric, equal
    assert back["config"]["spec"] == json.loads((run / "spec.json").read_text())
    assert back["config"]["statbench_run_id"] == run.name and back["config"]["headline"] == {TASK: "pass@1"}
    (table,) = folder.glob(f"files/media/table/samples/{TASK}_*.table.json")
    data = json.loads(table.read_text())
    assert data["columns"] == SAMPLE_COLUMNS
    want = [[s.problem_id, s.response, s.extracted] for s in iter_samples(run, TASK)]
    assert [[r[1], r[8], r[5]] for r in data["data"]] == want


def test_mlflow_file_store_reads_back_equal(run, tmp_path):
    pytest.importorskip("mlflow", reason="needs the 'trackers' extra (mlflow-skinny)")
    from mlflow.tracking import MlflowClient

    store = tmp_path / "mlruns"
    res = statbench("runs", "export", run, "--to", "mlflow", "--mlflow-uri", store, "--experiment", "e1")
    assert res.returncode == 0, res.stderr
    rid = res.stdout.split()[2].rstrip(":")
    client = MlflowClient(tracking_uri=store.resolve().as_uri())
    got = client.get_run(rid)
    assert got.data.metrics == run_metrics(run)
    assert got.data.tags["statbench.run_id"] == run.name and got.data.tags["label.method"] == "stat-sel"
    assert got.data.params["spec.spec.model"] == "/ckpt/stat-sel"
    assert got.data.params["spec.spec_hash"] == "e" * 64 and got.info.status == "FINISHED"
    spec = json.loads(Path(client.download_artifacts(rid, "spec.json", str(tmp_path))).read_text())
    assert spec["spec"] == json.loads((run / "spec.json").read_text())
    samples = Path(client.download_artifacts(rid, f"samples/{TASK}.jsonl", str(tmp_path)))
    assert samples.read_bytes() == (run / "samples" / f"{TASK}.jsonl").read_bytes()
    # a second export of the same run is a second MLflow run in the same experiment
    again = statbench("runs", "export", run, "--to", "mlflow", "--mlflow-uri", store, "--experiment", "e1")
    assert again.returncode == 0 and again.stdout.split()[2].rstrip(":") != rid
    assert read_run(run).run_id == run.name


def test_bad_target_is_one_line(run):
    res = statbench("runs", "export", run, "--to", "neptune")
    assert res.returncode == 2 and "--to must be one of wandb, mlflow" in res.stderr
    assert res.stderr.count("\n") == 1


def test_unreachable_tracker_is_exit_1(run, tmp_path):
    pytest.importorskip("mlflow", reason="needs the 'trackers' extra (mlflow-skinny)")
    res = statbench(
        "runs",
        "export",
        run,
        "--to",
        "mlflow",
        "--mlflow-uri",
        "http://127.0.0.1:9",
        env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"},
    )
    assert res.returncode == 1 and "mlflow: the export failed" in res.stderr and res.stderr.count("\n") == 1


def test_trackers_requirements_pin_the_extra():
    """requirements-trackers.txt (what make installs into .venv-trackers) pins the pyproject extra exactly."""
    import tomllib

    root = Path(__file__).resolve().parents[2]
    extra = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"][
        "trackers"
    ]
    pins = {
        line.split("==")[0].lower(): line.split("==")[1]
        for line in (root / "requirements-trackers.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert extra and all(pins.get(r.split("==")[0].lower()) == r.split("==")[1] for r in extra), (extra, pins)
    cpu = {
        ln.split("==")[0].lower() for ln in (root / "constraints.txt").read_text().splitlines() if "==" in ln
    }
    assert not set(pins) & cpu  # an overlay: nothing .venv already pins is installed twice
