"""Every statbench task, through the real lm-eval 0.4.13 pipeline and the real checker.

An oracle that answers each problem's reference (in the format a model would: boxed, GSM8K ``####``,
AMC ``27`` against the float ``27.0``, OlympiadBench lists boxed item by item) must score 100 % on
every task; one that answers a wrong value must score 0 %. Anything else is a loading, prompting or
scoring bug.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.core.tasks import TASKS

ROOT = Path(__file__).resolve().parents[2]
ALL = list(TASKS)


@pytest.fixture(scope="module")
def task_manager():
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(ROOT / "tasks"), include_defaults=False)


def _evaluate(model: str, tm, tasks=ALL) -> dict:
    import lm_eval

    from tests.helpers.oracle_lm import register

    register()  # statbench-gold / statbench-wrong

    return lm_eval.simple_evaluate(model=model, tasks=tasks, task_manager=tm, log_samples=False)


def test_every_task_is_registered(task_manager):
    assert set(ALL) <= set(task_manager.all_tasks)


@pytest.mark.slow
@pytest.mark.parametrize(
    "model,expected",
    [
        ("statbench-gold", (1.0, 1.0, 1.0, 0.0)),  # avg@k, pass@k, maj@k, no-answer rate
        ("statbench-wrong", (0.0, 0.0, 0.0, 0.0)),
    ],
)
def test_oracles_score_100_and_0_on_every_task(task_manager, model, expected):
    res = _evaluate(model, task_manager)["results"]
    for task in ALL:
        r = res[task]
        assert (r["avg_at_k,all"], r["pass_at_k,all"], r["maj_at_k,all"], r["no_answer,all"]) == expected, (
            task
        )


def test_repeats_reach_the_metrics(task_manager):
    """AIME runs 64 samples under stat-paper; all 64 must reach process_results (take_first_k)."""
    import lm_eval

    from tests.helpers.oracle_lm import register

    register()

    out = lm_eval.simple_evaluate(
        model="statbench-gold",
        tasks=["statbench_aime24"],
        task_manager=task_manager,
        limit=2,
        log_samples=True,
    )
    sample = out["samples"]["statbench_aime24"][0]
    assert len(sample["filtered_resps"][0]) == 64
    assert out["configs"]["statbench_aime24"]["metadata"]["protocol"] == "stat-paper"


@pytest.mark.slow  # a real lm_eval process (imports torch and lm-eval)
def test_plain_lm_eval_cli_from_another_directory(tmp_path):
    """`lm_eval --include_path tasks` works as documented, from any working directory (no CWD-relative paths)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    cmd = [
        str(Path(sys.executable).parent / "lm_eval"),
        "run",
        "--model",
        "dummy",
        "--include_path",
        str(ROOT / "tasks"),
        "--tasks",
        "statbench_amc23,statbench_math_val1k",
        "--limit",
        "2",
        "--output_path",
        str(tmp_path / "out"),
    ]
    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text())
    assert results["results"]["statbench_amc23"]["no_answer,all"] == 1.0  # the dummy model never answers
    assert results["n-samples"]["statbench_math_val1k"]["effective"] == 2
