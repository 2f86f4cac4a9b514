"""Render a built board: README.md (the paper's layout) and a self-contained index.html.

The HTML needs no server and no network: a sortable table (a few lines of inline JS) and inline SVG
charts that scale with the page — per benchmark, each row's value with its 95 % CI and per-seed values on
an axis zoomed to the data (its range is printed under it); each row's difference vs the base row as bars
from zero; the per-skill accuracy heatmap (a table, so headers wrap instead of being cut); and the
failures-per-skill bars (the Missing-Skill-Profile view) with a count axis and values. A row has one
style (colour, and a fill pattern past the palette or for a second row of the same label) in every chart.
Everything user-supplied is escaped: HTML with ``html.escape``, markdown with :func:`formats.md`.
Output depends only on the board's inputs (no timestamps), so regeneration is byte-stable.
"""

from __future__ import annotations

import csv
from html import escape
from pathlib import Path
from typing import Any

from harness.core.errors import SpecError
from harness.core.protocols import get_protocol
from harness.core.svg import (
    Style,
    assign_styles,
    bar_svg,  # noqa: F401  (re-exported for boards)
    nice_range,
    pattern_defs,
    swatch,
    text_lines,
    text_width,
    ticks,
    wrap,
)
from harness.core.tasks import short_name
from harness.reporting.board import Board, Cell
from harness.reporting.formats import md, pct, signed_pct

TOP_SKILLS = 15
FAIL_SKILLS = 12


def display_labels(board: Board) -> dict[str, str]:
    """Row id -> label, qualified by its group where two rows share a label (STAT-Sel in SFT and SFT+GRPO)."""
    rows = [(g.name, r) for g in board.spec.groups for r in g.rows]
    counts: dict[str, int] = {}
    for _, r in rows:
        counts[r.label] = counts.get(r.label, 0) + 1
    return {r.id: r.label if counts[r.label] == 1 else f"{r.label} ({g})" for g, r in rows}


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


# ------------------------------------------------------------------------------------------ settings
def _settings_text(board: Board, task: str, s: dict[str, Any] | None) -> str:
    """What a column's runs used, in words; the protocol's default is named where the runs overrode it."""
    if s is None:
        return "no runs"
    if s["max_new_tokens"] is None:
        return "generation settings not recorded (a rescore of lm-eval output)"
    default = get_protocol(board.spec.protocol).sampling(board.spec.family(task))
    toks = f"at most {s['max_new_tokens']} new tokens"
    if s["max_new_tokens"] != default.max_gen_toks:
        toks += f" (the protocol's default is {default.max_gen_toks})"
    top_p = f", top_p={s['top_p']:g}" if s["top_p"] not in (None, 1, 1.0) else ""
    chat = f", chat template {s['chat_template']}" if s["chat_template"] else ""
    return f"k={s['k']}, T={float(s['temperature']):g}{top_p}, {toks}{chat}"


def column_settings(board: Board, task: str) -> list[tuple[str, list[str]]]:
    """The distinct settings of a column's cells (as text) with the rows that used each, in row order."""
    names = display_labels(board)
    out: dict[str, list[str]] = {}
    for g in board.spec.groups:
        for r in g.rows:
            c = board.cells[(r.id, task)]
            if c.value is not None:
                out.setdefault(_settings_text(board, task, c.settings), []).append(names[r.id])
    return list(out.items())


def settings_note(board: Board, fmt=md) -> str:
    """One sentence per group of columns: the settings their runs actually used (from the run records)."""
    spec = board.spec
    proto = get_protocol(spec.protocol)
    by_text: dict[str, list[str]] = {}
    mixed = []
    for t in spec.columns:
        head = f"{short_name(t)} {proto.sampling(spec.family(t)).label}"
        groups = column_settings(board, t)
        if len(groups) <= 1:
            by_text.setdefault(groups[0][0] if groups else "no runs", []).append(head)
        else:
            mixed.append(
                f"{head} †: "
                + "; ".join(f"{text} ({', '.join(fmt(x) for x in rows)})" for text, rows in groups)
            )
    parts = [f"{', '.join(heads)}: {text}" for text, heads in by_text.items()] + mixed
    return "; ".join(parts)


