"""The GPU image without an engine: lint, structure, pins (lock vs pyproject vs CI), and the CLI's errors."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from harness.executors import containers
from tests.helpers.cli import statbench

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "containers" / "Dockerfile"


@pytest.fixture(scope="module")
def parsed():
    return DockerfileParser(path=str(DOCKERFILE))


def _instructions(parsed, name):
    return [i["value"] for i in parsed.structure if i["instruction"] == name]


def test_hadolint_is_clean():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    r = subprocess.run(
        [hadolint, "--config", str(ROOT / "containers" / ".hadolint.yaml"), str(DOCKERFILE)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_base_is_pinned_by_digest_and_every_stage_builds_on_it(parsed):
    base = containers.base_image(DOCKERFILE)
    assert re.fullmatch(r"nvidia/cuda:[\w.\-]+@sha256:[0-9a-f]{64}", base), base
    froms = _instructions(parsed, "FROM")
    assert froms[0] == "${CUDA_BASE} AS base"
    assert [f.split()[0] for f in froms[1:]] == ["base", "base"]
    assert {f.split()[-1] for f in froms} == {"base", "eval", "train"}


def test_python_packages_come_only_from_the_hash_locked_file(parsed):
    pip = [r for r in _instructions(parsed, "RUN") if "pip" in r]
    assert len(pip) == 1 and "--require-hashes" in pip[0] and "--no-deps" in pip[0]
    assert re.search(r"-r /tmp/requirements-gpu\.lock\s*$", pip[0])
    assert "containers/requirements-gpu.lock /tmp/requirements-gpu.lock" in _instructions(parsed, "COPY")
    assert not any(re.search(r"\b(uv|conda|easy_install)\b", r) for r in _instructions(parsed, "RUN"))


def test_entrypoint_user_and_labels(parsed):
    assert _instructions(parsed, "ENTRYPOINT") == ['["statbench"]'] and _instructions(parsed, "CMD") == [
        '["doctor"]'
    ]
    users = _instructions(parsed, "USER")
    assert users and not users[-1].startswith(("0", "root"))
    label_text = " ".join(_instructions(parsed, "LABEL"))
    for key in (
        'org.opencontainers.image.revision="${GIT_SHA}"',
        'io.statbench.lock-sha256="${LOCK_SHA256}"',
        "org.opencontainers.image.version",
        "org.opencontainers.image.source",
        "org.opencontainers.image.licenses",
    ):
        assert key in label_text, key
    env_text = " ".join(_instructions(parsed, "ENV"))
    assert "STATBENCH_LOCK_SHA256=${LOCK_SHA256}" in env_text and "STATBENCH_GIT_SHA=${GIT_SHA}" in env_text


def test_build_command_labels_the_image_with_git_sha_and_lock_hash():
    cmd = containers.build_command("train", ["statbench-train:0.1.0", "statbench-train:latest"])
    assert cmd[:3] == ["docker", "buildx", "build"] and cmd[cmd.index("--target") + 1] == "train"
    assert cmd.count("--tag") == 2 and "--load" in cmd
    args = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--build-arg"]
    assert f"LOCK_SHA256={containers.lock_sha256()}" in args
    assert any(a.startswith("GIT_SHA=") for a in args)


def test_gpu_lock_is_generated_from_the_current_pyproject():
    r = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "lock_gpu.py"), "--check"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    text = (ROOT / "containers" / "requirements-gpu.lock").read_text()
    entries = re.findall(r"^[A-Za-z0-9_.\-]+==\S+ \\\n    --hash=sha256:[0-9a-f]{64}$", text, re.M)
    assert (
        len(entries) == len(containers.read_pins(ROOT / "containers" / "requirements-gpu.lock")) > 100
    )  # every pin hash-locked


def test_gpu_image_and_ci_share_every_common_pin():
    """The one sanctioned difference: CI's torch is the CPU wheel of the same version (+cpu local label)."""
    cpu, gpu = (
        containers.read_pins(ROOT / "constraints.txt"),
        containers.read_pins(ROOT / "containers" / "requirements-gpu.lock"),
    )
    common = set(cpu) & set(gpu)
    assert {"torch", "transformers", "trl", "lm-eval", "math-verify", "numpy", "peft", "accelerate"} <= common
    drift = {n: (cpu[n], gpu[n]) for n in common if cpu[n].split("+")[0] != gpu[n].split("+")[0]}
    assert not drift, drift


