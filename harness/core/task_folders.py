"""Your own benchmark: task folders (``--include-path DIR``, ``$STATBENCH_INCLUDE_PATH``).

A task folder holds task YAMLs, each an lm-eval task whose statbench keys sit under ``dataset_kwargs`` (lm-eval
hands them to ``custom_dataset``, so plain ``lm_eval --include_path DIR`` runs the same file), naming a JSONL
file whose sha256 ``statbench tasks add`` pins. Registering a folder adds its tasks to the registry
(:data:`harness.core.tasks.TASKS`). See docs/evaluation.md#your-own-benchmark.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from harness.core.errors import DataIntegrityError, SpecError
from harness.core.tasks import PROMPT, PROMPT_VERSION, TASKS, TaskDef, UserTask, _numbered_rows

USER_KEYS = (
    "data",
    "question",
    "answer",
    "family",
    "prompt",
    "id",
    "skill",
    "short",
    "description",
    "sha256",
)
FAMILIES = ("math", "amc", "aime")
INCLUDE_ENV = "STATBENCH_INCLUDE_PATH"
# a task name is also a file name (samples/<task>.jsonl) and an entry of --tasks A,B
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_INCLUDED: dict[str, str] = {}  # task name -> the YAML that registered it


class _AnyTagLoader(yaml.SafeLoader):
    """A safe loader that reads lm-eval's ``!function`` (and any other tag) as a plain string."""


_AnyTagLoader.add_multi_constructor("!", lambda loader, tag, node: f"{tag} {loader.construct_scalar(node)}")


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_AnyTagLoader)  # noqa: S506 - a SafeLoader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise SpecError(
            f"{path}: cannot read the task YAML ({type(e).__name__}: {str(e).splitlines()[0]})"
        ) from None


def is_user_task(cfg: Any) -> bool:
    """Whether a parsed YAML is a statbench task-folder task (``task`` plus ``dataset_kwargs.data``)."""
    return (
        isinstance(cfg, dict)
        and isinstance(cfg.get("dataset_kwargs"), dict)
        and "data" in cfg["dataset_kwargs"]
    )


def read_user_task(path: Path) -> tuple[str, TaskDef]:
    """The task a task-folder YAML defines; ``SpecError`` (one line naming the file) when it is malformed."""
    path = Path(path).resolve()
    cfg = _read_yaml(path)
    if not is_user_task(cfg):
        raise SpecError(
            f"{path}: not a statbench task; it needs `task: NAME` and `dataset_kwargs:` with data, question, "
            "answer and family (docs/evaluation.md#your-own-benchmark)"
        )
    name, kw = cfg.get("task"), cfg["dataset_kwargs"]
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise SpecError(
            f"{path}: `task:` must be letters, digits, _ . - (at most 100, starting with a letter or digit), "
            f"got {name!r}"
        )
    unknown = [k for k in kw if k not in USER_KEYS]
    if unknown:
        raise SpecError(
            f"{path}: unknown dataset_kwargs key(s) {', '.join(map(str, unknown))}; valid: {', '.join(USER_KEYS)}"
        )
    for key in ("data", "question", "answer", "family"):
        if not isinstance(kw.get(key), str) or not kw[key].strip():
            raise SpecError(f"{path}: dataset_kwargs.{key} must be a non-empty string")
    if kw["family"] not in FAMILIES:
        raise SpecError(
            f"{path}: dataset_kwargs.family must be one of {', '.join(FAMILIES)}, got {kw['family']!r}"
        )
    for key in ("prompt", "id", "skill", "short", "description", "sha256"):
        if kw.get(key) is not None and not isinstance(kw[key], str):
            raise SpecError(f"{path}: dataset_kwargs.{key} must be a string")
    if kw.get("prompt") is not None and "{problem}" not in kw["prompt"]:
        raise SpecError(f"{path}: dataset_kwargs.prompt must contain {{problem}} (where the question goes)")
    user = UserTask(
        yaml=str(path),
        data=str((path.parent / kw["data"]).resolve()),
        sha256=kw.get("sha256"),
        question=kw["question"],
        answer=kw["answer"],
        prompt=kw.get("prompt"),
        id=kw.get("id"),
        skill=kw.get("skill"),
    )
    td = TaskDef(
        data=f"user:{name}",
        family=kw["family"],
        description=kw.get("description") or f"task folder {path.parent}",
        decontam=False,
        short=kw.get("short") or name,
        user=user,
    )
    return name, td


def _yamls(folder: Path) -> list[Path]:
    """The ``*.yaml`` files of a task folder, recursively, in a stable order (a folder named ``*.yaml`` is
    not one)."""
    return [p for p in sorted(folder.rglob("*.yaml")) if not p.is_dir()]


