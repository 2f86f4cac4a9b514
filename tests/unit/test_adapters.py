"""Stage adapters on tiny inputs: PRM rule and scorer, consistency, STAT-Sel picks, the STAT-Syn
agreement filter, decontamination, the experiment spec."""

from __future__ import annotations

import pytest

from harness.adapters.difficulty import PRMScorer, classify, prm_rule, split_steps
from harness.adapters.select import stat_sel, subsample, with_answers
from harness.adapters.skills import SkillMap
from harness.adapters.synthesize import agreeing
from harness.core.errors import SpecError
from harness.recipe.decontam import check, decontaminate
from harness.recipe.experiment import DifficultySpec, SelectSpec, load_experiment


@pytest.mark.parametrize(
    "scores,difficult",
    [
        ([0.95, 0.9, 0.9], False),
        ([0.95, 0.9, 0.8], True),
        ([0.9, 0.8, 0.95], False),
        ([0.86, 0.86, 0.84], True),
        ([0.95, 0.65, 0.99], True),
        ([], True),
        ([0.86], False),
    ],
)
def test_prm_rule(scores, difficult):
    assert prm_rule(scores, 0.85, 0.7) is difficult


def test_prm_scorer_runs_on_any_chat_model(tiny_model):
    prm = PRMScorer(str(tiny_model))
    scores = prm.score("What is 1+1?", split_steps("First, add.\n\nSo the answer is \\boxed{2}.", "\n\n"))
    assert len(scores) == 2 and all(0.0 < s < 1.0 for s in scores)


def test_consistency_rule():
    rows = [
        {"id": "a", "extracted": x, "correct": False, "response": "r"} for x in ("3", "3.0", "4", None, "5")
    ] + [{"id": "b", "extracted": x, "correct": False, "response": "r"} for x in ("1", "2", "3", "4", None)]
    v = classify(rows, DifficultySpec(method="consistency"), {"a": "", "b": ""})
    assert (v["a"]["difficult"], v["a"]["modal_count"]) == (False, 2)  # 3 and 3.0 are one answer
    assert (v["b"]["difficult"], v["b"]["modal_count"]) == (True, 1)


def test_stat_sel_picks_follow_the_profile():
    pool = {
        f"q{i}": {"id": f"q{i}", "problem": f"p{i}", "solution": f"s{i} \\boxed{{{i}}}", "answer": str(i)}
        for i in range(40)
    }
    smap = SkillMap.from_labels({f"q{i}": ["algebra" if i < 20 else "geometry"] for i in range(40)})
    msp = {
        "per_question": {
            "v1": {"skills": ["algebra"]},
            "v2": {"skills": ["algebra"]},
            "v3": {"skills": ["geometry"]},
            "v4": {"status": "failed"},
        }
    }
    qs, rep = stat_sel(pool, smap, msp, SelectSpec(questions_per_skill=5), seed=0)
    assert rep["picks_by_skill"] == {"algebra": 10, "geometry": 5}
    assert len(qs) == rep["unique_questions"] <= 15
    rows = with_answers(qs, None, SelectSpec(rewrites=False))
    assert all(r["source"] == "original" for r in rows) and len(subsample(rows, 7, 0)) == 7
    assert subsample(rows, 7, 0) == subsample(rows, 7, 0)


def test_synthetic_solutions_must_agree():
    good, ans = agreeing(["so \\boxed{1/2}", "hence \\boxed{0.5}", "\\boxed{3}"], 2)
    assert len(good) == 2 and ans == "1/2"
    assert agreeing(["\\boxed{1}", "\\boxed{2}", "no answer"], 2) == ([], None)


def test_decontamination_exact_and_ngram():
    from harness.core.tasks import task_docs

    test_problem = task_docs("statbench_math500")[0]["problem"]
    assert check(test_problem) == ("math", "exact")
    words = test_problem.split()
    assert len(words) >= 20  # long enough for a 13-gram inside the first 20 words
    assert check("Consider this: " + " ".join(words[:20]) + " and more") == ("math", "13-gram")
    assert check("A brand new question about 7 apples and 3 pears in a basket.") is None
    kept, rep = decontaminate(
        [{"id": "a", "problem": test_problem}, {"id": "b", "problem": "What is 2 + 2 in base 7?"}]
    )
    assert (
        [r["id"] for r in kept] == ["b"]
        and rep["rows_dropped"] == 1
        and rep["by_benchmark"] == {"math (exact)": 1}
    )


