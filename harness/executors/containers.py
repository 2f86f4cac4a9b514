"""Container images: build and list them (``docker buildx``), pin the base by digest, and ``statbench doctor``.

Without a Docker engine every command fails with one sentence that says so, never a traceback. The
image installs only ``containers/requirements-gpu.lock`` (hash-checked), generated from pyproject.toml by
``tools/lock_gpu.py``; tests keep the lock, pyproject and the CPU CI lock on the same pins.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "containers" / "Dockerfile"
LOCK = ROOT / "containers" / "requirements-gpu.lock"
PLACEHOLDER = "sha256:" + "0" * 64
_BASE_ARG = re.compile(r"^ARG CUDA_BASE=(\S+)$", re.M)


class ContainerError(RuntimeError):
    """A container operation that cannot run here, in one sentence."""


def base_image(dockerfile: Path | None = None) -> str:
    """The CUDA base image (tag@digest) the Dockerfile builds on."""
    dockerfile = dockerfile or DOCKERFILE
    m = _BASE_ARG.search(dockerfile.read_text())
    if not m:
        raise ContainerError(f"{dockerfile}: no `ARG CUDA_BASE=...` line")
    return m.group(1)


def lock_sha256() -> str:
    """sha256 of the GPU image's hash-locked requirements file."""
    return hashlib.sha256(LOCK.read_bytes()).hexdigest()


