"""THE math checker: extraction + equivalence + real timeouts.

Used by every benchmark score (``tasks/*``), the GRPO reward, Stage-1 difficulty detection, re-scoring and
the regression gate. Public API::

    from harness.scoring import grade, grade_many, Checker, Verdict, checker_version
"""

from harness.scoring.checker import (
    CHECKER_VERSION,
    STATUSES,
    Checker,
    Verdict,
    checker_version,
    default_checker,
    grade,
    grade_many,
    reference_problem,
    reference_text,
)
from harness.scoring.extract import Extraction, extract_answer
from harness.scoring.metrics import majority_correct, pass_at_k, sample_metrics
from harness.scoring.reasoning import DEFAULT_THINK, UNFINISHED, grade_responses, split_reasoning

__all__ = [
    "CHECKER_VERSION",
    "DEFAULT_THINK",
    "STATUSES",
    "UNFINISHED",
    "Checker",
    "Extraction",
    "Verdict",
    "checker_version",
    "default_checker",
    "extract_answer",
    "grade",
    "grade_many",
    "grade_responses",
    "majority_correct",
    "pass_at_k",
    "reference_problem",
    "reference_text",
    "sample_metrics",
    "split_reasoning",
]
