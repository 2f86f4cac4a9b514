"""Hostile prompt options of `statbench eval`: one error line naming the option (and file), exit 2, before any
backend is loaded; and what is accepted means what the user meant."""

from __future__ import annotations

import pytest

from harness.cli.eval import prompt_options
from harness.core.errors import SpecError
from tests.helpers.cli import assert_one_error, statbench

DEAD = "base_url=http://127.0.0.1:9/v1"  # never reached: every case fails before the backend loads


def eval_with(tmp_path, *options):
    return statbench("eval", "--model", "m", "--backend", "openai", "--backend-arg", DEAD, "--tasks",
                     "statbench_gsm8k", "--limit", "1", "--runs-dir", tmp_path / "runs", *options)  # fmt: skip


def options(**kw):
    args = {"chat_template": "auto", "system_prompt": None, "chat_template_kwargs": None, "num_fewshot": None,
            "think_delimiters": None, "include_path": None}  # fmt: skip
    return prompt_options(**{**args, **kw})


@pytest.mark.parametrize(
    ("option", "value", "needles"),
    [
        ("--think-delimiters", "", ["--think-delimiters: expected OPEN,CLOSE"]),
        ("--think-delimiters", "a,b,c", ["--think-delimiters: expected OPEN,CLOSE"]),
        ("--think-delimiters", "<a>,", ["two different non-empty strings"]),
        ("--think-delimiters", " , ", ["two different non-empty strings"]),
        ("--think-delimiters", "x,x", ["two different non-empty strings"]),
        ("--think-delimiters", "<t>, <t>", ["two different non-empty strings"]),  # was two different strings
        ("--chat-template-kwargs", "novalue", ["--chat-template-kwargs: expected KEY=VALUE"]),
        (
            "--chat-template-kwargs",
            "=x",
            ["--chat-template-kwargs: KEY must be a template variable name, got ''"],
        ),
        ("--chat-template-kwargs", " k =1", ["KEY must be a template variable name, got ' k '"]),
        ("--chat-template-kwargs", "a-b=1", ["got 'a-b'"]),
        (
            "--system-prompt",
            "@/nonexistent/system.txt",
            ["/nonexistent/system.txt: cannot read the --system-prompt"],
        ),
        (
            "--chat-template",
            "@/nonexistent/t.jinja",
            ["/nonexistent/t.jinja: --chat-template @FILE: no such file"],
        ),
        ("--num-fewshot", "-1", ["num_fewshot"]),
        ("--num-fewshot", "9", ["9 shots for", "has 8"]),  # before the backend loads (the model is fake)
    ],
)
def test_a_bad_prompt_option_is_one_line_exit_2(tmp_path, option, value, needles):
    assert_one_error(eval_with(tmp_path, option, value), 2, *needles)


def test_unreadable_files_are_named(tmp_path):
    latin1 = tmp_path / "system.txt"
    latin1.write_bytes(b"caf\xe9")
    assert_one_error(eval_with(tmp_path, "--system-prompt", f"@{latin1}"), 2, f"{latin1}: cannot read")
    assert_one_error(eval_with(tmp_path, "--system-prompt", f"@{tmp_path}"), 2, f"{tmp_path}: cannot read")
    assert_one_error(
        eval_with(tmp_path, "--chat-template", f"@{tmp_path}"), 2, "no such file (or not a file)"
    )


def test_spaces_around_think_delimiters_are_not_part_of_them():
    assert options(think_delimiters="<think>, </think>")["think"] == ("<think>", "</think>")
    assert options(think_delimiters="[a-z]+,(.*)")["think"] == ("[a-z]+", "(.*)")  # regex characters as is


def test_template_kwargs_keep_their_values():
    got = options(chat_template_kwargs=["enable_thinking=true", "k=", "n=2", "s=a=b"])["chat_template_kwargs"]
    assert got == {"enable_thinking": True, "k": "", "n": 2, "s": "a=b"}
    with pytest.raises(SpecError, match="KEY must be a template variable name"):
        options(chat_template_kwargs=["1x=2"])


def test_a_chat_template_with_a_syntax_error_is_refused_before_the_model_loads(tmp_path):
    bad = tmp_path / "bad.jinja"
    bad.write_text("{% for m in messages %}\n{{ m.content }}{% endfor")  # was exit 3 after loading the model
    r = eval_with(tmp_path, "--chat-template", f"@{bad}")
    assert_one_error(r, 2, f"{bad} line 2: not a Jinja chat template (unexpected end of template")
    ok = tmp_path / "ok.jinja"  # what transformers accepts: loop controls and its {% generation %} tag
    ok.write_text(
        "{% for m in messages %}{% if loop.index > 9 %}{% break %}{% endif %}"
        "{% generation %}{{ m.content }}{% endgeneration %}{% endfor %}"
    )
    assert options(chat_template=f"@{ok}")["chat_template_file"] == str(ok.resolve())
    empty = tmp_path / "empty.jinja"  # was exit 1 after loading the model (a tensor of 0 elements)
    empty.write_text(" \n")
    assert_one_error(
        eval_with(tmp_path, "--chat-template", f"@{empty}"), 2, f"{empty}: --chat-template @FILE is empty"
    )


def test_key_values_read_numbers_the_same_way_signed_or_not():
    from harness.cli.common import parse_kv

    got = parse_kv(
        ["a=-1.5", "b=1e5", "c=1e-5", "d=.5", "e=-3", "f=true", "g=nan", "h=inf", "i=1_000", "j=x=y"]
    )
    assert got == {"a": -1.5, "b": 1e5, "c": 1e-5, "d": 0.5, "e": -3, "f": True, "g": "nan", "h": "inf",
                   "i": "1_000", "j": "x=y"}  # fmt: skip
    assert parse_kv(["method=1.50", "stage=007"], typed=False) == {"method": "1.50", "stage": "007"}


@pytest.mark.parametrize(
    ("option", "value"),
    [("--backend-arg", "concurrency=" + "9" * 5000), ("--chat-template-kwargs", "budget=1e999")],
)
def test_a_number_out_of_range_is_a_usage_error(tmp_path, option, value):
    """An int over Python's 4,300-digit limit was an internal error (exit 3); 1e999 became a silent inf."""
    r = eval_with(tmp_path, option, value)
    assert_one_error(r, 2, "is out of range")
    assert value.split("=")[0] in r.stderr