def test_extends_merges_and_errors_name_the_file(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "name: base\nstudent: {model: m}\nbudget: 10\nselect: {questions_per_skill: 3}\n"
    )
    (tmp_path / "child.yaml").write_text(
        "extends: base.yaml\nname: child\nselect: {answers_per_question: 1}\n"
    )
    spec = load_experiment(tmp_path / "child.yaml")
    assert (spec.name, spec.budget, spec.select.questions_per_skill, spec.select.answers_per_question) == (
        "child",
        10,
        3,
        1,
    )
    assert spec.sft().lora_r == 16 and spec.grpo().learning_rate == 5e-7  # the paper preset
    (tmp_path / "bad.yaml").write_text("extends: base.yaml\nhparams: {sft: {lora_rank: 8}}\n")
    with pytest.raises(SpecError, match=r"bad\.yaml: hparams: lora_rank"):
        load_experiment(tmp_path / "bad.yaml")


def test_prm_classification_path(tiny_model):
    rows = [{"id": "a", "response": "Step one.\n\nStep two: \\boxed{3}", "extracted": "3", "correct": False}]
    v = classify(rows, DifficultySpec(method="prm"), {"a": "What is 1+2?"}, PRMScorer(str(tiny_model)))
    assert len(v["a"]["step_scores"]) == 2 and isinstance(v["a"]["difficult"], bool)


def test_a_checkpoint_cut_off_mid_save_is_skipped(tmp_path):
    from harness.adapters.sft import last_complete_checkpoint

    good, partial = tmp_path / "checkpoint-4", tmp_path / "checkpoint-6"
    for d in (good, partial):
        d.mkdir()
        (d / "model.safetensors").write_bytes(b"w")
    for n in ("optimizer.pt", "scheduler.pt"):
        (good / n).write_bytes(b"x")
    (good / "trainer_state.json").write_text("{}")
    (partial / "optimizer.pt").write_bytes(b"")  # the kill landed here
    assert last_complete_checkpoint(tmp_path, log=lambda m: None) == str(good)
    assert not partial.exists()


# ------------------------------------------------------------------ embeddings as gte-Qwen2's model card does
def test_last_token_pooling_takes_the_last_real_token_whatever_the_padding(tiny_model):
    import numpy as np

    from harness.adapters.embed import embed

    texts = ["Compute $1 + 1$.", "What is the sum of the first ten positive odd integers, in total?"]
    alone = np.concatenate([embed([t], str(tiny_model), batch_size=1) for t in texts])  # no padding at all
    batched = embed(texts, str(tiny_model), batch_size=2)  # the short text is right-padded
    assert np.allclose(alone, batched, atol=1e-5)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-6)
    mean = embed(texts, str(tiny_model), batch_size=2, pooling="mean")
    assert not np.allclose(mean, batched, atol=1e-3)  # a different pooling is a different embedding


def test_pool_hidden_left_and_right_padding():
    import torch

    from harness.adapters.embed import pool_hidden

    h = torch.arange(2 * 4 * 1, dtype=torch.float32).reshape(2, 4, 1)
    right = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    left = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])
    assert pool_hidden(h, right, "last").flatten().tolist() == [1.0, 7.0]
    assert pool_hidden(h, left, "last").flatten().tolist() == [3.0, 7.0]
    assert pool_hidden(h, right, "mean").flatten().tolist() == [0.5, 5.5]


def test_queries_get_the_instruction_and_gte_needs_remote_code():
    from types import SimpleNamespace

    from harness.adapters.embed import embed, query_text, similarities
    from harness.core.errors import SpecError

    assert query_text("2+2?", "Find similar problems") == "Instruct: Find similar problems\nQuery: 2+2?"
    assert query_text("2+2?", None) == "2+2?"
    with pytest.raises(SpecError, match=r"embed\.trust_remote_code: true"):
        embed(["x"], "/nowhere/Alibaba-NLP/gte-Qwen2-7B-instruct")
    seen = []
    import harness.adapters.embed as mod

    real = mod.embed
    try:
        mod.embed = lambda texts, model, **kw: seen.append(texts) or real(texts, "hashing")
        similarities(["2+2?"], ["3+3?"], SimpleNamespace(model="ckpt", query_instruction="Find"))
    finally:
        mod.embed = real
    assert seen == [["Instruct: Find\nQuery: 2+2?"], ["3+3?"]]  # the corpus gets no instruction


