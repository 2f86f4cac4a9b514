"""Property tests (hypothesis): equivalent forms are equal, different values are not, hostile input is bounded.

The only timing assertion is liveness: a hostile pair returns within the per-pair budget plus a generous
constant (it covers replacing a killed worker on a loaded 2-core machine); it is not a performance test.
"""

import time
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.scoring import Checker

BUDGET = 2.0
SLACK = 5.0
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HOSTILE = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def ck():
    c = Checker(workers=1, timeout=BUDGET)
    c.grade("\\boxed{(x+1)^2}", "x^2+2x+1")  # start the worker outside any timed region
    yield c
    c.close()


def thousands(n: int) -> str:
    return f"{n:,}"


def number_forms(n: int) -> st.SearchStrategy[str]:
    forms = [str(n), f"{n}.0", f"\\boxed{{{n}}}", f"x = {n}", f"{n}.00"]
    if abs(n) >= 1000:
        forms += [thousands(n), thousands(n).replace(",", "{,}"), thousands(n).replace(",", "\\,")]
    if n < 0:
        forms.append("\u2212" + str(-n))
    return st.sampled_from(forms)


def frac_latex(q: Fraction, k: int, cmd: str) -> str:
    sign = "-" if q < 0 else ""
    return f"{sign}{cmd}{{{abs(q.numerator) * k}}}{{{q.denominator * k}}}"


@FAST
@given(st.integers(-(10**9), 10**9).flatmap(lambda n: st.tuples(st.just(n), number_forms(n))))
def test_integer_forms_are_equal(ck, case):
    n, form = case
    assert ck.grade(f"So the result is $\\boxed{{{form}}}$.", str(n)).correct, form


@FAST
@given(st.integers(-(10**6), 10**6), st.integers(1, 10**6))
def test_different_integers_are_unequal(ck, n, d):
    assert not ck.grade(f"\\boxed{{{n + d}}}", str(n)).correct


@FAST
@given(
    st.fractions(min_value=-1000, max_value=1000, max_denominator=500).filter(lambda q: q.denominator > 1),
    st.integers(1, 9),
    st.sampled_from(["\\frac", "\\dfrac", "\\tfrac"]),
)
def test_fraction_forms_are_equal(ck, q, k, cmd):
    ref = f"{q.numerator}/{q.denominator}"
    assert ck.grade(f"\\boxed{{{frac_latex(q, k, cmd)}}}", ref).correct
    assert ck.grade(f"Dividing, the answer works out to {frac_latex(q, k, cmd)}", ref).correct  # unboxed


@FAST
@given(
    st.fractions(min_value=-1000, max_value=1000, max_denominator=500),
    st.fractions(min_value=-1000, max_value=1000, max_denominator=500),
)
def test_different_fractions_are_unequal(ck, a, b):
    if a != b:
        assert not ck.grade(
            f"\\boxed{{\\frac{{{a.numerator}}}{{{a.denominator}}}}}", f"{b.numerator}/{b.denominator}"
        ).correct


REL = {("(", "<"): "<", ("[", "<"): "\\le", (")", "<"): "<", ("]", "<"): "\\le"}


@FAST
@given(
    st.integers(-1000, 1000),
    st.integers(1, 1000),
    st.sampled_from("(["),
    st.sampled_from(")]"),
    st.booleans(),
)
def test_interval_and_inequality_forms_are_equal(ck, lo, width, left, right, flipped):
    hi = lo + width
    interval = f"{left}{lo}, {hi}{right}"
    r1, r2 = REL[(left, "<")], REL[(right, "<")]
    ineq = f"{lo} {r1} x {r2} {hi}"
    if flipped:
        ineq = f"{hi} {r2.replace('<', '>').replace('le', 'ge')} x {r1.replace('<', '>').replace('le', 'ge')} {lo}"
    assert ck.grade(f"\\boxed{{{ineq}}}", interval).correct, (ineq, interval)
    assert ck.grade(f"\\boxed{{{interval}}}", ineq).correct, (interval, ineq)
    other = f"{'[' if left == '(' else '('}{lo}, {hi}{right}"
    assert not ck.grade(f"\\boxed{{{other}}}", interval).correct


@FAST
@given(st.lists(st.integers(-500, 500), min_size=2, max_size=6, unique=True), st.randoms())
def test_set_forms_are_equal(ck, xs, rnd):
    ys = xs[:]
    rnd.shuffle(ys)
    ref = ", ".join(map(str, xs))
    assert ck.grade(f"\\boxed{{\\{{{', '.join(map(str, ys))}\\}}}}", ref).correct
    assert ck.grade(" and ".join(f"\\boxed{{{y}}}" for y in xs), f"\\{{{ref}\\}}").correct
    assert not ck.grade(f"\\boxed{{{', '.join(map(str, ys[1:]))}}}", ref).correct


LETTERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=500, max_size=60_000)
HOSTILE_RESPONSES = st.one_of(
    LETTERS.map(lambda s: f"\\boxed{{3 {s}}}"),
    LETTERS.map(lambda s: f"\\boxed{{3 is the number of {s} roots of the polynomial.}}"),
    st.integers(1000, 60_000).map(lambda n: "\\boxed{1" + " " * n + "x}"),
    st.integers(1000, 60_000).map(lambda n: "so" + " " * n + "7"),
    st.integers(100, 5000).map(lambda n: "\\boxed{" + "{" * n + "1" + "}" * n + "}"),
    st.integers(100, 5000).map(lambda n: "$" + "(" * n + "1" + ")" * n + "$"),
    st.sampled_from(["word ", "x = 1 + ", "\\(", "$", "1", "\\frac{"]).map(
        lambda s: s * (1_000_000 // len(s))
    ),
)


@HOSTILE
@given(HOSTILE_RESPONSES)
def test_hostile_input_returns_within_the_budget(ck, response):
    t = time.monotonic()
    v = ck.grade(response, "3")
    elapsed = time.monotonic() - t
    assert elapsed < BUDGET + SLACK, f"{elapsed:.1f}s on {response[:60]!r}..."
    assert v.status in {"ok", "no_answer", "timeout"}, v
