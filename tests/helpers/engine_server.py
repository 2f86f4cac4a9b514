"""An emulated continuous-batching inference engine behind an OpenAI-compatible HTTP API (127.0.0.1 only).

It models what matters for scheduling: ``slots`` sequences decode at once (a request waits for a free
slot), each generated token costs ``token_time`` seconds, and output lengths are long-tailed (log-normal,
median ``median_tokens``, p99 about 10x the median with the default ``sigma``). A request's length and
text are a pure function of (prompt, seed, temperature), so a client that sends the same request twice
gets the same reply, and a resumed run can be compared with an uninterrupted one sample for sample.

Failure modes for tests (all deterministic per prompt): ``fail_rate`` answers HTTP 500 for that share of
prompts, always; ``empty_rate`` answers ``message: null``; ``malformed_rate`` answers ``choices: []``.
``POST /config`` changes them on a running server (e.g. heal it before a rerun); ``GET /stats`` reports the
engine's busy window (first slot taken -> last slot freed), requests and tokens; ``POST /reset`` clears it.

Run in a thread (``serve_engine``) for tests, or in its own process (``serve_engine(..., process=True)``)
for the benchmark, so the client's CPU use does not slow the emulated engine.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from statistics import NormalDist

_NORMAL = NormalDist()


@dataclass
class EngineConfig:
    """The emulated engine's shape and its failure modes."""

    slots: int = 64
    token_time: float = 0.0005
    median_tokens: int = 350
    sigma: float = 1.0  # log-normal shape: p99 = median * exp(2.326 * sigma) ~ 3.6k for 350
    model: str = "emulated"
    root: str = "/models/emulated-7b"
    max_model_len: int = 32768
    fail_rate: float = 0.0
    empty_rate: float = 0.0
    malformed_rate: float = 0.0
    reasoning: bool = False
    extra: dict = field(default_factory=dict)


def _unit(*parts: object) -> float:
    h = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()
    return (int(h[:13], 16) + 0.5) / 16**13


def output_length(prompt: str, seed: object, temperature: object, cfg: EngineConfig, max_tokens: int) -> int:
    """The number of tokens the engine 'generates' for one request (deterministic, long-tailed)."""
    z = _NORMAL.inv_cdf(_unit("len", prompt, seed, temperature))
    return max(1, min(int(max_tokens), round(cfg.median_tokens * math.exp(cfg.sigma * z))))


def reply_text(prompt: str, seed: object, temperature: object) -> str:
    """The reply text: short (the token count is reported separately), distinct per (prompt, seed, T)."""
    tag = hashlib.sha256(f"{prompt}\x1f{seed}\x1f{temperature}".encode()).hexdigest()[:10]
    return f"Sample {tag}. The answer is $\\boxed{{{int(tag[:4], 16) % 7}}}$."


class Engine:
    """The engine state: a slot semaphore and busy-window statistics."""

    def __init__(self, cfg: EngineConfig) -> None:
        self.cfg = cfg
        self.free = asyncio.Semaphore(cfg.slots)
        self.reset()

    def reset(self) -> None:
        self.first = self.last = None
        self.active = self.requests = self.tokens = self.failures = 0
        self.calls: list[dict] = []

    def stats(self) -> dict:
        busy = (self.last - self.first) if self.first is not None and self.last is not None else 0.0
        return {
            "busy_seconds": busy,
            "first": self.first,
            "last": self.last,
            "requests": self.requests,
            "tokens": self.tokens,
            "failures": self.failures,
        }

    async def complete(self, path: str, body: dict, headers: dict) -> tuple[int, dict]:
        cfg = self.cfg
        chat = path.endswith("/chat/completions")
        prompt = body["messages"][-1]["content"] if chat else body.get("prompt", "")
        seed, temp = body.get("seed"), body.get("temperature")
        self.calls.append({"path": path, "body": body, "auth": headers.get("authorization")})
        if _unit("fail", prompt) < cfg.fail_rate:
            self.failures += 1
            return 500, {"error": {"message": "emulated permanent failure", "type": "server_error"}}
        n = output_length(prompt, seed, temp, cfg, body.get("max_tokens") or cfg.max_model_len)
        async with self.free:
            now = time.perf_counter()
            self.first = now if self.first is None else self.first
            self.active += 1
            try:
                await asyncio.sleep(n * cfg.token_time)
            finally:
                self.active -= 1
                self.last = time.perf_counter()
        self.requests += 1
        self.tokens += n
        if _unit("malformed", prompt) < cfg.malformed_rate:
            return 200, {"id": "x", "object": "chat.completion", "choices": []}
        text = None if _unit("empty", prompt) < cfg.empty_rate else reply_text(prompt, seed, temp)
        finish = "length" if n >= (body.get("max_tokens") or 1 << 30) else "stop"
        usage = {
            "prompt_tokens": len(prompt.split()),
            "completion_tokens": n,
            "total_tokens": n + len(prompt.split()),
        }
        if chat:
            msg: dict = {"role": "assistant", "content": text}
            if cfg.reasoning:
                msg["reasoning_content"] = f"thinking about {reply_text(prompt, seed, temp)[:17]}"
            return 200, {
                "id": "x",
                "object": "chat.completion",
                "model": cfg.model,
                "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
                "usage": usage,
            }
        return 200, {
            "id": "x",
            "object": "text_completion",
            "model": cfg.model,
            "choices": [{"index": 0, "text": text, "finish_reason": finish}],
            "usage": usage,
        }


