#!/usr/bin/env bash
# GPU checks in one go (a few minutes on one GPU): QLoRA SFT + GRPO steps on the tiny model, one GRPO step
# with the paper's batch shape (256 questions x 4 rollouts, 64 accumulated micro-batches of 4 sequences per
# optimizer step, gradient checkpointing; prints the measured peak memory beside the dry run's estimate),
# and the vLLM backend if installed. CPU CI skips tests/gpu; run this on a CUDA machine:
#   scripts/gpu_check.sh            (uses .venv; `pip install -e '.[gpu]'` first for bitsandbytes/vLLM)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" - <<'PY'
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
if torch.cuda.is_available():
    print("gpu", torch.cuda.get_device_name(0))
PY
HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 "$PY" -m pytest -q -rs -s tests/gpu "$@"
