"""The openai backend against a local OpenAI-compatible test server (no network)."""

from __future__ import annotations

import json

import pytest

from harness.evaluation.runner import run_eval, spec_from_cli
from harness.records.store import iter_samples, read_run
from tests.helpers.cli import assert_one_error, statbench
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


def test_secrets_in_base_url_stay_out_of_every_record_and_the_query_stays_a_query(tmp_path):
    model = FakeModel(accuracy=0.5)
    with serve(model) as url:
        secret_url = url.replace("http://", "http://user:PASSWORD@") + "?api-key=TOKEN"
        r = statbench(
            "eval", "--model", "served", "--backend", "openai", "--tasks", "statbench_gsm8k", "--limit", "3",
            "--max-gen-toks", "16", "--backend-arg", f"base_url={secret_url}", "--runs-dir", tmp_path,
            env={"STATBENCH_PROGRESS_EVERY": "0"},
        )  # fmt: skip
    assert r.returncode == 0, r.stderr
    # the query string is sent as a query string, not spliced into the request path
    assert {c["path"] for c in model.calls} == {"/v1/chat/completions?api-key=TOKEN"}
    for f in tmp_path.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert b"PASSWORD" not in data and b"TOKEN" not in data, f"secret leaked into {f}"
    (run_dir,) = [p for p in tmp_path.iterdir() if (p / "spec.json").is_file()]
    spec = json.loads((run_dir / "spec.json").read_text())["spec"]
    assert spec["backend_args"]["base_url"] == url.replace("http://", "http://user:***@") + "?api-key=***"
    assert "PASSWORD" not in r.stderr + r.stdout and "TOKEN" not in r.stderr + r.stdout
    # stderr is not a terminal here: plain progress lines
    assert "generation 3/3 (100.0%)" in r.stderr


def test_spec_hash_is_unchanged_for_urls_without_secrets(tmp_path):
    from harness.evaluation.runner import prepare

    spec = spec_from_cli(
        "m", "openai", ["statbench_gsm8k"], limit=1, backend_args={"base_url": "http://127.0.0.1:9/v1?x=1"}
    )
    resolved, _ = prepare(spec, tmp_path)
    assert resolved.spec == spec
    assert resolved.model_copy(update={"spec": spec}).with_hash().spec_hash == resolved.spec_hash


def test_malformed_replies_end_in_one_line_naming_the_server(tmp_path):
    from tests.helpers.engine_server import EngineConfig, serve_engine

    with serve_engine(EngineConfig(token_time=0.0, median_tokens=20, malformed_rate=1.0)) as url:
        r = statbench(
            "eval", "--model", "emulated", "--backend", "openai", "--tasks", "statbench_gsm8k", "--limit", "2",
            "--max-gen-toks", "8", "--backend-arg", f"base_url={url}", "--backend-arg", "max_retries=0",
            "--runs-dir", tmp_path,
        )  # fmt: skip
    assert_one_error(r, 1, "2 of 2 request(s) failed", url, "reply has no choices")


def test_a_dead_server_is_one_line_exit_1(tmp_path):
    r = statbench(
        "eval", "--model", "m", "--backend", "openai", "--tasks", "statbench_gsm8k", "--limit", "1",
        "--backend-arg", "base_url=http://me:PW@127.0.0.1:9/v1", "--backend-arg", "max_retries=0",
        "--runs-dir", tmp_path,
    )  # fmt: skip
    line = assert_one_error(r, 1, "http://me:***@127.0.0.1:9/v1/models unreachable")
    assert "PW" not in line
