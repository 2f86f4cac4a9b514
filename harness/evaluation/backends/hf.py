"""Hugging Face transformers backend (CPU and GPU).

Static batches (that is how ``model.generate`` works): requests with equal decoding parameters, in the
order the scheduler hands them over, cut into ``batch_size`` chunks; each finished batch goes to the sink
at once. Sampling does not use torch's global RNG: ``RowSampler`` draws every row's token from that
row's own generator, seeded by the request's seed, so a sample does not depend on which batch it lands
in or on a batch's size. On out-of-memory the batch size halves (and stays halved for the run); only a
single prompt that does not fit is an error.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from harness.core.errors import SpecError
from harness.evaluation.backends import GenParams, Request, Sink, cut_at_stop, tokenizer_chat
from harness.evaluation.cache import Generation


class Args(BaseModel):
    """``--backend-arg`` keys of the hf backend."""

    model_config = ConfigDict(extra="forbid")

    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    device: str | None = None
    trust_remote_code: bool = False
    chat_template_kwargs: dict[str, Any] | None = None  # e.g. a pinned date_string (recipe)

    @field_validator("device")
    @classmethod
    def _device(cls, device: str | None) -> str | None:
        if device is None:
            return device
        if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", device):
            raise ValueError("expected cpu, cuda, cuda:N or mps")
        if device.startswith("cuda"):
            import torch

            n = torch.cuda.device_count() if torch.cuda.is_available() else 0
            if n == 0:
                raise ValueError("CUDA is not available on this machine (torch sees no GPU); use device=cpu")
            if ":" in device and int(device.split(":")[1]) >= n:
                raise ValueError(f"this machine has {n} CUDA device(s)")
        return device


def is_oom(exc: BaseException) -> bool:
    """Whether ``exc`` is an accelerator (or host) out-of-memory error."""
    name = type(exc).__name__
    return name in ("OutOfMemoryError", "OutOfMemoryError_") or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )


class RowSampler:
    """A logits processor that samples each row with its own seeded generator (temperature, then top-p).

    It returns a one-hot mask (0 for the drawn token, -inf elsewhere) that greedy decoding then picks,
    so what a row draws depends only on its seed and its own logits.
    """

    def __init__(self, torch, seeds: list[int], temperature: float, top_p: float, device: str) -> None:
        self.torch, self.temperature, self.top_p = torch, temperature, top_p
        self.gens = [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]

    def __call__(self, input_ids, scores):
        torch = self.torch
        probs = torch.softmax(scores.float() / self.temperature, dim=-1)
        if self.top_p < 1.0:
            sp, idx = probs.sort(dim=-1, descending=True)
            drop = (sp.cumsum(dim=-1) - sp) > self.top_p  # keep the smallest prefix whose mass reaches top_p
            probs = probs.scatter(-1, idx, sp.masked_fill(drop, 0.0))
        out = torch.full_like(scores, float("-inf"))
        for i, g in enumerate(self.gens):
            out[i, torch.multinomial(probs[i], 1, generator=g)] = 0.0
        return out


class HFBackend:
    """Generation with transformers on the local device (CPU or one GPU)."""

    name = "hf"
    static_batches = True  # the scheduler hands over a deterministic batch plan (Request.batch)

    def __init__(
        self,
        model: str,
        dtype: str = "auto",
        device: str | None = None,
        trust_remote_code: bool = False,
        chat_template_kwargs: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if extra:
            raise SpecError(
                f"hf backend: unknown backend arg(s) {', '.join(extra)}; valid: dtype, device, trust_remote_code, chat_template_kwargs"
            )
        self.torch = torch
        self.chat_template_kwargs = dict(chat_template_kwargs or {})  # e.g. a pinned date_string
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dtype == "auto":
            dtype = (
                "bfloat16" if self.device.startswith("cuda") and torch.cuda.is_bf16_supported() else "float32"
            )
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
        self.dtype = dtype
        self.batch_size: int | None = None  # set by run(); halves on out-of-memory
        self.oom_backoffs = 0

    def identity(self) -> dict[str, Any]:
        """hf, the dtype and the device type (CPU and GPU kernels differ numerically)."""
        return {"backend": "hf", "dtype": self.dtype, "device": self.device.split(":")[0]}

    def context_length(self) -> int | None:
        return getattr(self.model.config, "max_position_embeddings", None)

    def count_tokens(self, prompts: list[str]) -> list[int]:
        return [len(ids) for ids in self.tok(prompts, add_special_tokens=False)["input_ids"]]

    def apply_chat_template(
        self, messages: list[dict[str, str]], chat_template: str | None = None, **kwargs: Any
    ) -> str:
        """The tokenizer's chat template (``backends.tokenizer_chat``)."""
        return tokenizer_chat(self.tok, self.chat_template_kwargs, messages, chat_template, kwargs)

    def run(self, requests: list[Request], sink: Sink, batch_size: int) -> None:
        """Generate the scheduler's batches (``Request.batch``), at most ``batch_size`` prompts at a time;
        on out-of-memory the batch size halves for the rest of the run."""
        self.batch_size = self.batch_size or max(1, int(batch_size))
        batches: dict[int, list[Request]] = {}
        for r in requests:
            batches.setdefault(r.batch, []).append(r)
        for reqs in batches.values():
            i = 0
            while i < len(reqs):
                chunk = reqs[i : i + self.batch_size]
                try:
                    gens = self.generate([r.prompt for r in chunk], chunk[0].params, [r.seed for r in chunk])
                except Exception as e:
                    if not is_oom(e):
                        raise
                    if len(chunk) == 1:
                        raise RuntimeError(f"hf backend: out of memory on a single prompt ({e})") from e
                    self.batch_size = max(1, len(chunk) // 2)
                    self.oom_backoffs += 1
                    if self.device.startswith("cuda"):
                        self.torch.cuda.empty_cache()
                    continue
                sink.done_many(list(zip(chunk, gens, strict=True)))
                i += len(chunk)

    def generate(self, prompts: list[str], params: GenParams, seeds: list[int]) -> list[Generation]:
        """One static batch; row ``i`` samples from its own generator seeded by ``seeds[i]``."""
        from transformers import LogitsProcessorList

        torch = self.torch
        enc = self.tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "pad_token_id": self.tok.pad_token_id,
            "eos_token_id": sorted(self.eos_ids),
            "do_sample": False,
            "temperature": None,
            "top_p": None,
            "top_k": None,
        }
        if params.temperature > 0:
            kwargs["logits_processor"] = LogitsProcessorList(
                [RowSampler(torch, seeds, params.temperature, params.top_p, self.device)]
            )
        if params.stop and self.stop_strings_ok:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tok)
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
