"""Answer extraction: what the checker reads out of a response."""

import pytest

from harness.scoring import extract_answer

CASES = [
    # (response, expected answer, expected method)
    ("Thus the answer is \\boxed{\\frac12}.", "\\frac12", "boxed"),
    ("nested \\boxed{\\frac{\\sqrt{3}}{2}} end", "\\frac{\\sqrt{3}}{2}", "boxed"),
    ("set \\boxed{\\{1,2\\}}", "\\{1,2\\}", "boxed"),
    ("\\fbox{42}", "42", "boxed"),
    ("so $\\boxed 5$.", "5", "boxed"),
    ("I think \\boxed{4}. Wait, recheck... final \\boxed{5}", "5", "boxed"),
    ("<think>maybe \\boxed{3}</think> The answer is $\\boxed{204}$", "204", "boxed"),
    ("<think>long thought with \\boxed{3}</think> so it is 7", "7", "last_line"),
    (
        "Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.",
        "\\frac{1}{2}",
        "final_answer",
    ),
    (
        "The final answer is\n\\[\n\\begin{pmatrix}0&1\\\\1&0\\end{pmatrix}.\n\\]\nI hope it is correct.",
        "\\begin{pmatrix}0&1\\\\1&0\\end{pmatrix}",
        "final_answer",
    ),
    ("She makes 9 * 2 = $18.\n#### 1,000", "1,000", "gsm8k"),
    ("**Answer: 27**", "27", "answer_line"),
    ("work\nA: 18", "18", "answer_line"),
    ("Final Answer: The volume is 216 cubic inches.\n\nThe answer is: 216.", "216", "answer_is"),
    ("The integers are $\\boxed{2}$ and $\\boxed{3}$.\n\nThe answer is: 2.", "2", "answer_is_after_box"),
    ("So \\boxed{5}. The answer is correct because we checked it.", "5", "boxed"),
    ("Therefore, Lara read 128 pages on the first day.", "128", "last_line"),
    ("Therefore the value is \\(-\\frac{2\\sqrt{3}}{3}\\).", "-\\frac{2\\sqrt{3}}{3}", "last_line"),
    ("the 20th digit is **6**.", "6", "last_line"),
]


@pytest.mark.parametrize("response,answer,method", CASES)
def test_extraction(response, answer, method):
    ex = extract_answer(response)
    assert (ex.answer, ex.method) == (answer, method)


@pytest.mark.parametrize("response", ["", "I do not know.", "\\boxed{}", "\\boxed{ }"])
def test_no_answer(response):
    assert extract_answer(response).answer is None


def test_all_boxes_kept_for_list_references():
    assert extract_answer("roots \\boxed{1} and \\boxed{2}").boxes == ["1", "2"]


def test_unbalanced_box_takes_the_rest():
    assert extract_answer("cut off \\boxed{\\frac{1}{2").answer == "\\frac{1}{2"


WHOLE_EXPRESSIONS = [
    ("We simplify the ratio.\n\\frac{3}{4}", "\\frac{3}{4}"),
    ("Dividing, we get 3/4", "3/4"),
    ("the slope is -\\frac{7}{5}", "-\\frac{7}{5}"),
    ("the slope is \u2212\\frac{7}{5}", "-\\frac{7}{5}"),
    ("The probability works out to .25", ".25"),
    ("So the population grows to 2 500", "2 500"),
    ("Counting outcomes, so the chance is 5/8.", "5/8"),
    ("Thus x = 3/4", "3/4"),
    ("gives the point (2, -3)", "(2, -3)"),
    ("the interval [1, 5)", "[1, 5)"),
    ("comes to 1,234,567 dollars", "1,234,567"),
    ("The value is 2^{10}", "2^{10}"),
    ("the discount is 15%", "15%"),
    ("Result: 6.02 \\times 10^{23}", "6.02 \\times 10^{23}"),
    ("Putting it together:\nAnswer \\[\n12\n\\]", "12"),
    ("Putting it together:\n$$\n12\n$$", "12"),
    ("Therefore\n$$\n\\frac{\\sqrt{2}}{2}\n$$\nis the value.", "\\frac{\\sqrt{2}}{2}"),
    (
        "So\n\\[\n\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}\n\\]",
        "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
    ),
]


@pytest.mark.parametrize("response,answer", WHOLE_EXPRESSIONS)
def test_unboxed_answers_are_whole_expressions(response, answer):
    assert extract_answer(response).answer == answer


@pytest.mark.parametrize("response", ["Answer $ \n 9 \n $", "Answer \\( \n 9 \n \\)", "AZYUK2A"])
def test_inline_math_does_not_cross_lines_and_words_are_not_numbers(response):
    assert extract_answer(response).answer is None


def test_a_prose_statement_after_the_box_does_not_override_it():
    r = "so $\\boxed{\\$16,\\!386.20}$. The answer is where $A$ is the amount and $t$ is the number of years."
    assert extract_answer(r).answer == "\\$16,\\!386.20"
