"""``statbench runs diff A B``: which problems changed between two runs, and how.

Per task, the gate's paired test (:func:`harness.reporting.regress.compare_runs`, the same McNemar or
paired bootstrap and the same refusals of incomparable runs) gives the verdict on top; below it, the
problems paired by id whose score went down (pass → fail), went up (fail → pass), and those wrong in both
runs whose extracted answer changed, each with both runs' samples (extracted answer, status, response) side
by side. Text for the terminal (:func:`to_text`), a static HTML page (:func:`to_html`, every string
escaped, no script), and the top flips for the gate's markdown report (:func:`top_flips_markdown`).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.records.models import SampleRow
from harness.records.scores import per_problem_scores
from harness.records.store import iter_samples, read_run
from harness.reporting.regress import TaskVerdict, compare_runs

# What a sample is, for people: one primary status and the tags a viewer filters on.
KNOWN_STATUSES = ("correct", "wrong", "no_answer", "truncated", "timeout", "unfinished_reasoning", "error")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def sample_tags(row: SampleRow) -> list[str]:
    """``correct`` or ``wrong``, then the checker's status when it is not ``ok`` (``no_answer``, ``timeout``,
    ``unfinished_reasoning``, ...), then ``truncated`` when generation hit its token budget."""
    tags = ["correct" if row.correct else "wrong"]
    if row.status and row.status not in ("ok", "wrong", "correct"):
        tags.append(row.status)
    if row.truncated:
        tags.append("truncated")
    return tags


def sample_status(row: SampleRow) -> str:
    """The one status a table shows: the most specific tag (``correct``, ``no_answer``, ``truncated``, ...)."""
    tags = sample_tags(row)
    return tags[1] if len(tags) > 1 and tags[0] == "wrong" else tags[0]


def one_line(text: object, width: int | None = None) -> str:
    """Text safe for one terminal line: control characters (escape sequences included) dropped, whitespace
    collapsed, cut to ``width`` characters with an ellipsis."""
    s = " ".join(_CONTROL.sub(" ", "" if text is None else str(text)).split())
    return s if width is None or len(s) <= width else s[: max(width - 1, 0)] + "…"


@dataclass
class ProblemDiff:
    """One problem paired by id: its score in each run (the task's metric) and both runs' samples."""

    id: str
    kind: str  # lost (score went down) | gained (went up) | changed (wrong in both, other answer)
    score_a: float
    score_b: float
    reference: str
    a: list[SampleRow]
    b: list[SampleRow]


@dataclass
class TaskDiff:
    """A task's verdict (the gate's paired test) and its changed problems."""

    task: str
    verdict: TaskVerdict
    k: int
    lost: list[ProblemDiff] = field(default_factory=list)
    gained: list[ProblemDiff] = field(default_factory=list)
    changed: list[ProblemDiff] = field(default_factory=list)

    def heading(self, kind: str) -> str:
        """``pass→fail`` / ``fail→pass`` with one sample per problem, ``score down`` / ``score up`` with k."""
        if kind == "changed":
            return "changed answer, wrong in both"
        if self.k == 1:
            return "pass→fail" if kind == "lost" else "fail→pass"
        return f"score down ({self.verdict.label})" if kind == "lost" else f"score up ({self.verdict.label})"


def _grouped(run_dir: Path, task: str) -> dict[str, list[SampleRow]]:
    out: dict[str, list[SampleRow]] = {}
    for r in iter_samples(run_dir, task):
        out.setdefault(r.problem_id, []).append(r)
    return out


def _answers(rows: list[SampleRow]) -> list[str | None]:
    return sorted((r.extracted for r in rows), key=lambda x: (x is None, x or ""))


def diff_runs(
    a: Path,
    b: Path,
    tasks: list[str] | None = None,
    margin: float = 1.0,
    alpha: float = 0.05,
    allow_mismatch: bool = False,
    verdicts: list[TaskVerdict] | None = None,
) -> list[TaskDiff]:
    """Per common task (or ``tasks``): the gate's verdict of ``b`` against ``a`` (``verdicts``, when the
    gate already ran) and the problems that changed, in ``a``'s order within each group (largest score
    change first)."""
    if verdicts is None:
        verdicts = compare_runs(a, b, tasks, margin, alpha, allow_mismatch)
    rec = read_run(b)
    out = []
    for v in verdicts:
        metric = rec.results[v.task].metric
        sa, ka = per_problem_scores(a, v.task, metric)
        sb, kb = per_problem_scores(b, v.task, metric)
        ra, rb = _grouped(a, v.task), _grouped(b, v.task)
        td = TaskDiff(v.task, v, max(ka, kb))
        for pid in ra:
            if pid not in rb:
                continue
            x, y = sa[pid], sb[pid]
            rows_a, rows_b = ra[pid], rb[pid]
            if y < x:
                kind = "lost"
            elif y > x:
                kind = "gained"
            elif not any(r.correct for r in rows_a + rows_b) and _answers(rows_a) != _answers(rows_b):
                kind = "changed"
            else:
                continue
            getattr(td, kind).append(ProblemDiff(pid, kind, x, y, rows_a[0].reference, rows_a, rows_b))
        td.lost.sort(key=lambda p: p.score_b - p.score_a)  # stable: ties keep a's order
        td.gained.sort(key=lambda p: p.score_a - p.score_b)
        out.append(td)
    return out


def _pt(x: float | None, signed: bool = False) -> str:
    return "—" if x is None else (f"{100 * x:+.1f}" if signed else f"{100 * x:.1f}")


def verdict_line(v: TaskVerdict) -> str:
    """The gate's verdict of one task on one line (values in points)."""
    ci = f" [{_pt(v.ci[0], True)}, {_pt(v.ci[1], True)}]" if v.ci else ""
    p = "" if v.p_worse is None else f", p(worse)={v.p_worse:.3g}, p(better)={v.p_better:.3g}"
    return (
        f"{v.label}: {_pt(v.baseline)} → {_pt(v.candidate)} ({_pt(v.delta, True)}{ci} pt{p}; "
        f"{v.test}, n={v.n}): {v.verdict.upper() if v.verdict == 'regression' else v.verdict}"
    )


