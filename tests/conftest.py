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
