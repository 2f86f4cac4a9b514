"""Leaderboards: real tiny-model runs -> README.md / table.csv / index.html, rendered in headless Chromium;
golden markdown/CSV for a fixed set of run records; gaps, reported rows, byte-stability, bad board files."""

from __future__ import annotations

import csv
import html
import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from harness.core.errors import SpecError
from harness.core.protocols import render
from harness.core.tasks import TASKS, task_docs
from harness.evaluation.runner import run_eval, spec_from_cli
from harness.records.models import STORED, ResolvedSpec, SampleRow, TaskResult
from harness.records.store import write_run
from harness.reporting.render import generate
from tests.helpers.cli import statbench

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "leaderboard"
BOARD = """title: {title}
protocol: stat-paper
columns: [statbench_math_test4k, statbench_gsm8k, statbench_amc23]
base: base
skills_task: statbench_math_test4k
reference_model: Llama-3.2-3B-Instruct
groups:
  - name: SFT
    rows:
      - {{id: base, label: Base Model, labels: {{method: base}}}}
      - {{id: stat-sel, label: STAT-Sel, labels: {{method: stat-sel, stage: sft}}}}
  - name: SFT+GRPO
    rows:
      - {{id: stat-sel-grpo, label: STAT-Sel, labels: {{method: stat-sel, stage: grpo}}}}
"""


def _board(folder: Path, title: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "board.yaml").write_text(BOARD.format(title=title))
    return folder


# ----------------------------------------------------------------------------------- tiny model runs
@pytest.fixture(scope="module")
def tiny_board(tiny_model, tmp_path_factory):
    runs = tmp_path_factory.mktemp("lb_runs")
    for seed in (0, 1):
        for method, stage in (("base", "sft"), ("stat-sel", "sft")):
            spec = spec_from_cli(
                str(tiny_model),
                "hf",
                ["statbench_math_test4k", "statbench_gsm8k", "statbench_amc23"],
                limit=4,
                max_gen_toks=8,
                seed=seed + (10 if method != "base" else 0),
                labels={"method": method, "stage": stage},
            )
            run_eval(spec, runs)
    board = _board(tmp_path_factory.mktemp("boards") / "tiny", "Tiny model board")
    r = statbench("leaderboard", board, "--runs-dir", runs, timeout=600)
    assert r.returncode == 0, r.stderr
    return board, runs, r


@pytest.mark.slow  # four real tiny-model runs (~1000 generations); the golden test covers rendering
def test_tiny_runs_make_the_three_files(tiny_board):
    board, runs, r = tiny_board
    readme, csv_, html = (board / n for n in ("README.md", "table.csv", "index.html"))
    assert readme.is_file() and csv_.is_file() and html.is_file()
    text = readme.read_text()
    assert (
        "| Base Model | " in text
        and "(n=4, k=1×2 seeds)" in text
        and "AMC23 (40, Qwen) (n=4, k=64×2 seeds)" in text
    )
    cells = {(c["row"], c["task"]): c for c in csv.DictReader(csv_.open()) if c["row"]}
    assert len(cells) == 9 and all(
        c["status"] == "ok" and c["value"] for (row, _), c in cells.items() if row != "stat-sel-grpo"
    )
    grpo = [c for (row, _), c in cells.items() if row == "stat-sel-grpo"]
    assert len(grpo) == 3 and all(
        c["status"] == "no run" and c["value"] == "" for c in grpo
    )  # gaps, not zeros
    assert "| STAT-Sel | — | — | — |" in text  # and the markdown shows them as gaps
    assert "*(reported)*" in text and "51.5" in text  # the paper's STAT-Sel MATH, visibly marked
    assert "Per-skill accuracy on MATH-4k" in text and "Failures per skill" in text
    assert "| MATH-4k (n=4" in r.stdout  # the CLI prints the table
    before = {p.name: p.read_bytes() for p in board.iterdir()}
    generate(board, runs)
    assert {p.name: p.read_bytes() for p in board.iterdir()} == before  # byte-stable


