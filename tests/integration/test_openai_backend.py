"""The openai backend against a local OpenAI-compatible test server (no network)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.evaluation.runner import run_eval, spec_from_cli
from harness.results import iter_samples, read_run

SECRET = "sk-test-do-not-log-0123456789"


class _Handler(BaseHTTPRequestHandler):
    calls: list[dict] = []
    lock = threading.Lock()

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.lock:
            self.calls.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            n = len(self.calls)
        if n % 3 == 1:  # every third call is rate-limited first: the client must retry
            self.send_response(429)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        prompt = body["messages"][0]["content"]
        text = "She makes 9 * 2 = 18 dollars. \\boxed{18}" if "Janet" in prompt else "no idea"
        out = {"choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
               "usage": {"completion_tokens": len(text.split())}}
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    _Handler.calls = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()


def test_openai_backend_end_to_end(server, tmp_path, monkeypatch):
    monkeypatch.setenv("STATBENCH_TEST_KEY", SECRET)
    spec = spec_from_cli("served-model", "openai", ["statbench_gsm8k"], limit=2, max_gen_toks=64,
                         backend_args={"base_url": server, "api_key_env": "STATBENCH_TEST_KEY", "concurrency": 2})
    out = run_eval(spec, tmp_path)
    assert out.generated == 2
    rows = list(iter_samples(out.run_dir, "statbench_gsm8k"))
    assert [r["correct"] for r in rows] == [True, False]
    calls = _Handler.calls
    assert any(c["auth"] == f"Bearer {SECRET}" for c in calls)
    assert {c["path"] for c in calls} == {"/v1/chat/completions"}
    ok = [c["body"] for c in calls]
    assert all(b["model"] == "served-model" and b["max_tokens"] == 64 and "seed" in b for b in ok)
    for f in out.run_dir.rglob("*"):
        if f.is_file():
            assert SECRET not in f.read_text(), f"secret leaked into {f}"
    rec = read_run(out.run_dir)
    assert rec["spec"]["chat_template"]["mode"] == "server"
    again = run_eval(spec, tmp_path)
    assert again.reused_run and again.generated == 0


def test_openai_backend_reports_a_dead_server(tmp_path):
    spec = spec_from_cli("m", "openai", ["statbench_gsm8k"], limit=1, max_gen_toks=8,
                         backend_args={"base_url": "http://127.0.0.1:9/v1", "max_retries": 1})
    with pytest.raises(RuntimeError, match="unreachable after 2 tries"):
        run_eval(spec, tmp_path)
