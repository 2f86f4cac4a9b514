"""lm-eval shim: the task YAMLs' !function targets live in harness.evaluation.lm_glue."""

from harness.evaluation.lm_glue import doc_to_target, doc_to_text, load, process_results  # noqa: F401
