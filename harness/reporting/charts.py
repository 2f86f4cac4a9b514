"""The inline SVG charts of a board's index.html (they scale with the page).

Per benchmark, each row's value with its 95 % CI and per-seed values on an axis zoomed to the data (its
range is printed under it); each row's difference vs the base row as bars from zero; the per-skill accuracy
heatmap (a table, so headers wrap instead of being cut); and the failures-per-skill bars (the
Missing-Skill-Profile view) with a count axis and values. A row has one style (colour, and a fill pattern
past the palette or for a second row of the same label) in every chart. User text is escaped with
``html.escape``.
"""

from __future__ import annotations

from html import escape
from typing import Any

from harness.core.svg import (
    Style,
    assign_styles,
    nice_range,
    swatch,
    text_lines,
    text_width,
    ticks,
    wrap,
)
from harness.reporting.board import Board
from harness.reporting.formats import pct, signed_pct
from harness.reporting.notes import TOP_SKILLS, by_base_failures, display_labels, header_nk

FAIL_SKILLS = 12


def row_styles(board: Board) -> dict[str, Style]:
    """Row id -> its style in every chart: one colour per row label (a second row of the same label, e.g.
    STAT-Sel after GRPO, keeps the colour with a pattern); stable for the same board.yaml."""
    rows = [r for g in board.spec.groups for r in g.rows]
    seen: dict[str, int] = {}
    series = []
    for r in rows:
        series.append((r.label, seen.get(r.label, 0)))
        seen[r.label] = seen.get(r.label, 0) + 1
    return {r.id: s for r, s in zip(rows, assign_styles(series), strict=True)}


# ------------------------------------------------------------------------------------------ HTML charts
W = 560  # design width of one panel (viewBox units); panels scale to the page
LINE = 15  # line height of wrapped labels


def _legend(board: Board, rows) -> str:
    names, styles = display_labels(board), row_styles(board)
    keys = "".join(
        f'<span class="key">{swatch(styles[r.id], row=r.id)}{escape(names[r.id])}</span>' for r in rows
    )
    return f'<div class="legend">{keys}</div>'


def _label_layout(labels: list[str]) -> tuple[float, int]:
    """Label column width (viewBox units) and wrap width (characters) for a panel's row labels."""
    chars = min(max((len(x) for x in labels), default=8), 28)
    widest = max((text_width(line) for x in labels for line in wrap(x, chars)), default=40)
    return widest + 8, chars


