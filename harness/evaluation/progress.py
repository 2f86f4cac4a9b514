"""Generation progress: requests done / total, tokens per second, ETA (no lm_eval or torch import).

``StatbenchLM`` calls ``progress(totals)`` once with the number of requests per task (cache hits
included) and then ``advance(task, n, stats)`` as requests finish; ``stats`` is a ``GenStats``. The CLI
renders it as bars on a terminal and as periodic ``format_line`` log lines otherwise.
"""

from __future__ import annotations

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


def log_lines(log: Callable[[str], None], every_s: float = 10.0) -> ProgressFactory:
    """A progress factory that writes ``format_line`` through ``log`` at most every ``every_s`` seconds
    (and once at the end): for stderr that is not a terminal (CI, batch jobs)."""

    def factory(totals: dict[str, int]) -> Advance:
        last = [0.0]

        def advance(task: str, n: int, stats: GenStats) -> None:
            now = time.monotonic()
            if now - last[0] >= every_s or stats.finished >= stats.total:
                last[0] = now
                log(format_line(stats))

        return advance

    return factory
