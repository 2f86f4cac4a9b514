"""The real entry point: ``python -m harness`` in a fresh interpreter (everything else calls the CLI in-process)."""

from __future__ import annotations

from tests.helpers.cli import statbench_process


def test_help_and_a_usage_error_exit_0_and_2(tmp_path):
    assert statbench_process("--help").returncode == 0
    r = statbench_process(
        "eval", "--model", tmp_path / "nope", "--tasks", "statbench_gsm8k", "--runs-dir", tmp_path / "r"
    )
    assert r.returncode == 2 and "model path does not exist" in r.stderr and "Traceback" not in r.stderr
    assert [ln for ln in r.stderr.splitlines() if ln.strip()][-1].startswith("statbench: error: ")
