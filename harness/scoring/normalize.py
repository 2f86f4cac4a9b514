"""String canonicalisation and cheap parsers behind the checker's fast paths.

Nothing here evaluates powers, calls sympy or can blow up: every function is linear in its input (no
regular expression with nested or overlapping quantifiers touches untrusted text; the unit-tail and
trailing-unit strippers are hand-written scans) and bounded (exponents are capped, inputs longer than
``MAX_CANON`` characters are not canonicalised), so the fast path runs in the caller's process.

Separators (a documented rule, used by ``parse_number`` and ``as_list``):

- ``12,480`` / ``1,234,567`` (commas between groups of exactly three digits, no spaces) is one number.
- ``12{,}480``, ``12\\,480``, ``12 480`` with a thin, narrow no-break, no-break or single plain space between
  groups of exactly three digits is one number (``2 500`` = 2500).
- ``12, 480`` (comma followed by a space) is a list of two numbers, never 12480.
- ``2,75`` / ``1000,99`` (one comma not followed by exactly three digits) is a decimal comma (2.75) when
  compared against a single number; against a list reference it is the list ``2, 75``.
"""

from __future__ import annotations

import re
from fractions import Fraction

_UNICODE = {
    "\u2212": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u00d7": "\\times ",
    "\u00b7": "\\cdot ",
    "\u2264": "\\le ",
    "\u2265": "\\ge ",
    "\u221e": "\\infty ",
    "\u03c0": "\\pi ",
    "\u221a": "\\sqrt",
    "\u00b0": "^\\circ",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\uff0c": ",",
    "\uff1a": ":",
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
_VAR_PREFIX = re.compile(r"^[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?=(?!=)")
_CHOICE = re.compile(r"^\(?([A-E])\)?$")
_MAX_EXP = 400
_STRAY_BACKSLASH = re.compile(r"\\(?=\d)")
_TRAILING_UNIT = re.compile(r"\\(?:text|mbox|mathrm)[ \t]*\{[ \t]*[a-zA-Z][a-zA-Z .]*\}(?:\^\{?\d\}?)?")
_DIGIT_GROUP_SPACE = re.compile(r"(?<=\d)(?:\{,\}|\\,|\\ |[ \u2009\u202f\u00a0])(?=\d{3}(?!\d))")
MAX_CANON = 20_000  # longer answers skip the fast paths and go to the engine (in a killable worker)


def light(s: str) -> str:
    """Minimal cleanup that is safe to hand to math-verify (unicode, ``\\dfrac``, ``np.``, sci-notation)."""
    s = _UNICODE_RE.sub(lambda m: _UNICODE[m.group(0)], s).strip()
    for pat, rep in _RENAME:
        s = pat.sub(rep, s)
    s = _SCI_E.sub(lambda m: f"{m.group(1)}\\times 10^{{{int(m.group(2))}}}", s)
    s = _STRAY_BACKSLASH.sub("", s)  # "\\15" (a mangled "\\$15")
    s = _strip_trailing_text_unit(s)
    return s


def _strip_trailing_text_unit(s: str) -> str:
    """``12\\text{ cm}`` -> ``12`` (the last ``\\text{unit}`` at the very end, if something precedes it)."""
    end = s.rstrip().rstrip(".").rstrip()
    start = max(end.rfind("\\text"), end.rfind("\\mbox"), end.rfind("\\mathrm"))
    if start <= 0:
        return s
    m = _TRAILING_UNIT.match(end, start)
    if m and m.end() == len(end) and end[:start].strip():
        return end[:start].rstrip()
    return s


def _strip_unit_tail(s: str) -> str | None:
    """``5 cm`` / ``12 dollars`` / ``3 m^2`` -> the leading number part, by a backward linear scan.

    Returns the prefix ending in a digit when everything after it is words (letters, an optional
    ``^2``/``^{2}`` after a word) and whitespace; None otherwise.
    """
    j = len(s)
    seen_word = False
    while j > 0:
        k = j
        while k > 0 and s[k - 1].isspace():
            k -= 1
        # optional exponent "^2" or "^{2}" right after a word
        e = k
        if e >= 2 and s[e - 1].isdigit() and s[e - 2] == "^":
            e -= 2
        elif e >= 4 and s[e - 1] == "}" and s[e - 2].isdigit() and s[e - 3] == "{" and s[e - 4] == "^":
            e -= 4
        w = e
        while w > 0 and s[w - 1].isascii() and s[w - 1].isalpha():
            w -= 1
        if w == e:  # no word here: stop
            break
        seen_word, j = True, w
    if not seen_word:
        return None
    head = s[:j].rstrip()
    return head if head and head[-1].isdigit() else None


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
    if (s.startswith("\\(") and s.endswith("\\)")) or (s.startswith("\\[") and s.endswith("\\]")):
        s = s[2:-2]
    s = s.replace("$", "")
    s = _unwrap(s)
    percent = bool(_PERCENT.search(s))
    s = _PERCENT.sub("", s)
    s = s.replace("\\!", "")  # "900,\\!000" is one number: a negative thin space separates nothing
    s = _DROP.sub(" ", s)
    s = _CMD_SPACE.sub(r"\1{}", s)  # "\pi r" must not become "\pir"
    s = s.strip()
    s = _DIGIT_GROUP_SPACE.sub("", s)  # "2 500", "1\u2009000" (documented separator rule)
    s = _THOUSANDS_TOKEN.sub(lambda m: m.group(0).replace(",", ""), s)  # "12,480" -> "12480"; "12, 480" stays
    head = _strip_unit_tail(s)  # "5 cm", "12 dollars", "3 m^2" -> the number
    if head is not None and parse_number(_SPACES.sub("", head)) is not None:
        s = head
    s = _SPACES.sub("", s).rstrip(".").strip()
    s = _strip_outer_braces(s)
    return s, percent


def _strip_outer_braces(s: str) -> str:
    """``{{{1}}}`` -> ``1``: drop every layer of braces that encloses the whole string (one linear pass)."""
    k = 0
    while k < len(s) // 2 and s[k] == "{" and s[-1 - k] == "}":
        k += 1
    depth, min_depth = 0, k  # the outer k layers are whole-string only if depth never drops below k inside
    for c in s[k : len(s) - k]:
        depth += (c == "{") - (c == "}")
        min_depth = min(min_depth, k + depth)
    layers = min(k, min_depth) if depth == 0 else 0
    return s[layers : len(s) - layers] if layers else s


_INT = re.compile(r"[+-]?\d+")
_THOUSANDS_TOKEN = re.compile(r"(?<![\d,.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,(?:\d{1,2}|\d{4,})")
_DEC = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+)")
_SCI_E = re.compile(r"(?<![\w\\])(\d+(?:\.\d+)?)[eE]([+-]?\d{1,3})(?![\w])")
_SCI_TIMES = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:\\times|\\cdot|\*)10\^\{?([+-]?\d{1,3})\}?")
_POW10 = re.compile(r"10\^\{?([+-]?\d{1,3})\}?")
_FRAC = re.compile(r"([+-]?)\\frac\{([^{}]+)\}\{([^{}]+)\}")
_FRAC_SHORT = re.compile(r"([+-]?)\\frac(\d)(\d)")
_SLASH = re.compile(r"([+-]?[\d.]+)/([+-]?[\d.]+)")


