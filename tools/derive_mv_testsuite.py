"""Derive labelled (response, reference, label) pairs from math-verify 0.9.0's own test suite (PyPI sdist).

    pip download --no-deps --no-binary :all: math-verify==0.9.0 -d /tmp/x && tar xzf /tmp/x/*.tar.gz -C /tmp/x
    python tools/derive_mv_testsuite.py /tmp/x/math_verify-0.9.0/tests tasks/graded_samples

Writes mv_testsuite_tune.jsonl (tests/test_all.py; bundled as mv_testsuite.jsonl) and
mv_testsuite_heldout.jsonl (every other test file); see tasks/graded_samples/PROVENANCE.md.
"""

import ast
import json
import sys
from pathlib import Path

SRC = Path(sys.argv[1])  # .../math_verify-0.9.0/tests
OUT = Path(sys.argv[2])
# tests whose expected value depends on non-default options (precision, strictness, set relations, timeouts)
SKIP = {
    "test_set_rel_assymetry",
    "test_complex_math_expressions",
    "test_float_precision",
    "test_sqrt_precision",
}
TUNE_FILES = {"test_all.py"}


def gold_ref(g):
    s = g.strip()
    for a, b in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if s.startswith(a) and s.endswith(b) and len(s) > len(a) + len(b):
            inner = s[len(a) : -len(b)].strip()
            if "$" in inner:
                return None
            return inner
    if "$" in s or "\\boxed" in s:
        return None
    return s


rows = {"tune": [], "heldout": []}
for f in sorted(SRC.glob("test_*.py")):
    tree = ast.parse(f.read_text())
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name in SKIP:
            continue
        for dec in node.decorator_list:
            if not (isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parametrize"):
                continue
            names = [n.strip() for n in ast.literal_eval(dec.args[0]).split(",")]
            if names[:2] != ["gold", "pred"] or len(names) != 3:
                continue
            for k, elt in enumerate(dec.args[1].elts):
                try:
                    gold, pred, exp = ast.literal_eval(elt)
                except ValueError:
                    continue
                ref = gold_ref(gold)
                if ref is None or not ref:
                    continue
                part = "tune" if f.name in TUNE_FILES else "heldout"
                rows[part].append(
                    {
                        "id": f"mv090-{f.stem}-{node.name}-{k}",
                        "response": pred,
                        "reference": ref,
                        "label": bool(exp),
                        "source": f"math-verify 0.9.0 sdist, tests/{f.name}::{node.name} case {k} (line {elt.lineno})",
                    }
                )
for part, rs in rows.items():
    (OUT / f"mv_testsuite_{part}.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rs)
    )
    print(part, len(rs), sum(r["label"] for r in rs))
