"""Oracle lm-eval models for checking task plumbing without a real model.

``gold`` answers every prompt with its reference, in the format a real model might use for that task
(boxed; GSM8K ``####``; AMC integers against float references; OlympiadBench lists boxed item by item).
``wrong`` answers a value that is never the reference. Through the real lm-eval pipeline and the real
checker they must score 100 % and 0 %; anything else is a bug in loading, prompting or scoring.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import lm_eval.models  # noqa: F401  - fill lm-eval's registry before we add to it (its registry is filled lazily, only when empty)
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from harness.core.tasks import TASKS, task_docs
from harness.evaluation.task_hooks import doc_to_text
from harness.scoring import reference_text
from harness.scoring.normalize import canon, parse_number

SENTINEL = "-98765.4321"


def _prompt_map() -> dict[str, tuple[str, dict[str, Any]]]:
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for task in TASKS:
        for doc in task_docs(task):
            out.setdefault(doc_to_text(doc), (task, doc))
    return out


def gold_response(task: str, doc: dict[str, Any]) -> str:
    ref = reference_text(doc["answer"])
    if task == "statbench_gsm8k":
        return f"Adding it all up gives {ref}.\n#### {ref}"
    if task == "statbench_amc23":
        return f"So the answer is $\\boxed{{{ref}}}$."  # reference_text(27.0) == "27": int against float
    if task == "statbench_olympiadbench" and doc.get("is_multiple_answer"):
        items = (
            [a.strip() for a in ref.split(",")]
            if all(parse_number(a.strip()) is not None for a in ref.split(","))
            else None
        )
        if items and len(items) > 1:
            return "The answers are " + " and ".join(f"$\\boxed{{{a}}}$" for a in reversed(items)) + "."
    return f"Let me work through this.\n\nThe final answer is $\\boxed{{{ref}}}$."


def wrong_response(task: str, doc: dict[str, Any]) -> str:
    value = parse_number(canon(reference_text(doc["answer"]))[0])
    if value is None:
        wrong = SENTINEL
    else:  # far from the reference even under relative tolerance: v -> 2v (v > 0), 0 (v < 0), 1 (v = 0)
        w = value + max(Fraction(1), abs(value))
        wrong = str(w.numerator) if w.denominator == 1 else f"\\frac{{{w.numerator}}}{{{w.denominator}}}"
    return f"I am confident.\n\nThe final answer is $\\boxed{{{wrong}}}$."


class _Oracle(LM):
    respond = staticmethod(gold_response)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self._prompts = _prompt_map()

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        out = []
        for req in requests:
            prompt = req.args[0]
            hit = self._prompts.get(prompt)
            if hit is None:  # chat template or description applied: match on the problem text
                hit = next((v for k, v in self._prompts.items() if k in prompt), None)
            if hit is None:
                raise KeyError(f"oracle: no statbench document for prompt {prompt[:80]!r}")
            out.append(self.respond(*hit))
        return out

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("statbench tasks are generative")

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("statbench tasks are generative")


class GoldLM(_Oracle):
    respond = staticmethod(gold_response)


class WrongLM(_Oracle):
    respond = staticmethod(wrong_response)


def register() -> None:
    """Register ``statbench-gold`` and ``statbench-wrong`` with lm-eval (explicitly, once; no import side effect)."""
    from lm_eval.api.registry import MODEL_REGISTRY

    for name, cls in (("statbench-gold", GoldLM), ("statbench-wrong", WrongLM)):
        if name not in MODEL_REGISTRY:
            register_model(name)(cls)
