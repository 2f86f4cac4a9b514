"""String canonicalisation and cheap parsers behind the checker's fast paths.

Nothing here evaluates powers, calls sympy or can blow up: every function is linear-ish in its input and
bounded (exponents are capped), so the fast path can run in the caller's process without a timeout.
"""

from __future__ import annotations

import re
from fractions import Fraction

_UNICODE = {
    "\u2212": "-", "\u2013": "-", "\u2014": "-", "\u00d7": "\\times ", "\u00b7": "\\cdot ",
    "\u2264": "\\le ", "\u2265": "\\ge ", "\u221e": "\\infty ", "\u03c0": "\\pi ", "\u221a": "\\sqrt",
    "\u00b0": "^\\circ", "\u00a0": " ", "\u2009": " ", "\uff0c": ",", "\uff1a": ":",
}
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))
_DROP = re.compile(
    r"\\left(?![a-zA-Z])|\\right(?![a-zA-Z])|\\displaystyle|\\!|\\,|\\;|\\:|\\ |\\quad|\\qquad"
    r"|\^\{?\\circ\}?|\\circ|\\degree|\{,\}|\\\$|~"
)
_RENAME = (
    (re.compile(r"\\[dt]frac"), r"\\frac"),
    (re.compile(r"\\leqslant|\\leq(?![a-zA-Z])"), r"\\le"),
    (re.compile(r"\\geqslant|\\geq(?![a-zA-Z])"), r"\\ge"),
    (re.compile(r"\\varnothing"), r"\\emptyset"),
    (re.compile(r"\bnp\.(?=[a-z])"), r"\\"),
)
_WRAPPERS = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mbox|operatorname)\s*\{")
_PERCENT = re.compile(r"\\?%")
_CMD_SPACE = re.compile(r"(\\[a-zA-Z]+)\s+(?=[a-zA-Z])")
_SPACES = re.compile(r"\s+")
_UNIT_TAIL = re.compile(r"^(.*?\d)\s*(?:[a-zA-Z]+(?:\^\{?\d\}?)?\s*)+$")
_VAR_PREFIX = re.compile(r"^[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?=(?!=)")
_CHOICE = re.compile(r"^\(?([A-E])\)?$")
_MAX_EXP = 400
_STRAY_BACKSLASH = re.compile(r"\\(?=\d)")
_TRAILING_UNIT = re.compile(r"\s*\\(?:text|mbox|mathrm)\s*\{\s*[a-zA-Z][a-zA-Z .]*\}(?:\^\{?\d\}?)?\s*\.?$")


def light(s: str) -> str:
    """Minimal cleanup that is safe to hand to math-verify (unicode, ``\\dfrac``, ``np.``, sci-notation)."""
    s = _UNICODE_RE.sub(lambda m: _UNICODE[m.group(0)], s).strip()
    for pat, rep in _RENAME:
        s = pat.sub(rep, s)
    s = _SCI_E.sub(lambda m: f"{m.group(1)}\\times 10^{{{int(m.group(2))}}}", s)
    s = _STRAY_BACKSLASH.sub("", s)  # "\\15" (a mangled "\\$15")
    m = _TRAILING_UNIT.search(s)
    if m and s[: m.start()].strip():
        s = s[: m.start()].rstrip()
    return s


def _unwrap(s: str) -> str:
    """``\\text{abc}`` -> ``abc`` (brace-aware, any nesting)."""
    for _ in range(50):
        m = _WRAPPERS.search(s)
        if not m:
            return s
        depth, i = 1, m.end()
        while i < len(s) and depth:
            depth += {"{": 1, "}": -1}.get(s[i], 0)
            i += 1
        inner = s[m.end() : i - 1] if depth == 0 else s[m.end() :]
        s = s[: m.start()] + inner + s[i:]
    return s


def canon(s: str) -> tuple[str, bool]:
    """Canonical comparison string and whether a percent sign was present."""
    s = light(s)
    s = s.strip().strip("$").strip()
    if s.startswith("\\(") and s.endswith("\\)") or s.startswith("\\[") and s.endswith("\\]"):
        s = s[2:-2]
    s = s.replace("$", "")
    s = _unwrap(s)
    percent = bool(_PERCENT.search(s))
    s = _PERCENT.sub("", s)
    s = _DROP.sub(" ", s)
    s = _CMD_SPACE.sub(r"\1{}", s)  # "\pi r" must not become "\pir"
    s = s.strip()
    m = _UNIT_TAIL.match(s)  # "5 cm", "12 dollars", "3 m^2" -> the number
    if m and parse_number(_SPACES.sub("", m.group(1))) is not None:
        s = m.group(1)
    s = _SPACES.sub("", s).rstrip(".").strip()
    s = re.sub(r"^\{(.*)\}$", r"\1", s) if _balanced_outer(s) else s
    return s, percent


def _balanced_outer(s: str) -> bool:
    """True if ``s`` is ``{...}`` with the outer braces matching each other."""
    if len(s) < 2 or s[0] != "{" or s[-1] != "}":
        return False
    depth = 0
    for i, c in enumerate(s):
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth == 0 and i < len(s) - 1:
            return False
    return True


_INT = re.compile(r"[+-]?\d+")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_DEC = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+)")
_SCI_E = re.compile(r"(?<![\w\\])(\d+(?:\.\d+)?)[eE]([+-]?\d{1,3})(?![\w])")
_SCI_TIMES = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:\\times|\\cdot|\*)10\^\{?([+-]?\d{1,3})\}?")
_POW10 = re.compile(r"10\^\{?([+-]?\d{1,3})\}?")
_FRAC = re.compile(r"([+-]?)\\frac\{([^{}]+)\}\{([^{}]+)\}")
_FRAC_SHORT = re.compile(r"([+-]?)\\frac(\d)(\d)")
_SLASH = re.compile(r"([+-]?[\d.]+)/([+-]?[\d.]+)")


