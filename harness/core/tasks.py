"""The task registry (``tasks/registry.yaml``) and the bundled data loader, which verifies sha256 before use.

Data lives in ``tasks/data/`` (one normalized JSONL per benchmark, built by ``tools/build_data.py``) with
``MANIFEST.json`` recording each file's sha256, source and license. Every load checks the hash; a
modified file is an error that names the file and how to restore it. Task folders (your own benchmarks,
``--include-path DIR``) are :mod:`harness.core.task_folders`; their tasks join :data:`TASKS`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from harness.core import jsonl
from harness.core.errors import DataIntegrityError, SpecError


def tasks_dir() -> Path:
    """The ``tasks/`` directory (``STATBENCH_TASKS_DIR`` overrides the checkout's own)."""
    env = os.environ.get("STATBENCH_TASKS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "tasks"


@dataclass(frozen=True)
class TaskDef:
    """One statbench lm-eval task (an entry of ``tasks/registry.yaml``)."""

    data: str  # a MANIFEST.json entry under tasks/data
    family: str  # math | amc | aime  (protocol presets differ by family)
    ids: str | None = None  # file under tasks/data listing the ids to keep
    description: str = ""
    decontam: bool = True  # training sets are checked against this task's problems
    short: str = ""  # column header on boards
    paper_column: str | None = None  # column of the STAT paper's results table (stat_paper_results.csv)
    fewshot: str | None = None  # the few-shot exemplar set --num-fewshot draws from (default: minerva_math)
    prompt: str | None = (
        None  # a prompt of the registry's ``prompts`` for this task (default: its data set's)
    )
    user: UserTask | None = None  # a task from an --include-path folder (not bundled)


@dataclass(frozen=True)
class UserTask:
    """A benchmark from a task folder (``--include-path DIR``): a task YAML naming a JSONL file next to it.

    Its statbench keys live under ``dataset_kwargs`` (lm-eval passes them to ``custom_dataset``, so the same
    YAML also runs under plain ``lm_eval --include_path DIR``)."""

    yaml: str  # absolute path of the task YAML
    data: str  # absolute path of the JSONL file
    sha256: str | None  # the pinned sha256 of the data (``statbench tasks add`` writes it)
    question: str = "problem"
    answer: str = "answer"
    prompt: str | None = None  # "{problem}" is replaced by the question; None: the default prompt
    id: str | None = None
    skill: str | None = None

    def definition(self) -> dict[str, Any]:
        """What decides the task's documents and prompts (recorded in the run's spec and hashed)."""
        return {
            "data_sha256": self.sha256,
            "question": self.question,
            "answer": self.answer,
            "prompt": self.prompt,
            "id": self.id,
            "skill": self.skill,
        }


def _load_registry() -> dict[str, Any]:
    path = tasks_dir() / "registry.yaml"
    try:
        reg = yaml.safe_load(path.read_text(encoding="utf-8"))
        tasks = {name: TaskDef(**fields) for name, fields in reg["tasks"].items()}
        bad = [n for n, t in tasks.items() if t.prompt and t.prompt not in reg["prompts"]]
        if bad:
            raise KeyError(f"task {bad[0]}: prompt is not one of prompts ({', '.join(reg['prompts'])})")
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        raise DataIntegrityError(f"{path}: cannot read the task registry ({type(e).__name__}: {e})") from e
    return {**reg, "tasks": tasks}


_REGISTRY = _load_registry()
PROMPT_VERSION: int = _REGISTRY["prompt_version"]
PROMPTS: dict[str, str] = _REGISTRY["prompts"]
PROMPT = PROMPTS[_REGISTRY["default_prompt"]]
DATA_PROMPTS: dict[str, str] = {data: PROMPTS[name] for data, name in _REGISTRY["data_prompts"].items()}
TASKS: dict[str, TaskDef] = _REGISTRY["tasks"]
SUITES: dict[str, list[str]] = _REGISTRY["suites"]
SUBSET_SHORT: dict[str, str] = {name: sub["short"] for name, sub in (_REGISTRY.get("subsets") or {}).items()}


def prompt_for(data: str, problem: str) -> str:
    """The prompt a problem from ``data`` is asked with, in evaluation and in training alike."""
    return DATA_PROMPTS.get(data, PROMPT).format(problem=problem)


def short_name(task: str) -> str:
    """A task's column header (its ``short`` name; subsets and unknown names as given)."""
    td = TASKS.get(task)
    return (td.short if td and td.short else None) or SUBSET_SHORT.get(task, task)


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
        raise DataIntegrityError(
            f"{d / 'MANIFEST.json'}: no entry '{entry_name}' (known: {', '.join(sorted(man))})"
        )
    path = d / man[entry_name]["file"]
    if not path.is_file():
        raise DataIntegrityError(f"{path}: missing (listed in MANIFEST.json as '{entry_name}')")
    return _verified_text(path, man[entry_name]["sha256"], path.stat().st_mtime_ns)


def load_benchmark(name: str, data_dir: Path | None = None) -> list[dict[str, Any]]:
    """All records of one bundled benchmark file, hash-verified."""
    text = read_bundled(name, data_dir)
    rows = []
    for line in jsonl.lines(text):  # "\n" only: U+2028 inside a problem statement is not a line break
        value, why = jsonl.parse(line.text) if line.text is not None else (None, line.error)
        if why is not None:
            raise DataIntegrityError(f"{name}.jsonl:{line.number}: {why}")
        rows.append(value)
    return rows


def load_ids(rel: str, data_dir: Path | None = None) -> list[str]:
    """The whitespace-separated ids in the bundled file ``rel``."""
    return [s for s in read_bundled(rel, data_dir).split() if s]


def task_docs(
    task: str, data_dir: Path | None = None, ids_file: Path | None = None, num_fewshot: int | None = None
) -> list[dict[str, Any]]:
    """The documents of a registered task (its id subset applied), in a stable order; with ``num_fewshot``
    their prompts are the few-shot prompt of the task's exemplar set (:func:`fewshot_prompt`)."""
    docs = _task_docs(task, data_dir, ids_file)
    if num_fewshot:
        name = fewshot_set(task)
        docs = [{**d, "prompt": fewshot_prompt(name, num_fewshot, d["problem"])} for d in docs]
    return docs


def _task_docs(task: str, data_dir: Path | None = None, ids_file: Path | None = None) -> list[dict[str, Any]]:
    if task not in TASKS:
        raise KeyError(f"unknown task '{task}'; valid tasks: {', '.join(sorted(TASKS))}")
    td = TASKS[task]
    if td.user is not None:
        # task_folders imports this module (its tasks register into TASKS): import it here, not at the top
        from harness.core.task_folders import user_docs

        rows = user_docs(td.user)
        if ids_file is not None:
            by_id = {r["id"]: r for r in rows}
            keep = [s for s in Path(ids_file).read_text().split() if s]
            missing = [i for i in keep if i not in by_id]
            if missing:
                raise DataIntegrityError(
                    f"{ids_file}: {len(missing)} ids not in {td.user.data} (first: {missing[0]})"
                )
            rows = [by_id[i] for i in keep]
        return rows
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
            raise DataIntegrityError(
                f"{ids_file or td.ids}: {len(missing)} ids not in {td.data} (first: {missing[0]})"
            )
        rows = [by_id[i] for i in keep]
    if td.prompt:  # a per-task prompt template (a name in the registry's prompts)
        return [{**r, "prompt": PROMPTS[td.prompt].format(problem=r["problem"])} for r in rows]
    return [{**r, "prompt": prompt_for(td.data, r["problem"])} for r in rows]


def data_hashes(data_dir: Path | None = None) -> dict[str, str]:
    """sha256 of every bundled data file (for provenance records)."""
    return {k: v["sha256"] for k, v in _manifest(_data_dir(data_dir).resolve()).items()}


# --- few-shot prompts for base models (--num-fewshot N): lm-eval's exemplars and formats, bundled and hashed ----
@dataclass(frozen=True)
class FewshotSet:
    """A few-shot exemplar set and the layout it is asked in."""

    entry: str  # MANIFEST entry of the exemplar file
    query: str  # how a problem is asked ("{problem}" is replaced)
    question: str  # exemplar fields
    target: str
    stop: tuple[str, ...]  # where a base model's answer ends (the next exemplar's start)


FEWSHOT_SETS: dict[str, FewshotSet] = {
    # lm-eval minerva_math: "Problem:\n{problem}\n\nSolution:" + " " + solution, exemplars joined by a blank line
    "minerva_math": FewshotSet(
        "fewshot/minerva_math_4shot", "Problem:\n{problem}\n\nSolution:", "problem", "solution", ("Problem:",)
    ),
    # lm-eval gsm8k_cot: "Q: {question}\nA:" + " " + target
    "gsm8k_cot": FewshotSet("fewshot/gsm8k_cot_8shot", "Q: {problem}\nA:", "question", "target", ("Q:",)),
}


def fewshot_set(task: str) -> str:
    """The exemplar set a task's few-shot prompt uses (its registry ``fewshot``; else Minerva MATH)."""
    return TASKS[task].fewshot or "minerva_math"


def fewshot_rows(name: str) -> list[dict[str, Any]]:
    """The exemplars of a set (sha256-verified bundled file)."""
    return _jsonl_rows(read_bundled(FEWSHOT_SETS[name].entry), Path(FEWSHOT_SETS[name].entry))


def fewshot_prompt(name: str, n: int, problem: str) -> str:
    """The first ``n`` exemplars of set ``name`` then the problem, in lm-eval's layout (target delimiter " ",
    exemplars separated by a blank line)."""
    fs = FEWSHOT_SETS[name]
    rows = fewshot_rows(name)
    if n > len(rows):
        raise SpecError(f"--num-fewshot {n}: the {name} exemplar set has {len(rows)}")
    ctx = "".join(
        fs.query.replace("{problem}", r[fs.question]) + " " + r[fs.target] + "\n\n" for r in rows[:n]
    )
    return ctx + fs.query.replace("{problem}", problem)


def task_data_hashes(task: str, data_dir: Path | None = None) -> dict[str, str]:
    """The data files a registered task reads, by name, with their sha256 (recorded in every run's spec)."""
    td = TASKS[task]
    if td.user is not None:
        from harness.core.task_folders import user_docs  # imported here: task_folders imports this module

        user_docs(td.user)  # refuses an unpinned task and data that drifted from its pin
        return {td.data: td.user.sha256 or ""}
    hashes = data_hashes(data_dir)
    out = {td.data: hashes[td.data]}
    if td.ids:
        out[td.ids] = hashes[td.ids]
    return out


def _jsonl_rows(text: str, where: Path) -> list[Any]:
    """JSON values of a JSONL text, one per non-blank line (lines split on \n only)."""
    return [value for _, value in _numbered_rows(text, where)]


def _numbered_rows(text: str, where: Path) -> list[tuple[int, Any]]:
    """(line number, JSON value) of each non-blank line of a JSONL text."""
    rows = []
    for line in jsonl.lines(text):  # the one JSONL reader (harness/core/jsonl.py)
        try:
            value, why = jsonl.parse(line.text) if line.text is not None else (None, line.error)
        except ValueError as e:  # e.g. an integer of more than 4300 digits
            value, why = None, f"invalid JSON ({e})"
        if why is not None:
            raise DataIntegrityError(f"{where} line {line.number}: {why}")
        rows.append((line.number, value))
    return rows
