"""Bundled benchmark data: the task registry and a loader that verifies sha256 before use.

Data lives in ``tasks/data/`` (one normalized JSONL per benchmark, built by ``tools/build_data.py``) with
``MANIFEST.json`` recording each file's sha256, source and license. Every load checks the hash; a
modified file is an error that names the file and how to restore it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.core.errors import DataIntegrityError

SKILLWORLD_PROMPT = "Q: {problem} A:"  # the skill world's tiny character-level students


PROMPT_VERSION = 1
PROMPT = "{problem}\nPlease reason step by step, and put your final answer within \\boxed{{}}."
# data sets with their own prompt format (the skill world's tiny character-level students)
DATA_PROMPTS = {name: SKILLWORLD_PROMPT for name in ("skillworld_train", "skillworld_val", "skillworld_test", "skillworld_replay")}


def prompt_for(data: str, problem: str) -> str:
    """The prompt a problem from ``data`` is asked with, in evaluation and in training alike."""
    return DATA_PROMPTS.get(data, PROMPT).format(problem=problem)


@dataclass(frozen=True)
class TaskDef:
    """One statbench lm-eval task: which data, which id subset, which protocol family."""

    data: str
    family: str  # math | amc | aime  (protocol presets differ by family)
    ids: str | None = None  # file under tasks/data listing the ids to keep
    description: str = ""
    decontam: bool = True  # training sets are checked against this task's problems
    short: str = ""  # column header on boards
    paper_column: str | None = None  # column of the STAT paper's results table (stat_paper_results.csv)


# The explicit registry. MATH^D (model-specific difficult subset of math_test4k) is registered per
# student by the STAT pipeline as an id-list task over "math" (see tasks/README.md).
TASKS: dict[str, TaskDef] = {
    "statbench_math": TaskDef("math", "math", description="MATH test, all 5,000 problems", short="MATH"),
    "statbench_math500": TaskDef("math500", "math", description="MATH-500 (PRM800K test split)", short="MATH500"),
    "statbench_math_val1k": TaskDef("math", "math", "splits/math_val1k.txt", "MATH test: the paper-style 1k validation split", short="MATH-val1k"),
    "statbench_math_test4k": TaskDef("math", "math", "splits/math_test4k.txt", "MATH test: the paper-style 4k test split", short="MATH-4k", paper_column="math"),
    "statbench_aime24": TaskDef("aime24", "aime", description="AIME 2024 I+II, 30 problems", short="AIME24", paper_column="aime2024_pass64"),
    "statbench_aime25": TaskDef("aime25", "aime", description="AIME 2025 I+II, 30 problems", short="AIME25", paper_column="aime2025_pass64"),
    "statbench_amc23": TaskDef("amc23", "amc", description="AMC 2023, the 40-problem set (float answers)", short="AMC23", paper_column="amc23_avg64"),
    "statbench_gsm8k": TaskDef("gsm8k", "math", description="GSM8K test, 1,319 problems", short="GSM8K", paper_column="gsm8k"),
    "statbench_math_perturb_simple": TaskDef("math_perturb_simple", "math", description="MATH-P-Simple, 279", short="MATH-P-Simple", paper_column="math_perturb_simple"),
    "statbench_math_perturb_hard": TaskDef("math_perturb_hard", "math", description="MATH-P-Hard, 279", short="MATH-P-Hard", paper_column="math_perturb_hard"),
    "statbench_minerva272": TaskDef("minerva272", "math", description="Minerva Math (MIT OCW), 272", short="Minerva"),
    "statbench_olympiadbench": TaskDef("olympiadbench", "math", description="OlympiadBench OE_TO_maths_en_COMP, 675", short="OlympiadB"),
    # the skill world (harness/skillworld): small fact tables, so train and test share facts by design
    "statbench_skillworld": TaskDef("skillworld_test", "math", description="skill world test, 300 per type", decontam=False, short="Skill world"),
    "statbench_skillworld_val": TaskDef("skillworld_val", "math", description="skill world validation, 40 per type", decontam=False, short="Skill world (val)"),
}


# Per-student subsets registered by the STAT pipeline (id lists over a registered task); only their board names live here.
SUBSET_SHORT = {"statbench_mathd": "MATH^D"}


def short_name(task: str) -> str:
    """A task's column header (its ``short`` name; subsets and unknown names as given)."""
    td = TASKS.get(task)
    return (td.short if td and td.short else None) or SUBSET_SHORT.get(task, task)


