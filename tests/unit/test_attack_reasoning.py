"""Hostile responses and delimiters for the think-block splitter: a trace is never graded as the answer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.scoring.reasoning import DEFAULT_THINK, split_reasoning


@pytest.mark.parametrize(
    ("response", "think", "answer", "unfinished"),
    [
        ("<think>a<think>b</think>c</think> ans", DEFAULT_THINK, " ans", False),  # nested
        ("<think>a</think> x <think>b</think> y", DEFAULT_THINK, " y", False),  # several: after the last
        ("<think>a</think> ans <think>more", DEFAULT_THINK, "", True),  # reopened, never closed
        ("trace \\boxed{1}</think> ans", DEFAULT_THINK, " ans", False),  # opened by the template
        ("</think><think>", DEFAULT_THINK, "", True),
        ("(.*) t [a-z]+ a", ("(.*)", "[a-z]+"), " a", False),  # regex metacharacters are plain text
        # the closing delimiter inside the opening one: "think>" in "<think>" is not a close
        ("<think>\\boxed{5}", ("<think>", "think>"), "", True),
        ("<think>trace think> \\boxed{5}", ("<think>", "think>"), " \\boxed{5}", False),
        # the opening delimiter inside the closing one
        ("<r>trace \\boxed{3}", ("<r>", "<r>end"), "", True),
        ("<r>trace<r>end ans", ("<r>", "<r>end"), " ans", False),
    ],
)
def test_hostile_responses(response, think, answer, unfinished):
    s = split_reasoning(response, think)
    assert (s.answer, s.unfinished) == (answer, unfinished)


DELIMS = st.sampled_from(
    [
        DEFAULT_THINK,
        ("<think>", "think>"),
        ("think>", "</think>"),
        ("<r>", "<r>end"),
        ("[", "]"),
        ("ab", "ba"),
        ("(.*)", "[a-z]+"),
        ("<t>", "</t>"),
    ]
)


@settings(max_examples=400, deadline=None)
@given(DELIMS, st.lists(st.sampled_from(["OPEN", "CLOSE", "x", "\\boxed{7}", " ", "<", "/", ">", "t", "r"])))
def test_the_graded_answer_never_holds_a_delimiter_or_an_unclosed_trace(think, parts):
    open_, close = think
    response = "".join({"OPEN": open_, "CLOSE": close}.get(p, p) for p in parts)
    s = split_reasoning(response, think)
    if s.unfinished:
        assert s.answer == ""
        return
    assert close not in s.answer  # only what follows the last close is graded
    if s.reasoning is None:  # no trace at all: the whole response is the answer
        assert s.answer == response and open_ not in response
    else:
        assert response.endswith(s.answer) and open_ not in s.answer


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_a_closed_trace_is_cut_off_whatever_it_holds(trace, answer):
    open_, close = DEFAULT_THINK
    if any(d in trace + answer for d in DEFAULT_THINK) or "think>" in trace + answer:
        return
    s = split_reasoning(f"{open_}{trace}{close}{answer}")
    assert (s.answer, s.unfinished) == (answer, False)
    s = split_reasoning(f"{open_}{trace}{answer}")
    assert (s.answer, s.unfinished) == ("", True)


@settings(max_examples=300, deadline=None)
@given(
    DELIMS,
    st.lists(st.sampled_from(["OPEN", "CLOSE", "x", " ", "\\boxed{7}"]), max_size=6),
    st.lists(st.sampled_from(["x", " ", "\\boxed{7}", "7"]), min_size=1, max_size=4),
)
def test_a_trace_opened_last_and_never_closed_is_unfinished(think, before, trace):
    """Whatever came before, a response that ends inside an opened trace has no answer to grade."""
    response = "".join({"OPEN": think[0], "CLOSE": think[1]}.get(p, p) for p in before)
    s = split_reasoning(response + think[0] + "".join(trace), think)
    assert (s.answer, s.unfinished) == ("", True)
