"""The openai backend against a local OpenAI-compatible test server (no network)."""

from __future__ import annotations

import pytest

from harness.evaluation.runner import run_eval, spec_from_cli
from harness.records.store import iter_samples, read_run
from tests.helpers.fake_openai import FakeModel, serve

SECRET = "sk-test-do-not-log-0123456789"


def test_openai_backend_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("STATBENCH_TEST_KEY", SECRET)
    model = FakeModel(
        accuracy=0.5, rate_limit_every=3
    )  # every third call is rate-limited first: the client retries
    with serve(model) as url:
        spec = spec_from_cli(
            "served-model",
            "openai",
            ["statbench_gsm8k"],
            limit=6,
            max_gen_toks=64,
            backend_args={"base_url": url, "api_key_env": "STATBENCH_TEST_KEY", "concurrency": 2},
        )
        out = run_eval(spec, tmp_path)
        assert out.generated == 6
        rows = list(iter_samples(out.run_dir, "statbench_gsm8k"))
        expected = [model.reply(r.prompt).endswith("\\boxed{-1}$.") is False for r in rows]
        assert [r.correct for r in rows] == expected and any(expected) and not all(expected)
        assert any(c["auth"] == f"Bearer {SECRET}" for c in model.calls)
        assert {c["path"] for c in model.calls} == {"/v1/chat/completions"}
        assert all(
            c["body"]["model"] == "served-model" and c["body"]["max_tokens"] == 64 and "seed" in c["body"]
            for c in model.calls
        )
        for f in out.run_dir.rglob("*"):
            if f.is_file():
                assert SECRET not in f.read_text(), f"secret leaked into {f}"
        assert read_run(out.run_dir).spec.chat_template.mode == "server"
        again = run_eval(spec, tmp_path)
        assert again.reused_run and again.generated == 0


def test_openai_backend_reports_a_dead_server(tmp_path):
    spec = spec_from_cli(
        "m",
        "openai",
        ["statbench_gsm8k"],
        limit=1,
        max_gen_toks=8,
        backend_args={"base_url": "http://127.0.0.1:9/v1", "max_retries": 1},
    )
    with pytest.raises(RuntimeError, match="unreachable after 2 tries"):
        run_eval(spec, tmp_path)
