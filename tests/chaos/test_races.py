"""The races themselves, made to happen on purpose: another process takes a run id or commits a stage
between our check and our rename; a lock held by another process; temp folders of live, dead and foreign
processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness.core import state
from harness.core.errors import BusyError
from harness.core.pipeline import Pipeline, Stage
from harness.records import store
from harness.records.store import iter_samples, read_run, write_run
from tests.chaos.conftest import assert_no_temp, record_content, run_dirs


def test_write_run_when_another_process_takes_the_id_first(clean_run, tmp_path, monkeypatch):
    src = run_dirs(clean_run[0])[0]
    rec = read_run(src)
    runs = tmp_path / "runs"
    real_rename = os.rename

    raced: list[str] = []

    def rename(a, b):  # another process's identical record lands between our exists() and our rename, once
        if not raced and not os.path.exists(b):
            raced.append(b)
            os.mkdir(b)
            (store.Path(b) / "spec.json").write_text((src / "spec.json").read_text())
        return real_rename(a, b)

    monkeypatch.setattr(store.os, "rename", rename)
    final = write_run(
        runs, "the-id", rec.spec, rec.results, rec.provenance, {t: iter_samples(src, t) for t in rec.results}
    )
    assert final.name == "the-id-2" and record_content(final) == clean_run[1]  # no OSError, nothing lost
    assert (runs / "the-id" / "spec.json").is_file()
    assert_no_temp(runs)


def test_stage_committed_by_another_process_meanwhile(tmp_path, monkeypatch):
    from harness.core import pipeline

    def fn(ctx):
        (ctx.out / "x.txt").write_text("ours")
        return {"n": 1}

    real_rename = os.rename
    logs: list[str] = []

    def rename(a, b):  # an --only job of the same stage commits between our two renames
        if ".tmp-" in str(a) and not os.path.exists(b) and not logs:
            os.mkdir(b)
            (pipeline.Path(b) / "x.txt").write_text("theirs")
            (pipeline.Path(b) / "done.json").write_text("{}")
        return real_rename(a, b)

    monkeypatch.setattr(pipeline.os, "rename", rename)
    pipe = Pipeline([Stage("a", "test", {}, [], fn)], tmp_path)
    pipe.run(log=logs.append)
    out = pipe.out_dir(pipe.stages["a"])
    assert (out / "x.txt").read_text() == "theirs"  # kept: as complete as ours; no OSError
    assert any("committed by another process meanwhile" in m for m in logs)
    assert not [p for p in (tmp_path / "stages").iterdir() if p.name.startswith(".")]


def test_stale_temp_folders_only_of_dead_processes_of_this_host_are_removed(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    host = state.owner_tag().split("@", 1)[1]
    names = {
        "dead": f".tmp-run-{dead.stdout.strip()}@{host}",
        "alive": f".tmp-run-{os.getpid()}@{host}",
        "foreign": f".tmp-run-{dead.stdout.strip()}@another-host",
        "old-style": ".tmp-run-12345",
    }
    for n in names.values():
        (tmp_path / n).mkdir()
        (tmp_path / n / "f").write_text("x")
    removed = state.remove_stale(tmp_path, (".tmp-",))
    assert [p.name for p in removed] == [names["dead"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(v for k, v in names.items() if k != "dead")


HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, f"{os.getpid()} somehost\\n".encode())
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_busy_lock_names_its_holder_and_wait_waits(tmp_path):
    lock = tmp_path / "wd" / ".statbench.lock"
    lock.parent.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with (
            pytest.raises(BusyError, match=rf"pid {holder.pid}\).*--wait"),
            state.file_lock(lock, wait=False),
        ):
            pass
        seen: list[int | None] = []

        def release(pid):  # called once, before waiting: let the holder go
            seen.append(pid)
            holder.stdin.close()

        with state.file_lock(lock, wait=True, on_wait=release):
            assert lock.read_text().split()[0] == str(os.getpid())
        assert seen == [holder.pid]
    finally:
        holder.kill()
        holder.wait()
