"""``statbench demo`` (what ``make demo`` runs): the STAT recipe in the skill world, end to end on a CPU.

Base, Uniform SFT, Embed-Sel, STAT-Sel, STAT-Syn, GRPO, STAT-Sel -> GRPO and STAT-Syn -> GRPO go through
the real pipeline (``examples/skillworld.yaml`` -> ``statbench run``) once per data seed (the seed the
training sets and the GRPO questions are drawn with), each with every SFT/GRPO seed; one grid cell is a
(data seed, SFT seed) pair. The result: per data seed, the experiment's leaderboard (markdown + HTML with
the per-skill heatmap and the failures-per-skill view), and ``demo_summary.md``: per arm, the mean over
cells of overall accuracy, of accuracy on the weak skills and on the weak skills per template, and each
arm's paired difference from Uniform SFT (same cell) with a 95 % t interval over the cells; for the GRPO
arms, the share of rollout groups that had reward signal.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.recipe.methods import METHODS
from harness.records.store import iter_samples

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "skillworld.yaml"
ARMS = [
    ("base", "sft"),
    ("uniform", "sft"),
    ("embed-sel", "sft"),
    ("stat-sel", "sft"),
    ("stat-syn", "sft"),
    ("base", "grpo"),
    ("stat-sel", "grpo"),
    ("stat-syn", "grpo"),
]
REFERENCE = ("uniform", "sft")  # every arm's paired difference is taken against this one
# the grid: `make demo` runs DATA_SEEDS x SEEDS; `statbench demo --full` runs FULL_DATA_SEEDS x FULL_SEEDS
DATA_SEEDS = [0, 1, 2]
SEEDS = [0]
FULL_DATA_SEEDS = [0, 1, 2, 3]
FULL_SEEDS = [0, 1, 2]


def arm_label(method: str, stage: str) -> str:
    """The demo's arm name: the method's short label, "→ GRPO" after GRPO ("GRPO" alone from the base)."""
    short = METHODS[method].short
    return short if stage == "sft" else "GRPO" if method == "base" else f"{short} → GRPO"


ARM_LABELS = {arm: arm_label(*arm) for arm in ARMS}


def load_spec(seeds: list[int] | None = None, data_seed: int | None = None):
    """The demo's experiment spec (examples/skillworld.yaml), optionally with other seeds / data seed."""
    from harness.recipe.experiment import load_experiment

    over: dict[str, Any] = {}
    if seeds is not None:
        over["seeds"] = seeds
    if data_seed is not None:
        over["data_seed"] = data_seed
    return load_experiment(EXAMPLE, over or None)


def cell_dir(workdir: Path, data_seed: int) -> Path:
    """The workdir of one data seed's pipeline run (its stages, runs, experiment.json and board)."""
    return Path(workdir) / f"data-seed-{data_seed}"


def accuracy(run_dir: Path, task: str, docs: dict[str, dict]) -> dict[str, float]:
    """Accuracy overall, per skill (composites count for both), on the weak skills (mean of the three)
    and on the weak skills per template (``weak@0`` ...); ``docs``: id -> test document."""
    from harness.skillworld.world import SKILLS, TEMPLATES, WEAK

    hits: dict[str, list[int]] = {}
    for r in iter_samples(run_dir, task):
        d, ok = docs[str(r.id)], int(bool(r.correct))
        hits.setdefault("overall", []).append(ok)
        for s in d["skills"]:
            hits.setdefault(s, []).append(ok)
            if s in WEAK:
                hits.setdefault(f"{s}@{d['template']}", []).append(ok)
    acc = {k: sum(v) / len(v) for k, v in hits.items()}
    acc["weak"] = statistics.mean(acc.get(s, 0.0) for s in WEAK)
    for k in range(TEMPLATES):
        acc[f"weak@{k}"] = statistics.mean(acc.get(f"{s}@{k}", 0.0) for s in WEAK)
    keys = ("overall", "weak", *(f"weak@{k}" for k in range(TEMPLATES)), *SKILLS)
    return {k: acc.get(k, float("nan")) for k in keys}  # nan: no test problem uses it (eval.limit)


def paired_ci(diffs: list[float], level: float = 0.95) -> tuple[float, float, float] | None:
    """Mean of paired differences and its t interval over the cells; None below two cells."""
    if len(diffs) < 2:
        return None
    from scipy import stats

    m, se = statistics.mean(diffs), statistics.stdev(diffs) / len(diffs) ** 0.5
    h = stats.t.ppf(0.5 + level / 2, len(diffs) - 1) * se
    return m, m - h, m + h


@dataclass
class Summary:
    """The demo's results: per arm, per cell (data seed, seed), the accuracies; GRPO signal shares."""

    cells: dict[tuple[str, str], dict[tuple[int, int], dict[str, float]]] = field(default_factory=dict)
    signal: dict[tuple[str, str], dict[tuple[int, int], float]] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)


