"""Reasoning models through an OpenAI-compatible server, and prompt control (system prompt, template kwargs)."""

from __future__ import annotations

import json

import pytest

from harness.evaluation.runner import run_eval, spec_from_cli
from harness.records.store import iter_samples, read_run
from tests.helpers.fake_openai import FakeModel, serve


@pytest.mark.parametrize(
    ("style", "correct", "status"),
    [
        ("think", True, "ok"),  # graded on "The answer is N." after </think>, not on the trace's \boxed{-7}
        ("unclosed", False, "unfinished_reasoning"),  # the right answer is boxed inside the trace: not graded
        ("reasoning_content", True, "ok"),  # the server's trace is kept apart and never graded
    ],
)
def test_reasoning_traces_from_a_server(tmp_path, style, correct, status):
    model = FakeModel(accuracy=1.0, style=style)
    with serve(model) as url:
        spec = spec_from_cli("served", "openai", ["statbench_gsm8k"], limit=3, max_gen_toks=64,
                             backend_args={"base_url": url})  # fmt: skip
        out = run_eval(spec, tmp_path)
    rows = list(iter_samples(out.run_dir, "statbench_gsm8k"))
    assert [r.correct for r in rows] == [correct] * 3 and {r.status for r in rows} == {status}
    res = out.results["statbench_gsm8k"]
    assert res.unfinished_reasoning_rate == (1.0 if status == "unfinished_reasoning" else 0.0)
    assert res.value == (1.0 if correct else 0.0)
    if style == "reasoning_content":
        assert all(r.reasoning == "Maybe \\boxed{-7}? No." and r.reasoning_tokens > 0 for r in rows)
    if style == "think":
        assert all(r.reasoning_tokens > 0 and r.answer_tokens > 0 for r in rows)
        assert res.mean_reasoning_tokens > 0 and res.mean_answer_tokens > 0
    if style == "unclosed":
        assert all(r.extracted is None and r.truncated for r in rows)


def test_system_prompt_and_template_kwargs_are_sent_recorded_and_hashed(tmp_path):
    model = FakeModel(accuracy=1.0)
    with serve(model) as url:
        args = {"base_url": url}
        plain = run_eval(
            spec_from_cli("served", "openai", ["statbench_gsm8k"], limit=2, backend_args=args), tmp_path
        )
        spec = spec_from_cli("served", "openai", ["statbench_gsm8k"], limit=2, backend_args=args,
                             system_prompt="You are a careful mathematician.",
                             chat_template_kwargs={"enable_thinking": True})  # fmt: skip
        out = run_eval(spec, tmp_path)
    assert out.generated == 2 and not out.reused_run  # not served from the plain run's cache
    calls = [c["body"] for c in model.calls if c["path"].endswith("/chat/completions")]
    with_prompt = calls[-2:]
    assert all(
        b["messages"][0] == {"role": "system", "content": "You are a careful mathematician."}
        for b in with_prompt
    )
    assert all(b["chat_template_kwargs"] == {"enable_thinking": True} for b in with_prompt)
    assert all(len(b["messages"]) == 1 and "chat_template_kwargs" not in b for b in calls[:2])
    a, b = read_run(plain.run_dir).spec, read_run(out.run_dir).spec
    assert a.spec_hash != b.spec_hash
    on_disk = json.loads((out.run_dir / "spec.json").read_text())["spec"]
    assert on_disk["system_prompt"] == "You are a careful mathematician."
    assert on_disk["chat_template_kwargs"] == {"enable_thinking": True}
    assert "system_prompt" not in json.loads((plain.run_dir / "spec.json").read_text())["spec"]


SWITCH_TEMPLATE = (  # the tiny model's ChatML template with a kwarg switch, as Qwen3-style templates have
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{% if enable_thinking is defined and enable_thinking %}{{ '<think>\\n' }}{% endif %}{% endif %}"
)


def test_tiny_model_with_a_template_switch_and_a_system_prompt(tmp_path, tiny_model):
    import hashlib

    tpl = tmp_path / "switch.jinja"
    tpl.write_text(SWITCH_TEMPLATE)
    common = {"limit": 2, "max_gen_toks": 4, "protocol": "greedy", "chat_template": "on",
              "chat_template_file": str(tpl), "system_prompt": "Be brief."}  # fmt: skip
    on = run_eval(
        spec_from_cli(
            str(tiny_model),
            "hf",
            ["statbench_gsm8k"],
            chat_template_kwargs={"enable_thinking": True},
            **common,
        ),
        tmp_path / "runs",
    )
    off = run_eval(
        spec_from_cli(
            str(tiny_model),
            "hf",
            ["statbench_gsm8k"],
            chat_template_kwargs={"enable_thinking": False},
            **common,
        ),
        tmp_path / "runs",
    )
    rows_on = list(iter_samples(on.run_dir, "statbench_gsm8k"))
    rows_off = list(iter_samples(off.run_dir, "statbench_gsm8k"))
    assert all(
        r.prompt.startswith("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n")
        for r in rows_on + rows_off
    )
    assert all(r.prompt.endswith("<|im_start|>assistant\n<think>\n") for r in rows_on)
    assert all(r.prompt.endswith("<|im_start|>assistant\n") for r in rows_off)
    # 4 tokens of a random model never close the trace the template opened: unfinished, not graded
    assert {r.status for r in rows_on} == {"unfinished_reasoning"} and "unfinished_reasoning" not in {
        r.status for r in rows_off
    }
    spec = read_run(on.run_dir).spec
    assert (
        spec.chat_template.mode == "file"
        and spec.chat_template.sha256 == hashlib.sha256(SWITCH_TEMPLATE.encode()).hexdigest()
    )
    assert spec.spec_hash != read_run(off.run_dir).spec.spec_hash


def test_num_fewshot_reaches_the_prompt_sent(tmp_path):
    model = FakeModel(accuracy=0.0)
    with serve(model) as url:
        spec = spec_from_cli("served", "openai", ["statbench_gsm8k"], limit=2, num_fewshot=8,
                             backend_args={"base_url": url, "mode": "completions"})  # fmt: skip
        out = run_eval(spec, tmp_path)
    bodies = [c["body"] for c in model.calls if c["path"].endswith("/completions")]
    assert len(bodies) == 2 and all(b["prompt"].startswith("Q: There are 15 trees") for b in bodies)
    assert all(b["prompt"].count("\nA:") == 9 and b["prompt"].endswith("\nA:") for b in bodies)
    assert all(b["stop"][0] == "Q:" for b in bodies)
    rows = list(iter_samples(out.run_dir, "statbench_gsm8k"))
    assert rows[0].prompt == bodies[0]["prompt"] or rows[0].prompt == bodies[1]["prompt"]


def test_think_delimiters_are_configurable_and_hashed(tmp_path):
    model = FakeModel(accuracy=1.0, style="unclosed")  # an unclosed <think> block with the right answer boxed
    with serve(model) as url:
        spec = spec_from_cli("served", "openai", ["statbench_gsm8k"], limit=2, think=("<reason>", "</reason>"),
                             backend_args={"base_url": url})  # fmt: skip
        out = run_eval(spec, tmp_path)
    rows = list(iter_samples(out.run_dir, "statbench_gsm8k"))
    # <think> is not this model's trace: nothing is unfinished, the whole response is graded (the box is right)
    assert {r.status for r in rows} == {"ok"} and all(r.correct for r in rows)
    assert json.loads((out.run_dir / "spec.json").read_text())["spec"]["think"] == ["<reason>", "</reason>"]