def _mixed_settings(board: Board, task: str) -> bool:
    return len(column_settings(board, task)) > 1


# ------------------------------------------------------------------------------------------ markdown
def _seeds_text(c: Cell) -> str:
    sp = c.seed_spread
    return "" if sp is None else f"; seeds {pct(sp[0])}–{pct(sp[1])}"


def _cell_text(c: Cell) -> str:
    if c.value is None:
        return "—"
    return f"{pct(c.value)} ({pct(c.ci[0])}–{pct(c.ci[1])}{_seeds_text(c)})" if c.ci else pct(c.value)


def _avg_text(board: Board, row: str) -> str:
    avg, aci, _ = board.avg[row]
    if avg is None:
        return "—"
    seeds = board.avg_seeds.get(row) or []
    sp = f"; seeds {pct(min(seeds))}–{pct(max(seeds))}" if len(seeds) > 1 else ""
    return f"{pct(avg)} ({pct(aci[0])}–{pct(aci[1])}{sp})"


def _delta_avg_text(board: Board, row: str) -> str:
    if row == board.spec.base:
        return "base"
    davg, dci = board.avg[row][2], board.avg_delta_ci.get(row)
    if davg is None:
        return "—"
    return signed_pct(davg) + (f" ({signed_pct(dci[0])} to {signed_pct(dci[1])})" if dci else "")


def _header_nk(board: Board, task: str) -> str:
    cs = [
        board.cells[(r.id, task)]
        for g in board.spec.groups
        for r in g.rows
        if board.cells[(r.id, task)].value is not None
    ]
    if not cs:
        return f"{short_name(task)} (no runs)"
    ns, ks = {c.n for c in cs}, {(c.k, c.seeds) for c in cs}
    k, seeds = cs[0].k, cs[0].seeds
    mark = ("*" if len(ns) > 1 or len(ks) > 1 else "") + ("†" if _mixed_settings(board, task) else "")
    return f"{short_name(task)} (n={cs[0].n}, k={k}{f'×{seeds} seeds' if seeds > 1 else ''}){mark}"


def main_table(board: Board) -> str:
    """The board's main markdown table (rows × columns, Avg, Δ vs base, the paper's reported rows)."""
    spec = board.spec
    heads = [md(_header_nk(board, t)) for t in spec.columns]
    lines = [
        "| | " + " | ".join(heads) + " | Avg | Δ Avg vs base |",
        "|---|" + "---|" * (len(heads) + 2),
    ]
    for g in spec.groups:
        lines.append(f"| **{md(g.name)}** |" + " |" * (len(heads) + 2))
        for r in g.rows:
            cells = [_cell_text(board.cells[(r.id, t)]) for t in spec.columns]
            lines.append(
                f"| {md(r.label)} | "
                + " | ".join(cells)
                + f" | {_avg_text(board, r.id)} | {_delta_avg_text(board, r.id)} |"
            )
    for stage in dict.fromkeys(rep["stage"] for rep in board.reported):
        lines.append(f"| **reported in the paper ({md(stage)})** |" + " |" * (len(heads) + 2))
        for rep in (x for x in board.reported if x["stage"] == stage):
            vals = [pct(rep["values"].get(t)) if t in rep["values"] else "n/a" for t in spec.columns]
            lines.append(
                f"| {md(rep['method'])} *(reported)* | "
                + " | ".join(vals)
                + f" | {pct(rep['avg'])} *(paper's 9-column avg)* | |"
            )
    return "\n".join(lines)


