"""Final-answer extraction from a model response.

Order (first that yields wins; each records the method used):

1. If the response contains ``</think>``, only the text after the last ``</think>`` is searched.
2. The **last** ``\\boxed{...}`` / ``\\fbox{...}`` (nested braces matched), or ``\\boxed 5``.
   Only the last is taken: math-verify joins nearby boxes into a set, which marks
   "\\boxed{4} ... wait ... \\boxed{5}" wrong (anchors-eval.md §1.0). All boxes are kept in
   ``Extraction.boxes`` so the checker can still accept "\\boxed{1} and \\boxed{2}" against the
   list reference "1, 2".
   An explicit answer statement *after* the last box ("The answer is: 2.", "#### 2") wins over it
   when it is a clean math answer, not prose.
3. Otherwise the explicit answer statements: "The final answer is X" (Minerva/Llama style), GSM8K
   "#### X", an "Answer: X" / "A: X" line, "the answer is X"; the one that occurs last wins. Prose
   captures ("The volume is 216 cubic inches") are reduced to their last math span or number.
4. Otherwise the last line's last math span (``\\( \\)``, ``$ $`` without prose, ``**bold**``) or number,
   the way math-verify falls back to the last expression ("Therefore, Lara read 128 pages.").
5. Otherwise ``no_answer``.

Everything here is linear in the response length (no backtracking regexes over the whole text), so a
1 MB response costs milliseconds.
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
    ("final_answer", re.compile(r"final answer is[: \t]*\n?(.{1,600}?)(?=\s*I hope it is correct|\n[ \t]*\n|\Z)", re.IGNORECASE | re.DOTALL)),
    ("gsm8k", re.compile(r"####[ \t]*([^\n]+)")),
    ("answer_line", re.compile(r"(?:^|\n)[ \t>*#]*(?:[Ff]inal[ \t]+)?(?:[Aa]nswer|ANSWER|A)[ \t*]*[:：][ \t*]*([^\n]+)")),
    ("answer_is", re.compile(r"(?<!final )\banswer is[: \t]*([^\n]+)", re.IGNORECASE)),
)
_WORD = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{3,}")
_LATEX_CMD = re.compile(r"\\(?:begin|end)\{[^{}]*\}|\\[a-zA-Z]+")
_ALNUM = re.compile(r"[0-9A-Za-z]")
_AFTER_BOX_WINDOW = 500  # an answer statement this close after the last box may override it
_TEXT_ARG = re.compile(r"\\text\s*\{[^{}]*\}")
_SPANS = (
    re.compile(r"\\\((.+?)\\\)"),
    re.compile(r"\\\[(.+?)\\\]"),
    re.compile(r"\$\$(.+?)\$\$"),
    re.compile(r"(?<!\$)\$([^$]{1,200})\$(?!\$)"),
    re.compile(r"\*\*([^*]{1,80})\*\*"),
)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_TRAILING_JUNK = re.compile(r"(?:\s*I hope it is correct\.?|[\s.,;:!*]+)$", re.IGNORECASE)


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


def _clean_fallback(s: str) -> str:
    s = s.strip()
    for _ in range(3):
        s = _TRAILING_JUNK.sub("", s).strip()
        if len(s) >= 2 and s[0] == "$" and s[-1] == "$":
            s = s.strip("$").strip()
        if s.startswith("**") and s.endswith("**"):
            s = s[2:-2].strip()
        if s.startswith("\\(") and s.endswith("\\)") or s.startswith("\\[") and s.endswith("\\]"):
            s = s[2:-2].strip()
    return s


def _is_prose(s: str) -> bool:
    """True if ``s`` reads as a sentence rather than a math answer (two or more plain words)."""
    return len(_WORD.findall(_LATEX_CMD.sub(" ", _TEXT_ARG.sub(" ", s)))) >= 2


def _last_math(line: str) -> str | None:
    """Last inline-math span (not prose), bold span, or number of ``line``."""
    best: tuple[int, str] | None = None
    for pat in _SPANS:
        for m in pat.finditer(line):
            inner = m.group(1).strip()
            if inner and not _is_prose(inner) and (best is None or m.end() >= best[0]):
                best = (m.end(), inner)
    for m in _NUMBER.finditer(line):
        if best is None or m.start() >= best[0]:
            best = (m.end(), m.group(0))
    return best[1] if best else None


def _statements(tail: str) -> list[tuple[int, str, str]]:
    """(start position, method, answer) of the last match of each explicit answer pattern, in order."""
    found = []
    for method, pat in _FALLBACKS:
        last_match = None
        for last_match in pat.finditer(tail):  # noqa: B007 - we want the last one
            pass
        if last_match is None:
            continue
        ans = _clean_fallback(last_match.group(1))
        inner = find_boxed(ans)
        if inner:
            ans = inner[-1].strip()
        elif _is_prose(ans):
            ans = _last_math(ans) or ""
        if ans:
            found.append((last_match.start(), method, ans))
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
            st for st in _statements(window)
            if not _is_prose(st[2]) and _ALNUM.search(st[2]) and len(st[2]) <= 100
        ]
        if after:
            return Extraction(after[-1][2], after[-1][1] + "_after_box", [c for c, _ in boxes])
        if not last:
            return Extraction(None, "boxed_empty", [c for c, _ in boxes])
        return Extraction(last, "boxed", [c for c, _ in boxes])
    offset = max(0, len(text) - _TAIL_CHARS)
    statements = _statements(text[offset:])
    if statements:
        _, method, ans = statements[-1]
        return Extraction(ans, method, [])
    lines = [ln for ln in text[offset:].splitlines() if ln.strip()]
    if lines:
        ans = _last_math(lines[-1])
        if ans:
            return Extraction(ans, "last_line", [])
    return Extraction(None, "none", [])
