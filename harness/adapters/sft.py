"""Supervised fine-tuning with TRL's SFTTrainer (this file and grpo.py are the only TRL imports).

Paper recipe (App. C.1): QLoRA r16 / alpha 32 / dropout 0.05 on the attention and MLP projections, 4-bit
NF4 with bf16 compute, paged AdamW 8-bit, 3 epochs, cosine, 3 % warmup, 2 x 4 = effective batch 8, grad clip
0.3, weight decay 0.1, group-by-length. On a machine without CUDA, QLoRA falls back to LoRA in fp32 with
``adamw_torch`` (``bf16=False, use_cpu=True``: TRL's configs default to bf16, which a CPU-only box refuses), and the output says so.

Data is prompt-completion with the *same* prompt the evaluation tasks use, rendered through the student's
chat template by TRL, with the loss on the completion only (works with any chat template, unlike
``assistant_only_loss`` which needs ``{% generation %}`` markers in the chat template).

Training resumes from the last complete checkpoint in its work directory. The result is the merged model
(LoRA folded into the base weights) with tokenizer and metadata, ready for evaluation and GRPO.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def processes() -> int:
    """Data-parallel processes this trainer runs in (``WORLD_SIZE`` under ``accelerate launch``/torchrun)."""
    import os

    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def prompt_completion(
    rows: list[dict[str, Any]], data: str, chat: bool, template_kwargs: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Training pairs with the evaluation prompt of ``data``: chat messages, or plain text for tokenizers
    without a chat template (the skill world's character-level students). ``template_kwargs`` (e.g. a pinned
    ``date_string``) go to the chat template with every pair, as in evaluation."""
    from harness.core.tasks import prompt_for

    if chat:
        extra = {"chat_template_kwargs": dict(template_kwargs)} if template_kwargs else {}
        return [
            {
                "prompt": [{"role": "user", "content": prompt_for(data, r["problem"])}],
                "completion": [{"role": "assistant", "content": r["solution"]}],
                **extra,
            }
            for r in rows
        ]
    return [{"prompt": prompt_for(data, r["problem"]), "completion": " " + r["solution"]} for r in rows]


def trainer_io_args(save_steps: int, cuda: bool, report_to: list[str] | None = None) -> dict[str, Any]:
    """TrainingArguments shared by the SFT and GRPO stages: checkpoints every ``save_steps`` (two kept, so a
    killed stage resumes), a log line per step, the spec's ``hparams.report_to`` integrations (none by
    default), bf16 on CUDA and plain fp32 on CPU."""
    return {
        "save_strategy": "steps",
        "save_steps": save_steps,
        "save_total_limit": 2,
        "logging_steps": 1,
        "report_to": list(report_to) if report_to else "none",
        "bf16": cuda,
        "use_cpu": not cuda,
    }


