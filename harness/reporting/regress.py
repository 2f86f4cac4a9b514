"""The regression gate: ``statbench regress --baseline RUN --candidate RUN`` (or ``--reference FILE``).

Per task, problems are paired by id. pass@1 (one sample per problem in both runs) uses the exact
McNemar test on the discordant problems; anything sampled (avg@k, pass@k) uses a paired bootstrap over
problems of the per-problem score. A task **regresses** when the candidate is significantly worse
(one-sided p < alpha) *and* the drop exceeds the margin; it **improves** symmetrically; otherwise it
passes. Runs made under different protocols, task data or checker versions are refused unless
``--allow-mismatch`` is given, naming the field that differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import yaml

from harness.core import stats
from harness.core.errors import SpecError
from harness.records.models import ResolvedSpec
from harness.records.scores import per_problem_scores
from harness.records.store import read_run


@dataclass
class TaskVerdict:
    """The gate's verdict on one task: values, delta, CI, p-values, the test used and notes."""

    task: str
    label: str
    verdict: str  # pass | regression | improvement
    test: str
    n: int
    baseline: float | None
    candidate: float
    delta: float | None = None
    ci: tuple[float, float] | None = None
    p_worse: float | None = None
    p_better: float | None = None
    note: str = ""


def decide(
    base: np.ndarray, cand: np.ndarray, binary: bool, margin: float, alpha: float, seed: int = 0
) -> tuple[str, stats.PairedResult]:
    """Verdict for paired per-problem scores; ``margin`` in fraction units (0.01 = one point)."""
    res = (
        stats.mcnemar_exact(base, cand, seed=seed)
        if binary
        else stats.paired_bootstrap(base, cand, seed=seed)
    )
    if res.p_worse < alpha and res.delta < -margin:
        return "regression", res
    if res.p_better < alpha and res.delta > margin:
        return "improvement", res
    return "pass", res


def _identity(spec: ResolvedSpec, generation: Any) -> dict[str, Any]:
    return {
        "protocol": spec.protocol,
        "generation config": generation,
        "task data hashes": spec.data_sha256,
        "checker version": spec.versions.get("checker"),
    }


def check_comparable(base: ResolvedSpec, cand: ResolvedSpec, tasks: list[str]) -> list[str]:
    """Human-readable list of fields that differ between the two runs. Protocol, task data and checker are
    run-wide; of the per-task generation configs, the first that differs is named."""
    gens = ((base.generation(t), cand.generation(t)) for t in tasks)
    ga, gb = next(((x, y) for x, y in gens if x != y), (None, None))
    a, b = _identity(base, ga), _identity(cand, gb)
    diffs = []
    for field, va in a.items():
        vb = b[field]
        if field == "task data hashes" and isinstance(va, dict) and isinstance(vb, dict):
            changed = [k for k in sorted(set(va) & set(vb)) if va[k] != vb[k]]
            if changed:
                diffs.append(f"{', '.join(tasks)}: {field} differ ({', '.join(changed)})")
        elif va != vb:
            diffs.append(f"{field}: baseline {va!r} vs candidate {vb!r}")
    return diffs


def compare_runs(
    baseline: Path,
    candidate: Path,
    tasks: list[str] | None = None,
    margin: float = 1.0,
    alpha: float = 0.05,
    allow_mismatch: bool = False,
) -> list[TaskVerdict]:
    """Per common task (or ``tasks``), the paired test of candidate against baseline and its verdict."""
    b_rec, c_rec = read_run(baseline), read_run(candidate)
    common = [t for t in c_rec.results if t in b_rec.results]
    if tasks:
        missing = [t for t in tasks if t not in common]
        if missing:
            raise SpecError(
                f"task(s) {', '.join(missing)} not in both runs (common: {', '.join(common) or 'none'})"
            )
        common = tasks
    if not common:
        raise SpecError(f"{baseline.name} and {candidate.name} share no task")
    diffs = check_comparable(b_rec.spec, c_rec.spec, common)
    if diffs and not allow_mismatch:
        raise SpecError(
            "runs are not comparable (use --allow-mismatch to compare anyway): " + "; ".join(diffs)
        )
    out = []
    for task in common:
        res = c_rec.results[task]
        metric = res.metric
        bv, bk = per_problem_scores(baseline, task, metric)
        cv, ck = per_problem_scores(candidate, task, metric)
        ids = sorted(set(bv) & set(cv))
        if not ids:
            raise SpecError(f"{task}: the runs share no problem ids")
        b, c = np.array([bv[i] for i in ids]), np.array([cv[i] for i in ids])
        binary = bk == 1 and ck == 1
        verdict, r = decide(b, c, binary, margin / 100, alpha)
        note = (
            ""
            if len(ids) == len(bv) == len(cv)
            else f"paired on {len(ids)} common problems (baseline {len(bv)}, candidate {len(cv)})"
        )
        if diffs:
            note = (note + "; " if note else "") + "compared despite: " + "; ".join(diffs)
        out.append(
            TaskVerdict(
                task,
                res.label,
                verdict,
                r.test,
                len(ids),
                float(b.mean()),
                float(c.mean()),
                r.delta,
                r.ci,
                r.p_worse,
                r.p_better,
                note,
            )
        )
    return out