def test_pin_check_sees_a_changed_pyproject(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import lock_gpu
    finally:
        sys.path.pop(0)
    fake = tmp_path / "pyproject.toml"
    fake.write_text((ROOT / "pyproject.toml").read_text().replace('"trl==', '"trl==9', 1))
    monkeypatch.setattr(lock_gpu, "ROOT", tmp_path)
    assert lock_gpu.pins_hash() != lock_gpu.lock_header_hash(
        (ROOT / "containers" / "requirements-gpu.lock").read_text()
    )


@pytest.mark.parametrize("args", [["containers", "build"], ["containers", "ls"]])
def test_containers_commands_fail_in_one_sentence_without_an_engine(args):
    if containers.engine_error(need_buildx=False) is None:
        pytest.skip("a Docker engine is reachable here")
    r = statbench(*args)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr + r.stdout
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert (
        len(lines) == 1 and lines[0].startswith("statbench: error: cannot ") and "docker" in lines[0].lower()
    ), r.stderr


def test_build_refuses_the_placeholder_digest(monkeypatch, tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        DOCKERFILE.read_text().replace(
            containers.base_image(DOCKERFILE).split("@")[1], containers.PLACEHOLDER
        )
    )
    monkeypatch.setattr(containers, "DOCKERFILE", dockerfile)
    monkeypatch.setattr(containers, "engine_error", lambda need_buildx=True: None)
    with pytest.raises(containers.ContainerError, match="placeholder digest"):
        containers.build("eval", ["x:y"])


@pytest.mark.parametrize(
    "image_env", [{}, {"STATBENCH_LOCK_SHA256": "x", "STATBENCH_IMAGE_DIGEST": "img@sha256:" + "1" * 64}]
)
def test_doctor_passes_here_against_ci_and_image_locks(image_env):
    """In 'image' mode doctor checks this venv against the GPU lock: CI's installed versions are the image's."""
    import json

    # in the image CUDA is required; this CPU machine has none, so that one check is waived here
    r = statbench("doctor", "--json", *(["--no-require-cuda"] if image_env else []), env=image_env)
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert r.returncode == 0, checks
    pins = checks["pins (image lock)" if image_env else "pins (CPU lock)"]
    assert pins["ok"] and pins["detail"].startswith("all installed versions match")
    assert checks["checker"]["ok"] and "timeout" in checks["checker"]["detail"]
    assert ("image" in checks) == bool(image_env)


def test_doctor_names_a_package_off_the_lock(tmp_path, monkeypatch):
    lock = tmp_path / "requirements-gpu.lock"
    lock.write_text("numpy==0.0.1 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    monkeypatch.setattr(containers, "LOCK", lock)
    name, ok, detail = containers._pins_check("some-image-lock")
    assert not ok and "numpy" in detail and "lock 0.0.1" in detail


class _FakeCuda:
    """torch.cuda as a machine without a usable GPU shows it."""

    def __init__(self, available: bool, count: int) -> None:
        self.available, self.count = available, count

    def is_available(self) -> bool:
        return self.available

    def device_count(self) -> int:
        return self.count


@pytest.mark.parametrize(("available", "count"), [(False, 0), (True, 0)])
def test_doctor_cuda_fails_on_a_cuda_build_without_a_usable_gpu(monkeypatch, available, count):
    import torch

    monkeypatch.setattr(torch, "cuda", _FakeCuda(available, count))
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    name, ok, detail = containers.cuda_check()
    assert (name, ok) == ("cuda", False) and "not available" in detail and "CUDA 12.8 build" in detail


def test_doctor_cuda_on_a_cpu_machine_is_reported_honestly_and_required_on_request():
    import json

    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    name, ok, detail = containers.cuda_check()
    assert ok and detail.startswith("not available") and "not required" in detail
    r = statbench("doctor", "--json", "--require-cuda")
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert (
        r.returncode == 1
        and not checks["cuda"]["ok"]
        and "required by --require-cuda" in checks["cuda"]["detail"]
    )
    image = statbench("doctor", "--json", env={"STATBENCH_LOCK_SHA256": "x"})
    assert image.returncode == 1 and "required by the GPU image" in image.stdout


def test_doctor_cuda_runs_a_kernel_on_every_device():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs CUDA (scripts/gpu_check.sh)")
    name, ok, detail = containers.cuda_check(require=True)
    assert ok and f"{torch.cuda.device_count()} device(s)" in detail
