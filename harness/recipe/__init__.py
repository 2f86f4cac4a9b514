"""The STAT recipe as a DAG of stages for one experiment spec (``statbench run EXPERIMENT.yaml``).

    skillmap ─┐
    student/val ─┐            ┌─ dataset/<method> ─ sft/<method>/lr*/s* ─ sft/<method>/s* ─┬─ eval/<method>/sft/s*
    student/test ─┴ difficulty ┴─ msp ─┘                                                     └─ grpo/<method>/s* ─ eval/<method>/grpo/s*
                                                                       (base: the student itself)          └──────── board

The stage functions live in harness/recipe/stages.py; this module wires them, estimates compute for
``--dry-run``, checks inputs before a run, and writes the experiment record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.core.errors import SpecError
from harness.core.pipeline import Pipeline, Stage
from harness.core.tasks import TASKS, task_docs
from harness.recipe.experiment import ExperimentSpec, method_uses_teacher
from harness.recipe.methods import METHODS
from harness.recipe.stages import (
    board_stage,
    dataset_stage,
    difficulty_stage,
    eval_stage,
    grpo_stage,
    msp_stage,
    pool_rows,
    select_lr_stage,
    sft_stage,
    skillmap_stage,
    student_path,
    student_protocol,
    student_stage,
)

GPU_KINDS = {"generate", "select-lr", "sft", "grpo", "eval"}


# ------------------------------------------------------------------------------------------ the plan
def plan(spec: ExperimentSpec, workdir: Path, build_student: bool = True) -> Pipeline:
    """The experiment's stage DAG under ``workdir`` (building the tiny student first when asked)."""
    from harness.evaluation.cache import GenerationCache, model_fingerprint
    from harness.records.provenance import core_versions

    sp = student_path(spec, build=build_student)
    fp = (
        model_fingerprint(sp, GenerationCache(Path(workdir) / "runs" / ".cache" / "generations.sqlite"))
        if sp
        else f"unresolved:{spec.student.model}"
    )
    teacher_id = spec.teacher.model_dump(
        exclude={"api_key_env", "concurrency", "timeout", "max_retries", "price_per_1m"}
    )
    versions = core_versions()
    student = {
        "fingerprint": fp,
        "backend": spec.student.backend,
        "chat_template": spec.student.chat_template,
        "chat_template_date": spec.student.chat_template_date,  # the date a dated template writes
    }
    data = spec.data.model_dump()
    stages: list[Stage] = []
    add = stages.append
    n_pool = len(pool_rows(spec))
    n_val = spec.data.val_limit or len(task_docs(spec.data.val_task))
    n_test = spec.data.test_limit or len(task_docs(spec.data.test_task))
    k1 = spec.difficulty.consistency_samples if spec.difficulty.method == "consistency" else 1
    n_pairs = min(spec.budget, n_pool * spec.select.answers_per_question)  # a training set's size, at most

    add(
        Stage(
            "skillmap",
            "skillmap",
            {"data": data, "teacher": teacher_id if spec.data.skill_labels == "teacher" else None},
            [],
            skillmap_stage(spec),
            estimate={"teacher_calls": n_pool if spec.data.skill_labels == "teacher" else 0},
        )
    )
    for split, n in (("val", n_val), ("test", n_test)):
        add(
            Stage(
                f"student/{split}",
                "generate",
                {
                    "student": student,
                    "data": data,
                    "method": spec.difficulty.method,
                    "protocol": student_protocol(spec),
                    "max_gen_toks": spec.difficulty.max_gen_toks,
                    "seed": spec.data_seed,
                    "versions": versions,
                },
                [],
                student_stage(spec, split),
                estimate={"generations": n * k1},
            )
        )
    add(
        Stage(
            "difficulty",
            "difficulty",
            {"spec": spec.difficulty.model_dump(), "chat_template_date": spec.student.chat_template_date},
            ["student/val", "student/test"],
            difficulty_stage(spec),
            estimate={"prm_scored": (n_val + n_test) if spec.difficulty.method == "prm" else 0},
        )
    )
    needs_msp = any(m in ("stat-sel", "stat-syn") for m in spec.methods)
    if needs_msp:
        add(
            Stage(
                "msp",
                "msp",
                {"msp": spec.msp.model_dump(), "teacher": teacher_id, "seed": spec.data_seed},
                ["difficulty"],
                msp_stage(spec),
                estimate={"teacher_calls": min(spec.msp.max_questions, n_val)},
            )
        )
    arms: list[tuple[str, str]] = []
    for method in spec.methods:
        if method != "base":
            deps = list(METHODS[method].deps)
            cfg = {
                "method": method,
                "budget": spec.budget,
                "seed": spec.data_seed,
                "data": data,
                "select": spec.select.model_dump(),
                "syn": spec.syn.model_dump(),
                "embed": spec.embed.model_dump(),
                "teacher": teacher_id,
                "versions": versions,
            }
            add(
                Stage(
                    f"dataset/{method}",
                    "dataset",
                    cfg,
                    deps,
                    dataset_stage(spec, method),
                    version=2,  # 2: budget check, decontaminated replay
                    estimate={"pairs": n_pairs},
                )
            )
        for seed in spec.seeds:
            if method != "base":
                lr_stages = []
                for lr in spec.sft().learning_rates:
                    name = f"sft/{method}/lr{lr:g}/s{seed}"
                    add(
                        Stage(
                            name,
                            "sft",
                            {"student": student, "hp": spec.sft().model_dump(), "lr": lr, "seed": seed},
                            [f"dataset/{method}"],
                            sft_stage(spec, method, lr, seed),
                            version=1,
                            estimate={"sft_examples": n_pairs},
                        )
                    )
                    lr_stages.append((lr, name))
                add(
                    Stage(
                        f"sft/{method}/s{seed}",
                        "select-lr",
                        {"task": spec.eval.lr_select_task, "eval": spec.eval.model_dump(), "seed": seed},
                        [n for _, n in lr_stages],
                        select_lr_stage(spec, method, seed, lr_stages),
                    )
                )
            if "none" in spec.post_training or method == "base":
                deps = ["difficulty"] + ([] if method == "base" else [f"sft/{method}/s{seed}"])
                add(
                    Stage(
                        f"eval/{method}/sft/s{seed}",
                        "eval",
                        {
                            "eval": spec.eval.model_dump(),
                            "seed": seed,
                            "student": student,
                            "versions": versions,
                        },
                        deps,
                        eval_stage(spec, method, "sft", seed),
                    )
                )
                arms.append((method, "sft"))
            if "grpo" in spec.post_training and (spec.grpo_methods is None or method in spec.grpo_methods):
                deps = [] if method == "base" else [f"sft/{method}/s{seed}"]
                add(
                    Stage(
                        f"grpo/{method}/s{seed}",
                        "grpo",
                        {
                            "student": student,
                            "hp": spec.grpo().model_dump(),
                            "seed": seed,
                            "data": data,
                            "data_seed": spec.data_seed,  # draws the question sample
                        },
                        deps,
                        grpo_stage(spec, method, seed),
                        version=2,  # 2: decontaminated question pool, micro-batched steps
                    )
                )
                add(
                    Stage(
                        f"eval/{method}/grpo/s{seed}",
                        "eval",
                        {"eval": spec.eval.model_dump(), "seed": seed, "versions": versions},
                        ["difficulty", f"grpo/{method}/s{seed}"],
                        eval_stage(spec, method, "grpo", seed),
                    )
                )
                arms.append((method, "grpo"))
    arms = list(dict.fromkeys(arms))
    add(
        Stage(
            "board",
            "board",
            {"arms": arms, "eval": spec.eval.model_dump(), "name": spec.name},
            [s.name for s in stages if s.kind == "eval"] + ["difficulty"],
            board_stage(spec, arms),
            version=2,
        )
    )
    for s in stages:  # what an executor reserves per stage job; the rest is CPU or teacher-API work
        s.gpus = 1 if s.kind in GPU_KINDS else 0
    return Pipeline(stages, workdir)


