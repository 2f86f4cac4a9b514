"""Options shared by several verbs, declared once (``Annotated`` aliases)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

RunsDir = Annotated[
    Path, typer.Option("--runs-dir", help="Where run records, their index and the generation cache live.")
]
Workers = Annotated[int | None, typer.Option(help="Grader worker processes (default: min(4, CPUs)).")]
Image = Annotated[str, typer.Option(help="docker executor: the image to run in.")]
EnvAllow = Annotated[
    list[str] | None,
    typer.Option(help="docker executor: an environment variable to pass through (repeatable)."),
]
RayAddress = Annotated[
    str | None, typer.Option(help="ray executor: cluster address (default: start a local one).")
]
GpusPerJob = Annotated[int, typer.Option(help="docker/ray executors: GPUs per job.")]
SlurmPartition = Annotated[str | None, typer.Option(help="slurm executor: the partition to submit to.")]
SlurmGpus = Annotated[
    int | None,
    typer.Option(
        min=0, help="slurm executor: GPUs per GPU job (default: --gpus-per-job; CPU stages ask for none)."
    ),
]
SlurmTime = Annotated[
    str,
    typer.Option(help="slurm executor: time limit per job, in Slurm's format (240, 4:00:00, 1-00:00:00)."),
]
ResultFile = Annotated[
    Path | None,
    typer.Option(
        help="Write the outcome (a JobOutcome: ok, run dir and id, error) as JSON here; what executors read."
    ),
]
DEFAULT_RUNS = Path("runs")


@dataclass(frozen=True)
class ExecutorOptions:
    """Where jobs run: the executor's name and what the docker, ray and slurm executors need."""

    executor: str = "local"
    image: str = "statbench-eval:latest"
    env: tuple[str, ...] = ()
    gpus_per_job: int = 1
    ray_address: str | None = None
    slurm: tuple[str | None, int | None, str] = (None, None, "4:00:00")  # partition, GPUs per job, time

    def make(self, env_allow: list[str] | None = None):
        """The executor (ExecutorError if it cannot run here)."""
        from harness.executors import make_executor

        return make_executor(
            self.executor,
            image=self.image,
            env_allow=list(env_allow or self.env),
            address=self.ray_address,
            partition=self.slurm[0],
            gpus_per_job=self.slurm[1],
            time_limit=self.slurm[2],
        )
