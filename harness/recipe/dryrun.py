"""What ``statbench run SPEC --dry-run`` checks and prints beyond the stage table: the stages ``--from`` /
``--only`` would run, every arm's reachable training-set size against the budget, and the SFT/GRPO batch plan
with an estimated peak memory per GPU. A certain shortfall or a plan over ``hardware.gpu_memory_gb`` is
refused with one line (``problems``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness.adapters.plan import KNOWN_SHAPES, BatchPlan, ModelShape, grpo_plan, memory_estimate, sft_plan
from harness.core.errors import SpecError
from harness.core.pipeline import Pipeline
from harness.core.tasks import task_docs
from harness.recipe.budget import Reach, reach
from harness.recipe.experiment import ExperimentSpec
from harness.recipe.stages import student_path


def statuses(pipe: Pipeline, from_stage: str | None, only: list[str] | None) -> dict[str, str]:
    """Per stage, what a run with these options would do: ``done`` (kept), ``todo``, ``rerun`` (done, but
    forced by ``--from``/``--only``) or ``skip`` (not in ``--only``). Unknown stage names are SpecErrors."""
    if only:
        unknown = [n for n in only if n not in pipe.stages]
        if unknown:
            raise pipe.unknown("--only", unknown)
        forced = set(only)
    else:
        forced = pipe.forced(from_stage)  # SpecError for a --from that names no stage
    out = {}
    for s in pipe.order:
        done = pipe.is_done(s)
        if only and s.name not in forced:
            out[s.name] = "skip"
        elif s.name in forced:
            out[s.name] = "rerun" if done else "todo"
        else:
            out[s.name] = "done" if done else "todo"
    return out


def model_shape(spec: ExperimentSpec) -> ModelShape | None:
    """The student's size and shape: its config.json when local, else the published config by name."""
    p = student_path(spec, build=False)
    if p:
        return ModelShape.from_config(json.loads((p / "config.json").read_text()))
    name = spec.student.model.lower()
    return next((v for k, v in KNOWN_SHAPES.items() if k in name), None)


def reaches(spec: ExperimentSpec) -> list[Reach]:
    """Every arm's reachable size (upper bound) against its budget."""
    n_val = spec.data.val_limit or len(task_docs(spec.data.val_task))
    return [reach(spec, m, n_val) for m in spec.methods if m != "base"]


@dataclass(frozen=True)
class Training:
    """One training stage kind's batch plan and memory estimate."""

    kind: str
    plan: BatchPlan | None
    seq_len: int
    memory: dict[str, float] | None
    error: str | None = None


def training(spec: ExperimentSpec, shape: ModelShape | None) -> list[Training]:
    """The SFT and GRPO batch plans and estimated peak memory per GPU on ``spec.hardware``."""
    hw = spec.hardware
    out = []
    kinds = []
    if any(m != "base" for m in spec.methods):
        kinds.append("sft")
    if "grpo" in spec.post_training:
        kinds.append("grpo")
    for kind in kinds:
        try:
            plan = sft_plan(spec.sft(), hw.gpus) if kind == "sft" else grpo_plan(spec.grpo(), hw.gpus)
        except SpecError as e:
            out.append(Training(kind, None, 0, None, str(e)))
            continue
        if kind == "sft":
            hp = spec.sft()
            seq = hp.max_length
            kw: dict[str, Any] = {
                "method": hp.method,
                "optim": hp.optim,
                "lora_r": hp.lora_r,
                "gradient_checkpointing": hp.gradient_checkpointing,
            }
        else:
            g = spec.grpo()
            seq = g.max_prompt_tokens + g.max_completion_length
            kw = {
                "gradient_checkpointing": g.gradient_checkpointing,
                "reference_model": g.beta > 0,
                "vllm_share": g.vllm_gpu_memory_utilization if g.use_vllm != "off" else 0.0,
            }
        mem = memory_estimate(shape, plan, seq, gpu_memory_gb=hw.gpu_memory_gb, **kw) if shape else None
        out.append(Training(kind, plan, seq, mem))
    return out


def problems(spec: ExperimentSpec, arms: list[Reach], train: list[Training]) -> list[str]:
    """One line per reason to refuse the plan: a certain shortfall, a bad batch plan, a plan over the GPU."""
    out = []
    if spec.budget_policy != "allow-short":
        for r in arms:
            if r.short:
                from harness.recipe.budget import KNOBS

                out.append(
                    f"dataset/{r.method}: at most {r.bound:,} pairs ({r.how}) for a budget of {r.target:,}; "
                    f"{KNOBS.get(r.method, 'lower budget')}, or set budget_policy: allow-short"
                )
    for t in train:
        if t.error:
            out.append(t.error)
        elif t.memory and t.memory["total"] > spec.hardware.gpu_memory_gb:
            knob = "hparams.sft.per_device_batch_size" if t.kind == "sft" else "hparams.grpo.micro_batch"
            parts = ", ".join(f"{k} {v:g}" for k, v in t.memory.items() if k != "total" and v)
            out.append(
                f"{t.kind}: about {t.memory['total']:g} GB per GPU ({parts}) exceeds hardware.gpu_memory_gb "
                f"{spec.hardware.gpu_memory_gb:g}; lower {knob} (now {t.plan.micro_batch}) or name a larger GPU"
            )
    return out


def dataset_rows(arms: list[Reach], policy: str) -> list[list[str]]:
    """The per-arm table: budget, reachable pairs, how, and whether it is short."""
    rows = []
    for r in arms:
        need = r.needed_difficult()
        note = "short" + (" (allowed)" if policy == "allow-short" else "") if r.short else "ok"
        if need is not None and not r.short:
            note = f"needs >= {need:,} difficult questions"
        rows.append(
            [
                r.method,
                "all" if r.target is None else f"{r.target:,}",
                f"<= {r.bound:,}",
                r.how,
                note,
            ]
        )
    return rows


def training_rows(train: list[Training], gpus: int, gpu_gb: float) -> list[list[str]]:
    """The per-kind table: processes, micro-batch, accumulation, effective batch, memory estimate."""
    rows = []
    for t in train:
        if t.plan is None:
            rows.append([t.kind, str(gpus), "-", "-", "-", t.error or ""])
            continue
        p = t.plan
        extra = (
            f" per step; generation batch {p.generation_batch:,} = {p.updates_per_generation} steps"
            if p.generation_batch
            else ""
        )
        mem = (
            f"{t.memory['total']:g} GB of {gpu_gb:g} (seq {t.seq_len:,}; "
            + ", ".join(f"{k} {v:g}" for k, v in t.memory.items() if k != "total" and v)
            + ")"
            if t.memory
            else "unknown model size"
        )
        rows.append(
            [
                t.kind,
                str(p.processes),
                str(p.micro_batch),
                str(p.grad_accum),
                f"{p.effective_batch}{extra}",
                mem,
            ]
        )
    return rows


def apply_reach(pipe: Pipeline, arms: list[Reach]) -> None:
    """Put each arm's expected size (its budget, or its bound when that is lower) into the dataset and SFT
    stages' estimates, in place of the budget for every arm."""
    size = {r.method: r.bound if r.target is None else min(r.target, r.bound) for r in arms}
    for s in pipe.order:
        method = s.name.split("/")[1] if s.kind in ("dataset", "sft") else None  # dataset/M, sft/M/lr/s
        if method in size:
            s.estimate["pairs" if s.kind == "dataset" else "sft_examples"] = size[method]
