"""``statbench runs export RUN --to wandb|mlflow``: a run record into an experiment tracker."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err
from harness.cli.options import DEFAULT_RUNS, RunsDir


def runs_export(
    run: Annotated[str, typer.Argument(help="The run to export (id, prefix or directory).")],
    to: Annotated[str, typer.Option("--to", help="wandb | mlflow")],
    project: Annotated[str, typer.Option(help="wandb: the project.")] = "statbench",
    wandb_dir: Annotated[Path, typer.Option(help="wandb: where its run folder is written.")] = Path("."),
    offline: Annotated[
        bool, typer.Option(help="wandb: offline mode (sync later with `wandb sync`).")
    ] = False,
    mlflow_uri: Annotated[
        str | None,
        typer.Option(
            help="mlflow: tracking URI or local folder (default: $MLFLOW_TRACKING_URI, else ./mlruns)."
        ),
    ] = None,
    experiment: Annotated[str, typer.Option(help="mlflow: the experiment name.")] = "statbench",
    runs_dir: RunsDir = DEFAULT_RUNS,
) -> None:
    """Send a run's metrics (with 95 % CIs), its spec (as config) and its samples (as tables or
    artifacts) to Weights & Biases or MLflow (the optional 'trackers' extra)."""
    import os

    from harness.cli.diff import resolve_run
    from harness.core.errors import RunFailure, SpecError, StatbenchError
    from harness.reporting.export import TARGETS, to_mlflow, to_wandb

    if to not in TARGETS:
        raise SpecError(f"--to must be one of {', '.join(TARGETS)}, got '{to}'")
    path = resolve_run(run, runs_dir)
    try:
        if to == "wandb":
            out = to_wandb(path, project, wandb_dir, offline)
        else:
            out = to_mlflow(path, mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI") or "mlruns", experiment)
    except StatbenchError:
        raise
    except Exception as e:  # noqa: BLE001 - the tracker's own errors (no login, server down): exit 1
        first = " ".join(str(e).split())[:300] or type(e).__name__
        raise RunFailure(f"{to}: the export failed ({type(e).__name__}: {first})") from e
    print(f"{out.target} run {out.run_id}: {len(out.metrics)} metrics, {len(out.tables)} sample table(s)")
    err.print(f"exported {path.name} to {out.location}", markup=False, highlight=False)
