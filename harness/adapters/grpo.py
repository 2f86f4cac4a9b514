"""GRPO with TRL's GRPOTrainer; the reward is the statbench checker (this file and sft.py import TRL).

Paper recipe (App. C.1): MATH train questions, constant LR 5e-7, no KL (beta 0), no entropy bonus, 256
questions x 4 rollouts per generation step, max response 2048, PPO mini-batch 64, 6 epochs. Here the
mini-batch counts questions (64 x 4 = 256 sequences per optimizer step), so one generation batch of
256 x 4 is used for 4 optimizer steps; the paper (verl-style) leaves this ambiguous. Each optimizer step
accumulates small per-process micro-batches (``harness/adapters/plan.py``: the batch plan, the same 256
sequences per step on 1 or 8 processes), with gradient checkpointing. Generation runs in vLLM (colocated)
when CUDA and vLLM are present, else in transformers. TRL's loss settings (``loss_type``,
``scale_rewards``, ``epsilon``) and the batch plan are in the stage summary.

A group whose rollouts all get the same reward carries no signal; the fraction of such groups is in the
output (``frac_reward_zero_std``), and a run that never had signal says so.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def correctness_reward(completions: list, answer: list, **_: Any) -> list[float]:
    """1.0 if the completion's final answer matches the reference under the checker, else 0.0."""
    from harness.scoring import default_checker

    texts = [c[0]["content"] if isinstance(c, list) else str(c) for c in completions]
    return [
        1.0 if v.correct else 0.0 for v in default_checker().grade_many(list(zip(texts, answer, strict=True)))
    ]


def _vllm(mode: str) -> bool:
    import importlib.util

    import torch

    available = torch.cuda.is_available() and importlib.util.find_spec("vllm") is not None
    if mode == "on" and not available:
        raise RuntimeError("grpo.use_vllm=on, but vLLM with CUDA is not available here")
    return available if mode == "auto" else mode == "on"


def train(
    model_path: str,
    questions: list[dict[str, Any]],
    out_dir: Path,
    work_dir: Path,
    hp,
    seed: int,
    log=print,
    data: str = "math_train",
    chat_template_date: str | None = None,
    report_to: list[str] | None = None,
) -> dict[str, Any]:
    """GRPO-train ``model_path`` on ``questions`` (checker reward) into ``out_dir``, resuming from checkpoints in ``work_dir``; returns the stage summary."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from harness.adapters.plan import grpo_plan
    from harness.adapters.sft import (
        last_complete_checkpoint,
        processes,
        progress_callback,
        quiet_trainer,
        trainer_io_args,
    )
    from harness.core.tasks import prompt_for
    from harness.evaluation.spec import chat_template_kwargs
    from harness.scoring import reference_text

    cuda = torch.cuda.is_available()
    tok = AutoTokenizer.from_pretrained(model_path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.bfloat16 if cuda else torch.float32)
    chat = bool(getattr(tok, "chat_template", None))
    rows = [
        {
            "prompt": [{"role": "user", "content": prompt_for(data, q["problem"])}]
            if chat
            else prompt_for(data, q["problem"]),
            "answer": reference_text(q["answer"]),
        }
        for q in questions
    ]
    plan = grpo_plan(hp, processes(), cuda)
    loss = {
        "loss_type": hp.loss_type,
        "scale_rewards": hp.scale_rewards,
        "epsilon": hp.epsilon,
        "beta": hp.beta,
    }
    cfg = GRPOConfig(
        output_dir=str(work_dir),
        seed=seed,
        learning_rate=hp.learning_rate,
        lr_scheduler_type=hp.lr_scheduler,
        **loss,
        num_generations=hp.num_generations,
        max_completion_length=hp.max_completion_length,
        per_device_train_batch_size=plan.micro_batch,
        gradient_accumulation_steps=plan.grad_accum,
        steps_per_generation=plan.steps_per_generation,
        temperature=hp.temperature,
        num_train_epochs=hp.epochs,
        max_steps=hp.max_steps if hp.max_steps else -1,
        use_vllm=_vllm(hp.use_vllm),
        vllm_mode="colocate",
        vllm_gpu_memory_utilization=hp.vllm_gpu_memory_utilization,
        chat_template_kwargs=chat_template_kwargs(Path(model_path), chat_template_date) or None,
        **trainer_io_args(hp.save_steps, cuda, report_to),
        gradient_checkpointing=hp.gradient_checkpointing and cuda,  # memory on GPU; the CPU models are tiny
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    if cfg.generation_batch_size != plan.generation_batch:  # TRL derives it from the plan; a drift is a bug
        raise RuntimeError(
            f"grpo: TRL's generation batch {cfg.generation_batch_size} is not the plan's {plan}"
        )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[correctness_reward],
        args=cfg,
        train_dataset=Dataset.from_list(rows),
        processing_class=tok,
    )
    quiet_trainer(trainer)
    trainer.add_callback(progress_callback("grpo", log))
    resume = last_complete_checkpoint(work_dir, log)
    if resume:
        log(f"grpo: resuming from {resume}")
    trainer.train(resume_from_checkpoint=resume)
    logs = [h for h in trainer.state.log_history if "reward" in h]
    zero_std = [h.get("frac_reward_zero_std") for h in logs if h.get("frac_reward_zero_std") is not None]
    out_dir.mkdir(parents=True, exist_ok=True)
    trainer.model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    meta = {
        "steps": trainer.state.global_step,
        "seed": seed,
        "questions": len(questions),
        "resumed_from": resume,
        "vllm": cfg.use_vllm,
        "cuda": cuda,
        "hparams": hp.model_dump(),
        "batch_plan": plan.as_dict(),
        "loss": loss,
        "mean_reward": [h["reward"] for h in logs],
        "frac_reward_zero_std": zero_std,
        "no_signal": bool(zero_std) and all(z == 1.0 for z in zero_std),
        "frac_reward_zero_std_mean": round(sum(zero_std) / len(zero_std), 3) if zero_std else None,
    }
    if meta["no_signal"]:
        log(
            "grpo: every group got identical rewards (all right or all wrong): this run had no learning signal"
        )
    (out_dir / "statbench_grpo.json").write_text(json.dumps(meta, indent=1, default=str) + "\n")
    return meta


def steps_estimate(n_questions: int, hp) -> int:
    """Optimizer steps a GRPO run over ``n_questions`` will take under ``hp`` (``hp.max_steps`` when set)."""
    return hp.max_steps or math.ceil(
        n_questions * hp.num_generations * hp.epochs / (hp.mini_batch_questions * hp.num_generations)
    )
