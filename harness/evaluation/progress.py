"""Generation progress: requests done / total, tokens per second, ETA (no lm_eval or torch import).

``StatbenchLM`` calls ``progress(totals)`` once with the number of requests per task (cache hits
included) and then ``advance(task, n, stats)`` as requests finish; ``stats`` is a ``GenStats``. The CLI
renders it as bars on a terminal and as periodic ``format_line`` log lines otherwise (``log_lines``: every
10 % and at least every 30 s, ``STATBENCH_PROGRESS_EVERY`` seconds).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Advance = Callable[[str, int, "GenStats"], None]
ProgressFactory = Callable[[dict[str, int]], Advance]


@dataclass
class GenStats:
    """Running totals of one generation pass."""

    total: int
    cached: int = 0
    done: int = 0  # generated in this pass
    failed: int = 0
    tokens: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> int:
        """Requests settled so far: from the cache, generated, or failed."""
        return self.cached + self.done + self.failed

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the rate of this pass so far; None before the first generation."""
        settled = self.done + self.failed
        left = self.total - self.finished
        if not settled:
            return None if left else 0.0
        return left * self.elapsed / settled


def _clock(s: float | None) -> str:
    if s is None:
        return "?"
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def format_line(stats: GenStats) -> str:
    """One plain log line, e.g. ``generation 812/2000 (40.6%), 1234 tok/s, ETA 0:01:10, 2 failed``."""
    pct = 100.0 * stats.finished / stats.total if stats.total else 100.0
    line = (
        f"generation {stats.finished}/{stats.total} ({pct:.1f}%), {stats.tokens_per_s:,.0f} tok/s, "
        f"ETA {_clock(stats.eta_s)}"
    )
    return line + (f", {stats.failed} failed" if stats.failed else "")


EVERY_ENV = "STATBENCH_PROGRESS_EVERY"  # seconds between plain progress lines (default 30; tests use 0)


def every_s_default() -> float:
    """Seconds between plain progress lines: ``$STATBENCH_PROGRESS_EVERY`` (0: a line per update), else 30."""
    import os

    try:
        return max(0.0, float(os.environ.get(EVERY_ENV, "30")))
    except ValueError:
        return 30.0


class PlainProgress:
    """Progress as plain log lines, for stderr that is not a terminal (CI, batch jobs): a ``format_line``
    when another ``every_pct`` percent of the requests are settled, at least every ``every_s`` seconds
    (``$STATBENCH_PROGRESS_EVERY``, default 30) while work goes on, even when no request finishes in that
    time (a heartbeat thread, while the ``with`` block runs), and once at the end. A long eval is never
    silent, and the log stays short.

    ``factory`` is the ``ProgressFactory`` to hand to ``StatbenchLM``/``run_eval``.
    """

    def __init__(self, log: Callable[[str], None], every_s: float | None = None, every_pct: float = 10.0):
        self.log, self.every_pct = log, every_pct
        self.every_s = every_s_default() if every_s is None else every_s
        self.stats: GenStats | None = None
        self.last_t, self.last_step = time.monotonic(), -1.0
        self._ended: GenStats | None = None  # the stats whose final line is logged (once, not per request)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def factory(self, totals: dict[str, int]) -> Advance:
        return self.advance

    def advance(self, task: str, n: int, stats: GenStats) -> None:
        with self._lock:
            self.stats = stats
            pct = 100.0 * stats.finished / stats.total if stats.total else 100.0
            step = pct // self.every_pct if self.every_pct > 0 else -1.0
            now = time.monotonic()
            end = stats.finished >= stats.total
            if end and self._ended is stats:  # a batch settles many requests at once: one final line
                return
            if end or now - self.last_t >= self.every_s or step > self.last_step:
                self.last_t, self.last_step = now, step
                self._ended = stats if end else None
                self.log(format_line(stats))

    def _beat(self) -> None:
        while not self._stop.wait(max(0.05, min(self.every_s, 1.0))):
            with self._lock:
                st = self.stats
                if st is None or st.finished >= st.total or time.monotonic() - self.last_t < self.every_s:
                    continue
                self.last_t = time.monotonic()
                self.log(format_line(st))

    def __enter__(self) -> PlainProgress:
        if self.every_s > 0:
            self._thread = threading.Thread(target=self._beat, name="statbench-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def log_lines(
    log: Callable[[str], None], every_s: float | None = None, every_pct: float = 10.0
) -> ProgressFactory:
    """A progress factory writing ``PlainProgress`` lines (without the heartbeat thread)."""
    return PlainProgress(log, every_s, every_pct).factory
