"""A stand-in for ``vllm.LLM`` / ``SamplingParams`` with the v1 engine's add_request/step interface, so the
vLLM backend's streaming loop and its data-parallel replica processes run on CPU without vLLM.

Requests finish out of submission order (a request's length decides the step it finishes in), and
vLLM-style request-id suffixes are added, as newer vLLM releases do. A reply is a pure function of
(prompt token ids, seed, temperature).
"""

from __future__ import annotations

import hashlib
import os
from types import SimpleNamespace


class FakeSamplingParams(SimpleNamespace):
    """Keeps whatever keyword arguments it is given (n, max_tokens, temperature, top_p, stop, seed)."""


def fake_reply(token_ids: list[int], seed: int, temperature: float) -> tuple[str, int]:
    h = hashlib.sha256(f"{token_ids}|{seed}|{temperature}".encode()).hexdigest()
    return f"reply {h[:12]} \\boxed{{{int(h[:2], 16) % 5}}}", 1 + int(h[2:4], 16) % 7


class _Engine:
    def __init__(self) -> None:
        self.waiting: list[tuple[str, list[int], FakeSamplingParams, int]] = []
        self.steps = 0
        self.added = 0

    def add_request(self, request_id: str, prompt: dict, params: FakeSamplingParams) -> None:
        text, n = fake_reply(prompt["prompt_token_ids"], params.seed, params.temperature)
        self.waiting.append((f"{request_id}-{os.getpid() % 1000}", text, params, n))
        self.added += 1

    def has_unfinished_requests(self) -> bool:
        return bool(self.waiting)

    def step(self) -> list:
        self.steps += 1
        out, keep = [], []
        for rid, text, params, n in self.waiting:
            finished = n <= self.steps
            (out if finished else keep).append((rid, text, params, n))
        self.waiting = keep
        return [
            SimpleNamespace(
                request_id=rid,
                finished=True,
                outputs=[
                    SimpleNamespace(
                        text=text,
                        token_ids=list(range(min(n, params.max_tokens))),
                        finish_reason="length" if n >= params.max_tokens else "stop",
                    )
                ],
            )
            for rid, text, params, n in out
        ]


class FakeLLM:
    """``vllm.LLM(model=..., **engine_args)`` with an ``llm_engine`` that streams."""

    def __init__(self, model: str, **engine_args) -> None:
        if "data_parallel_size" in engine_args:
            raise TypeError("data_parallel_size is not an LLM argument (as in current vLLM)")
        self.model, self.engine_args = model, engine_args
        self.llm_engine = _Engine()
