"""Experiment specs the tests share."""

# A small SFT-only experiment: 60 steps checkpointed every 3 (long enough to kill mid-SFT on CPU).
# Doubled braces: callers `.format()` it.
SFT_SPEC = """
name: kill-sft
student: {{model: "{{workdir}}/models/student", build_tiny_seed: 0}}
teacher: {{kind: oracle}}
data: {{pool_limit: 120, val_limit: 8, test_limit: 8}}
difficulty: {{method: checker, max_gen_toks: 8}}
methods: [math-train]
post_training: [none]
hparams:
  preset: cpu-tiny
  sft: {{max_steps: 60, save_steps: 3}}
eval: {{suite: null, tasks: [statbench_gsm8k], limit: 2, max_gen_toks: 8}}
"""