# Named task lists for ``statbench eval --suite``.
SUITES: dict[str, list[str]] = {
    # the STAT paper's columns that are bundled here (MATH^D is per student, MATH^2 is not public)
    "stat-paper": [
        "statbench_math_test4k", "statbench_gsm8k", "statbench_amc23", "statbench_math_perturb_simple",
        "statbench_math_perturb_hard", "statbench_aime24", "statbench_aime25",
    ],
    # the usual reasoning-model table
    "reasoning": [
        "statbench_math500", "statbench_aime24", "statbench_aime25", "statbench_amc23",
        "statbench_minerva272", "statbench_olympiadbench", "statbench_gsm8k",
    ],
    "smoke": ["statbench_math500", "statbench_gsm8k"],
    "skillworld": ["statbench_skillworld"],
}


def tasks_dir() -> Path:
    """The ``tasks/`` directory (``STATBENCH_TASKS_DIR`` overrides the checkout's own)."""
    env = os.environ.get("STATBENCH_TASKS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "tasks"


def _data_dir(data_dir: Path | None) -> Path:
    return Path(data_dir) if data_dir else tasks_dir() / "data"


@lru_cache(maxsize=4)
def _manifest(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "MANIFEST.json"
    if not path.is_file():
        raise DataIntegrityError(f"{path}: missing; the bundled task data is incomplete")
    return json.loads(path.read_text())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=64)
def _verified_text(path: Path, want: str, mtime_ns: int) -> str:  # mtime keys the cache
    data = path.read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise DataIntegrityError(
            f"{path}: sha256 {got[:16]}… does not match MANIFEST.json ({want[:16]}…). The file was modified; "
            "restore it (git checkout -- tasks/data) or rebuild it with tools/build_data.py."
        )
    return data.decode("utf-8")


def read_bundled(entry_name: str, data_dir: Path | None = None) -> str:
    """Text of one MANIFEST entry (benchmark, id list or reference file), sha256-verified."""
    d = _data_dir(data_dir).resolve()
    man = _manifest(d)
    if entry_name not in man:
        raise DataIntegrityError(f"{d / 'MANIFEST.json'}: no entry '{entry_name}' (known: {', '.join(sorted(man))})")
    path = d / man[entry_name]["file"]
    if not path.is_file():
        raise DataIntegrityError(f"{path}: missing (listed in MANIFEST.json as '{entry_name}')")
    return _verified_text(path, man[entry_name]["sha256"], path.stat().st_mtime_ns)


def load_benchmark(name: str, data_dir: Path | None = None) -> list[dict[str, Any]]:
    """All records of one bundled benchmark file, hash-verified."""
    text = read_bundled(name, data_dir)
    rows = []
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise DataIntegrityError(f"{name}.jsonl line {i}: {e}") from e
    return rows


def load_ids(rel: str, data_dir: Path | None = None) -> list[str]:
    """The whitespace-separated ids in the bundled file ``rel``."""
    return [s for s in read_bundled(rel, data_dir).split() if s]


def task_docs(task: str, data_dir: Path | None = None, ids_file: Path | None = None) -> list[dict[str, Any]]:
    """The documents of a registered task (its id subset applied), in a stable order."""
    if task not in TASKS:
        raise KeyError(f"unknown task '{task}'; valid tasks: {', '.join(sorted(TASKS))}")
    td = TASKS[task]
    rows = load_benchmark(td.data, data_dir)
    keep: list[str] | None = None
    if ids_file is not None:
        keep = [s for s in Path(ids_file).read_text().split() if s]
    elif td.ids:
        keep = load_ids(td.ids, data_dir)
    if keep is not None:
        by_id = {r["id"]: r for r in rows}
        missing = [i for i in keep if i not in by_id]
        if missing:
            raise DataIntegrityError(f"{ids_file or td.ids}: {len(missing)} ids not in {td.data} (first: {missing[0]})")
        rows = [by_id[i] for i in keep]
    return [{**r, "prompt": prompt_for(td.data, r["problem"])} for r in rows]


def data_hashes(data_dir: Path | None = None) -> dict[str, str]:
    """sha256 of every bundled data file (for provenance records)."""
    return {k: v["sha256"] for k, v in _manifest(_data_dir(data_dir).resolve()).items()}
