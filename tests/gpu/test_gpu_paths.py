"""GPU code paths, run by scripts/gpu_check.sh on a CUDA machine; skipped everywhere else.

QLoRA SFT (bitsandbytes NF4, paged AdamW 8-bit, bf16) and a few GRPO steps on the tiny model, one GRPO
step with the paper's batch shape (256 questions x 4 rollouts per generation batch, 256 sequences per
optimizer step as 64 accumulated micro-batches of 4, gradient checkpointing), plus the vLLM evaluation
backend when vLLM is installed.
"""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_qlora_sft_then_grpo(tiny_model, tmp_path):
    pytest.importorskip("bitsandbytes", reason="pip install -e '.[gpu]'")
    from harness.adapters import grpo, sft
    from harness.core.tasks import load_benchmark
    from harness.recipe.experiment import GRPOSpec, SFTSpec

    rows = load_benchmark("math_train")[:32]
    hp = SFTSpec(
        method="qlora",
        max_steps=6,
        per_device_batch_size=2,
        grad_accum=2,
        learning_rates=[2e-4],
        max_length=512,
        save_steps=3,
        group_by_length=False,
    )
    meta = sft.train(str(tiny_model), rows, tmp_path / "sft", tmp_path / "sft-work", hp, 2e-4, 0)
    assert meta["method"] == "qlora" and meta["steps"] == 6
    assert json.loads((tmp_path / "sft" / "statbench_sft.json").read_text())["cuda"] is True
    ghp = GRPOSpec(
        learning_rate=1e-5,
        questions_per_step=4,
        num_generations=4,
        mini_batch_questions=4,
        max_completion_length=32,
        max_steps=3,
        save_steps=2,
    )
    gmeta = grpo.train(str(tmp_path / "sft"), rows[:8], tmp_path / "grpo", tmp_path / "grpo-work", ghp, 0)
    assert gmeta["steps"] == 3 and gmeta["cuda"] is True


def test_one_paper_shaped_grpo_step(tiny_model, tmp_path, reward_calls):
    from harness.adapters import grpo
    from harness.adapters.plan import ModelShape, grpo_plan, memory_estimate
    from harness.core.tasks import load_benchmark
    from harness.recipe.experiment import GRPOSpec

    hp = GRPOSpec(learning_rate=1e-6, micro_batch=4, max_completion_length=64, max_steps=1, save_steps=100)
    torch.cuda.reset_peak_memory_stats()
    meta = grpo.train(
        str(tiny_model), load_benchmark("math_train")[:512], tmp_path / "g", tmp_path / "w", hp, 0
    )
    plan = meta["batch_plan"]
    assert meta["steps"] == 1 and meta["cuda"] is True
    assert (plan["micro_batch"], plan["grad_accum"], plan["effective_batch"]) == (4, 64, 256)
    assert plan["generation_batch"] == 1024 and reward_calls == [1024]  # one generation of 256 questions x 4
    peak = torch.cuda.max_memory_allocated() / 2**30
    shape = ModelShape.from_config(json.loads((tiny_model / "config.json").read_text()))
    vllm = hp.vllm_gpu_memory_utilization if meta["vllm"] else 0.0
    gpu_gb = torch.cuda.get_device_properties(0).total_memory / 2**30
    est = memory_estimate(shape, grpo_plan(hp), 512 + 64, vllm_share=vllm, gpu_memory_gb=gpu_gb)
    print(f"paper-shaped GRPO step: measured peak {peak:.2f} GB allocated (torch); dry-run estimate {est}")


def test_vllm_backend_on_gpu(tiny_model, tmp_path):
    pytest.importorskip("vllm", reason="pip install -e '.[gpu]'")
    from harness.evaluation.runner import run_eval, spec_from_cli

    spec = spec_from_cli(
        str(tiny_model),
        "vllm",
        ["statbench_gsm8k"],
        limit=4,
        max_gen_toks=16,
        backend_args={"dtype": "bfloat16", "max_model_len": 1024, "gpu_memory_utilization": 0.3},
    )
    assert run_eval(spec, tmp_path).generated == 4