def to_markdown(board: Board) -> str:
    """The board's README.md: main table, per-skill view, footnote with the settings and the runs used."""
    spec = board.spec
    proto = get_protocol(spec.protocol)
    heads = [_header_nk(board, t) for t in spec.columns]
    lines = [f"# {md(spec.title)}", ""]
    if spec.description:
        lines += [escape(spec.description.strip(), quote=False), ""]
    lines += [
        "Generated by `statbench leaderboard` from the run index; do not edit. Cells: value in % with its 95 % "
        "bootstrap CI over problems (problems resampled, never single samples); n = problems, k = samples per "
        "problem. Where a cell pools several seeds, `seeds a–b` is the range of the per-seed values (each seed's "
        "own score on the same problems): the CI is over problems only and leaves out seed-to-seed variation, "
        "which the range shows (per-seed values and their SD are in `table.csv`). Δ Avg: the mean paired "
        "difference vs the base row with its 95 % bootstrap CI over problems. — = no run for that cell "
        "(a gap, not a zero).[^protocol]",
        "",
    ]
    lines += main_table(board).split("\n")
    lines.append("")
    if any("*" in h.rsplit(")", 1)[-1] for h in heads):
        lines += ["\\* n or k differs between rows in this column; per-cell n and k are in `table.csv`.", ""]
    if any(h.endswith("†") for h in heads):
        lines += [
            "† the rows of this column were generated with different settings (listed in the footnote); "
            "compare them with care.",
            "",
        ]
    if board.skills:
        lines += _skills_markdown(board)
    runs = sorted({run for c in board.cells.values() for run in c.runs})
    lines += [
        f"[^protocol]: Protocol `{spec.protocol}`. Settings the runs used, read from their records: "
        + settings_note(board)
        + f". The protocol's defaults, for reference: {proto.description} CIs are bootstrap intervals over "
        "problems only; between-seed variation is reported beside them (`seeds a–b`, the per-seed range; "
        "SDs in `table.csv`), not folded in. Reported rows are the paper's own "
        "numbers (tasks/data/stat/stat_paper_results.csv; its MATH is on the authors' unpublished 4k split, "
        "ours on ours); they never enter computed averages." + _edge_note(board),
        "",
        f"Runs used ({len(runs)}): " + (", ".join(f"`{r}`" for r in runs) if runs else "none yet."),
        "",
    ]
    return "\n".join(lines)


def _by_base_failures(board: Board) -> list[str]:
    """The top skills, those the base row fails most first (ties keep the problem-count order)."""
    sk, base = board.skills, board.spec.base
    return sorted(
        sk["skills"][:TOP_SKILLS], key=lambda s: -(sk["failures"].get(base, {}).get(s, 0) if base else 0)
    )