async def _handle(engine: Engine, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            method, path, _ = line.decode().split(" ", 2)
            headers = {}
            while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                k, v = h.decode().split(":", 1)
                headers[k.strip().lower()] = v.strip()
            raw = await reader.readexactly(int(headers.get("content-length", 0)))
            body = json.loads(raw) if raw else {}
            if method == "GET" and path.endswith("/models"):
                cfg = engine.cfg
                status, data = (
                    200,
                    {
                        "object": "list",
                        "data": [
                            {
                                "id": cfg.model,
                                "object": "model",
                                "root": cfg.root,
                                "max_model_len": cfg.max_model_len,
                                "owned_by": "emulated",
                            }
                        ],
                    },
                )
            elif method == "GET" and path.endswith("/stats"):
                status, data = 200, engine.stats()
            elif method == "GET" and path.endswith("/calls"):
                status, data = 200, {"calls": engine.calls}
            elif method == "POST" and path.endswith("/reset"):
                engine.reset()
                status, data = 200, {}
            elif method == "POST" and path.endswith("/config"):
                for k, v in body.items():
                    setattr(engine.cfg, k, v)
                status, data = 200, asdict(engine.cfg)
            elif method == "POST" and path.endswith("completions"):
                status, data = await engine.complete(path, body, headers)
            else:
                status, data = 404, {"error": {"message": f"no route {method} {path}"}}
            payload = json.dumps(data).encode()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                f"Connection: keep-alive\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


async def _serve(cfg: EngineConfig, ready, stop: threading.Event | None) -> None:
    engine = Engine(cfg)
    server = await asyncio.start_server(lambda r, w: _handle(engine, r, w), "127.0.0.1", 0, backlog=4096)
    ready(server.sockets[0].getsockname()[1])
    async with server:
        while stop is None or not stop.is_set():
            await asyncio.sleep(0.05)


def _process_main(cfg: EngineConfig, q) -> None:
    asyncio.run(_serve(cfg, q.put, None))


@contextmanager
def serve_engine(cfg: EngineConfig | None = None, process: bool = False) -> Iterator[str]:
    """Yields the base URL (``http://127.0.0.1:<port>/v1``) of an emulated engine, in a thread or a process."""
    cfg = cfg or EngineConfig()
    if process:
        ctx = multiprocessing.get_context("spawn")
        q = ctx.Queue()
        proc = ctx.Process(target=_process_main, args=(cfg, q), daemon=True)
        proc.start()
        try:
            yield f"http://127.0.0.1:{q.get(timeout=60)}/v1"
        finally:
            proc.terminate()
            proc.join(10)
        return
    stop = threading.Event()
    port: list[int] = []
    got = threading.Event()
    th = threading.Thread(
        target=lambda: asyncio.run(_serve(cfg, lambda p: (port.append(p), got.set()), stop)), daemon=True
    )
    th.start()
    got.wait(30)
    try:
        yield f"http://127.0.0.1:{port[0]}/v1"
    finally:
        stop.set()
        th.join(10)


def control(url: str, path: str, body: dict | None = None) -> dict:
    """GET (no body) or POST (body) one of the engine's control endpoints: stats, calls, reset, config."""
    import httpx

    r = (
        httpx.post(f"{url}/{path}", json=body, timeout=30)
        if body is not None
        else httpx.get(f"{url}/{path}", timeout=30)
    )
    r.raise_for_status()
    return r.json()