def parse_number(s: str) -> Fraction | None:
    """Exact value of a plain numeric literal (int, decimal, 1,000, 4.5e3, 4.5\\times10^{3}, a/b, \\frac{a}{b}).

    Returns None for anything else (symbols, roots, powers other than of ten, ...).
    """
    if not s or len(s) > 200:
        return None
    try:
        if _INT.fullmatch(s) or _DEC.fullmatch(s):
            return Fraction(s.rstrip(".") if s.endswith(".") else s)
        if _THOUSANDS.fullmatch(s):
            return Fraction(s.replace(",", ""))
        m = _SCI_E.fullmatch(s.lstrip("+-"))
        if m and int(m.group(2)) <= _MAX_EXP:
            v = Fraction(m.group(1)) * Fraction(10) ** int(m.group(2))
            return -v if s.startswith("-") else v
        m = _SCI_TIMES.fullmatch(s)
        if m and abs(int(m.group(2))) <= _MAX_EXP:
            return Fraction(m.group(1)) * Fraction(10) ** int(m.group(2))
        m = _POW10.fullmatch(s)
        if m and abs(int(m.group(1))) <= _MAX_EXP:
            return Fraction(10) ** int(m.group(1))
        for pat in (_FRAC, _FRAC_SHORT, _SLASH):
            m = pat.fullmatch(s)
            if m:
                groups = m.groups()
                sign = -1 if len(groups) == 3 and groups[0] == "-" else 1
                a, b = (groups[1], groups[2]) if len(groups) == 3 else groups
                na, nb = parse_number(a), parse_number(b)
                if na is None or nb is None or nb == 0:
                    return None
                return sign * na / nb
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return None


def is_integer_literal(s: str) -> bool:
    return bool(_INT.fullmatch(s) or (_THOUSANDS.fullmatch(s) and "." not in s))