def estimate(spec: ExperimentSpec, pipe: Pipeline, stages: set[str] | None = None) -> dict[str, Any]:
    """Rough compute for --dry-run over ``stages`` (default: all): generations, teacher calls, training steps
    and GPU-hours on one H100."""
    from harness.adapters import grpo, sft
    from harness.core.protocols import get_protocol
    from harness.recipe.budget import clean_pool_size

    order = [s for s in pipe.order if stages is None or s.name in stages]
    gen = sum(s.estimate.get("generations", 0) for s in order)
    evals = [s for s in order if s.kind == "eval"]
    protocol = get_protocol(spec.eval.protocol)
    task_n = sum(
        min(spec.eval.limit or 10**9, len(task_docs(t))) * protocol.sampling(TASKS[t].family).k
        for t in spec.eval_tasks()
    )
    gen += len(evals) * task_n
    sft_steps = sum(
        sft.steps_estimate(s.estimate.get("sft_examples", 0), spec.sft()) for s in order if s.kind == "sft"
    )
    grpo_stages = [s for s in order if s.kind == "grpo"]
    n_q = spec.grpo().question_limit or clean_pool_size(spec)
    grpo_steps = sum(grpo.steps_estimate(n_q, spec.grpo()) for _ in grpo_stages)
    teacher = sum(s.estimate.get("teacher_calls", 0) for s in order)
    teacher += sum(s.estimate.get("pairs", 0) for s in order if s.kind == "dataset") * (
        1 if spec.teacher.kind == "openai" else 0
    )
    params = _params(spec)
    sft_tokens = sft_steps * spec.sft().per_device_batch_size * spec.sft().grad_accum * 600
    grpo_tokens = grpo_steps * spec.grpo().mini_batch_questions * spec.grpo().num_generations * 800
    flops = 6 * params * (sft_tokens + grpo_tokens) + 2 * params * (gen * 600 + grpo_tokens)
    return {
        "student_params": params,
        "generations": gen,
        "teacher_calls_upper_bound": teacher,
        "sft_steps": sft_steps,
        "grpo_steps": grpo_steps,
        "gpu_hours_h100_rough": round(flops / (0.4 * 989e12) / 3600, 1),
    }


