"""The demo pipeline, CI-sized (one cell: data seed 2, which `make demo` does not run, x seed 0), reports
every arm with its paired difference from Uniform SFT, the GRPO arms' share of groups with signal, a board
per data seed, and a missing-skill profile that names the weak skills. One real ``statbench demo`` process.
The intervals over cells: tests/integration/test_skillworld.py (``paired_ci``) and the demo itself."""

from __future__ import annotations

import json

import pytest

from harness.skillworld import demo as sw
from harness.skillworld import world
from tests.helpers.cli import statbench_process as statbench


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    wd = tmp_path_factory.mktemp("demo")
    r = statbench("demo", "--seeds", "0", "--data-seeds", "2", "--workdir", wd, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    return wd, r


def test_demo_reports_every_arm_with_paired_intervals(demo):
    wd, r = demo
    summary, table = sw.summarize(wd, [2], sw.load_spec([0]))
    rows = {row["arm"]: row for row in summary.rows}
    assert list(rows) == list(sw.ARM_LABELS.values())  # Base, Uniform, Embed-Sel, STAT-Sel/Syn, 3 GRPO arms
    assert {row["cells"] for row in rows.values()} == {1}
    text = (wd / "demo_summary.md").read_text()
    assert table in text and table.splitlines()[0] in r.stdout
    for label, row in rows.items():
        if label == "Uniform SFT":
            assert row["ci_overall"] is None and "(reference)" in text
            continue
        assert row["ci_weak"] is None and len(row["diff_weak"]) == 1  # one cell: a difference, no interval
        assert f"| {label} | 1 |" in table and f"{100 * row['diff_weak'][0]:+.1f} |" in table
    assert rows["Uniform SFT"]["mean"]["weak"] > rows["Base"]["mean"]["weak"]  # SFT on the pool teaches


def test_grpo_arms_report_the_share_of_groups_with_signal(demo):
    wd, _ = demo
    summary, table = sw.summarize(wd, [2], sw.load_spec([0]))
    for row in summary.rows:
        if "GRPO" in row["arm"]:
            assert 0 < row["signal"] <= 1  # the sampled pool gives some groups unequal rewards
            assert f"{100 * row['signal']:.0f} %" in table
        else:
            assert row["signal"] is None


def test_each_data_seed_has_a_board_and_a_profile_of_the_weak_skills(demo):
    wd, r = demo
    for ds in (2,):
        cell = sw.cell_dir(wd, ds)
        board = (cell / "board" / "README.md").read_text()
        for label in (
            "Base Model",
            "Uniform SFT",
            "Embed-Sel",
            "STAT-Sel",
            "STAT-Syn",
            "Base Model (GRPO only)",
        ):
            assert f"| {label} |" in board
        assert "Failures per skill" in board and (cell / "board" / "index.html").is_file()
        assert f"leaderboard, data seed {ds}:" in r.stdout
        rec = json.loads((cell / "experiment.json").read_text())
        msp = next(s for s in rec["stages"] if s["stage"] == "msp")["summary"]
        top = [s for s, _ in msp["top_skills"][:3]]
        assert top and set(top) <= set(world.WEAK)  # the competent teacher names the skills it lacks, not add
        grpo = [s for s in rec["stages"] if s["stage"].startswith("grpo/")]
        assert len(grpo) == 3
