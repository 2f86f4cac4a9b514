"""Fuzz (hypothesis) the spec readers: an experiment spec, a ``regress --reference`` file, an
``eval --spec`` job file and a leaderboard's board.yaml. Whatever the bytes or the YAML/JSON structure, each either parses or raises one
``SpecError`` whose message is one line naming the file; never another exception."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.errors import SpecError

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

KEYS = ["name", "tasks", "value", "tolerance", "protocol", "checker", "student", "model", "extends", "spec",
        "runs_dir", "force", "backend", "backend_args", "seeds", "statbench_gsm8k", "eval", "hparams", "limit"]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(KEYS),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=8), st.integers(-3, 3), st.booleans())
trees = st.recursive(
    scalars,
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(keys, kids, max_size=5)),
    max_leaves=25,
)
# documents: raw bytes, YAML text of arbitrary trees, and near-valid documents with one field mutated
raw_bytes = st.binary(max_size=300)
yaml_text = trees.map(lambda t: yaml.safe_dump(t, allow_unicode=True))


def _reference_like(value, tol, task):
    return yaml.safe_dump({"tasks": {task: {"value": value, "tolerance": tol}}})


near_reference = st.builds(
    _reference_like, scalars, scalars, st.one_of(st.sampled_from(KEYS), st.text(max_size=5))
)


def _experiment_like(name, seeds, model):
    return yaml.safe_dump({"name": name, "seeds": seeds, "student": {"model": model}})


near_experiment = st.builds(_experiment_like, scalars, trees, scalars)


def _job_like(tasks, model, backend_args):
    return json.dumps(
        {"spec": {"model": model, "tasks": tasks, "backend_args": backend_args}, "runs_dir": "runs"},
        default=str,
    )


near_job = st.builds(_job_like, trees, scalars, trees)
documents = st.one_of(raw_bytes, yaml_text.map(str.encode))


def _write(tmp: Path, name: str, doc: bytes | str) -> Path:
    path = tmp / name
    path.write_bytes(doc if isinstance(doc, bytes) else doc.encode("utf-8", "surrogatepass"))
    return path


def _one_line_spec_error(read, path: Path) -> None:
    try:
        read(path)
    except SpecError as e:
        msg = str(e)
        assert "\n" not in msg.strip() or _folded(msg), msg
        assert str(path.name) in msg or str(path) in msg, msg


def _folded(msg: str) -> bool:
    """The CLI folds a message onto one line; what it prints is what counts."""
    from harness.cli.common import one_line

    return "\n" not in one_line(msg)


@SETTINGS
@given(doc=st.one_of(documents, near_reference))
def test_reference_reader(tmp_path_factory, doc):
    from harness.reporting.regress import load_reference

    _one_line_spec_error(load_reference, _write(tmp_path_factory.mktemp("ref"), "ref.yaml", doc))


@SETTINGS
@given(doc=st.one_of(documents, near_experiment))
def test_experiment_reader(tmp_path_factory, doc):
    from harness.recipe.experiment import load_experiment

    _one_line_spec_error(load_experiment, _write(tmp_path_factory.mktemp("exp"), "exp.yaml", doc))


@SETTINGS
@given(doc=st.one_of(documents, trees.map(lambda t: json.dumps(t, default=str)), near_job))
def test_job_file_reader(tmp_path_factory, doc):
    from harness.cli.eval import load_job

    _one_line_spec_error(load_job, _write(tmp_path_factory.mktemp("job"), "job.json", doc))


def _board_like(columns, rows, base):
    return yaml.safe_dump(
        {"title": "t", "protocol": "greedy", "columns": columns, "groups": [{"rows": rows}], "base": base}
    )


near_board = st.builds(_board_like, trees, trees, scalars)


@SETTINGS
@given(doc=st.one_of(documents, near_board))
def test_board_file_reader(tmp_path_factory, doc):
    from harness.reporting.board_spec import load_board

    folder = tmp_path_factory.mktemp("board")
    _one_line_spec_error(load_board, _write(folder, "board.yaml", doc))


def test_the_examples_still_parse():
    """The fuzzed readers accept what ships."""
    from harness.recipe.experiment import load_experiment
    from tests.helpers.cli import ROOT

    for name in ("tiny.yaml", "skillworld.yaml", "paper.yaml"):
        assert load_experiment(ROOT / "examples" / name).name


def test_an_experiment_name_that_escapes_its_folder_is_refused(tmp_path):
    import pytest

    from harness.recipe.experiment import load_experiment
    from tests.helpers.cli import ROOT

    base = (ROOT / "examples" / "tiny.yaml").resolve()
    for bad in ("../../x", "a/b", "..", ".hidden", "x.", "", "a\x00b", "é" * 3):
        exp = tmp_path / "exp.yaml"
        exp.write_text(yaml.safe_dump({"extends": str(base), "name": bad}))
        with pytest.raises(SpecError, match="is not a usable experiment name"):
            load_experiment(exp)
