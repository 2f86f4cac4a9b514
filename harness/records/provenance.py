"""What produced a result: code, environment, hardware, data and checker identity."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, distributions, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
KEY_PACKAGES = (
    "statbench",
    "lm-eval",
    "math-verify",
    "latex2sympy2_extended",
    "torch",
    "transformers",
    "trl",
    "vllm",
    "datasets",
    "accelerate",
    "peft",
    "tokenizers",
    "safetensors",
)


def package_version(name: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def statbench_version() -> str:
    """The installed version, else pyproject's (the GPU image runs the source tree without installing it)."""
    v = package_version("statbench")
    if v:
        return v
    try:
        m = re.search(r'^version\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    except OSError:
        m = None
    return m.group(1) if m else "0+unknown"


def core_versions() -> dict[str, str]:
    """Versions that define how a score is computed (part of a run's identity)."""
    from harness.scoring import checker_version

    return {
        "statbench": statbench_version(),
        "lm-eval": package_version("lm-eval") or "",
        "checker": checker_version(),
    }


def _in_git_checkout() -> bool:
    return (ROOT / ".git").exists() and shutil.which("git") is not None


def git_sha() -> str | None:
    """The checkout's HEAD; in the image (no .git), the sha it was built from."""
    if not _in_git_checkout():
        return os.environ.get("STATBENCH_GIT_SHA")
    try:
        return (
            subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _git() -> dict[str, Any]:
    sha = git_sha()
    if not _in_git_checkout():
        return {"sha": sha, "dirty": None}
    try:
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return {"sha": sha, "dirty": bool(dirty)}
    except (OSError, subprocess.SubprocessError):
        return {"sha": None, "dirty": None}


def _hardware() -> dict[str, Any]:
    hw: dict[str, Any] = {"cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count()}
    torch = sys.modules.get("torch")
    if torch is not None:
        hw["torch"] = torch.__version__
        hw["cuda"] = torch.version.cuda
        if torch.cuda.is_available():
            hw["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
            ).stdout.strip()
            hw["nvidia_smi"] = out.splitlines()
        except (OSError, subprocess.SubprocessError):
            pass
    return hw


def _container() -> dict[str, Any]:
    return {
        "image_digest": os.environ.get("STATBENCH_IMAGE_DIGEST"),
        "image": os.environ.get("STATBENCH_IMAGE"),
        "lock_sha256": os.environ.get("STATBENCH_LOCK_SHA256"),
        "in_container": Path("/.dockerenv").exists() or bool(os.environ.get("STATBENCH_IMAGE_DIGEST")),
    }


def redact_argv(argv: list[str]) -> list[str]:
    """Command line with secrets replaced by ``***``: the value of a ``...key=VALUE`` / ``--api-key VALUE``
    style option, and URL passwords and secret query parameters anywhere (``harness.core.redact``)."""
    from harness.core.redact import MASK, is_secret_key, redact_text

    out, hide_next = [], False
    for a in argv:
        if hide_next:
            out.append(MASK)
            hide_next = False
            continue
        key = a.split("=", 1)[0].lstrip("-")
        if "=" in a and "://" not in key and is_secret_key(key):
            out.append(a.split("=", 1)[0] + "=" + MASK)
        else:
            out.append(redact_text(a))
            hide_next = a.startswith("--") and "=" not in a and is_secret_key(a.lstrip("-"))
    return out


def collect(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Provenance of the current process (call after the backend is loaded, so torch/CUDA are visible)."""
    from harness.core.tasks import data_hashes

    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git": _git(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {
            **{p: v for p in KEY_PACKAGES if (v := package_version(p))},
            "statbench": statbench_version(),
        },
        "all_packages": sorted(f"{d.metadata['Name']}=={d.version}" for d in distributions()),
        "hardware": _hardware(),
        "container": _container(),
        "data_sha256": data_hashes(),
        "argv": redact_argv(sys.argv),
        **(extra or {}),
    }