def _params(spec: ExperimentSpec) -> float:
    from harness.recipe.dryrun import model_shape

    shape = model_shape(spec)
    return shape.params if shape else 3e9


def check_ready(spec: ExperimentSpec) -> None:
    """Fail before any work on inputs that would only fail later (a missing teacher key, a missing student)."""
    import os

    uses_teacher = (
        any(method_uses_teacher(m, spec.select) for m in spec.methods) or spec.data.skill_labels == "teacher"
    )
    if (
        uses_teacher
        and spec.teacher.kind == "openai"
        and spec.teacher.api_key_env
        and not os.environ.get(spec.teacher.api_key_env)
    ):
        raise SpecError(
            f"teacher.api_key_env: environment variable {spec.teacher.api_key_env} is not set "
            "(the teacher needs it for: "
            + ", ".join(m for m in spec.methods if method_uses_teacher(m, spec.select))
            + ")"
        )
    from harness.recipe import dryrun

    bad = dryrun.problems(spec, dryrun.reaches(spec), dryrun.training(spec, None))  # budgets, batch plans
    if bad:
        raise SpecError(bad[0])
    if student_path(spec) is None:
        raise SpecError(
            f"student.model: {spec.student.model} has no config.json (download the checkpoint first)"
        )


def write_record(spec: ExperimentSpec, pipe: Pipeline, summary: dict[str, Any], source: Path) -> Path:
    """experiment.json: the spec, every stage's hash and summary, teacher usage totals."""
    from harness.core.fileio import atomic_write_text
    from harness.records.provenance import collect

    usage: dict[str, float] = {}
    for s in summary.values():
        for k, v in ((s or {}).get("teacher") or {}).items():
            if isinstance(v, int | float):
                usage[k] = round(usage.get(k, 0) + v, 6)
    record = {
        "experiment": spec.name,
        "spec_file": str(source),
        "spec": spec.model_dump(),
        "stages": [
            {"stage": st.name, "hash": st.hash, "dir": str(pipe.out_dir(st)), "summary": summary.get(st.name)}
            for st in pipe.order
        ],
        "teacher_usage": usage,
        "provenance": collect(),
    }
    path = pipe.workdir / "experiment.json"
    atomic_write_text(path, json.dumps(record, indent=1, sort_keys=True, default=str) + "\n")
    return path