# What the page looks like, measured in the browser: a script added to a copy of index.html writes the layout
# facts into the DOM, which --dump-dom returns.
_LAYOUT_JS = """<script>window.addEventListener('load', () => {
const out = {}; const page = document.querySelector('h1').getBoundingClientRect().width; out.page = page;
out.charts = [...document.querySelectorAll('svg.chart')].map(s => [s.getAttribute('aria-label'),
  s.getBoundingClientRect().width, s.getAttribute('data-axis')]);
const fills = {}; document.querySelectorAll('[data-row][data-fill]').forEach(e => {
  (fills[e.dataset.row] = fills[e.dataset.row] || new Set()).add(e.getAttribute('fill')); });
out.fills = Object.fromEntries(Object.entries(fills).map(([k, v]) => [k, [...v]]));
out.clipped = []; document.querySelectorAll('svg.chart text').forEach(t => {
  const s = t.ownerSVGElement.getBoundingClientRect(), b = t.getBoundingClientRect();
  if (b.left < s.left - 1 || b.right > s.right + 1 || b.top < s.top - 1 || b.bottom > s.bottom + 1)
    out.clipped.push(t.textContent); });
out.overflow = [...document.querySelectorAll('th, td')].filter(c => c.scrollWidth > c.clientWidth + 1)
  .map(c => c.textContent);
out.wide = [...document.querySelectorAll('.scroll')].filter(d => d.scrollWidth > d.clientWidth + 1).length;
out.heads = [...document.querySelectorAll('table.heatmap th')].map(c => c.textContent.trim());
const fail = document.querySelector('svg[aria-label="failures per skill"]');
out.failBars = fail ? fail.querySelectorAll('rect[data-row]').length : 0;
out.failValues = fail ? fail.querySelectorAll('text.val').length : 0;
out.text = document.body.innerText;
const pre = document.createElement('pre'); pre.id = 'layout-check'; pre.textContent = JSON.stringify(out);
document.body.appendChild(pre); });</script>"""


def _chromium():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        pytest.skip("chromium is not installed here (CI installs it: apt-get install chromium)")
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]


