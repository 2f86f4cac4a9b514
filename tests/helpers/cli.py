"""Run the statbench CLI from a test.

``statbench(...)`` runs it in this process through typer's ``CliRunner`` (no interpreter start-up, no
re-imports): what unit and integration tests use. ``statbench_process(...)`` runs it as a user would, a fresh
interpreter running ``python -m harness ARGS``: kept for what only a real process shows (exit status of the
entry point, SIGKILL, a long pipeline isolated from the test process). Both return a
``subprocess.CompletedProcess`` with ``returncode``, ``stdout`` and ``stderr``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What `harness.cli.main` sets before running the app (it is not called in-process).
_MAIN_ENV = {
    "TQDM_DISABLE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def statbench(
    *args,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = ROOT,
    stdin: str | None = None,
) -> subprocess.CompletedProcess:
    """``statbench ARGS`` in-process. An exception the CLI does not turn into an exit code is re-raised.

    ``timeout`` is accepted for symmetry with ``statbench_process`` and ignored (pytest's own limits apply).
    """
    from typer.testing import CliRunner

    from harness.cli import app

    defaults = {k: v for k, v in _MAIN_ENV.items() if k not in os.environ}
    with contextlib.chdir(cwd or os.getcwd()):
        result = CliRunner().invoke(app, [str(a) for a in args], input=stdin, env={**defaults, **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        ["statbench", *map(str, args)], result.exit_code, result.stdout, result.stderr
    )


def statbench_process(
    *args,
    timeout: float = 900,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = ROOT,
    stdin: str | None = None,
) -> subprocess.CompletedProcess:
    """``python -m harness ARGS`` in a fresh interpreter, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "harness", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def assert_one_error(r: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """``r`` exited ``code`` with exactly one ``statbench: error:`` line on stderr (containing every
    ``needle``) and no traceback; returns that line."""
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("statbench: error:")]
    assert r.returncode == code, f"exit {r.returncode}, expected {code}: {r.stderr}"
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