def _skills_markdown(board: Board) -> list[str]:
    sk = board.skills
    rows = [r for g in board.spec.groups for r in g.rows]
    names = display_labels(board)
    top = sk["skills"][:TOP_SKILLS]
    if not top:
        return [f"Per-skill breakdown ({short_name(sk['task'])}): no runs yet.", ""]
    out = [
        f"## Per-skill accuracy on {short_name(sk['task'])} (top {len(top)} skills by problem count)",
        "",
        "| skill | " + " | ".join(md(names[r.id]) for r in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for s in top:
        vals = [f"{pct(a[0])} (n={a[1]})" if (a := sk["accuracy"][r.id].get(s)) else "—" for r in rows]
        out.append(f"| {md(sk['names'][s])} | " + " | ".join(vals) + " |")
    base = board.spec.base
    out += [
        "",
        "## Failures per skill (the Missing-Skill-Profile view), before vs after training",
        "",
        "Problems of each skill the row still gets wrong (per-problem score < 0.5)"
        + (f"; the base row is `{md(base)}`." if base else "."),
        "",
        "| skill | " + " | ".join(md(names[r.id]) for r in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for s in _by_base_failures(board):
        out.append(
            f"| {md(sk['names'][s])} | "
            + " | ".join(str(sk["failures"][r.id].get(s, "—")) for r in rows)
            + " |"
        )
    return out + [""]


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


def _charts(board: Board, delta: bool) -> str:
    """A grid of panels: the Avg first (where there are several columns), then one per column."""
    spec = board.spec
    base = display_labels(board).get(spec.base or "", "")
    caption = f"points vs {base}, axis" if delta else "accuracy %, axis zoomed to the data:"
    panels = []
    for task in [None, *spec.columns] if len(spec.columns) > 1 else spec.columns:
        title = f"Avg over {len(spec.columns)} columns" if task is None else _header_nk(board, task)
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


def _heatmap(board: Board) -> str:
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


def _fail_hist(board: Board) -> str:
    """Failed problems per skill, one bar per row, with the count written on each bar and a count axis."""
    sk = board.skills
    if not sk or not sk["skills"]:
        return '<p class="gap">No per-skill data yet.</p>'
    rows = [r for g in board.spec.groups for r in g.rows]
    names, styles = display_labels(board), row_styles(board)
    top = _by_base_failures(board)[:FAIL_SKILLS]
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


_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;padding:0 2em;color:#222}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
#board th{background:#f3f3f3;cursor:pointer}td:first-child,th:first-child{text-align:left}
tr.group td{background:#fafafa;font-weight:bold;text-align:left}tr.reported td{color:#666;font-style:italic}
td .sub{display:block;color:#777;font-size:11px}#board td{white-space:nowrap}#board td:first-child{white-space:normal;min-width:12em}
.scroll{overflow-x:auto}td svg{vertical-align:-2px;margin-right:5px}
.tick{font-size:11px;fill:#444}.axis{font-size:11px;fill:#555}.lab{font-size:12px;fill:#222}
.title{font-size:13px;font-weight:600;fill:#222}.val{font-size:12px;fill:#111}.val.small{font-size:11px}
.gap{color:#999;fill:#999;font-size:11px}
.panels{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:12px 28px}
figure.panel{margin:0}svg.chart{display:block;max-width:100%;height:auto}
.legend{font-size:13px;margin:6px 0 10px}.key{display:inline-block;margin:2px 14px 2px 0;white-space:nowrap}
.key svg,th svg{vertical-align:-2px;margin-right:4px}
table.heatmap{font-size:12px}table.heatmap th{background:#f7f7f7;font-weight:600;vertical-align:bottom;
white-space:normal;max-width:7em;text-align:center}table.heatmap th.grp{max-width:none;text-align:center}
table.heatmap th.skill{text-align:left;max-width:none;min-width:13em;font-weight:normal}
table.heatmap td{min-width:2.4em;text-align:center}
table.heatmap td.na{color:#aaa}.n{color:#777;font-weight:normal;font-size:11px}
.scale span{display:inline-block;padding:1px 8px;border:1px solid #ddd;font-size:11px}.scale{font-size:12px;margin:6px 0}
.note{color:#555;font-size:13px;max-width:1100px}"""
_JS = """document.querySelectorAll('#board th').forEach((th,i)=>th.addEventListener('click',()=>{
const tb=document.querySelector('#board tbody.computed');const rows=[...tb.querySelectorAll('tr.row')];
const dir=th.dataset.dir==='desc'?1:-1;th.dataset.dir=dir===1?'asc':'desc';
rows.sort((a,b)=>{const x=parseFloat(a.children[i].dataset.v),y=parseFloat(b.children[i].dataset.v);
if(isNaN(x)&&isNaN(y))return a.children[i].textContent.localeCompare(b.children[i].textContent)*dir;
if(isNaN(x))return 1;if(isNaN(y))return -1;return (x-y)*dir;});rows.forEach(r=>tb.appendChild(r));}));"""


def _td(value: float | None, main: str, sub: str = "") -> str:
    v = "" if value is None else f"{value:.6f}"
    return (
        f'<td data-v="{v}">{escape(main)}'
        + (f'<span class="sub">{escape(sub)}</span>' if sub else "")
        + "</td>"
    )


def to_html(board: Board) -> str:
    """The board's self-contained index.html (sortable table, inline SVG charts; no network)."""
    spec = board.spec
    styles = row_styles(board)
    heads = ["row", *[_header_nk(board, t) for t in spec.columns], "Avg", "Δ Avg vs base"]
    body = []
    for g in spec.groups:
        for r in g.rows:
            avg, aci, davg = board.avg[r.id]
            tds = [f'<td data-v="">{swatch(styles[r.id], 12, r.id)}{escape(g.name)}: {escape(r.label)}</td>']
            for t in spec.columns:
                c = board.cells[(r.id, t)]
                sp = c.seed_spread
                main = "—" if c.value is None else f"{pct(c.value)} ({pct(c.ci[0])}–{pct(c.ci[1])})"
                tds.append(_td(c.value, main, "" if sp is None else f"seeds {pct(sp[0])}–{pct(sp[1])}"))
            seeds = board.avg_seeds.get(r.id) or []
            tds.append(
                _td(
                    avg,
                    "—" if avg is None else f"{pct(avg)} ({pct(aci[0])}–{pct(aci[1])})",
                    f"seeds {pct(min(seeds))}–{pct(max(seeds))}" if len(seeds) > 1 else "",
                )
            )
            dci = board.avg_delta_ci.get(r.id)
            tds.append(
                _td(
                    davg,
                    "base" if r.id == spec.base else signed_pct(davg),
                    f"{signed_pct(dci[0])} to {signed_pct(dci[1])}" if dci and r.id != spec.base else "",
                )
            )
            body.append(f'<tr class="row" data-row="{escape(r.id)}">{"".join(tds)}</tr>')
    rep = []
    for x in board.reported:
        vals = "".join(
            f"<td>{pct(x['values'].get(t)) if t in x['values'] else 'n/a'}</td>" for t in spec.columns
        )
        rep.append(
            f'<tr class="reported"><td>reported ({escape(x["stage"])}): {escape(x["method"])}</td>{vals}'
            f'<td>{pct(x["avg"])} <span class="sub">paper\'s 9-column avg</span></td><td></td></tr>'
        )
    proto = get_protocol(spec.protocol)
    sk = board.skills
    marks = []
    if any("*" in h.rsplit(")", 1)[-1] for h in heads[1:-2]):
        marks.append("* n or k differs between rows in this column (per-cell n and k: table.csv).")
    if any(h.endswith("†") for h in heads[1:-2]):
        marks.append("† the rows of this column used different settings (below); compare with care.")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(spec.title)}</title>",
            f"<style>{_CSS}</style></head><body>",
            pattern_defs(list(styles.values())),
            f"<h1>{escape(spec.title)}</h1>",
            f"<p>{escape(spec.description)}</p>" if spec.description else "",
            '<p class="note">Cells: % with the 95 % bootstrap CI over problems; where a cell pools several seeds, '
            "the grey line under it is the range of the per-seed values (the CI leaves out seed-to-seed "
            "variation). Δ Avg: mean paired difference vs the base row (95 % CI). — is a gap (no run), never a "
            "zero. Click a header to sort. Reported rows are the paper's own numbers and never enter computed "
            "averages.</p>",
            '<div class="scroll"><table id="board"><thead><tr>'
            + "".join(f"<th>{escape(h)}</th>" for h in heads)
            + "</tr></thead>",
            '<tbody class="computed">' + "".join(body) + "</tbody>",
            '<tbody class="reference">' + "".join(rep) + "</tbody></table></div>",
            "".join(f'<p class="note">{escape(m)}</p>' for m in marks),
            f'<p class="note">Protocol <code>{escape(spec.protocol)}</code>. Settings the runs used, read from '
            f"their records: {escape(settings_note(board, fmt=str))}. The protocol's defaults, for reference: "
            f"{escape(proto.description)}</p>",
            '<h2 id="per-benchmark">Per benchmark: value, 95 % CI and per-seed values</h2>',
            '<p class="note">Each panel has its own axis, zoomed to its data (the range is under it; not from '
            "0). Squares: the row's value; black line: 95 % CI over problems; white dots: single seeds.</p>",
            _charts(board, delta=False),
            f'<h2 id="delta">Difference vs the base row '
            f"({escape(display_labels(board).get(spec.base or '', 'no base row'))})</h2>",
            (
                '<p class="note">Bars from 0 in points (paired over problems), with the 95 % CI.</p>'
                + _charts(board, delta=True)
            )
            if spec.base
            else '<p class="gap">This board has no base row.</p>',
            f'<h2 id="skills">Per-skill accuracy{" on " + escape(short_name(sk["task"])) if sk else ""}</h2>',
            _heatmap(board) if sk else '<p class="gap">This board has no skills_task.</p>',
            '<h2 id="failures">Failures per skill (Missing-Skill-Profile view), before vs after training</h2>',
            _fail_hist(board) if sk else "",
            f"<script>{_JS}</script>",
            "</body></html>",
            "",
        ]
    )


# ------------------------------------------------------------------------------------------ writing
def _filled_cells(csv_path: Path) -> set[tuple[str, str]]:
    """The (row, task) cells an existing table.csv shows as filled (none if there is no readable one)."""
    try:
        with csv_path.open(newline="", encoding="utf-8") as fh:
            return {
                (r["row"], r["task"]) for r in csv.DictReader(fh) if r.get("row") and r.get("status") == "ok"
            }
    except (OSError, UnicodeDecodeError, csv.Error, KeyError):
        return set()


def _check_shrink(board: Board, runs_dir: Path) -> None:
    """Refuse to overwrite a board with one that loses filled cells (e.g. regenerated from the wrong runs dir)."""
    folder = board.folder
    had = _filled_cells(folder / "table.csv")
    lost = sorted(k for k in had if k in board.cells and board.cells[k].value is None)
    if not lost:
        return
    used = len({r for c in board.cells.values() for r in c.runs})
    read = f"{runs_dir} ({used} run(s) used)" if Path(runs_dir).is_dir() else f"{runs_dir} (does not exist)"
    own = folder.parent / "runs"
    hint = (
        f" (did you mean --runs-dir {own}?)"
        if own.is_dir() and own.resolve() != Path(runs_dir).resolve()
        else ""
    )
    raise SpecError(
        f"{folder}: regenerating from runs dir {read} would empty {len(lost)} of the board's {len(had)} filled "
        f"cells (e.g. {lost[0][0]} × {lost[0][1]}); give the runs dir the board was made from{hint}, "
        "or --allow-shrink to write it anyway"
    )


def generate(board_path, runs_dir, allow_shrink: bool = False) -> dict[str, object]:
    """Build the board from the run index and write README.md, table.csv, index.html atomically.

    A board whose existing table.csv has filled cells that this build would leave empty is refused
    (``SpecError``) unless ``allow_shrink``.
    """
    from harness.core.fileio import atomic_write_text
    from harness.reporting.board import build_board
    from harness.reporting.board_spec import load_board
    from harness.reporting.formats import to_csv

    spec, folder = load_board(Path(board_path))
    board = build_board(spec, folder, Path(runs_dir))
    if not allow_shrink:
        _check_shrink(board, Path(runs_dir))
    paths = {"markdown": folder / "README.md", "csv": folder / "table.csv", "html": folder / "index.html"}
    atomic_write_text(paths["markdown"], to_markdown(board))
    atomic_write_text(paths["csv"], to_csv(board))
    atomic_write_text(paths["html"], to_html(board))
    return {"board": board, **paths}


def _edge_note(board) -> str:
    """The footnote's sentence on cells whose interval is Wilson (k = 1 near 0 or 100 %), if any."""
    edge = sorted({c.ci_method for c in board.cells.values() if c.ci_method != "bootstrap"})
    if not edge:
        return ""
    return (
        f" Cells with one sample per problem and fewer than 5 successes or failures use the {', '.join(edge)} "
        "score interval (statsmodels proportion_confint) instead of the bootstrap, which collapses there."
    )
