"""Shared fixtures. Everything runs offline on CPU."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def checker():
    """One checker (and worker pool) for the whole session."""
    from harness.scoring import Checker

    c = Checker(workers=2, timeout=5.0)
    yield c
    c.close()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """The locally built tiny Qwen2-style model (seed 0), built once per session."""
    from harness.evaluation.tinymodel import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny", seed=0)


@pytest.fixture
def registry():
    """The task registry, restored after the test (registering a task folder adds to it)."""
    from harness.core import task_folders as F
    from harness.core import tasks as T

    saved, included = dict(T.TASKS), dict(F._INCLUDED)
    yield T
    T.TASKS.clear()
    T.TASKS.update(saved)
    F._INCLUDED.clear()
    F._INCLUDED.update(included)


@pytest.fixture
def reward_calls(monkeypatch) -> list[int]:
    """The number of completions in each call of GRPO's reward function (TRL calls it once per generation
    batch), counted while the real reward is computed."""
    from harness.adapters import grpo

    calls: list[int] = []
    real = grpo.correctness_reward

    def counting(completions, answer, **kw):
        calls.append(len(completions))
        return real(completions, answer, **kw)

    monkeypatch.setattr(grpo, "correctness_reward", counting)
    return calls
