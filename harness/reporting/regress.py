"""The regression gate: ``statbench regress --baseline RUN --candidate RUN`` (or ``--reference FILE``).

Per task, problems are paired by id. pass@1 (one sample per problem in both runs) uses the exact
McNemar test on the discordant problems; anything sampled (avg@k, pass@k) uses a paired bootstrap over
problems of the per-problem score. A task **regresses** when the candidate is significantly worse
(one-sided p < alpha) *and* the drop exceeds the margin; it **improves** symmetrically; otherwise it
passes. Runs made under different protocols, task data or checker versions are refused unless
``--allow-mismatch`` is given, naming the field that differs.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.core import stats
from harness.core.errors import SpecError, validation_message
from harness.records.models import ResolvedSpec
from harness.records.scores import per_problem_scores
from harness.records.store import read_run
from harness.reporting.compat import differences


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


def check_comparable(base: ResolvedSpec, cand: ResolvedSpec, tasks: list[str]) -> list[str]:
    """Human-readable list of fields that differ between the two runs (the comparison boards use too:
    ``harness/reporting/compat.py``)."""
    return differences(base, cand, tasks)


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


Points = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.0, le=100.0)]


class Pin(BaseModel):
    """One pinned task score, in points: ``{value: 45.0, tolerance: 2.0}`` (finite, 0-100)."""

    model_config = ConfigDict(extra="forbid")

    value: Points
    tolerance: Points = 0.0

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("expected {value: <points>, tolerance: <points>}")
        return data


class Reference(BaseModel):
    """A ``--reference`` file: optional protocol and checker version, and at least one pinned task."""

    model_config = ConfigDict(extra="forbid")

    protocol: str | None = None
    checker: str | None = None
    tasks: dict[Annotated[str, Field(strict=True, min_length=1)], Pin] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "tasks" not in data:
            raise ValueError(
                "expected a mapping with a 'tasks' key: {tasks: {TASK: {value: <points>, tolerance: <points>}}}"
            )
        return data


def load_reference(path: Path) -> Reference:
    """Read and validate a ``--reference`` file; ``SpecError`` (one line: the file, the key, what is wrong)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise SpecError(f"{path}: cannot read reference scores ({e.strerror or e})") from e
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise SpecError(f"{path}: not UTF-8 text (byte {e.start})") from e
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        what = getattr(e, "problem", None) or type(e).__name__
        raise SpecError(f"{path}: not valid YAML{at} ({what})") from e
    except (RecursionError, ValueError, OverflowError) as e:
        raise SpecError(f"{path}: not valid YAML ({type(e).__name__})") from e
    try:
        return Reference.model_validate(data)
    except ValidationError as e:
        raise SpecError(f"{path}: {validation_message(e)}") from None
    except RecursionError as e:
        raise SpecError(f"{path}: nested too deeply") from e


def compare_reference(
    candidate: Path, reference_file: Path, tasks: list[str] | None = None, allow_mismatch: bool = False
) -> list[TaskVerdict]:
    """Gate a run against pinned scores: ``{protocol: ..., tasks: {task: {value: 45.0, tolerance: 2.0}}}`` (points)."""
    ref = load_reference(reference_file)
    rec = read_run(candidate)
    proto, checker = rec.spec.protocol, rec.spec.versions.get("checker")
    if ref.protocol and ref.protocol != proto and not allow_mismatch:
        raise SpecError(f"protocol: reference {ref.protocol!r} vs candidate {proto!r} (use --allow-mismatch)")
    if ref.checker and ref.checker != checker and not allow_mismatch:
        raise SpecError(
            f"checker version: reference {ref.checker!r} vs candidate {checker!r} (use --allow-mismatch)"
        )
    pins = {t: p for t, p in ref.tasks.items() if not tasks or t in tasks}
    if not pins:
        raise SpecError(
            f"{reference_file}: none of the tasks {', '.join(tasks or [])} is pinned "
            f"(pinned: {', '.join(ref.tasks)})"
        )
    out = []
    for task, pin in pins.items():
        if task not in rec.results:
            raise SpecError(f"{reference_file}: tasks.{task}: not in the candidate run")
        r = rec.results[task]
        value, tol = pin.value / 100, pin.tolerance / 100
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


def check_options(margin: float, alpha: float) -> None:
    """``--margin`` finite in [0, 100] points and ``--alpha`` in (0, 0.5]; ``SpecError`` otherwise."""
    if not (math.isfinite(margin) and 0.0 <= margin <= 100.0):
        raise SpecError(f"--margin must be between 0 and 100 points, got {margin}")
    if not (math.isfinite(alpha) and 0.0 < alpha <= 0.5):
        raise SpecError(f"--alpha must be in (0, 0.5] (a one-sided significance level), got {alpha}")


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


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _md_cell(text: str) -> str:
    """A markdown table cell: one line, ``|`` and backslashes escaped, control characters dropped."""
    text = " ".join(_CONTROL.sub("", str(text)).split())
    return text.replace("\\", "\\\\").replace("|", "\\|")


def to_markdown(verdicts: list[TaskVerdict], title: str) -> str:
    """Verdicts as a markdown report (for PR comments); user-supplied text cannot break the table."""
    lines = [f"### {_md_cell(title)}", "", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in to_rows(verdicts)]
    notes = [f"- `{_md_cell(v.task).replace('`', '')}`: {_md_cell(v.note)}" for v in verdicts if v.note]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def _xml_text(text: object) -> str:
    """Text XML 1.0 can carry: control characters (other than tab and newline) and lone surrogates
    replaced by U+FFFD; ``xml.etree`` escapes ``<``, ``&``, quotes on output."""
    return _CONTROL.sub("\ufffd", str(text).replace("\r", " "))


def to_junit(verdicts: list[TaskVerdict], name: str) -> str:
    """Verdicts as JUnit XML: one testcase per task, a failure per regression (built with xml.etree)."""
    suite = ET.Element(
        "testsuite",
        name=_xml_text(name),
        tests=str(len(verdicts)),
        failures=str(sum(v.verdict == "regression" for v in verdicts)),
        errors="0",
    )
    for v in verdicts:
        detail = _xml_text(
            f"{v.label}: baseline {_fmt(v.baseline)} candidate {_fmt(v.candidate)} delta {_fmt(v.delta, True)} "
            f"p(worse)={v.p_worse} {v.note}".strip()
        )
        case = ET.SubElement(suite, "testcase", classname="statbench.regress", name=_xml_text(v.task))
        if v.verdict == "regression":
            ET.SubElement(case, "failure", message=detail).text = detail
        else:
            ET.SubElement(case, "system-out").text = detail
    ET.indent(suite, space="  ")
    return ET.tostring(suite, encoding="unicode", xml_declaration=False).join(
        ['<?xml version="1.0" encoding="utf-8"?>\n', "\n"]
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
