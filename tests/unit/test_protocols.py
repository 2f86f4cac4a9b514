"""Protocol presets: one source of truth, refusals for configs lm-eval would silently change."""

import subprocess
import sys
from pathlib import Path

import pytest

from harness.core.errors import ProtocolError
from harness.core.protocols import PROTOCOLS, check_generation, get_protocol, render

ROOT = Path(__file__).resolve().parents[2]


def test_stat_paper_matches_the_paper():
    p = get_protocol("stat-paper")
    assert (p.sampling("math").temperature, p.sampling("math").k) == (0.1, 1)
    assert (p.sampling("amc").temperature, p.sampling("amc").k, p.sampling("amc").label) == (
        1.0,
        64,
        "avg@64",
    )
    assert (p.sampling("aime").k, p.sampling("aime").primary_metric) == (64, "pass_at_k")
    assert p.sampling("math").max_gen_toks == 2048


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
@pytest.mark.parametrize("family", ["math", "amc", "aime"])
def test_rendered_configs_pass_the_checks(protocol, family):
    cfg = render(protocol, family)
    check_generation("t", cfg)
    gen = cfg["generation_kwargs"]
    assert gen["do_sample"] == (gen["temperature"] > 0)
    assert cfg["metadata"]["protocol"] == protocol


def test_unknown_protocol_lists_valid_ones():
    with pytest.raises(
        ProtocolError, match="unknown protocol 'r2'; valid protocols: stat-paper, r1, greedy, consistency-5"
    ):
        get_protocol("r2")


@pytest.mark.parametrize(
    "cfg,msg",
    [
        ({"generation_kwargs": {"temperature": 0.6, "do_sample": False}}, "silently decode greedily"),
        ({"generation_kwargs": {"temperature": 0.0, "do_sample": True}}, "ambiguous"),
        ({"repeats": 8, "generation_kwargs": {"temperature": 0.0, "do_sample": False}}, "identical samples"),
        (
            {
                "repeats": 8,
                "generation_kwargs": {"temperature": 1.0, "do_sample": True},
                "filter_list": [{"name": "all", "filter": [{"function": "take_first_k", "k": 4}]}],
            },
            "would drop samples",
        ),
    ],
)
def test_refusals(cfg, msg):
    with pytest.raises(ProtocolError, match=msg):
        check_generation("statbench_x", cfg)


def test_shipped_task_yamls_are_the_stat_paper_rendering():
    r = subprocess.run(
        [sys.executable, "tools/render_tasks.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr


def test_every_shipped_board_validates():
    from harness.reporting.board_spec import load_board

    boards = sorted((ROOT / "leaderboards").glob("*/board.yaml"))
    assert len(boards) >= 3
    for b in boards:
        spec, _ = load_board(b.parent)
        assert spec.columns and spec.groups
