"""Answer equivalence: fast paths that decide the common cases, math-verify for the rest.

``fast_equal(gold, pred)`` returns True/False when a cheap, exact rule decides, or None to defer.
``mv_equal(gold, pred)`` is the engine (math-verify, pinned); it runs in a killable worker process
(see ``pool.py``), never in the caller, because sympy can hang on inputs like ``10^{10^{10}}``.

This module is the only place that imports math_verify.

Rules the fast paths add on top of math-verify (each one a case where math-verify is right or where the
reference format makes the intent unambiguous):

- inequalities in either orientation or negated (``7 \\geq y`` = ``y \\leq 7``, ``-y > -3`` = ``y < 3``)
  and against interval notation, both ways;
- lists/sets against separately boxed items, both ways (see ``checker._candidate``);
- separators as documented in ``normalize``: ``12,480`` is a number, ``12, 480`` is a pair (so it does
  NOT equal the reference 12480), ``2 500`` with a single/thin space is 2500, ``2,75`` is a decimal
  comma only against a single-number reference.

Answers longer than ``normalize.MAX_CANON`` skip the fast paths and go to the engine unchanged.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from functools import lru_cache

from harness.scoring import normalize as N


def _num_equal(a: Fraction, b: Fraction, pa: bool, pb: bool) -> bool:
    if a == b:
        return True
    # "10\%" vs "0.1" (and the reverse); "10\%" vs "10" is handled by a == b after stripping "%".
    return (pa and not pb and a / 100 == b) or (pb and not pa and b / 100 == a)


def _compare_numbers(cg: str, pg: bool, cp: str, pp: bool) -> bool | None:
    a, b = N.parse_number(cg), N.parse_number(cp)
    if a is not None and b is None:
        b = N.decimal_comma(cp)  # "2,75" against the single number 2.75
    elif b is not None and a is None:
        a = N.decimal_comma(cg)
    if a is None or b is None:
        return None
    if _num_equal(a, b, pg, pp):
        return True
    if N.is_exact_literal(cg) and N.is_exact_literal(cp):
        return (
            False  # two different exact rationals (integers, a/b, \\frac{a}{b}): no engine makes them equal
        )
    return None  # a decimal on either side: leave rounding-tolerance questions to the engine


def _compare_elements(xs: list[str], ys: list[str], ordered: bool) -> bool | None:
    """Element-wise numeric comparison; None unless every element is a plain number (or +-inf)."""
    vx = [N.endpoint_value(x) for x in xs]
    vy = [N.endpoint_value(y) for y in ys]
    if any(v is None for v in vx + vy):
        return None
    if len(vx) != len(vy):
        return False
    if ordered:
        return vx == vy
    return sorted(vx) == sorted(vy)


def _fast(cg: str, pg: bool, cp: str, pp: bool) -> tuple[bool | None, str]:
    if cg == cp and cg:
        return True, "string"
    letter = N.choice_letter(cg)
    if letter is not None:
        other = N.choice_letter(cp)
        if other is not None:
            return other == letter, "choice"
    verdict = _compare_numbers(cg, pg, cp, pp)
    if verdict is not None:
        return verdict, "number"
    lg, lp = N.as_list(cg), N.as_list(cp)
    if lg is not None or lp is not None:
        verdict = _compare_elements(lg or [cg], lp or [cp], ordered=False)
        if verdict is not None:
            return verdict, "list"
    bg, bp = N.as_bracketed(cg), N.as_bracketed(cp)
    if bg and bp:
        verdict = _compare_elements(bg[1], bp[1], ordered=True)
        if verdict is not None:
            return verdict and bg[0] == bp[0] and bg[2] == bp[2], "tuple"
    return None, ""


@lru_cache(maxsize=65536)
def _canon(s: str) -> tuple[str, bool]:
    return N.canon(s)


def fast_equal(gold: str, pred: str) -> tuple[bool | None, str, str, str]:
    """Decide cheaply if possible.

    Returns ``(verdict or None, method, gold_for_engine, pred_for_engine)``; the last two are the
    (lightly rewritten) strings math-verify should see when the verdict is None.
    """
    if len(gold) > N.MAX_CANON or len(pred) > N.MAX_CANON:
        return None, "", gold, pred
    cg, pg = _canon(gold)
    cp, pp = _canon(pred)
    verdict, method = _fast(cg, pg, cp, pp)
    if verdict is not None:
        return verdict, method, gold, pred
    # "x = 5" vs "5": drop a single-variable prefix on the side that has one.
    if ("=" in cp) != ("=" in cg):
        sg, sp = N.strip_var_prefix(cg), N.strip_var_prefix(cp)
        if (sg, sp) != (cg, cp):
            verdict, method = _fast(sg, pg, sp, pp)
            if verdict is not None:
                return verdict, "var_" + method, gold, pred
            cg, cp = sg, sp
            gold, pred = sg, sp
    # interval vs inequality: math-verify only accepts (gold inequality, pred interval), so
    # rewrite whichever side is an inequality into interval notation.
    # Both sides inequalities (either orientation, negated variable) compare as intervals too.
    ig, ip = N.inequality_to_interval(cg), N.inequality_to_interval(cp)
    if ig is not None or ip is not None:
        cg2, cp2 = ig or cg, ip or cp
        if cg2 == cp2:
            return True, "interval", cg2, cp2
        bg, bp = N.as_bracketed(cg2), N.as_bracketed(cp2)
        if bg and bp:
            verdict = _compare_elements(bg[1], bp[1], ordered=True)
            if verdict is not None:
                return verdict and bg[0] == bp[0] and bg[2] == bp[2], "interval", cg2, cp2
        if ig is not None and ip is not None:
            return None, "", cg2, cp2
        if bg and bp:  # one side an inequality, the other an interval: let the engine compare intervals
            return None, "", cg2, cp2
    return None, "", N.light(gold), N.light(pred)


# ---------------------------------------------------------------- the engine (worker side)

_MV = None


def _mv():
    global _MV
    if _MV is None:
        import math_verify
        from math_verify import ExprExtractionConfig, LatexExtractionConfig

        logging.getLogger("math_verify").setLevel(logging.CRITICAL)
        _MV = (math_verify, [LatexExtractionConfig(), ExprExtractionConfig()])
    return _MV


@lru_cache(maxsize=4096)
def _parse_gold(gold: str):
    mv, cfg = _mv()
    return mv.parse(f"${gold}$", extraction_config=cfg, parsing_timeout=None)


def mv_equal(gold: str, pred: str) -> bool:
    """math-verify's verdict; no internal timeouts (the worker pool enforces ours)."""
    mv, cfg = _mv()
    g = _parse_gold(gold)
    if not g:
        g = mv.parse(gold, extraction_config=cfg, parsing_timeout=None)
    p = mv.parse(f"${pred}$", extraction_config=cfg, parsing_timeout=None)
    if not p:
        p = mv.parse(pred, extraction_config=cfg, parsing_timeout=None)
    if not g or not p:
        return False
    return bool(mv.verify(g, p, timeout_seconds=None))


def mv_raw(gold: str, response: str) -> bool:
    """Raw math-verify on a whole response (the baseline the agreement report compares against)."""
    mv, cfg = _mv()
    g = _parse_gold(gold)
    p = mv.parse(response, extraction_config=cfg, parsing_timeout=None)
    return bool(g and p and mv.verify(g, p, timeout_seconds=None))


def warmup() -> None:
    """Import and exercise the engine once (workers call this before reporting ready)."""
    mv_equal("\\frac{1}{2}", "0.5")


def engine_version() -> str:
    """The pinned versions of the equivalence engine (math-verify, latex2sympy2_extended)."""
    from importlib.metadata import version

    return f"math-verify/{version('math-verify')} latex2sympy2_extended/{version('latex2sympy2_extended')}"