def strip_var_prefix(s: str) -> str:
    """``x=5`` -> ``5`` (one variable, possibly subscripted)."""
    return _VAR_PREFIX.sub("", s, count=1)


def choice_letter(s: str) -> str | None:
    m = _CHOICE.match(s)
    return m.group(1) if m else None


_OPEN, _CLOSE = "([{", ")]}"


def split_top_level(s: str, seps: str = ",") -> list[str]:
    """Split on separators outside any bracket (``\\{ \\}`` count as brackets)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(s):
        c = s[i]
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
        elif c in seps and depth == 0:
            parts.append(s[start:i])
            start = i + 1
        i += 1
    parts.append(s[start:])
    return parts


_LIST_WORDS = re.compile(r"(?<=[\d}])(?:or|and)(?=[-+\d\\])")


def as_list(s: str) -> list[str] | None:
    """Elements of an unbracketed answer list ("1,2", "0or4", "\\{1,2\\}"); None when not a list."""
    if _THOUSANDS.fullmatch(s):
        return None
    if s.startswith("\\{") and s.endswith("\\}"):
        s = s[2:-2]
    s = _LIST_WORDS.sub(",", s)
    parts = split_top_level(s)
    return [p for p in parts] if len(parts) > 1 and all(parts) else None


_INF = {"\\infty": float("inf"), "+\\infty": float("inf"), "-\\infty": float("-inf"), "\\infty{}": float("inf")}


def as_bracketed(s: str) -> tuple[str, list[str], str] | None:
    """``(a,b]`` -> ("(", ["a", "b"], "]") when the outer brackets enclose everything."""
    if len(s) < 2 or s[0] not in "([" or s[-1] not in ")]":
        return None
    depth = 0
    for i, c in enumerate(s):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0 and i < len(s) - 1:
                return None
    return s[0], split_top_level(s[1:-1]), s[-1]


def endpoint_value(s: str) -> Fraction | float | None:
    return _INF[s] if s in _INF else parse_number(s)


_REL = {"<": "<", "\\lt": "<", "\\le": "<=", "<=": "<=", ">": ">", "\\gt": ">", "\\ge": ">=", ">=": ">="}
_REL_RE = "(<=|>=|<|>|\\\\le|\\\\ge|\\\\lt|\\\\gt)"
_INEQ1 = re.compile(rf"^([a-zA-Z]){_REL_RE}([^<>]+)$")
_INEQ1R = re.compile(rf"^([^<>]+?){_REL_RE}([a-zA-Z])$")
_INEQ2 = re.compile(rf"^([^<>]+?){_REL_RE}([a-zA-Z]){_REL_RE}([^<>]+)$")


def inequality_to_interval(s: str) -> str | None:
    """``x<3`` -> ``(-\\infty,3)``; ``-2<x\\le5`` -> ``(-2,5]`` (canonical strings in, out)."""
    m = _INEQ2.match(s)
    if m:
        lo, r1, _, r2, hi = m.groups()
        r1, r2 = _REL[r1], _REL[r2]
        if r1[0] == "<" and r2[0] == "<":
            return ("[" if r1 == "<=" else "(") + f"{lo},{hi}" + ("]" if r2 == "<=" else ")")
        if r1[0] == ">" and r2[0] == ">":
            return ("[" if r2 == ">=" else "(") + f"{hi},{lo}" + ("]" if r1 == ">=" else ")")
        return None
    m = _INEQ1.match(s)
    if m:
        _, rel, val = m.groups()
    else:
        m = _INEQ1R.match(s)
        if not m:
            return None
        val, rel, _ = m.groups()
        rel = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[_REL[rel]]
    rel = _REL.get(rel, rel)
    return {
        "<": f"(-\\infty,{val})", "<=": f"(-\\infty,{val}]",
        ">": f"({val},\\infty)", ">=": f"[{val},\\infty)",
    }[rel]
