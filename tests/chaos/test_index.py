"""The run index stores paths relative to its runs dir: another path to it, a copy, or a board built from
another folder all find the same runs, once."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from harness.records.store import RunIndex
from tests.chaos.conftest import copy_runs, eval_args, run_dirs
from tests.helpers.cli import statbench

BOARD = """title: Relative
protocol: stat-paper
columns: [statbench_gsm8k]
groups:
  - name: All
    rows:
      - {id: base, label: Base, labels: {method: base}}
"""


def test_index_rows_are_relative_to_the_runs_dir(clean_run, tmp_path, tiny_model):
    runs = copy_runs(clean_run[0], tmp_path / "runs")
    [run] = run_dirs(runs)
    copy = copy_runs(runs, tmp_path / "elsewhere" / "runs")
    shutil.rmtree(runs)  # the copy must not point back into the original
    rows = RunIndex(copy).runs()
    assert [Path(r["path"]) for r in rows] == [copy / run.name]
    # the same runs dir reached by another path: the eval is found, not made again
    r = statbench(*eval_args(tiny_model), "--runs-dir", "runs", cwd=copy.parent)
    assert r.returncode == 0 and "identical run already recorded" in r.stderr, r.stderr
    r = statbench(*eval_args(tiny_model), "--runs-dir", Path("elsewhere") / "runs", cwd=tmp_path)
    assert r.returncode == 0 and len(run_dirs(copy)) == 1, r.stderr
    listed = statbench("runs", "list", "--runs-dir", copy, cwd=tmp_path / "elsewhere")
    assert listed.stdout.count(run.name) == 1


def test_a_board_built_from_another_folder(tiny_model, tmp_path):
    project = tmp_path / "project"
    (project / "board").mkdir(parents=True)
    (project / "board" / "board.yaml").write_text(BOARD)
    r = statbench(*eval_args(tiny_model), "--label", "method=base", "--runs-dir", "runs", cwd=project)
    assert r.returncode == 0, r.stderr
    for cwd, runs_arg, board_arg in ((tmp_path, "project/runs", "project/board"), (project, "runs", "board")):
        b = statbench("leaderboard", board_arg, "--runs-dir", runs_arg, cwd=cwd)
        assert b.returncode == 0 and "Traceback" not in b.stderr, b.stderr
        [row] = list(csv.DictReader((project / "board" / "table.csv").open()))
        assert row["status"] == "ok" and row["runs"] == run_dirs(project / "runs")[0].name, row
    assert len(RunIndex(project / "runs").runs()) == 1
