"""``statbench runs export RUN --to wandb|mlflow``: a run record into an experiment tracker.

What goes there, for both trackers (:func:`run_metrics`, :func:`run_config`):

- metrics, per task: every metric of ``results.json`` and its stderr, the headline value with its 95 %
  bootstrap CI over problems (``harness.core.stats.ci``, seeded: the same numbers every export), n, k,
  the truncation / no-answer / timeout rates and the mean token count, named ``<task>/<metric>``;
- the run's resolved spec (with its hash and provenance) as the run's config (W&B) or flattened params
  plus a ``spec.json`` artifact (MLflow); its labels as tags;
- the samples: one W&B table per task (``samples/<task>``), or the ``samples/<task>.jsonl`` files as MLflow
  artifacts.

The trackers are the real ``wandb`` and ``mlflow`` (``mlflow-skinny``) libraries, in the optional
``trackers`` extra. W&B can run offline (``--offline``: a local ``wandb/offline-run-*`` folder to ``wandb
sync`` later); MLflow takes any tracking URI, a local folder included (its file store).
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import stats
from harness.core.errors import SpecError
from harness.records.models import RunRecord
from harness.records.scores import per_problem_scores
from harness.records.store import iter_samples, read_run
from harness.reporting.diff import sample_status

TARGETS = ("wandb", "mlflow")
SAMPLE_COLUMNS = ["task", "id", "sample", "status", "correct", "extracted", "reference", "tokens", "response"]


@dataclass
class Exported:
    """Where the run went and what was sent."""

    target: str
    location: str  # the W&B run folder / the MLflow tracking URI
    run_id: str  # the tracker's run id
    metrics: dict[str, float]
    tables: list[str] = field(default_factory=list)


def run_metrics(run_dir: Path, rec: RunRecord | None = None) -> dict[str, float]:
    """The run's metrics, flat (``<task>/<name>``), finite values only."""
    rec = rec or read_run(run_dir)
    out: dict[str, float] = {}

    def put(key: str, value: Any) -> None:
        if value is not None and math.isfinite(float(value)):
            out[key] = float(value)

    for task, r in rec.results.items():
        put(f"{task}/value", r.value)
        put(f"{task}/stderr", r.stderr)
        scores, _ = per_problem_scores(run_dir, task, r.metric)
        if scores:
            lo, hi = stats.ci(np.array(list(scores.values()), dtype=float), seed=0)
            put(f"{task}/ci95_low", lo)
            put(f"{task}/ci95_high", hi)
        for name, mv in r.metrics.items():
            put(f"{task}/{name}", mv.value)
            put(f"{task}/{name}_stderr", mv.stderr)
        for name in ("n", "k", "truncation_rate", "no_answer_rate", "timeout_rate", "mean_tokens"):
            put(f"{task}/{name}", getattr(r, name))
    return out


def run_config(rec: RunRecord) -> dict[str, Any]:
    """The run's resolved spec, its id, headline metric names and provenance (JSON-safe)."""
    return json.loads(
        json.dumps(
            {
                "statbench_run_id": rec.run_id,
                "spec": rec.spec.to_json(),
                "headline": {t: r.label for t, r in rec.results.items()},
                "provenance": rec.provenance,
            },
            default=str,
        )
    )


def labels(rec: RunRecord) -> dict[str, str]:
    """The run's free-form labels (method=..., stage=...), if it has any."""
    return dict(getattr(rec.spec.spec, "labels", None) or {})


def sample_rows(run_dir: Path, task: str) -> list[list[Any]]:
    """One row per sample (``SAMPLE_COLUMNS``)."""
    return [
        [
            task,
            r.problem_id,
            r.sample,
            sample_status(r),
            bool(r.correct),
            r.extracted,
            r.reference,
            r.tokens,
            r.response,
        ]
        for r in iter_samples(run_dir, task)
    ]


