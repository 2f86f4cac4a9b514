"""``statbench runs view RUN [RUN2]``: one static, offline HTML page to browse every sample of a run.

The page is self-contained: the samples travel as a JSON island (``<script type="application/json">``,
with ``<``, ``>``, ``&``, U+2028/U+2029 and every non-ASCII character written as ``\\uXXXX`` escapes, so
no sample text can close the script element or be read as markup), and a small inline script renders
them with DOM text nodes only (never ``innerHTML``). No server, no network (a Content-Security-Policy
forbids any fetch), no CDN. Filters: task, status (:data:`harness.reporting.diff.KNOWN_STATUSES`), skill
label (from the task's bundled data), run, and a text search over problem, answers and responses; the
URL fragment (``#task=...&status=...&skill=...&q=...&view=diff``) sets them, so a filtered view can be
linked. With a second run, a diff view lists the problems that changed (:mod:`harness.reporting.diff`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.core.tasks import TASKS, task_docs
from harness.records.store import iter_samples, read_run
from harness.reporting.diff import KNOWN_STATUSES, diff_runs, sample_status, sample_tags, verdict_line


def _docs(task: str) -> dict[str, dict[str, Any]]:
    """Problem id -> the bundled document (problem text, skills), for registered tasks; {} otherwise."""
    if task not in TASKS:
        return {}
    try:
        return {str(d["id"]): d for d in task_docs(task)}
    except Exception:  # noqa: BLE001 — a task whose data is not here: the page shows samples without skills
        return {}


def _prompt_text(prompt: Any) -> str:
    if prompt is None or isinstance(prompt, str):
        return prompt or ""
    if isinstance(prompt, list):
        return "\n\n".join(
            f"[{m.get('role', '')}] {m.get('content', '')}" if isinstance(m, dict) else str(m) for m in prompt
        )
    return json.dumps(prompt, ensure_ascii=False)


def collect(runs: list[Path], tasks: list[str] | None = None) -> dict[str, Any]:
    """The page's data: runs, tasks, problems (text, reference, skills) and samples (compact keys)."""
    recs = [read_run(r) for r in runs]
    names = [r.name for r in runs]
    task_list = [t for t in recs[0].results if tasks is None or t in tasks]
    if tasks:
        from harness.core.errors import SpecError

        missing = [t for t in tasks if t not in task_list]
        if missing:
            raise SpecError(
                f"task(s) {', '.join(missing)} not in {names[0]} (tasks: {', '.join(recs[0].results)})"
            )
    problems: dict[str, dict[str, Any]] = {}
    samples: list[dict[str, Any]] = []
    for ti, task in enumerate(task_list):
        docs = _docs(task)
        for ri, (run_dir, rec) in enumerate(zip(runs, recs, strict=True)):
            if task not in rec.results:
                continue
            for row in iter_samples(run_dir, task):
                pid = row.problem_id
                key = f"{ti}\x1f{pid}"
                if key not in problems:
                    doc = docs.get(pid, {})
                    problems[key] = {
                        "t": ti,
                        "id": pid,
                        "ref": row.reference,
                        "text": doc.get("problem") or _prompt_text(row.prompt),
                        "sk": [str(s) for s in doc.get("skills") or []],
                    }
                samples.append(
                    {
                        "k": key,
                        "r": ri,
                        "s": row.sample,
                        "st": sample_status(row),
                        "tags": sample_tags(row),
                        "x": row.extracted,
                        "resp": row.response,
                        "reason": row.reasoning,
                        "tok": row.tokens,
                        "fin": row.finish_reason,
                    }
                )
    return {
        "runs": names,
        "tasks": task_list,
        "labels": {t: recs[0].results[t].label for t in task_list},
        "statuses": list(KNOWN_STATUSES),
        "problems": problems,
        "samples": samples,
    }


