"""Helpers shared by the CLI modules: the stderr console, one-line failures, KEY=VALUE parsing, tables."""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from harness.records.models import TaskResult

err = Console(stderr=True, soft_wrap=True)  # error lines stay whole (file:line: message)


def progress_bar(total: int, desc: str):
    """Progress on stderr; returns (context manager, advance callback). A rich bar on a terminal; otherwise
    plain lines (``grading 400/1000 (40.0%), 52.1/s, ETA 0:00:11``) every 10 % and at least every
    ``$STATBENCH_PROGRESS_EVERY`` seconds (default 30), so CI logs show that work goes on."""
    if not err.is_terminal:
        bar = _PlainBar(total, desc)
        return bar, bar.advance
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    prog = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = prog.add_task(desc, total=total)
    return prog, lambda n=1: prog.advance(task, n)


class _PlainBar:
    """``progress_bar`` off a terminal: counted items as periodic plain log lines."""

    def __init__(self, total: int, desc: str) -> None:
        import time

        from harness.evaluation.progress import every_s_default

        self.total, self.desc, self.done = total, desc, 0
        self.every_s, self.clock = every_s_default(), time.monotonic
        self.t0 = self.last_t = self.clock()
        self.last_step = 0

    def __enter__(self) -> _PlainBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        from harness.evaluation.progress import _clock

        self.done += n
        now = self.clock()
        step = 10 * self.done // self.total if self.total else 10
        if self.done >= self.total or step > self.last_step or now - self.last_t >= self.every_s:
            self.last_t, self.last_step = now, step
            rate = self.done / (now - self.t0) if now > self.t0 else 0.0
            eta = (self.total - self.done) / rate if rate > 0 else None
            pct = 100.0 * self.done / self.total if self.total else 100.0
            err.print(
                f"{self.desc} {self.done}/{self.total} ({pct:.1f}%), {rate:,.1f}/s, ETA {_clock(eta)}",
                highlight=False,
                markup=False,
            )


DEBUG_HINT = "run with STATBENCH_DEBUG=1 for the traceback"
INTERRUPTED = (
    "statbench: interrupted: finished generations are cached and completed stages are kept; "
    "rerun the same command to resume"
)


def debug() -> bool:
    """Whether ``STATBENCH_DEBUG`` asks for tracebacks instead of one-line errors."""
    return os.environ.get("STATBENCH_DEBUG", "") not in ("", "0")


def one_line(message: object) -> str:
    """``message`` as a single line (newlines folded into spaces), secrets in URLs redacted."""
    from harness.core.redact import redact_text

    return redact_text(" ".join(str(message).split()))


def error_line(message: object, prefix: str = "statbench: error:") -> None:
    """Print ``<prefix> <message>`` as exactly one line on stderr (no markup, no wrapping)."""
    from rich.text import Text

    err.print(Text.assemble((prefix, "red"), " ", one_line(message)), highlight=False, soft_wrap=True)


def fail(e: Exception | str, code: int = 2) -> None:
    """Print ``e`` as one ``statbench: error:`` line on stderr and exit with ``code`` (re-raise under
    ``STATBENCH_DEBUG``)."""
    if debug() and isinstance(e, Exception):
        raise e
    error_line(e)
    raise typer.Exit(code)


def handle_error(e: BaseException) -> int:
    """The one place an exception becomes what a user sees: a single stderr line and an exit code
    (``docs/exit-codes.md``). ``StatbenchError``: its message and ``exit_code``; ``OSError`` (a full disk, a
    path that cannot be written): the path and the reason, exit 1 (a stdout whose reader left: exit 1 quietly);
    ``KeyboardInterrupt``: what was kept,
    exit 130; anything else is a bug: ``statbench: internal error: Type: message``, exit 3. Under
    ``STATBENCH_DEBUG=1`` the exception is re-raised (full traceback) instead."""
    from harness.core.errors import EXIT_FAILED, EXIT_INTERNAL, EXIT_INTERRUPTED, StatbenchError

    if isinstance(e, KeyboardInterrupt):
        err.print(INTERRUPTED, highlight=False, markup=False, soft_wrap=True)
        return EXIT_INTERRUPTED
    if debug():
        raise e
    if isinstance(e, StatbenchError):
        error_line(e)
        return int(e.exit_code)
    if isinstance(e, BrokenPipeError) and _stdout_gone():
        return EXIT_FAILED  # `statbench ... | head`: the reader left; as click and rich do, exit 1 quietly
    if isinstance(e, OSError) and (e.strerror or e.filename):
        where = f"{e.filename}: " if e.filename else ""
        error_line(f"{where}{e.strerror or e}; check the path, its permissions and the free disk space")
        return EXIT_FAILED
    error_line(f"{type(e).__name__}: {e} ({DEBUG_HINT})", prefix="statbench: internal error:")
    return EXIT_INTERNAL


