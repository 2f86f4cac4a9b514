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


def make_executor(name: str, **kw: Any) -> Executor:
    if name == "local":
        from harness.executors.local import LocalExecutor

        return LocalExecutor(**kw)
    if name == "docker":
        from harness.executors.docker import DockerExecutor

        return DockerExecutor(**kw)
    if name == "ray":
        from harness.executors.ray import RayExecutor

        return RayExecutor(**kw)
    raise ExecutorError(f"unknown executor '{name}'; valid executors: local, docker, ray")
