"""Functions the ``tasks/*.yaml`` lm-eval tasks call (through the 1-line shim ``tasks/utils.py``).

Loading goes through ``harness.core.tasks`` and ``harness.core.task_folders`` (sha256-verified, path-independent), scoring through
``harness.scoring`` (the one checker). No lm_eval import here: these are plain functions.
"""

from __future__ import annotations

from typing import Any

from harness.core.task_folders import read_user_task, user_docs
from harness.core.tasks import task_docs
from harness.scoring import DEFAULT_THINK, default_checker, grade_responses, reference_text, sample_metrics


def load(
    task: str,
    ids_file: str | None = None,
    num_fewshot: int | None = None,
    think: list[str] | None = None,
    think_opened: bool = False,
    **_: Any,
):
    """``custom_dataset`` for lm-eval: the task's documents as a one-split DatasetDict. ``think``/``think_opened``
    (set only when not the default): the think delimiters, and whether the chat template opens the trace;
    each document carries them to ``process_results``."""
    import datasets

    docs = task_docs(task, ids_file=ids_file, num_fewshot=num_fewshot)
    if think is not None or think_opened:
        docs = [{**d, "think": [*(think or DEFAULT_THINK), "opened" if think_opened else ""]} for d in docs]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def load_user(config_source: str | None = None, **_: Any):
    """``custom_dataset`` of a task-folder task under plain ``lm_eval --include_path DIR``: lm-eval passes the
    task YAML's path as ``config_source``; the data is read (sha256-verified) exactly as statbench reads it."""
    import datasets

    if not config_source:
        raise ValueError("load_user: lm-eval did not pass config_source (the task YAML's path)")
    _, td = read_user_task(config_source)
    assert td.user is not None
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(user_docs(td.user))})


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
    think = doc.get("think")
    verdicts = grade_responses(
        default_checker(),
        [(r, doc["answer"]) for r in resps],
        (think[0], think[1]) if think else DEFAULT_THINK,
        bool(think and think[2]),
    )  # graded on the answer after the reasoning trace (harness.scoring.reasoning)
    return sample_metrics(verdicts)
