"""Run each job inside the statbench GPU image through the Docker SDK for Python (``docker`` package).

Host paths the job touches are bound at the same path inside the container (so the job's command line
needs no rewriting): model directories read-only, the runs directory and the Hugging Face cache
read-write. GPUs are requested with ``--gpus``. Environment variables pass through only when named
(``env_allow``): secrets never leak by default. The image's digest is injected as
``STATBENCH_IMAGE_DIGEST`` so every run record made inside it names the exact image.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.executors import ExecutorError, Job, JobResult, finish

DEFAULT_ENV = (
    "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "STATBENCH_GRADER_WORKERS",
    "STATBENCH_GRADER_TIMEOUT",
)


@dataclass
class ContainerSpec:
    """How one job's container is started: image, command, mounts, environment and GPUs."""

    image: str
    command: list[str]
    gpus: int = 0
    device_ids: list[str] | None = None
    mounts: list[tuple[str, str, str]] = field(default_factory=list)  # (host, container, "ro" | "rw")
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None

    def argv(self) -> list[str]:
        """The equivalent ``docker run`` command line (values of passed-through variables are not printed)."""
        out = ["docker", "run", "--rm"]
        if self.device_ids:
            out += ["--gpus", f'"device={",".join(self.device_ids)}"']
        elif self.gpus:
            out += ["--gpus", str(self.gpus)]
        for host, cont, mode in self.mounts:
            out += ["-v", f"{host}:{cont}:{mode}"]
        for k in sorted(self.env):
            out += ["-e", k]
        if self.user:
            out += ["--user", self.user]
        return out + [self.image, *self.command]

    def sdk_kwargs(self) -> dict[str, Any]:
        from docker.types import DeviceRequest

        kw: dict[str, Any] = {
            "image": self.image,
            "command": self.command,
            "detach": True,
            "volumes": {h: {"bind": c, "mode": m} for h, c, m in self.mounts},
            "environment": dict(self.env),
        }
        if self.device_ids or self.gpus:
            kw["device_requests"] = (
                [DeviceRequest(device_ids=self.device_ids, capabilities=[["gpu"]])]
                if self.device_ids
                else [DeviceRequest(count=self.gpus, capabilities=[["gpu"]])]
            )
        if self.user:
            kw["user"] = self.user
        return kw


class DockerExecutor:
    """``num_gpus`` (default: ``nvidia-smi -L`` on this host) lets jobs run side by side, each pinned to its own
    devices (``--gpus "device=i"``); without it jobs run one after another with ``--gpus N``."""

    name = "docker"

    def __init__(
        self,
        image: str = "statbench-eval:latest",
        env_allow: list[str] | tuple[str, ...] = (),
        hf_cache: str | None = None,
        user: str | None = None,
        timeout: float | None = None,
        num_gpus: int | None = None,
        client: Any = None,
        **_: Any,
    ):
        self.image, self.timeout = image, timeout
        self.user = user or f"{os.getuid()}:{os.getgid()}"  # files in the runs dir stay the caller's
        self.env_allow = tuple(dict.fromkeys((*DEFAULT_ENV, *env_allow)))
        cache = hf_cache or os.environ.get("HF_HOME") or str(Path.home() / ".cache" / "huggingface")
        self.hf_cache = cache if Path(cache).is_dir() else None
        self.num_gpus = num_gpus if num_gpus is not None else _host_gpus()
        self._client = client
        self._digest: str | None = None

    def spec(self, job: Job, digest: str | None = None, device_ids: list[str] | None = None) -> ContainerSpec:
        mounts = [
            (str(Path(p).resolve()), str(Path(p).resolve()), "rw" if p in job.writable else "ro")
            for p in job.mounts
        ]
        if self.hf_cache:
            mounts.append((self.hf_cache, "/home/statbench/.cache/huggingface", "rw"))
        env = {k: os.environ[k] for k in self.env_allow if k in os.environ}
        env["STATBENCH_IMAGE"] = self.image
        if digest:
            env["STATBENCH_IMAGE_DIGEST"] = digest
        return ContainerSpec(self.image, job.command(), job.gpus, device_ids, mounts, env, self.user)

    def client(self):
        if self._client is None:
            try:
                import docker
            except ImportError as e:
                raise ExecutorError(
                    "the docker executor needs the Docker SDK: pip install -e '.[cluster]'"
                ) from e
            try:
                self._client = docker.from_env()
                self._client.ping()
            except Exception as e:  # noqa: BLE001 - DockerException, connection errors: one sentence
                reason = str(e).split("\n")[0][:160]
                raise ExecutorError(
                    f"no Docker engine reachable ({reason}); start Docker or use --executor local"
                ) from None
        return self._client

    def image_digest(self) -> str:
        if self._digest is None:
            client = self.client()
            try:
                img = client.images.get(self.image)
            except Exception as e:  # noqa: BLE001 - ImageNotFound, APIError
                raise ExecutorError(
                    f"image {self.image} is not available ({type(e).__name__}); build it with "
                    "`statbench containers build` or pass --image"
                ) from None
            self._digest = (img.attrs.get("RepoDigests") or [img.id])[0]
        return self._digest

    def _run_one(self, job: Job, device_ids: list[str] | None) -> JobResult:
        t0 = time.time()
        spec = self.spec(job, self.image_digest(), device_ids)
        job.write_spec()  # in a writable mount: the container reads it (and writes the result file) at the same path
        try:
            container = self.client().containers.run(**spec.sdk_kwargs())
        except Exception as e:  # noqa: BLE001 - a job the engine refused is a failed job, not a failed run
            return JobResult(
                job, False, -1, f"docker refused the job: {type(e).__name__}: {e}", None, t0, time.time()
            )
        try:
            code = container.wait(timeout=self.timeout).get("StatusCode", 1)
            logs = container.logs().decode(errors="replace")
        except Exception as e:  # noqa: BLE001 - timeouts, engine restarts
            code, logs = 124, f"container did not finish: {type(e).__name__}: {e}"
        finally:
            container.remove(force=True)
        return finish(
            job, code, logs, ",".join(device_ids) if device_ids else None, t0, {"image": self.image_digest()}
        )

    def run(self, jobs: list[Job]) -> list[JobResult]:
        self.image_digest()  # fail fast: no engine, no image
        if not self.num_gpus or not any(j.gpus for j in jobs):
            return [self._run_one(j, None) for j in jobs]
        too_big = [j.name for j in jobs if j.gpus > self.num_gpus]
        if too_big:
            raise ExecutorError(
                f"{len(too_big)} job(s) ask for more GPUs than this host has ({self.num_gpus}): "
                f"{', '.join(too_big[:3])}"
            )
        free = [str(i) for i in range(self.num_gpus)]
        cond = threading.Condition()

        def work(job: Job) -> JobResult:
            with cond:
                cond.wait_for(lambda: len(free) >= job.gpus)
                ids = [free.pop(0) for _ in range(job.gpus)]
            try:
                return self._run_one(job, ids or None)
            finally:
                with cond:
                    free.extend(ids)
                    free.sort(key=int)
                    cond.notify_all()

        with ThreadPoolExecutor(max_workers=max(1, self.num_gpus)) as pool:
            return list(pool.map(work, jobs))


def _host_gpus() -> int:
    if not shutil.which("nvidia-smi"):
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))
