"""Equivalence through the full checker: fast paths and the math-verify engine."""

import pytest

from harness.scoring.equivalence import fast_equal

CORRECT = [
    ("\\boxed{27}", 27.0),
    ("\\boxed{27.0}", "27"),
    ("\\boxed{1,000}", "1000"),
    ("\\boxed{033}", "33"),
    ("\\boxed{\\dfrac{1}{2}}", "\\frac{1}{2}"),
    ("The answer is 0.5", "\\frac{1}{2}"),
    ("\\boxed{1/2}", "0.5"),
    ("\\boxed{10}", "10\\%"),
    ("\\boxed{10\\%}", "0.1"),
    ("\\boxed{30^\\circ}", "30"),
    ("\\boxed{5\\text{ cm}}", "5"),
    ("\\boxed{\\$5}", "5"),
    ("\\boxed{\u22125}", "-5"),
    ("\\boxed{C}", "\\text{(C)}"),
    ("\\boxed{(C)}", "C"),
    ("\\boxed{x = 5}", "5"),
    ("\\boxed{5}", "x=5"),
    ("\\boxed{2, 1}", "1,2"),
    ("\\boxed{0 \\text{ or } 4}", "0,4"),
    ("The solutions are \\boxed{1} and \\boxed{2}.", "1, 2"),
    ("\\boxed{x<3}", "(-\\infty,3)"),
    ("\\boxed{-2 < x \\le 5}", "(-2, 5]"),
    ("\\boxed{(-\\infty, 3)}", "x<3"),
    ("\\boxed{4.5\\times 10^{33}}", "4.5e33"),
    ("\\boxed{\\sqrt{18}}", "3\\sqrt{2}"),
    ("\\boxed{(x+1)^2}", "x^2+2x+1"),
    ("\\boxed{\\varnothing}", "\\emptyset"),
    ("\\boxed{8\\sqrt{3}}", "8\\sqrt{3} \\text { square inches}"),
    ("\\boxed{\\begin{pmatrix}0&1\\\\1&0\\end{pmatrix}}", "\\begin{pmatrix} 0 & 1 \\\\ 1 & 0 \\end{pmatrix}"),
    ("\\boxed{\\frac{\\pi}{2}}", "\\frac{\\pi}{2}"),
    ("\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "\\left( 3, \\frac{\\pi}{2} \\right)"),
    ("\\boxed{7 \\geq y}", "y \\leq 7"),
    ("\\boxed{-y > -3}", "y < 3"),
    ("\\boxed{4 \\ge x > -1}", "(-1, 4]"),
    ("\\boxed{3,4}", "\\boxed{3}\\boxed{4}"),
    ("\\boxed{3}, \\boxed{7}, \\boxed{11}", "\\{3, 7, 11\\}"),
    ("\\boxed{12,480}", "12480"),
    ("\\boxed{12{,}480}", "12480"),
    ("\\boxed{1\u2009000}", "1000"),
    ("\\boxed{900000000}", "900,\\!000,\\!000"),
    ("\\boxed{2,75}", "2.75"),
]
WRONG = [
    ("\\boxed{28}", 27.0),
    ("\\boxed{100001}", "100000"),
    ("\\boxed{(2,1)}", "(1,2)"),
    ("\\boxed{[2,5)}", "(2,5)"),
    ("\\boxed{D}", "\\text{(C)}"),
    ("\\boxed{1, 2, 3}", "1,2"),
    ("\\boxed{0.333}", "\\frac{1}{3}"),
    ("\\boxed{x>3}", "(-\\infty,3)"),
    ("\\boxed{12, 480}", "12480"),
    ("\\boxed{-y > -3}", "y > 3"),
    ("\\boxed{y \\leq 7}", "y \\geq 7"),
    ("\\boxed{2,75}", "275"),
    ("\\boxed{2\\sqrt{3}}", "3\\sqrt{2}"),
    ("I think \\boxed{5}. Wait: \\boxed{4}", "5"),
]


@pytest.mark.parametrize("response,reference", CORRECT)
def test_correct(checker, response, reference):
    v = checker.grade(response, reference)
    assert v.correct and v.status == "ok", v


@pytest.mark.parametrize("response,reference", WRONG)
def test_wrong(checker, response, reference):
    v = checker.grade(response, reference)
    assert not v.correct and v.status == "ok", v


def test_verdict_records_extraction_and_method(checker):
    v = checker.grade("so \\boxed{27}", "27.0")
    assert (v.extracted, v.method) == ("27", "number")
    assert checker.grade("no answer here", "3").status == "no_answer"


@pytest.mark.parametrize(
    "gold,pred,method",
    [
        ("27", "27.0", "number"),
        ("1,2", "2,1", "list"),
        ("(1,2)", "(1,2)", "string"),
        ("\\text{(B)}", "B", "choice"),
    ],
)
def test_fast_paths_decide_without_the_engine(gold, pred, method):
    verdict, how, _, _ = fast_equal(gold, pred)
    assert verdict is True and how == method


@pytest.mark.parametrize(
    "gold,pred", [("x^2+2x+1", "(x+1)^2"), ("\\frac{1}{3}", "0.333"), ("3\\sqrt{2}", "\\sqrt{18}")]
)
def test_fast_paths_defer_what_they_cannot_decide(gold, pred):
    assert fast_equal(gold, pred)[0] is None


def test_equal_many_for_extracted_answers(checker):
    assert checker.equal_many([("1/2", "0.5"), ("x^2+2x+1", "(x+1)^2"), ("3", "4")]) == [True, True, False]


def test_grade_many_keeps_input_order_and_is_deterministic(checker):
    pairs = [(f"\\boxed{{{i}}}", str(i if i % 3 else i + 1)) for i in range(50)] + [
        ("\\boxed{(x+1)^2}", "x^2+2x+1")
    ] * 3
    first = checker.grade_many(pairs)
    assert [v.correct for v in first] == [bool(i % 3) for i in range(50)] + [True] * 3
    assert checker.grade_many(pairs) == first
