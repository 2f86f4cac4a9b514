"""Adversarial inputs: each finishes within its timeout plus a margin; none hangs the run.

The bound asserted here is liveness (the pool kills a stuck worker), not performance: the margin covers
starting a replacement worker on a loaded 2-core CI machine.
"""

import threading
import time

import pytest

from harness.scoring import Checker

TIMEOUT = 2.0
MARGIN = 20.0

ADVERSARIAL = {
    "tower": ("\\boxed{10^{10^{10}}}", "5"),
    "tower_vs_tower": ("\\boxed{10^{10^{10^{10}}}}", "10^{10^{10^{10}}}+1"),
    "1MB response": ("word " * 200_000 + "\\boxed{7}", "7"),
    "1MB unboxed": ("x = 1 + " * 130_000, "7"),
    "5000 nested braces": ("\\boxed{" + "{" * 5000 + "1" + "}" * 5000 + "}", "1"),
    "5000 nested braces vs latex": ("\\boxed{" + "{" * 5000 + "x" + "}" * 5000 + "}", "x^2"),
    "empty box": ("\\boxed{}", "3"),
    "unicode minus": ("\\boxed{\u22123}", "-3"),
    "huge factorial": ("\\boxed{100000!}", "1"),
    "prose in a box": ("\\boxed{3 is the number of distinct real roots of the polynomial.}", "3"),
    "long letter run in a box": ("\\boxed{3 " + "a" * 40_000 + "}", "3"),
    "40k whitespace in a box": ("\\boxed{1" + " " * 40_000 + "x}", "1"),
    "40k whitespace unboxed": ("so" + " " * 40_000 + "7", "7"),
}


# name -> (statuses it may end with, expected correctness). "timeout" is allowed only where the engine may
# legitimately run out of budget; "error" never is (a crash of the checker would hide behind it).
EXPECTED = {
    "tower": ({"timeout"}, False),
    "tower_vs_tower": ({"ok", "timeout"}, False),
    "1MB response": ({"ok"}, True),
    "1MB unboxed": ({"ok", "no_answer"}, False),
    "5000 nested braces": ({"ok"}, True),
    "5000 nested braces vs latex": ({"ok", "timeout"}, False),
    "empty box": ({"no_answer"}, False),
    "unicode minus": ({"ok"}, True),
    "huge factorial": ({"ok", "timeout"}, False),
    "prose in a box": (
        {"ok", "timeout"},
        None,
    ),  # math-verify reads the leading 3; either verdict is defensible
    "long letter run in a box": ({"ok", "timeout"}, None),
    "40k whitespace in a box": ({"ok", "timeout"}, False),
    "40k whitespace unboxed": ({"ok"}, True),
}


@pytest.fixture(scope="module")
def tight():
    c = Checker(workers=2, timeout=TIMEOUT)
    c.grade("\\boxed{(x+1)^2}", "x^2+2x+1")  # start the pool outside the timed region
    yield c
    c.close()


def test_every_adversarial_case_has_an_expectation():
    assert set(EXPECTED) == set(ADVERSARIAL)


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_adversarial_case_finishes(tight, name):
    response, reference = ADVERSARIAL[name]
    t = time.monotonic()
    v = tight.grade(response, reference)
    elapsed = time.monotonic() - t
    assert elapsed < TIMEOUT + MARGIN, f"{name} took {elapsed:.1f}s"
    statuses, correct = EXPECTED[name]
    assert v.status in statuses, v
    if correct is not None:
        assert v.correct is correct, v
    if v.status == "timeout":
        assert not v.correct, v


def test_tower_is_a_timeout_not_a_hang(tight):
    v = tight.grade("\\boxed{10^{10^{10}}}", "5")
    assert v.status == "timeout" and not v.correct and v.extracted == "10^{10^{10}}"


def test_pool_survives_timeouts(tight):
    tight.grade("\\boxed{10^{10^{10^{5}}}}", "4")
    assert tight.grade("\\boxed{\\sqrt{8}}", "2\\sqrt{2}").correct


def test_works_off_the_main_thread():
    """math-verify's signal.alarm fails in threads; our workers do not care where the caller runs."""
    out = {}

    def run():
        c = Checker(workers=1, timeout=TIMEOUT)
        out["v"] = c.grade_many([("\\boxed{(x+1)^2}", "x^2+2x+1"), ("\\boxed{10^{10^{10}}}", "5")])
        c.close()

    th = threading.Thread(target=run)
    th.start()
    th.join(60)
    assert not th.is_alive()
    assert [v.status for v in out["v"]] == ["ok", "timeout"]
    assert out["v"][0].correct
