"""A board's self-contained index.html: a sortable table (a few lines of inline JS), the notes, and the
charts of :mod:`harness.reporting.charts`. It needs no server and no network; everything user-supplied is
escaped with ``html.escape``, and the page depends only on the board's inputs (no timestamps)."""

from __future__ import annotations

from html import escape

from harness.core.protocols import get_protocol
from harness.core.svg import pattern_defs, swatch
from harness.core.tasks import short_name
from harness.reporting.board import Board
from harness.reporting.charts import fail_hist, heatmap, panel_grid, row_styles
from harness.reporting.formats import pct, signed_pct
from harness.reporting.notes import display_labels, header_nk, settings_note

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
    heads = ["row", *[header_nk(board, t) for t in spec.columns], "Avg", "Δ Avg vs base"]
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
            panel_grid(board, delta=False),
            f'<h2 id="delta">Difference vs the base row '
            f"({escape(display_labels(board).get(spec.base or '', 'no base row'))})</h2>",
            (
                '<p class="note">Bars from 0 in points (paired over problems), with the 95 % CI.</p>'
                + panel_grid(board, delta=True)
            )
            if spec.base
            else '<p class="gap">This board has no base row.</p>',
            f'<h2 id="skills">Per-skill accuracy{" on " + escape(short_name(sk["task"])) if sk else ""}</h2>',
            heatmap(board) if sk else '<p class="gap">This board has no skills_task.</p>',
            '<h2 id="failures">Failures per skill (Missing-Skill-Profile view), before vs after training</h2>',
            fail_hist(board) if sk else "",
            f"<script>{_JS}</script>",
            "</body></html>",
            "",
        ]
    )
