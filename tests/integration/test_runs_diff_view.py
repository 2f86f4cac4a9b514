"""`statbench runs diff` and `statbench runs view` on fixed run records with planted flips and hostile
sample text; the viewer page is filtered in real headless Chromium; `regress --markdown` carries the flips."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from harness.core.tasks import task_docs
from harness.records.models import STORED, ResolvedSpec, SampleRow, TaskResult
from harness.records.store import write_run
from harness.reporting.diff import diff_runs, to_html
from harness.reporting.viewer import build_view, json_island
from tests.helpers.cli import statbench

MATH = "statbench_math500"
AMC = "statbench_amc23"
HOSTILE = (
    "</script><script>document.title='pwned'</script><img src=x onerror=\"document.title='img'\">\u2028&amp;"
)
PLANT = "zebra-quokka-42"


def _run(runs: Path, name: str, math_correct, amc_correct, responses=None) -> Path:
    docs, amc = task_docs(MATH)[:60], task_docs(AMC)[:10]
    responses = responses or {}
    math_rows = [
        SampleRow(
            id=d["id"],
            doc_id=j,
            sample=0,
            response=responses.get(d["id"], f"the answer is {'R' if math_correct(j) else 'W'}{j}"),
            reference=str(d["answer"]),
            correct=math_correct(j),
            extracted=d["answer"] if math_correct(j) else f"wrong-{name}-{j}",
            status="ok" if j % 7 else "no_answer",
            truncated=j % 11 == 0,
            tokens=10,
            method="number",
        )
        for j, d in enumerate(docs)
    ]
    amc_rows = [
        SampleRow(
            id=d["id"],
            doc_id=j,
            sample=s,
            response=f"amc {j} {s}",
            reference=str(d["answer"]),
            correct=amc_correct(j, s),
            extracted="1" if amc_correct(j, s) else "2",
            status="ok",
            method="number",
        )
        for j, d in enumerate(amc)
        for s in range(4)
    ]
    results = {
        t: TaskResult(task=t, metric="avg_at_k", metric_label=lbl, value=0.0, n=n, k=k, protocol="stat-paper")
        for t, lbl, n, k in ((MATH, "pass@1", 60, 1), (AMC, "avg@4", 10, 4))
    }
    spec = ResolvedSpec.model_validate(
        {
            "kind": "eval",
            "spec_hash": name.ljust(64, "0"),
            "spec": {"model": f"/ckpt/{name}", "tasks": [MATH, AMC], "protocol": "stat-paper"},
        },
        context=STORED,
    )
    return write_run(
        runs,
        f"20260101T00000{len(list(runs.glob('2*')))}-{name}",
        spec,
        results,
        {},
        {MATH: math_rows, AMC: amc_rows},
    )


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    runs = tmp_path_factory.mktemp("diffruns") / "runs"
    runs.mkdir()
    ids = [d["id"] for d in task_docs(MATH)[:60]]
    a = _run(runs, "base", lambda j: j < 40, lambda j, s: j < 5)
    # B: loses problems 30-39 (10 flips, problem 33 with a hostile response), gains 45, and problem 50
    # stays wrong with another answer (extracted answers embed the run name); amc problem 0 drops 4/4 -> 1/4
    b = _run(
        runs,
        "cand",
        lambda j: j < 30 or j == 45,
        lambda j, s: j < 5 and (j > 0 or s == 0),
        responses={ids[33]: f"{PLANT} {HOSTILE}"},
    )
    return runs, a, b, ids


def test_diff_finds_planted_flips(two_runs):
    runs, a, b, ids = two_runs
    diffs = {d.task: d for d in diff_runs(a, b)}
    m = diffs[MATH]
    assert [p.id for p in m.lost] == ids[30:40]
    assert [p.id for p in m.gained] == [ids[45]]
    # every problem wrong in both runs changed its answer (the answers carry the run name)
    assert [p.id for p in m.changed] == [i for j, i in enumerate(ids) if j >= 40 and j != 45]
    assert m.verdict.test == "mcnemar-exact" and m.verdict.n == 60 and m.k == 1
    assert m.heading("lost") == "pass→fail" and m.heading("gained") == "fail→pass"
    planted = next(p for p in m.lost if p.id == ids[33])
    assert planted.a[0].correct and not planted.b[0].correct and PLANT in planted.b[0].response
    amc = diffs[AMC]
    assert amc.k == 4 and amc.verdict.test == "paired-bootstrap"
    assert [(p.score_a, p.score_b) for p in amc.lost] == [(1.0, 0.25)] and not amc.gained
    assert not amc.changed  # problems wrong in both runs kept the same answer


def test_runs_diff_cli_text_and_html(two_runs, tmp_path):
    runs, a, b, ids = two_runs
    page = tmp_path / "diff.html"
    res = statbench(
        "runs", "diff", a.name, b.name, "--runs-dir", runs, "--task", MATH, "--html", page, "--show", "20"
    )
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert f"{MATH}  pass@1: 66.7 → 51.7" in out and "mcnemar-exact, n=60" in out
    assert "pass→fail 10, fail→pass 1, changed answer, wrong in both 19 (of 60 paired problems)" in out
    assert f"problem {ids[33]}" in out and PLANT in out and AMC not in out
    assert "\u2028" not in out  # one terminal line per sample
    text = page.read_text()
    assert "<script" not in text.replace("&lt;script", "")  # no script of its own, the hostile one escaped
    assert html.escape(HOSTILE.replace("\u2028", "\ufffd")) in text
    assert text.count('data-kind="lost"') == 10 and f'data-id="{html.escape(ids[33])}"' in text
    # usage errors are one line, exit 2
    bad = statbench("runs", "diff", a.name, "nope", "--runs-dir", runs)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no run matches 'nope'" in bad.stderr
    bad = statbench("runs", "diff", a.name, b.name, "--runs-dir", runs, "--task", "statbench_gsm8k")
    assert bad.returncode == 2 and "not in both runs" in bad.stderr


def test_diff_html_escapes(two_runs):
    _, a, b, _ = two_runs
    text = to_html(diff_runs(a, b, [MATH]), "<b>A</b>", "B")
    assert "<b>A</b>" not in text and "&lt;b&gt;A&lt;/b&gt;" in text and "<img" not in text


def test_regress_markdown_has_top_flips(two_runs, tmp_path):
    runs, a, b, ids = two_runs
    md = tmp_path / "r.md"
    res = statbench("regress", "--runs-dir", runs, "--baseline", a, "--candidate", b, "--markdown", md)
    assert res.returncode == 1, res.stdout + res.stderr  # 66.7 -> 51.7 on 60 problems: significant
    text = md.read_text()
    assert f"#### {MATH}: 10 pass→fail, 1 fail→pass" in text
    rows = [line for line in text.splitlines() if line.startswith(f"| {ids[30]} |")]
    assert len(rows) == 1 and "100.0 → 0.0" in rows[0]
    assert "<" not in text  # sample text cannot become HTML in a PR comment
    from harness.reporting import power

    mde = power.mde(60, 1, 40 / 60, 0.05, 0.01)
    assert f"| mcnemar-exact | 60 | {100 * mde:.1f} |" in text and "MDE: the smallest drop" in res.stdout
    planted = next(line for line in text.splitlines() if PLANT in line)
    assert planted.count(" | ") == 5 and "\\|" not in planted.split(PLANT)[0]  # one row, six cells


def test_json_island_cannot_close_the_script():
    island = json_island({"x": HOSTILE + "\u2029\ud800"})
    assert "<" not in island and ">" not in island and "&" not in island
    assert "\u2028" not in island and "\u2029" not in island and island.isascii()


def test_view_page_contents(two_runs):
    _, a, b, ids = two_runs
    page, n = build_view(b)
    assert n == 60 + 40
    island = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S).group(1)
    assert "document.title" in island and "<" not in island  # the hostile text is there, escaped
    assert page.count("</script>") == 2  # the data island and the viewer script, nothing else


def _chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        pytest.skip("chromium is not installed here (CI installs it: apt-get install chromium)")
    return exe


def _dom(exe: str, page: Path, fragment: str) -> str:
    url = page.resolve().as_uri() + "#" + fragment
    res = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=180,
    )
    return res.stdout


def _items(dom: str) -> list[tuple[str, str]]:
    return [
        (html.unescape(t), html.unescape(i))
        for t, i in re.findall(r'<div class="item" data-task="([^"]*)" data-id="([^"]*)">', dom)
    ]


def test_viewer_filters_in_headless_chromium(two_runs, tmp_path):
    exe = _chromium()
    runs, a, b, ids = two_runs
    page = tmp_path / "view.html"
    res = statbench("runs", "view", b.name, "--runs-dir", runs, "--out", page)
    assert res.returncode == 0 and res.stdout.strip() == str(page), res.stderr
    # text search finds the planted sample, and only it; the hostile text is shown as text, never run
    dom = _dom(exe, page, "q=" + urllib.parse.quote(PLANT))
    assert _items(dom) == [(MATH, ids[33])], dom[-2000:]
    assert "<title>statbench sample viewer</title>" in dom and "pwned" in dom and "<img" not in dom
    assert "1 of 100 samples match" in dom
    # status + task filters: the truncated samples of math500 (every 11th problem)
    dom = _dom(exe, page, f"task={MATH}&status=truncated")
    assert _items(dom) == [(MATH, ids[j]) for j in range(0, 60, 11)]
    # skill filter: exactly the problems carrying that label in the bundled data
    skill = task_docs(MATH)[33]["skills"][0]
    want = [(MATH, d["id"]) for d in task_docs(MATH)[:60] if skill in (d.get("skills") or [])]
    dom = _dom(exe, page, f"skill={urllib.parse.quote(skill)}")
    assert _items(dom) == want and want
    # two runs: the diff view lists the changed problems; the planted flip is among the pass→fail ones
    page2 = tmp_path / "view2.html"
    assert statbench("runs", "view", a.name, b.name, "--runs-dir", runs, "-o", page2).returncode == 0
    dom = _dom(exe, page2, f"view=diff&task={MATH}&status=diff:lost")
    assert _items(dom) == [(MATH, i) for i in ids[30:40]]
    dom = _dom(exe, page2, "view=diff&q=" + urllib.parse.quote(PLANT))
    assert _items(dom) == [(MATH, ids[33])] and "pass→fail 100 → 0" in dom