def _stdout_gone() -> bool:
    """Whether stdout is a pipe whose reader has gone (poll reports an error on it); if so it is pointed at
    /dev/null, so that the interpreter's last flush has nothing to complain about."""
    import select

    try:
        fd = sys.stdout.fileno()
        poll = select.poll()
        poll.register(fd, select.POLLOUT)
        events = poll.poll(0)
    except (AttributeError, OSError, ValueError):  # no poll (Windows), or stdout is not a file (tests)
        return False
    if not any(ev & (select.POLLERR | select.POLLHUP) for _, ev in events):
        return False
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    return True


_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _number(key: str, text: str) -> int | float:
    """A numeric VALUE; one that does not fit (an int of over 4,300 digits, a float beyond 1e308) is a
    usage error, not a crash or a silent inf."""
    try:
        value = int(text) if _INT.fullmatch(text) else float(text)
    except ValueError:  # Python's guard against integers of over 4,300 digits
        value = math.inf
    if isinstance(value, float) and not math.isfinite(value):
        raise typer.BadParameter(
            f"{key}: the number {text[:20]}{'...' if len(text) > 20 else ''} is out of range"
        )
    return value


def parse_kv(pairs: list[str], typed: bool = True) -> dict[str, object]:
    """Parse ``KEY=VALUE`` options into a dict. ``typed``: ints (``-3``), floats (``-1.5``, ``1e-5``) and
    true/false are read as such; anything else (``nan``, ``inf``, ``1_000``, ``0x10``) stays a string."""
    out: dict[str, object] = {}
    for p in pairs:
        if "=" not in p:
            raise typer.BadParameter(f"expected KEY=VALUE, got {p!r}")
        k, v = p.split("=", 1)
        if not typed:
            out[k] = v
        elif _INT.fullmatch(v) or _FLOAT.fullmatch(v):
            out[k] = _number(k, v)
        else:
            out[k] = {"true": True, "false": False}.get(v.lower(), v)
    return out


def print_results(results: dict[str, TaskResult]) -> None:
    """The per-task results of a run record as a table, and the protocol(s) they were made under."""
    from harness.core.fileio import format_table

    rows = []
    for t, r in results.items():
        se = r.stderr
        rows.append(
            [
                t,
                r.label,
                f"{100 * r.value:.1f}",
                f"{100 * se:.1f}" if se is not None else "-",
                str(r.n),
                str(r.k),
                f"{100 * r.truncation_rate:.0f}%" if r.truncation_rate is not None else "-",
                f"{100 * (r.no_answer_rate or 0):.0f}%",
            ]
        )
    protocols = sorted(
        {r.protocol or "none recorded (rescored from another harness)" for r in results.values()}
    )
    head = ["task", "metric", "value %", "± stderr", "n", "k", "truncated", "no answer"]
    if any(
        r.unfinished_reasoning_rate or r.mean_reasoning_tokens for r in results.values()
    ):  # reasoning models
        head += ["unfinished think", "think tok", "answer tok"]
        for row, r in zip(rows, results.values(), strict=True):
            row += [
                f"{100 * (r.unfinished_reasoning_rate or 0):.0f}%",
                f"{r.mean_reasoning_tokens:.0f}" if r.mean_reasoning_tokens is not None else "-",
                f"{r.mean_answer_tokens:.0f}" if r.mean_answer_tokens is not None else "-",
            ]
    print(format_table(head, rows))
    print(f"protocol: {', '.join(protocols)}")


def write_outcome(result_file: Path | None, **fields) -> None:
    """Write a JobOutcome (run dir and id, stage records, or ``error``) to ``--result-file``; nothing without one."""
    if result_file is None:
        return
    from harness.core.fileio import atomic_write_text
    from harness.records.models import JobOutcome

    if fields.get("error") is not None:
        fields["error"] = one_line(fields["error"])
    outcome = JobOutcome(ok=fields.get("error") is None, **fields)
    atomic_write_text(Path(result_file), outcome.model_dump_json(indent=1) + "\n")