def train(
    model_path: str,
    rows: list[dict[str, Any]],
    out_dir: Path,
    work_dir: Path,
    hp,
    lr: float,
    seed: int,
    log=print,
    data: str = "math_train",
    chat_template_date: str | None = None,
    report_to: list[str] | None = None,
) -> dict[str, Any]:
    """SFT (LoRA/QLoRA/full) of ``model_path`` on ``rows`` at learning rate ``lr`` into ``out_dir``, resuming from checkpoints in ``work_dir``; returns the stage summary."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from harness.adapters.plan import sft_plan
    from harness.evaluation.spec import chat_template_kwargs

    cuda = _cuda()
    plan = sft_plan(hp, processes())
    method = hp.method if (hp.method != "qlora" or cuda) else "lora"
    if method != hp.method:
        log(f"sft: {hp.method} needs CUDA (bitsandbytes); training {method} instead")
    tok = AutoTokenizer.from_pretrained(model_path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    load_kw: dict[str, Any] = {"dtype": torch.bfloat16 if cuda else torch.float32}
    if method == "qlora":
        from transformers import BitsAndBytesConfig

        load_kw["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=torch.bfloat16,
            bnb_4bit_use_double_quant=True,
        )
    model = AutoModelForCausalLM.from_pretrained(model_path, **load_kw)
    if method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=hp.gradient_checkpointing)
    present = {n.split(".")[-1] for n, _ in model.named_modules()}
    targets = [m for m in hp.target_modules if m in present]
    peft_config = (
        None
        if method == "full"
        else LoraConfig(
            r=hp.lora_r,
            lora_alpha=hp.lora_alpha,
            lora_dropout=hp.lora_dropout,
            target_modules=targets,
            task_type="CAUSAL_LM",
        )
    )
    cfg = SFTConfig(
        output_dir=str(work_dir),
        seed=seed,
        learning_rate=lr,
        num_train_epochs=hp.epochs,
        max_steps=hp.max_steps if hp.max_steps else -1,
        lr_scheduler_type=hp.lr_scheduler,
        warmup_steps=hp.warmup_ratio,  # a float in [0, 1) is a ratio (transformers 5)
        per_device_train_batch_size=plan.micro_batch,
        gradient_accumulation_steps=plan.grad_accum,
        max_grad_norm=hp.max_grad_norm,
        weight_decay=hp.weight_decay,
        max_length=hp.max_length,
        optim=hp.optim if cuda else "adamw_torch",
        completion_only_loss=True,
        train_sampling_strategy="group_by_length" if hp.group_by_length else "random",
        **trainer_io_args(hp.save_steps, cuda, report_to),
        gradient_checkpointing=hp.gradient_checkpointing and cuda,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    chat = bool(getattr(tok, "chat_template", None))
    trainer = SFTTrainer(
        model=model,
        args=cfg,
        train_dataset=Dataset.from_list(
            prompt_completion(rows, data, chat, chat_template_kwargs(Path(model_path), chat_template_date))
        ),
        processing_class=tok,
        peft_config=peft_config,
    )
    quiet_trainer(trainer)
    trainer.add_callback(progress_callback("sft", log))
    resume = last_complete_checkpoint(work_dir, log)
    if resume:
        log(f"sft: resuming from {resume}")
    result = trainer.train(resume_from_checkpoint=resume)
    history = [
        {k: v for k, v in h.items() if k in ("step", "loss", "learning_rate", "mean_token_accuracy")}
        for h in trainer.state.log_history
        if "loss" in h
    ]
    merged = _merge(trainer, model_path, method, torch)
    out_dir.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    meta = {
        "method": method,
        "requested_method": hp.method,
        "learning_rate": lr,
        "seed": seed,
        "examples": len(rows),
        "steps": trainer.state.global_step,
        "epochs": trainer.state.epoch,
        "resumed_from": resume,
        "train_loss": getattr(result, "training_loss", None),
        "history": history,
        "cuda": cuda,
        "hparams": hp.model_dump(),
        "batch_plan": plan.as_dict(),
        "lora_targets": targets,
    }
    (out_dir / "statbench_sft.json").write_text(json.dumps(meta, indent=1, default=str) + "\n")
    return meta


def _merge(trainer, model_path: str, method: str, torch):
    """Fold the adapter into full-precision base weights (QLoRA: reload the base unquantised first)."""
    model = trainer.model
    if method == "full":
        return model
    if method == "qlora":
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        adapter_dir = Path(trainer.args.output_dir) / "final-adapter"
        model.save_pretrained(adapter_dir)
        base = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.bfloat16)
        return PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
    return model.merge_and_unload()


def last_complete_checkpoint(work_dir: Path, log=print) -> str | None:
    """The newest checkpoint whose files were all written; a kill mid-save leaves a partial one, which is removed."""
    import shutil

    if not work_dir.is_dir():
        return None
    ckpts = sorted(
        (p for p in work_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()),
        key=lambda p: int(p.name.split("-")[-1]),
        reverse=True,
    )
    for c in ckpts:
        weights = any(
            (c / n).is_file() for n in ("model.safetensors", "adapter_model.safetensors", "pytorch_model.bin")
        )
        if weights and all(
            (c / n).is_file() and (c / n).stat().st_size > 0
            for n in ("trainer_state.json", "optimizer.pt", "scheduler.pt")
        ):
            try:
                json.loads((c / "trainer_state.json").read_text())
                return str(c)
            except ValueError:
                pass
        log(f"removing incomplete checkpoint {c.name} (interrupted while saving)")
        shutil.rmtree(c, ignore_errors=True)
    return None


def steps_estimate(n_examples: int, hp) -> int:
    """Optimizer steps an SFT run over ``n_examples`` will take under ``hp`` (``hp.max_steps`` when set): the
    effective batch (``per_device_batch_size x grad_accum``) does not depend on the process count."""
    per_step = hp.per_device_batch_size * hp.grad_accum
    return hp.max_steps or math.ceil(n_examples / per_step * hp.epochs)


def progress_callback(name: str, log=print, every_s: float = 30.0, clock=None):
    """A TrainerCallback that logs ``NAME: step i/n, loss x, r steps/s, ETA`` on the first and last step and at
    most every ``every_s`` seconds in between, so a long stage shows more than ``running``."""
    import time

    from transformers import TrainerCallback

    now = clock or time.monotonic

    class Progress(TrainerCallback):
        def __init__(self) -> None:
            self.t0: float | None = None
            self.first = 0
            self.last_print = -float("inf")
            self.last_step = -1

        def on_train_begin(self, args, state, control, **kw):
            self.t0, self.first = now(), state.global_step

        def on_log(self, args, state, control, logs=None, **kw):
            if self.t0 is None:
                self.on_train_begin(args, state, control)
            step, total, t = state.global_step, state.max_steps, now()
            if step == self.last_step or not (
                step in (self.first + 1, total) or t - self.last_print >= every_s
            ):
                return  # (the trainer's closing summary comes as a second log of the last step)
            self.last_print, self.last_step = t, step
            done = step - self.first
            rate = done / (t - self.t0) if t > self.t0 and done > 0 else None
            loss = (logs or {}).get("loss")
            parts = [f"{name}: step {step}/{total}"]
            if isinstance(loss, int | float):
                parts.append(f"loss {loss:.4g}")
            if rate:
                eta = (total - step) / rate
                parts.append(
                    f"{rate:.3g} steps/s, ETA {eta / 60:.0f} min" if eta >= 90 else f"{rate:.3g} steps/s"
                )
            log(", ".join(parts))

    return Progress()


def quiet_trainer(trainer) -> None:
    """The pipeline reports progress per stage; drop the trainer's own printing of every log dict."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
