"""Board files: the ``board.yaml`` models (rows, groups, columns, options) and finding and loading a board.

A board is ``leaderboards/<board>/board.yaml``: rows (grouped, e.g. SFT / SFT+GRPO) select runs from the
index by model glob, labels and seeds; columns are tasks; one protocol. Loading checks the file (errors name
the file and the key) and registers the board's task folders before its columns are checked.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core.errors import SpecError, validation_message
from harness.core.protocols import get_protocol
from harness.core.tasks import TASKS


class RowSpec(BaseModel):
    """One board row: which runs it selects (model glob, labels, seeds, or explicit run ids)."""

    model_config = ConfigDict(extra="forbid")
    id: str
    label: str
    model: str | None = None  # glob on the run's model path
    labels: dict[str, str] = {}
    seeds: list[int] | None = None
    runs: list[str] | None = None  # explicit run ids (override the other selectors)


class GroupSpec(BaseModel):
    """A named group of rows (e.g. SFT, SFT+GRPO)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    rows: list[RowSpec]


class BoardSpec(BaseModel):
    """A board.yaml: title, protocol, columns (tasks), groups of rows, the base row and options."""

    model_config = ConfigDict(extra="forbid")
    title: str
    description: str = ""
    protocol: str = "stat-paper"
    columns: list[str] = Field(min_length=1)
    base: str | None = None
    groups: list[GroupSpec]
    reference_model: str | None = None  # show the paper's reported rows for this student
    skills_task: str | None = None  # a MATH-based column whose problems carry skill labels
    subsets: dict[str, str] = {}  # id-list columns (e.g. statbench_mathd) -> the registered task they subset
    include_path: list[
        str
    ] = []  # task folders (--include-path) with the columns' tasks; relative to the board

    def family(self, task: str) -> str:
        return TASKS[self.subsets.get(task, task)].family


def board_names(boards_dir: Path) -> list[str]:
    """The boards under ``boards_dir``: the folders holding a board.yaml."""
    return sorted(p.parent.name for p in Path(boards_dir).glob("*/board.yaml"))


def resolve_board(board: str, boards_dir: Path) -> Path:
    """``board`` as a path (a board folder or board.yaml) or a board name under ``boards_dir``.

    Anything else is refused in one line that lists the boards that exist (and the closest name).
    """
    path = Path(board)
    if path.exists() or "/" in board:
        return path
    named = Path(boards_dir) / board
    if (named / "board.yaml").is_file():
        return named
    names = board_names(boards_dir)
    close = difflib.get_close_matches(board, names, n=1)
    raise SpecError(
        f"{board}: not a board (no {named / 'board.yaml'}); "
        + (f"did you mean {close[0]}? " if close else "")
        + (
            f"boards in {boards_dir}/: {', '.join(names)}"
            if names
            else f"{boards_dir}/ has no boards (folders with a board.yaml); give a board folder or --boards-dir"
        )
    )


def load_board(path: Path) -> tuple[BoardSpec, Path]:
    """``path`` is a board folder or its board.yaml; errors name the file and the key."""
    if path.is_file() and path.name != "board.yaml":
        raise SpecError(f"{path}: not a board (a board is a folder with a board.yaml, or that file)")
    folder = path.parent if path.name == "board.yaml" and not path.is_dir() else path
    f = folder / "board.yaml"
    if not f.is_file():
        raise SpecError(f"{f}: not a board (no board.yaml there)")
    try:
        raw = yaml.safe_load(f.read_text(encoding="utf-8"))
        board = BoardSpec.model_validate(raw)
    except UnicodeDecodeError as e:
        raise SpecError(f"{f}: not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    except yaml.YAMLError as e:
        raise SpecError(f"{f}: invalid YAML ({e})") from e
    except ValidationError as e:
        raise SpecError(f"{f}: {validation_message(e)}") from None
    get_protocol(board.protocol)
    if board.include_path:  # register the task folders before the columns are checked
        from harness.core.task_folders import include_path

        try:
            include_path([folder / d for d in board.include_path], source="include_path")
        except SpecError as e:
            raise SpecError(f"{f}: include_path: {e}") from None
    unknown = [
        c
        for c in board.columns + ([board.skills_task] if board.skills_task else [])
        if c not in TASKS and c not in board.subsets
    ]
    if unknown:
        raise SpecError(f"{f}: columns: unknown task(s) {', '.join(unknown)}")
    if board.skills_task and board.skills_task not in board.columns:
        raise SpecError(f"{f}: skills_task '{board.skills_task}' must also be one of the board's columns")
    ids = [r.id for g in board.groups for r in g.rows]
    if len(set(ids)) != len(ids):
        raise SpecError(f"{f}: row ids must be unique")
    if board.base and board.base not in ids:
        raise SpecError(f"{f}: base: '{board.base}' is not a row id ({', '.join(ids)})")
    return board, folder
