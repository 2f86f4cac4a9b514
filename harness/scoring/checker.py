"""The checker: extraction + equivalence + hard timeouts, one verdict per (response, reference).

``grade`` / ``grade_many`` are what evaluations, the GRPO reward, Stage-1 difficulty detection and
re-scoring call. A pair is decided in the caller's process when a fast path applies (most integer and
simple-number answers); otherwise math-verify runs in a killable worker (see ``pool.py``). Output order
always equals input order, and a verdict depends only on its own pair.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from harness.scoring import normalize as N
from harness.scoring.equivalence import engine_version, fast_equal, mv_equal
from harness.scoring.extract import extract_answer, find_boxed
from harness.scoring.pool import WorkerPool

CHECKER_VERSION = "1.1.0"
STATUSES = (
    "ok",
    "no_answer",
    "timeout",
    "error",
    "unfinished_reasoning",
)  # the last: harness.scoring.reasoning


def checker_version() -> str:
    """Pinned identity of the checker; recorded with every score."""
    return f"statbench-checker/{CHECKER_VERSION} {engine_version()}"


@dataclass(frozen=True)
class Verdict:
    """One graded sample. ``status`` is ok | no_answer | timeout | error; ``method`` says what decided."""

    correct: bool
    extracted: str | None
    status: str
    method: str
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


MAX_REFERENCE_DEPTH = 16  # lists in lists: a JSON line nested hundreds deep would overflow the stack


def reference_problem(reference: Any, _depth: int = 0) -> str | None:
    """Why ``reference`` cannot be graded against (None when it can).

    A reference must be a non-empty string, a finite number (not a bool), or a non-empty list/tuple of
    those. ``None``/``null``, ``NaN``/``inf`` and other types are input errors, never a match; so are
    lists nested more than ``MAX_REFERENCE_DEPTH`` deep.
    """
    if isinstance(reference, bool) or reference is None:
        return f"reference must be a string or number, got {'null' if reference is None else 'a boolean'}"
    if isinstance(reference, float) and not math.isfinite(reference):
        return f"reference must be a finite number, got {reference}"
    if isinstance(reference, str):
        return None if reference.strip() else "reference is an empty string"
    if isinstance(reference, int | float):
        return None
    if isinstance(reference, list | tuple):
        if not reference:
            return "reference is an empty list"
        if _depth >= MAX_REFERENCE_DEPTH:
            return f"reference lists are nested more than {MAX_REFERENCE_DEPTH} deep"
        for r in reference:
            why = reference_problem(r, _depth + 1)
            if why:
                return why
        return None
    return f"reference must be a string or number, got {type(reference).__name__}"


def reference_text(reference: Any) -> str:
    """A reference answer as a string: numbers via ``str``, lists joined with ", ", a boxed solution unboxed.

    A reference made only of several boxes (``\\boxed{1}\\boxed{2}``, ``\\boxed{2}, \\boxed{3}``) becomes the
    list ``1, 2``; a solution text with boxes becomes its last box.
    """
    if isinstance(reference, list | tuple):
        return ", ".join(reference_text(r) for r in reference)
    if isinstance(reference, float) and reference.is_integer():
        return str(int(reference))
    s = str(reference).strip()
    if "\\boxed" in s or "\\fbox" in s:
        boxes = find_boxed(s)
        if boxes and boxes[-1].strip():
            if len(boxes) > 1 and _only_boxes(s) and all(b.strip() for b in boxes):
                return ", ".join(b.strip() for b in boxes)
            return boxes[-1].strip()
    return s


def _only_boxes(s: str) -> bool:
    """True when ``s`` has nothing but boxes, separators (``,`` ``;`` "and"), ``$`` and whitespace."""
    rest = s
    for b in find_boxed(s):
        rest = rest.replace(b, "", 1)
    for junk in ("\\boxed", "\\fbox", "{}", "$", ",", ";", "and", "\\quad", "\\text"):
        rest = rest.replace(junk, "")
    return not rest.strip()


def _candidate(response: str, ref: str) -> tuple[str | None, str]:
    """Extracted answer and extraction method, merging separately boxed items for a list reference."""
    ex = extract_answer(response)
    if ex.answer is None:
        return None, ex.method
    if len(ref) > N.MAX_CANON or len(ex.answer) > N.MAX_CANON:
        return ex.answer, ex.method
    n_ref = len(N.as_list(N.canon(ref)[0]) or [ref])
    if n_ref > 1 and len(ex.boxes) >= n_ref and N.as_list(N.canon(ex.answer)[0]) is None:
        tail = [b.strip() for b in ex.boxes[-n_ref:]]
        if all(tail):
            return ", ".join(tail), "boxed_multi"
    return ex.answer, ex.method


class Checker:
    """A grader with a persistent worker pool and an engine-result cache.

    A reference that is null, NaN/inf, a boolean or not a string/number (see ``reference_problem``) is
    rejected per pair: its verdict is ``Verdict(False, None, "error", "bad_reference", <message>)``, never
    a match, and the other pairs are graded normally.
    """

    def __init__(self, workers: int | None = None, timeout: float | None = None, cache_size: int = 200_000):
        env_w = os.environ.get("STATBENCH_GRADER_WORKERS")
        env_t = os.environ.get("STATBENCH_GRADER_TIMEOUT")
        self.workers = workers if workers is not None else int(env_w or min(4, os.cpu_count() or 1))
        self.timeout = timeout if timeout is not None else float(env_t or 5.0)
        self._pool: WorkerPool | None = None
        self._cache: OrderedDict[tuple[str, str], tuple[str, bool, str | None]] = OrderedDict()
        self._cache_size = cache_size

    # -- engine -------------------------------------------------------------------------------
    def _engine(self, pairs: Sequence[tuple[str, str]], progress: Callable[[int], None] | None):
        todo = [p for p in dict.fromkeys(pairs) if p not in self._cache]
        if todo:
            if self.workers == 0:  # inline: for debugging only, no timeout protection
                results = []
                for g, p in todo:
                    try:
                        results.append(("ok", mv_equal(g, p), None))
                    except Exception as e:  # noqa: BLE001
                        results.append(("error", False, f"{type(e).__name__}: {e}"))
                    if progress:
                        progress(1)
            else:
                if self._pool is None:
                    self._pool = WorkerPool(
                        "harness.scoring.equivalence.mv_equal",
                        self.workers,
                        self.timeout,
                        warmup="harness.scoring.equivalence.warmup",
                    )
                results = [(o.status, bool(o.value), o.error) for o in self._pool.map(todo, progress)]
            for key, res in zip(todo, results, strict=True):
                self._cache[key] = res
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return [self._cache[p] for p in pairs]

    # -- public API ---------------------------------------------------------------------------
    def grade_many(
        self,
        pairs: Iterable[tuple[str, Any]],
        progress: Callable[[int], None] | None = None,
    ) -> list[Verdict]:
        """Grade ``(response, reference)`` pairs; verdicts come back in input order."""
        out: list[Verdict | None] = []
        deferred: list[tuple[int, str, str, str]] = []  # (index, extracted, gold_e, pred_e)
        for response, reference in pairs:
            why = reference_problem(reference)
            if why is not None:
                out.append(Verdict(False, None, "error", "bad_reference", why))
                if progress:
                    progress(1)
                continue
            ref = reference_text(reference)
            extracted, how = _candidate(str(response), ref)
            if extracted is None:
                out.append(Verdict(False, None, "no_answer", how))
                if progress:
                    progress(1)
                continue
            verdict, method, g_e, p_e = fast_equal(ref, extracted)
            if verdict is not None:
                out.append(Verdict(verdict, extracted, "ok", method))
                if progress:
                    progress(1)
            else:
                deferred.append((len(out), extracted, g_e, p_e))
                out.append(None)
        if deferred:
            engine = self._engine([(g, p) for _, _, g, p in deferred], progress)
            for (i, extracted, _, _), (status, ok, err) in zip(deferred, engine, strict=True):
                out[i] = Verdict(ok and status == "ok", extracted, status, "math_verify", err)
        return out  # type: ignore[return-value]

    def grade(self, response: str, reference: Any) -> Verdict:
        return self.grade_many([(response, reference)])[0]

    def equal_many(self, pairs: Iterable[tuple[str, str]]) -> list[bool]:
        """Equivalence of already-extracted answers (majority voting, synthetic-answer agreement)."""
        res: list[bool | None] = []
        deferred: list[tuple[int, str, str]] = []
        for gold, pred in pairs:
            verdict, _, g_e, p_e = fast_equal(reference_text(gold), str(pred))
            res.append(verdict)
            if verdict is None:
                deferred.append((len(res) - 1, g_e, p_e))
        if deferred:
            engine = self._engine([(g, p) for _, g, p in deferred], None)
            for (i, _, _), (status, ok, _) in zip(deferred, engine, strict=True):
                res[i] = ok and status == "ok"
        return [bool(r) for r in res]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


_DEFAULT: Checker | None = None


def default_checker() -> Checker:
    """Process-wide checker (pool started lazily, reused across calls)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Checker()
    return _DEFAULT


def grade(response: str, reference: Any) -> Verdict:
    """Grade one (response, reference) pair with the process-wide checker."""
    return default_checker().grade(response, reference)


def grade_many(
    pairs: Iterable[tuple[str, Any]], progress: Callable[[int], None] | None = None
) -> list[Verdict]:
    """Grade pairs with the process-wide checker; verdicts in input order."""
    return default_checker().grade_many(pairs, progress)