def parse_number(s: str) -> Fraction | None:
    """Exact value of a plain numeric literal (int, decimal, 4.5e3, 4.5\\times10^{3}, a/b, \\frac{a}{b}).

    Thousands separators are removed by ``canon`` first (see the module docstring).

    Returns None for anything else (symbols, roots, powers other than of ten, ...).
    """
    if not s or len(s) > 200:
        return None
    try:
        if _INT.fullmatch(s) or _DEC.fullmatch(s):
            return Fraction(s.rstrip(".") if s.endswith(".") else s)
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
    """True for a plain (signed) integer literal."""
    return bool(_INT.fullmatch(s))


def is_exact_literal(s: str) -> bool:
    """True for an integer or a fraction of integers (``3``, ``-7/5``, ``\\frac{3}{4}``, ``\\frac34``): a value
    with no rounding in it, so two different ones can never be equal within a tolerance."""
    if _INT.fullmatch(s):
        return True
    for pat in (_FRAC, _FRAC_SHORT, _SLASH):
        m = pat.fullmatch(s)
        if m:
            a, b = m.groups()[-2:]
            return bool(_INT.fullmatch(a) and _INT.fullmatch(b))
    return False


def decimal_comma(s: str) -> Fraction | None:
    """``2,75`` -> 2.75 (one comma not followed by exactly three digits); None otherwise."""
    if _DECIMAL_COMMA.fullmatch(s):
        return Fraction(s.replace(",", "."))
    return None


