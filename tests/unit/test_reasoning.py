"""Reasoning traces: only the answer after the trace is graded; an unclosed trace is unfinished_reasoning."""

from __future__ import annotations

import pytest

from harness.scoring import grade_responses, sample_metrics, split_reasoning
from harness.scoring.reasoning import opens_reasoning


@pytest.mark.parametrize(
    ("response", "opened", "reasoning", "answer", "unfinished"),
    [
        ("The answer is \\boxed{5}.", False, None, "The answer is \\boxed{5}.", False),
        (
            "<think>maybe \\boxed{4}</think> So \\boxed{5}.",
            False,
            "<think>maybe \\boxed{4}",
            " So \\boxed{5}.",
            False,
        ),
        ("<think>maybe \\boxed{5}, still checking", False, "maybe \\boxed{5}, still checking", "", True),
        ("maybe 4 ... </think>\\boxed{5}", True, "maybe 4 ... ", "\\boxed{5}", False),  # template opened it
        ("maybe \\boxed{5} ... still thinking", True, "maybe \\boxed{5} ... still thinking", "", True),
        ("<think>a</think>b<think>c", False, "c", "", True),  # a second trace that never closes
    ],
)
def test_split(response, opened, reasoning, answer, unfinished):
    s = split_reasoning(response, opened=opened)
    assert (s.reasoning, s.answer, s.unfinished) == (reasoning, answer, unfinished)


def test_custom_delimiters_and_template_detection():
    think = ("[[", "]]")
    assert split_reasoning("[[ 4 ]] \\boxed{5}", think).answer == " \\boxed{5}"
    assert split_reasoning("<think>x</think>", think).answer == "<think>x</think>"  # not this model's tags
    assert opens_reasoning("<|im_start|>assistant\n<think>\n") and not opens_reasoning(
        "<|im_start|>assistant\n"
    )


def test_graded_on_the_answer_only_and_unfinished_counts_wrong(checker):
    items = [
        ("<think>It is \\boxed{4}? no.</think> The answer is \\boxed{5}.", "5"),  # right after the trace
        ("<think>It is \\boxed{5}. Let me double check", "5"),  # right answer inside an unclosed trace
        ("The answer is \\boxed{5}.", "5"),  # no trace at all
        ("", "5"),  # a server kept the whole trace in reasoning_content and ran out of budget
    ]
    v = grade_responses(checker, items, server_reasoning=[None, None, None, "It is 5 but"])
    assert [x.correct for x in v] == [True, False, True, False]
    assert [x.status for x in v] == ["ok", "unfinished_reasoning", "ok", "unfinished_reasoning"]
    assert v[1].extracted is None  # never graded on the trace
    assert sample_metrics(v)["no_answer"] == 0.5  # no answer to grade: unfinished traces included
