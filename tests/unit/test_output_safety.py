"""What statbench writes stays well-formed and private: JUnit XML and markdown escaping, report file modes
under the user's umask, URL secrets redacted, backend args checked before a model loads, progress lines."""

from __future__ import annotations

import os
import stat
import threading
import xml.etree.ElementTree as ET

import pytest

from harness.core.errors import SpecError
from harness.core.fileio import atomic_write_text
from harness.core.redact import redact, redact_text, redact_url, split_query
from harness.evaluation.backends import check_backend_args
from harness.evaluation.progress import GenStats, PlainProgress
from harness.records.provenance import redact_argv
from harness.reporting.regress import TaskVerdict, to_junit, to_markdown
from tests.helpers.cli import assert_one_error, statbench

HOSTILE = 'run\x00\x01\x1b[31m<x> & "y" | z\x7f\ud800\r\nend'


def _verdict(task: str, verdict: str = "regression", note: str = "") -> TaskVerdict:
    return TaskVerdict(
        task, "pass@1", verdict, "mcnemar-exact", 10, 0.5, 0.4, -0.1, (-0.2, 0.0), 0.01, 0.9, note
    )


def test_junit_escapes_control_characters_and_xml_specials():
    xml = to_junit([_verdict(HOSTILE, note=HOSTILE), _verdict("ok", "pass")], f"statbench regress: {HOSTILE}")
    suite = ET.fromstring(xml.encode("utf-8"))  # well-formed XML 1.0
    case = suite.find("testcase")
    assert suite.get("failures") == "1" and suite.get("tests") == "2"
    assert '<x> & "y" | z' in case.get("name") and '<x> & "y" | z' in suite.get("name")
    assert "\x00" not in xml and "\x1b" not in xml
    assert '<x> & "y"' in case.find("failure").get("message")


def test_markdown_escapes_pipes_and_keeps_one_row_per_task():
    md = to_markdown([_verdict("a|b", note="x|y\nz"), _verdict("c", "pass")], "title | with pipe")
    rows = [ln for ln in md.splitlines() if ln.startswith("| a")]
    assert len(rows) == 1 and "a\\|b" in rows[0]
    # every table row has the header's number of unescaped separators
    table = [ln for ln in md.splitlines() if ln.startswith("|")]
    counts = {ln.replace("\\|", "").count("|") for ln in table}
    assert len(counts) == 1, table
    assert "- `a\\|b`: x\\|y z" in md and "### title \\| with pipe" in md


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_honour_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "report.md", "x\n")
        atomic_write_text(tmp_path / "report.md", "y\n")  # replacing keeps the mode rule too
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.md").stat().st_mode) == mode
    assert (tmp_path / "report.md").read_text() == "y\n"


def test_grade_output_is_0644_under_umask_022(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"response": "\\\\boxed{2}", "reference": "2"}\n')
    old = os.umask(0o022)
    try:
        r = statbench("grade", src, "-o", out, "--workers", "1")
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


# --- secrets in URLs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "want"),
    [
        ("http://user:PASSWORD@host/v1?api-key=TOKEN", "http://user:***@host/v1?api-key=***"),
        ("https://TOKEN@host/v1", "https://***@host/v1"),
        ("http://h/v1?a=1&access_token=T&sig=S&x=2", "http://h/v1?a=1&access_token=***&sig=***&x=2"),
        (
            "http://h/v1?api_key=T&key=K&password=P&secret=S",
            "http://h/v1?api_key=***&key=***&password=***&secret=***",
        ),
        ("http://h/v1?max_tokens=5&tokenizer=t", "http://h/v1?max_tokens=5&tokenizer=t"),
    ],
)
def test_redact_url(url, want):
    assert redact_url(url) == want
    assert redact_text(f"failed: {url} (after 3 tries)") == f"failed: {want} (after 3 tries)"


def test_urls_without_secrets_are_the_same_string():
    """So a spec hash over them does not change."""
    for url in ("http://localhost:8000/v1", "https://api.openai.com/v1/", "http://h:1/v1?model=x&n=2"):
        assert redact_url(url) is url
    args = {"base_url": "http://a/v1,http://b/v1", "concurrency": 4, "api_key_env": "MY_KEY"}
    assert redact(args) == args


def test_redact_records_and_argv():
    rec = {"argv": ["x"], "backend": {"api_key": "sk-123", "base_url": "http://u:p@h/v1"}, "n": [1, "t"]}
    assert redact(rec) == {
        "argv": ["x"],
        "backend": {"api_key": "***", "base_url": "http://u:***@h/v1"},
        "n": [1, "t"],
    }
    argv = [
        "statbench",
        "eval",
        "--backend-arg",
        "base_url=http://u:PW@h/v1?token=T",
        "--api-key",
        "S",
        "hf_token=Z",
    ]
    assert redact_argv(argv) == [
        "statbench", "eval", "--backend-arg", "base_url=http://u:***@h/v1?token=***", "--api-key", "***", "hf_token=***",
    ]  # fmt: skip


def test_split_query_keeps_the_query_out_of_the_path():
    assert split_query("http://h:1/v1/?api-key=T&a=1") == ("http://h:1/v1", {"api-key": "T", "a": "1"})
    assert split_query("http://h/v1") == ("http://h/v1", {})


