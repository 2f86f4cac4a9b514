"""Final-answer extraction from a model response.

Order (first that yields wins; each records the method used):

1. If the response contains ``</think>``, only the text after the last ``</think>`` is searched.
2. The **last** ``\\boxed{...}`` / ``\\fbox{...}`` (nested braces matched), or ``\\boxed 5``.
   Only the last is taken: math-verify joins nearby boxes into a set, which marks
   "\\boxed{4} ... wait ... \\boxed{5}" wrong. All boxes are kept in
   ``Extraction.boxes`` so the checker can still accept "\\boxed{1} and \\boxed{2}" against the
   list reference "1, 2".
   An explicit answer statement *after* the last box ("The answer is: 2.", "#### 2") wins over it
   when it is a clean math answer, not prose.
3. Otherwise the explicit answer statements: "The final answer is X" (Minerva/Llama style), GSM8K
   "#### X", an "Answer: X" / "A: X" line, "the answer is X"; the one that occurs last wins. Prose
   captures ("The volume is 216 cubic inches") are reduced to their last math span or number.
4. Otherwise the last *whole* expression: the later of (a) the last LaTeX math span of the tail that is
   not prose (``\\[ \\]`` and ``$$ $$`` may span lines, ``\\( \\)``, ``$ $`` and ``**bold**`` may not) and
   (b) the last maximal plain expression of the last non-empty line: signed numbers, leading-dot
   decimals, ``a/b``, ``\\frac``, ``\\sqrt``, powers, thousands separators (commas, thin or single
   spaces between 3-digit groups), percentages, intervals and tuples; never a fragment of one
   ("the chance is 5/8." -> ``5/8``, "Thus x = 3/4" -> ``3/4``, ``.25``, ``2 500``). This is how
   math-verify falls back to the last expression ("Therefore, Lara read 128 pages.").
5. Otherwise ``no_answer``.

Everything here is linear in the response length: the span and expression finders are hand-written
scans, no regular expression with nested or overlapping quantifiers sees the response, and the
fallbacks look only at the last ``_TAIL_CHARS`` characters. A 1 MB response costs milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_BOX_RE = re.compile(r"\\(?:boxed|fbox)")
_BARE_TOKEN = re.compile(r"[^\s$]+")
# Fallback patterns run on the tail of the response only: answers sit at the end, and this bounds cost.
_TAIL_CHARS = 8000
_FALLBACKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # may span lines ("The final answer is\n\\[ ... \\]"), up to "I hope it is correct" or a blank line
    (
        "final_answer",
        re.compile(
            r"final answer is[: \t]*\n?(.{1,600}?)(?=\s*I hope it is correct|\n[ \t]*\n|\Z)",
            re.IGNORECASE | re.DOTALL,
        ),
    ),
    ("gsm8k", re.compile(r"####[ \t]*([^\n]+)")),
    (
        "answer_line",
        re.compile(r"(?:^|\n)[ \t>*#]*(?:[Ff]inal[ \t]+)?(?:[Aa]nswer|ANSWER|A)[ \t*]*[:：][ \t*]*([^\n]+)"),
    ),
    ("answer_is", re.compile(r"(?<!final )\banswer is[: \t]*([^\n]+)", re.IGNORECASE)),
)
_WORD = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{3,}")
_LATEX_CMD = re.compile(r"\\(?:begin|end)\{[^{}]*\}|\\[a-zA-Z]+")
_ALNUM = re.compile(r"[0-9A-Za-z]")
_AFTER_BOX_WINDOW = 500  # an answer statement this close after the last box may override it
_TEXT_ARG = re.compile(r"\\text\s*\{[^{}]*\}")
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2009": " ", "\u202f": " ", "\u00a0": " "})
_MAX_SPAN = 2000  # longer math spans are not answers
_HOPE = "i hope it is correct"


@dataclass(frozen=True)
class Extraction:
    """What was extracted from one response."""

    answer: str | None
    method: str  # boxed | final_answer | gsm8k | answer_line | answer_is | last_line | none | boxed_empty
    boxes: list[str] = field(default_factory=list)


def _match_braces(text: str, open_idx: int) -> int | None:
    """Index of the ``}`` closing the ``{`` at ``open_idx``; None if unbalanced."""
    depth = 0
    i = open_idx
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "{}":
            i += 2  # escaped brace: \{ \} are literal set braces, not grouping
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _boxes(text: str) -> list[tuple[str, int]]:
    """(content, end index) of every ``\\boxed{}``/``\\fbox{}`` (and ``\\boxed X``) in order."""
    out: list[tuple[str, int]] = []
    pos = 0
    while (m := _BOX_RE.search(text, pos)) is not None:
        j = m.end()
        k = j
        while k < len(text) and text[k] == " ":  # "\\boxed {x}" and "\\boxed 5"
            k += 1
        if k < len(text) and text[k] == "{":
            end = _match_braces(text, k)
            if end is None:  # unbalanced (truncated generation): take the rest
                out.append((text[k + 1 :], len(text)))
                return out
            out.append((text[k + 1 : end], end + 1))
            pos = end + 1
        elif k > j and k < len(text):  # "\\boxed 5": up to whitespace or '$'
            tok = _BARE_TOKEN.match(text, k)
            pos = tok.end() if tok else k
            out.append((tok.group(0) if tok else "", pos))
        else:  # "\\boxedfoo" or "\\boxed" at the very end: not a box
            pos = j
    return out


def find_boxed(text: str) -> list[str]:
    """Contents of every ``\\boxed{}``/``\\fbox{}`` (and ``\\boxed X``) in order of appearance."""
    return [content for content, _ in _boxes(text)]


def _strip_trailing_junk(s: str) -> str:
    """Drop a trailing "I hope it is correct." and trailing punctuation/whitespace (linear)."""
    s = s.rstrip(" \t\r\n.,;:!*")
    if s.lower().endswith(_HOPE):
        s = s[: -len(_HOPE)]
    return s.rstrip(" \t\r\n.,;:!*")


def _clean_fallback(s: str) -> str:
    s = s.strip()
    for _ in range(3):
        s = _strip_trailing_junk(s).strip()
        if len(s) >= 2 and s[0] == "$" and s[-1] == "$":
            s = s.strip("$").strip()
        if s.startswith("**") and s.endswith("**"):
            s = s[2:-2].strip()
        if (s.startswith("\\(") and s.endswith("\\)")) or (s.startswith("\\[") and s.endswith("\\]")):
            s = s[2:-2].strip()
    return s


def _is_prose(s: str) -> bool:
    """True if ``s`` reads as a sentence rather than a math answer (two or more plain words)."""
    return len(_WORD.findall(_LATEX_CMD.sub(" ", _TEXT_ARG.sub(" ", s)))) >= 2


def math_spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, inner)`` of every LaTeX math span, in order, by one left-to-right scan.

    ``\\[ \\]`` and ``$$ $$`` may cross lines; ``\\( \\)``, ``$ $`` and ``**bold**`` may not (an inline
    opener without a closer on its line is literal). Escaped ``\\$`` is not a delimiter.
    """
    spans: list[tuple[int, int, str]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt in "[(":
                close = "\\]" if nxt == "[" else "\\)"
                j = text.find(close, i + 2)
                if j != -1 and (nxt == "[" or "\n" not in text[i + 2 : j]):
                    spans.append((i, j + 2, text[i + 2 : j]))
                    i = j + 2
                    continue
            i += 2  # any other escape, including \$
            continue
        if c == "$":
            if text.startswith("$$", i):
                j = text.find("$$", i + 2)
                if j != -1:
                    spans.append((i, j + 2, text[i + 2 : j]))
                    i = j + 2
                    continue
                i += 2
                continue
            eol = text.find("\n", i + 1)
            eol = n if eol == -1 else eol
            j = i + 1
            while True:  # next unescaped "$" on this line
                j = text.find("$", j, eol)
                if j == -1 or text[j - 1] != "\\":
                    break
                j += 1
            if j != -1 and not text.startswith("$$", j):
                spans.append((i, j + 1, text[i + 1 : j]))
                i = j + 1
                continue
            i += 1
            continue
        if c == "*" and text.startswith("**", i):
            eol = text.find("\n", i + 2)
            j = text.find("**", i + 2, n if eol == -1 else eol)
            if j != -1 and j - i <= 84:
                spans.append((i, j + 2, text[i + 2 : j]))
                i = j + 2
                continue
            i += 2
            continue
        i += 1
    return spans


_EXPR_CMDS = ("frac", "dfrac", "tfrac", "sqrt", "pi", "cdot", "times", "left", "right", "infty", "pm", "circ")
_OPS = "+-*/^=("
_OP_CMDS = ("\\times", "\\cdot", "\\pm")
_EXPR_CHARS = set("0123456789.+-*/^_{}()[]%")


def _cmd_at(t: str, i: int) -> int:
    """Length of an allowed expression command (``\\frac``, ``\\%``, ``\\,``, ...) at ``t[i]``; 0 if none."""
    if i + 1 >= len(t):
        return 0
    if t[i + 1] in "%,{}!$":
        return 2
    j = i + 1
    while j < len(t) and j - i <= 7 and t[j].isascii() and t[j].isalpha():
        j += 1
    return j - i if t[i + 1 : j] in _EXPR_CMDS else 0


def _digit_group_follows(t: str, run_text: str, j: int) -> bool:
    """A space at ``t[j-1]`` separates thousands: 1-3 digits before it, exactly 3 after ("2 500")."""
    k = len(run_text)
    d = 0
    while k > 0 and run_text[k - 1].isdigit():
        k -= 1
        d += 1
    return (
        1 <= d <= 3 and t[j : j + 3].isdigit() and len(t[j : j + 3]) == 3 and not t[j + 3 : j + 4].isdigit()
    )


def _trim_expr(e: str) -> str:
    """Strip trailing punctuation/operators and unmatched brackets at either end."""
    for _ in range(4):
        e = e.strip().rstrip(".,;:+-*/=^_")
        opens, closes = sum(e.count(c) for c in "([{"), sum(e.count(c) for c in ")]}")
        if closes > opens and e and e[-1] in ")]}":
            e = e[:-1]
        elif opens > closes and e and e[0] in "([{":
            e = e[1:]
        else:
            break
    return e.strip()


def plain_expressions(line: str) -> list[tuple[int, int, str]]:
    """``(start, end, text)`` of each maximal plain expression in ``line``, by one linear scan."""
    t = line.translate(_MINUS)
    n, i = len(t), 0
    out: list[tuple[int, int, str]] = []
    while i < n:
        c = t[i]
        starts = c.isdigit() or c in "+-([" or (c == "." and t[i + 1 : i + 2].isdigit())
        cmd = _cmd_at(t, i) if c == "\\" else 0
        if not (starts or cmd) or (i > 0 and t[i - 1].isascii() and t[i - 1].isalpha()):
            i += 1
            continue
        start, depth, buf = i, 0, []
        while i < n:
            c = t[i]
            if c == "\\":
                k = _cmd_at(t, i)
                if not k:
                    break
                buf.append(t[i : i + k])
                i += k
                continue
            if c in _EXPR_CHARS or (c == "," and (depth > 0 or t[i + 1 : i + 2].isdigit())):
                depth += c in "([{"
                depth -= c in ")]}"
                if depth < 0:
                    break
                buf.append(c)
                i += 1
                continue
            if c.isascii() and c.isalpha():  # an isolated variable inside an expression ("2x+1")
                if buf and not t[i + 1 : i + 2].isalpha() and not t[i - 1].isalpha():
                    buf.append(c)
                    i += 1
                    continue
                break
            if c in " \t":
                j = i
                while j < n and t[j] in " \t":
                    j += 1
                prev = "".join(buf[-1:])
                keep = depth > 0 or (prev and (prev[-1] in _OPS or prev in _OP_CMDS))
                keep = keep or (j < n and (t[j] in "+-*/^" or t.startswith(_OP_CMDS, j)))
                keep = keep or _digit_group_follows(t, "".join(buf[-4:]), j)
                if keep and j < n:
                    buf.append(" ")
                    i = j
                    continue
                break
            break
        text = _trim_expr("".join(buf))
        if any(ch.isdigit() for ch in text) or "\\infty" in text or "\\pi" in text:
            out.append((start, i, text))
        if i == start:
            i += 1
    return out


def _last_math(text: str, plain_from_last_line: bool = False) -> str | None:
    """The last whole expression of ``text``: the later-ending of its last non-prose math span and its
    last plain expression (of the last non-empty line only when ``plain_from_last_line``)."""
    best: tuple[int, str] | None = None
    for _st, en, inner in math_spans(text):
        inner = _clean_fallback(inner)
        if inner and len(inner) <= _MAX_SPAN and not _is_prose(inner) and (best is None or en >= best[0]):
            best = (en, inner)
    offset, scope = 0, text
    if plain_from_last_line:
        stripped = text.rstrip()
        offset = stripped.rfind("\n") + 1
        scope = stripped[offset:]
    plain = plain_expressions(scope)
    if plain:
        st, en, expr = plain[-1]
        if best is None or offset + st >= best[0]:
            best = (offset + en, expr)
    return best[1] if best else None


def _statements(tail: str) -> list[tuple[int, str, str, bool]]:
    """(start, method, answer, from_prose) of the last match of each explicit answer pattern, in order.

    ``from_prose`` is True when the statement was a sentence reduced to its last expression."""
    found = []
    for method, pat in _FALLBACKS:
        last_match = None
        for last_match in pat.finditer(tail):  # noqa: B007 - we want the last one
            pass
        if last_match is None:
            continue
        ans = _clean_fallback(last_match.group(1))
        inner = find_boxed(ans)
        prose = False
        if inner:
            ans = inner[-1].strip()
        elif _is_prose(ans):
            ans, prose = _last_math(ans) or "", True
        if ans:
            found.append((last_match.start(), method, ans, prose))
    return sorted(found)


def extract_answer(response: str) -> Extraction:
    """Extract the final answer of ``response`` (see module docstring for the order)."""
    text = response
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    boxes = _boxes(text)
    if boxes:
        last, last_end = boxes[-1][0].strip(), boxes[-1][1]
        window = text[last_end : last_end + _AFTER_BOX_WINDOW]
        after = [
            st
            for st in _statements(window)
            if not st[3] and not _is_prose(st[2]) and _ALNUM.search(st[2]) and len(st[2]) <= 100
        ]
        if after:
            return Extraction(after[-1][2], after[-1][1] + "_after_box", [c for c, _ in boxes])
        if not last:
            return Extraction(None, "boxed_empty", [c for c, _ in boxes])
        return Extraction(last, "boxed", [c for c, _ in boxes])
    offset = max(0, len(text) - _TAIL_CHARS)
    statements = _statements(text[offset:])
    if statements:
        _, method, ans, _ = statements[-1]
        return Extraction(ans, method, [])
    ans = _last_math(text[offset:], plain_from_last_line=True)
    if ans:
        return Extraction(ans, "last_line", [])
    return Extraction(None, "none", [])