def collect(workdir: Path, data_seeds: list[int], spec, seeds: list[int] | None = None) -> Summary:
    """Every cell's accuracies and every GRPO stage's share of groups with reward signal (cells of ``seeds``
    only, when given)."""
    from harness.core.tasks import task_docs
    from harness.skillworld.world import parse

    task = spec.data.test_task
    # the task folder's documents carry id, problem, answer and skills; the template is read off the problem
    docs = {str(d["id"]): {**d, "template": parse(d["problem"])[1]} for d in task_docs(task)}
    out = Summary()
    for ds in data_seeds:
        wd = cell_dir(workdir, ds)
        rec = json.loads((wd / "experiment.json").read_text())
        for st in rec["stages"]:
            parts, summ = st["stage"].split("/"), st["summary"] or {}
            if parts[0] == "eval" and summ:
                seed = int(parts[3].lstrip("s"))
                if seeds is not None and seed not in seeds:
                    continue
                out.cells.setdefault((parts[1], parts[2]), {})[(ds, seed)] = accuracy(
                    wd / "runs" / summ["run"], task, docs
                )
            elif parts[0] == "grpo" and summ.get("frac_reward_zero_std_mean") is not None:
                seed = int(parts[2].lstrip("s"))
                if seeds is not None and seed not in seeds:
                    continue
                out.signal.setdefault((parts[1], "grpo"), {})[(ds, seed)] = (
                    1 - summ["frac_reward_zero_std_mean"]
                )
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _diff(ci: tuple[float, float, float] | None, d: list[float]) -> str:
    if ci is None:
        return f"{100 * d[0]:+.1f}" if d else "—"
    m, lo, hi = ci
    return f"{100 * m:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]"


def summarize(
    workdir: Path, data_seeds: list[int], spec, seeds: list[int] | None = None
) -> tuple[Summary, str]:
    """The demo table: per arm, cell means and the paired differences from Uniform SFT with 95 % CIs."""
    from harness.skillworld.world import SKILLS

    s = collect(workdir, data_seeds, spec, seeds)
    ref = s.cells.get(REFERENCE, {})
    head = [
        "arm",
        "cells",
        "overall",
        "weak",
        "weak, symbolic",
        "weak, words 1",
        "weak, words 2",
        "Δ overall vs Uniform [95% CI]",
        "Δ weak vs Uniform [95% CI]",
        "groups with signal",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    skill_lines = ["| arm | " + " | ".join(SKILLS) + " |", "|" + "---|" * (len(SKILLS) + 1)]
    for arm in ARMS:
        cells = s.cells.get(arm)
        if not cells:
            continue
        keys = sorted(cells)
        mean = {k: statistics.mean(cells[c][k] for c in keys) for k in cells[keys[0]]}
        row: dict[str, Any] = {"arm": ARM_LABELS[arm], "cells": len(keys), "mean": mean}
        for metric in ("overall", "weak"):
            d = [cells[c][metric] - ref[c][metric] for c in keys if c in ref] if arm != REFERENCE else []
            row[f"diff_{metric}"] = d
            row[f"ci_{metric}"] = paired_ci(d)
        sig = s.signal.get(arm)
        row["signal"] = statistics.mean(sig.values()) if sig else None
        s.rows.append(row)
        is_ref = arm == REFERENCE
        cellsv = [
            row["arm"],
            str(len(keys)),
            *(_pct(mean[k]) for k in ("overall", "weak", "weak@0", "weak@1", "weak@2")),
            "(reference)" if is_ref else _diff(row["ci_overall"], row["diff_overall"]),
            "(reference)" if is_ref else _diff(row["ci_weak"], row["diff_weak"]),
            f"{100 * row['signal']:.0f} %" if row["signal"] is not None else "",
        ]
        lines.append("| " + " | ".join(cellsv) + " |")
        skill_lines.append(f"| {row['arm']} | " + " | ".join(_pct(mean[k]) for k in SKILLS) + " |")
    return s, "\n".join(lines) + "\n\nPer skill (mean over cells, %):\n\n" + "\n".join(skill_lines)


def selection_notes(workdir: Path, data_seeds: list[int]) -> list[str]:
    """Per data seed and SFT arm, where its non-replay pairs went: the top problem types, and the pairs on
    weak-skill problems per template."""
    from harness.skillworld.world import TEMPLATES, TYPES, WEAK, parse

    notes = []
    for ds in data_seeds:
        wd = cell_dir(workdir, ds)
        rec = json.loads((wd / "experiment.json").read_text())
        for st in rec["stages"]:
            if not st["stage"].startswith("dataset/"):
                continue
            path = Path(st["dir"]) / "train.jsonl"
            if not path.is_file():
                continue
            types: dict[str, int] = {}
            weak = [0] * TEMPLATES
            for line in path.read_text().splitlines():
                r = json.loads(line)
                if r["source"] == "replay":
                    continue
                t, k, _ = parse(r["problem"]) or ("other", 0, 0)
                types[t] = types.get(t, 0) + 1
                if t in TYPES and set(TYPES[t].skills) & set(WEAK):
                    weak[k] += 1
            top = ", ".join(f"{k} {v}" for k, v in sorted(types.items(), key=lambda kv: -kv[1])[:5])
            notes.append(
                f"data seed {ds}, {st['stage']}: {top}; weak-skill pairs by template {'/'.join(map(str, weak))}"
            )
    return notes
