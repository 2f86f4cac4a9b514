"""A pool of killable worker processes with a hard per-item deadline.

math-verify's own timeouts use ``signal.alarm``: they fail off the main thread and cannot interrupt a
long C-level sympy computation (Math-Verify #50, #55, #65). Here every item runs in a worker process;
when an item exceeds its deadline the worker is SIGKILLed and replaced, and the item reports
``timeout``. A worker that crashes reports ``error`` for its item. The pool never blocks longer than
the deadline plus process start-up.

Workers are plain ``python -m harness.scoring.pool`` subprocesses talking over pipes: unlike
``multiprocessing`` start methods they never re-import the caller's ``__main__`` (an unguarded script
calling ``grade()`` just works) and never inherit the parent's threads (torch, tokenizers). A worker
warms the engine before it reports ready, so the deadline measures the item, not the start-up.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

_READY = "ready"


@dataclass
class Outcome:
    """Result of one item: ``status`` is ok | timeout | error."""

    status: str
    value: Any = None
    error: str | None = None


def _load(fn_path: str) -> Callable[..., Any]:
    mod_name, fn_name = fn_path.rsplit(".", 1)
    return getattr(__import__(mod_name, fromlist=[fn_name]), fn_name)


def _serve(rfd: int, wfd: int, fn_path: str, warmup: str | None) -> None:
    inbox, outbox = Connection(rfd, writable=False), Connection(wfd, readable=False)
    fn = _load(fn_path)
    if warmup:
        _load(warmup)()
    outbox.send(_READY)
    while True:
        try:
            msg = inbox.recv()
        except (EOFError, OSError):
            return  # parent went away
        if msg is None:
            return
        try:
            outbox.send(("ok", fn(*msg), None))
        except RecursionError:
            outbox.send(("error", None, "RecursionError"))
        except Exception as e:  # noqa: BLE001 - any engine failure is a per-item error
            outbox.send(("error", None, f"{type(e).__name__}: {str(e)[:200]}"))


class _Worker:
    def __init__(self, fn_path: str, warmup: str | None) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ)
        pkg_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pkg_root, env.get("PYTHONPATH")]))
        argv = [sys.executable, "-m", "harness.scoring.pool", str(to_child_r), str(from_child_w), fn_path]
        quiet = not os.environ.get("STATBENCH_DEBUG")
        self.proc = subprocess.Popen(
            argv + ([warmup] if warmup else []),
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL if quiet else None,
            env=env,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.tx = Connection(to_child_w, readable=False)
        self.conn = Connection(from_child_r, writable=False)
        self.ready = False
        self.item: int | None = None
        self.started = 0.0

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        finally:
            self.tx.close()
            self.conn.close()


class WorkerPool:
    """``map`` a function over argument tuples in worker processes with a per-item timeout."""

    boot_timeout = 120.0  # a worker that cannot import the engine in this long is broken

    def __init__(self, fn_path: str, workers: int, timeout: float, warmup: str | None = None) -> None:
        self.fn_path, self.warmup = fn_path, warmup
        self.n, self.timeout = max(1, workers), timeout
        self._workers: list[_Worker] = []
        self._boot_failures = 0
        atexit.register(self.close)

    def _spawn(self) -> _Worker:
        w = _Worker(self.fn_path, self.warmup)
        w.started = time.monotonic()
        return w

    def _replace(self, w: _Worker) -> _Worker:
        w.kill()
        new = self._spawn()
        self._workers[self._workers.index(w)] = new
        return new

    def map(self, items: Sequence[tuple], progress: Callable[[int], None] | None = None) -> list[Outcome]:
        """Run every item; outcomes come back in input order."""
        out: list[Outcome | None] = [None] * len(items)
        pending = deque(range(len(items)))
        while len(self._workers) < min(self.n, len(items)):
            self._workers.append(self._spawn())
        idle = deque(w for w in self._workers if w.ready)
        waiting: dict[Connection, _Worker] = {w.conn: w for w in self._workers if not w.ready}

        def finish(w: _Worker, outcome: Outcome) -> None:
            out[w.item] = outcome  # type: ignore[index]
            w.item = None
            if progress:
                progress(1)

        while pending or any(w.item is not None for w in waiting.values()):
            while pending and idle:
                w = idle.popleft()
                w.item, w.started = pending.popleft(), time.monotonic()
                try:
                    w.tx.send(items[w.item])
                except (BrokenPipeError, OSError):
                    finish(w, Outcome("error", error="worker pipe closed"))
                    w = self._replace(w)
                waiting[w.conn] = w
            limits = [w.started + (self.timeout if w.ready else self.boot_timeout) for w in waiting.values()]
            for conn in wait(list(waiting), timeout=max(0.0, min(limits) - time.monotonic())):
                w = waiting.pop(conn)
                try:
                    msg = conn.recv()
                except (EOFError, OSError):
                    try:  # the pipe closes a moment before the process is reaped
                        code = w.proc.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        code = None
                    if w.item is not None:
                        finish(w, Outcome("error", error=f"worker died (exit code {code})"))
                    elif not w.ready:
                        self._boot_failed(code)
                    w = self._replace(w)
                    waiting[w.conn] = w
                    continue
                if msg == _READY:
                    w.ready = True
                else:
                    finish(w, Outcome(*msg))
                idle.append(w)
            now = time.monotonic()
            for conn, w in list(waiting.items()):
                limit = self.timeout if w.ready else self.boot_timeout
                if now - w.started < limit:
                    continue
                del waiting[conn]
                if w.item is not None:
                    finish(w, Outcome("timeout", error=f"exceeded {self.timeout:g}s"))
                else:
                    self._boot_failed("boot timeout")
                w = self._replace(w)
                waiting[w.conn] = w
        return [o if o is not None else Outcome("error", error="lost") for o in out]

    def _boot_failed(self, code: Any) -> None:
        self._boot_failures += 1
        if self._boot_failures >= 3:
            raise RuntimeError(
                f"grader worker failed to start ({code}); rerun with STATBENCH_DEBUG=1 to see its stderr"
            )

    def close(self) -> None:
        for w in self._workers:
            try:
                w.tx.send(None)
                w.proc.wait(timeout=2)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                pass
            w.kill()
        self._workers = []


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
