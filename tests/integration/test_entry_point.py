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


def test_ctrl_c_during_an_eval_exits_130_with_one_line_and_keeps_the_generations(tmp_path):
    """SIGINT to a real ``statbench eval`` (as Ctrl-C sends it): exit 130, one line saying what was kept, no
    traceback; the generations committed before it are in the cache."""
    import signal
    import sqlite3
    import subprocess
    import sys

    from harness.evaluation.tinymodel import build_tiny_model
    from tests.helpers.cli import ROOT

    model = build_tiny_model(tmp_path / "tiny", seed=0)
    p = subprocess.Popen(
        [sys.executable, "-m", "harness", "eval", "--model", str(model), "--tasks", "statbench_gsm8k",
         "--limit", "40", "--max-gen-toks", "64", "--batch-size", "4", "--runs-dir", str(tmp_path / "runs")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**__import__("os").environ, "STATBENCH_PROGRESS_EVERY": "0"},
    )  # fmt: skip
    seen = []
    for line in p.stderr:  # the first progress line: some generations are committed
        seen.append(line)
        if line.startswith("generation "):
            break
    p.send_signal(signal.SIGINT)
    _, rest = p.communicate(timeout=300)
    stderr = "".join(seen) + rest
    assert p.returncode == 130, stderr
    assert "Traceback" not in stderr
    last = [ln for ln in stderr.splitlines() if ln.strip()][-1]
    assert last.startswith("statbench: interrupted:") and "rerun" in last
    with sqlite3.connect(tmp_path / "runs" / ".cache" / "generations.sqlite") as db:
        (n,) = db.execute("select count(*) from generations").fetchone()
    assert n >= 4
