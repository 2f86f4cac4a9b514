"""Leaderboards: ``statbench leaderboard BOARD`` -> README.md, table.csv, index.html (byte-stable).

A board is ``leaderboards/<board>/board.yaml``: rows (grouped, e.g. SFT / SFT+GRPO) select runs from the
index by model glob, labels and seeds; columns are tasks; one protocol. A cell pools the matching runs
(one per seed, the latest) per problem, and its 95 % CI is a bootstrap over problems (for avg@k the
problem's mean over its samples is resampled, never single samples). A row missing a run or a task is an
explicit gap, never a zero. The paper's reported numbers can be shown as separate, marked rows; they
never enter computed averages.

A cell pools only runs made with the same settings (protocol, generation config, task data, checker: the
comparison ``statbench regress`` makes, in :mod:`harness.reporting.compat`, plus the same k); otherwise the
board is refused, naming the runs and what differs. The CI is over problems only; beside it each cell keeps
its per-seed values, so the between-seed spread (range, SD) is reported next to it.
"""

from __future__ import annotations

import csv
import difflib
import fnmatch
import io
import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core import stats
from harness.core.errors import SpecError, validation_message
from harness.core.protocols import get_protocol
from harness.core.tasks import TASKS, read_bundled
from harness.records.intervals import edge_interval
from harness.records.models import ResolvedSpec
from harness.records.scores import per_problem_scores
from harness.records.store import RunIndex, read_run
from harness.reporting.compat import differences, effective_spec


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
        from harness.core.tasks import include_path

        try:
            include_path([folder / d for d in board.include_path])
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


@dataclass
class Cell:
    """One row × task cell: value, CI, n, k, seeds, the runs it pooled and its per-problem scores.

    ``seed_values`` holds each pooled run's own mean on the cell's problems (one per seed), so the
    between-seed spread can be shown beside the CI over problems; ``settings`` is what the runs used.
    """

    row: str
    task: str
    value: float | None = None
    ci: tuple[float, float] | None = None
    n: int = 0
    k: int = 0
    seeds: int = 0
    runs: list[str] = field(default_factory=list)
    per_problem: dict[str, float] = field(default_factory=dict)
    delta: float | None = None
    delta_ci: tuple[float, float] | None = None
    seed_keys: list[str] = field(default_factory=list)
    seed_values: list[float] = field(default_factory=list)
    settings: dict[str, Any] | None = None

    @property
    def seed_spread(self) -> tuple[float, float, float] | None:
        """(min, max, SD) of the per-seed values when the cell pools two or more seeds, else None."""
        if len(self.seed_values) < 2:
            return None
        v = np.array(self.seed_values)
        return float(v.min()), float(v.max()), float(v.std(ddof=1))

    ci_method: str = "bootstrap"  # or "wilson" at the edges (harness.records.intervals)


def _select(row: RowSpec, runs: list[dict[str, Any]], protocol: str) -> list[dict[str, Any]]:
    if row.runs:
        return [r for r in runs if r["run_id"] in row.runs]
    chosen: dict[Any, dict[str, Any]] = {}
    for r in runs:  # ordered by creation: later runs of the same seed replace earlier ones
        if r["protocol"] != protocol or r["kind"] not in ("eval", "rescore"):
            continue
        if row.model and not fnmatch.fnmatch(r["model"] or "", row.model):
            continue
        if any(r["labels"].get(k) != v for k, v in row.labels.items()):
            continue
        if row.seeds is not None and r["seed"] not in row.seeds:
            continue
        chosen[r["seed"]] = r
    return [chosen[s] for s in sorted(chosen, key=lambda s: (s is None, s))]


def settings_of(spec: ResolvedSpec, task: str) -> dict[str, Any]:
    """The generation settings a run actually used for ``task``, read from its record (spec.json)."""
    spec = effective_spec(spec)
    cfg = (spec.tasks or {}).get(task) or {}
    gen = cfg.get("generation_kwargs")
    return {
        "protocol": spec.protocol,
        "k": cfg.get("repeats"),
        "temperature": None if gen is None else gen.get("temperature", 0.0),
        "top_p": None if gen is None else gen.get("top_p"),
        "max_new_tokens": None if gen is None else gen.get("max_gen_toks"),
        "chat_template": spec.chat_template.mode if spec.chat_template else None,
    }


