"""Rebuild the bundled data from the shared sources (maintainers only; needs ../shared/data).

    python tools/build_data.py [--shared ../shared/data]

Writes, deterministically:
  tasks/data/<benchmark>.jsonl        one normalized JSONL per benchmark: id, problem, answer (+ metadata)
  tasks/data/splits/math_{val1k,test4k}.txt   the fixed 1k/4k split of MATH test (seed below)
  tasks/data/MANIFEST.json            sha256, record count, source file + sha256, license per file
  tasks/graded_samples/<name>.jsonl      id, response, reference, label (+ meta) per graded sample
  tasks/graded_samples/MANIFEST.json

Every source file is checked against the sha256 its PROVENANCE.md records before it is read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from harness.scoring.extract import find_boxed  # noqa: E402

SPLIT_SEED = 2510  # arXiv 2510.10023; the paper's own split seed is unpublished
SOURCES = {  # path under shared/data -> (sha256, license)
    "math_full_test/test.jsonl": (
        "3371949f33dd702d04b43fddd7d53a028de0aaca0e76abb1b875a050297b3aa4",
        "MIT (Hendrycks et al.; ZubinGou/math-evaluation-harness)",
    ),
    "math500/test.jsonl": (
        "35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132",
        "MIT (openai/prm800k)",
    ),
    "math_train/train.jsonl": (
        "f4ec48d1c265347783f5aaf70f4de0907f3c131c497198a5066f472c06872cb2",
        "MIT (Hendrycks et al. MATH)",
    ),
    "aime24/test.jsonl": (
        "af2b8bd2aa911b6333ad0df32f3ca05c7ae8ed10f1731f4372c8ae26990bf7ac",
        "MIT (QwenLM/Qwen2.5-Math evaluation/)",
    ),
    "aime25/test.jsonl": (
        "b4e273c02d3e7fe1b74b59eae768fc8230bfb0f79539890cb56f4361caac0331",
        "Apache-2.0 (inclusionAI/AReaL)",
    ),
    "amc23/test.jsonl": (
        "43707e1ca784602d8479de24ee8ce36609dbebc46dd152b0b12a46611aa898a4",
        "MIT (QwenLM/Qwen2.5-Math evaluation/)",
    ),
    "gsm8k/test.jsonl": (
        "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14",
        "MIT (openai/grade-school-math)",
    ),
    "math_perturb/math_perturb_simple.jsonl": (
        "2130821d4235dc1f5d962bee7f84a096651bf98fcb17b6dcfd3d0a48875ba5bb",
        "Apache-2.0 (Kaffaljidhmah2/MATH-Perturb)",
    ),
    "math_perturb/math_perturb_hard.jsonl": (
        "418ca51e02f3b639a919dda72b5201ce35ac6c6d7d31c3231735beb4ea012dd7",
        "Apache-2.0 (Kaffaljidhmah2/MATH-Perturb)",
    ),
    "minerva_math/test.jsonl": (
        "0e656b430d3a0a1dab6aa853f453ba3805e28e2cabe4fc72486a897cc09d8ba2",
        "MIT (QwenLM/Qwen2.5-Math evaluation/)",
    ),
    "olympiadbench/test.jsonl": (
        "bb8c1e38a16ea9eacb77530315a674d883f267fbff79183effc53681b4fcc416",
        "MIT (QwenLM/Qwen2.5-Math evaluation/)",
    ),
    "graded_samples/processbench_math_part_a.jsonl": (
        "3f3b207199dfa0fb72f8e7763cdd82bab4a21bd5addb308d2e5a778934cbc0f8",
        "Apache-2.0 (Qwen/ProcessBench on the HF hub)",
    ),
    "graded_samples/processbench_gsm8k.json": (
        "fb1c59dfd1e83e1c5a48dbe598db27e4bc0b8bc524a09445f2d4b69178f61349",
        "Apache-2.0 (Qwen/ProcessBench on the HF hub)",
    ),
    "graded_samples/qwen25math_math_cot_100.jsonl": (
        "5b9128525733336c4b5bf5d3222f72b18655a305258dc09c301b546e9365ba5e",
        "MIT (QwenLM/Qwen2.5-Math evaluation/)",
    ),
    "graded_samples/gsm8k_example_model_solutions.jsonl": (
        "4bc62db838f8418365d51c627bd66294cbdca9fb7f01519cb13f0dce8c51580b",
        "MIT (openai/grade-school-math)",
    ),
    "graded_samples/reasoneval_mr-math_invalid_errors.jsonl": (
        "24317f01a3f34f569cc6438396a242252c9695bcd6c603cd153d3f99ca14929c",
        "no license file (GAIR-NLP/ReasonEval); research use",
    ),
    "stat/stat_paper_results.csv": (
        "2ab34884968287c2983c4d6b66303575015aeec169a323a27e478bde1c1455da",
        "facts transcribed from arXiv 2510.10023 / its project page (CC BY-SA 4.0 site)",
    ),
    "stat/stat_paper_skill_list.json": (
        "604d85dd426be8c3e8909a3e4b91be523d9a41f8a028388a7fcb731c4ae83d73",
        "facts transcribed from arXiv 2510.10023 App. C.3.1",
    ),
}
COPIED = {
    "stat_paper_results": "stat/stat_paper_results.csv",
    "stat_paper_skill_list": "stat/stat_paper_skill_list.json",
}
ADAPTMI_RETRIEVAL = "stat/AdaptMI/skill_identifier/skill_retrieval/MATH/{subject}/test/test.json"
SUBJECT_DIR = {
    "Algebra": "algebra",
    "Counting & Probability": "counting_and_probability",
    "Geometry": "geometry",
    "Intermediate Algebra": "intermediate_algebra",
    "Number Theory": "number_theory",
    "Prealgebra": "prealgebra",
    "Precalculus": "precalculus",
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Shared:
    def __init__(self, root: Path):
        self.root = root

    def path(self, rel: str) -> Path:
        p = self.root / rel
        want = SOURCES[rel][0]
        if sha256(p) != want:
            raise SystemExit(f"{p}: sha256 mismatch (expected {want}); the shared data changed")
        return p

    def jsonl(self, rel: str) -> list[dict]:
        return [json.loads(line) for line in self.path(rel).read_text().splitlines() if line.strip()]


def ws(s: str) -> str:
    return " ".join(s.split())


def last_box(solution: str) -> str:
    boxes = find_boxed(solution)
    if not boxes:
        raise ValueError(f"no \\boxed answer in solution: {solution[:80]!r}")
    return boxes[-1].strip()


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows))


# ----------------------------------------------------------------------------- benchmarks
def build_math(sh: Shared) -> tuple[list[dict], list[dict]]:
    uid: dict[str, str] = {}
    for r in sh.jsonl("math500/test.jsonl"):
        uid[ws(r["problem"])] = r["unique_id"]
    for r in sh.jsonl("math_train/train.jsonl"):
        if r["unique_id"].startswith("test/"):
            uid[ws(r["problem"])] = r["unique_id"]
    skills: dict[str, list[str]] = {}
    for d in SUBJECT_DIR.values():
        q2s = json.loads((sh.root / ADAPTMI_RETRIEVAL.format(subject=d)).read_text())["question2skill"]
        skills.update({ws(q): s for q, s in q2s.items()})
    rows = []
    for r in sh.jsonl("math_full_test/test.jsonl"):
        key = ws(r["problem"])
        rows.append(
            {
                "id": uid[key],
                "problem": r["problem"],
                "answer": last_box(r["solution"]),
                "subject": r["type"],
                "level": int(r["level"].split()[-1]) if r["level"][-1].isdigit() else None,
                "skills": skills.get(key, []),
            }
        )
    if len({r["id"] for r in rows}) != 5000:
        raise SystemExit("MATH test: unique ids do not cover 5000 problems")
    by_id = {r["id"]: r for r in rows}
    m500 = []
    for r in sh.jsonl("math500/test.jsonl"):
        base = by_id[r["unique_id"]]
        if base["answer"] != r["answer"]:
            raise SystemExit(f"MATH500 answer differs from MATH for {r['unique_id']}")
        m500.append(base)
    return sorted(rows, key=lambda r: r["id"]), m500


def split_math(rows: list[dict], n_val: int = 1000) -> tuple[list[str], list[str]]:
    """Seeded split stratified by (subject, level); largest-remainder allocation gives exactly n_val."""
    strata: dict[tuple, list[str]] = defaultdict(list)
    for r in rows:
        strata[(r["subject"], r["level"] or 0)].append(r["id"])
    rng = random.Random(SPLIT_SEED)
    quotas = {k: n_val * len(v) / len(rows) for k, v in sorted(strata.items())}
    alloc = {k: int(q) for k, q in quotas.items()}
    for k in sorted(quotas, key=lambda k: (-(quotas[k] - alloc[k]), k))[: n_val - sum(alloc.values())]:
        alloc[k] += 1
    val: list[str] = []
    for k in sorted(strata):
        ids = sorted(strata[k])
        rng.shuffle(ids)
        val += ids[: alloc[k]]
    val_set = set(val)
    return sorted(val), sorted(r["id"] for r in rows if r["id"] not in val_set)


def build_math_train(sh: Shared) -> list[dict]:
    """The STAT training pool P: the 7,500 MATH train problems with solutions, answers and AdaptMI skills."""
    skills: dict[str, list[str]] = {}
    for d in SUBJECT_DIR.values():
        path = sh.root / ADAPTMI_RETRIEVAL.format(subject=d).replace("/test/test.json", "/train/train.json")
        skills.update({ws(q): s for q, s in json.loads(path.read_text())["question2skill"].items()})
    rows = []
    for r in sh.jsonl("math_train/train.jsonl"):
        if not r["unique_id"].startswith("train/"):
            continue  # the other 4,500 are MATH test problems (Q), never training data
        level = r["level"] if isinstance(r["level"], int) else None
        rows.append(
            {
                "id": r["unique_id"],
                "problem": r["problem"],
                "solution": r["solution"],
                "answer": r["answer"],
                "subject": r["subject"],
                "level": level,
                "skills": skills.get(ws(r["problem"]), []),
            }
        )
    if len(rows) != 7500:
        raise SystemExit(f"MATH train: expected 7500 problems, got {len(rows)}")
    return sorted(rows, key=lambda r: r["id"])


def build_skill_lists(sh: Shared) -> dict[str, list[str]]:
    """Per-subject skill lists offered to the teacher (AdaptMI prompt files = the paper's Tables 5-6)."""
    import yaml

    out = {}
    for subject, d in SUBJECT_DIR.items():
        text = (
            sh.root / f"stat/AdaptMI/skill_identifier/skill_label_prompts/skill_label_prompts_{d}.yaml"
        ).read_text()
        prompt = yaml.safe_load(text)["USER_PROMPT"]
        block = prompt.split("[SKILL_LIST]", 1)[1].split("[QUESTION]", 1)[0]
        out[subject] = re.findall(r'"([a-z0-9_]+)"', block)
    return out


def build_others(sh: Shared) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    out["aime24"] = [
        {"id": f"aime24-{r['id']}", "problem": r["problem"], "answer": str(r["answer"]), "url": r["url"]}
        for r in sh.jsonl("aime24/test.jsonl")
    ]
    out["aime25"] = [
        {"id": f"aime25-{r['id']}", "problem": r["problem"], "answer": str(r["answer"])}
        for r in sh.jsonl("aime25/test.jsonl")
    ]
    # AMC23 answers stay floats (27.0) exactly as the source stores them; the checker handles 27 vs 27.0.
    out["amc23"] = [
        {"id": f"amc23-{r['id']}", "problem": r["problem"], "answer": r["answer"], "url": r["url"]}
        for r in sh.jsonl("amc23/test.jsonl")
    ]
    out["gsm8k"] = [
        {
            "id": f"gsm8k-{i}",
            "problem": r["question"],
            "answer": r["answer"].split("####")[-1].strip().replace(",", ""),
        }
        for i, r in enumerate(sh.jsonl("gsm8k/test.jsonl"))
    ]
    for kind in ("simple", "hard"):
        out[f"math_perturb_{kind}"] = [
            {
                "id": f"perturb-{kind}-{r['problem_id']}",
                "problem": r["problem"],
                "answer": str(r["answer"]),
                "subject": r["type"],
                "level": int(r["level"].split()[-1]),
                "original_split": r["original_split"],
            }
            for r in sh.jsonl(f"math_perturb/math_perturb_{kind}.jsonl")
        ]
    out["minerva272"] = [
        {
            "id": f"minerva-{r['idx']}",
            "problem": r["problem"],
            "answer": last_box(r["solution"]),
            "subject": r["type"],
        }
        for r in sh.jsonl("minerva_math/test.jsonl")
    ]
    out["olympiadbench"] = [
        {
            "id": f"olympiad-{r['id']}",
            "problem": r["question"],
            "answer": ", ".join(a.strip().strip("$").strip() for a in r["final_answer"]),
            "answer_type": r["answer_type"],
            "is_multiple_answer": str(r["is_multiple_answer"]) == "True",
            "unit": None if r["unit"] in (None, "None") else r["unit"],
            "subject": r["subfield"],
        }
        for r in sh.jsonl("olympiadbench/test.jsonl")
    ]
    return out


# ----------------------------------------------------------------------------- graded samples
def build_graded(sh: Shared, math_rows: list[dict]) -> dict[str, list[dict]]:
    math_ans = {ws(r["problem"]): r["answer"] for r in math_rows}
    gsm = {
        ws(r["question"]): r["answer"].split("####")[-1].strip().replace(",", "")
        for r in sh.jsonl("gsm8k/test.jsonl")
    }
    out: dict[str, list[dict]] = {}
    out["processbench_math"] = [
        {
            "id": r["id"],
            "response": "\n\n".join(r["steps"]),
            "reference": math_ans[ws(r["problem"])],
            "label": bool(r["final_answer_correct"]),
            "generator": r["generator"],
        }
        for r in sh.jsonl("graded_samples/processbench_math_part_a.jsonl")
    ]
    out["processbench_gsm8k"] = [
        {
            "id": r["id"],
            "response": "\n\n".join(r["steps"]),
            "reference": gsm[ws(r["problem"])],
            "label": bool(r["final_answer_correct"]),
            "generator": r["generator"],
        }
        for r in json.loads(sh.path("graded_samples/processbench_gsm8k.json").read_text())
    ]
    out["qwen25math_math_cot"] = [
        {"id": f"qwen-{r['idx']}-{j}", "response": resp, "reference": r["answer"], "label": bool(score)}
        for r in sh.jsonl("graded_samples/qwen25math_math_cot_100.jsonl")
        for j, (resp, score) in enumerate(zip(r["response"], r["score"], strict=True))
    ]
    out["gsm8k_openai_solutions"] = [
        {
            "id": f"gsm8k-{i}-{variant}",
            "response": r[variant]["solution"],
            "reference": re.split(r"(?:####|\nA:)", r["ground_truth"])[-1].strip().replace(",", ""),
            "label": bool(r[variant]["is_correct"]),
        }
        for i, r in enumerate(sh.jsonl("graded_samples/gsm8k_example_model_solutions.jsonl"))
        for variant in ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
    ]
    out["reasoneval_mr_math"] = [
        {
            "id": f"reasoneval-{r['id']}",
            "response": r["model_output"],
            "reference": r["ground_truth_answer"],
            "label": r["model_output_answer_correctness"] == "correct",
            "generator": r["generator"],
        }
        for r in sh.jsonl("graded_samples/reasoneval_mr-math_invalid_errors.jsonl")
    ]
    return out


SOURCE_OF = {
    "math": ["math_full_test/test.jsonl", "math500/test.jsonl", "math_train/train.jsonl"],
    "math500": ["math500/test.jsonl", "math_full_test/test.jsonl"],
    "math_train": ["math_train/train.jsonl"],
    "skill_lists": ["stat/stat_paper_skill_list.json"],
    "aime24": ["aime24/test.jsonl"],
    "aime25": ["aime25/test.jsonl"],
    "amc23": ["amc23/test.jsonl"],
    "gsm8k": ["gsm8k/test.jsonl"],
    "math_perturb_simple": ["math_perturb/math_perturb_simple.jsonl"],
    "math_perturb_hard": ["math_perturb/math_perturb_hard.jsonl"],
    "minerva272": ["minerva_math/test.jsonl"],
    "olympiadbench": ["olympiadbench/test.jsonl"],
    "processbench_math": ["graded_samples/processbench_math_part_a.jsonl", "math_full_test/test.jsonl"],
    "processbench_gsm8k": ["graded_samples/processbench_gsm8k.json", "gsm8k/test.jsonl"],
    "qwen25math_math_cot": ["graded_samples/qwen25math_math_cot_100.jsonl"],
    "gsm8k_openai_solutions": ["graded_samples/gsm8k_example_model_solutions.jsonl"],
    "reasoneval_mr_math": ["graded_samples/reasoneval_mr-math_invalid_errors.jsonl"],
    **{name: [src] for name, src in COPIED.items()},
}


def manifest_entry(name: str, path: Path, n: int) -> dict:
    srcs = SOURCE_OF[name]
    return {
        "file": path.name,
        "sha256": sha256(path),
        "records": n,
        "sources": [{"path": f"shared/data/{s}", "sha256": SOURCES[s][0]} for s in srcs],
        "license": SOURCES[srcs[0]][1],
    }


def build_skillworld(tasks_dir: Path, manifest: dict) -> None:
    """The skill world's splits, generated here (not copied: ours, MIT), into ``tasks_dir`` and ``manifest``."""
    from harness.skillworld.world import VERSION, build_splits

    for split, rows in build_splits(0).items():
        name = f"skillworld_{split}"
        p = tasks_dir / f"{name}.jsonl"
        write_jsonl(p, rows)
        manifest[name] = {
            "file": p.name,
            "sha256": sha256(p),
            "records": len(rows),
            "license": "MIT (statbench)",
            "sources": [{"generator": f"harness/skillworld/world.py v{VERSION}", "seed": 0}],
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument(
        "--skillworld-only",
        action="store_true",
        help="regenerate only the skill world's splits (no shared data)",
    )
    args = ap.parse_args()
    if args.skillworld_only:
        path = ROOT / "tasks" / "data" / "MANIFEST.json"
        manifest = json.loads(path.read_text())
        build_skillworld(path.parent, manifest)
        path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        return
    sh = Shared(args.shared)

    tasks_dir = ROOT / "tasks" / "data"
    math_rows, m500 = build_math(sh)
    benches = {"math": math_rows, "math500": m500, "math_train": build_math_train(sh), **build_others(sh)}
    manifest = {}
    for name, rows in benches.items():
        p = tasks_dir / f"{name}.jsonl"
        write_jsonl(p, rows)
        manifest[name] = manifest_entry(name, p, len(rows))
    for name, src in COPIED.items():  # reference files, byte-identical copies
        p = tasks_dir / src
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(sh.path(src).read_bytes())
        manifest[name] = {**manifest_entry(name, p, len(p.read_text().splitlines())), "file": src}
    p = tasks_dir / "stat" / "skill_lists.json"
    p.write_text(json.dumps(build_skill_lists(sh), indent=1, sort_keys=True) + "\n")
    manifest["skill_lists"] = {
        **manifest_entry("skill_lists", p, 7),
        "file": "stat/skill_lists.json",
        "license": "Apache-2.0 (princeton-pli/AdaptMI skill_label_prompts; = paper Tables 5-6)",
    }
    val, test = split_math(math_rows)
    for fname, ids in (("math_val1k.txt", val), ("math_test4k.txt", test)):
        p = tasks_dir / "splits" / fname
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n".join(ids) + "\n")
        manifest[f"splits/{fname}"] = {
            "file": f"splits/{fname}",
            "sha256": sha256(p),
            "records": len(ids),
            "seed": SPLIT_SEED,
            "stratified_by": ["subject", "level"],
        }
    build_skillworld(tasks_dir, manifest)
    sys.path.insert(0, str(ROOT / "tools"))
    from build_fewshot import entries as fewshot_entries  # the --num-fewshot exemplars (from lm-eval)

    manifest.update(fewshot_entries(tasks_dir))
    (tasks_dir / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")

    graded_dir = ROOT / "tasks" / "graded_samples"
    gman = {}
    for name, rows in build_graded(sh, math_rows).items():
        p = graded_dir / f"{name}.jsonl"
        write_jsonl(p, rows)
        gman[name] = manifest_entry(name, p, len(rows))
    (graded_dir / "MANIFEST.json").write_text(json.dumps(gman, indent=2, sort_keys=True) + "\n")
    for name, e in {**manifest, **gman}.items():
        print(f"{name:28} {e['records']:6d}  {e['sha256'][:12]}")


if __name__ == "__main__":
    main()
