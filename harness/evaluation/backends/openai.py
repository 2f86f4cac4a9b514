"""OpenAI-compatible HTTP backend (OpenAI, ``vllm serve``, SGLang, ...), streaming over one or more servers.

``mode=chat`` sends each prompt as one user message to ``/chat/completions`` (the server applies the
model's chat template); ``mode=completions`` sends the raw prompt to ``/completions``. Each request
carries its own ``seed``.

- Throughput: ``AsyncOpenAI``, up to ``concurrency`` requests (default 64) in flight per server for the
  whole run, no barrier between batches or tasks; a finished request is handed to the sink at once.
- Data parallelism: ``base_url=URL1,URL2,...`` (e.g. several ``vllm serve`` instances); every server runs
  ``concurrency`` workers that pull from one shared queue, so a faster server takes more requests.
- Retries: the SDK's own (``max_retries``, exponential backoff, ``Retry-After`` honoured) for
  connection errors, timeouts, 408/409/429/5xx. A 200 reply without a usable answer (``choices: []``, no
  ``choices``, ``message: null``, empty content) is retried ``bad_reply_retries`` times (the SDK does not
  retry a 200) and then fails; it is never cached. One exception: a reasoning model that spent the whole
  budget thinking (``finish_reason: length``, empty content, non-empty ``reasoning_content``) is a real,
  truncated sample. A request that still fails is reported to the sink; the others go on.
- ``extra_body`` (a dict, or JSON text from the CLI) is passed through on every request (and is part of
  the cache key); ``reasoning_content`` (or ``reasoning``) is kept with the sample, not graded.
- Identity (cache key): mode, extra_body and what each server's ``/v1/models`` says about the model
  (id, root, max_model_len); servers that disagree are refused. The weights behind a server are not
  hashed (pass ``model_path`` to hash a local copy).

The API key is read from the environment variable named by ``api_key_env`` and never logged. A query
string in ``base_url`` (``http://h/v1?api-key=...``) is sent as the query of every request (the SDK's
``default_query``), not spliced into the path; URL passwords and secret-looking query values are redacted
(``harness.core.redact``) wherever a URL is recorded or printed: the identity, error messages.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.core import jsonl
from harness.core.errors import RunFailure, SpecError
from harness.core.redact import redact_text, redact_url, split_query
from harness.evaluation.backends import GenParams, Request, Sink, cut_at_stop
from harness.evaluation.cache import Generation


class Args(BaseModel):
    """``--backend-arg`` keys of the openai backend."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = "http://localhost:8000/v1"
    api_key_env: str = "OPENAI_API_KEY"
    mode: Literal["chat", "completions"] = "chat"
    concurrency: int = Field(64, ge=1)
    timeout: float = Field(600.0, gt=0, allow_inf_nan=False)
    max_retries: int = Field(6, ge=0)
    model_path: str | None = None
    extra_body: dict | str | None = None
    bad_reply_retries: int = Field(2, ge=0)

    @field_validator("base_url")
    @classmethod
    def _urls(cls, base_url: str) -> str:
        from urllib.parse import urlsplit

        urls = [u.strip() for u in base_url.split(",") if u.strip()]
        if not urls:
            raise ValueError("expected one or more http(s) URLs, comma-separated")
        for u in urls:
            try:
                parts = urlsplit(u)
                parts.port  # noqa: B018 - raises ValueError on a bad port
            except ValueError as e:
                raise ValueError(f"{redact_url(u)} is not a URL ({e})") from None
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{redact_url(u)} is not an http(s) URL with a host")
        return base_url

    @field_validator("extra_body")
    @classmethod
    def _json(cls, extra_body: dict | str | None) -> dict | str | None:
        if isinstance(extra_body, str):
            parsed, why = jsonl.parse(extra_body)  # the one JSON-text parser: never a crash
            if why is not None:
                raise ValueError(f"must be a JSON object ({why})")
            if not isinstance(parsed, dict):
                raise ValueError("must be a JSON object")
        return extra_body


class BadReply(Exception):
    """A 200 reply that carries no usable answer."""