def _need(module: str, target: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise SpecError(
            f"--to {target} needs the '{target}' library: pip install -e '.[trackers]' (pins: requirements-trackers.txt)"
        ) from e


def to_wandb(
    run_dir: Path, project: str = "statbench", directory: Path = Path("."), offline: bool = False
) -> Exported:
    """Log the run as one W&B run (``offline``: written under ``directory/wandb/`` only)."""
    wandb = _need("wandb", "wandb")
    rec = read_run(run_dir)
    metrics = run_metrics(run_dir, rec)
    Path(directory).mkdir(parents=True, exist_ok=True)
    run = wandb.init(
        project=project,
        name=rec.run_id,
        dir=str(directory),
        config=run_config(rec),
        tags=[f"{k}={v}"[:64] for k, v in labels(rec).items()],
        job_type="eval",
        mode="offline" if offline else None,
        reinit="create_new",
        settings=wandb.Settings(silent=True, console="off", x_disable_stats=True),
    )
    tables = []
    try:
        run.summary.update(metrics)
        for task in rec.results:
            key = f"samples/{task}"
            run.log({key: wandb.Table(columns=SAMPLE_COLUMNS, data=sample_rows(run_dir, task))}, commit=False)
            tables.append(key)
        run.log({}, commit=True)
    finally:
        run.finish()
        wandb.teardown()  # wait for W&B's service to flush the run to disk before returning
    return Exported("wandb", str(Path(run.dir).parent), run.id, metrics, tables)


_PARAM_KEY = re.compile(r"[^\w\-. /]")


def flatten(d: Any, prefix: str = "") -> dict[str, str]:
    """Nested config as MLflow params: ``a.b.c`` keys, JSON values (lists as JSON), 6,000 characters at most."""
    out: dict[str, str] = {}
    if isinstance(d, dict) and d:
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif prefix:
        text = d if isinstance(d, str) else json.dumps(d, default=str)
        out[_PARAM_KEY.sub("_", prefix)[:250]] = text[:6000]
    return out


def to_mlflow(run_dir: Path, tracking_uri: str = "mlruns", experiment: str = "statbench") -> Exported:
    """Log the run as one MLflow run in ``experiment`` at ``tracking_uri`` (a server URL or a local folder)."""
    if "://" not in tracking_uri and not tracking_uri.startswith(("file:", "databricks")):
        tracking_uri = Path(tracking_uri).resolve().as_uri()
    if tracking_uri.startswith(
        "file:"
    ):  # the file store is in maintenance mode; a local folder is what we want
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    _need("mlflow", "mlflow")
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    rec = read_run(run_dir)
    metrics = run_metrics(run_dir, rec)
    client = MlflowClient(tracking_uri=tracking_uri)
    exp = client.get_experiment_by_name(experiment)
    exp_id = exp.experiment_id if exp else client.create_experiment(experiment)
    tags = {"statbench.run_id": rec.run_id, **{f"label.{k}": v for k, v in labels(rec).items()}}
    run = client.create_run(exp_id, run_name=rec.run_id, tags=tags)
    rid = run.info.run_id
    try:
        params = flatten(run_config(rec))
        items = list(params.items())
        for i in range(0, len(items), 100):  # MLflow takes at most 100 params per batch
            client.log_batch(rid, params=[Param(k, v) for k, v in items[i : i + 100]])
        now = int(time.time() * 1000)
        ms = [Metric(k, v, now, 0) for k, v in metrics.items()]
        for i in range(0, len(ms), 1000):
            client.log_batch(rid, metrics=ms[i : i + 1000])
        client.log_dict(rid, run_config(rec), "spec.json")
        for task in rec.results:
            client.log_artifact(rid, str(Path(run_dir) / "samples" / f"{task}.jsonl"), "samples")
        client.set_terminated(rid)
    except BaseException:
        client.set_terminated(rid, "FAILED")
        raise
    return Exported("mlflow", tracking_uri, rid, metrics, [f"samples/{t}.jsonl" for t in rec.results])