def test_embed_sel_widens_k_only_to_fill_the_budget():
    from harness.adapters.select import embed_sel
    from harness.recipe.experiment import EmbedSpec

    pool = {f"q{i}": {"id": f"q{i}", "problem": f"Compute {i} plus {i % 7}."} for i in range(60)}
    difficult = [{"id": "d0", "problem": "Compute 3 plus 3."}, {"id": "d1", "problem": "Compute 40 plus 5."}]
    qs, rep = embed_sel(pool, difficult, EmbedSpec(top_k=2))
    assert rep["top_k_used"] == 2 and len(qs) <= 4
    qs, rep = embed_sel(pool, difficult, EmbedSpec(top_k=2, top_k_max=10), target_questions=9)
    assert len(qs) >= 9 and rep["top_k_used"] <= 10
    qs, rep = embed_sel(pool, difficult, EmbedSpec(top_k=2, top_k_max=3), target_questions=50)
    assert rep["top_k_used"] == 3  # capped


# ------------------------------------------------------------------ a chat template that writes today's date
DATED_TEMPLATE = (
    "{%- if not date_string is defined %}{%- set date_string = strftime_now('%d %b %Y') %}{%- endif %}"
    "{{ 'Today Date: ' + date_string + '\\n' }}"
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


@pytest.fixture
def dated_model(tiny_model, tmp_path):
    import shutil

    d = tmp_path / "dated"
    shutil.copytree(tiny_model, d)
    (d / "chat_template.jinja").write_text(DATED_TEMPLATE)
    return d


def _on_day(monkeypatch, day: int):
    import datetime as dt

    import transformers.utils.chat_template_utils as ctu

    class Fixed(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2026, 3, day)

    monkeypatch.setattr(ctu, "datetime", Fixed)


def test_a_pinned_date_gives_the_same_prompts_on_different_days(dated_model, monkeypatch):
    from trl.data_utils import apply_chat_template

    from harness.adapters.sft import prompt_completion
    from harness.evaluation.backends.hf import HFBackend
    from harness.evaluation.spec import chat_template_kwargs

    kw = chat_template_kwargs(dated_model, "26 Jul 2024")
    assert kw == {"date_string": "26 Jul 2024"}
    msgs = [{"role": "user", "content": "What is 2+2?"}]
    rows = [{"problem": "What is 2+2?", "solution": "4"}]
    unpinned, backend_prompts, sft_prompts = [], [], []
    for day in (1, 2):
        _on_day(monkeypatch, day)
        plain, pinned = HFBackend(str(dated_model)), HFBackend(str(dated_model), chat_template_kwargs=kw)
        unpinned.append(plain.apply_chat_template(msgs))
        backend_prompts.append(pinned.apply_chat_template(msgs))
        example = prompt_completion(rows, "math_train", chat=True, template_kwargs=kw)[0]
        sft_prompts.append(apply_chat_template(example, pinned.tok)["prompt"])
    assert unpinned[0] != unpinned[1]  # the template does write today's date
    assert backend_prompts[0] == backend_prompts[1] and "Today Date: 26 Jul 2024" in backend_prompts[0]
    assert sft_prompts[0] == sft_prompts[1] and "Today Date: 26 Jul 2024" in sft_prompts[0]


def test_templates_without_a_date_get_no_extra_arguments(tiny_model):
    from harness.evaluation.spec import chat_template_kwargs

    assert chat_template_kwargs(tiny_model, "26 Jul 2024") == {}
    assert chat_template_kwargs(tiny_model, None) == {}


# ------------------------------------------------------------------ training progress
def test_the_progress_callback_reports_steps_loss_and_rate():
    from types import SimpleNamespace

    from harness.adapters.sft import progress_callback

    lines, t = [], [0.0]
    cb = progress_callback("grpo", lines.append, every_s=30, clock=lambda: t[0])
    state = SimpleNamespace(global_step=0, max_steps=100)
    cb.on_train_begin(None, state, None)
    for step in range(1, 101):
        t[0] = step * 2.0  # 0.5 steps/s
        state.global_step = step
        cb.on_log(None, state, None, logs={"loss": 1.0 / step})
    cb.on_log(None, state, None, logs={"train_runtime": 200.0})  # the trainer's closing summary
    assert lines[0] == "grpo: step 1/100, loss 1, 0.5 steps/s, ETA 3 min"
    assert lines[-1].startswith("grpo: step 100/100, loss 0.01, 0.5 steps/s")
    assert 2 < len(lines) <= 2 + 200 // 30  # first, last, and at most one per 30 s in between


def test_the_prm_scores_pinned_prompts_too(dated_model, monkeypatch):
    scores = []
    for day in (1, 2):
        _on_day(monkeypatch, day)
        prm = PRMScorer(str(dated_model), date="26 Jul 2024")
        assert prm.template_kwargs == {"date_string": "26 Jul 2024"}
        scores.append(prm._ids([{"role": "user", "content": "1+1? Step 1."}], generation_prompt=True))
    assert scores[0] == scores[1]
