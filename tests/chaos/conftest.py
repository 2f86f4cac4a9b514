"""The chaos suite: concurrent processes, SIGKILL at seeded points, damaged state files, a read-only runs dir,
a full disk. Every test asserts the documented exit code, a one-line message, no traceback, and that the
records that exist afterwards are complete and equal to an undisturbed run's.

Shared here: a small eval (the tiny model, one task, two problems), an undisturbed run of it, a small
experiment spec, and the checks.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from harness.records.store import iter_samples, read_run
from tests.helpers.cli import ROOT, statbench

TASK = "statbench_gsm8k"


def eval_args(model: Path, seed: int = 0, task: str = TASK) -> list[str]:
    return [
        "eval",
        "--model",
        str(model),
        "--tasks",
        task,
        "--limit",
        "2",
        "--max-gen-toks",
        "8",
        "--seed",
        str(seed),
    ]


# A six-stage experiment (skillmap, Stage 1 on val and test, difficulty, one eval, board) that runs in
# seconds. ``{model}``: a student path, or the workdir-built tiny student.
EXPERIMENT = """
name: chaos
student: {{model: "{model}", build_tiny_seed: {build}}}
teacher: {{kind: oracle}}
data: {{pool_limit: 40, val_limit: 4, test_limit: 4}}
difficulty: {{method: checker, max_gen_toks: 8}}
methods: [base]
post_training: [none]
hparams: {{preset: cpu-tiny}}
eval: {{suite: null, tasks: [statbench_gsm8k], limit: 2, max_gen_toks: 8}}
"""


def experiment(path: Path, model: Path | None = None) -> Path:
    """Write the chaos experiment spec; ``model``: a prebuilt student (else built in the workdir)."""
    text = (
        EXPERIMENT.format(model=model, build="null")
        if model
        else EXPERIMENT.format(model="{workdir}/models/student", build=0)
    )
    path.write_text(text)
    return path


def popen(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``python -m harness ARGS`` in a fresh interpreter, output to ``log`` (an unread pipe could block it)."""
    fh = log.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", *map(str, args)],
        cwd=ROOT,
        stdout=fh,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    fh.close()
    return proc


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "error:" in line]


def assert_one_line_error(r: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """Exit ``code``, exactly one ``error:`` line on stderr containing every needle, no traceback."""
    out = f"exit {r.returncode}\nstdout:\n{r.stdout[-2000:]}\nstderr:\n{r.stderr[-3000:]}"
    assert r.returncode == code, out
    assert "Traceback" not in r.stderr + r.stdout, out
    lines = error_lines(r.stderr)
    assert len(lines) == 1, out
    for n in needles:
        assert n.lower() in lines[0].lower(), out
    return lines[0]


def run_dirs(runs: Path) -> list[Path]:
    """The run records in a runs dir (no temp folders)."""
    return (
        sorted(p for p in runs.iterdir() if p.is_dir() and not p.name.startswith("."))
        if runs.is_dir()
        else []
    )


def record_content(run: Path) -> dict:
    """What must be equal between two runs of one spec: results, the spec and every sample row."""
    rec = read_run(run)  # a complete, readable record
    spec = json.loads((run / "spec.json").read_text())
    return {
        "spec_hash": spec["spec_hash"],
        "results": json.loads((run / "results.json").read_text()),
        "samples": {t: [r.model_dump() for r in iter_samples(run, t)] for t in rec.results},
    }


def assert_no_temp(folder: Path) -> None:
    left = [p.name for p in folder.rglob(".tmp-*")] if folder.is_dir() else []
    assert not left, f"temp folders left behind: {left}"


@pytest.fixture(scope="session")
def clean_run(tiny_model, tmp_path_factory):
    """An undisturbed eval (seed 0): its runs dir and its record's content."""
    runs = tmp_path_factory.mktemp("clean-runs")
    r = statbench(*eval_args(tiny_model), "--runs-dir", runs)
    assert r.returncode == 0, r.stderr
    [run] = run_dirs(runs)
    return runs, record_content(run)


@pytest.fixture
def tmpfs(tmp_path):
    """A factory: ``tmpfs(size)`` mounts a tmpfs of that size (e.g. "4m") and returns its folder; skipped
    where mounting is not permitted. Unmounted afterwards."""
    mounted: list[Path] = []

    def make(size: str) -> Path:
        d = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
        d.mkdir()
        r = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(d)], capture_output=True
        )
        if r.returncode != 0:
            pytest.skip(
                f"cannot mount a tmpfs here ({r.stderr.decode().strip() or r.returncode}); needs root"
            )
        mounted.append(d)
        return d

    yield make
    for d in reversed(mounted):
        subprocess.run(["mount", "-o", "remount,rw", str(d)], capture_output=True)
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the filesystem that holds ``folder`` to the last byte (files ``filler``, ``filler2``), then free
    ``leave`` bytes again."""
    for name, block in (("filler", 1 << 16), ("filler2", 512)):
        with contextlib.suppress(OSError), (folder / name).open("wb", buffering=0) as fh:
            while True:
                fh.write(b"\0" * block)
    if leave:
        size = (folder / "filler").stat().st_size
        os.truncate(folder / "filler", max(0, size - leave))


def copy_runs(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def pipeline_content(wd: Path) -> dict:
    """A workdir's stage records (without timings and paths) and its run records."""
    stages = {}
    for d in (wd / "stages").iterdir():
        assert not d.name.startswith("."), f"temp folder left: {d}"
        rec = json.loads((d / "done.json").read_text())
        stages[rec["stage"]] = (
            rec["hash"],
            {k: v for k, v in rec["summary"].items() if k not in ("run", "board")},
        )
    runs = {}  # by task set: a spec names files inside the workdir (MATH^D ids), so its hash differs
    for r in run_dirs(wd / "runs"):
        c = record_content(r)
        c.pop("spec_hash")
        assert runs.setdefault(tuple(sorted(c["results"])), c) == c
    return {"stages": stages, "runs": runs}


@pytest.fixture(scope="session")
def clean_pipeline(tiny_model, tmp_path_factory):
    d = tmp_path_factory.mktemp("clean-pipeline")
    spec = experiment(d / "chaos.yaml", tiny_model)
    r = statbench("run", spec, "--workdir", d / "wd")
    assert r.returncode == 0, r.stderr
    return spec, pipeline_content(d / "wd")