# --- backend args ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "args", "needle"),
    [
        ("hf", {"dtyp": ""}, "unknown backend arg(s) dtyp; valid: dtype, device, trust_remote_code"),
        ("hf", {"dtype": "bf17"}, "dtype=bf17: Input should be 'auto', 'float32', 'float16' or 'bfloat16'"),
        ("hf", {"dtype": ""}, "dtype='': Input should be"),
        ("hf", {"device": "gpu0"}, "device=gpu0: expected cpu, cuda, cuda:N or mps"),
        ("openai", {"concurrency": "x"}, "concurrency=x: Input should be a valid integer"),
        ("openai", {"concurrency": 0}, "concurrency=0: Input should be greater than or equal to 1"),
        ("openai", {"base_url": "localhost:8000"}, "is not an http(s) URL with a host"),
        ("openai", {"mode": "chatty"}, "mode=chatty: Input should be 'chat' or 'completions'"),
        ("openai", {"extra_body": "{nope"}, "extra_body={nope: must be a JSON object"),
        ("openai", {"extra_body": "[" * 50_000 + "]" * 50_000}, "nested too deeply"),  # was RecursionError
        ("openai", {"bogus": 1}, "unknown backend arg(s) bogus; valid: base_url, api_key_env, mode"),
        (
            "vllm",
            {"gpu_memory_utilization": 2},
            "gpu_memory_utilization=2: Input should be less than or equal to 1",
        ),
        (
            "vllm",
            {"tensor_parallel_size": "two"},
            "tensor_parallel_size=two: Input should be a valid integer",
        ),
    ],
)
def test_backend_args_are_checked_in_one_line(backend, args, needle):
    with pytest.raises(SpecError) as e:
        check_backend_args(backend, args)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_good_backend_args_pass():
    check_backend_args("hf", {"dtype": "bfloat16", "device": "cpu", "trust_remote_code": True})
    check_backend_args("openai", {"base_url": "http://a/v1,https://b:9/v1?api-key=x", "concurrency": 8})
    check_backend_args("vllm", {"tensor_parallel_size": 2, "_engine": "m:C", "max_model_len": 4096})


def test_device_cuda_without_cuda_is_refused(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SpecError, match="device=cuda: CUDA is not available on this machine"):
        check_backend_args("hf", {"device": "cuda"})


@pytest.mark.parametrize(
    ("arg", "needle"),
    [("dtyp=", "unknown backend arg(s) dtyp"), ("dtype=bf17", "dtype=bf17"), ("device=gpu", "device=gpu")],
)
def test_bad_backend_args_on_the_command_line_exit_2(tmp_path, arg, needle):
    r = statbench(
        "eval",
        "--model",
        tmp_path,
        "--tasks",
        "statbench_gsm8k",
        "--backend-arg",
        arg,
        "--runs-dir",
        tmp_path / "r",
    )
    assert_one_error(r, 2, "hf backend", needle)
    assert not (tmp_path / "r").exists()  # refused before anything was created


def test_bad_openai_concurrency_on_the_command_line_exit_2(tmp_path):
    r = statbench(
        "eval", "--model", "m", "--backend", "openai", "--tasks", "statbench_gsm8k",
        "--backend-arg", "concurrency=x", "--backend-arg", "base_url=http://u:SECRET@127.0.0.1:9/v1",
    )  # fmt: skip
    assert_one_error(r, 2, "openai backend", "concurrency=x")
    assert "SECRET" not in r.stderr


# --- progress lines ------------------------------------------------------------------------------------


def test_plain_progress_logs_every_ten_percent_and_at_the_end():
    lines: list[str] = []
    plain = PlainProgress(lines.append, every_s=3600)
    advance = plain.factory({"t": 100})
    stats = GenStats(total=100)
    for _ in range(100):
        stats.done += 1
        stats.tokens += 7
        advance("t", 1, stats)
    assert len(lines) == 11 and lines[-1].startswith("generation 100/100 (100.0%)")
    assert lines[0].startswith("generation 1/100 (1.0%)") and "tok/s" in lines[0] and "ETA" in lines[0]


def test_plain_progress_logs_the_end_once_when_a_batch_settles_many():
    """The sink settles a batch's requests together and then advances once per request: one final line."""
    lines: list[str] = []
    advance = PlainProgress(lines.append, every_s=3600).factory({"t": 10})
    stats = GenStats(total=10)
    stats.done = 2
    advance("t", 1, stats)
    stats.done = 10  # the last batch: 8 requests at once, then 8 calls
    for _ in range(8):
        advance("t", 1, stats)
    assert [ln.split(",")[0] for ln in lines] == ["generation 2/10 (20.0%)", "generation 10/10 (100.0%)"]


def test_plain_progress_heartbeat_speaks_while_nothing_finishes():
    lines: list[str] = []
    seen = threading.Event()

    def log(line: str) -> None:
        lines.append(line)
        if len(lines) >= 3:
            seen.set()

    stats = GenStats(total=10)
    with PlainProgress(log, every_s=0.05) as plain:
        stats.done = 1
        plain.advance("t", 1, stats)  # then nothing finishes for a while
        assert seen.wait(30), lines
    assert all(ln.startswith("generation 1/10 (10.0%)") for ln in lines[:3])
