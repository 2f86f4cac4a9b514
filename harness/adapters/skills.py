"""Skill-Map (skill -> training questions) and Stage 2, the Missing-Skill-Profile.

Skill-Map: the bundled AdaptMI labels (one Didolkar-style skill per MATH question; prealgebra train only
259/1,205 labelled), under the paper's 112-skill lists (tasks/data/stat/skill_lists.json); optionally the
teacher relabels each pool question with up to 5 skills (paper App. C.3.1), falling back to AdaptMI labels
where a reply fails.

Missing-Skill-Profile (paper §2.2): the teacher judges up to ``msp.max_questions`` difficult validation
answers (a seeded subsample when there are more) and names 2–3 missing skills from the question's subject
list. Output: the per-question map, the skill histogram (the profile) and a bar chart.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.tasks import read_bundled


def skill_lists() -> dict[str, list[str]]:
    """The bundled skill vocabulary: subject -> list of skill names."""
    return json.loads(read_bundled("skill_lists"))


@dataclass
class SkillMap:
    """Question -> skills and skill -> questions, both sorted, built from one set of labels."""

    by_question: dict[str, list[str]]
    by_skill: dict[str, list[str]]

    @classmethod
    def from_labels(cls, labels: dict[str, list[str]]) -> SkillMap:
        by_skill: dict[str, list[str]] = {}
        for qid in sorted(labels):
            for s in labels[qid]:
                by_skill.setdefault(s, []).append(qid)
        return cls(dict(labels), by_skill)

    def to_json(self) -> dict[str, Any]:
        return {
            "by_question": self.by_question,
            "skills": {s: len(v) for s, v in sorted(self.by_skill.items())},
        }


def build_skill_map(pool: list[dict[str, Any]], source: str, teacher=None) -> tuple[SkillMap, dict[str, Any]]:
    """Skill labels for the pool (bundled, or relabelled by ``teacher`` when ``source == "teacher"``); returns (map, report)."""
    labels = {r["id"]: list(r.get("skills") or []) for r in pool}
    report: dict[str, Any] = {
        "source": source,
        "questions": len(pool),
        "labelled": sum(bool(v) for v in labels.values()),
    }
    if source == "teacher":
        relabels = teacher.label_skills(pool, skill_lists(), 5)
        failed = 0
        for r, new in zip(pool, relabels, strict=True):
            if new:
                labels[r["id"]] = new
            else:
                failed += 1
        report.update(relabel_failed=failed, labelled=sum(bool(v) for v in labels.values()))
    return SkillMap.from_labels(labels), report


def msp_pairs(
    msp: dict[str, Any], skill_map: SkillMap, pool: dict[str, dict]
) -> Iterator[tuple[str, str, list[str]]]:
    """(difficult question id, missing skill, pool question ids labelled with that skill), per MSP pair in id order."""
    for qid in sorted(msp["per_question"]):
        for skill in msp["per_question"][qid].get("skills", []):
            yield qid, skill, [c for c in skill_map.by_skill.get(skill, []) if c in pool]


def missing_skill_profile(
    difficult: list[dict[str, Any]], teacher, spec, seed: int, out_dir: Path
) -> dict[str, Any]:
    """Judge difficult val answers; write msp.json, msp_histogram.csv, msp.svg; return the profile."""
    from harness.core.svg import bar_svg

    items = sorted(difficult, key=lambda d: str(d["id"]))
    if len(items) > spec.max_questions:
        items = sorted(random.Random(seed).sample(items, spec.max_questions), key=lambda d: str(d["id"]))
    judgements = teacher.judge(items, skill_lists())
    per_q: dict[str, Any] = {}
    failed = judged_correct = 0
    for it, j in zip(items, judgements, strict=True):
        if j is None:
            failed += 1
            per_q[str(it["id"])] = {"status": "failed"}
            continue
        if j.correct and spec.skip_judged_correct:
            judged_correct += 1
            per_q[str(it["id"])] = {"status": "judged_correct", "reason": j.reason}
            continue
        skills = j.skills[: spec.max_skills]
        status = "ok" if len(skills) >= spec.min_skills else "too_few_skills"
        per_q[str(it["id"])] = {
            "status": status,
            "skills": skills if status == "ok" else [],
            "reason": j.reason,
            "subject": it.get("subject"),
        }
    hist = Counter(s for v in per_q.values() for s in v.get("skills", []))
    ranked = sorted(hist.items(), key=lambda kv: (-kv[1], kv[0]))
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = {
        "questions": len(items),
        "failed": failed,
        "judged_correct": judged_correct,
        "with_skills": sum(bool(v.get("skills")) for v in per_q.values()),
        "histogram": dict(ranked),
        "per_question": per_q,
    }
    (out_dir / "msp.json").write_text(json.dumps(profile, indent=1, sort_keys=True) + "\n")
    (out_dir / "msp_histogram.csv").write_text("skill,count\n" + "".join(f"{s},{c}\n" for s, c in ranked))
    top = ranked[:25]
    (out_dir / "msp.svg").write_text(
        bar_svg(
            [s.replace("_", " ") for s, _ in top],
            [c for _, c in top],
            "Missing-Skill-Profile (difficult validation questions per skill)",
        )
    )
    return profile