def _panel(title: str, items: list[dict[str, Any]], delta: bool, caption: str) -> str:
    """One chart panel: a row per item (label, marker or bar, CI whisker, per-seed dots, value text).

    ``items``: {row, label, style, value, ci, seeds}. Values are fractions; the axis is zoomed to the data
    (and always includes 0 for deltas), and ``caption`` + the range say so under it.
    """
    label_w, chars = _label_layout([it["label"] for it in items])
    x0, x1 = label_w + 10, W - 62
    pts = [
        v for it in items if it["value"] is not None for v in (it["value"], *(it["ci"] or ()), *it["seeds"])
    ]
    if not pts:
        return ""
    lo, hi = min(pts) * 100, max(pts) * 100
    if delta:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    pad = max((hi - lo) * 0.04, 0.5)
    lo_a, hi_a, step = nice_range(max(lo - pad, -100 if delta else 0), min(hi + pad, 100), 5)
    x = lambda v: x0 + (100 * v - lo_a) / (hi_a - lo_a) * (x1 - x0)  # noqa: E731
    heights = [max(24, LINE * len(wrap(it["label"], chars)) + 9) for it in items]
    top = 30
    plot_h = sum(heights)
    height = top + plot_h + 46
    parts = [
        f'<svg class="chart" viewBox="0 0 {W} {height}" width="100%" role="img" '
        f'data-axis="{lo_a:g}..{hi_a:g}" aria-label="{escape(title)}">',
        f'<text x="4" y="18" class="title">{escape(title)}</text>',
    ]
    for t in ticks(lo_a, hi_a, step):
        xt = (x0 + (t - lo_a) / (hi_a - lo_a) * (x1 - x0)) if hi_a > lo_a else x0
        parts.append(
            f'<line x1="{xt:.1f}" x2="{xt:.1f}" y1="{top - 4}" y2="{top + plot_h}" '
            f'stroke="{"#666" if delta and t == 0 else "#e3e3e3"}"/>'
            f'<text x="{xt:.1f}" y="{top + plot_h + 14}" text-anchor="middle" class="tick">'
            f"{('0' if t == 0 else f'{t:+g}') if delta else f'{t:g}'}</text>"
        )
    parts.append(
        f'<text x="{(x0 + x1) / 2:.1f}" y="{top + plot_h + 34}" text-anchor="middle" class="axis">'
        f"{escape(caption)} {lo_a:g} to {hi_a:g}</text>"
    )
    y = top
    for i, (it, h) in enumerate(zip(items, heights, strict=True)):
        if i and it["group"] != items[i - 1]["group"]:  # a line between row groups (SFT | SFT+GRPO)
            parts.append(
                f'<line x1="4" x2="{W - 4}" y1="{y:.1f}" y2="{y:.1f}" stroke="#bbb" stroke-dasharray="3 3"/>'
            )
        lines = wrap(it["label"], chars)
        cy = y + h / 2
        parts.append(
            text_lines(
                label_w, cy + 4 - (len(lines) - 1) * LINE / 2, lines, LINE, text_anchor="end", class_="lab"
            )
        )
        v, ci, st = it["value"], it["ci"], it["style"]
        if v is None:
            parts.append(f'<text x="{x0 + 4}" y="{cy + 4:.1f}" class="gap">no run</text>')
            y += h
            continue
        tip = f"{it['label']}: {signed_pct(v) if delta else pct(v)}" + (
            f" (95 % CI {pct(ci[0]) if not delta else signed_pct(ci[0])} to "
            f"{pct(ci[1]) if not delta else signed_pct(ci[1])})"
            if ci
            else ""
        )
        if delta:
            xa, xb = sorted((x(0), x(v)))
            parts.append(
                f'<rect data-row="{escape(it["row"])}" data-fill="{escape(st.fill)}" x="{xa:.1f}" y="{cy - 7:.1f}" '
                f'width="{max(xb - xa, 1):.1f}" height="14" fill="{st.fill}" stroke="{st.color}">'
                f"<title>{escape(tip)}</title></rect>"
            )
        if ci:
            parts.append(
                f'<line x1="{x(ci[0]):.1f}" x2="{x(ci[1]):.1f}" y1="{cy:.1f}" y2="{cy:.1f}" stroke="#333" '
                'stroke-width="1.5"/>'
                + "".join(
                    f'<line x1="{x(e):.1f}" x2="{x(e):.1f}" y1="{cy - 4:.1f}" y2="{cy + 4:.1f}" stroke="#333"/>'
                    for e in ci
                )
            )
        for sv in it["seeds"]:
            parts.append(
                f'<circle class="seed" cx="{x(sv):.1f}" cy="{cy:.1f}" r="3" fill="white" stroke="#333">'
                f"<title>one seed: {pct(sv)}</title></circle>"
            )
        if not delta:
            parts.append(
                f'<rect data-row="{escape(it["row"])}" data-fill="{escape(st.fill)}" x="{x(v) - 6:.1f}" '
                f'y="{cy - 6:.1f}" width="12" height="12" fill="{st.fill}" stroke="{st.color}" stroke-width="1.5">'
                f"<title>{escape(tip)}</title></rect>"
            )
        parts.append(
            f'<text x="{x1 + 8}" y="{cy + 4:.1f}" class="val">{signed_pct(v) if delta else pct(v)}</text>'
        )
        y += h
    return "".join(parts) + "</svg>"


def _items(board: Board, delta: bool, task: str | None) -> list[dict[str, Any]]:
    spec, names, styles = board.spec, display_labels(board), row_styles(board)
    out = []
    for g in spec.groups:
        for r in g.rows:
            if delta and r.id == spec.base:
                continue
            if task is None:  # the Avg panel
                avg, aci, davg = board.avg[r.id]
                value, ci = (davg, board.avg_delta_ci.get(r.id)) if delta else (avg, aci)
                seeds = [] if delta else board.avg_seeds.get(r.id, [])
            else:
                c = board.cells[(r.id, task)]
                value, ci = (c.delta, c.delta_ci) if delta else (c.value, c.ci)
                seeds = [] if delta or c.seed_spread is None else c.seed_values
            out.append(
                {
                    "row": r.id,
                    "group": g.name,
                    "label": names[r.id],
                    "style": styles[r.id],
                    "value": value,
                    "ci": ci,
                    "seeds": seeds,
                }
            )
    return out


def panel_grid(board: Board, delta: bool) -> str:
    """A grid of panels: the Avg first (where there are several columns), then one per column."""
    spec = board.spec
    base = display_labels(board).get(spec.base or "", "")
    caption = f"points vs {base}, axis" if delta else "accuracy %, axis zoomed to the data:"
    panels = []
    for task in [None, *spec.columns] if len(spec.columns) > 1 else spec.columns:
        title = f"Avg over {len(spec.columns)} columns" if task is None else header_nk(board, task)
        p = _panel(title, _items(board, delta, task), delta, caption)
        if p:
            panels.append(f'<figure class="panel">{p}</figure>')
    if not panels:
        return '<p class="gap">No data yet.</p>'
    rows = [r for g in spec.groups for r in g.rows if not (delta and r.id == spec.base)]
    return _legend(board, rows) + f'<div class="panels">{"".join(panels)}</div>'


def _heat(a: float) -> str:
    """White (0 %) to green (100 %); text stays dark enough to read on every shade."""
    g = int(255 - 150 * a)
    return f"rgb({g},{int(255 - 75 * a)},{g})"


