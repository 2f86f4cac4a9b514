"""The demo pipeline (CI-sized: one seed) makes the weak skills better than the base and writes a board with
every arm. One real ``statbench demo`` process."""

from __future__ import annotations

import json

import pytest

from harness.skillworld import demo as sw
from harness.skillworld import world
from tests.helpers.cli import statbench_process as statbench


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    wd = tmp_path_factory.mktemp("demo")
    r = statbench("demo", "--seeds", "0", "--workdir", wd, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    return wd, r


def test_demo_trains_the_weak_skills_and_reports_every_arm(demo):
    wd, r = demo
    assert (wd / "board" / "demo_summary.md").is_file()
    rows = {row["arm"]: row for row in sw.summarize(wd, sw.load_spec([0]))[0]}  # what demo_summary.md shows
    assert set(rows) == {"Base", "Uniform SFT", "STAT-Sel", "STAT-Syn", "GRPO", "STAT-Sel + GRPO"}

    def weak(arm):
        return rows[arm]["weak"][0]  # (mean, sd) over seeds of accuracy on the weak skills

    assert (
        weak("STAT-Sel") > weak("Base")
        and weak("STAT-Syn") > weak("Base")
        and weak("Uniform SFT") > weak("Base")
    )
    board = (wd / "board" / "README.md").read_text()
    for label in ("Base Model", "Uniform SFT", "STAT-Sel", "STAT-Syn", "Base Model (GRPO only)"):
        assert f"| {label} |" in board
    assert "Failures per skill" in board and (wd / "board" / "index.html").is_file()
    assert "leaderboard:" in r.stdout and "index.html" in r.stdout
    rec = json.loads((wd / "experiment.json").read_text())
    msp = next(s for s in rec["stages"] if s["stage"] == "msp")["summary"]
    assert {s for s, _ in msp["top_skills"][:3]} <= set(world.WEAK) | {
        "add"
    }  # the profile finds the weak skills
