"""Run jobs as Slurm batch jobs through submitit (``pip install -e '.[cluster]'``).

Each job is one ``sbatch`` submission (submitit writes the batch script and pickles the call): on the node it
starts the job in a fresh ``python -m harness ...`` process exactly as the local executor does
(:func:`harness.executors.local.run_subprocess`): the job spec and result files live in the job's folder
under the shared runs directory or workdir, so the node and the driver exchange files, never text. The
driver submits every job of a wave, then polls ``sacct`` (through submitit) until all are done; a job
Slurm killed (time limit, node failure, cancelled) is a failed job whose reason is the last lines of its
Slurm log. The cluster must share the runs directory and this Python environment (the same path on every
node: submitit runs ``sys.executable`` there).

Reruns do only what is missing: an eval job whose previous result file says ok, for the same job spec,
with its run record still there, is not submitted again (and ``statbench eval`` itself reuses complete runs
by spec hash); pipeline stages that are done are never planned again (``harness.executors.jobs``).

``cluster="local"`` runs the same path through submitit's local executor (subprocesses on this machine),
what the tests use besides fake ``sbatch``/``srun``/``sacct``/``scancel`` scripts on ``PATH``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from harness.core.errors import SpecError
from harness.executors import ExecutorError, Job, JobResult
from harness.records.models import JobOutcome

LOG_LINES = 20  # lines of a job's Slurm log quoted when it fails


def parse_time(text: str) -> int:
    """A Slurm ``--time`` (``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH``, ``D-HH:MM``, ``D-HH:MM:SS``) in whole
    minutes (rounded up); ``SpecError`` for anything else."""
    m = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", text.strip())
    if not m:
        raise SpecError(f"--slurm-time '{text}': expected Slurm's format, e.g. 240, 4:00:00 or 1-00:00:00")
    days, a, b, c = (int(x) if x else None for x in m.groups())
    if days is not None:  # D-HH[:MM[:SS]]
        seconds = days * 86400 + a * 3600 + (b or 0) * 60 + (c or 0)
    elif c is not None:  # HH:MM:SS
        seconds = a * 3600 + b * 60 + c
    elif b is not None:  # MM:SS
        seconds = a * 60 + b
    else:  # MM
        seconds = a * 60
    if seconds <= 0:
        raise SpecError(f"--slurm-time '{text}' must be longer than zero")
    return -(-seconds // 60)


def _run_job(job: Job, timeout: float | None) -> JobResult:
    """What runs on the node: the job in a fresh statbench process (job.json in, result.json out)."""
    from harness.executors.local import run_subprocess

    return run_subprocess(job, timeout=timeout)


def _tail(path: Path, lines: int = LOG_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def previous_success(job: Job) -> JobOutcome | None:
    """The outcome of an earlier run of this very eval job (same job spec, ok, run record still complete)."""
    if not job.spec_file or job.spec is None:
        return None
    try:
        if Path(job.spec_file).read_text() != job.spec or json.loads(job.spec).get("force"):
            return None
    except (OSError, ValueError):
        return None
    out = job.read_outcome()
    if out and out.ok and out.run_dir and (Path(out.run_dir) / "results.json").is_file():
        return out
    return None


class SlurmExecutor:
    """Jobs as Slurm batch jobs (submitit): ``partition``, GPUs per GPU job, a time limit per job."""

    name = "slurm"

    def __init__(
        self,
        partition: str | None = None,
        gpus_per_job: int | None = None,
        time_limit: str | int | None = None,
        cluster: str = "slurm",
        folder: str | Path | None = None,
        poll: float | None = None,
        timeout: float | None = None,
        cpus_per_job: int | None = None,
        setup: list[str] | None = None,
        **_: Any,
    ):
        try:
            import submitit
        except ImportError as e:
            raise ExecutorError("the slurm executor needs submitit: pip install -e '.[cluster]'") from e
        if cluster == "slurm" and (shutil.which("sbatch") is None or shutil.which("srun") is None):
            raise ExecutorError(
                "no Slurm here (sbatch or srun not on PATH); run on a login node of the cluster, or use "
                "--executor local"
            )
        if gpus_per_job is not None and gpus_per_job < 0:
            raise SpecError(f"--slurm-gpus-per-job must be 0 or more, got {gpus_per_job}")
        self.submitit, self.cluster, self.partition = submitit, cluster, partition
        self.gpus_per_job = gpus_per_job
        self.minutes = (
            time_limit if isinstance(time_limit, int) else parse_time(time_limit) if time_limit else 240
        )
        self.folder = Path(folder) if folder else None
        self.poll = poll if poll is not None else float(os.environ.get("STATBENCH_SLURM_POLL", "10"))
        self.timeout, self.cpus, self.setup = timeout, cpus_per_job, setup

    def gpus(self, job: Job) -> int:
        """GPUs to ask for: ``--slurm-gpus-per-job`` for jobs that need GPUs (CPU stages ask for none)."""
        if self.gpus_per_job is None:
            return job.gpus
        return self.gpus_per_job if job.gpus > 0 else 0

    def _executor(self, job: Job):
        folder = (Path(job.files) / "slurm") if job.files else (self.folder or Path(".jobs/slurm"))
        ex = self.submitit.AutoExecutor(folder=folder, cluster=self.cluster)
        params: dict[str, Any] = {
            "name": f"statbench-{job.name}"[:120],
            "timeout_min": self.minutes,
            "gpus_per_node": self.gpus(job),
            "nodes": 1,
            "tasks_per_node": 1,
        }
        if self.cpus:
            params["cpus_per_task"] = self.cpus
        if self.cluster == "slurm":
            if self.partition:
                params["slurm_partition"] = self.partition
            if self.setup:
                params["slurm_setup"] = list(self.setup)
        ex.update_parameters(**params)
        return ex

    def _submit(self, job: Job):
        try:
            return self._executor(job).submit(_run_job, job, self.timeout)
        except Exception as e:  # noqa: BLE001 - sbatch refused it (bad partition, ...): a failed job
            msg = " ".join(str(e).split())[:300] or type(e).__name__
            return JobResult(
                job, False, -1, f"sbatch refused the job: {msg}", started=time.time(), ended=time.time()
            )

    def _collect(self, job: Job, sj) -> JobResult:
        started = time.time()
        try:
            res = sj.result()
        except Exception as e:  # noqa: BLE001 - the Slurm job failed or was killed without a result
            state = sj.state
            logs = "\n".join(t for t in (_tail(sj.paths.stderr), _tail(sj.paths.stdout)) if t)
            first = " ".join(str(e).split())[:200]
            log = f"slurm job {sj.job_id} {state}: {first}\n--- last lines of its log ---\n{logs}"
            return JobResult(
                job,
                False,
                -1,
                log[-4000:],
                None,
                started,
                time.time(),
                {"slurm_job_id": sj.job_id},
                job.read_outcome(),
            )
        res.extra = {**res.extra, "slurm_job_id": sj.job_id}
        if not res.ok and not res.log_tail.strip():
            res.log_tail = _tail(sj.paths.stderr)
        return res

    def run(self, jobs: list[Job]) -> list[JobResult]:
        """Submit every job (skipping eval jobs already done), wait for all, return results in order."""
        results: dict[int, JobResult] = {}
        submitted: dict[int, Any] = {}
        for i, job in enumerate(jobs):
            done = previous_success(job)
            if done is not None:
                now = time.time()
                results[i] = JobResult(job, True, 0, "", None, now, now, {"skipped": "done before"}, done)
                continue
            sj = self._submit(job)
            if isinstance(sj, JobResult):
                results[i] = sj
            else:
                submitted[i] = sj
        try:
            while submitted:
                for i, sj in list(submitted.items()):
                    if sj.done(force_check=True):
                        results[i] = self._collect(jobs[i], sj)
                        del submitted[i]
                if submitted:
                    time.sleep(self.poll)
        except BaseException:  # Ctrl-C or a crash of the driver: do not leave jobs queued behind us
            for sj in submitted.values():
                with contextlib.suppress(Exception):  # best effort
                    sj.cancel(check=False)
            raise
        return [results[i] for i in range(len(jobs))]
