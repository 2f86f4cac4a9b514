"""Hugging Face transformers backend (CPU and GPU).

Batches are generated with ``model.generate``; sampling draws from torch's global RNG, which is seeded per
batch from the batch's cache keys, so a batch regenerated after a crash reproduces exactly.
"""

from __future__ import annotations

from typing import Any

from harness.evaluation.backends import GenParams, cut_at_stop
from harness.evaluation.cache import Generation


class HFBackend:
    """Generation with transformers on the local device (CPU or one GPU)."""
    name = "hf"

    def __init__(self, model: str, dtype: str = "auto", device: str | None = None, trust_remote_code: bool = False,
                 **extra: Any) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if extra:
            raise ValueError(f"hf backend: unknown backend arg(s) {', '.join(extra)}; valid: dtype, device, trust_remote_code")
        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dtype == "auto":
            dtype = "bfloat16" if self.device.startswith("cuda") and torch.cuda.is_bf16_supported() else "float32"
        self.tok = AutoTokenizer.from_pretrained(model, trust_remote_code=trust_remote_code)
        self.tok.padding_side = "left"
        if self.tok.pad_token is None:
            self.tok.pad_token = self.tok.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(
            model, dtype=getattr(torch, dtype), trust_remote_code=trust_remote_code
        ).to(self.device)
        self.model.eval()
        try:  # some tokenizers (e.g. character-level ones with a Fuse decoder) break HF's stop-string matcher
            from transformers.generation.stopping_criteria import StopStringCriteria

            StopStringCriteria(self.tok, ["</s>"])
            self.stop_strings_ok = True
        except Exception:  # noqa: BLE001 - then stop strings are applied after decoding only
            self.stop_strings_ok = False
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set([eos] if isinstance(eos, int) else (eos or [])) | {self.tok.eos_token_id}
        self.eos_ids.discard(None)

    def context_length(self) -> int | None:
        return getattr(self.model.config, "max_position_embeddings", None)

    def count_tokens(self, prompts: list[str]) -> list[int]:
        return [len(ids) for ids in self.tok(prompts, add_special_tokens=False)["input_ids"]]

    def apply_chat_template(self, messages: list[dict[str, str]]) -> str:
        return self.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def generate(self, prompts: list[str], params: GenParams, seeds: list[int], batch_seed: int) -> list[Generation]:
        torch = self.torch
        enc = self.tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        kwargs: dict[str, Any] = {"max_new_tokens": params.max_new_tokens, "pad_token_id": self.tok.pad_token_id,
                                  "eos_token_id": sorted(self.eos_ids)}
        if params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if params.stop and self.stop_strings_ok:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tok)
        torch.manual_seed(batch_seed)
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        new = out[:, enc["input_ids"].shape[1] :].tolist()
        gens = []
        for ids in new:
            n = next((i + 1 for i, t in enumerate(ids) if t in self.eos_ids), None)
            hit_eos = n is not None
            if n is None:  # rows that stopped on a stop string are padded after it
                n = len(ids)
                while n and ids[n - 1] == self.tok.pad_token_id:
                    n -= 1
            text, stopped = cut_at_stop(self.tok.decode(ids[:n], skip_special_tokens=True), params.stop)
            finish = "stop" if (hit_eos or stopped or n < params.max_new_tokens) else "length"
            gens.append(Generation(text, n, finish))
        return gens

    def close(self) -> None:
        self.model = None
