"""Executors: run statbench jobs here (``local``), in the GPU image (``docker``), across a Ray cluster (``ray``)
or as Slurm batch jobs (``slurm``).

A job is a statbench verb (``eval`` or ``run EXPERIMENT --only STAGE``) plus the GPUs it needs, the host
paths it touches and a folder for its files. Jobs exchange files, not text: the executor writes the job
spec (an ``EvalJob``: the EvalSpec, the runs dir, ``force``) to ``<files>/job.json`` and passes
``--spec <files>/job.json --result-file <files>/result.json``; the job writes a ``JobOutcome`` (ok, run dir
and id, generation counts, stage records, error) to the result file, which the executor reads. Output is
kept only as a log tail for failure messages; nothing parses it. Every executor runs a job in a fresh process
(a hard kill, a clean CUDA context) and every job writes its own run record into the shared runs directory,
so results are the same whichever executor ran them. Explicit registry: ``make_executor(name, ...)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from harness.records.models import JobOutcome


class ExecutorError(RuntimeError):
    """An executor that cannot run here (no engine, no cluster, an infeasible request), in one sentence."""


@dataclass(frozen=True)
class Job:
    """One statbench invocation to run somewhere: ``argv`` is the verb and its flags, without the job files."""

    name: str
    argv: tuple[str, ...]
    gpus: int = 0
    mounts: tuple[str, ...] = ()  # host paths the job reads or writes (docker binds them at the same path)
    writable: tuple[str, ...] = ()  # the subset of mounts it writes
    files: str | None = None  # a folder inside a writable mount for job.json and result.json
    spec: str | None = None  # the job spec (JSON), written to <files>/job.json and passed as --spec

    @property
    def spec_file(self) -> str | None:
        """Where the job spec is written (None: the job takes no spec file)."""
        return str(Path(self.files) / "job.json") if self.files and self.spec is not None else None

    @property
    def result_file(self) -> str | None:
        """Where the job writes its ``JobOutcome``."""
        return str(Path(self.files) / "result.json") if self.files else None

    def command(self) -> list[str]:
        """The statbench command line: ``argv`` plus ``--spec FILE`` and ``--result-file FILE``."""
        extra = [
            *(["--spec", self.spec_file] if self.spec_file else []),
            *(["--result-file", self.result_file] if self.result_file else []),
        ]
        return [*self.argv, *extra]

    def write_spec(self) -> None:
        """Write the job spec and clear any result file a previous attempt left."""
        if not self.files:
            return
        Path(self.files).mkdir(parents=True, exist_ok=True)
        Path(self.result_file).unlink(missing_ok=True)
        if self.spec_file:
            Path(self.spec_file).write_text(self.spec)

    def read_outcome(self) -> JobOutcome | None:
        """The job's result file, or None when it wrote none (killed, crashed) or it is unreadable."""
        if not self.result_file:
            return None
        try:
            return JobOutcome.model_validate_json(Path(self.result_file).read_text())
        except (OSError, ValidationError):
            return None


@dataclass
class JobResult:
    """What became of a job: exit status, its result file (``outcome``), a log tail for failure messages."""

    job: Job
    ok: bool
    returncode: int
    log_tail: str = ""
    device: str | None = None  # CUDA_VISIBLE_DEVICES the job saw
    started: float = 0.0
    ended: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    outcome: JobOutcome | None = None

    def run_dir(self) -> str | None:
        """The run record the job made, from its result file."""
        return self.outcome.run_dir if self.outcome else None

    def reason(self) -> str:
        """One line on the outcome: the run id, the job's own error, or the last log line."""
        if self.outcome and self.outcome.run_id and self.ok:
            return self.outcome.run_id
        if self.outcome and self.outcome.error:
            return self.outcome.error[:90]
        return (self.log_tail.strip().splitlines() or ["?"])[-1][:90]


def finish(
    job: Job, code: int, log: str, device: str | None, started: float, extra: dict[str, Any] | None = None
) -> JobResult:
    """The JobResult of a finished process: ok only if it exited 0 and (when it has one) its result file says ok."""
    outcome = job.read_outcome()
    ok = code == 0 and (outcome.ok if outcome else not job.result_file)
    if code == 0 and job.result_file and outcome is None:
        log = f"{log}\njob exited 0 but wrote no readable result file {job.result_file}"
    return JobResult(job, ok, code, log[-4000:], device, started, time.time(), extra or {}, outcome)


class Executor(Protocol):
    """Runs a list of jobs and returns one JobResult per job, in order."""

    name: str

    def run(self, jobs: list[Job]) -> list[JobResult]: ...


EXECUTORS: dict[str, tuple[str, str]] = {  # name -> (module:class, what it is); ``statbench ls executors``
    "local": ("harness.executors.local:LocalExecutor", "subprocesses on this machine, one per job"),
    "docker": (
        "harness.executors.docker:DockerExecutor",
        "one container per job (Docker SDK), GPUs pinned per job",
    ),
    "ray": ("harness.executors.ray:RayExecutor", "Ray tasks on a cluster (or a local one)"),
    "slurm": ("harness.executors.slurm:SlurmExecutor", "Slurm batch jobs through submitit, one per job"),
}


def make_executor(name: str, **kw: Any) -> Executor:
    """The executor ``name`` names (``EXECUTORS``)."""
    import importlib

    if name not in EXECUTORS:
        raise ExecutorError(f"unknown executor '{name}'; valid executors: {', '.join(EXECUTORS)}")
    mod, cls = EXECUTORS[name][0].split(":")
    return getattr(importlib.import_module(mod), cls)(**kw)
