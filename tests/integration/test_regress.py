"""`statbench regress`: exit codes on real run records (made through the openai backend against a local
model whose accuracy we control), mismatch refusals, reports, pinned references, and the simulation."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from harness.evaluation.runner import run_eval, spec_from_cli
from harness.reporting.regress import simulate
from tests.helpers.cli import assert_one_error, statbench
from tests.helpers.fake_openai import FakeModel, serve

N = 120


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("regress_runs")
    out = {}
    for name, acc, protocol in [
        ("good", 0.8, "stat-paper"),
        ("same", 0.8, "stat-paper"),
        ("worse", 0.5, "stat-paper"),
        ("greedy", 0.8, "greedy"),
    ]:
        with serve(FakeModel(acc)) as url:
            spec = spec_from_cli(
                f"model-{name}",
                "openai",
                ["statbench_gsm8k"],
                limit=N,
                max_gen_toks=64,
                protocol=protocol,
                backend_args={"base_url": url, "concurrency": 4},
            )
            out[name] = run_eval(spec, d).run_dir
    return d, out


def regress(d, *args):
    return statbench("regress", "--runs-dir", d, *args, timeout=300)


def test_identical_pair_passes(runs):
    d, r = runs
    res = regress(d, "--baseline", r["good"], "--candidate", r["same"])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "pass" in res.stdout and "mcnemar-exact" in res.stdout and "+0.0" in res.stdout


def test_degraded_candidate_is_a_regression_with_reports(runs, tmp_path):
    d, r = runs
    junit, md = tmp_path / "r.xml", tmp_path / "r.md"
    res = regress(d, "--baseline", r["good"], "--candidate", r["worse"], "--junit", junit, "--markdown", md)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "REGRESSION" in res.stdout and "REGRESSION in statbench_gsm8k" in res.stderr
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "1" and suite.find("testcase/failure") is not None
    assert "| statbench_gsm8k | pass@1 | REGRESSION |" in md.read_text()
    better = regress(d, "--baseline", r["worse"], "--candidate", r["good"])
    assert better.returncode == 0 and "improvement" in better.stdout


def test_mismatched_protocols_are_refused_unless_allowed(runs):
    d, r = runs
    res = regress(d, "--baseline", r["good"], "--candidate", r["greedy"])
    assert res.returncode == 2 and "protocol: baseline 'stat-paper' vs candidate 'greedy'" in res.stderr
    ok = regress(d, "--baseline", r["good"], "--candidate", r["greedy"], "--allow-mismatch")
    assert ok.returncode in (0, 1) and "compared despite" in ok.stdout


def test_pinned_reference(runs, tmp_path):
    d, r = runs
    ref = tmp_path / "ref.yaml"
    ref.write_text("protocol: stat-paper\ntasks:\n  statbench_gsm8k: {value: 80.0, tolerance: 10.0}\n")
    assert regress(d, "--reference", ref, "--candidate", r["good"]).returncode == 0
    assert regress(d, "--reference", ref, "--candidate", r["worse"]).returncode == 1
    ref.write_text("tasks:\n  statbench_gsm8k: 80\n")
    bad = regress(d, "--reference", ref, "--candidate", r["good"])
    assert bad.returncode == 2 and "tasks.statbench_gsm8k: expected {value" in bad.stderr


def test_usage_errors_exit_2(runs):
    d, r = runs
    assert regress(d, "--candidate", r["good"]).returncode == 2
    res = regress(d, "--baseline", "nope", "--candidate", r["good"])
    assert res.returncode == 2 and "no run matches 'nope'" in res.stderr
    res = regress(d, "--baseline", r["good"], "--candidate", r["same"], "--tasks", "statbench_aime24")
    assert res.returncode == 2 and "not in both runs" in res.stderr


@pytest.mark.slow
def test_simulated_false_alarm_rate_and_power():
    fa1, fa16 = simulate(500, 1, 0.0, 200), simulate(500, 16, 0.0, 200)
    p1, p16 = simulate(500, 1, 0.03, 200, seed=1), simulate(500, 16, 0.03, 200, seed=1)
    print(
        f"\nfalse alarms (200 trials, 500 problems): pass@1 {fa1:.1%}, avg@16 {fa16:.1%}; "
        f"power for a 3-point drop: pass@1 {p1:.1%}, avg@16 {p16:.1%}"
    )
    assert fa1 <= 0.05 and fa16 <= 0.05
    assert p16 >= 0.8  # with 16 samples per problem a 3-point drop on 500 problems is caught


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "tasks:\n  statbench_gsm8k: {value: .nan}\n",
            "tasks.statbench_gsm8k.value: Input should be a finite number",
        ),
        (
            "tasks:\n  statbench_gsm8k: {value: .inf}\n",
            "tasks.statbench_gsm8k.value: Input should be a finite number",
        ),
        (
            'tasks:\n  statbench_gsm8k: {value: "abc"}\n',
            "tasks.statbench_gsm8k.value: Input should be a valid number",
        ),
        ("tasks: {}\n", "tasks: Dictionary should have at least 1 item"),
        (
            "tasks:\n  statbench_gsm8k: {value: 50, tolerance: .inf}\n",
            "tolerance: Input should be a finite number",
        ),
        (
            "tasks:\n  statbench_gsm8k: {value: 50, tolerance: -1}\n",
            "tolerance: Input should be greater than or equal to 0",
        ),
        (
            "tasks:\n  statbench_gsm8k: {value: 50, tolerence: 1}\n",
            "tolerence: Extra inputs are not permitted",
        ),
        ("tasks:\n  statbench_gsm8k: {value: 150}\n", "value: Input should be less than or equal to 100"),
        ("- a\n- b\n", "expected a mapping with a 'tasks' key"),
        ("tasks: [\n", "not valid YAML at line"),
    ],
)
def test_reference_files_are_validated_in_one_line(runs, tmp_path, text, needle):
    d, r = runs
    ref = tmp_path / "ref.yaml"
    ref.write_text(text)
    assert_one_error(regress(d, "--reference", ref, "--candidate", r["good"]), 2, str(ref), needle)


def test_reference_file_not_utf8_or_missing(runs, tmp_path):
    d, r = runs
    ref = tmp_path / "ref.yaml"
    ref.write_bytes(b"tasks:\n  \xff\xfe: 1\n")
    assert_one_error(regress(d, "--reference", ref, "--candidate", r["good"]), 2, "not UTF-8")
    assert_one_error(
        regress(d, "--reference", tmp_path / "none.yaml", "--candidate", r["good"]), 2, "cannot read"
    )


@pytest.mark.parametrize(
    ("opt", "value", "needle"),
    [("--margin", "-50", "--margin must be"), ("--margin", "nan", "--margin must be"),
     ("--margin", "1000", "--margin must be"), ("--alpha", "5", "--alpha must be"),
     ("--alpha", "0", "--alpha must be"), ("--alpha", "0.6", "--alpha must be")],
)  # fmt: skip
def test_margin_and_alpha_are_bounded(runs, opt, value, needle):
    d, r = runs
    res = regress(d, "--baseline", r["good"], "--candidate", r["same"], opt, value)
    assert_one_error(res, 2, needle)


def test_unwritable_report_path_is_exit_2_not_a_regression(runs, tmp_path):
    d, r = runs
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for opt in ("--junit", "--markdown"):
        res = regress(d, "--baseline", r["good"], "--candidate", r["worse"], opt, blocker / "r.xml")
        assert_one_error(res, 2, str(blocker / "r.xml"), "cannot write")


def test_reports_are_readable_by_others_under_umask_022(runs, tmp_path):
    import os
    import stat

    d, r = runs
    junit, md = tmp_path / "r.xml", tmp_path / "r.md"
    old = os.umask(0o022)
    try:
        regress(d, "--baseline", r["good"], "--candidate", r["same"], "--junit", junit, "--markdown", md)
    finally:
        os.umask(old)
    assert stat.S_IMODE(junit.stat().st_mode) == 0o644 and stat.S_IMODE(md.stat().st_mode) == 0o644
