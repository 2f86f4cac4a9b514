"""`statbench run`: the tiny example end to end on CPU (51 stages), caching and --from, SIGKILL during SFT then
resume. Each run is a real ``python -m harness`` process. Bad inputs and dry runs: tests/integration/test_run_specs.py."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.cli import statbench_process as statbench
from tests.helpers.specs import SFT_SPEC

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    wd = tmp_path_factory.mktemp("tiny")
    r = statbench("run", "examples/tiny.yaml", "--workdir", wd)
    assert r.returncode == 0, r.stderr[-3000:]
    return wd, r


def test_every_method_and_grpo_end_to_end(tiny_run):
    wd, r = tiny_run
    rec = json.loads((wd / "experiment.json").read_text())
    stages = {s["stage"]: s for s in rec["stages"]}
    methods = ["math-train", "math-hard", "math-augment", "embed-sel", "embed-syn", "stat-sel", "stat-syn"]
    for m in methods:
        ds = stages[f"dataset/{m}"]["summary"]
        assert ds["pairs"] > 0 and ds["pairs"] == sum(ds["sources"].values()), (
            m
        )  # the set's size, not a method count
        if m != "math-train":  # tiny.yaml allows a short arm and records by how much
            assert ds["budget"] == 48 and ds["budget_shortfall"] == max(0, 48 - ds["pairs"]), m
        assert stages[f"sft/{m}/lr0.001/s0"]["summary"]["steps"] == 4
    for m in ["base", *methods]:
        assert stages[f"grpo/{m}/s0"]["summary"]["steps"] == 2
        assert f"eval/{m}/sft/s0" in stages and f"eval/{m}/grpo/s0" in stages
    assert stages["grpo/base/s0"]["summary"]["no_signal"] is True  # the random tiny model never answers right
    assert stages["difficulty"]["summary"]["test"]["difficult"] == 24
    assert stages["msp"]["summary"]["with_skills"] == 12
    assert "picks_by_skill" in stages["dataset/stat-sel"]["summary"]
    assert list((wd / "stages").glob("msp-*/msp.svg"))
    board = (wd / "board" / "README.md").read_text()
    assert "MATH^D (n=6" in board and "| STAT-Syn |" in board and "Base Model (GRPO only)" in board
    assert "| **SFT+GRPO** |" in board
    table = board.split("## Per-skill")[0]
    rows = [
        ln for ln in table.splitlines() if ln.startswith("| ") and "**" not in ln and not ln.startswith("| |")
    ]
    assert len(rows) == 16 and all("—" not in ln for ln in rows)  # every arm has every column: no gaps
    assert "| MATH-4k" in r.stdout  # the CLI prints the board


def _done(wd: Path) -> dict[str, tuple[int, int]]:
    """Stage name -> (inode, mtime) of its done.json. A stage that runs again gets a new directory, so a new pair."""
    out = {}
    for f in (wd / "stages").glob("*/done.json"):
        if f.parent.name.startswith("."):  # .tmp-*/.old-*: a stage being written or replaced
            continue
        try:
            st = f.stat()
            out[json.loads(f.read_text())["stage"]] = (st.st_ino, st.st_mtime_ns)
        except (OSError, ValueError):  # renamed away while a run is going on (the SIGKILL test polls)
            continue
    return out


def test_rerun_is_all_cached_and_from_reruns_downstream_only(tiny_run):
    wd, _ = tiny_run
    before = _done(wd)
    assert len(before) == 51
    again = statbench("run", "examples/tiny.yaml", "--workdir", wd)
    assert again.returncode == 0, again.stderr[-2000:]
    assert _done(wd) == before  # every stage cached: nothing rewritten
    part = statbench("run", "examples/tiny.yaml", "--workdir", wd, "--from", "sft/stat-sel")
    assert part.returncode == 0, part.stderr[-2000:]
    after = _done(wd)
    assert set(after) == set(before)
    assert sorted(n for n in after if after[n] != before[n]) == [
        "board",
        "eval/stat-sel/grpo/s0",
        "eval/stat-sel/sft/s0",
        "grpo/stat-sel/s0",
        "sft/stat-sel/lr0.001/s0",
        "sft/stat-sel/s0",
    ]


def test_dry_run_prints_plan_hashes_and_estimate(tiny_run):
    wd, _ = tiny_run
    r = statbench("run", "examples/tiny.yaml", "--workdir", wd, "--dry-run")
    assert r.returncode == 0 and "compute estimate:" in r.stdout
    assert len(re.findall(r"\s(done)(\s|$)", r.stdout, flags=re.M)) == 51  # everything already computed


def test_sigkill_during_sft_then_resume(tmp_path):
    spec = tmp_path / "kill.yaml"
    spec.write_text(SFT_SPEC.format())
    wd = tmp_path / "wd"
    # No wall-clock deadline (a loaded machine is slow, not stuck): poll for progress, give up only after STALL
    # seconds without a new checkpoint or stage. Output goes to a file: an unread pipe can fill and block the run.
    stall, seen, last_change, killed = 900, -1, time.monotonic(), False
    with (tmp_path / "run.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "harness", "run", str(spec), "--workdir", str(wd)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            while proc.poll() is None and time.monotonic() - last_change < stall:
                ckpts = (
                    list((wd / "work").glob("sft--math-train--*/checkpoint-*"))
                    if (wd / "work").is_dir()
                    else []
                )
                step = max((int(c.name.split("-")[1]) for c in ckpts), default=0)
                if step >= 6:
                    proc.send_signal(signal.SIGKILL)
                    killed = True
                    break
                progress = step + len(_done(wd)) if (wd / "stages").is_dir() else step
                if progress != seen:
                    seen, last_change = progress, time.monotonic()
                time.sleep(0.05)
        finally:
            if proc.poll() is None and not killed:
                proc.kill()
            proc.wait()
    log_tail = (tmp_path / "run.log").read_text()[-3000:]
    assert killed and proc.returncode == -signal.SIGKILL, (
        f"SFT finished, or stalled, before it could be killed: {log_tail}"
    )
    assert not list((wd / "stages").glob("sft--math-train--lr*")), "a killed stage must not look complete"
    before = _done(wd)
    r = statbench("run", spec, "--workdir", wd)
    assert r.returncode == 0, r.stderr[-3000:]
    after = _done(wd)
    for done in ("skillmap", "student/val", "student/test", "difficulty", "dataset/math-train"):
        assert after[done] == before[done], f"{done} ran again"
    rec = json.loads((wd / "experiment.json").read_text())
    sft = next(s for s in rec["stages"] if s["stage"].startswith("sft/math-train/lr"))
    assert sft["summary"]["steps"] == 60 and sft["summary"]["resumed_from"]
