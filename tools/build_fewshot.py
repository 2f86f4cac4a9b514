"""Write the few-shot exemplar files (tasks/data/fewshot/*.jsonl) from the installed lm-eval 0.4.13 (MIT) and
record their sha256 in tasks/data/MANIFEST.json.

- minerva_math_4shot.jsonl: the Minerva 4-shot MATH prompt (lm_eval/tasks/minerva_math/utils.py,
  list_fewshot_samples), fields problem, solution.
- gsm8k_cot_8shot.jsonl: the 8-shot chain-of-thought GSM8K exemplars (Wei et al. 2022; lm_eval/tasks/gsm8k/
  gsm8k-cot.yaml, fewshot_config.samples), fields question, target.

python tools/build_fewshot.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tasks" / "data"


def _lm_eval_tasks() -> Path:
    import lm_eval

    return Path(lm_eval.__file__).parent / "tasks"


def _minerva() -> list[dict]:
    import ast

    src = (_lm_eval_tasks() / "minerva_math" / "utils.py").read_text()
    fn = next(
        n for n in ast.parse(src).body if isinstance(n, ast.FunctionDef) and n.name == "list_fewshot_samples"
    )
    rows = ast.literal_eval(
        fn.body[-1].value
    )  # the function returns a literal list (no import of the module)
    return [{"problem": r["problem"], "solution": r["solution"]} for r in rows]


def _gsm8k() -> list[dict]:
    cfg = yaml.safe_load((_lm_eval_tasks() / "gsm8k" / "gsm8k-cot.yaml").read_text())
    return [{"question": r["question"], "target": r["target"]} for r in cfg["fewshot_config"]["samples"]]


def main() -> int:
    man_path = DATA / "MANIFEST.json"
    man = json.loads(man_path.read_text())
    man.update(entries(DATA))
    man_path.write_text(json.dumps(man, indent=2, sort_keys=True) + "\n")
    return 0


def entries(data_dir: Path) -> dict:
    """Write the exemplar files under ``data_dir`` and return their MANIFEST entries (tools/build_data.py too)."""
    import lm_eval

    man: dict = {}
    for name, rows, src, what in (
        ("fewshot/minerva_math_4shot", _minerva(), "minerva_math/utils.py", "list_fewshot_samples"),
        ("fewshot/gsm8k_cot_8shot", _gsm8k(), "gsm8k/gsm8k-cot.yaml", "fewshot_config.samples"),
    ):
        src_sha = hashlib.sha256((_lm_eval_tasks() / src).read_bytes()).hexdigest()
        path = data_dir / f"{name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
        path.write_text(text, encoding="utf-8")
        man[name] = {
            "file": f"{name}.jsonl",
            "license": "MIT (EleutherAI/lm-evaluation-harness)",
            "records": len(rows),
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "sources": [
                {"path": f"lm-eval {lm_eval.__version__}: lm_eval/tasks/{src} ({what})", "sha256": src_sha}
            ],
        }
    return man


if __name__ == "__main__":
    raise SystemExit(main())
