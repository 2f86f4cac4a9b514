"""End-to-end tests: whole pipelines and real processes (minutes each). Everything here is marked ``slow``:
``make test`` runs it, ``make test-fast`` (``-m "not slow"``) does not."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Mark every test collected from this directory ``slow``."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.slow)
