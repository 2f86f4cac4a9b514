"""Fuzz the one JSONL reader (harness/core/jsonl.py) with hypothesis."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core import jsonl
from harness.core.jsonl import JsonlError

# Line and paragraph separators, NEL, form feed, vertical tab, CR: str.splitlines() breaks on all of them,
# and json.dumps(ensure_ascii=False) leaves the first three unescaped inside strings.
TRICKY = st.sampled_from(["\u2028", "\u2029", "\u0085", "\x0c", "\x0b", "\x1c", "\r", "é", "😀", "\\"])
TEXT = st.lists(st.one_of(st.text(max_size=8), TRICKY), max_size=6).map("".join)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(VALUES, max_size=8), st.booleans(), st.booleans())
def test_what_json_dumps_writes_reads_back(values, ascii_only, crlf):
    end = "\r\n" if crlf else "\n"
    text = "".join(json.dumps(v, ensure_ascii=ascii_only) + end for v in values)
    assert jsonl.read(text.encode("utf-8")) == values
    assert jsonl.read(text) == values


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_values_or_one_line_error(data):
    try:
        jsonl.read(data, name="f.jsonl")
    except JsonlError as e:
        msg = str(e)
        assert msg.startswith("f.jsonl:") and "\n" not in msg
        line = int(msg.split(":")[1])
        assert 1 <= line <= data.count(b"\n") + 1


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(VALUES.map(lambda v: json.dumps(v, ensure_ascii=False).encode()), st.binary(max_size=20)),
        max_size=8,
    )
)
def test_every_bad_line_is_reported_with_its_number(lines):
    data = b"\n".join(line.replace(b"\n", b" ") for line in lines)
    expected_bad = []
    for i, raw in enumerate(data.split(b"\n"), 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            expected_bad.append(i)
            continue
        if text.strip():
            try:
                json.loads(text)
            except json.JSONDecodeError:
                expected_bad.append(i)
    got = [line.number for line in jsonl.lines(data) if line.text is None or jsonl.parse(line.text)[1]]
    assert got == expected_bad


def test_a_file_is_streamed_and_split_on_newline_only(tmp_path):
    f = tmp_path / "x.jsonl"
    rows = [{"response": "a\u2028b\u2029c\u0085d"}, {"n": 1}]
    f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert jsonl.read(f) == rows
    f.write_bytes(f.read_bytes() + b"{\xff}\n")
    try:
        jsonl.read(f)
    except JsonlError as e:
        assert str(e) == f"{f}:3: invalid UTF-8 (byte 0xff at column 2)"
    else:
        raise AssertionError("bad UTF-8 was accepted")


def test_grade_rereads_its_own_output_and_grades_around_bad_utf8(tmp_path):
    from tests.helpers.cli import statbench

    good = [
        {"id": 1, "response": "line\u2028sep \\boxed{2}", "reference": "2"},
        {"id": 3, "response": "para\u2029sep\u0085 \\boxed{5}", "reference": "4"},
    ]
    f = tmp_path / "in.jsonl"
    f.write_bytes(
        json.dumps(good[0], ensure_ascii=False).encode()
        + b"\n"
        + b'{"id": 2, "response": "\xff\xfe", "reference": "1"}\n'
        + json.dumps(good[1], ensure_ascii=False).encode()
        + b"\n"
    )
    out = tmp_path / "out.jsonl"
    r = statbench("grade", f, "-o", out)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"{f}:2: invalid UTF-8 (byte 0xff at column 24)" in r.stderr
    rows = jsonl.read(out)
    assert [(x["id"], x["correct"]) for x in rows] == [(1, True), (3, False)]  # the rest was graded
    again = statbench("grade", out, "-o", tmp_path / "again.jsonl")  # its own output, U+2028 and all
    assert again.returncode == 0 and "graded 2 lines" in again.stderr, again.stderr


def test_an_integer_too_long_to_parse_is_a_bad_line_not_a_crash(tmp_path):
    """Python refuses to parse integers of over 4,300 digits with a ValueError, not a JSONDecodeError."""
    from tests.helpers.cli import statbench

    f = tmp_path / "in.jsonl"
    f.write_text(
        '{"id": 1, "response": "\\\\boxed{2}", "reference": "2"}\n'
        + '{"id": 2, "response": "x", "reference": '
        + "9" * 5000
        + "}\n"
    )
    r = statbench("grade", f, "-o", tmp_path / "out.jsonl")
    assert r.returncode == 1 and "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    assert f"{f}:2: invalid JSON (Exceeds the limit" in r.stderr
    assert [x["id"] for x in jsonl.read(tmp_path / "out.jsonl")] == [1]