def json_island(data: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: ASCII only (U+2028/2029 and lone
    surrogates escaped by ``json``), and ``<``, ``>``, ``&`` written as unicode escapes."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def build_view(
    run: Path, run2: Path | None = None, tasks: list[str] | None = None, allow_mismatch: bool = False
) -> tuple[str, int]:
    """The page's HTML and the number of samples in it."""
    data = collect([run] + ([run2] if run2 else []), tasks)
    if run2 is not None:
        common = [t for t in data["tasks"] if t in read_run(run2).results]
        diffs = diff_runs(run, run2, common or None, allow_mismatch=allow_mismatch)
        data["tasks_diff"] = {
            td.task: {
                "verdict": verdict_line(td.verdict),
                "heads": {k: td.heading(k) for k in ("lost", "gained", "changed")},
                "problems": [
                    [p.id, kind, p.score_a, p.score_b]
                    for kind in ("lost", "gained", "changed")
                    for p in getattr(td, kind)
                ],
            }
            for td in diffs
        }
    page = _PAGE.replace("__DATA__", json_island(data))
    return page, len(data["samples"])


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>statbench sample viewer</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:1em auto;max-width:1400px;padding:0 1em;color:#222}
h1{font-size:1.25em;margin:.2em 0}#runs{color:#555;font-size:.9em}
#controls{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ddd;display:flex;
flex-wrap:wrap;gap:.5em;align-items:center;z-index:1}
#controls label{font-size:.85em;color:#444}select,input{font:inherit;padding:.15em .3em;max-width:20em}
#q{min-width:18em}#count{color:#555;margin-left:auto}
.item{border:1px solid #ddd;border-radius:4px;margin:.6em 0;padding:.4em .6em}
.head{font-size:.9em;color:#333}.head b{font-family:ui-monospace,monospace}
.tag{display:inline-block;border-radius:3px;padding:0 .35em;margin-right:.25em;font-size:.8em;background:#eee}
.tag.correct{background:#d9f2dd}.tag.wrong{background:#f8d7da}.tag.lost{background:#f8d7da}
.tag.gained{background:#d9f2dd}.tag.changed{background:#fff3cd}
pre{white-space:pre-wrap;word-break:break-word;margin:.3em 0;font:12px/1.4 ui-monospace,monospace;
max-height:20em;overflow:auto;background:#fafafa;padding:.3em}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:.6em}.verdict{font-family:ui-monospace,monospace;
font-size:.85em;background:#f4f4f4;padding:.3em .5em}details summary{cursor:pointer;color:#555;font-size:.85em}
#more{margin:1em 0}
</style></head><body>
<h1>statbench sample viewer</h1><div id="runs"></div>
<div id="controls">
<label>view <select id="view"><option value="samples">every sample</option></select></label>
<label>task <select id="task"></select></label>
<label>status <select id="status"></select></label>
<label>skill <select id="skill"></select></label>
<label>run <select id="run"></select></label>
<label>search <input id="q" type="search" placeholder="problem, answer or response text"></label>
<span id="count"></span></div>
<div id="verdicts"></div><div id="list"></div><button id="more" hidden>show more</button>
<script type="application/json" id="data">__DATA__</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const $ = (id) => document.getElementById(id);
const PAGE = 200;
let shown = PAGE;
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function opt(sel, value, label) { const o = el("option", null, label); o.value = value; sel.appendChild(o); }
function setup() {
  $("runs").textContent = D.runs.map((r, i) => (D.runs.length > 1 ? "ABCD"[i] + " = " : "run ") + r).join("   ");
  opt($("task"), "", "all tasks");
  D.tasks.forEach((t, i) => opt($("task"), String(i), t + " (" + D.labels[t] + ")"));
  opt($("status"), "", "any status");
  D.statuses.forEach((s) => opt($("status"), s, s.replaceAll("_", " ")));
  for (const k of ["lost", "gained", "changed"]) opt($("status"), "diff:" + k, "diff: " + k);
  const skills = new Set();
  Object.values(D.problems).forEach((p) => p.sk.forEach((s) => skills.add(s)));
  opt($("skill"), "", skills.size ? "any skill" : "no skill labels");
  [...skills].sort().forEach((s) => opt($("skill"), s, s));
  opt($("run"), "", "all runs");
  D.runs.forEach((r, i) => opt($("run"), String(i), "ABCD"[i] + ": " + r));
  if (D.runs.length < 2) $("run").parentNode.hidden = true;
  if (D.tasks_diff) opt($("view"), "diff", "changed problems (A vs B)");
  else $("view").parentNode.hidden = true;
  fromHash();
  for (const id of ["view", "task", "status", "skill", "run"]) $(id).addEventListener("change", () => { shown = PAGE; update(); });
  $("q").addEventListener("input", () => { shown = PAGE; update(); });
  $("more").addEventListener("click", () => { shown += PAGE; render(); });
}
function fromHash() {
  const h = new URLSearchParams(location.hash.replace(/^#/, ""));
  for (const id of ["view", "task", "status", "skill", "run", "q"]) {
    if (!h.has(id)) continue;
    let v = h.get(id);
    if (id === "task" && !/^[0-9]+$/.test(v)) v = String(D.tasks.indexOf(v));
    $(id).value = v;
  }
}
function toHash() {
  const h = new URLSearchParams();
  for (const id of ["view", "task", "status", "skill", "run", "q"]) {
    let v = $(id).value;
    if (!v || (id === "view" && v === "samples")) continue;
    if (id === "task") v = D.tasks[+v];
    h.set(id, v);
  }
  const s = h.toString();
  try { history.replaceState(null, "", s ? "#" + s : location.pathname); } catch (e) { /* file: URLs */ }
}
function kindOf() {
  const m = {};
  if (!D.tasks_diff) return m;
  D.tasks.forEach((t, ti) => ((D.tasks_diff[t] || {}).problems || []).forEach((p) => { m[ti + "\\x1f" + p[0]] = p; }));
  return m;
}
const KIND = kindOf();
function matchText(q, parts) {
  if (!q) return true;
  return parts.some((x) => x !== null && x !== undefined && String(x).toLowerCase().includes(q));
}
let RESULT = [];
function update() {
  toHash();
  const view = $("view").value, task = $("task").value, st = $("status").value, sk = $("skill").value;
  const run = $("run").value, q = $("q").value.trim().toLowerCase();
  const probOk = (key) => {
    const p = D.problems[key];
    if (task !== "" && String(p.t) !== task) return false;
    if (sk && !p.sk.includes(sk)) return false;
    if (st.startsWith("diff:") && !(KIND[key] && KIND[key][1] === st.slice(5))) return false;
    return true;
  };
  if (view === "diff") {
    const by = {};
    for (const s of D.samples) (by[s.k] = by[s.k] || []).push(s);
    RESULT = Object.keys(KIND).filter((key) => {
      if (!probOk(key)) return false;
      const ss = (by[key] || []).filter((s) => run === "" || String(s.r) === run);
      if (st && !st.startsWith("diff:") && !ss.some((s) => s.tags.includes(st))) return false;
      const p = D.problems[key];
      return matchText(q, [p.id, p.text, p.ref].concat(ss.flatMap((s) => [s.x, s.resp])));
    }).map((key) => ({ key, samples: by[key] || [] }));
  } else {
    RESULT = D.samples.filter((s) => {
      if (!probOk(s.k)) return false;
      if (run !== "" && String(s.r) !== run) return false;
      if (st && !st.startsWith("diff:") && !s.tags.includes(st)) return false;
      const p = D.problems[s.k];
      return matchText(q, [p.id, p.text, p.ref, s.x, s.resp, s.reason]);
    });
  }
  render();
}
function sampleBox(s) {
  const box = el("div", "sample");
  const head = el("div", "head");
  head.appendChild(el("span", null, (D.runs.length > 1 ? "ABCD"[s.r] + " " : "") + "sample " + s.s + " "));
  s.tags.forEach((t) => head.appendChild(el("span", "tag " + t, t)));
  head.appendChild(el("span", null, " extracted: "));
  head.appendChild(el("b", "extracted", s.x === null ? "(none)" : s.x));
  if (s.tok !== null && s.tok !== undefined) head.appendChild(el("span", null, " · " + s.tok + " tokens"));
  if (s.fin) head.appendChild(el("span", null, " · " + s.fin));
  box.appendChild(head);
  if (s.reason) { const d = el("details"); d.appendChild(el("summary", null, "reasoning")); d.appendChild(el("pre", "reasoning", s.reason)); box.appendChild(d); }
  box.appendChild(el("pre", "response", s.resp));
  return box;
}
function problemHead(key, extra) {
  const p = D.problems[key];
  const head = el("div", "head");
  head.appendChild(el("span", null, D.tasks[p.t] + " · problem "));
  head.appendChild(el("b", "pid", p.id));
  head.appendChild(el("span", null, " · reference: "));
  head.appendChild(el("b", "ref", p.ref));
  p.sk.forEach((s) => head.appendChild(el("span", "tag skill", s)));
  if (extra) head.appendChild(extra);
  const d = el("details");
  d.appendChild(el("summary", null, "problem"));
  d.appendChild(el("pre", "problem", p.text));
  return [head, d];
}
function render() {
  const list = $("list");
  list.replaceChildren();
  $("verdicts").replaceChildren();
  const view = $("view").value;
  if (view === "diff") {
    D.tasks.forEach((t, i) => {
      const td = D.tasks_diff[t];
      if (td && ($("task").value === "" || $("task").value === String(i))) $("verdicts").appendChild(el("div", "verdict", t + "  " + td.verdict));
    });
  }
  const total = view === "diff" ? Object.keys(KIND).length : D.samples.length;
  $("count").textContent = RESULT.length + " of " + total + (view === "diff" ? " changed problems" : " samples") + " match";
  for (const item of RESULT.slice(0, shown)) {
    const box = el("div", "item");
    if (view === "diff") {
      const k = KIND[item.key];
      const td = D.tasks_diff[D.tasks[D.problems[item.key].t]];
      const tag = el("span", "tag " + k[1], td.heads[k[1]] + " " + (100 * k[2]).toFixed(0) + " → " + (100 * k[3]).toFixed(0));
      problemHead(item.key, tag).forEach((x) => box.appendChild(x));
      const cols = el("div", "cols");
      for (const r of [0, 1]) {
        const c = el("div", "col");
        item.samples.filter((s) => s.r === r).forEach((s) => c.appendChild(sampleBox(s)));
        cols.appendChild(c);
      }
      box.appendChild(cols);
    } else {
      problemHead(item.k).forEach((x) => box.appendChild(x));
      box.appendChild(sampleBox(item));
    }
    const pk = D.problems[view === "diff" ? item.key : item.k];
    box.dataset.task = D.tasks[pk.t];
    box.dataset.id = pk.id;
    list.appendChild(box);
  }
  $("more").hidden = RESULT.length <= shown;
}
setup();
update();
</script></body></html>
"""
