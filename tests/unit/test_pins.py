"""One pin set: pyproject's exact pins and the lock (constraints.txt) never drift apart."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_pyproject_pins_are_exact_and_match_the_lock():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            lock[_norm(name)] = version
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    for req in reqs:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]+\])?==([^;\s]+)", req.split("#")[0].strip())
        assert m, f"not an exact pin: {req}"
        assert lock.get(_norm(m.group(1))) == m.group(3), f"{req} vs constraints.txt {lock.get(_norm(m.group(1)))}"
    for extra in ("gpu", "cluster"):
        for req in project["optional-dependencies"][extra]:
            assert "==" in req, f"[{extra}] not an exact pin: {req}"


def test_lock_pins_the_cpu_torch_wheel_version():
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text().splitlines()
