"""Names that become paths: experiment names stay one folder under experiments/; a checkpoint folder whose
name has a comma is one model, not a matrix (``\\,`` escapes a comma in a name that is not a path)."""

from __future__ import annotations

import yaml

from harness.cli.eval import split_models
from tests.helpers.cli import ROOT, assert_one_error, statbench


def test_split_models(tmp_path):
    ck = tmp_path / "ckpt,step=100"
    ck.mkdir()
    assert split_models(str(ck)) == [str(ck)]
    assert split_models("a,b , c,") == ["a", "b", "c"]
    assert split_models("a\\,b,c") == ["a,b", "c"]
    assert split_models(f"{tmp_path}/x\\,y") == [f"{tmp_path}/x,y"]


def test_a_checkpoint_folder_with_a_comma_is_one_model(tmp_path):
    ck = tmp_path / "ck,pt"
    ck.mkdir()
    r = statbench("eval", "--model", ck, "--tasks", "statbench_gsm8k", "--runs-dir", tmp_path / "runs")
    # one model (not a 2-job matrix over "…/ck" and "pt"): the checkpoint check names the whole path
    assert_one_error(r, 2, f"{ck}: no config.json")


def test_an_experiment_name_that_escapes_experiments_is_one_line_exit_2(tmp_path):
    exp = tmp_path / "e.yaml"
    exp.write_text(yaml.safe_dump({"extends": str(ROOT / "examples" / "tiny.yaml"), "name": "../../x"}))
    r = statbench("run", exp, "--dry-run", cwd=tmp_path)
    assert_one_error(r, 2, "name: '../../x' is not a usable experiment name")
    assert not (tmp_path / "experiments").exists() and not (tmp_path.parent / "x").exists()


def test_run_ids_are_one_plain_path_component():
    from pathlib import Path

    from harness.records.store import new_run_id

    for label in ("../../x", "a/b", "..", "x\x00y", "", "ck,pt", "/abs/path"):
        rid = new_run_id(label, "0" * 64)
        assert "/" not in rid and "\x00" not in rid and Path(rid).name == rid and not rid.startswith(".")
