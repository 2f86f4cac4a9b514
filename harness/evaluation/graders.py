"""lm-eval 0.4.13's own math graders, wrapped for side-by-side comparison with the statbench checker.

- ``minerva_exact_match``: ``minerva_math`` extraction ("Final Answer: The final answer is X. I hope it is
  correct.") + Minerva normalisation + ``is_equiv``. lm-eval hard-asserts antlr4 4.11 at import for its
  sympy step; statbench pins antlr4 4.13.2 (math-verify), so the module is imported with that assert
  bypassed and ``is_equiv`` falls back to normalised-string equality when sympy's LaTeX parser is
  unavailable. Under lm-eval[math] it would also try sympy; the extraction requirement dominates either way.
- ``hendrycks_is_equiv``: ``hendrycks_math`` process_results (text between the first and last ``$``,
  then ``strip_string`` equality). It never extracts ``\\boxed{}`` (lm-eval issue #3643).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
from functools import lru_cache
from types import ModuleType


@lru_cache(maxsize=1)
def _minerva() -> ModuleType:
    real = importlib.metadata.version

    def version(name: str) -> str:
        return "4.11.0" if name == "antlr4-python3-runtime" else real(name)

    importlib.metadata.version = version
    logging.getLogger("lm_eval.tasks.minerva_math.utils").setLevel(logging.CRITICAL)
    try:
        return importlib.import_module("lm_eval.tasks.minerva_math.utils")
    finally:
        importlib.metadata.version = real


@lru_cache(maxsize=1)
def _hendrycks() -> ModuleType:
    return importlib.import_module("lm_eval.tasks.hendrycks_math.utils")


def minerva_exact_match(response: str, reference: str) -> bool:
    """lm-eval's Minerva grader: exact match of the normalized final answer."""
    m = _minerva()
    answer = m.normalize_final_answer(m.get_unnormalized_answer(response))
    gold = m.normalize_final_answer(reference)
    try:
        return bool(m.is_equiv(answer, gold))
    except ImportError:  # sympy LaTeX parser needs antlr4 4.11: string equality only
        return answer == gold


def hendrycks_is_equiv(response: str, reference: str) -> bool:
    """lm-eval's Hendrycks MATH grader: string equivalence of the last ``$...$`` span."""
    h = _hendrycks()
    idx = [i for i, c in enumerate(response) if c == "$"]
    answer = response if len(idx) <= 1 else response[idx[0] + 1 : idx[-1]]
    return bool(h.is_equiv(answer, reference))


LM_EVAL_GRADERS = {
    "lm-eval minerva exact_match": minerva_exact_match,
    "lm-eval hendrycks is_equiv": hendrycks_is_equiv,
}