def strip_var_prefix(s: str) -> str:
    """``x=5`` -> ``5`` (one variable, possibly subscripted)."""
    return _VAR_PREFIX.sub("", s, count=1)


def choice_letter(s: str) -> str | None:
    """The letter of a multiple-choice answer (``(B)``, ``B``), or None."""
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
    if s.startswith("\\{") and s.endswith("\\}"):
        s = s[2:-2]
    s = _LIST_WORDS.sub(",", s)
    parts = split_top_level(s)
    return [p for p in parts] if len(parts) > 1 and all(parts) else None


_INF = {
    "\\infty": float("inf"),
    "+\\infty": float("inf"),
    "-\\infty": float("-inf"),
    "\\infty{}": float("inf"),
}


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
    """The value of an interval endpoint: a number, or ±infinity."""
    return _INF[s] if s in _INF else parse_number(s)


_REL = {"<": "<", "\\lt": "<", "\\le": "<=", "<=": "<=", ">": ">", "\\gt": ">", "\\ge": ">=", ">=": ">="}
_REL_RE = "(<=|>=|<|>|\\\\le|\\\\ge|\\\\lt|\\\\gt)"
_INEQ1 = re.compile(rf"^([a-zA-Z]){_REL_RE}([^<>]+)$")
_INEQ1R = re.compile(rf"^([^<>]+?){_REL_RE}([a-zA-Z])$")
_INEQ2 = re.compile(rf"^([^<>]+?){_REL_RE}([a-zA-Z]){_REL_RE}([^<>]+)$")


def _negate(val: str) -> str:
    """``-3`` -> ``3``; ``3`` -> ``-3``; anything else -> ``-(...)``."""
    if val.startswith("-") and parse_number(val[1:]) is not None:
        return val[1:]
    if parse_number(val) is not None:
        return "-" + val.lstrip("+")
    return f"-({val})"


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NEG_VAR = re.compile(r"^-([a-zA-Z])$")


def inequality_to_interval(s: str) -> str | None:
    """``x<3`` -> ``(-\\infty,3)``; ``3>x`` and ``-x>-3`` -> the same; ``-2<x\\le5`` -> ``(-2,5]``.

    Canonical strings in and out; None when ``s`` is not a one-variable inequality.
    """
    if len(s) > MAX_CANON:
        return None
    s = s.replace("{}", "")  # "\\ge{}y" (canon keeps "\\ge y" apart this way)
    m = _INEQ2.match(s)
    if m:
        lo, r1, _, r2, hi = m.groups()
        r1, r2 = _REL[r1], _REL[r2]
        if r1[0] == "<" and r2[0] == "<":
            return ("[" if r1 == "<=" else "(") + f"{lo},{hi}" + ("]" if r2 == "<=" else ")")
        if r1[0] == ">" and r2[0] == ">":
            return ("[" if r2 == ">=" else "(") + f"{hi},{lo}" + ("]" if r1 == ">=" else ")")
        return None
    parts = _REL_SPLIT.split(s)
    if len(parts) != 3:
        return None
    left, rel, right = parts[0], _REL[parts[1]], parts[2]
    if not left or not right:
        return None
    if _VAR.fullmatch(left) or _NEG_VAR.fullmatch(left):
        var_side, val = left, right
    elif _VAR.fullmatch(right) or _NEG_VAR.fullmatch(right):
        var_side, val, rel = right, left, _FLIP[rel]
    else:
        return None
    if var_side.startswith("-"):  # -x > -3  <=>  x < 3
        val, rel = _negate(val), _FLIP[rel]
    return {
        "<": f"(-\\infty,{val})",
        "<=": f"(-\\infty,{val}]",
        ">": f"({val},\\infty)",
        ">=": f"[{val},\\infty)",
    }[rel]


_VAR = re.compile(r"[a-zA-Z]")
_REL_SPLIT = re.compile(_REL_RE)
