"""Small standalone SVG charts shared by boards and stage outputs (no dependencies)."""

from __future__ import annotations

from html import escape

COLORS = [
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
]


def bar_svg(labels: list[str], values: list[float], title: str = "", color: str = COLORS[0]) -> str:
    """A standalone horizontal bar chart (used for the Missing-Skill-Profile histogram)."""
    vmax = max(values, default=0) or 1
    left, rowh = 320, 18
    height = 30 + rowh * len(labels)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + 340}" height="{height}" font-family="sans-serif">',
        f'<text x="4" y="16" font-size="13">{escape(title)}</text>',
    ]
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        y = 26 + i * rowh
        parts.append(
            f'<text x="{left - 6}" y="{y + 12}" font-size="11" text-anchor="end">{escape(lab[:48])}</text>'
            f'<rect x="{left}" y="{y}" width="{300 * v / vmax:.1f}" height="{rowh - 4}" fill="{color}"/>'
            f'<text x="{left + 300 * v / vmax + 4:.1f}" y="{y + 12}" font-size="11">{v:g}</text>'
        )
    return "".join(parts) + "</svg>\n"
