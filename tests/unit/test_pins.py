"""One pin set: pyproject's exact pins, CI's lock (constraints.txt) and the GPU image's lock never drift apart."""

import re
import tomllib
from pathlib import Path

import pytest

from harness.executors.containers import norm_name, read_pins

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "lock, extras", [("constraints.txt", ("dev",)), ("containers/requirements-gpu.lock", ("gpu", "cluster"))]
)
def test_pyproject_pins_are_exact_and_match_the_lock(lock, extras):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = read_pins(ROOT / lock)
    for req in project["dependencies"] + [r for e in extras for r in project["optional-dependencies"][e]]:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]+\])?==([^;\s]+)", req.split("#")[0].strip())
        assert m, f"not an exact pin: {req}"
        assert pins.get(norm_name(m.group(1))) == m.group(3), (
            f"{req} vs {lock} {pins.get(norm_name(m.group(1)))}"
        )


def test_lock_pins_the_cpu_torch_wheel_version():
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text().splitlines()
