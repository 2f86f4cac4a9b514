"""Run jobs one after another as ``python -m harness ...`` subprocesses on this machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from harness.executors import Job, JobResult, finish


def run_subprocess(job: Job, env: dict[str, str] | None = None, timeout: float | None = None) -> JobResult:
    """One job in a fresh interpreter: write its spec file, run it, read its result file (the last 4,000
    characters of its output are kept for failure messages only)."""
    t0 = time.time()
    proc_env = {**os.environ, **(env or {})}
    job.write_spec()
    try:
        p = subprocess.run(
            [sys.executable, "-m", "harness", *job.command()],
            capture_output=True,
            text=True,
            env=proc_env,
            timeout=timeout,
        )
        code, out = p.returncode, (p.stdout + p.stderr)
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        code, out = 124, f"timed out after {timeout}s\n{err[-2000:]}"
    return finish(job, code, out, proc_env.get("CUDA_VISIBLE_DEVICES"), t0)


class LocalExecutor:
    """Jobs one after another as subprocesses on this machine."""

    name = "local"

    def __init__(self, timeout: float | None = None, **_: object):
        self.timeout = timeout

    def run(self, jobs: list[Job]) -> list[JobResult]:
        """Run each job in turn; a failed job does not stop the others."""
        return [run_subprocess(j, timeout=self.timeout) for j in jobs]
