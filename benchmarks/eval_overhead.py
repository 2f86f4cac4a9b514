"""Wall time of `statbench eval` vs plain `lm_eval` on the same tiny model and tasks, in one run.

    .venv/bin/python benchmarks/eval_overhead.py [--limit 40] [--max-gen-toks 32] [--repeat 2]

Both are run as fresh subprocesses (imports included) on the hf backend, CPU, same tasks, same
stat-paper task configs, same batch size and generation budget, with the chat template. Prints each wall
time (best of --repeat), the ratio statbench/lm_eval (target <= 1.1), and the time of an identical
statbench rerun (index hit, zero generations) and of a --force rerun served entirely from the cache.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TASKS = "statbench_gsm8k,statbench_math500"


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PATH": str(BIN) + ":/usr/bin:/bin"},
    )
    if r.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--max-gen-toks", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="statbench-bench-"))
    try:
        model = work / "tiny"
        subprocess.run(
            [str(BIN / "statbench"), "make-tiny-model", str(model)], check=True, capture_output=True
        )
        lm_eval_cmd = [
            str(BIN / "lm_eval"),
            "run",
            "--model",
            "hf",
            "--model_args",
            f"pretrained={model},dtype=float32",
            "--include_path",
            str(ROOT / "tasks"),
            "--tasks",
            TASKS,
            "--limit",
            str(a.limit),
            "--batch_size",
            str(a.batch_size),
            "--gen_kwargs",
            f"max_gen_toks={a.max_gen_toks}",
            "--apply_chat_template",
            "--device",
            "cpu",
            "--output_path",
            str(work / "lm_eval_out"),
            "--log_samples",
        ]

        def ours(runs, *extra):
            return [
                str(BIN / "statbench"),
                "eval",
                "--model",
                str(model),
                "--tasks",
                TASKS,
                "--limit",
                str(a.limit),
                "--batch-size",
                str(a.batch_size),
                "--max-gen-toks",
                str(a.max_gen_toks),
                "--runs-dir",
                str(runs),
                *extra,
            ]

        t_lm, t_sb = [], []
        for i in range(a.repeat):  # interleaved, so machine noise hits both alike
            t_lm.append(timed(lm_eval_cmd))
            t_sb.append(timed(ours(work / f"runs{i}")))
        rerun = timed(ours(work / "runs0"))
        forced = timed(ours(work / "runs0", "--force"))
        lm, sb = min(t_lm), min(t_sb)
        print(
            f"tiny model, {TASKS}, limit {a.limit}, {a.max_gen_toks} new tokens, batch {a.batch_size}, best of {a.repeat}"
        )
        print(
            f"plain lm_eval (hf backend)           : {lm:6.1f}s   runs {', '.join(f'{t:.1f}' for t in t_lm)}"
        )
        print(
            f"statbench eval (cold cache)          : {sb:6.1f}s   runs {', '.join(f'{t:.1f}' for t in t_sb)}"
        )
        print(f"ratio statbench / lm_eval            : {sb / lm:6.2f}x  (target <= 1.1)")
        print(
            f"statbench identical rerun            : {rerun:6.2f}s  (run found in the index, zero generations)"
        )
        print(f"statbench --force rerun (all cached) : {forced:6.1f}s  (new run record, zero generations)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
