"""Small standalone SVG helpers shared by boards and stage outputs (no dependencies).

Series styles: a colour-blind-friendly ten-colour palette (Tableau 10) times fill patterns (solid, hatches,
dots, ...), so up to ``len(PALETTE) * len(PATTERNS)`` series stay distinct; patterns are SVG ``<pattern>``
definitions (:func:`pattern_defs`) referenced by ``url(#id)`` from any inline SVG of the same page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

PALETTE = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#ff9da6",
    "#9d755d",
    "#bab0ac",
    "#eeca3b",
)
COLORS = list(PALETTE)
PATTERNS = ("solid", "hatch", "dots", "back-hatch", "cross", "horizontal", "vertical", "grid")


@dataclass(frozen=True)
class Style:
    """How one series (a board row) is drawn everywhere: a colour and a fill pattern."""

    color: str
    pattern: str = "solid"

    @property
    def pattern_id(self) -> str:
        return f"pat-{self.pattern}-{self.color.lstrip('#')}"

    @property
    def fill(self) -> str:
        """The SVG ``fill`` value: the colour, or a reference to the pattern definition."""
        return self.color if self.pattern == "solid" else f"url(#{self.pattern_id})"


def assign_styles(series: list[tuple[str, int]]) -> list[Style]:
    """One style per ``(key, variant)``: the same key keeps its colour (``variant`` > 0 gets a pattern).

    Keys are coloured in order of first appearance; past the palette, and for variants, the next unused
    pattern of that colour is taken, so every series differs until all colour × pattern pairs are used.
    """
    keys = list(dict.fromkeys(k for k, _ in series))
    used: set[tuple[int, int]] = set()
    out = []
    for key, variant in series:
        h = keys.index(key)
        c, p = h % len(PALETTE), h // len(PALETTE) + variant
        for _ in range(len(PATTERNS)):
            if (c, p % len(PATTERNS)) not in used:
                break
            p += 1
        used.add((c, p % len(PATTERNS)))
        out.append(Style(PALETTE[c], PATTERNS[p % len(PATTERNS)]))
    return out


_MARKS = {
    "hatch": '<path d="M-1,1 l2,-2 M0,8 l8,-8 M7,9 l2,-2" stroke="{c}" stroke-width="2"/>',
    "back-hatch": '<path d="M-1,7 l2,2 M0,0 l8,8 M7,-1 l2,2" stroke="{c}" stroke-width="2"/>',
    "dots": '<circle cx="2" cy="2" r="1.6" fill="{c}"/><circle cx="6" cy="6" r="1.6" fill="{c}"/>',
    "cross": '<path d="M0,0 l8,8 M8,0 l-8,8" stroke="{c}" stroke-width="1.4"/>',
    "horizontal": '<path d="M0,2 h8 M0,6 h8" stroke="{c}" stroke-width="1.6"/>',
    "vertical": '<path d="M2,0 v8 M6,0 v8" stroke="{c}" stroke-width="1.6"/>',
    "grid": '<path d="M0,2 h8 M0,6 h8 M2,0 v8 M6,0 v8" stroke="{c}" stroke-width="1"/>',
}


def pattern_defs(styles: list[Style]) -> str:
    """A zero-size ``<svg>`` holding the ``<pattern>`` of every non-solid style (put it once per page)."""
    defs = []
    for s in dict.fromkeys(st for st in styles if st.pattern != "solid"):
        defs.append(
            f'<pattern id="{s.pattern_id}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8" fill="{s.color}" fill-opacity="0.28"/>'
            + _MARKS[s.pattern].format(c=s.color)
            + "</pattern>"
        )
    return f'<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>{"".join(defs)}</defs></svg>'


def swatch(style: Style, size: int = 14, row: str = "") -> str:
    """A small inline SVG square in ``style`` (for legends and table headers)."""
    attr = f' data-row="{escape(row)}"' if row else ""
    return (
        f'<svg class="swatch" width="{size}" height="{size}" aria-hidden="true">'
        f'<rect{attr} data-fill="{escape(style.fill)}" x="0.5" y="0.5" width="{size - 1}" height="{size - 1}" '
        f'fill="{style.fill}" stroke="{style.color}"/></svg>'
    )


def nice_step(span: float, target: int = 5) -> float:
    """A 1/2/5 × 10^k step that cuts ``span`` into about ``target`` intervals."""
    if span <= 0:
        return 1.0
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


def nice_range(lo: float, hi: float, target: int = 5) -> tuple[float, float, float]:
    """``(lo', hi', step)``: the range widened to multiples of a readable step."""
    if hi <= lo:
        lo, hi = lo - 1, hi + 1
    step = nice_step(hi - lo, target)
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step, step


def ticks(lo: float, hi: float, step: float) -> list[float]:
    """The tick values from ``lo`` to ``hi`` (inclusive) every ``step``."""
    n = round((hi - lo) / step)
    return [round(lo + i * step, 10) for i in range(n + 1)]


_NARROW, _WIDE = set(" .,:;!|()[]'-ijlrtfI"), set("MWmw@%")


def text_width(text: str, size: float = 12) -> float:
    """A generous estimate of ``text``'s rendered width at ``size`` px in a sans-serif font (DejaVu Sans,
    one of the widest, as the reference), for laying out labels without a browser."""
    em = sum(
        0.36 if c in _NARROW else 0.95 if c in _WIDE else 0.74 if c.isupper() or c.isdigit() else 0.62
        for c in text
    )
    return em * size


def wrap(text: str, width: int) -> list[str]:
    """``text`` broken at spaces into lines of at most ``width`` characters (long words are kept whole)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def text_lines(x: float, y: float, lines: list[str], line_h: float, **attrs: str) -> str:
    """A ``<text>`` whose lines are ``<tspan>``s starting at baseline ``y``."""
    a = "".join(f' {k.rstrip("_").replace("_", "-")}="{v}"' for k, v in attrs.items())
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else line_h}">{escape(s)}</tspan>' for i, s in enumerate(lines)
    )
    return f'<text x="{x:.1f}" y="{y:.1f}"{a}>{spans}</text>'


def bar_svg(labels: list[str], values: list[float], title: str = "", color: str = PALETTE[0]) -> str:
    """A standalone horizontal bar chart with its values and a count axis (the Missing-Skill-Profile histogram)."""
    vmax = max(values, default=0) or 1
    _, top, step = nice_range(0, vmax, 4)
    left, rowh, plot = 320, 18, 300
    height = 50 + rowh * len(labels)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + 340}" height="{height}" font-family="sans-serif">',
        f'<text x="4" y="16" font-size="13">{escape(title)}</text>',
    ]
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        y = 26 + i * rowh
        parts.append(
            f'<text x="{left - 6}" y="{y + 12}" font-size="11" text-anchor="end">{escape(lab if len(lab) <= 52 else lab[:51] + "…")}</text>'
            f'<rect x="{left}" y="{y}" width="{plot * v / top:.1f}" height="{rowh - 4}" fill="{color}"/>'
            f'<text x="{left + plot * v / top + 4:.1f}" y="{y + 12}" font-size="11">{v:g}</text>'
        )
    y_axis = 26 + rowh * len(labels) + 2
    for t in ticks(0, top, step):
        x = left + plot * t / top
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y_axis}" y2="{y_axis + 4}" stroke="#888"/>'
            f'<text x="{x:.1f}" y="{y_axis + 15}" font-size="10" text-anchor="middle">{t:g}</text>'
        )
    return "".join(parts) + "</svg>\n"