def compare_reference(
    candidate: Path, reference_file: Path, tasks: list[str] | None = None, allow_mismatch: bool = False
) -> list[TaskVerdict]:
    """Gate a run against pinned scores: ``{protocol: ..., tasks: {task: {value: 45.0, tolerance: 2.0}}}`` (points)."""
    try:
        ref = yaml.safe_load(reference_file.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise SpecError(f"{reference_file}: cannot read reference scores ({e})") from e
    if not isinstance(ref, dict) or not isinstance(ref.get("tasks"), dict):
        raise SpecError(
            f"{reference_file}: expected a mapping with a 'tasks' key: {{task: {{value, tolerance}}}}"
        )
    rec = read_run(candidate)
    proto, checker = rec.spec.protocol, rec.spec.versions.get("checker")
    if ref.get("protocol") and ref["protocol"] != proto and not allow_mismatch:
        raise SpecError(
            f"protocol: reference {ref['protocol']!r} vs candidate {proto!r} (use --allow-mismatch)"
        )
    if ref.get("checker") and ref["checker"] != checker and not allow_mismatch:
        raise SpecError(
            f"checker version: reference {ref['checker']!r} vs candidate {checker!r} (use --allow-mismatch)"
        )
    out = []
    for task, pin in ref["tasks"].items():
        if tasks and task not in tasks:
            continue
        if not isinstance(pin, dict) or "value" not in pin:
            raise SpecError(
                f"{reference_file}: tasks.{task}: expected {{value: <points>, tolerance: <points>}}"
            )
        if task not in rec.results:
            raise SpecError(f"{reference_file}: tasks.{task}: not in the candidate run")
        r = rec.results[task]
        value, tol = float(pin["value"]) / 100, float(pin.get("tolerance", 0.0)) / 100
        verdict = "regression" if r.value < value - tol else "pass"
        out.append(
            TaskVerdict(
                task,
                r.label,
                verdict,
                "reference",
                r.n,
                value,
                r.value,
                r.value - value,
                None,
                note=f"pinned {100 * value:.1f} ± {100 * tol:.1f}",
            )
        )
    return out


def _fmt(v: float | None, signed: bool = False) -> str:
    return "—" if v is None else (f"{100 * v:+.1f}" if signed else f"{100 * v:.1f}")


def to_rows(verdicts: list[TaskVerdict]) -> list[list[str]]:
    """Verdicts as text-table rows (HEADER columns), values in points."""
    return [
        [
            v.task,
            v.label,
            v.verdict.upper() if v.verdict == "regression" else v.verdict,
            _fmt(v.baseline),
            _fmt(v.candidate),
            _fmt(v.delta, True),
            f"[{_fmt(v.ci[0], True)}, {_fmt(v.ci[1], True)}]" if v.ci else "—",
            "—" if v.p_worse is None else f"{v.p_worse:.3g}",
            v.test,
            str(v.n),
        ]
        for v in verdicts
    ]


HEADER = ["task", "metric", "verdict", "baseline", "candidate", "delta", "95% CI", "p(worse)", "test", "n"]


def to_markdown(verdicts: list[TaskVerdict], title: str) -> str:
    """Verdicts as a markdown report (for PR comments)."""
    lines = [f"### {title}", "", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in to_rows(verdicts)]
    notes = [f"- `{v.task}`: {v.note}" for v in verdicts if v.note]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def to_junit(verdicts: list[TaskVerdict], name: str) -> str:
    """Verdicts as JUnit XML: one testcase per task, a failure per regression."""
    fails = sum(v.verdict == "regression" for v in verdicts)
    cases = []
    for v in verdicts:
        detail = (
            f"{v.label}: baseline {_fmt(v.baseline)} candidate {_fmt(v.candidate)} delta {_fmt(v.delta, True)} "
            f"p(worse)={v.p_worse} {v.note}"
        ).strip()
        body = (
            f"<failure message={quoteattr(detail)}>{escape(detail)}</failure>"
            if v.verdict == "regression"
            else f"<system-out>{escape(detail)}</system-out>"
        )
        cases.append(f'  <testcase classname="statbench.regress" name={quoteattr(v.task)}>{body}</testcase>')
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite name={quoteattr(name)} tests="{len(verdicts)}" '
        f'failures="{fails}" errors="0">\n' + "\n".join(cases) + "\n</testsuite>\n"
    )


def simulate(
    n_problems: int = 500,
    k: int = 1,
    drop: float = 0.0,
    trials: int = 200,
    margin: float = 0.01,
    alpha: float = 0.05,
    seed: int = 0,
) -> float:
    """Fraction of trials the gate calls a regression when two runs sample the same model (``drop=0``: the
    false-alarm rate) or a model ``drop`` worse in expected accuracy (the power).

    Per-problem success probabilities are Beta(0.5, 0.5): most problems nearly always or nearly never solved,
    as on real benchmarks. The worse model scales every probability so its expected accuracy is ``drop`` lower.
    """
    rng = np.random.default_rng(seed)
    flagged = 0
    for t in range(trials):
        p = rng.beta(0.5, 0.5, n_problems)
        q = np.clip(p * (1 - drop / p.mean()), 0, 1)
        base = rng.binomial(k, p) / k
        cand = rng.binomial(k, q) / k
        verdict, _ = decide(base, cand, binary=k == 1, margin=margin, alpha=alpha, seed=t)
        flagged += verdict == "regression"
    return flagged / trials
