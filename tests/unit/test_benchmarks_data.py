"""Bundled data: hashes verified at load, clear errors on tampering, the fixed MATH split."""

import json
import shutil

import pytest

from harness.core.errors import DataIntegrityError
from harness.core.tasks import TASKS, load_benchmark, task_docs, tasks_dir

EXPECTED = {
    "statbench_math": 5000,
    "statbench_math500": 500,
    "statbench_math_val1k": 1000,
    "statbench_math_test4k": 4000,
    "statbench_aime24": 30,
    "statbench_aime25": 30,
    "statbench_amc23": 40,
    "statbench_gsm8k": 1319,
    "statbench_math_perturb_simple": 279,
    "statbench_math_perturb_hard": 279,
    "statbench_minerva272": 272,
    "statbench_olympiadbench": 675,
}


@pytest.mark.parametrize("task", list(TASKS))
def test_task_sizes_and_fields(task):
    docs = task_docs(task)
    assert len(docs) == EXPECTED[task]
    assert len({d["id"] for d in docs}) == len(docs)
    assert all(d["problem"] and d["answer"] not in (None, "") for d in docs)


def test_math_split_is_disjoint_and_complete():
    val = {d["id"] for d in task_docs("statbench_math_val1k")}
    test = {d["id"] for d in task_docs("statbench_math_test4k")}
    assert not val & test and val | test == {d["id"] for d in task_docs("statbench_math")}


def test_math_records_carry_subject_level_and_skill():
    docs = task_docs("statbench_math500")
    assert all(d["subject"] and d["level"] in range(1, 6) and d["skills"] for d in docs)


def test_amc_answers_stay_floats():
    assert all(isinstance(d["answer"], float) for d in load_benchmark("amc23"))


def test_tampered_file_is_refused_with_its_name(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tasks_dir() / "data", data)
    path = data / "aime24.jsonl"
    rows = path.read_text().splitlines()
    rows[0] = rows[0].replace('"answer": "204"', '"answer": "205"')
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataIntegrityError, match=r"aime24\.jsonl: sha256 .* does not match MANIFEST\.json"):
        load_benchmark("aime24", data)


def test_missing_file_and_unknown_entry(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tasks_dir() / "data", data)
    (data / "gsm8k.jsonl").unlink()
    with pytest.raises(DataIntegrityError, match=r"gsm8k\.jsonl: missing"):
        load_benchmark("gsm8k", data)
    with pytest.raises(DataIntegrityError, match="no entry 'nope'"):
        load_benchmark("nope", data)
    with pytest.raises(KeyError, match="unknown task 'statbench_nope'; valid tasks: statbench_aime24"):
        task_docs("statbench_nope")


def test_manifest_records_source_and_license():
    man = json.loads((tasks_dir() / "data" / "MANIFEST.json").read_text())
    for name, entry in man.items():
        if not name.startswith("splits/"):
            assert entry["sources"] and entry["license"], name