def _docker(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


def engine_error(need_buildx: bool = True) -> str | None:
    """None when a Docker engine (and buildx) is usable, else the reason in one sentence."""
    if not shutil.which("docker"):
        return "the docker CLI is not installed"
    try:
        info = _docker("info", "--format", "{{.ServerVersion}}")
    except subprocess.TimeoutExpired:
        return "the Docker engine did not answer within 20 s"
    if info.returncode != 0:
        return (
            "no Docker engine is reachable (`docker info` failed: "
            + (info.stderr.strip().splitlines() or ["?"])[-1][:120]
            + ")"
        )
    if need_buildx and _docker("buildx", "version").returncode != 0:
        return "docker buildx is not installed (the BuildKit plugin builds the multi-target image)"
    return None


def default_tags(target: str) -> list[str]:
    """``statbench-<target>:<version>`` and ``:latest`` (what the docker executor runs by default)."""
    from harness.records.provenance import statbench_version

    return [f"statbench-{target}:{statbench_version()}", f"statbench-{target}:latest"]


def build_command(target: str, tags: list[str], push: bool = False) -> list[str]:
    """The ``docker buildx build`` argv for one target, labelled with the git sha and the lock's sha256."""
    from harness.records.provenance import git_sha, statbench_version

    return [
        "docker",
        "buildx",
        "build",
        "--file",
        str(DOCKERFILE),
        "--target",
        target,
        *[x for t in tags for x in ("--tag", t)],
        "--build-arg",
        f"GIT_SHA={git_sha() or 'unknown'}",
        "--build-arg",
        f"LOCK_SHA256={lock_sha256()}",
        "--build-arg",
        f"VERSION={statbench_version()}",
        "--push" if push else "--load",
        str(ROOT),
    ]


def build(target: str, tags: list[str], push: bool = False) -> int:
    """Build (or push) one image target; returns docker's exit code."""
    reason = engine_error()
    if reason:
        raise ContainerError(f"cannot build: {reason}")
    if base_image().endswith(PLACEHOLDER):
        raise ContainerError(
            f"{DOCKERFILE}: the CUDA base is not pinned yet (placeholder digest); run "
            "`statbench containers pin-base` on a machine that can reach the registry"
        )
    return subprocess.run(build_command(target, tags, push)).returncode


def images() -> list[str]:
    """The local statbench images, one line each."""
    reason = engine_error(need_buildx=False)
    if reason:
        raise ContainerError(f"cannot list images: {reason}")
    out = _docker(
        "images",
        "--filter",
        "label=org.opencontainers.image.title=statbench",
        "--format",
        "{{.Repository}}:{{.Tag}}  {{.ID}}  {{.CreatedSince}}  {{.Size}}",
    )
    return [line for line in out.stdout.splitlines() if line.strip()]


def pin_base(tag: str | None = None) -> str:
    """Resolve the base tag to its manifest digest (needs registry access) and write it into the Dockerfile."""
    ref = tag or base_image().split("@")[0]
    if not shutil.which("docker") or _docker("buildx", "version").returncode != 0:
        raise ContainerError(
            "cannot resolve the digest: docker buildx is not installed (it reads the registry)"
        )
    out = _docker("buildx", "imagetools", "inspect", ref, "--format", "{{json .Manifest}}", timeout=120)
    if out.returncode != 0:
        raise ContainerError(f"cannot resolve {ref}: {(out.stderr.strip().splitlines() or ['?'])[-1][:160]}")
    digest = json.loads(out.stdout)["digest"]
    text = DOCKERFILE.read_text()
    DOCKERFILE.write_text(_BASE_ARG.sub(f"ARG CUDA_BASE={ref}@{digest}", text, count=1))
    return f"{ref}@{digest}"


def cuda_check(require: bool | None = None) -> tuple[str, bool, str]:
    """CUDA really usable: ``torch.cuda.is_available()``, a device count above zero and a small kernel run on
    every device. Required (a failure without it) with ``require=True``, or by default when torch is a CUDA
    build or this is the GPU image; on a CPU-only torch build it is reported, not required."""
    import os

    try:
        import torch
    except ImportError:
        return ("cuda", not require, "torch is not importable")
    build = torch.version.cuda  # None on a CPU-only wheel
    in_image = bool(os.environ.get("STATBENCH_IMAGE_DIGEST") or os.environ.get("STATBENCH_LOCK_SHA256"))
    if require is None:
        require = build is not None or in_image
    why = (
        "--require-cuda"
        if require and not (build or in_image)
        else "a CUDA build of torch"
        if build
        else "the GPU image"
    )
    kind = f"CUDA {build} build" if build else "CPU-only build"
    try:
        available = bool(torch.cuda.is_available())
        count = int(torch.cuda.device_count()) if available else 0
    except Exception as e:  # noqa: BLE001 - a broken driver is a failed check, not a crash
        available, count, kind = False, 0, f"{kind}; CUDA query failed: {type(e).__name__}: {e}"
    if not available or count == 0:
        detail = f"not available (torch {torch.__version__}, {kind}, {count} device(s))"
        if require:
            return ("cuda", False, f"{detail}; required by {why}")
        return ("cuda", True, f"{detail}; not required on this machine (--require-cuda makes it a failure)")
    names = []
    for i in range(count):
        try:
            x = torch.arange(4, device=f"cuda:{i}", dtype=torch.float32)
            if float((x * 2).sum().item()) != 12.0:
                return ("cuda", False, f"cuda:{i}: a test kernel gave a wrong result")
            names.append(torch.cuda.get_device_name(i))
        except Exception as e:  # noqa: BLE001
            return ("cuda", False, f"cuda:{i}: a test kernel failed ({type(e).__name__}: {e})")
    return ("cuda", True, f"{count} device(s): {', '.join(names)}; torch {torch.__version__}, {kind}")


def doctor(require_cuda: bool | None = None) -> list[tuple[str, bool, str]]:
    """Self-check: versions, CUDA (``cuda_check``), the checker on three pairs (one must time out), the pins."""
    import os
    import sys

    from harness.records.provenance import package_version, statbench_version

    checks: list[tuple[str, bool, str]] = [
        ("python", sys.version_info[:2] == (3, 11), sys.version.split()[0]),
        ("statbench", True, statbench_version()),
    ]
    for pkg in ("torch", "transformers", "trl", "lm-eval", "math-verify", "vllm", "ray"):
        v = package_version(pkg)
        checks.append((pkg, v is not None or pkg in ("vllm", "ray"), v or "not installed"))
    checks.append(cuda_check(require_cuda))
    from harness.scoring import Checker, checker_version

    c = Checker(workers=1, timeout=3.0)
    try:
        v = c.grade_many(
            [("so \\boxed{27}", 27.0), ("\\boxed{(x+1)^2}", "x^2+2x+1"), ("\\boxed{10^{10^{10}}}", "5")]
        )
    finally:
        c.close()
    ok = [x.correct for x in v] == [True, True, False] and v[2].status == "timeout"
    checks.append(("checker", ok, f"{checker_version()}; statuses {[x.status for x in v]}"))
    checks.append(_pins_check(os.environ.get("STATBENCH_LOCK_SHA256")))
    if os.environ.get("STATBENCH_IMAGE_DIGEST") or os.environ.get("STATBENCH_LOCK_SHA256"):
        checks.append(
            (
                "image",
                True,
                f"digest={os.environ.get('STATBENCH_IMAGE_DIGEST')} git={os.environ.get('STATBENCH_GIT_SHA')}",
            )
        )
    return checks


def _pins_check(image_lock_sha: str | None) -> tuple[str, bool, str]:
    """Installed versions vs the lock this environment was made from (the GPU lock in the image, else CI's)."""
    from importlib.metadata import distributions

    lock = LOCK if image_lock_sha else ROOT / "constraints.txt"
    if not lock.is_file():
        return ("pins", True, "no lock file next to the code (installed as a package)")
    want = {n: v.split("+")[0] for n, v in read_pins(lock).items()}
    have = {norm_name(d.metadata["Name"]): d.version.split("+")[0] for d in distributions()}
    off = [f"{n} {have[n]} (lock {v})" for n, v in sorted(want.items()) if n in have and have[n] != v]
    name = "pins (image lock)" if image_lock_sha else "pins (CPU lock)"
    return (name, not off, "all installed versions match " + lock.name if not off else "; ".join(off[:8]))


def norm_name(name: str) -> str:
    """A distribution name in PEP 503 normal form (``Math_Verify`` -> ``math-verify``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a lock or constraints file, by normalised name (hash lines are skipped)."""
    pins = {}
    for line in path.read_text().splitlines():
        if m := re.match(r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)", line):
            pins[norm_name(m[1])] = m[2]
    return pins


def summary(checks: list[tuple[str, bool, str]]) -> dict[str, Any]:
    """The doctor's checks as a JSON-ready mapping (name -> ok, detail) with an overall ok."""
    return {
        "ok": all(ok for _, ok, _ in checks),
        "checks": [{"name": n, "ok": ok, "detail": d} for n, ok, d in checks],
    }
