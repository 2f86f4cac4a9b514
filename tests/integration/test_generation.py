"""Generation: cache keys that name the producer, the streaming scheduler, partial failures, resume after
SIGKILL (openai against the emulated engine), several servers, the hf OOM back-off, the vLLM streaming
loop and replicas (fake engine), and two processes writing one cache."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.evaluation.backends import GenParams, Request
from harness.evaluation.cache import Generation, GenerationCache, generation_key
from harness.evaluation.lm import Committer
from harness.evaluation.progress import GenStats, format_line
from harness.evaluation.runner import run_eval, spec_from_cli
from harness.records.store import iter_samples
from tests.helpers.cli import statbench
from tests.helpers.engine_server import EngineConfig, control, serve_engine
from tests.helpers.sigkill import kill_point, run_and_kill

FAST = dict(token_time=0.0, median_tokens=20, sigma=0.5)


def _runs(d: Path) -> list[Path]:
    return [p for p in d.iterdir() if p.name[0].isdigit()] if d.exists() else []


def _count(db: Path) -> int:
    return sqlite3.connect(db).execute("SELECT COUNT(*) FROM generations").fetchone()[0]


def test_cache_key_names_backend_mode_and_dtype():
    params = GenParams(16, 0.6, 0.95, ()).as_dict()
    producers = [
        {"backend": "hf", "dtype": "float32", "device": "cpu"},
        {"backend": "hf", "dtype": "bfloat16", "device": "cpu"},
        {"backend": "openai", "mode": "chat", "served_model": None, "extra_body": None},
        {"backend": "openai", "mode": "completions", "served_model": None, "extra_body": None},
        {"backend": "vllm", "dtype": "bfloat16"},
        {"backend": "vllm", "dtype": "bfloat16", "quantization": "awq"},
    ]
    keys = {generation_key("fp", "prompt", params, 0, 0, p) for p in producers}
    assert len(keys) == len(producers)
    assert generation_key("fp", "prompt", params, 0, 0, producers[0]) == generation_key(
        "fp", "prompt", params, 0, 0, dict(producers[0])
    )


@pytest.mark.slow
def test_same_checkpoint_through_hf_fp32_hf_bf16_and_a_server_generates_afresh(tiny_model, tmp_path):
    base = dict(limit=2, max_gen_toks=8, batch_size=2)
    f32 = run_eval(
        spec_from_cli(str(tiny_model), "hf", ["statbench_gsm8k"], backend_args={"dtype": "float32"}, **base),
        tmp_path,
    )
    bf16 = run_eval(
        spec_from_cli(str(tiny_model), "hf", ["statbench_gsm8k"], backend_args={"dtype": "bfloat16"}, **base),
        tmp_path,
    )
    assert (f32.generated, f32.cached) == (2, 0)
    assert (bf16.generated, bf16.cached) == (2, 0), "bfloat16 was served float32's cached samples"
    with serve_engine(EngineConfig(**FAST)) as url:
        served = run_eval(
            spec_from_cli(
                "tiny",
                "openai",
                ["statbench_gsm8k"],
                limit=2,
                max_gen_toks=8,
                backend_args={"base_url": url, "model_path": str(tiny_model)},
            ),
            tmp_path,
        )
        assert (served.generated, served.cached) == (2, 0)
        assert len(control(url, "calls")["calls"]) == 2, "the server never saw the requests"
    prov = json.loads((served.run_dir / "provenance.json").read_text())["generation"]
    assert prov["backend"]["backend"] == "openai" and prov["weights_hashed"] is True
    again = run_eval(
        spec_from_cli(str(tiny_model), "hf", ["statbench_gsm8k"], backend_args={"dtype": "bfloat16"}, **base),
        tmp_path,
        force=True,
    )
    assert (again.generated, again.cached) == (0, 2)


def test_served_model_without_path_is_fingerprinted_by_v1_models_and_says_weights_not_hashed(tmp_path):
    with serve_engine(EngineConfig(**FAST, root="/models/a")) as url:
        spec = spec_from_cli(
            "emulated", "openai", ["statbench_gsm8k"], limit=1, max_gen_toks=8, backend_args={"base_url": url}
        )
        a = run_eval(spec, tmp_path)
        control(url, "config", {"root": "/models/b"})  # other weights behind the same name and URL
        b = run_eval(spec, tmp_path, force=True)
    assert (a.generated, b.generated) == (1, 1)
    gen = json.loads((b.run_dir / "provenance.json").read_text())["generation"]
    assert gen["weights_hashed"] is False and gen["backend"]["served_model"]["root"] == "/models/b"


@pytest.mark.parametrize("mode", ["empty_rate", "malformed_rate"])
def test_empty_or_malformed_reply_is_an_error_and_never_cached(tmp_path, mode):
    with serve_engine(EngineConfig(**FAST, **{mode: 1.0})) as url:
        spec = spec_from_cli(
            "emulated",
            "openai",
            ["statbench_gsm8k"],
            limit=3,
            max_gen_toks=8,
            backend_args={"base_url": url, "max_retries": 0},
        )
        with pytest.raises(
            RuntimeError,
            match=r"3 of 3 request\(s\) failed.*reply has (empty content|no choices) \(3 tries\)",
        ):
            run_eval(spec, tmp_path)
        assert len(control(url, "calls")["calls"]) == 3 * 3  # each retried twice
        assert _count(tmp_path / ".cache" / "generations.sqlite") == 0 and not _runs(tmp_path)
        control(url, "config", {mode: 0.0})
        assert run_eval(spec, tmp_path).generated == 3


def test_reasoning_content_is_kept_with_the_sample_not_graded(tmp_path):
    with serve_engine(EngineConfig(**FAST, reasoning=True)) as url:
        out = run_eval(
            spec_from_cli(
                "emulated",
                "openai",
                ["statbench_gsm8k"],
                limit=2,
                max_gen_toks=8,
                backend_args={"base_url": url, "extra_body": '{"top_k": 20}'},
            ),
            tmp_path,
        )
        bodies = [c["body"] for c in control(url, "calls")["calls"]]
    rows = list(iter_samples(out.run_dir, "statbench_gsm8k"))
    assert all(r.reasoning.startswith("thinking about Sample") and "thinking" not in r.response for r in rows)
    assert all(b["top_k"] == 20 for b in bodies)  # extra_body passed through


@pytest.mark.slow
def test_partial_failure_finishes_the_rest_exits_nonzero_without_a_record_and_a_rerun_completes(tmp_path):
    args = [
        "eval",
        "--model",
        "emulated",
        "--backend",
        "openai",
        "--tasks",
        "statbench_gsm8k,statbench_amc23",
        "--limit",
        "3",
        "--max-gen-toks",
        "16",
        "--runs-dir",
        str(tmp_path),
    ]
    total = 3 + 3 * 64
    with serve_engine(EngineConfig(**FAST, fail_rate=0.4)) as url:
        args += ["--backend-arg", f"base_url={url}", "--backend-arg", "max_retries=0"]
        first = statbench(*args, timeout=600)
        assert first.returncode == 1, first.stderr
        assert "failed after retries" in first.stderr and "HTTP 500" in first.stderr
        assert "statbench_amc23:" in first.stderr  # failures reported per task
        assert not _runs(tmp_path), "a partial run must not write a run record"
        failed = control(url, "stats")["failures"]
        cached = _count(tmp_path / ".cache" / "generations.sqlite")
        assert 0 < failed < total and cached == total - failed
        control(url, "config", {"fail_rate": 0.0})
        control(url, "reset", {})
        second = statbench(*args, timeout=600)
        assert second.returncode == 0, second.stderr
        assert f"{failed} generated, {cached} from cache" in second.stderr
        assert control(url, "stats")["requests"] == failed  # only the missing ones were sent
    assert len(_runs(tmp_path)) == 1


@pytest.mark.slow
def test_sigkill_then_rerun_equals_an_uninterrupted_run_openai(tmp_path):
    total = 4 * 64
    seed, target = kill_point(total, "openai SIGKILL test")
    cfg = EngineConfig(token_time=0.0005, median_tokens=60, sigma=1.0, slots=8)
    with serve_engine(cfg) as url:
        args = [
            "eval",
            "--model",
            "emulated",
            "--backend",
            "openai",
            "--tasks",
            "statbench_amc23",
            "--limit",
            "4",
            "--max-gen-toks",
            "400",
            "--seed",
            "7",
            "--backend-arg",
            f"base_url={url}",
            "--backend-arg",
            "concurrency=8",
        ]
        killed = tmp_path / "killed"
        db = killed / ".cache" / "generations.sqlite"
        k = run_and_kill(args, killed, target, tmp_path / "killed.log")
        assert k.returncode == -signal.SIGKILL, (
            f"run finished before the kill (reached {k.count}/{target}, seed {seed}): {k.log_tail}"
        )
        assert not _runs(killed)
        partial = _count(db)
        assert 0 < partial < total
        resumed = statbench(*args, "--runs-dir", killed, timeout=600)
        assert resumed.returncode == 0, resumed.stderr
        assert f"{total - partial} generated, {partial} from cache" in resumed.stderr
        clean = statbench(*args, "--runs-dir", tmp_path / "clean", timeout=600)
        assert clean.returncode == 0, clean.stderr

    def samples(runs):
        return [
            (r.doc_id, r.sample, r.response, r.tokens)
            for r in iter_samples(_runs(runs)[0], "statbench_amc23")
        ]

    a, b = samples(killed), samples(tmp_path / "clean")
    assert len(a) == total and len({(d, s) for d, s, _, _ in a}) == total
    assert a == b and len({r for _, _, r, _ in a}) > total // 2  # per-request seeds: samples differ


def test_several_base_urls_share_the_requests_and_give_the_same_samples(tmp_path):
    with serve_engine(EngineConfig(**FAST)) as u1, serve_engine(EngineConfig(**FAST)) as u2:
        kw = dict(limit=2, max_gen_toks=16, seed=3)
        one = run_eval(
            spec_from_cli("emulated", "openai", ["statbench_amc23"], backend_args={"base_url": u1}, **kw),
            tmp_path / "one",
        )
        control(u1, "reset", {})
        two = run_eval(
            spec_from_cli(
                "emulated",
                "openai",
                ["statbench_amc23"],
                backend_args={"base_url": f"{u1},{u2}", "concurrency": 4},
                **kw,
            ),
            tmp_path / "two",
        )
        n1, n2 = control(u1, "stats")["requests"], control(u2, "stats")["requests"]
    assert n1 + n2 == 128 and n1 > 0 and n2 > 0
    rows = [
        [(r.doc_id, r.sample, r.response) for r in iter_samples(o.run_dir, "statbench_amc23")]
        for o in (one, two)
    ]
    assert rows[0] == rows[1]


def test_servers_that_disagree_about_the_model_are_refused():
    from harness.evaluation.backends.openai import OpenAIBackend

    with (
        serve_engine(EngineConfig(**FAST, root="/a")) as u1,
        serve_engine(EngineConfig(**FAST, root="/b")) as u2,
        pytest.raises(RuntimeError, match="servers disagree"),
    ):
        OpenAIBackend("emulated", base_url=f"{u1},{u2}")


class _ListSink:
    def __init__(self):
        self.out: list[tuple[Request, Generation]] = []
        self.failures: list[tuple[Request, str]] = []

    def done(self, req, gen):
        self.out.append((req, gen))

    def done_many(self, pairs):
        self.out += pairs

    def failed(self, req, error):
        self.failures.append((req, error))


def _requests(prompts, params, batch_of=lambda i: 0):
    return [Request(f"k{i}", p, params, 1000 + i, "t", batch_of(i)) for i, p in enumerate(prompts)]


def test_hf_halves_the_batch_on_out_of_memory_and_samples_do_not_depend_on_the_batch(tiny_model):
    import torch

    from harness.evaluation.backends.hf import HFBackend

    params = GenParams(8, 1.0, 0.95, ())
    prompts = [f"Question {i}: what is {i} + {i}?" for i in range(8)]
    ref = HFBackend(str(tiny_model))
    ref_sink = _ListSink()
    ref.run(_requests(prompts, params, batch_of=lambda i: i), ref_sink, batch_size=1)  # one prompt per batch

    hf = HFBackend(str(tiny_model))
    real = hf.generate

    def small_memory(prompts, params, seeds):
        if len(prompts) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)")
        return real(prompts, params, seeds)

    hf.generate = small_memory
    sink = _ListSink()
    hf.run(_requests(prompts, params), sink, batch_size=8)
    assert (hf.batch_size, hf.oom_backoffs) == (2, 2)
    assert [r.key for r, _ in sink.out] == [f"k{i}" for i in range(8)]
    assert [g.text for _, g in sink.out] == [g.text for _, g in ref_sink.out]
    assert len({g.text for _, g in sink.out}) > 1


def test_hf_oom_on_a_single_prompt_is_an_error(tiny_model):
    import torch

    from harness.evaluation.backends.hf import HFBackend

    hf = HFBackend(str(tiny_model))

    def no_memory(prompts, params, seeds):
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    hf.generate = no_memory
    with pytest.raises(RuntimeError, match="out of memory on a single prompt"):
        hf.run(_requests(["a", "b"], GenParams(4, 0.0, 1.0, ())), _ListSink(), batch_size=2)


FAKE = {
    "_engine": "tests.helpers.fake_vllm:FakeLLM",
    "_sampling": "tests.helpers.fake_vllm:FakeSamplingParams",
}


def test_vllm_streams_the_whole_set_and_replicas_give_the_same_samples(tiny_model):
    from harness.evaluation.backends.vllm import VLLMBackend

    params = GenParams(5, 0.6, 0.95, ())
    reqs = _requests([f"problem {i}" for i in range(24)], params)
    one = VLLMBackend(str(tiny_model), **FAKE, dtype="bfloat16")
    s1 = _ListSink()
    one.run(reqs, s1)
    engine = one.llm.llm_engine
    assert engine.added == 24 and engine.steps > 1  # all handed over at once, collected over several steps
    assert [r.key for r, _ in s1.out] != [r.key for r in reqs]  # reported as they finish, not in order
    two = VLLMBackend(str(tiny_model), data_parallel_size=2, **FAKE, dtype="bfloat16")
    try:
        s2 = _ListSink()
        two.run(reqs, s2)
    finally:
        two.close()
    assert not s2.failures
    assert sorted((r.key, g) for r, g in s1.out) == sorted((r.key, g) for r, g in s2.out)
    assert (
        one.identity() == two.identity() == {"backend": "vllm", "dtype": "bfloat16"}
    )  # replica count: not numerics
    assert (
        VLLMBackend(str(tiny_model), **FAKE, dtype="float16", quantization="awq").identity() != one.identity()
    )


def test_committer_commits_in_groups_and_on_a_quiet_timer(tmp_path):
    cache = GenerationCache(tmp_path / "c.sqlite")
    c = Committer(cache, every_n=3, every_s=3600)
    row = lambda i: (f"k{i}", "fp", "t", i, Generation(f"x{i}", 1, "stop"))  # noqa: E731
    c.add([row(0), row(1)])
    assert cache.count() == 0
    c.add([row(2)])
    assert cache.count() == 3
    c.add([row(3)])
    c.close()
    assert cache.count() == 4
    quiet = Committer(cache, every_n=1000, every_s=0.05)
    quiet.add([row(4)])
    deadline = time.monotonic() + 30
    while cache.count() < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert cache.count() == 5, "a quiet buffer was not committed by the timer"
    quiet.close()


def test_progress_line():
    s = GenStats(total=10, cached=2, done=3, failed=1, tokens=0)
    line = format_line(s)
    assert line.startswith("generation 6/10 (60.0%)") and "ETA" in line and line.endswith("1 failed")


WRITER = """
import sys
from harness.evaluation.cache import Generation, GenerationCache
cache = GenerationCache(sys.argv[1])
tag = sys.argv[2]
for b in range(20):
    cache.put_many((f"{tag}-{b}-{i}", "fp", "t", i, Generation(f"{tag}{b}{i}", 1, "stop")) for i in range(10))
print(cache.sharded)
"""


@pytest.mark.parametrize("shards", ["0", "1"])
def test_two_processes_write_one_cache_at_once(tmp_path, shards):
    path = tmp_path / "shared" / "generations.sqlite"
    env = {**__import__("os").environ, "STATBENCH_CACHE_SHARDS": shards}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), tag], env=env, stdout=subprocess.PIPE, text=True
        )
        for tag in ("a", "b")
    ]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0] and outs == [str(shards == "1")] * 2
    cache = GenerationCache(path, shards=shards == "1")
    keys = [f"{t}-{b}-{i}" for t in "ab" for b in range(20) for i in range(10)]
    got = cache.get_many(keys)
    assert len(got) == 400 and got["b-19-9"].text == "b199"
    if shards == "1":
        assert (
            len(list(path.with_name(path.name + ".shards").glob("*.sqlite"))) == 3
        )  # two writers + this reader
        cache.merge_shards()
        assert GenerationCache(path, shards=False).count() == 400
