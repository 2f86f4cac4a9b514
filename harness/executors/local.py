"""Run jobs one after another as ``python -m harness ...`` subprocesses on this machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from harness.executors import Job, JobResult


def run_subprocess(job: Job, env: dict[str, str] | None = None, timeout: float | None = None) -> JobResult:
    """One job in a fresh interpreter; the last 4,000 characters of its output are kept."""
    t0 = time.time()
    proc_env = {**os.environ, **(env or {})}
    try:
        p = subprocess.run([sys.executable, "-m", "harness", *job.argv], capture_output=True, text=True, env=proc_env,
                           timeout=timeout)
        code, out = p.returncode, (p.stdout + p.stderr)
    except subprocess.TimeoutExpired as e:
        code, out = 124, f"timed out after {timeout}s\n{(e.stderr or '')[-2000:]}"
    return JobResult(job, code == 0, code, out[-4000:], proc_env.get("CUDA_VISIBLE_DEVICES"), t0, time.time())


class LocalExecutor:
    name = "local"

    def __init__(self, timeout: float | None = None, **_: object):
        self.timeout = timeout

    def run(self, jobs: list[Job]) -> list[JobResult]:
        return [run_subprocess(j, timeout=self.timeout) for j in jobs]