@dataclass
class Board:
    """A built board: its spec, cells, row averages, the paper's reported rows and the skill view."""

    spec: BoardSpec
    folder: Path
    cells: dict[tuple[str, str], Cell]
    avg: dict[
        str, tuple[float | None, tuple[float, float] | None, float | None]
    ]  # row -> (avg, ci, delta avg)
    reported: list[dict[str, Any]]
    skills: dict[str, Any] | None
    avg_seeds: dict[str, list[float]] = field(default_factory=dict)  # row -> per-seed row averages
    avg_delta_ci: dict[str, tuple[float, float]] = field(default_factory=dict)  # row -> CI of Δ Avg


def _pool(folder: Path, row: RowSpec, task: str, selected: list, metric: str) -> Cell:
    """One cell from the row's runs; runs whose settings or k differ are refused, naming both."""
    cell = Cell(row.id, task)
    vectors, first = [], None
    for r, rec in selected:
        if task not in rec.results:
            continue
        vec, k = per_problem_scores(Path(r["path"]), task, metric)
        if first is None:
            first = (r["run_id"], rec.spec, k)
        else:
            diffs = differences(first[1], rec.spec, [task], (first[0], r["run_id"]))
            if k != first[2]:
                diffs.append(f"samples per problem (k): {first[0]} {first[2]} vs {r['run_id']} {k}")
            if diffs:
                raise SpecError(
                    f"{folder / 'board.yaml'}: row '{row.id}' ({row.label}), {task}: runs {first[0]} and "
                    f"{r['run_id']} were made with different settings ({'; '.join(diffs)}); a cell pools only "
                    "runs made alike: narrow the row (seeds: or runs:) or re-run one of them"
                )
        vectors.append(vec)
        cell.runs.append(r["run_id"])
        cell.seed_keys.append(str(r["seed"]) if r["seed"] is not None else r["run_id"])
        cell.k = k
    if vectors:
        common = sorted(set.intersection(*(set(v) for v in vectors)))
        cell.per_problem = {d: float(np.mean([v[d] for v in vectors])) for d in common}
        x = np.array([cell.per_problem[d] for d in common])
        cell.value, cell.n, cell.seeds = float(x.mean()), len(x), len(vectors)
        cell.ci = stats.ci(x, seed=stats.seed_of(row.id, task))
        if edge := edge_interval(x):  # k = 1 near 0/100 %: the bootstrap collapses there
            cell.ci, cell.ci_method = edge
        cell.seed_values = [float(np.mean([v[d] for d in common])) if common else 0.0 for v in vectors]
        cell.settings = {**settings_of(first[1], task), "k": cell.k}  # k as sampled, not as configured
    return cell


