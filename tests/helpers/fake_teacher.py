"""A scripted OpenAI-compatible chat server for teacher tests: replies by prompt kind, with injectable
failures (429, 500, garbage bodies, slow replies, replies without the required tags)."""

from __future__ import annotations

import json
import re
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

from tests.helpers.http import serve_handler


def good_reply(prompt: str) -> str:
    if "[SKILL_LIST]" in prompt and "<judge>" in prompt:
        return "<judge>incorrect</judge>\n<reason>The algebra slipped.</reason>\n<skill>solving_equations, arithmetic_skills, not_a_skill</skill>"
    if "[SKILL_LIST]" in prompt:
        return "<skill>solving_equations</skill><reason>it solves an equation</reason>"
    if "<question>" in prompt:
        n = len(re.findall(r"\[QUESTION \d\]", prompt))
        return f"<reason>related</reason><draft>plan</draft><question>What is {n} + 4?</question>"
    if prompt.startswith("Solve the following"):
        m = re.search(r"What is (\d+) \+ (\d+)\?", prompt)
        return f"Adding gives \\boxed{{{int(m.group(1)) + int(m.group(2))}}}." if m else "\\boxed{0}"
    if prompt.startswith("Rewrite"):
        boxes = re.findall(r"\\boxed\{([^{}]*)\}", prompt)
        return f"A fresh write-up. The answer is \\boxed{{{boxes[-1] if boxes else 0}}}."
    return "unexpected prompt"


class Script:
    """Failure actions consumed one per request before answering normally: 429 | 500 | garbage | slow | notags."""

    def __init__(self, actions: list[str] | None = None, slow_seconds: float = 3.0):
        self.actions = list(actions or [])
        self.slow_seconds = slow_seconds
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def next_action(self) -> str:
        with self.lock:
            return self.actions.pop(0) if self.actions else "ok"


@contextmanager
def serve(script: Script):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, code: int, body: bytes, ctype: str = "application/json", extra: dict | None = None):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with script.lock:
                script.requests.append({"auth": self.headers.get("Authorization"), "body": body})
            action = script.next_action()
            if action == "429":
                return self._send(429, b'{"error": {"message": "rate limited"}}', extra={"Retry-After": "0"})
            if action == "500":
                return self._send(500, b'{"error": {"message": "boom"}}')
            if action == "garbage":
                return self._send(200, b"<html>not json at all", ctype="text/html")
            if action == "slow":
                time.sleep(script.slow_seconds)
            prompt = body["messages"][0]["content"]
            text = "I will not use tags." if action == "notags" else good_reply(prompt)
            out = {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
                "usage": {
                    "prompt_tokens": len(prompt.split()),
                    "completion_tokens": len(text.split()),
                    "total_tokens": len(prompt.split()) + len(text.split()),
                },
            }
            self._send(200, json.dumps(out).encode())

    with serve_handler(Handler) as url:
        yield url
