"""A read-only runs dir (an archived baseline in CI) and a full disk, on small tmpfs mounts (skipped where
mounting is not permitted; CI runs as root)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from harness.core.errors import StorageError
from harness.records.store import RunIndex, iter_samples, read_run, write_run
from tests.chaos.conftest import (
    assert_no_temp,
    assert_one_line_error,
    copy_runs,
    eval_args,
    experiment,
    fill,
    pipeline_content,
    record_content,
    run_dirs,
)
from tests.helpers.cli import statbench


def _read_only(folder) -> None:
    r = subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount read-only ({r.stderr.decode().strip()})")


@pytest.mark.parametrize("damaged_index", [False, True])
def test_read_only_runs_dir(tmpfs, clean_run, damaged_index):
    mnt = tmpfs("8m")
    runs = copy_runs(clean_run[0], mnt / "runs")
    if damaged_index:
        (runs / "index.sqlite").write_bytes(b"not an index")
    _read_only(mnt)
    [run] = run_dirs(runs)
    listed = statbench("runs", "list", "--runs-dir", runs)
    assert listed.returncode == 0 and run.name in listed.stdout and "Traceback" not in listed.stderr
    assert ("warning:" in listed.stderr) == damaged_index, listed.stderr
    show = statbench("runs", "show", run.name, "--runs-dir", runs)
    assert show.returncode == 0 and run.name in show.stdout, show.stderr
    gate = statbench("regress", "--baseline", run.name, "--candidate", run.name, "--runs-dir", runs)
    assert gate.returncode == 0 and "Traceback" not in gate.stderr, gate.stderr
    reindex = statbench("runs", "reindex", "--runs-dir", runs)
    assert_one_line_error(reindex, 1, str(runs))  # rebuilding needs a writable folder: one line, exit 1
    assert record_content(run) == clean_run[1]


@pytest.mark.parametrize("room", [0, 16 << 10, 40 << 10])  # fails at the start, in the cache, or later
def test_full_disk_during_eval_keeps_what_was_there(tmpfs, clean_run, tiny_model, room):
    mnt = tmpfs("8m")
    runs = copy_runs(clean_run[0], mnt / "runs")
    [old] = run_dirs(runs)
    fill(mnt, room)
    r = statbench(*eval_args(tiny_model, seed=1), "--runs-dir", runs)  # needs new generations and a record
    if r.returncode == 0 and room:  # room enough for the record, not for the index (a cache): a warning
        assert "Traceback" not in r.stderr and "no space left on device" in r.stderr, r.stderr
        assert "`statbench runs reindex` rebuilds it" in r.stderr
        [new] = [d for d in run_dirs(runs) if d != old]
        record_content(new)  # complete
    else:
        assert_one_line_error(r, 1, "no space left on device")
        assert run_dirs(runs) == [old]  # no partial record
        assert [x["run_id"] for x in RunIndex(runs).runs()] == [old.name]
    assert record_content(old) == clean_run[1]  # nothing previously written lost
    assert_no_temp(runs)


def test_full_disk_in_write_run(tmpfs, clean_run):
    mnt = tmpfs("8m")
    runs = copy_runs(clean_run[0], mnt / "runs")
    [src] = run_dirs(runs)
    rec = read_run(src)
    samples = {t: list(iter_samples(src, t)) for t in rec.results}
    fill(mnt)
    with pytest.raises(StorageError, match="no space left on device"):
        write_run(runs, "new-run", rec.spec, rec.results, rec.provenance, samples)
    assert run_dirs(runs) == [src] and record_content(src) == clean_run[1]
    assert_no_temp(runs)
    (mnt / "filler").unlink()
    assert write_run(runs, "new-run", rec.spec, rec.results, rec.provenance, samples).is_dir()


def test_full_disk_during_the_pipeline(tmpfs, tmp_path, tiny_model, clean_pipeline):
    mnt = tmpfs("16m")
    spec = experiment(tmp_path / "chaos.yaml", tiny_model)  # the student lives outside the small disk
    fill(mnt)
    r = statbench("run", spec, "--workdir", mnt / "wd")
    assert_one_line_error(r, 1, "no space left on device")
    stages = mnt / "wd" / "stages"
    assert all((d / "done.json").is_file() for d in stages.iterdir()) if stages.is_dir() else True
    assert_no_temp(mnt / "wd")
    shutil.rmtree(mnt / "filler", ignore_errors=True)
    (mnt / "filler").unlink(missing_ok=True)
    (mnt / "filler2").unlink(missing_ok=True)
    resumed = statbench("run", spec, "--workdir", mnt / "wd")  # room again: it resumes and completes
    assert resumed.returncode == 0, resumed.stderr
    assert pipeline_content(mnt / "wd") == clean_pipeline[1]