def build_board(spec: BoardSpec, folder: Path, runs_dir: Path) -> Board:
    """Fill every cell of ``spec`` from the run records in ``runs_dir`` (gaps stay empty, never zero)."""
    runs = RunIndex(runs_dir).runs() if Path(runs_dir).is_dir() else []
    protocol = get_protocol(spec.protocol)
    rows = [r for g in spec.groups for r in g.rows]
    cells: dict[tuple[str, str], Cell] = {}
    for row in rows:
        selected = [(r, read_run(Path(r["path"]))) for r in _select(row, runs, spec.protocol)]
        for task in spec.columns:
            metric = protocol.sampling(spec.family(task)).primary_metric
            cells[(row.id, task)] = _pool(folder, row, task, selected, metric)
    diffs: dict[str, list[np.ndarray]] = {}  # row -> its paired per-problem differences, per column
    if spec.base:
        for row in rows:
            for task in spec.columns:
                c, b = cells[(row.id, task)], cells[(spec.base, task)]
                common = sorted(set(c.per_problem) & set(b.per_problem))
                if row.id != spec.base and common:
                    d = np.array([c.per_problem[p] - b.per_problem[p] for p in common])
                    diffs.setdefault(row.id, []).append(d)
                    c.delta, c.delta_ci = (
                        float(d.mean()),
                        stats.ci(d, seed=stats.seed_of("delta", row.id, task)),
                    )
    means = {row.id: _row_average(spec, cells, row.id) for row in rows}
    base = means[spec.base] if spec.base else None
    avg = {
        r: (None, None, None) if m is None else (*m, m[0] - base[0] if base and r != spec.base else None)
        for r, m in means.items()
    }
    avg_seeds = {row.id: _row_seed_averages(spec, cells, row.id) for row in rows}
    avg_delta_ci = {
        r: stats.percentile_ci(
            np.mean(
                [
                    stats.bootstrap_means(d, seed=stats.seed_of("delta-avg", r, t))
                    for t, d in zip(spec.columns, ds, strict=True)
                ],
                axis=0,
            )
        )
        for r, ds in diffs.items()
        if len(ds) == len(spec.columns) and avg[r][2] is not None
    }
    return Board(
        spec, folder, cells, avg, _reported(spec), _skills(spec, rows, cells), avg_seeds, avg_delta_ci
    )


def _row_seed_averages(spec: BoardSpec, cells: dict, row: str) -> list[float]:
    """Per seed, the row's mean over the columns (for the seeds every column has; empty when under two)."""
    cs = [cells[(row, t)] for t in spec.columns]
    if any(c.value is None for c in cs):
        return []
    keys = [k for k in cs[0].seed_keys if all(k in c.seed_keys for c in cs)]
    if len(keys) < 2:
        return []
    return [float(np.mean([c.seed_values[c.seed_keys.index(k)] for c in cs])) for k in keys]


def _row_average(spec: BoardSpec, cells: dict, row: str) -> tuple[float, tuple[float, float]] | None:
    """The row's mean over the columns and its bootstrap CI; None if any column is a gap."""
    cs = [cells[(row, t)] for t in spec.columns]
    if any(c.value is None for c in cs):
        return None
    reps = np.mean(
        [
            stats.bootstrap_means(
                np.array(list(c.per_problem.values())), seed=stats.seed_of("avg", row, c.task)
            )
            for c in cs
        ],
        axis=0,
    )
    return float(np.mean([c.value for c in cs])), stats.percentile_ci(reps)


def _reported(spec: BoardSpec) -> list[dict[str, Any]]:
    if not spec.reference_model:
        return []
    rows = list(csv.DictReader(io.StringIO(read_bundled("stat_paper_results"))))
    out = []
    for r in rows:
        if r["model"] != spec.reference_model:
            continue
        vals = {
            t: float(r[TASKS[t].paper_column]) / 100
            for t in spec.columns
            if TASKS.get(t) and TASKS[t].paper_column
        }
        out.append({"stage": r["stage"], "method": r["method"], "values": vals, "avg": float(r["avg"]) / 100})
    if not out:
        raise SpecError(
            f"reference_model '{spec.reference_model}' is not in the paper's results "
            f"({', '.join(sorted({r['model'] for r in rows}))})"
        )
    return out


def skill_names() -> dict[str, str]:
    """AdaptMI skill id -> the paper's display name (stat_paper_skill_list.json)."""
    data = json.loads(read_bundled("stat_paper_skill_list"))
    return {s["adaptmi_prompt_name"]: s["paper_name"] for subj in data["subjects"].values() for s in subj}


