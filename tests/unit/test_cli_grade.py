"""`statbench grade IN.jsonl [-o OUT.jsonl]`."""

import json

import pytest

from tests.helpers.cli import statbench

LINES = [
    {"id": 1, "response": "so \\boxed{27}", "reference": 27.0, "meta": "kept"},
    {"id": 2, "response": "The answer is 0.5", "reference": "\\frac12"},
    {"id": 3, "response": "no idea", "reference": "4"},
    {"id": 4, "response": "\\boxed{(x+1)^2}", "reference": "x^2+2x+1"},
]


def run(*args, stdin=None):
    return statbench("grade", *args, stdin=stdin, timeout=300)


@pytest.fixture
def infile(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text("".join(json.dumps(x) + "\n" for x in LINES))
    return p


def test_grade_to_file(infile, tmp_path):
    out = tmp_path / "out.jsonl"
    r = run(str(infile), "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(x["id"], x["correct"], x["extracted"], x["status"]) for x in rows] == [
        (1, True, "27", "ok"),
        (2, True, "0.5", "ok"),
        (3, False, None, "no_answer"),
        (4, True, "(x+1)^2", "ok"),
    ]
    assert rows[0]["meta"] == "kept"
    assert "graded 4 lines" in r.stderr and "3 correct" in r.stderr
    assert r.stdout == ""


def test_grade_to_stdout_and_from_stdin(infile):
    r = run("-", stdin=infile.read_text())
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["correct"] for x in r.stdout.splitlines()] == [True, True, False, True]


def test_malformed_lines_are_named_and_nothing_else_is_lost(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(
        json.dumps(LINES[0])
        + "\n{not json\n"
        + json.dumps({"response": "x"})
        + "\n[1]\n"
        + json.dumps(LINES[1])
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    r = run(str(p), "-o", str(out))
    assert r.returncode == 1
    assert f"{p}:2: invalid JSON" in r.stderr
    assert f"{p}:3: missing key(s) 'reference'" in r.stderr
    assert f"{p}:4: expected a JSON object" in r.stderr
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [1, 2]


def test_custom_keys_and_missing_file(tmp_path):
    p = tmp_path / "k.jsonl"
    p.write_text(json.dumps({"gen": "\\boxed{3}", "gold": "3"}) + "\n")
    r = run(str(p), "--response-key", "gen", "--reference-key", "gold")
    assert r.returncode == 0 and json.loads(r.stdout)["correct"] is True
    r = run(str(tmp_path / "nope.jsonl"))
    assert r.returncode == 2 and "no such file" in r.stderr


def test_null_nan_and_non_scalar_references_are_line_errors_not_matches(tmp_path):
    p = tmp_path / "refs.jsonl"
    p.write_text(
        json.dumps({"response": "\\boxed{None}", "reference": None})
        + "\n"
        + '{"response": "\\\\boxed{nan}", "reference": NaN}\n'
        + json.dumps({"response": "\\boxed{1}", "reference": {"a": 1}})
        + "\n"
        + json.dumps({"response": "\\boxed{True}", "reference": True})
        + "\n"
        + json.dumps({"response": "\\boxed{4}", "reference": "4"})
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    r = run(str(p), "-o", str(out))
    assert r.returncode == 1
    assert f"{p}:1: 'reference': reference must be a string or number, got null" in r.stderr
    assert f"{p}:2: 'reference': reference must be a finite number, got nan" in r.stderr
    assert f"{p}:3: 'reference': reference must be a string or number, got dict" in r.stderr
    assert f"{p}:4: 'reference': reference must be a string or number, got a boolean" in r.stderr
    assert [json.loads(x)["correct"] for x in out.read_text().splitlines()] == [True]


def test_hostile_lines_time_out_alone_and_every_line_is_graded(tmp_path):
    hostile = [
        "\\boxed{3 is the number of distinct real roots of the polynomial.}",
        "\\boxed{3 " + "a" * 30_000 + "}",
        "\\boxed{1" + " " * 40_000 + "x}",
        "\\boxed{10^{10^{10}}}",
    ]
    p = tmp_path / "hostile.jsonl"
    p.write_text(
        "".join(json.dumps({"response": h, "reference": "3"}) + "\n" for h in hostile)
        + json.dumps({"response": "\\boxed{4}", "reference": "4"})
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    r = run(str(p), "-o", str(out), "--timeout", "2")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 5 and rows[-1]["correct"] is True
    assert all(x["status"] in {"ok", "timeout"} for x in rows)
    assert rows[3]["status"] == "timeout" and not rows[3]["correct"]


def test_a_reference_nested_hundreds_deep_is_a_line_error_not_a_crash(tmp_path):
    """JSON allows lists ~1,000 deep; reference_text recursed once per level (RecursionError, exit 3). Lists
    a few levels deep are still graded as before (joined with ', ')."""
    p = tmp_path / "deep.jsonl"
    p.write_text(
        '{"response": "\\\\boxed{1}", "reference": ' + "[" * 900 + "1" + "]" * 900 + "}\n"
        + json.dumps({"response": "\\boxed{1, 2}", "reference": [[1], [2]]}) + "\n"
    )  # fmt: skip
    out = tmp_path / "out.jsonl"
    r = run(str(p), "-o", str(out))
    assert r.returncode == 1 and "internal error" not in r.stderr, r.stderr
    assert f"{p}:1: 'reference': reference lists are nested more than 16 deep" in r.stderr
    assert [json.loads(x)["correct"] for x in out.read_text().splitlines()] == [True]
