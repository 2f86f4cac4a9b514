"""A local OpenAI-compatible server for tests: a "model" whose accuracy we control, with rate limits."""

from __future__ import annotations

import hashlib
import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

from harness.core.tasks import task_docs
from harness.evaluation.task_hooks import doc_to_text
from harness.scoring import reference_text
from tests.helpers.http import serve_handler


def _answers() -> dict[str, str]:
    out = {}
    for task in ("statbench_gsm8k", "statbench_math500"):
        for d in task_docs(task):
            out[doc_to_text(d)] = reference_text(d["answer"])
    return out


class FakeModel:
    """Answers a problem correctly iff hash(problem) falls under ``accuracy`` (deterministic).

    ``style`` makes it a reasoning model: ``think`` (a closed ``<think>`` block with a wrong number in it,
    then the answer), ``unclosed`` (a ``<think>`` block that never closes, with the right answer boxed inside
    it, finish_reason length), ``reasoning_content`` (the trace in the separate field, a wrong box in it).
    """

    def __init__(self, accuracy: float, rate_limit_every: int = 0, style: str = "plain"):
        self.accuracy, self.rate_limit_every, self.style = accuracy, rate_limit_every, style
        self.answers = _answers()
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    def reply(self, prompt: str) -> str:
        ref = self.answers.get(prompt)
        u = int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16) / 2**32
        if ref is not None and u < self.accuracy:
            return f"Working it out carefully. The answer is $\\boxed{{{ref}}}$."
        return "I am not sure. The answer is $\\boxed{-1}$."

    def message(self, prompt: str) -> tuple[str, str | None, str]:
        """(content, reasoning_content, finish_reason) of the reply to ``prompt``."""
        text = self.reply(prompt)
        if self.style == "plain":
            return text, None, "stop"
        ref = self.answers.get(prompt, "0")
        ans = ref if "boxed{-1}" not in text else "-1"
        if self.style == "think":  # a wrong box in the trace, the answer after it (unboxed)
            return f"<think>Maybe \\boxed{{-7}}? No, let me check.</think> The answer is {ans}.", None, "stop"
        if self.style == "unclosed":  # the right answer boxed inside a trace that never closes
            return f"<think>I believe it is \\boxed{{{ref}}} but let me keep checking", None, "length"
        if self.style == "reasoning_content":  # the trace in its own field, with a wrong box in it
            return f"The answer is {ans}.", "Maybe \\boxed{-7}? No.", "stop"
        raise ValueError(f"unknown style {self.style!r}")


@contextmanager
def serve(model: FakeModel):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with model.lock:
                model.calls.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
                )
                n = len(model.calls)
            if model.rate_limit_every and n % model.rate_limit_every == 1:
                self.send_response(429)
                self.send_header("Retry-After", "0")
                self.end_headers()
                return
            completions = "messages" not in body  # /completions: a raw prompt, the reply as text
            text, reasoning, finish = model.message(
                body["prompt"] if completions else body["messages"][-1]["content"]
            )
            msg = {"role": "assistant", "content": text}
            if reasoning is not None:
                msg["reasoning_content"] = reasoning
            choice = {"text": text} if completions else {"message": msg}
            data = json.dumps(
                {
                    "choices": [{**choice, "finish_reason": finish}],
                    "usage": {"completion_tokens": len(text.split()) + len((reasoning or "").split())},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serve_handler(Handler) as url:
        yield url


__all__ = ["FakeModel", "serve"]
