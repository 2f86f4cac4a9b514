"""Batch plans and peak-memory estimates for the SFT and GRPO stages (pure: no torch, no TRL).

**GRPO** (paper App. C.1): a generation batch is ``questions_per_step x num_generations`` sequences
(256 x 4 = 1,024); an optimizer step is ``mini_batch_questions x num_generations`` sequences (64 x 4 = 256),
so one generation batch serves ``questions_per_step / mini_batch_questions`` (4) optimizer steps. With k
data-parallel processes and a per-process micro-batch m (sequences per forward/backward), each optimizer
step accumulates ``256 / (m k)`` micro-batches. TRL 1.16 counts ``steps_per_generation`` in micro-batches
(each process's share of the generation batch is split into that many slices, one per forward/backward),
so ``steps_per_generation = 4 x accumulation``, and ``generation_batch_size = m k steps_per_generation``
is the 1,024 sequences again, whatever k is.

**SFT**: the paper's effective batch is ``per_device_batch_size x grad_accum`` (2 x 4 = 8) on one GPU; with k
processes the accumulation becomes ``8 / (m k)``, the micro-batch shrinking to a divisor when it must.

**Memory** (``memory_estimate``; bytes per GPU, bf16 = 2 bytes; a rough guide, not a measurement):

- weights: 2 P (bf16); QLoRA: 0.5 bytes per linear-layer parameter (NF4) + 2 V h for the embeddings;
- trainable parameters T: P (full) or, for (Q)LoRA, ``layers x r x (8 h + 3 (h + i))``;
- gradients + AdamW states: 6 T (bf16 gradient and two bf16 moments) for full training; LoRA adapters are
  fp32: 12 T (AdamW) or 6 T (8-bit AdamW);
- a reference model (GRPO with beta > 0): 2 P;
- activations with gradient checkpointing: ``layers x m L h x 2`` (each layer's saved input) plus one
  layer recomputed, ``m L (8 h + 4 i) x 2``; without checkpointing every layer keeps the latter;
- logits: ``m L V x 8`` (bf16 logits, an fp32 copy for the log-softmax, and their bf16 gradient);
- colocated vLLM (GRPO): its ``gpu_memory_utilization`` share of the GPU;
- 1.5 GB of CUDA context and allocator slack.

L is the sequence length: SFT ``max_length``; GRPO ``max_prompt_tokens + max_completion_length``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from harness.core.errors import SpecError

GB = 1024**3
CONTEXT_GB = 1.5


@dataclass(frozen=True)
class BatchPlan:
    """How one optimizer step is cut into per-process micro-batches."""

    kind: str  # "sft" | "grpo"
    processes: int
    micro_batch: int  # sequences per forward/backward, per process
    grad_accum: int  # micro-batches per optimizer step, per process
    effective_batch: int  # sequences per optimizer step, all processes
    steps_per_generation: int | None = None  # GRPO: micro-batches per generation batch (TRL's unit)
    generation_batch: int | None = None  # GRPO: sequences generated per generation batch, all processes
    updates_per_generation: int | None = None  # GRPO: optimizer steps per generation batch

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _split(
    total: int, micro: int | None, processes: int, knob: str, shrink: bool, auto_cap: int = 4
) -> tuple[int, int]:
    if processes < 1:
        raise SpecError(f"hardware.gpus: {processes} processes; give at least 1")
    if total % processes:
        raise SpecError(
            f"{knob}: an optimizer step of {total} sequences does not split over {processes} processes; "
            f"use a process count that divides {total}"
        )
    share = total // processes
    if micro is None:
        micro = max(d for d in range(1, min(auto_cap, share) + 1) if share % d == 0)
    elif shrink:
        micro = math.gcd(micro, share)
    if share % micro:
        raise SpecError(
            f"{knob}: a micro-batch of {micro} does not divide the {share} sequences each of {processes} "
            f"process(es) contributes to an optimizer step of {total}; use a divisor of {share}"
        )
    return micro, share // micro


def grpo_plan(hp, processes: int = 1, cuda: bool = True) -> BatchPlan:
    """The GRPO batch plan for ``hp`` (a GRPOSpec) on ``processes`` data-parallel processes. Without
    ``hp.micro_batch`` the micro-batch is the largest divisor of each process's share up to 4 on a GPU, and
    the whole share on a CPU (tiny models: memory is no constraint there, and one pass is ~3x faster)."""
    if hp.num_generations < 2:
        raise SpecError(f"hparams.grpo.num_generations: {hp.num_generations}; GRPO needs at least 2")
    if hp.mini_batch_questions < 1 or hp.questions_per_step % hp.mini_batch_questions:
        raise SpecError(
            f"hparams.grpo.questions_per_step: {hp.questions_per_step} is not a multiple of "
            f"mini_batch_questions ({hp.mini_batch_questions})"
        )
    updates = hp.questions_per_step // hp.mini_batch_questions
    per_step = hp.mini_batch_questions * hp.num_generations
    micro, accum = _split(
        per_step,
        hp.micro_batch,
        processes,
        "hparams.grpo.micro_batch",
        shrink=False,
        auto_cap=4 if cuda else per_step,
    )
    return BatchPlan(
        "grpo",
        processes,
        micro,
        accum,
        per_step,
        steps_per_generation=updates * accum,
        generation_batch=hp.questions_per_step * hp.num_generations,
        updates_per_generation=updates,
    )


def sft_plan(hp, processes: int = 1) -> BatchPlan:
    """The SFT batch plan for ``hp`` (an SFTSpec): the effective batch of one process, over ``processes``."""
    effective = hp.per_device_batch_size * hp.grad_accum
    micro, accum = _split(
        effective, hp.per_device_batch_size, processes, "hparams.sft.per_device_batch_size", shrink=True
    )
    return BatchPlan("sft", processes, micro, accum, effective)


@dataclass(frozen=True)
class ModelShape:
    """What the memory estimate needs of a model."""

    params: float
    hidden: int
    layers: int
    intermediate: int
    vocab: int

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> ModelShape:
        h, n = int(cfg.get("hidden_size", 0)), int(cfg.get("num_hidden_layers", 0))
        i, v = int(cfg.get("intermediate_size", 4 * h)), int(cfg.get("vocab_size", 0))
        return cls(float(n * (4 * h * h + 3 * h * i) + v * h), h, n, i, v)


# published configs of the paper's students (used when the checkpoint is not on this machine)
KNOWN_SHAPES: dict[str, ModelShape] = {
    "llama-3.2-1b": ModelShape(1.24e9, 2048, 16, 8192, 128256),
    "llama-3.2-3b": ModelShape(3.21e9, 3072, 28, 8192, 128256),
    "qwen2.5-3b": ModelShape(3.09e9, 2048, 36, 11008, 151936),
    "qwen2.5-1.5b": ModelShape(1.54e9, 1536, 28, 8960, 151936),
}


def memory_estimate(
    shape: ModelShape,
    plan: BatchPlan,
    seq_len: int,
    *,
    method: str = "full",
    optim: str = "adamw_torch",
    lora_r: int = 16,
    gradient_checkpointing: bool = True,
    reference_model: bool = False,
    vllm_share: float = 0.0,
    gpu_memory_gb: float = 80.0,
) -> dict[str, float]:
    """Estimated peak memory per GPU in GB, by part, with the ``total`` (formula in the module docstring)."""
    p, h, n, i, v = shape.params, shape.hidden, shape.layers, shape.intermediate, shape.vocab
    m, seq = plan.micro_batch, seq_len
    embed = v * h
    weights = (0.5 * max(p - embed, 0) + 2 * embed) if method == "qlora" else 2 * p
    if method == "full":
        trainable, state = p, 6.0
    else:
        trainable = n * lora_r * (8 * h + 3 * (h + i))
        state = 6.0 if "8bit" in optim else 12.0
    layer = m * seq * (8 * h + 4 * i) * 2
    acts = (n * m * seq * h * 2 + layer) if gradient_checkpointing else n * layer
    parts = {
        "weights": weights,
        "grads_optimizer": trainable * state,
        "reference": 2 * p if reference_model else 0.0,
        "activations": acts,
        "logits": m * seq * v * 8,
    }
    out = {k: round(b / GB, 1) for k, b in parts.items()}
    out["vllm"] = round(vllm_share * gpu_memory_gb, 1)
    out["context"] = CONTEXT_GB
    out["total"] = round(sum(parts.values()) / GB + out["vllm"] + CONTEXT_GB, 1)
    return out
