"""Leaderboards: real tiny-model runs -> README.md / table.csv / index.html, rendered in headless Chromium;
golden markdown/CSV for a fixed set of run records; gaps, reported rows, byte-stability, bad board files."""

from __future__ import annotations

import csv
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.core.errors import SpecError
from harness.core.tasks import task_docs
from harness.evaluation.runner import run_eval, spec_from_cli
from harness.records.models import STORED, ResolvedSpec, SampleRow, TaskResult
from harness.records.store import write_run
from harness.reporting.render import generate
from tests.helpers.cli import statbench

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "leaderboard"
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


@pytest.mark.slow  # same runs, and a browser
def test_html_renders_in_headless_chromium(tiny_board, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        pytest.skip("chromium is not installed here (CI installs it: apt-get install chromium)")
    board, _, _ = tiny_board
    flags = ["--headless", "--no-sandbox", "--disable-gpu"]
    url = (board / "index.html").resolve().as_uri()
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120
    ).stdout
    rows = re.findall(r'<tr class="row" data-row="([^"]+)">(.*?)</tr>', dom)
    assert [r[0] for r in rows] == ["base", "stat-sel", "stat-sel-grpo"]
    assert "SFT: Base Model" in rows[0][1]
    assert dom.count('<tr class="reported">') == 16 and dom.count("<svg") >= 3
    shot = tmp_path / "board.png"
    subprocess.run(
        [chromium, *flags, f"--screenshot={shot}", "--window-size=1300,1600", url],
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


# ----------------------------------------------------------------------------------- golden
def _synthetic_runs(runs: Path) -> None:
    """Fixed run records: the same inputs must always give the same markdown and CSV."""
    tasks = {"statbench_math_test4k": (40, 1), "statbench_gsm8k": (30, 1), "statbench_amc23": (10, 4)}
    plan = [("base", "sft", 0, 0.45), ("base", "sft", 1, 0.45), ("stat-sel", "sft", 0, 0.6)]
    for i, (method, stage, seed, acc) in enumerate(plan):
        rng = random.Random(f"{method}-{seed}")
        samples, results = {}, {}
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
                    "labels": {"method": method, "stage": stage},
                },
            },
            context=STORED,
        )
        write_run(
            runs,
            f"2026010{i + 1}T000000-{method}-s{seed}",
            spec,
            results,
            {"created": f"2026-01-0{i + 1}T00:00:00Z"},
            samples,
        )


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
