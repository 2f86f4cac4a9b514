"""Run the statbench CLI as a user would: a fresh interpreter, ``python -m harness ARGS``, output captured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def statbench(*args, timeout: float = 900, env: dict[str, str] | None = None, cwd: Path | str | None = ROOT,
              stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *map(str, args)], input=stdin, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env={**os.environ, **(env or {})})
