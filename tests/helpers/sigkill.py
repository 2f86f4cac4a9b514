"""Kill a ``statbench eval`` process with SIGKILL at a seeded random point of its generation.

The kill point is a number of generations committed to the cache; the seed comes from ``STATBENCH_KILL_SEED``
(to replay a failure) or fresh randomness, and is printed. The process kills itself (``STATBENCH_FAULT=
cache:commit:N``, harness/core/faults.py) right after the commit that brings its cache to N generations, so
where it dies depends on the seed only, never on how fast the machine is or how often this process polls: a
loaded machine used to let a run finish between the poll that saw the target and the kill. There is no
wall-clock deadline either: the run is given up only when its cache has not grown for ``stall`` seconds.
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
from dataclasses import dataclass
from pathlib import Path


def generations(db: Path) -> int:
    """Rows in a generation cache file (0 while it does not exist or is being created)."""
    try:
        with contextlib.closing(sqlite3.connect(db)) as con:
            return con.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
    except sqlite3.Error:
        return 0


def kill_point(total: int, label: str) -> tuple[int, int]:
    """A seeded kill target in [2, total // 2] and its seed (printed, replayable via STATBENCH_KILL_SEED)."""
    seed = int(os.environ.get("STATBENCH_KILL_SEED") or random.SystemRandom().randrange(2**32))
    target = random.Random(seed).randint(2, total // 2)
    print(f"\n{label}: kill seed {seed} (STATBENCH_KILL_SEED), kill after >= {target}/{total} cached")
    return seed, target


@dataclass
class Killed:
    """What happened to the killed process."""

    count: int  # generations cached when it was killed (or when it ended)
    returncode: int
    log_tail: str


def run_and_kill(
    args: list[str],
    runs_dir: Path,
    target: int,
    log: Path,
    *,
    cwd: Path | None = None,
    process_group: bool = False,
    stall: float = 900,
    in_process: bool = True,
) -> Killed:
    """Run ``python -m harness ARGS --runs-dir RUNS_DIR``; it SIGKILLs itself once ``target`` generations are
    cached (``in_process=False``: this process sends the SIGKILL when it sees them, for a process that does
    not run statbench's own commit loop).

    ``process_group``: start it in its own session and kill the whole group afterwards (vLLM's engine-core
    child would otherwise be orphaned).
    """
    db = runs_dir / ".cache" / "generations.sqlite"
    count, last_change = 0, time.monotonic()
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "harness", *args, "--runs-dir", str(runs_dir)],
            stdout=fh,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=cwd,
            start_new_session=process_group,
            env={**os.environ, "STATBENCH_FAULT": f"cache:commit:{target}"} if in_process else None,
        )
        try:
            while (
                proc.poll() is None
                and (in_process or count < target)
                and time.monotonic() - last_change < stall
            ):
                now = generations(db) if db.exists() else 0
                if now != count:
                    count, last_change = now, time.monotonic()
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait()
            if process_group:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
    return Killed(max(count, generations(db)), proc.returncode, log.read_text()[-2000:])
