"""Prompts: --num-fewshot exemplars (lm-eval's Minerva MATH 4-shot, GSM8K 8-shot CoT), per-task prompts, template kwargs."""

from __future__ import annotations

import pytest

from harness.core.errors import SpecError
from harness.core.tasks import data_hashes, fewshot_prompt, fewshot_rows, task_docs
from harness.evaluation.spec import resolve_eval
from harness.records.models import EvalSpec


def test_exemplar_sets_are_lm_evals():
    minerva, gsm = fewshot_rows("minerva_math"), fewshot_rows("gsm8k_cot")
    assert len(minerva) == 4 and len(gsm) == 8
    assert minerva[1]["solution"].endswith("Final Answer: The final answer is $24$. I hope it is correct.")
    assert gsm[0]["target"].endswith("The answer is 6.")


def test_prompt_layout_is_lm_evals():
    p = fewshot_prompt("gsm8k_cot", 2, "How many?")
    first, second = fewshot_rows("gsm8k_cot")[:2]
    assert p == (
        f"Q: {first['question']}\nA: {first['target']}\n\nQ: {second['question']}\nA: {second['target']}\n\n"
        "Q: How many?\nA:"
    )
    m = fewshot_prompt("minerva_math", 4, "Find $x$.")
    assert m.startswith("Problem:\nFind the domain of the expression") and m.endswith(
        "Problem:\nFind $x$.\n\nSolution:"
    )
    assert m.count("Problem:\n") == 5
    with pytest.raises(SpecError, match="the gsm8k_cot exemplar set has 8"):
        fewshot_prompt("gsm8k_cot", 9, "x")


def test_tasks_pick_their_set_and_the_spec_records_it():
    assert task_docs("statbench_gsm8k", num_fewshot=8)[0]["prompt"].startswith("Q: There are 15 trees")
    assert task_docs("statbench_aime24", num_fewshot=4)[0]["prompt"].startswith("Problem:\nFind the domain")
    base = EvalSpec(model="m", backend="openai", tasks=["statbench_gsm8k", "statbench_math500"])
    few = base.model_copy(update={"num_fewshot": 4})
    a, b = resolve_eval(base, "fp", {}), resolve_eval(few, "fp", {})
    assert a.spec_hash != b.spec_hash
    gen = b.tasks["statbench_gsm8k"]["generation_kwargs"]
    assert (
        gen["until"][0] == "Q:"
        and b.tasks["statbench_math500"]["generation_kwargs"]["until"][0] == "Problem:"
    )
    assert b.tasks["statbench_gsm8k"]["metadata"]["fewshot"] == {"set": "gsm8k_cot", "n": 4}
    hashes = data_hashes()
    assert b.data_sha256["fewshot/gsm8k_cot_8shot"] == hashes["fewshot/gsm8k_cot_8shot"]
    assert (
        "fewshot/gsm8k_cot_8shot" not in a.data_sha256
        and "fewshot" not in a.tasks["statbench_gsm8k"]["metadata"]
    )


def test_a_registry_task_can_name_its_own_prompt(monkeypatch):
    import dataclasses

    from harness.core import tasks as T

    td = dataclasses.replace(T.TASKS["statbench_aime24"], prompt="skillworld")
    monkeypatch.setitem(T.TASKS, "statbench_aime24", td)
    doc = task_docs("statbench_aime24")[0]
    assert doc["prompt"] == f"Q: {doc['problem']} A:"
    spec = EvalSpec(model="m", backend="openai", tasks=["statbench_aime24"])
    assert resolve_eval(spec, "fp", {}).tasks["statbench_aime24"]["metadata"]["prompt"] == "Q: {problem} A:"


def test_template_kwargs_without_a_template_are_refused(tmp_path):
    spec = EvalSpec(
        model=str(tmp_path), tasks=["statbench_gsm8k"], chat_template_kwargs={"enable_thinking": True}
    )
    with pytest.raises(SpecError, match="--chat-template-kwargs, but no chat template is applied"):
        resolve_eval(spec, "fp", {})
