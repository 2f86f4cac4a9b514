"""``statbench demo`` (what ``make demo`` runs): the STAT recipe in the skill world, end to end on a CPU.

Base, uniform SFT, STAT-Sel, STAT-Syn, GRPO and STAT-Sel+GRPO go through the real pipeline
(``examples/skillworld.yaml`` -> ``statbench run``) and the evaluation runner; the result is the
experiment's leaderboard (markdown + HTML with the per-skill heatmap and the failures-per-skill view) plus
``demo_summary.md``: per arm, mean ± sd over seeds of overall accuracy and of accuracy on the weak skills.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from harness.recipe.methods import METHODS
from harness.records.store import iter_samples

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "skillworld.yaml"
ARMS = [
    ("base", "sft"),
    ("uniform", "sft"),
    ("stat-sel", "sft"),
    ("stat-syn", "sft"),
    ("base", "grpo"),
    ("stat-sel", "grpo"),
    ("uniform", "grpo"),
    ("stat-syn", "grpo"),
]


def arm_label(method: str, stage: str) -> str:
    """The demo's arm name: the method's short label, "+ GRPO" after GRPO ("GRPO" alone from the base)."""
    short = METHODS[method].short
    return short if stage == "sft" else "GRPO" if method == "base" else f"{short} + GRPO"


ARM_LABELS = {arm: arm_label(*arm) for arm in ARMS}


def load_spec(seeds: list[int] | None = None):
    """The demo's experiment spec (examples/skillworld.yaml), optionally with other seeds."""
    from harness.recipe.experiment import load_experiment

    return load_experiment(EXAMPLE, {"seeds": seeds} if seeds is not None else None)


def skill_accuracy(run_dir: Path, task: str, skills: dict[str, list[str]]) -> dict[str, float]:
    """Accuracy over all problems that use each skill (composites count for both), plus overall; ``skills``: id -> skills."""
    from harness.skillworld.world import SKILLS

    hits: dict[str, list[int]] = {s: [] for s in SKILLS}
    overall = []
    for r in iter_samples(run_dir, task):
        overall.append(int(bool(r.correct)))
        for s in skills[str(r.id)]:
            hits[s].append(int(bool(r.correct)))
    return {"overall": sum(overall) / len(overall), **{s: sum(v) / len(v) for s, v in hits.items() if v}}


def summarize(workdir: Path, spec) -> tuple[list[dict[str, Any]], str]:
    """Per arm: mean ± sd over seeds, overall and on the weak skills; and the markdown table."""
    from harness.core.tasks import task_docs
    from harness.skillworld.world import SKILLS, WEAK

    rec = json.loads((workdir / "experiment.json").read_text())
    task = spec.data.test_task
    skills = {str(d["id"]): d["skills"] for d in task_docs(task)}
    per_arm: dict[tuple[str, str], list[dict[str, float]]] = {}
    for st in rec["stages"]:
        parts = st["stage"].split("/")
        if parts[0] != "eval" or not st["summary"]:
            continue
        run = workdir / "runs" / st["summary"]["run"]
        acc = skill_accuracy(run, task, skills)
        acc["weak"] = statistics.mean(acc[s] for s in WEAK)
        per_arm.setdefault((parts[1], parts[2]), []).append(acc)
    rows = []
    for key in ARM_LABELS:
        if key not in per_arm:
            continue
        accs = per_arm[key]
        row = {"arm": ARM_LABELS[key], "seeds": len(accs)}
        for k in ("overall", "weak", *SKILLS):
            vals = [a[k] for a in accs]
            row[k] = (statistics.mean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0)
        rows.append(row)
    head = ["arm", "seeds", "overall", "weak (mul, mod, conv)", *SKILLS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [f"{100 * r[k][0]:.1f} ± {100 * r[k][1]:.1f}" for k in ("overall", "weak", *SKILLS)]
        lines.append(f"| {r['arm']} | {r['seeds']} | " + " | ".join(cells) + " |")
    return rows, "\n".join(lines)


def grpo_notes(workdir: Path) -> list[str]:
    """One note per GRPO stage of the demo whose groups had no (or little) reward variance, hence little or no learning signal."""
    rec = json.loads((workdir / "experiment.json").read_text())
    notes = []
    for st in rec["stages"]:
        summ = st["summary"] or {}
        if not st["stage"].startswith("grpo/"):
            continue
        if summ.get("no_signal"):
            notes.append(
                f"{st['stage']}: every GRPO group got identical rewards (all right or all wrong): "
                "no learning signal, the arm equals its starting model"
            )
        elif summ.get("frac_reward_zero_std_mean") is not None:
            notes.append(
                f"{st['stage']}: {100 * summ['frac_reward_zero_std_mean']:.0f}% of GRPO groups had no reward "
                f"variance (no gradient) over {summ['steps']} steps"
            )
    return notes
