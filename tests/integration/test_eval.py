"""`statbench eval` with the tiny model on the hf backend: records, re-grade, reuse, resume."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
from pathlib import Path

import pytest

from harness.evaluation.runner import run_eval, spec_from_cli
from harness.records.models import SCHEMA_VERSION
from harness.records.store import RunIndex, iter_samples, read_run
from harness.scoring import Checker, sample_metrics
from harness.scoring.metrics import aggregate
from tests.helpers.cli import statbench
from tests.helpers.sigkill import generations, kill_point, run_and_kill

TASKS = ["statbench_gsm8k", "statbench_amc23"]


def _spec(model, **kw):
    base = dict(limit=2, max_gen_toks=12, batch_size=4)
    base.update(kw)
    return spec_from_cli(
        str(model), "hf", kw.pop("tasks", TASKS), **{k: v for k, v in base.items() if k != "tasks"}
    )


@pytest.fixture(scope="module")
def first_run(tiny_model, tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    return runs, run_eval(_spec(tiny_model), runs)


def test_run_record_is_complete(first_run):
    runs, out = first_run
    assert not out.reused_run and out.generated == 2 * 1 + 2 * 64 and out.cached == 0
    rec = read_run(out.run_dir)
    spec, results, prov = rec.spec, rec.results, rec.provenance
    assert (
        rec.schema_version == SCHEMA_VERSION
        and json.loads((out.run_dir / "spec.json").read_text())["schema_version"] == SCHEMA_VERSION
    )
    assert spec.spec_hash and spec.model_fingerprint and spec.chat_template.mode == "on"
    assert (
        spec.tasks["statbench_amc23"]["repeats"] == 64
        and spec.generation("statbench_gsm8k")["max_gen_toks"] == 12
    )
    assert set(results) == set(TASKS)
    assert (results["statbench_amc23"].n, results["statbench_amc23"].k) == (2, 64)
    assert results["statbench_amc23"].metric_label == "avg@64"
    for key in (
        "git",
        "packages",
        "python",
        "hardware",
        "container",
        "data_sha256",
        "checker",
        "chat_template_sha256",
        "model_fingerprint",
        "task_files_sha256",
    ):
        assert key in prov, key
    assert prov["packages"]["lm-eval"] == "0.4.13" and prov["hardware"]["torch"].startswith("2.13.0")
    assert all(
        not p.stat().st_mode & 0o222 for p in out.run_dir.rglob("*.json")
    )  # read-only for any user, root too
    assert [r["run_id"] for r in RunIndex(runs).runs()] == [out.run_dir.name]


def test_samples_match_an_independent_regrade(first_run):
    _, out = first_run
    results = read_run(out.run_dir).results
    fresh = Checker(workers=1)
    try:
        for task in TASKS:
            rows = list(iter_samples(out.run_dir, task))
            assert len(rows) == results[task].n * results[task].k
            verdicts = fresh.grade_many([(r.response, r.reference) for r in rows])
            assert [(v.correct, v.extracted, v.status) for v in verdicts] == [
                (r.correct, r.extracted, r.status) for r in rows
            ]
            per_doc = {}
            for r, v in zip(rows, verdicts, strict=True):
                per_doc.setdefault(r.doc_id, []).append(v)
            agg = aggregate([sample_metrics(vs) for vs in per_doc.values()])
            for name, m in agg.items():
                assert results[task].metrics[name].value == pytest.approx(m["value"])
            assert results[task].truncation_rate == pytest.approx(sum(r.truncated for r in rows) / len(rows))
            assert all(r.tokens <= 12 and r.finish_reason in ("stop", "length") for r in rows)
    finally:
        fresh.close()


def test_identical_call_reuses_the_run_and_force_regenerates_nothing(first_run, tiny_model):
    runs, out = first_run
    again = run_eval(_spec(tiny_model), runs)
    assert again.reused_run and again.generated == 0 and again.run_dir == out.run_dir
    forced = run_eval(_spec(tiny_model), runs, force=True)
    assert not forced.reused_run and forced.generated == 0 and forced.cached == out.generated
    for task in TASKS:
        assert [r.response for r in iter_samples(forced.run_dir, task)] == [
            r.response for r in iter_samples(out.run_dir, task)
        ]


def test_different_seed_is_a_different_run(first_run, tiny_model):
    runs, out = first_run
    other = run_eval(_spec(tiny_model, seed=1, tasks=["statbench_gsm8k"]), runs)
    assert other.generated == 2 and other.run_dir != out.run_dir


@pytest.mark.slow  # three full evals, one in a real process
def test_sigkill_then_rerun_equals_an_uninterrupted_run(tiny_model, tmp_path):
    """A real process killed mid-generation; a rerun resumes from the generation cache."""
    args = [
        "eval",
        "--model",
        str(tiny_model),
        "--tasks",
        "statbench_amc23",
        "--limit",
        "4",
        "--max-gen-toks",
        "24",
        "--batch-size",
        "2",
        "--seed",
        "7",
    ]
    total = 4 * 64
    killed_runs = tmp_path / "killed"
    seed, target = kill_point(total, "hf SIGKILL test")
    k = run_and_kill(args, killed_runs, target, tmp_path / "killed.log")
    tag = f"[kill seed {seed}, target {target}/{total}]"
    assert k.count >= target, f"{tag} no progress or the run ended first (reached {k.count}): {k.log_tail}"
    assert k.returncode == -signal.SIGKILL, f"{tag} run finished before the kill (reached {k.count})"
    assert not any(p.name[0].isdigit() for p in killed_runs.iterdir()), (
        f"{tag} a killed run left a run record"
    )
    partial = generations(killed_runs / ".cache" / "generations.sqlite")
    assert 0 < partial < total

    resumed = statbench(*args, "--runs-dir", killed_runs, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{total - partial} generated, {partial} from cache" in resumed.stderr
    clean = statbench(*args, "--runs-dir", tmp_path / "clean", timeout=600)
    assert clean.returncode == 0, clean.stderr

    def samples(runs):
        run = next(p for p in runs.iterdir() if p.name[0].isdigit())
        return [(r.doc_id, r.sample, r.response, r.tokens) for r in iter_samples(run, "statbench_amc23")]

    a, b = samples(killed_runs), samples(tmp_path / "clean")
    assert len(a) == total and len({(d, s) for d, s, _, _ in a}) == total  # none missing, none duplicated
    assert a == b


def test_cli_eval_prints_the_table_and_run(tiny_model, tmp_path):
    r = statbench(
        "eval",
        "--model",
        tiny_model,
        "--suite",
        "smoke",
        "--limit",
        "1",
        "--max-gen-toks",
        "8",
        "--runs-dir",
        tmp_path,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    assert "statbench_math500" in r.stdout and "statbench_gsm8k" in r.stdout and "pass@1" in r.stdout
    assert "run: " in r.stderr and "generated" in r.stderr
    args = ("eval", "--model", tiny_model, "--tasks", "statbench_math500,statbench_gsm8k", "--limit", "1")
    args += ("--max-gen-toks", "8", "--runs-dir", tmp_path)
    fresh, reused = statbench(*args), statbench(*args)  # the second reuses the first's record
    assert "identical run already recorded" in reused.stderr, reused.stderr
    for out in (fresh.stdout, reused.stdout):  # rows in the order asked (the record stores them sorted)
        assert out.index("statbench_math500") < out.index("statbench_gsm8k"), out
    listed = statbench("runs", "list", "--runs-dir", tmp_path)
    assert "eval" in listed.stdout and "stat-paper" in listed.stdout
    (tmp_path / "index.sqlite").unlink()
    assert RunIndex(tmp_path).runs()[0]["kind"] == "eval"  # the index rebuilds from the directories


# ------------------------------------------------------------------------------------- bad input
def _eval_err(*args, cwd=None):
    r = statbench("eval", *args, timeout=300, cwd=cwd)
    return r.returncode, r.stderr


def test_missing_model_path(tmp_path):
    code, msg = _eval_err(
        "--model", str(tmp_path / "nope"), "--tasks", "statbench_gsm8k", "--runs-dir", str(tmp_path / "r")
    )
    assert code == 2 and "model path does not exist" in msg and "Traceback" not in msg


def test_truncated_safetensors(tiny_model, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    w = broken / "model.safetensors"
    w.chmod(0o644)
    w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    code, msg = _eval_err(
        "--model", str(broken), "--tasks", "statbench_gsm8k", "--runs-dir", str(tmp_path / "r")
    )
    assert code == 2 and "model.safetensors: truncated safetensors file" in msg


def test_unknown_task_and_protocol_list_the_valid_ones(tiny_model, tmp_path):
    code, msg = _eval_err(
        "--model", str(tiny_model), "--tasks", "statbench_nope", "--runs-dir", str(tmp_path)
    )
    assert code == 2 and "unknown task(s) statbench_nope; valid tasks: statbench_math" in msg
    code, msg = _eval_err(
        "--model",
        str(tiny_model),
        "--tasks",
        "statbench_gsm8k",
        "--protocol",
        "fast",
        "--runs-dir",
        str(tmp_path),
    )
    assert (
        code == 2 and "unknown protocol 'fast'; valid protocols: stat-paper, r1, greedy, consistency-5" in msg
    )
    code, msg = _eval_err("--model", str(tiny_model), "--suite", "nope", "--runs-dir", str(tmp_path))
    assert code == 2 and "unknown suite 'nope'; valid suites: stat-paper" in msg


def test_unwritable_runs_dir_fails_before_any_work(tiny_model, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, msg = _eval_err(
        "--model", str(tiny_model), "--tasks", "statbench_gsm8k", "--runs-dir", str(blocker / "runs")
    )
    assert code == 2 and "runs directory is not writable" in msg


def test_prompt_that_does_not_fit_the_context_is_refused_before_generating(tiny_model, tmp_path):
    code, msg = _eval_err(
        "--model", str(tiny_model), "--tasks", "statbench_gsm8k", "--limit", "2", "--runs-dir", str(tmp_path)
    )
    assert (
        code == 2
        and "exceed the model's context" in msg
        and "2048 max new tokens" in msg
        and "> context 2048" in msg
    )
    assert (
        sqlite3.connect(tmp_path / ".cache" / "generations.sqlite")
        .execute("SELECT COUNT(*) FROM generations")
        .fetchone()[0]
        == 0
    )


# ------------------------------------------------------------------------------------- rescore
def test_rescore_a_statbench_run_lists_changed_verdicts(first_run, tmp_path):
    runs, out = first_run
    from harness.records.store import write_run

    rec = read_run(out.run_dir)
    rows = list(iter_samples(out.run_dir, "statbench_gsm8k"))
    rows[0] = rows[0].model_copy(
        update={"response": "so the answer is \\boxed{18}", "correct": False}
    )  # an old checker said no
    fake = write_run(
        tmp_path,
        "20000101T000000-fake-00000000",
        rec.spec,
        {"statbench_gsm8k": rec.results["statbench_gsm8k"]},
        rec.provenance,
        {"statbench_gsm8k": rows},
    )
    r = statbench("rescore", fake.name, "--runs-dir", tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "1 verdict(s) changed" in r.stdout and "False -> True" in r.stdout
    new = next(p for p in tmp_path.iterdir() if "rescore" in p.name)
    spec = json.loads((new / "spec.json").read_text())
    assert (
        spec["kind"] == "rescore"
        and spec["source"] == str(fake.resolve())
        and spec["source_spec_hash"] == rec.spec.spec_hash
    )
    assert json.loads((new / "changes.jsonl").read_text().splitlines()[0])["after"] is True


def _lm_eval_samples(path: Path, lines: list[str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    f = path / "samples_minerva_math_algebra_2026-01-01T00-00-00.000000.jsonl"
    f.write_text("\n".join(lines) + "\n")
    return f


def test_rescore_an_lm_eval_samples_file(tmp_path):
    lines = [
        json.dumps(
            {
                "doc_id": 0,
                "doc": {"problem": "p", "answer": "27"},
                "target": "27",
                "resps": [["So \\boxed{27.0}"]],
                "filtered_resps": ["So \\boxed{27.0}"],
                "exact_match": 0,
            }
        ),
        json.dumps(
            {
                "doc_id": 1,
                "doc": {"problem": "q"},
                "target": "\\frac{1}{2}",
                "resps": [["The answer is 0.5"]],
                "filtered_resps": ["x"],
                "exact_match": 0,
            }
        ),
    ]
    f = _lm_eval_samples(tmp_path / "lmeval", lines)
    r = statbench("rescore", f, "--runs-dir", tmp_path / "runs", timeout=300)
    assert r.returncode == 0, r.stderr
    assert "2 verdict(s) changed" in r.stdout and "minerva_math_algebra" in r.stdout
    run = next(p for p in (tmp_path / "runs").iterdir() if p.name[0].isdigit())
    result = json.loads((run / "results.json").read_text())["minerva_math_algebra"]
    assert result["value"] == 1.0
    # lm-eval's samples carry no finish reason or protocol: unknown, not "0 %" or "None"
    assert result["truncation_rate"] is None and "None" not in r.stdout
    row = next(ln for ln in r.stdout.splitlines() if ln.startswith("minerva_math_algebra"))
    assert row.split()[6] == "-", row  # the truncated column
    assert "protocol: none recorded" in r.stdout


@pytest.mark.parametrize(
    "target, needle",
    [("[" * 900 + "1" + "]" * 900, "nested more than"), ("NaN", "finite number"), ("[]", "empty list")],
)
def test_rescore_refuses_a_target_it_cannot_grade_against(tmp_path, target, needle):
    line = '{"doc_id": 0, "doc": {"problem": "p"}, "target": ' + target + ', "resps": [["\\\\boxed{1}"]]}'
    f = _lm_eval_samples(tmp_path / "lmeval", [line])
    r = statbench("rescore", f, "--runs-dir", tmp_path / "runs", timeout=300)  # was RecursionError / "nan"
    assert r.returncode == 2 and f"{f}:1: cannot grade against this sample" in r.stderr and needle in r.stderr
    assert r.stderr.count("\n") == 1 and not (tmp_path / "runs").exists(), r.stderr


def test_rescore_refuses_a_malformed_samples_line_and_writes_nothing(tmp_path):
    good = json.dumps({"doc_id": 0, "doc": {"answer": "1"}, "resps": [["\\boxed{1}"]]})
    f = _lm_eval_samples(tmp_path / "lmeval", [good, "{broken", good])
    r = statbench("rescore", f, "--runs-dir", tmp_path / "runs", timeout=300)
    assert r.returncode == 2 and f"{f}:2: not an lm-eval sample line" in r.stderr
    assert not (tmp_path / "runs").exists() or not any(
        p.name[0].isdigit() for p in (tmp_path / "runs").iterdir()
    )
