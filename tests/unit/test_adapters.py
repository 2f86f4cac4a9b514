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
