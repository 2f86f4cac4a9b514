"""lm-eval shim: the task YAMLs' !function targets live in harness.evaluation.task_hooks."""

from harness.evaluation.task_hooks import doc_to_target, doc_to_text, load, process_results  # noqa: F401