def heatmap(board: Board) -> str:
    """Per-skill accuracy as a table (headers wrap, never cut): skills × rows, shaded by accuracy."""
    sk = board.skills
    rows = [r for g in board.spec.groups for r in g.rows]
    top = sk["skills"][:TOP_SKILLS] if sk else []
    if not top:
        return '<p class="gap">No per-skill data yet.</p>'
    names, styles = display_labels(board), row_styles(board)
    groups = "".join(
        f'<th colspan="{len(g.rows)}" class="grp">{escape(g.name)}</th>' for g in board.spec.groups if g.rows
    )
    head = "".join(f"<th>{swatch(styles[r.id], 12, r.id)} {escape(r.label)}</th>" for r in rows)
    body = []
    for s in top:
        n = max((a[1] for a in (sk["accuracy"][r.id].get(s) for r in rows) if a), default=0)
        tds = []
        for r in rows:
            a = sk["accuracy"][r.id].get(s)
            tds.append(
                '<td class="na">–</td>'
                if a is None
                else f'<td style="background:{_heat(a[0])}" title="{escape(names[r.id])}: {pct(a[0])} % of '
                f'{a[1]}">{100 * a[0]:.0f}</td>'
            )
        body.append(
            f'<tr><th class="skill">{escape(sk["names"][s])} <span class="n">n={n}</span></th>{"".join(tds)}</tr>'
        )
    scale = "".join(f'<span style="background:{_heat(v / 4)}">{25 * v}</span>' for v in range(5))
    return (
        f'<div class="scroll"><table class="heatmap"><thead><tr><th class="skill" rowspan="2">skill (problems)</th>'
        f"{groups}</tr><tr>{head}</tr></thead>"
        f'<tbody>{"".join(body)}</tbody></table></div><div class="scale">accuracy %: {scale}</div>'
    )


def fail_hist(board: Board) -> str:
    """Failed problems per skill, one bar per row, with the count written on each bar and a count axis."""
    sk = board.skills
    if not sk or not sk["skills"]:
        return '<p class="gap">No per-skill data yet.</p>'
    rows = [r for g in board.spec.groups for r in g.rows]
    names, styles = display_labels(board), row_styles(board)
    top = by_base_failures(board)[:FAIL_SKILLS]
    vmax = max([1] + [sk["failures"][r.id].get(s, 0) for r in rows for s in top])
    _, hi, step = nice_range(0, vmax, 5)
    n_of = {s: max((a[1] for a in (sk["accuracy"][r.id].get(s) for r in rows) if a), default=0) for s in top}
    labels = {s: wrap(f"{sk['names'][s]} (n={n_of[s]})", 40) for s in top}
    width, right = 1100, 40
    left = max(text_width(line) for ls in labels.values() for line in ls) + 16
    x = lambda v: left + v / hi * (width - left - right)  # noqa: E731
    bar, gap = 12, 3
    blocks = [max(len(rows) * (bar + gap) + 12, LINE * len(labels[s]) + 12) for s in top]
    top_pad = 26
    height = top_pad + sum(blocks) + 40
    parts = [
        f'<svg class="chart wide" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="failures per skill">'
    ]
    plot_h = sum(blocks)
    for t in ticks(0, hi, step):
        parts.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top_pad - 6}" y2="{top_pad + plot_h}" stroke="#e3e3e3"/>'
            f'<text x="{x(t):.1f}" y="{top_pad - 10}" text-anchor="middle" class="tick">{t:g}</text>'
            f'<text x="{x(t):.1f}" y="{top_pad + plot_h + 14}" text-anchor="middle" class="tick">{t:g}</text>'
        )
    parts.append(
        f'<text x="{(left + width - right) / 2:.1f}" y="{top_pad + plot_h + 34}" text-anchor="middle" class="axis">'
        "problems failed (per-problem score &lt; 0.5)</text>"
    )
    y = top_pad
    for s, h in zip(top, blocks, strict=True):
        n = n_of[s]
        parts.append(f'<line x1="0" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc"/>')
        parts.append(text_lines(left - 8, y + 16, labels[s], LINE, text_anchor="end", class_="lab"))
        for ri, r in enumerate(rows):
            k = sk["failures"][r.id].get(s)
            yb = y + 6 + ri * (bar + gap)
            if k is None:
                parts.append(f'<text x="{left + 4}" y="{yb + 10}" class="gap">no run</text>')
                continue
            st = styles[r.id]
            parts.append(
                f'<rect data-row="{escape(r.id)}" data-fill="{escape(st.fill)}" x="{left}" y="{yb}" '
                f'width="{max(x(k) - left, 1):.1f}" height="{bar}" fill="{st.fill}" stroke="{st.color}">'
                f"<title>{escape(names[r.id])}: {k} of {n} failed</title></rect>"
                f'<text x="{x(k) + 4:.1f}" y="{yb + 10}" class="val small">{k}</text>'
            )
        y += h
    return _legend(board, rows) + "".join(parts) + "</svg>"
