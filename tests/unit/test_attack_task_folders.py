"""Hostile task folders (--include-path DIR, `statbench tasks add`): one error line naming the file, exit 2,
nothing written; and what is accepted is graded as the user meant it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.errors import StatbenchError
from tests.helpers.cli import assert_one_error, statbench

GOOD = '{"q": "1+1?", "a": "2"}\n{"q": "2+2?", "a": 4}\n'


def folder(root: Path, data: str | bytes = GOOD, task: str = "t1", extra: str = "") -> Path:
    """A task folder with ``t.yaml`` naming ``d.jsonl`` (question field q, answer field a)."""
    d = root / "tf"
    d.mkdir(exist_ok=True)
    (d / "d.jsonl").write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    (d / "t.yaml").write_text(
        f"task: {json.dumps(task)}\ndataset_kwargs:\n  data: d.jsonl\n  question: q\n  answer: a\n"
        f"  family: math\n{extra}"
    )
    return d


@pytest.mark.parametrize(
    ("data", "extra", "needles"),
    [
        ('{"q": "a"}\n{"a": "1"}\n', "", ["d.jsonl line 1:", "needs the fields 'q' and 'a'"]),
        ('{"q": "a", "a": "1"}\n', "  id: id\n", ["d.jsonl line 1:", "no id field 'id'"]),  # was exit 3
        ("", "", ["d.jsonl: no records"]),  # was accepted, then an IndexError in eval (exit 3)
        ("\n  \n", "", ["d.jsonl: no records"]),
        (
            '{"q": null, "a": "1"}\n',
            "",
            ["line 1:", "'q' must be a non-empty string"],
        ),  # was the prompt "None"
        ('{"q": 5, "a": "1"}\n', "", ["'q' must be a non-empty string of Unicode text, got 5"]),
        ('{"q": ["x"], "a": "1"}\n', "", ["'q' must be a non-empty string"]),
        ('{"q": "  ", "a": "1"}\n', "", ["'q' must be a non-empty string"]),
        ('{"q": "x", "a": null}\n', "", ["'a' must be a non-empty string, a finite number"]),  # was "null"
        ('{"q": "x", "a": NaN}\n', "", ["got nan"]),  # was graded against the text "NaN"
        ('{"q": "x", "a": Infinity}\n', "", ["got inf"]),
        ('{"q": "x", "a": true}\n', "", ["got True"]),
        ('{"q": "x", "a": ""}\n', "", ["'a' must be a non-empty string"]),
        ('{"q": "x", "a": []}\n', "", ["'a' must be"]),
        ('{"q": "x", "a": {"v": 1}}\n', "", ["'a' must be"]),
        ('{"q": "x", "a": [[1], 2]}\n', "", ["'a' must be"]),  # flat lists only (was flattened)
        ('{"q": "x", "a": ' + "[" * 800 + "1" + "]" * 800 + "}\n", "", ["'a' must be"]),  # was RecursionError
        (
            '\n{"q": "x", "a": "1", "i": null}\n',
            "  id: i\n",
            ["d.jsonl line 2:", "id 'i' must be a string or"],
        ),
        ('{"q": "x", "a": "1", "i": [1]}\n', "  id: i\n", ["id 'i' must be a string or an integer"]),
        (
            '{"q": "x", "a": "1", "i": 1}\n\n{"q": "y", "a": "2", "i": "1"}\n',
            "  id: i\n",
            ["line 3: duplicate id '1'"],
        ),
        ('{"q": "x", "a": "1", "s": {"k": 1}}\n', "  skill: s\n", ["skill 's' must be a string or a list"]),
        (
            '{"q": "a\\ud800b", "a": "1"}\n',
            "",
            ["'q' must be a non-empty string"],
        ),  # was exit 3 after generating
        ('{"q": "x", "a": ' + "9" * 5000 + "}\n", "", ["d.jsonl line 1: invalid JSON"]),  # was exit 3
        ('\ufeff{"q": "x", "a": "1"}\n', "", ["d.jsonl line 1: invalid JSON", "BOM"]),
        (b'{"q": "caf\xe9", "a": "1"}\n', "", ["d.jsonl: not UTF-8"]),
    ],
)
def test_a_record_that_cannot_be_graded_is_refused_in_one_line_before_pinning(tmp_path, data, extra, needles):
    d = folder(tmp_path, data, extra=extra)
    before = (d / "t.yaml").read_bytes()
    r = statbench("tasks", "add", d / "t.yaml")
    assert_one_error(r, 2, *needles)
    assert (d / "t.yaml").read_bytes() == before  # nothing pinned
    assert sorted(p.name for p in d.iterdir()) == ["d.jsonl", "t.yaml"]  # no temp file left


def test_answers_numbers_lists_and_crlf_lines_are_read_as_meant(tmp_path, registry):
    d = folder(
        tmp_path,
        '{"q": "x", "a": 2}\r\n{"q": "y", "a": [1, "2"]}\r\n{"q": "z", "a": 0.5, "i": 7}\r\n',
    )
    from harness.core.task_folders import include_path

    assert statbench("tasks", "add", d / "t.yaml").returncode == 0
    include_path([d])
    docs = registry.task_docs("t1")
    assert [x["answer"] for x in docs] == [
        "2",
        "1, 2",
        "0.5",
    ]  # a list: several answers, as the checker joins
    assert [x["problem"] for x in docs] == ["x", "y", "z"]


@pytest.mark.parametrize(
    "name", ["a\x00b", "a\tb", " t1", "x" * 101, "..", ".hidden", "user:x", "a b", "", "-x", "a*"]
)
def test_a_task_name_that_is_no_file_name_is_refused(tmp_path, name):
    d = folder(tmp_path, task=name)
    r = statbench("tasks", "add", d / "t.yaml")
    assert_one_error(r, 2, "t.yaml: `task:` must be letters, digits, _ . -")


@pytest.mark.parametrize("name", ["hmmt25", "aime-2025", "my_task.v2", "X" * 100])
def test_ordinary_task_names_are_accepted(tmp_path, name):
    d = folder(tmp_path, task=name)
    r = statbench("tasks", "add", d / "t.yaml")
    assert r.returncode == 0, r.stderr


def test_tasks_add_refuses_a_bundled_name_and_writes_nothing(tmp_path):
    d = folder(tmp_path, task="statbench_math500")
    before = (d / "t.yaml").read_bytes()
    r = statbench("tasks", "add", d / "t.yaml")
    assert_one_error(r, 2, "t.yaml: task 'statbench_math500' is already defined by the bundled registry")
    assert (d / "t.yaml").read_bytes() == before


def test_a_folder_named_like_a_yaml_is_skipped(tmp_path, registry):
    d = folder(tmp_path)
    assert statbench("tasks", "add", d / "t.yaml").returncode == 0
    (d / "sub.yaml").mkdir()
    r = statbench("tasks", "--include-path", d, env={"COLUMNS": "250"})
    assert r.returncode == 0, r.stderr
    assert "t1 *" in r.stdout and "  t1: " in r.stdout
    from harness.core.task_folders import task_folder_paths  # what executor jobs mount: skips it too

    assert task_folder_paths([d])[0] == [str(d.resolve())]


def test_a_bad_folder_from_the_environment_names_the_variable(tmp_path):
    r = statbench("ls", "tasks", env={"STATBENCH_INCLUDE_PATH": str(tmp_path / "nope")})
    assert_one_error(r, 2, f"{tmp_path / 'nope'}: $STATBENCH_INCLUDE_PATH must be a folder of task YAMLs")


def test_a_folder_path_with_brackets_and_colons_is_printed_as_is(tmp_path, registry):
    d = tmp_path / "mk[/x]up:x:"  # rich markup (a folder "mk[" holding "x]up:x:") and an emoji code
    d.mkdir(parents=True)
    folder(d)
    r = statbench("tasks", "add", d / "tf" / "t.yaml")
    assert r.returncode == 0 and f"wrote {d / 'tf' / 't.yaml'}" in r.stderr, r.stderr
    r = statbench("tasks", "--include-path", d / "tf", env={"COLUMNS": "300"})
    assert r.returncode == 0, r.stderr  # was a MarkupError (exit 3)
    assert "mk[/x]up:x:" in r.stdout


def test_a_data_path_that_is_a_folder_is_named_as_such(tmp_path):
    d = folder(tmp_path)
    (d / "d.jsonl").unlink()
    (d / "d.jsonl").mkdir()
    r = statbench("tasks", "add", d / "t.yaml")
    assert_one_error(r, 2, "d.jsonl: missing or not a file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes whatever the modes say")
def test_a_read_only_folder_and_unreadable_data_are_one_line_exit_2(tmp_path):
    d = folder(tmp_path)
    (d / "d.jsonl").chmod(0)
    try:
        assert_one_error(statbench("tasks", "add", d / "t.yaml"), 2, "d.jsonl: cannot read the data")
    finally:
        (d / "d.jsonl").chmod(0o644)
    d.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        r = statbench("tasks", "add", d / "t.yaml")
        assert_one_error(r, 2, "t.yaml: cannot write the task YAML", "writable")
    finally:
        d.chmod(0o755)


def test_write_and_read_errors_are_spec_errors(tmp_path, monkeypatch, registry):
    """The same as above for root (who ignores modes): the OSErrors are made to happen."""
    from harness.core import fileio, task_folders

    d = folder(tmp_path)
    before = (d / "t.yaml").read_bytes()

    def read_only(path, text):
        raise PermissionError(13, "Permission denied", str(path.parent / ".t.yaml.x.tmp"))

    monkeypatch.setattr(fileio, "atomic_write_text", read_only)
    r = statbench("tasks", "add", d / "t.yaml")
    assert_one_error(r, 2, f"{d / 't.yaml'}: cannot write the task YAML (Permission denied)")
    assert (d / "t.yaml").read_bytes() == before
    monkeypatch.undo()

    assert statbench("tasks", "add", d / "t.yaml").returncode == 0
    task_folders.include_path([d])
    real = Path.read_bytes

    def unreadable(self):
        if self.name == "d.jsonl":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    task_folders._user_rows.cache_clear()
    monkeypatch.setattr(Path, "read_bytes", unreadable)
    with pytest.raises(StatbenchError, match=r"d\.jsonl: cannot read the data \(Permission denied"):
        registry.task_docs("t1")


# --- hypothesis: any bytes as a task YAML or as its data give documents or one StatbenchError line ---------
_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
YAMLISH = st.lists(
    st.sampled_from(
        [
            "task: t1\n",
            "dataset_kwargs:\n",
            "  data: d.jsonl\n",
            "  question: q\n",
            "  answer: a\n",
            "  family: math\n",
            "  id: [1]\n",
            "  sha256: 5\n",
            "- x\n",
            "&a [*a]\n",
            "!!python/name:os.system\n",
            "task: *x\n",
            "\t",
            ":",
            "{",
            "\xff",
            "---\n",
            "dataset_kwargs: 3\n",
        ]
    ),
    max_size=10,
).map("".join)


@_SETTINGS
@given(YAMLISH, st.binary(max_size=12))
def test_any_task_yaml_reads_or_is_one_spec_error(tmp_path, text, junk):
    from harness.core.errors import SpecError
    from harness.core.task_folders import read_user_task

    path = tmp_path / "t.yaml"
    path.write_bytes(text.encode("utf-8", "surrogateescape") + junk)
    try:
        name, td = read_user_task(path)
    except SpecError as e:
        assert str(e).startswith(str(path)) and "\n" not in str(e)
    else:
        assert name == "t1" and td.user is not None


RECORDS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["q", "a", "i", "s"]), inner),
    max_leaves=8,
)


@_SETTINGS
@given(st.lists(RECORDS, max_size=5))
def test_any_records_give_gradable_documents_or_one_error_line(tmp_path, registry, rows):
    from harness.core.task_folders import data_sha256, user_docs
    from harness.core.tasks import UserTask

    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    user = UserTask(str(tmp_path / "t.yaml"), str(data), data_sha256(data), "q", "a", id="i", skill="s")
    try:
        docs = user_docs(user)
    except StatbenchError as e:
        assert str(e).startswith(str(data)) and "\n" not in str(e)
        return
    assert docs and len({d["id"] for d in docs}) == len(docs)
    for d in docs:
        assert isinstance(d["problem"], str) and d["problem"].strip() and d["problem"] in d["prompt"]
        assert isinstance(d["answer"], str) and d["answer"].strip()
        json.dumps(d, ensure_ascii=False).encode("utf-8")  # what the sample rows are written as
