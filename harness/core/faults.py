"""Fault injection for the chaos tests (tests/chaos/): a SIGKILL at a named point, reproducibly.

``STATBENCH_FAULT=POINT:N`` kills this process with SIGKILL once ``fault(POINT, amount)`` has been reached
with amounts adding up to at least N (``POINT`` alone: the first time). Points: ``write_run:start``,
``write_run:spec``, ``write_run:results``, ``write_run:samples``, ``write_run:rename``, ``write_run:index``
(harness/records/store.py); ``cache:commit`` (amount: generations committed; harness/evaluation/cache.py);
``stage:start``, ``stage:done``, ``stage:committed`` (harness/core/pipeline.py). Unset, ``fault`` is a
dictionary lookup and nothing else.
"""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def _target() -> tuple[str, int] | None:
    spec = os.environ.get("STATBENCH_FAULT")
    if not spec:
        return None
    point, _, n = spec.rpartition(":")
    return (point, int(n)) if n.isdigit() and point else (spec, 1)


def fault(point: str, amount: int = 1) -> None:
    """SIGKILL this process here if ``STATBENCH_FAULT`` names this point and its count is reached."""
    target = _target()
    if target is None or target[0] != point:
        return
    _counts[point] = _counts.get(point, 0) + amount
    if _counts[point] >= target[1]:
        os.kill(os.getpid(), signal.SIGKILL)
