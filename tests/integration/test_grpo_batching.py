"""GRPO on the tiny model with the paper's batch *shape*, scaled down for a CPU: one generation batch serves
``questions_per_step / mini_batch_questions`` optimizer steps, each accumulating micro-batches. The reward
function is called once per generation batch, so counting its calls and completions shows what TRL did.
(tests/gpu/test_gpu_paths.py runs the paper's own numbers on a GPU.)"""

from __future__ import annotations

import json


def test_one_generation_batch_serves_four_accumulated_optimizer_steps(tiny_model, tmp_path, reward_calls):
    from harness.adapters import grpo
    from harness.core.tasks import load_benchmark
    from harness.recipe.experiment import GRPOSpec

    # paper shape / 32: 8 questions x 2 rollouts per generation, 2 questions (4 sequences) per optimizer step,
    # micro-batches of 2 sequences, so 2 accumulated micro-batches per step and 4 steps per generation batch
    hp = GRPOSpec(
        learning_rate=1e-5,
        questions_per_step=8,
        num_generations=2,
        mini_batch_questions=2,
        micro_batch=2,
        max_completion_length=8,
        max_steps=4,
        save_steps=100,
        use_vllm="off",
    )
    rows = load_benchmark("math_train")[:16]
    meta = grpo.train(
        str(tiny_model), rows, tmp_path / "out", tmp_path / "work", hp, seed=0, log=lambda m: None
    )
    assert meta["steps"] == 4
    assert reward_calls == [16]  # one generation of 8 x 2 completions for all four optimizer steps
    assert meta["batch_plan"] == {
        "kind": "grpo",
        "processes": 1,
        "micro_batch": 2,
        "grad_accum": 2,
        "effective_batch": 4,
        "steps_per_generation": 8,
        "generation_batch": 16,
        "updates_per_generation": 4,
    }
    assert meta["loss"] == {"loss_type": "dapo", "scale_rewards": "group", "epsilon": 0.2, "beta": 0.0}
    saved = json.loads((tmp_path / "out" / "statbench_grpo.json").read_text())
    assert saved["batch_plan"]["grad_accum"] == 2
