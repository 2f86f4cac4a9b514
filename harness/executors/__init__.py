"""Executors: run statbench jobs here (``local``), in the GPU image (``docker``), or across a Ray cluster (``ray``).

A job is a statbench command line (``["eval", "--model", ..., "--tasks", ..., "--seed", ...]``) plus the GPUs
it needs and the host paths it touches. Every executor runs it in a fresh process (a hard kill, a clean CUDA
context) and every job writes its own run record into the shared runs directory, so results are the same
whichever executor ran them. Explicit registry: ``make_executor(name, ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class ExecutorError(RuntimeError):
    """An executor that cannot run here (no engine, no cluster, an infeasible request), in one sentence."""


@dataclass(frozen=True)
class Job:
    name: str
    argv: tuple[str, ...]
    gpus: int = 0
    mounts: tuple[str, ...] = ()  # host paths the job reads or writes (docker binds them at the same path)
    writable: tuple[str, ...] = ()  # the subset of mounts it writes


@dataclass
class JobResult:
    job: Job
    ok: bool
    returncode: int
    log_tail: str = ""
    device: str | None = None  # CUDA_VISIBLE_DEVICES the job saw
    started: float = 0.0
    ended: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def run_dir(self) -> str | None:
        """The run record the job reported (``run: <path>`` on stderr), if any."""
        for line in reversed(self.log_tail.splitlines()):
            if line.startswith("run: "):
                return line[5:].split("  (", 1)[0].strip()
        return None


class Executor(Protocol):
    name: str

    def run(self, jobs: list[Job]) -> list[JobResult]: ...


EXECUTORS: dict[str, tuple[str, str]] = {  # name -> (module:class, what it is); ``statbench ls executors``
    "local": ("harness.executors.local:LocalExecutor", "subprocesses on this machine, one per job"),
    "docker": ("harness.executors.docker:DockerExecutor", "one container per job (Docker SDK), GPUs pinned per job"),
    "ray": ("harness.executors.ray:RayExecutor", "Ray tasks on a cluster (or a local one)"),
}


def make_executor(name: str, **kw: Any) -> Executor:
    """The executor ``name`` names (``EXECUTORS``)."""
    import importlib

    if name not in EXECUTORS:
        raise ExecutorError(f"unknown executor '{name}'; valid executors: {', '.join(EXECUTORS)}")
    mod, cls = EXECUTORS[name][0].split(":")
    return getattr(importlib.import_module(mod), cls)(**kw)
