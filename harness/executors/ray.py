"""Fan jobs out as Ray tasks (``num_gpus`` per job); Ray gives each task its own CUDA_VISIBLE_DEVICES.

Each task starts the job in a subprocess (no nested Ray, a clean CUDA context, a hard kill). Infeasible
requests (more GPUs per job than the cluster has) are refused before submission, because Ray would leave
them pending forever; every wait has a timeout; a failed job is reported and the others finish.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from harness.executors import ExecutorError, Job, JobResult


def _run_job(job: Job, timeout: float | None) -> JobResult:
    from harness.executors.local import run_subprocess

    return run_subprocess(job, {"CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "")}, timeout)


class RayExecutor:
    """Runs jobs as Ray tasks (a cluster at ``address``, else a local one), GPUs reserved per job."""

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        num_gpus: int | None = None,
        timeout: float | None = None,
        poll: float = 5.0,
        **_: Any,
    ):
        try:
            import ray
        except ImportError as e:
            raise ExecutorError("the ray executor needs Ray: pip install -e '.[cluster]'") from e
        self.ray, self.timeout, self.poll = ray, timeout, poll
        if not ray.is_initialized():
            kw: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "ignore_reinit_error": True,
                "logging_level": logging.ERROR,
            }
            if address:
                _check_reachable(address)
                kw["address"] = address
            else:  # a local cluster: explicit resources (fake GPUs are fine for scheduling tests)
                kw.update(
                    num_cpus=num_cpus or os.cpu_count(), num_gpus=num_gpus, object_store_memory=200 * 1024**2
                )
            try:
                ray.init(**kw)
            except Exception as e:  # noqa: BLE001 - ConnectionError, RuntimeError from the GCS client: one sentence
                where = f"the Ray cluster at {address}" if address else "a local Ray instance"
                raise ExecutorError(
                    f"cannot start or reach {where}: {str(e).splitlines()[0][:160] if str(e) else type(e).__name__}"
                ) from None

    def run(self, jobs: list[Job]) -> list[JobResult]:
        ray = self.ray
        total = ray.cluster_resources().get("GPU", 0)
        infeasible = [j.name for j in jobs if j.gpus > total]
        if infeasible:
            raise ExecutorError(
                f"{len(infeasible)} job(s) ask for more GPUs than the cluster has ({total:g}): "
                f"{', '.join(infeasible[:3])}; use --gpus-per-job 0 to run on CPUs or --ray-address for a "
                "cluster with GPUs"
            )
        remote = ray.remote(_run_job)
        refs = {
            remote.options(num_gpus=j.gpus, num_cpus=1).remote(j, self.timeout): i for i, j in enumerate(jobs)
        }
        results: dict[int, JobResult] = {}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1, timeout=self.poll)
            for ref in done:
                i = refs[ref]
                try:
                    results[i] = ray.get(ref)
                except Exception as e:  # noqa: BLE001 - a task that died is a failed job, not a failed run
                    results[i] = JobResult(jobs[i], False, -1, f"ray task failed: {type(e).__name__}: {e}")
        return [results[i] for i in range(len(jobs))]

    def shutdown(self) -> None:
        self.ray.shutdown()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Ray retries an unreachable head for minutes; a host:port that refuses a TCP connection fails now."""
    import socket

    hostport = address.split("://", 1)[-1]
    if hostport == "auto" or ":" not in hostport:
        return
    host, port = hostport.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except (OSError, ValueError) as e:
        raise ExecutorError(
            f"cannot reach the Ray cluster at {address} ({e}); is `ray start --head` running there?"
        ) from None