def include_path(dirs: list[str | Path], source: str = "--include-path") -> list[str]:
    """Register every statbench task in the task folders ``dirs`` (their ``*.yaml``, recursively; other
    lm-eval YAMLs are skipped). Returns the names. A name that clashes with another task is an error."""
    names = []
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            raise SpecError(f"{d}: {source} must be a folder of task YAMLs")
        for path in _yamls(d):
            cfg = _read_yaml(path)
            if not is_user_task(cfg):
                continue
            name, td = read_user_task(path)
            src = _INCLUDED.get(name)
            if (name in TASKS and src is None) or (src is not None and src != td.user.yaml):
                raise SpecError(
                    f"{path}: task '{name}' is already defined by {src or 'the bundled registry'}; rename it"
                )
            TASKS[name] = td
            _INCLUDED[name] = td.user.yaml
            names.append(name)
    return names


def data_sha256(path: Path) -> str:
    """sha256 of a data file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@lru_cache(maxsize=32)
def _user_rows(
    data: str, want: str, yaml_path: str, mtime_ns: int
) -> tuple[Any, ...]:  # mtime keys the cache
    raw = Path(data).read_bytes()
    got = hashlib.sha256(raw).hexdigest()
    if got != want:
        raise DataIntegrityError(
            f"{data}: sha256 {got[:16]}… does not match the {want[:16]}… pinned in {yaml_path}; the data changed: "
            f"restore it, or pin the new data with `statbench tasks add {yaml_path}` (a new benchmark version)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataIntegrityError(f"{data}: not UTF-8 ({e.reason} at byte {e.start})") from None
    return tuple(_numbered_rows(text, Path(data)))


def _is_text(value: Any) -> bool:
    """A non-blank string that can be written as UTF-8 (JSON's "\\ud800" escapes make lone surrogates)."""
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _answer_text(value: Any) -> str | None:
    """A reference answer as the text it is graded against: a string, a finite number, or a non-empty list
    of those (several answers, joined with ", " as the checker joins them); None when it is none of these."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return json.dumps(value) if math.isfinite(value) else None
    if isinstance(value, list) and value:  # flat: a list inside the list is not an answer
        parts = [None if isinstance(v, list) else _answer_text(v) for v in value]
        return None if any(p is None for p in parts) else ", ".join(parts)  # type: ignore[arg-type]
    return value if _is_text(value) else None


def _doc(user: UserTask, row: Any, pos: int, where: str) -> dict[str, Any]:
    """One document of a task-folder task; ``DataIntegrityError`` naming ``where`` (FILE line N) when the
    record cannot be graded."""
    if not isinstance(row, dict) or user.question not in row or user.answer not in row:
        raise DataIntegrityError(
            f"{where}: needs the fields '{user.question}' and '{user.answer}' ({user.yaml})"
        )
    problem = row[user.question]
    if not _is_text(problem):
        raise DataIntegrityError(
            f"{where}: '{user.question}' must be a non-empty string of Unicode text, got {problem!r:.60}"
        )
    answer = _answer_text(row[user.answer])
    if answer is None:
        raise DataIntegrityError(
            f"{where}: '{user.answer}' must be a non-empty string, a finite number or a list of those, "
            f"got {row[user.answer]!r:.60}"
        )
    if user.id and user.id not in row:
        raise DataIntegrityError(f"{where}: no id field '{user.id}'")
    pid = row[user.id] if user.id else pos
    if isinstance(pid, bool) or not (isinstance(pid, int) or _is_text(pid)):
        raise DataIntegrityError(f"{where}: id '{user.id}' must be a string or an integer, got {pid!r:.60}")
    doc: dict[str, Any] = {
        "id": str(pid),
        "problem": problem,
        "answer": answer,
        "prompt": user.prompt.replace("{problem}", problem)
        if user.prompt
        else PROMPT.format(problem=problem),
    }
    if user.skill:
        sk = row.get(user.skill)
        skills = sk if isinstance(sk, list) else ([] if sk is None else [sk])
        if not all(_is_text(x) or (isinstance(x, int) and not isinstance(x, bool)) for x in skills):
            raise DataIntegrityError(
                f"{where}: skill '{user.skill}' must be a string or a list of strings, got {sk!r:.60}"
            )
        doc["skills"] = [str(x) for x in skills]
    return doc


def user_docs(user: UserTask) -> list[dict[str, Any]]:
    """The documents of a task-folder task (sha256-verified against its pin): id, problem, answer, prompt, skills."""
    data = Path(user.data)
    if not user.sha256:
        raise DataIntegrityError(
            f"{user.yaml}: the data's sha256 is not pinned; run `statbench tasks add {user.yaml}` once"
        )
    if not data.is_file():
        raise DataIntegrityError(f"{data}: missing or not a file (named by {user.yaml})")
    try:
        rows = _user_rows(str(data), user.sha256, user.yaml, data.stat().st_mtime_ns)
    except OSError as e:
        raise DataIntegrityError(
            f"{data}: cannot read the data ({e.strerror or e}; named by {user.yaml})"
        ) from None
    if not rows:
        raise DataIntegrityError(
            f"{data}: no records (named by {user.yaml}); a task needs at least one problem"
        )
    docs, seen = [], set()
    for i, (number, row) in enumerate(rows):
        doc = _doc(user, row, i, f"{data} line {number}")
        if doc["id"] in seen:
            raise DataIntegrityError(f"{data} line {number}: duplicate id {doc['id']!r}")
        seen.add(doc["id"])
        docs.append(doc)
    return docs


def pin_user_task(path: Path) -> tuple[str, str, str | None]:
    """``statbench tasks add``: check a task-folder YAML, pin its data's sha256 and complete the lm-eval keys
    that let plain ``lm_eval --include_path`` run it. Returns (name, new sha256, the previous pin)."""
    from harness.core.protocols import render

    path = Path(path).resolve()
    name, td = read_user_task(path)
    user = td.user
    assert user is not None
    if name in TASKS and TASKS[name].user is None:
        raise SpecError(f"{path}: task '{name}' is already defined by the bundled registry; rename it")
    if not Path(user.data).is_file():
        raise SpecError(f"{user.data}: missing or not a file (named by {path} as dataset_kwargs.data)")
    try:
        sha = data_sha256(Path(user.data))
    except OSError as e:
        raise SpecError(f"{user.data}: cannot read the data ({e.strerror or e}; named by {path})") from None
    old = user.sha256
    user_docs(UserTask(**{**user.__dict__, "sha256": sha}))  # every record readable before pinning
    cfg = _read_yaml(path)
    kw = {**cfg["dataset_kwargs"], "sha256": sha}
    over = render("stat-paper", td.family)
    # lm-eval calls custom_dataset(**metadata, **dataset_kwargs): no key may be in both (family is in the latter)
    over["metadata"] = {"version": float(PROMPT_VERSION), **over["metadata"]}
    over["metadata"].pop("family")
    head = {"task": name, "dataset_kwargs": kw}
    text = (
        yaml.safe_dump(head, sort_keys=False, width=110, allow_unicode=True)
        + "# Below: written by `statbench tasks add` so that plain `lm_eval --include_path` runs this task too;\n"
        + "# statbench itself reads only the keys above (and renders generation from --protocol).\n"
        + "custom_dataset: !function harness.evaluation.task_hooks.load_user\n"
        + "test_split: test\noutput_type: generate_until\nnum_fewshot: 0\n"
        + "doc_to_text: !function harness.evaluation.task_hooks.doc_to_text\n"
        + "doc_to_target: !function harness.evaluation.task_hooks.doc_to_target\n"
        + "process_results: !function harness.evaluation.task_hooks.process_results\n"
        + yaml.safe_dump({"metric_list": _template_metrics()}, sort_keys=False, width=110)
        + yaml.safe_dump(over, sort_keys=False, width=110)
    )
    from harness.core.fileio import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as e:
        raise SpecError(
            f"{path}: cannot write the task YAML ({e.strerror or e}); `statbench tasks add` needs the task "
            "folder writable"
        ) from None
    return name, sha, old


def _template_metrics() -> list[Any]:
    """The metric_list of the bundled template (tasks/_default_template_yaml)."""
    return [
        {"metric": m, "aggregation": "mean", "higher_is_better": m != "no_answer"}
        for m in ("avg_at_k", "pass_at_k", "maj_at_k", "no_answer")
    ]


def register_env() -> list[str]:
    """Register the task folders named by ``$STATBENCH_INCLUDE_PATH`` (``os.pathsep``-separated); the CLI
    calls this before every command, so boards, the gate and rescore see those tasks too."""
    dirs = [d for d in os.environ.get(INCLUDE_ENV, "").split(os.pathsep) if d.strip()]
    return include_path(dirs, source=f"${INCLUDE_ENV}")


def task_folder_paths(dirs: list[str | Path], tasks: list[str] = ()) -> tuple[list[str], list[str]]:
    """What a job on another machine or in a container needs to see the task-folder tasks it runs:
    (folders to register there, host paths to make readable there). The folders are ``dirs`` (absolute)
    plus the folder of each task-folder task named in ``tasks`` that came from elsewhere (e.g.
    ``$STATBENCH_INCLUDE_PATH``, which a job does not inherit); the paths are those folders and the data
    files of their tasks, less any path inside another."""
    folders = [str(Path(d).resolve()) for d in dirs]
    for name in tasks:
        td = TASKS.get(name)
        if td is not None and td.user is not None:
            folders.append(str(Path(td.user.yaml).parent))
    folders = list(dict.fromkeys(folders))
    data = [TASKS[n].user.data for n in include_path(folders)]  # registered already: the same definitions
    paths = list(dict.fromkeys([*folders, *data]))
    return folders, [p for p in paths if not any(q != p and Path(p).is_relative_to(q) for q in paths)]