def _q(x: str | None) -> str:
    return "(none)" if x is None else f"'{one_line(x, 40)}'"


def _side(tag: str, rows: list[SampleRow], width: int) -> list[str]:
    out = []
    for r in rows:
        out.append(
            f"      {tag} #{r.sample}: {sample_status(r):<10} extracted {_q(r.extracted):<20} "
            f"| {one_line(r.response, width)}"
        )
    return out


def to_text(diffs: list[TaskDiff], a_name: str, b_name: str, show: int = 10, width: int = 100) -> str:
    """The diff for a terminal: per task the verdict, the counts, and up to ``show`` problems per group
    (every sample of each; responses cut to ``width`` characters, control characters dropped)."""
    lines = [f"statbench runs diff: A = {one_line(a_name)}  B = {one_line(b_name)}"]
    for td in diffs:
        lines += ["", f"{td.task}  {verdict_line(td.verdict)}"]
        counts = ", ".join(f"{td.heading(k)} {len(getattr(td, k))}" for k in ("lost", "gained", "changed"))
        lines.append(f"  {counts} (of {td.verdict.n} paired problems)")
        if td.verdict.note:
            lines.append(f"  note: {one_line(td.verdict.note)}")
        for kind in ("lost", "gained", "changed"):
            probs = getattr(td, kind)
            if not probs:
                continue
            lines.append(f"  {td.heading(kind)}:")
            for p in probs[:show]:
                lines.append(
                    f"    problem {one_line(p.id, 60)}  reference {_q(p.reference)}  "
                    f"score {_pt(p.score_a)} → {_pt(p.score_b)}"
                )
                lines += _side("A", p.a, width) + _side("B", p.b, width)
            if len(probs) > show:
                lines.append(f"    ... {len(probs) - show} more (--show N, or --html FILE for all)")
    return "\n".join(lines) + "\n"


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1400px;padding:0 1em;color:#222}
h1{font-size:1.3em}h2{font-size:1.15em;margin-top:2em}h3{font-size:1em;margin:1.2em 0 .4em}
.verdict{font-family:ui-monospace,monospace;background:#f4f4f4;padding:.4em .6em;border-radius:4px}
.regression{color:#b00020;font-weight:bold}.improvement{color:#1b5e20;font-weight:bold}
table{border-collapse:collapse;width:100%;table-layout:fixed;margin-bottom:1em}
td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left}
th{background:#fafafa}.meta{color:#555;font-size:.9em}
pre{white-space:pre-wrap;word-break:break-word;margin:.2em 0;font:12px/1.4 ui-monospace,monospace;
max-height:24em;overflow:auto;background:#fcfcfc}
.correct{color:#1b5e20}.wrong,.no_answer,.timeout,.truncated,.unfinished_reasoning,.error{color:#b00020}
"""


def _e(x: object) -> str:
    """HTML text: escaped (quotes too), control characters and lone surrogates replaced."""
    return html.escape(_CONTROL.sub("\ufffd", "" if x is None else str(x)))


def _cell(rows: list[SampleRow]) -> str:
    parts = []
    for r in rows:
        st = sample_status(r)
        parts.append(
            f'<div class="sample"><span class="{_e(st)}">#{r.sample} {_e(st)}</span> '
            f"extracted <code>{_e(r.extracted)}</code>"
            f"{'' if r.tokens is None else f' · {r.tokens} tokens'}"
            f"<pre>{_e(r.response)}</pre></div>"
        )
    return "".join(parts)


def to_html(diffs: list[TaskDiff], a_name: str, b_name: str) -> str:
    """The whole diff as one static HTML page (no script, no external resource; all text escaped)."""
    body = [
        f"<h1>statbench runs diff</h1><p>A = <code>{_e(a_name)}</code><br>B = <code>{_e(b_name)}</code></p>"
    ]
    for td in diffs:
        v = td.verdict
        body.append(
            f'<h2 id="{_e(td.task)}">{_e(td.task)}</h2>'
            f'<p class="verdict"><span class="{_e(v.verdict)}">{_e(verdict_line(v))}</span></p>'
        )
        if v.note:
            body.append(f'<p class="meta">note: {_e(v.note)}</p>')
        for kind in ("lost", "gained", "changed"):
            probs = getattr(td, kind)
            body.append(f"<h3>{_e(td.heading(kind))}: {len(probs)}</h3>")
            if not probs:
                continue
            body.append(
                "<table><colgroup><col style='width:14%'><col style='width:43%'><col style='width:43%'>"
                "</colgroup><tr><th>problem</th><th>A</th><th>B</th></tr>"
            )
            for p in probs:
                body.append(
                    f'<tr class="problem" data-id="{_e(p.id)}" data-kind="{kind}"><td><b>{_e(p.id)}</b>'
                    f'<div class="meta">reference <code>{_e(p.reference)}</code><br>'
                    f"score {_pt(p.score_a)} → {_pt(p.score_b)}</div></td>"
                    f"<td>{_cell(p.a)}</td><td>{_cell(p.b)}</td></tr>"
                )
            body.append("</table>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>statbench runs diff</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def top_flips_markdown(diffs: list[TaskDiff], n: int = 5, width: int = 80) -> str:
    """The first ``n`` flips of each task (pass→fail first) as a markdown section for PR comments; cells
    cannot break the table (pipes escaped, one line, control characters dropped)."""

    def cell(x: object, w: int = width) -> str:
        s = one_line(x, w).replace("\\", "\\\\").replace("|", "\\|").replace("`", "'")
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # no raw HTML in a comment

    def answer(rows: list[SampleRow]) -> str:
        if len(rows) == 1:
            return f"{cell(rows[0].extracted, 30)} ({sample_status(rows[0])})"
        answers = [r.extracted for r in rows if r.extracted is not None]
        common = max(sorted(set(answers)), key=answers.count) if answers else None
        return f"{sum(bool(r.correct) for r in rows)}/{len(rows)} correct; most often {cell(common, 30)}"

    out = []
    for td in diffs:
        flips = (td.lost + td.gained)[:n]
        if not flips:
            continue
        out += [
            "",
            f"#### {cell(td.task)}: {len(td.lost)} {td.heading('lost')}, {len(td.gained)} {td.heading('gained')}",
            "",
            "| problem | change | reference | baseline answer | candidate answer | candidate response |",
            "|---|---|---|---|---|---|",
        ]
        for p in flips:
            out.append(
                f"| {cell(p.id, 40)} | {_pt(p.score_a)} → {_pt(p.score_b)} | {cell(p.reference, 30)} | "
                f"{answer(p.a)} | {answer(p.b)} | {cell(next((r for r in p.b if not r.correct), p.b[0]).response)} |"
            )
    return "\n".join(out) + ("\n" if out else "")
