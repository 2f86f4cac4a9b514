"""OpenAI-compatible HTTP backend (OpenAI, ``vllm serve``, SGLang, ...).

``mode=chat`` sends each prompt as one user message to ``/chat/completions`` (the server applies the
model's chat template); ``mode=completions`` sends the raw prompt to ``/completions``. Each request
carries its own ``seed``. 429/5xx/timeouts are retried with exponential backoff (``Retry-After`` honoured).
The API key is read from the environment variable named by ``api_key_env`` and never logged.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness.evaluation.backends import GenParams, cut_at_stop
from harness.evaluation.cache import Generation

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIBackend:
    """Generation through an OpenAI-compatible HTTP server (chat or completions), concurrent, with retries."""
    name = "openai"

    def __init__(self, model: str, base_url: str = "http://localhost:8000/v1", api_key_env: str = "OPENAI_API_KEY",
                 mode: str = "chat", concurrency: int = 8, timeout: float = 600.0, max_retries: int = 6,
                 model_path: str | None = None) -> None:
        import httpx

        if mode not in ("chat", "completions"):
            raise ValueError(f"openai backend: mode must be chat or completions, got {mode!r}")
        self.model, self.mode = model, mode
        self.base_url = base_url.rstrip("/")
        self.concurrency, self.max_retries = int(concurrency), int(max_retries)
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self.client = httpx.Client(headers=headers, timeout=float(timeout))
        self.httpx = httpx

    def context_length(self) -> int | None:
        return None  # the server enforces its own limit and rejects over-long requests

    def count_tokens(self, prompts: list[str]) -> list[int] | None:
        return None

    def apply_chat_template(self, messages: list[dict[str, str]]) -> str:
        raise RuntimeError("openai backend: the server applies the chat template; statbench sends plain prompts")

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        delay = 0.5
        for attempt in range(self.max_retries + 1):
            try:
                r = self.client.post(f"{self.base_url}{path}", json=body)
            except (self.httpx.TimeoutException, self.httpx.TransportError) as e:
                if attempt == self.max_retries:
                    raise RuntimeError(f"openai backend: {self.base_url}{path} unreachable after {attempt + 1} tries ({e})") from e
            else:
                if r.status_code == 200:
                    try:
                        return r.json()
                    except ValueError:
                        if attempt == self.max_retries:
                            raise RuntimeError(f"openai backend: {self.base_url}{path} returned non-JSON: {r.text[:200]!r}") from None
                elif r.status_code not in RETRY_STATUS or attempt == self.max_retries:
                    raise RuntimeError(f"openai backend: {self.base_url}{path} returned HTTP {r.status_code}: {r.text[:300]}")
                else:
                    retry_after = r.headers.get("retry-after")
                    if retry_after and retry_after.replace(".", "", 1).isdigit():
                        delay = max(delay, float(retry_after))
            time.sleep(min(delay, 30.0))
            delay *= 2
        raise AssertionError("unreachable")

    def _one(self, prompt: str, seed: int, params: GenParams) -> Generation:
        body: dict[str, Any] = {"model": self.model, "max_tokens": params.max_new_tokens, "n": 1, "seed": seed,
                                "temperature": params.temperature, "top_p": params.top_p}
        if params.stop:
            body["stop"] = list(params.stop)[:4]  # the OpenAI API takes at most 4
        if self.mode == "chat":
            body["messages"] = [{"role": "user", "content": prompt}]
            data = self._post("/chat/completions", body)
            choice = data["choices"][0]
            text = (choice.get("message") or {}).get("content") or ""
        else:
            body["prompt"] = prompt
            data = self._post("/completions", body)
            choice = data["choices"][0]
            text = choice.get("text") or ""
        text, _ = cut_at_stop(text, params.stop)
        tokens = int((data.get("usage") or {}).get("completion_tokens") or 0)
        return Generation(text, tokens, "length" if choice.get("finish_reason") == "length" else "stop")

    def generate(self, prompts: list[str], params: GenParams, seeds: list[int], batch_seed: int) -> list[Generation]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as ex:
            return list(ex.map(lambda ps: self._one(ps[0], ps[1], params), zip(prompts, seeds, strict=True)))

    def close(self) -> None:
        self.client.close()
