"""Leaderboards: ``statbench leaderboard BOARD`` -> README.md, table.csv, index.html (byte-stable).

A built board fills each row × column cell from the run index (the board file is read by
:mod:`harness.reporting.board_spec`). A cell pools the matching runs
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
import fnmatch
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import stats
from harness.core.errors import SpecError
from harness.core.protocols import get_protocol
from harness.core.tasks import TASKS, read_bundled
from harness.records.intervals import edge_interval
from harness.records.models import ResolvedSpec
from harness.records.scores import per_problem_scores
from harness.records.store import RunIndex, read_run
from harness.reporting.board_spec import BoardSpec, RowSpec
from harness.reporting.compat import differences, effective_spec


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
