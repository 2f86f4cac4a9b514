"""The STAT recipe's plan (no stage runs): what each stage's hash keys on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.core.errors import SpecError
from harness.recipe import plan
from harness.recipe.experiment import load_experiment
from tests.helpers.cli import statbench

TINY = Path(__file__).resolve().parents[2] / "examples" / "tiny.yaml"


def _hashes(spec, workdir: Path) -> dict[str, str]:
    return {name: s.hash for name, s in plan(spec, workdir, build_student=False).stages.items()}


def _with_difficulty(spec, **update):
    return spec.model_copy(update={"difficulty": spec.difficulty.model_copy(update=update)})


def test_the_stage1_protocol_keys_the_student_samples(tmp_path):
    spec = load_experiment(TINY).with_workdir(tmp_path, TINY.parent)
    before, after = _hashes(spec, tmp_path), _hashes(_with_difficulty(spec, protocol="greedy"), tmp_path)
    for name in ("student/val", "student/test", "difficulty", "msp", "board"):
        assert before[name] != after[name], name
    for name in (
        "skillmap",
        "dataset/math-train",
        "sft/math-train/s0",
    ):  # nothing upstream of Stage 1 changes
        assert before[name] == after[name], name


def test_the_consistency_rule_samples_under_its_own_protocol_whatever_difficulty_protocol_says(tmp_path):
    spec = _with_difficulty(load_experiment(TINY).with_workdir(tmp_path, TINY.parent), method="consistency")
    before, after = _hashes(spec, tmp_path), _hashes(_with_difficulty(spec, protocol="greedy"), tmp_path)
    assert before["student/val"] == after["student/val"] and before["student/test"] == after["student/test"]


# ------------------------------------------------------------------ batch plans, budgets, memory, dry run
PAPER = Path(__file__).resolve().parents[2] / "examples" / "llama-3.2-3b.yaml"


@pytest.mark.parametrize("processes", [1, 2, 4, 8])
def test_the_grpo_plan_keeps_the_papers_batches_on_any_process_count(processes):
    from harness.adapters.plan import grpo_plan
    from harness.recipe.experiment import GRPOSpec

    p = grpo_plan(GRPOSpec(), processes)  # paper: 256 questions x 4 per generation, mini-batch 64 questions
    assert p.effective_batch == 256 and p.micro_batch * p.grad_accum * processes == 256
    assert p.generation_batch == 1024 and p.updates_per_generation == 4
    # TRL counts steps_per_generation in micro-batches: 4 optimizer steps of grad_accum micro-batches each
    assert p.steps_per_generation == 4 * p.grad_accum
    assert p.micro_batch * processes * p.steps_per_generation == p.generation_batch


def test_trl_derives_the_papers_generation_batch_from_the_plan(tmp_path):
    from trl import GRPOConfig

    from harness.adapters.plan import grpo_plan
    from harness.recipe.experiment import GRPOSpec

    p = grpo_plan(GRPOSpec())
    cfg = GRPOConfig(
        output_dir=str(tmp_path),
        num_generations=4,
        per_device_train_batch_size=p.micro_batch,
        gradient_accumulation_steps=p.grad_accum,
        steps_per_generation=p.steps_per_generation,
        use_cpu=True,
        bf16=False,
        report_to="none",
    )
    assert cfg.generation_batch_size == 1024 and cfg.generation_batch_size // cfg.num_generations == 256


@pytest.mark.parametrize(
    "hp,processes,msg",
    [
        ({"micro_batch": 3}, 1, "hparams.grpo.micro_batch: a micro-batch of 3 does not divide the 256"),
        ({}, 3, "an optimizer step of 256 sequences does not split over 3 processes"),
        ({"questions_per_step": 100}, 1, "questions_per_step: 100 is not a multiple of mini_batch_questions"),
    ],
)
def test_a_grpo_plan_that_does_not_divide_is_one_line(hp, processes, msg):
    from harness.adapters.plan import grpo_plan
    from harness.core.errors import SpecError
    from harness.recipe.experiment import GRPOSpec

    with pytest.raises(SpecError, match=re.escape(msg)) as e:
        grpo_plan(GRPOSpec(**hp), processes)
    assert "\n" not in str(e.value)


def test_the_automatic_grpo_micro_batch_is_small_on_a_gpu_and_whole_on_a_cpu():
    from harness.adapters.plan import grpo_plan
    from harness.recipe.experiment import GRPOSpec

    hp = GRPOSpec(questions_per_step=8, mini_batch_questions=8, num_generations=4)  # the demo's 32 per step
    assert (grpo_plan(hp).micro_batch, grpo_plan(hp).grad_accum) == (4, 8)
    assert (grpo_plan(hp, cuda=False).micro_batch, grpo_plan(hp, cuda=False).grad_accum) == (32, 1)
    assert (
        grpo_plan(hp.model_copy(update={"micro_batch": 8}), cuda=False).micro_batch == 8
    )  # a set one is kept


@pytest.mark.parametrize("processes,micro,accum", [(1, 2, 4), (2, 2, 2), (4, 2, 1), (8, 1, 1)])
def test_the_sft_plan_keeps_the_effective_batch_of_eight(processes, micro, accum):
    from harness.adapters.plan import sft_plan
    from harness.recipe.experiment import SFTSpec

    p = sft_plan(SFTSpec(), processes)
    assert (p.micro_batch, p.grad_accum, p.effective_batch) == (micro, accum, 8)


def test_memory_estimate_parts_follow_the_documented_formula():
    from harness.adapters.plan import GB, KNOWN_SHAPES, grpo_plan, memory_estimate
    from harness.recipe.experiment import GRPOSpec

    shape = KNOWN_SHAPES["llama-3.2-3b"]
    small = memory_estimate(shape, grpo_plan(GRPOSpec(micro_batch=4)), 2560, vllm_share=0.3)
    big = memory_estimate(shape, grpo_plan(GRPOSpec(micro_batch=64)), 2560, vllm_share=0.3)
    assert small["logits"] == round(4 * 2560 * 128256 * 8 / GB, 1)
    assert small["weights"] == round(2 * 3.21e9 / GB, 1) and small["vllm"] == 24.0
    assert small["total"] < 80 < big["total"]  # the all-in-one micro-batch cannot fit


def _spec_file(tmp_path, body: str) -> Path:
    f = tmp_path / "spec.yaml"
    f.write_text(f"extends: {PAPER}\n" + body)
    return f


def test_dry_run_prints_reachable_sizes_and_the_training_plan(tmp_path):
    r = statbench("run", PAPER, "--workdir", tmp_path / "wd", "--dry-run")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert re.search(r"math-train\s+all\s+<= 6,569", out)  # MATH train after decontamination
    assert re.search(r"stat-syn\s+9,500\s+<= 13,500", out)  # syn.new_questions: 3 (a documented deviation)
    assert re.search(r"embed-sel\s+9,500\s+<= 60,000 .*needs >= 159 difficult", out)
    assert re.search(
        r"grpo\s+1\s+4\s+64\s+256 per step; generation batch 1,024 = 4 steps\s+[\d.]+ GB of 80", out
    )
    assert re.search(r"sft\s+1\s+2\s+4\s+8\s+[\d.]+ GB of 80", out)
    assert "sft_examples=9500" in out and "sft_examples=6569" in out  # per arm, not the budget for all


@pytest.mark.parametrize(
    "body,msg",
    [
        ("syn: {new_questions: 2}\n", "dataset/stat-syn: at most 9,000 pairs"),
        ("hparams: {grpo: {micro_batch: 64}}\n", "grpo: about "),
        ("hardware: {gpu_memory_gb: 24}\n", "exceeds hardware.gpu_memory_gb 24"),
        ("hardware: {gpus: 3}\n", "does not split over 3 processes"),
    ],
)
def test_dry_run_refuses_a_shortfall_or_an_over_memory_plan_in_one_line(tmp_path, body, msg):
    r = statbench("run", _spec_file(tmp_path, body), "--workdir", tmp_path / "wd", "--dry-run")
    assert r.returncode == 2 and msg in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_allow_short_lets_a_shortfall_through_and_says_so(tmp_path):
    body = "syn: {new_questions: 2}\nbudget_policy: allow-short\n"
    r = statbench("run", _spec_file(tmp_path, body), "--workdir", tmp_path / "wd", "--dry-run")
    assert r.returncode == 0 and re.search(r"stat-syn\s+9,500\s+<= 9,000 .*short \(allowed\)", r.stdout)


def test_dry_run_follows_from_and_only_and_refuses_unknown_stages(tmp_path):
    wd = tmp_path / "wd"
    r = statbench("run", PAPER, "--workdir", wd, "--dry-run", "--only", "skillmap")
    assert r.returncode == 0 and "would run 1 of 211 stages" in r.stdout
    assert re.search(r"^skillmap\s+skillmap\s+\w+\s+todo", r.stdout, re.M)
    assert re.search(r"^board\s+board\s+\w+\s+skip", r.stdout, re.M)
    r = statbench("run", PAPER, "--workdir", wd, "--dry-run", "--from", "grpo/stat-syn")
    assert r.returncode == 0 and "would run 211 of 211" in r.stdout  # nothing done yet: everything runs
    for bad in (["--from", "no-such-stage"], ["--only", "no-such-stage"]):
        r = statbench("run", PAPER, "--workdir", wd, "--dry-run", *bad)
        assert r.returncode == 2 and f"{bad[0]} no-such-stage: no such stage" in r.stderr, r.stderr
        assert "stage groups: skillmap, " in r.stderr and "(211 stages" in r.stderr and len(r.stderr) < 400
    r = statbench("run", PAPER, "--workdir", wd, "--dry-run", "--from", "grpo/stat-sin")
    assert "(did you mean grpo/stat-syn" in r.stderr, r.stderr


def test_budget_check_in_the_dataset_stage():
    from harness.core.errors import SpecError
    from harness.recipe import budget

    spec = load_experiment(PAPER)
    assert budget.check(spec, "stat-syn", 9500) == {"budget": 9500, "budget_shortfall": 0}
    assert budget.check(spec, "math-train", 10) == {"budget": None, "budget_shortfall": 0}
    with pytest.raises(SpecError, match=r"dataset/stat-syn: built 8,000 pairs, 1,500 short of the budget"):
        budget.check(spec, "stat-syn", 8000)
    allow = spec.model_copy(update={"budget_policy": "allow-short"})
    assert budget.check(allow, "stat-syn", 8000) == {"budget": 9500, "budget_shortfall": 1500}


def test_the_grpo_question_pool_is_decontaminated_like_the_sft_sets():
    from harness.recipe.stages import grpo_pool, pool_rows

    spec = load_experiment(PAPER)
    clean, report = grpo_pool(spec)
    assert len(pool_rows(spec)) == 7500 and len(clean) == 6569 and report["rows_dropped"] == 931
    off = spec.model_copy(update={"data": spec.data.model_copy(update={"decontaminate": False})})
    assert len(grpo_pool(off)[0]) == 7500


def test_the_chat_template_date_keys_the_training_and_eval_stages(tmp_path):
    spec = load_experiment(TINY).with_workdir(tmp_path, TINY.parent)
    other = spec.model_copy(
        update={"student": spec.student.model_copy(update={"chat_template_date": "01 Jan 2025"})}
    )
    before, after = _hashes(spec, tmp_path), _hashes(other, tmp_path)
    for name in ("student/val", "sft/math-train/lr0.001/s0", "grpo/stat-sel/s0", "eval/stat-sel/sft/s0"):
        assert before[name] != after[name], name
    assert before["skillmap"] == after["skillmap"]


def test_report_to_reaches_trl_and_changes_no_stage_hash(tmp_path):
    from harness.adapters.sft import trainer_io_args

    spec = load_experiment(TINY).with_workdir(tmp_path, TINY.parent)
    tracked = spec.model_copy(update={"hparams": spec.hparams.model_copy(update={"report_to": ["wandb"]})})
    assert _hashes(spec, tmp_path) == _hashes(tracked, tmp_path)  # where logs go changes no output
    assert trainer_io_args(10, False)["report_to"] == "none"
    assert trainer_io_args(10, False, tracked.hparams.report_to)["report_to"] == ["wandb"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstudent: {model: m}\nhparams: {report_to: [wandbb]}\n")
    with pytest.raises(SpecError, match="report_to"):
        load_experiment(bad)