class OpenAIBackend:
    """Generation through an OpenAI-compatible HTTP server (chat or completions), concurrent, with retries."""

    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str = "http://localhost:8000/v1",
        api_key_env: str = "OPENAI_API_KEY",
        mode: str = "chat",
        concurrency: int = 64,
        timeout: float = 600.0,
        max_retries: int = 6,
        model_path: str | None = None,
        extra_body: dict | str | None = None,
        bad_reply_retries: int = 2,
    ) -> None:
        if mode not in ("chat", "completions"):
            raise SpecError(f"openai backend: mode must be chat or completions, got {mode!r}")
        self.model, self.mode = model, mode
        self.urls = [u.strip().rstrip("/") for u in str(base_url).split(",") if u.strip()]
        if not self.urls:
            raise SpecError("openai backend: base_url is empty")
        # each server as (base URL the SDK appends paths to, its query string as a dict: sent as a query)
        self.endpoints = {u: split_query(u) for u in self.urls}
        self.concurrency, self.max_retries = int(concurrency), int(max_retries)
        if self.concurrency < 1:
            raise SpecError(f"openai backend: concurrency must be >= 1, got {concurrency}")
        self.timeout, self.bad_reply_retries = float(timeout), int(bad_reply_retries)
        if isinstance(extra_body, str):
            extra_body, why = jsonl.parse(extra_body)
            if why is not None:
                raise SpecError(f"openai backend: extra_body must be a JSON object ({why})")
        if extra_body is not None and not isinstance(extra_body, dict):
            raise SpecError("openai backend: extra_body must be a JSON object")
        self.extra_body = extra_body or None
        self.api_key = os.environ.get(api_key_env) or "EMPTY"
        self.served = self._served_model()
        self.system_prompt: str | None = None
        self.template_kwargs: dict[str, Any] = {}
        self.template: str | None = None

    def set_prompting(
        self, system_prompt: str | None, chat_template_kwargs: dict[str, Any], chat_template: str | None
    ) -> None:
        """``--system-prompt`` (a system message), ``--chat-template-kwargs`` and ``--chat-template @FILE``
        (sent as ``chat_template_kwargs`` / ``chat_template`` in the request body, as vLLM and SGLang servers
        read them). Part of :meth:`identity` when set."""
        self.system_prompt, self.template_kwargs, self.template = (
            system_prompt,
            dict(chat_template_kwargs),
            chat_template,
        )

    # identity ------------------------------------------------------------------------------------
    def _served_model(self) -> dict[str, Any] | None:
        """What every server's ``/v1/models`` reports for the model (id, root, max_model_len); None if unlisted."""
        import httpx

        seen = []
        headers = {"Authorization": f"Bearer {self.api_key}"}
        with httpx.Client(
            transport=httpx.HTTPTransport(retries=self.max_retries),
            headers=headers,
            timeout=min(self.timeout, 60.0),
        ) as client:
            for url in self.urls:
                base, query = self.endpoints[url]
                try:
                    r = client.get(f"{base}/models", params=query or None)
                except httpx.HTTPError as e:
                    raise RunFailure(
                        f"openai backend: {redact_url(base)}/models unreachable after {self.max_retries + 1} "
                        f"tries ({redact_text(str(e))})"
                    ) from e
                entry = None
                if r.status_code == 200:
                    try:
                        entry = next((m for m in r.json().get("data", []) if m.get("id") == self.model), None)
                    except (ValueError, AttributeError):
                        entry = None
                seen.append(
                    None
                    if entry is None
                    else {
                        k: entry.get(k) for k in ("id", "root", "max_model_len") if entry.get(k) is not None
                    }
                )
        if any(s != seen[0] for s in seen):
            raise RunFailure(
                f"openai backend: the servers disagree about model {self.model!r}: "
                + "; ".join(f"{redact_url(u)} -> {s}" for u, s in zip(self.urls, seen, strict=True))
            )
        return seen[0]

    def identity(self) -> dict[str, Any]:
        """openai, the mode, extra_body and the served model's /v1/models entry (weights not hashed)."""
        # nothing to go by but where it is served (secrets in the URLs redacted: this is recorded)
        served = self.served or {"unlisted_at": sorted(redact_url(u) for u in self.urls)}
        ident = {
            "backend": "openai",
            "mode": self.mode,
            "served_model": served,
            "extra_body": self.extra_body,
        }
        prompting = {  # only what is set: runs without these keep their cache keys
            k: v
            for k, v in (
                ("system_prompt", self.system_prompt),
                ("chat_template_kwargs", self.template_kwargs),
                ("chat_template", self.template),
            )
            if v
        }
        return {**ident, "prompting": prompting} if prompting else ident

    def context_length(self) -> int | None:
        return None  # the server enforces its own limit and rejects over-long requests

    def count_tokens(self, prompts: list[str]) -> list[int] | None:
        return None

    def apply_chat_template(self, messages: list[dict[str, str]]) -> str:
        raise RuntimeError(
            "openai backend: the server applies the chat template; statbench sends plain prompts"
        )

    # generation ----------------------------------------------------------------------------------
    def _body(self, req: Request) -> dict[str, Any]:
        p: GenParams = req.params
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": p.max_new_tokens,
            "n": 1,
            "seed": req.seed,
            "temperature": p.temperature,
            "top_p": p.top_p,
        }
        if p.stop:
            body["stop"] = list(p.stop)[:4]  # the OpenAI API takes at most 4
        extra = dict(self.extra_body or {})
        if self.template_kwargs:
            extra["chat_template_kwargs"] = {**extra.get("chat_template_kwargs", {}), **self.template_kwargs}
        if self.template:
            extra["chat_template"] = self.template
        if extra:
            body["extra_body"] = extra
        return body

    def messages(self, prompt: str) -> list[dict[str, str]]:
        """The chat messages of one prompt: the system prompt (if any), then the prompt as the user turn."""
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return [*system, {"role": "user", "content": prompt}]

    def parse(self, data: Any, params: GenParams) -> Generation:
        """A reply (SDK object or dict) -> Generation; ``BadReply`` if it carries no usable answer."""

        def get(o: Any, k: str) -> Any:
            return o.get(k) if isinstance(o, dict) else getattr(o, k, None)

        choices = get(data, "choices")
        if not choices:
            raise BadReply("reply has no choices")
        choice = choices[0]
        finish = "length" if get(choice, "finish_reason") == "length" else "stop"
        reasoning = None
        if self.mode == "chat":
            msg = get(choice, "message")
            if msg is None:
                raise BadReply("reply has message: null")
            text = get(msg, "content")
            extra = msg if isinstance(msg, dict) else (getattr(msg, "model_extra", None) or {})
            reasoning = extra.get("reasoning_content") or extra.get("reasoning") or None
        else:
            text = get(choice, "text")
        if not text and not (reasoning and finish == "length"):
            raise BadReply("reply has empty content")
        text, _ = cut_at_stop(text or "", params.stop)
        usage = get(data, "usage")
        tokens = int((get(usage, "completion_tokens") if usage is not None else 0) or 0)
        return Generation(text, tokens, finish, reasoning if isinstance(reasoning, str) else None)

    async def _one(self, client, req: Request) -> Generation:
        body = self._body(req)
        for attempt in range(self.bad_reply_retries + 1):
            if self.mode == "chat":
                data = await client.chat.completions.create(messages=self.messages(req.prompt), **body)
            else:
                data = await client.completions.create(prompt=req.prompt, **body)
            try:
                return self.parse(data, req.params)
            except BadReply as e:
                if attempt == self.bad_reply_retries:
                    raise BadReply(f"{e} ({attempt + 1} tries)") from None
        raise AssertionError("unreachable")

    def _describe(self, url: str, e: BaseException) -> str:
        return redact_text(self._what(redact_url(url), e))

    def _what(self, url: str, e: BaseException) -> str:
        import openai

        tries = self.max_retries + 1
        if isinstance(e, openai.APITimeoutError):
            return f"{url} timed out after {tries} tries"
        if isinstance(e, openai.APIConnectionError):
            return f"{url} unreachable after {tries} tries ({e.__cause__ or e})"
        if isinstance(e, openai.APIStatusError):
            return f"{url} returned HTTP {e.status_code}: {str(e.message)[:200]}"
        if isinstance(e, BadReply):
            return f"{url}: {e}"
        return f"{url}: {type(e).__name__}: {e}"

    async def _run(self, requests: list[Request], sink: Sink) -> None:
        from openai import AsyncOpenAI

        queue = deque(requests)
        clients = [
            (
                u,
                AsyncOpenAI(
                    base_url=self.endpoints[u][0],
                    default_query=self.endpoints[u][1] or None,  # a query string stays a query string
                    api_key=self.api_key,
                    max_retries=self.max_retries,
                    timeout=self.timeout,
                ),
            )
            for u in self.urls
        ]

        async def worker(url: str, client) -> None:
            while queue:
                req = queue.popleft()
                try:
                    gen = await self._one(client, req)
                except Exception as e:  # noqa: BLE001 - one failed request must not abort the others
                    sink.failed(req, f"openai backend: {self._describe(url, e)}")
                else:
                    sink.done(req, gen)

        try:
            await asyncio.gather(
                *(worker(u, c) for u, c in clients for _ in range(min(self.concurrency, len(requests))))
            )
        finally:
            for _, c in clients:
                await c.close()

    def run(self, requests: list[Request], sink: Sink, batch_size: int = 0) -> None:
        """Generate ``requests`` with ``concurrency`` in flight per server (``batch_size`` is not used)."""
        if requests:
            asyncio.run(self._run(requests, sink))

    def close(self) -> None:
        pass
