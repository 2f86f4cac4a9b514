"""The killable worker pool, on plain functions."""

import pytest

from harness.scoring.pool import WorkerPool


@pytest.fixture(scope="module")
def pool():
    p = WorkerPool("tests.unit.pool_targets.work", workers=2, timeout=1.5)
    yield p
    p.close()


def test_results_in_input_order(pool):
    outs = pool.map([("echo", i) for i in range(20)])
    assert [o.value for o in outs] == list(range(20))
    assert {o.status for o in outs} == {"ok"}


def test_sleep_times_out_and_crash_is_an_error(pool):
    outs = pool.map([("echo", 1), ("sleep", 30), ("crash", 0), ("raise", 0), ("echo", 2)])
    assert [o.status for o in outs] == ["ok", "timeout", "error", "error", "ok"]
    assert "exit code 3" in outs[2].error
    assert "ValueError" in outs[3].error
    assert pool.map([("echo", 5)])[0].value == 5  # replaced workers keep serving
