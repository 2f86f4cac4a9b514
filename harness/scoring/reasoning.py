"""Reasoning traces: what of a response is graded.

A reasoning model writes a trace between think delimiters (default ``<think>`` … ``</think>``) and then its
answer. Only the text after the last closing delimiter is graded. A response whose trace never closes
(the budget ran out while thinking, or the chat template opened the trace in the prompt and the model never
closed it) has no answer: it is ``status="unfinished_reasoning"``, counted wrong, never graded on the trace.
A server's separate ``reasoning_content`` is never graded either: an empty answer beside one is unfinished.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.scoring.checker import Checker, Verdict

DEFAULT_THINK: tuple[str, str] = ("<think>", "</think>")
UNFINISHED = "unfinished_reasoning"


@dataclass(frozen=True)
class Split:
    """A response cut into its reasoning trace (None without one) and the answer that is graded."""

    reasoning: str | None
    answer: str
    unfinished: bool


def opens_reasoning(prompt: str, think: tuple[str, str] = DEFAULT_THINK) -> bool:
    """Whether a (templated) prompt ends inside an open trace, e.g. a template that appends ``<think>\\n``."""
    return prompt.rstrip().endswith(think[0])


def split_reasoning(
    response: str,
    think: tuple[str, str] = DEFAULT_THINK,
    opened: bool = False,
    server_reasoning: str | None = None,
) -> Split:
    """Cut ``response`` at its last closing delimiter. ``opened``: the prompt already opened the trace.
    ``server_reasoning``: the server's ``reasoning_content`` (a trace kept outside the response)."""
    open_, close = think
    start, end = _last_delimiters(response, think)
    if end >= 0 and start <= end:
        return Split(response[:end], response[end + len(close) :], False)
    if start >= 0:  # a trace opened (after the last close, if any) and never closed
        return Split(response[start + len(open_) :], "", True)
    if opened:
        return Split(response, "", True)
    if server_reasoning and not response.strip():  # the server's trace used the whole budget
        return Split(None, "", True)
    return Split(None, response, False)


def _last_delimiters(response: str, think: tuple[str, str]) -> tuple[int, int]:
    """Where the last opening and the last closing delimiter start (-1: none). Read left to right, the longer
    delimiter first where both start, so that one never counts inside the other (``<think>``, ``think>``)."""
    open_, close = think
    pattern = "|".join(re.escape(d) for d in sorted(think, key=len, reverse=True))
    start = end = -1
    for m in re.finditer(pattern, response):
        if m.group() == close:
            end = m.start()
        elif m.group() == open_:
            start = m.start()
    return start, end


def unfinished_verdict() -> Verdict:
    """The verdict of a response whose reasoning never finished: wrong, no answer extracted."""
    return Verdict(False, None, UNFINISHED, UNFINISHED)


def grade_responses(
    checker: Checker,
    items: Sequence[tuple[str, str]],
    think: tuple[str, str] = DEFAULT_THINK,
    opened: bool | Sequence[bool] = False,
    server_reasoning: Sequence[str | None] | None = None,
) -> list[Verdict]:
    """Grade (response, reference) pairs on the answer after the trace; unfinished traces are not graded.
    ``opened``: the prompt opened the trace (one flag for all, or one per pair)."""
    flags = [opened] * len(items) if isinstance(opened, bool) else list(opened)
    splits = [
        split_reasoning(r, think, flags[i], server_reasoning[i] if server_reasoning else None)
        for i, (r, _) in enumerate(items)
    ]
    graded = iter(
        checker.grade_many(
            [(s.answer, ref) for s, (_, ref) in zip(splits, items, strict=True) if not s.unfinished]
        )
    )
    return [unfinished_verdict() if s.unfinished else next(graded) for s in splits]
