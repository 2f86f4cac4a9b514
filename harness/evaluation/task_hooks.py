"""Functions the ``tasks/*.yaml`` lm-eval tasks call (through the 1-line shim ``tasks/utils.py``).

Loading goes through ``harness.core.tasks`` (sha256-verified, path-independent), scoring through
``harness.scoring`` (the one checker). No lm_eval import here: these are plain functions.
"""

from __future__ import annotations

from typing import Any

from harness.core.tasks import task_docs
from harness.scoring import default_checker, reference_text, sample_metrics


def load(task: str, ids_file: str | None = None, **_: Any):
    """``custom_dataset`` for lm-eval: the task's documents as a one-split DatasetDict."""
    import datasets

    return datasets.DatasetDict({"test": datasets.Dataset.from_list(task_docs(task, ids_file=ids_file))})


def doc_to_text(doc: dict[str, Any]) -> str:
    """The prompt of a task document (rendered by ``task_docs``)."""
    return doc["prompt"]  # every doc comes through task_docs, which renders the data set's prompt


def doc_to_target(doc: dict[str, Any]) -> str:
    """The reference answer of a task document, as text."""
    return reference_text(doc["answer"])


def process_results(doc: dict[str, Any], results: list[Any]) -> dict[str, float]:
    """avg@k, unbiased pass@k, maj@k and no-answer rate over the k samples of one problem."""
    resps = results[0]
    if isinstance(resps, str):
        resps = [resps]
    verdicts = default_checker().grade_many([(r, doc["answer"]) for r in resps])
    return sample_metrics(verdicts)