def _skills(spec: BoardSpec, rows: list[RowSpec], cells: dict) -> dict[str, Any] | None:
    task = spec.skills_task
    if not task:
        return None
    from harness.core.tasks import task_docs

    labels = {str(d["id"]): d.get("skills") or [] for d in task_docs(task)}
    names = skill_names()
    acc: dict[str, dict[str, tuple[float, int]]] = {}
    fails: dict[str, dict[str, int]] = {}
    for row in rows:
        by_skill: dict[str, list[float]] = {}
        for doc, v in cells[(row.id, task)].per_problem.items():
            for s in labels.get(doc, []):
                by_skill.setdefault(s, []).append(v)
        acc[row.id] = {s: (float(np.mean(v)), len(v)) for s, v in by_skill.items()}
        fails[row.id] = {s: int(sum(x < 0.5 for x in v)) for s, v in by_skill.items()}
    skills = sorted(
        {s for a in acc.values() for s in a},
        key=lambda s: (-max(a.get(s, (0, 0))[1] for a in acc.values()), s),
    )
    return {
        "task": task,
        "skills": skills,
        "names": {s: names.get(s, s.replace("_", " ")) for s in skills},
        "accuracy": acc,
        "failures": fails,
    }


def _points(x: float) -> float:
    return round(100 * x, 1) + 0.0  # + 0.0: -0.0 becomes 0.0, so no table shows "-0.0"


def pct(x: float | None) -> str:
    """A fraction as a percentage with one decimal (an em dash for None); never ``-0.0``."""
    return "—" if x is None else f"{_points(x):.1f}"


def signed_pct(x: float | None) -> str:
    """A difference in points with its sign (``+2.0``, ``-1.5``); a rounded zero is ``0.0``, never ``-0.0``."""
    if x is None:
        return "—"
    v = _points(x)
    return "0.0" if v == 0 else f"{v:+.1f}"


def md(text: str) -> str:
    """User text (titles, labels, group names) made safe for one markdown table cell or heading line.

    HTML is escaped (GitHub renders inline HTML), ``|`` and ``\\`` are backslash-escaped and line
    breaks become spaces, so no label can add, drop or split a table cell.
    """
    out = escape(" ".join(str(text).splitlines()), quote=False)
    return out.replace("\\", "\\\\").replace("|", "\\|")


def fmt(x: float | None) -> str:
    """A fraction with six decimals for table.csv (blank for None)."""
    return "" if x is None else f"{x:.6f}"


def _or_blank(x: Any) -> str:
    return "" if x is None else str(x)


def to_csv(board: Board) -> str:
    """The board as table.csv: one line per cell (and per reported value), with CIs, deltas and runs."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            "group",
            "row",
            "label",
            "task",
            "value",
            "ci_low",
            "ci_high",
            "delta_vs_base",
            "delta_ci_low",
            "delta_ci_high",
            "n",
            "k",
            "seeds",
            "seed_values",
            "seed_sd",
            "seed_min",
            "seed_max",
            "max_new_tokens",
            "temperature",
            "runs",
            "status",
        ]
    )
    for g in board.spec.groups:
        for r in g.rows:
            for t in board.spec.columns:
                c = board.cells[(r.id, t)]
                spread = c.seed_spread
                w.writerow(
                    [
                        g.name,
                        r.id,
                        r.label,
                        t,
                        fmt(c.value),
                        fmt(c.ci and c.ci[0]),
                        fmt(c.ci and c.ci[1]),
                        fmt(c.delta),
                        fmt(c.delta_ci and c.delta_ci[0]),
                        fmt(c.delta_ci and c.delta_ci[1]),
                        c.n,
                        c.k,
                        c.seeds,
                        ";".join(fmt(v) for v in c.seed_values),
                        *(
                            ("", "", "")
                            if spread is None
                            else (fmt(spread[2]), fmt(spread[0]), fmt(spread[1]))
                        ),
                        "" if c.settings is None else _or_blank(c.settings["max_new_tokens"]),
                        "" if c.settings is None else _or_blank(c.settings["temperature"]),
                        ";".join(c.runs),
                        "ok" if c.value is not None else "no run",
                    ]
                )
    for rep in board.reported:
        for t in board.spec.columns:
            v = rep["values"].get(t)
            w.writerow(
                [
                    f"reported: {rep['stage']}",
                    "",
                    rep["method"],
                    t,
                    fmt(v),
                    *[""] * 15,
                    "reported" if v is not None else "not reported",
                ]
            )
    return out.getvalue()
