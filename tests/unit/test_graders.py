"""lm-eval's own graders, as wrapped for the agreement report."""

from harness.evaluation.graders import hendrycks_is_equiv, minerva_exact_match


def test_minerva_needs_its_final_answer_format():
    assert minerva_exact_match(
        "Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", "\\frac{1}{2}"
    )
    assert not minerva_exact_match("Thus the answer is \\boxed{\\frac12}.", "\\frac{1}{2}")


def test_hendrycks_never_reads_boxes():
    assert hendrycks_is_equiv("so $27$", "27")
    assert not hendrycks_is_equiv("They meet 27 miles from A. \\boxed{27}", "27")