def _layout(board: Path, tmp_path: Path) -> tuple[str, dict]:
    """The page's DOM after load and the layout facts measured in it, at a 1400 px wide window."""
    page = tmp_path / "measured.html"
    page.write_text((board / "index.html").read_text().replace("</body>", _LAYOUT_JS + "</body>"))
    dom = subprocess.run(
        [*_chromium(), "--window-size=1400,1200", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    m = re.search(r'<pre id="layout-check">(.*?)</pre>', dom, re.S)
    assert m, dom[-2000:]
    return dom, json.loads(html.unescape(m.group(1)))


def _assert_reads_well(board, facts: dict) -> None:
    """One style per row in every chart, distinct between rows; charts use the page; nothing cut; no -0.0."""
    spec = board.spec
    rows = [r for g in spec.groups for r in g.rows]
    filled = [r.id for r in rows if any(board.cells[(r.id, t)].value is not None for t in spec.columns)]
    fills = facts["fills"]
    assert set(filled) <= set(fills), (filled, fills)
    assert all(len(v) == 1 for v in fills.values()), fills  # the same colour/pattern in every chart
    assert len({v[0] for v in fills.values()}) == len(fills)  # and no two rows alike (16 rows: no repeat)
    page = facts["page"]
    for label, width, axis in facts["charts"]:
        assert width >= 0.4 * page, (label, width, page)  # ~150 px charts on a 1400 px page were unreadable
        assert axis != "0..100", label  # zoomed to the data, so 58 -> 64 is visible
    assert not facts["clipped"], facts["clipped"]  # no label runs off its chart
    assert not facts["overflow"] and not facts["wide"], facts[
        "overflow"
    ]  # no cell cut, no table wider than page
    assert facts["failBars"] and facts["failBars"] == facts["failValues"]  # every failure bar has its value
    assert "axis zoomed to the data" in facts["text"]
    assert not re.search(r"-0\.0(?!\d)", facts["text"])
    for r in rows:  # full headers (once cut to 18 characters: "Base Model (GRPO o")
        assert any(h.endswith(r.label) for h in facts["heads"]), (r.label, facts["heads"])


@pytest.mark.slow  # same runs, and a browser
def test_html_renders_in_headless_chromium(tiny_board, tmp_path):
    board, runs, _ = tiny_board
    dom, facts = _layout(board, tmp_path)
    rows = re.findall(r'<tr class="row" data-row="([^"]+)">(.*?)</tr>', dom)
    assert [r[0] for r in rows] == ["base", "stat-sel", "stat-sel-grpo"]
    assert "SFT: Base Model" in rows[0][1]
    assert dom.count('<tr class="reported">') == 16 and dom.count("<svg") >= 3
    _assert_reads_well(generate(board, runs)["board"], facts)
    shot = tmp_path / "board.png"
    subprocess.run(
        [*_chromium(), f"--screenshot={shot}", "--window-size=1400,1600", (board / "index.html").as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_a_sixteen_row_board_reads_well_in_chromium(tmp_path):
    """The shipped 16-row layout (8 methods x SFT, SFT+GRPO; 2 seeds each), measured in a real browser."""
    chromium = _chromium()
    runs = tmp_path / "runs"
    methods = [
        "base",
        "math-train",
        "math-augment",
        "math-hard",
        "embed-sel",
        "embed-syn",
        "stat-sel",
        "stat-syn",
    ]
    plan = [
        (m, stage, seed, 0.40 + 0.02 * mi + 0.03 * si + 0.03 * seed)
        for si, stage in enumerate(["sft", "grpo"])
        for mi, m in enumerate(methods)
        for seed in (0, 1)
    ]
    tasks = {"statbench_math_test4k": (60, 1), "statbench_gsm8k": (40, 1), "statbench_amc23": (10, 2)}
    _synthetic_runs(runs, plan, tasks, labels={"student": "llama-3.2-3b-instruct"})
    board = tmp_path / "board"
    board.mkdir()
    shipped = yaml.safe_load((ROOT / "leaderboards" / "stat-llama-3.2-3b" / "board.yaml").read_text())
    (board / "board.yaml").write_text(yaml.safe_dump({**shipped, "columns": list(tasks)}))
    built = generate(board, runs)["board"]
    _, facts = _layout(board, tmp_path)
    _assert_reads_well(built, facts)
    assert len(facts["fills"]) == 16
    # a label shared by an SFT and an SFT+GRPO row keeps its colour, the second one patterned
    assert facts["fills"]["stat-sel"][0].startswith("#") and facts["fills"]["stat-sel-grpo"][0].startswith(
        "url(#"
    )
    shot = tmp_path / "board16.png"
    subprocess.run(
        [*chromium, f"--screenshot={shot}", "--window-size=1400,3000", (board / "index.html").as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------------- golden
TASKS3 = {"statbench_math_test4k": (40, 1), "statbench_gsm8k": (30, 1), "statbench_amc23": (10, 4)}
GOLDEN_PLAN = [("base", "sft", 0, 0.45), ("base", "sft", 1, 0.45), ("stat-sel", "sft", 0, 0.6)]


def _synthetic_runs(
    runs: Path,
    plan=GOLDEN_PLAN,
    tasks=TASKS3,
    max_gen_toks: int | dict[str, int] = 16,
    labels: dict[str, str] | None = None,
) -> list[str]:
    """Fixed run records: the same inputs must always give the same markdown and CSV.

    ``plan``: (method, stage, seed, accuracy[, max_gen_toks]); each record carries the generation config
    the protocol renders (``--max-gen-toks`` as given), as a real run's spec.json does. Returns the run ids.
    """
    ids = []
    for i, (method, stage, seed, acc, *toks) in enumerate(plan):
        rng = random.Random(f"{method}-{seed}")
        samples, results, configs = {}, {}, {}
        for task, (n, k) in tasks.items():
            docs = task_docs(task)[:n]
            rows = [
                SampleRow(
                    id=d["id"],
                    doc_id=j,
                    sample=s,
                    response="",
                    reference="",
                    correct=(c := rng.random() < acc),
                    extracted="1" if c else "2",
                    status="ok",
                    method="number",
                )
                for j, d in enumerate(docs)
                for s in range(k)
            ]
            samples[task] = rows
            results[task] = TaskResult(
                task=task,
                metric="avg_at_k",
                metric_label="pass@1" if k == 1 else f"avg@{k}",
                value=0.0,
                n=n,
                k=k,
                protocol="stat-paper",
            )
            configs[task] = render("stat-paper", TASKS[task].family)
            configs[task]["generation_kwargs"]["max_gen_toks"] = toks[0] if toks else max_gen_toks
            configs[task]["repeats"] = k
        spec = ResolvedSpec.model_validate(
            {
                "kind": "eval",
                "spec_hash": f"{i:064d}",
                "spec": {
                    "model": f"/ckpt/{method}",
                    "backend": "hf",
                    "tasks": list(tasks),
                    "protocol": "stat-paper",
                    "seed": seed,
                    "labels": {"method": method, "stage": stage, **(labels or {})},
                },
                "tasks": configs,
                "chat_template": {"mode": "off"},
                "versions": {"checker": "1.0"},
            },
            context=STORED,
        )
        run_id = (
            f"2026010{i + 1}T000000-{method}-s{seed}" if i < 9 else f"202601{i + 1}T000000-{method}-s{seed}"
        )
        write_run(runs, run_id, spec, results, {"created": f"2026-01-{i + 1:02d}T00:00:00Z"}, samples)
        ids.append(run_id)
    return ids


def test_golden_markdown_and_csv(tmp_path):
    runs = tmp_path / "runs"
    _synthetic_runs(runs)
    board = _board(tmp_path / "golden", "Golden board")
    generate(board, runs)
    for name in ("README.md", "table.csv"):
        got = (board / name).read_text()
        if os.environ.get("STATBENCH_UPDATE_GOLDEN"):
            GOLDEN.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_text(got)
        assert got == (GOLDEN / name).read_text(), (
            f"{name} differs from tests/golden/leaderboard/{name} "
            "(intended? regenerate with STATBENCH_UPDATE_GOLDEN=1)"
        )


def test_board_without_runs_is_all_gaps(tmp_path):
    board = _board(tmp_path / "empty", "Empty")
    out = generate(board, tmp_path / "no-runs")
    assert all(c.value is None for c in out["board"].cells.values())
    text = (board / "README.md").read_text()
    assert "(no runs)" in text and "| Base Model | — | — | — | — | base |" in text


@pytest.mark.parametrize(
    "yaml_text,msg",
    [
        (
            "title: x\ncolumns: [statbench_gsm8k]\ngroups: []\nextra_key: 1\n",
            "extra_key: Extra inputs are not permitted",
        ),
        ("title: x\ncolumns: [statbench_nope]\ngroups: []\n", "unknown task(s) statbench_nope"),
        (
            "title: x\ncolumns: [statbench_gsm8k]\nbase: b\ngroups: [{name: g, rows: [{id: a, label: A}]}]\n",
            "base: 'b' is not a row id",
        ),
        ("title: [unclosed\n", "invalid YAML"),
        (
            "title: x\ncolumns: [statbench_gsm8k]\nskills_task: statbench_math_test4k\ngroups: []\n",
            "skills_task 'statbench_math_test4k' must also be one of the board's columns",
        ),
    ],
)
def test_bad_board_files_name_the_file_and_key(tmp_path, yaml_text, msg):
    (tmp_path / "board.yaml").write_text(yaml_text)
    with pytest.raises(SpecError, match=re.escape(msg)) as e:
        generate(tmp_path, tmp_path / "runs")
    assert str(tmp_path / "board.yaml") in str(e.value)


# ----------------------------------------------------------------------------------- settings (#14.12)
def test_a_cell_refuses_runs_made_with_different_settings(tmp_path):
    """Seed 0 at --max-gen-toks 24 and seed 1 at 16, same labels: refused, naming both runs and the setting."""
    runs = tmp_path / "runs"
    a, b = _synthetic_runs(runs, [("base", "sft", 0, 0.5, 24), ("base", "sft", 1, 0.5, 16)])
    board = _board(tmp_path / "b", "Mixed")
    with pytest.raises(SpecError) as e:
        generate(board, runs)
    msg = str(e.value)
    assert a in msg and b in msg and "max_gen_toks 24 vs 16" in msg and "row 'base'" in msg
    assert "\n" not in msg and not (board / "README.md").exists()
    r = statbench("leaderboard", board, "--runs-dir", runs)  # the CLI: one line, exit 2
    assert r.returncode == 2 and "max_gen_toks 24 vs 16" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_cell_refuses_runs_with_different_k(tmp_path):
    runs = tmp_path / "runs"
    _synthetic_runs(runs, [("base", "sft", 0, 0.5)], tasks={"statbench_amc23": (10, 4)})
    _synthetic_runs(tmp_path / "other", [("base", "sft", 1, 0.5)], tasks={"statbench_amc23": (10, 2)})
    for d in (tmp_path / "other").iterdir():
        if d.is_dir():
            shutil.move(str(d), runs / (d.name.replace("20260101", "20260109")))
    (runs / "index.sqlite").unlink()
    board = _board(tmp_path / "b", "k")
    with pytest.raises(SpecError, match=r"samples per problem \(k\): \S+ 4 vs \S+ 2"):
        generate(board, runs)


def test_footnote_states_the_settings_the_runs_used(tmp_path):
    """Every run used 16 new tokens: the footnote says so (and names the protocol's 2048 only as its default);
    rows of one column made with different settings are marked † and each setting is listed with its rows."""
    runs = tmp_path / "runs"
    _synthetic_runs(runs, [("base", "sft", 0, 0.5, 16), ("stat-sel", "sft", 0, 0.6, 24)])
    board = _board(tmp_path / "b", "Settings")
    generate(board, runs)
    text = (board / "README.md").read_text()
    foot = next(line for line in text.splitlines() if line.startswith("[^protocol]:"))
    assert "at most 16 new tokens (the protocol's default is 2048), chat template off (Base Model)" in foot
    assert (
        "at most 24 new tokens (the protocol's default is 2048), chat template off (STAT-Sel (SFT))" in foot
    )
    assert "MATH-4k pass@1 †" in foot and "k=1, T=0.1" in foot and "chat template off" in foot
    assert "| MATH-4k (n=40, k=1)†" in text and "† the rows of this column" in text
    html = (board / "index.html").read_text()
    assert "at most 24 new tokens" in html and "at most 16 new tokens" in html
    cells = list(csv.DictReader((board / "table.csv").open()))
    assert {c["max_new_tokens"] for c in cells if c["status"] == "ok"} == {"16", "24"}


# ----------------------------------------------------------------------------------- no silent wipe (#14.13)
def test_regenerating_from_the_wrong_runs_dir_is_refused(tmp_path):
    exp = tmp_path / "experiments" / "demo"
    runs = exp / "runs"
    _synthetic_runs(runs)
    board = _board(exp / "board", "Experiment board")
    generate(board, runs)
    before = {p.name: p.read_bytes() for p in board.iterdir()}
    r = statbench("leaderboard", board, "--runs-dir", tmp_path / "runs")  # the default `runs/`, elsewhere
    assert r.returncode == 2 and "Traceback" not in r.stderr
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "would empty 6 of the board's 6 filled cells" in line and str(tmp_path / "runs") in line
    assert f"--runs-dir {runs}" in line and "--allow-shrink" in line  # the board's own runs dir is suggested
    assert {p.name: p.read_bytes() for p in board.iterdir()} == before  # nothing overwritten
    assert statbench("leaderboard", board, "--runs-dir", runs).returncode == 0  # the right runs: fine
    r = statbench("leaderboard", board, "--runs-dir", tmp_path / "runs", "--allow-shrink")
    assert r.returncode == 0 and "0/9 cells from 0 run(s)" in r.stderr and "(no such folder)" in r.stderr
    assert "| Base Model | — | — | — |" in (board / "README.md").read_text()


def test_growing_or_editing_a_board_is_not_a_shrink(tmp_path):
    runs = tmp_path / "runs"
    _synthetic_runs(runs, GOLDEN_PLAN[:1])
    board = _board(tmp_path / "b", "Grow")
    generate(board, runs)
    _synthetic_runs(tmp_path / "more", GOLDEN_PLAN)  # more runs: more cells, nothing lost
    generate(board, tmp_path / "more")
    (board / "board.yaml").write_text(BOARD.format(title="Grow").split("  - name: SFT+GRPO")[0])
    generate(board, tmp_path / "more")  # a row removed from board.yaml is an edit, not a loss


# ----------------------------------------------------------------------------------- escaping (#14.10)
HOSTILE = 'A | B\nC <script>alert("x")</script> & \\ `d`'


def test_user_text_cannot_break_the_markdown_csv_or_html(tmp_path):
    from markdown_it import MarkdownIt

    runs = tmp_path / "runs"
    _synthetic_runs(runs, GOLDEN_PLAN)
    board = tmp_path / "hostile"
    board.mkdir()
    (board / "board.yaml").write_text(
        yaml.safe_dump(
            {
                "title": HOSTILE,
                "columns": ["statbench_gsm8k"],
                "base": "base",
                "groups": [
                    {
                        "name": "G | 1\n<b>",
                        "rows": [{"id": "base", "label": HOSTILE, "labels": {"method": "base"}}],
                    },
                    {"name": "G2", "rows": [{"id": "x", "label": "x|y", "labels": {"method": "stat-sel"}}]},
                ],
            }
        )
    )
    generate(board, runs)
    text = (board / "README.md").read_text()
    assert text.splitlines()[0] == '# A \\| B C &lt;script&gt;alert("x")&lt;/script&gt; &amp; \\\\ `d`'
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    rows, cells = [], None
    for t in tokens:
        if t.type == "tr_open":
            cells = []
        elif t.type == "inline" and cells is not None:
            cells.append(t.content)
        elif t.type == "tr_close":
            rows.append(cells)
            cells = None
    assert rows and all(len(r) == 4 for r in rows), rows  # | | GSM8K | Avg | Δ: no cell added or split
    assert ["x|y"] in [r[:1] for r in rows] and any(r[0].startswith("A | B C &lt;script&gt;") for r in rows)
    assert "<script>" not in text
    read = list(csv.DictReader((board / "table.csv").open(newline="")))
    assert read[0]["label"] == HOSTILE and read[0]["group"] == "G | 1\n<b>"  # the csv module quotes it
    html = (board / "index.html").read_text()
    assert html.count("<script>") == 1 and "&lt;script&gt;alert(&quot;x&quot;)" in html


# ----------------------------------------------------------------------------------- names (#14.16)
def test_an_unknown_board_name_lists_the_boards(tmp_path):
    for name in ("stat-llama-3.2-3b", "stat-qwen2.5-3b"):
        _board(tmp_path / "leaderboards" / name, name)
    r = statbench("leaderboard", "stat-llama-3b", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1 and "stat-llama-3b: not a board" in line
    assert "did you mean stat-llama-3.2-3b?" in line
    assert "boards in leaderboards/: stat-llama-3.2-3b, stat-qwen2.5-3b" in line
    r = statbench("leaderboard", "nope", "--boards-dir", tmp_path / "empty", cwd=tmp_path)
    assert r.returncode == 2 and "has no boards" in r.stderr
    (tmp_path / "x.txt").write_text("")
    r = statbench("leaderboard", tmp_path / "x.txt", cwd=tmp_path)
    assert r.returncode == 2 and "not a board" in r.stderr


# ----------------------------------------------------------------------------------- seed variance (#15.7)
def test_the_seed_spread_shows_planted_seed_variance(tmp_path):
    """Two seeds at 20 % and 80 %: pooled per problem the CI over problems is narrow, the seed range is not."""
    runs = tmp_path / "runs"
    tasks = {"statbench_gsm8k": (200, 1)}
    _synthetic_runs(
        runs, [("base", "sft", 0, 0.2), ("base", "sft", 1, 0.8), ("stat-sel", "sft", 0, 0.5)], tasks
    )
    board = tmp_path / "b"
    board.mkdir()
    (board / "board.yaml").write_text(
        "title: seeds\ncolumns: [statbench_gsm8k]\nbase: base\ngroups:\n  - name: g\n    rows:\n"
        "      - {id: base, label: Base, labels: {method: base}}\n"
        "      - {id: sel, label: Sel, labels: {method: stat-sel}}\n"
    )
    out = generate(board, runs)
    c = out["board"].cells[("base", "statbench_gsm8k")]
    lo, hi, sd = c.seed_spread
    assert lo < 0.3 and hi > 0.7 and sd > 0.35  # the planted spread
    assert c.ci[1] - c.ci[0] < 0.15 < hi - lo  # the CI over problems alone would hide it
    assert out["board"].cells[("sel", "statbench_gsm8k")].seed_spread is None  # one seed: no spread
    row = next(line for line in (board / "README.md").read_text().splitlines() if line.startswith("| Base |"))
    assert f"; seeds {100 * lo:.1f}–{100 * hi:.1f})" in row
    cell = next(r for r in csv.DictReader((board / "table.csv").open()) if r["row"] == "base")
    assert float(cell["seed_sd"]) == pytest.approx(sd, abs=1e-6) and len(cell["seed_values"].split(";")) == 2
    assert "seeds " in (board / "index.html").read_text()


def test_no_minus_zero_anywhere(tmp_path):
    """A delta that rounds to zero prints 0.0, never -0.0 (README, CSV-free text and HTML)."""
    from harness.reporting.formats import pct, signed_pct

    assert signed_pct(-0.0004) == "0.0" and pct(-0.0001) == "0.0" and signed_pct(-0.02) == "-2.0"
    runs = tmp_path / "runs"
    _synthetic_runs(
        runs, [("base", "sft", 0, 0.5), ("stat-sel", "sft", 0, 0.5)], {"statbench_gsm8k": (30, 1)}
    )
    board = tmp_path / "b"
    board.mkdir()
    (board / "board.yaml").write_text(
        "title: zero\ncolumns: [statbench_gsm8k]\nbase: base\ngroups:\n  - name: g\n    rows:\n"
        "      - {id: base, label: Base, labels: {method: base}}\n"
        "      - {id: sel, label: Sel, labels: {method: stat-sel}}\n"
    )
    generate(board, runs)
    for name in ("README.md", "index.html"):
        assert not re.search(r"-0\.0(?!\d)", (board / name).read_text()), name
