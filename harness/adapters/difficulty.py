"""Stage 1: which questions does the student get wrong? (paper §2.1, App. C.1, E.1)

The student's responses come from the evaluation runner (``statbench eval`` machinery: cached, recorded),
on the validation split (-> Stage 2) and on the test split (-> MATH^D for this student). Three rules:

- ``prm``: a process reward model scores every step, P("+") vs P("-") after each step (the RLHFlow
  format: each step a user turn followed by an assistant "+"). Difficult if the last step scores <= tau1,
  the mean <= tau1, or any earlier step <= tau2 (tau1 = 0.85, tau2 = 0.7; default PRM
  RLHFlow/Llama3.1-8B-PRM-Mistral-Data). Steps are split on ``step_separator`` (blank lines).
- ``consistency``: 5 samples; difficult if the modal final answer appears fewer than 2 times.
- ``checker``: difficult if the final answer is wrong (needs references, which MATH has).
"""

from __future__ import annotations

from typing import Any

from harness.scoring.metrics import answer_key


def split_steps(response: str, sep: str) -> list[str]:
    """Split a solution into its non-empty steps at ``sep`` (the whole response, or ``(empty)``, when there are none)."""
    steps = [s.strip() for s in response.split(sep) if s.strip()]
    return steps or [response.strip() or "(empty)"]


def prm_rule(scores: list[float], tau1: float, tau2: float) -> bool:
    """True = difficult (the paper's R(q) = 0)."""
    if not scores:
        return True
    return scores[-1] <= tau1 or sum(scores) / len(scores) <= tau1 or any(s <= tau2 for s in scores[:-1])


class PRMScorer:
    """Step scores from a PRM trained in the RLHFlow format (any causal LM with a chat template)."""

    def __init__(self, model_path: str, device: str | None = None, date: str | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        self.tok = AutoTokenizer.from_pretrained(model_path)
        template = str(getattr(self.tok, "chat_template", "") or "")
        dated = date is not None and ("strftime_now" in template or "date_string" in template)
        self.template_kwargs = {"date_string": date} if dated else {}  # Llama-3.1 PRMs write today's date
        self.model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype).to(self.device).eval()
        ids = [self.tok.encode(t, add_special_tokens=False) for t in ("+", "-")]
        if any(len(i) != 1 for i in ids):
            raise ValueError(f"{model_path}: '+' and '-' must each be a single token for PRM scoring")
        self.plus, self.minus = ids[0][0], ids[1][0]

    def _ids(self, conv: list[dict[str, str]], generation_prompt: bool) -> list[int]:
        text = self.tok.apply_chat_template(
            conv, tokenize=False, add_generation_prompt=generation_prompt, **self.template_kwargs
        )
        return list(self.tok(text, add_special_tokens=False)["input_ids"])

    def _plus_prob(self, ids: list[int], positions: list[int]) -> list[float]:
        with self.torch.inference_mode():
            logits = self.model(self.torch.tensor([ids], device=self.device)).logits[0]
        pair = logits[positions][:, [self.plus, self.minus]].float().softmax(-1)[:, 0]
        return [float(x) for x in pair]

    def score(self, question: str, steps: list[str]) -> list[float]:
        """P("+") for each step: the model's next-token distribution right where the assistant's label goes."""
        conv: list[dict[str, str]] = []
        prefixes = []
        for i, step in enumerate(steps):
            conv.append({"role": "user", "content": f"{question} {step}" if i == 0 else step})
            prefixes.append(self._ids(conv, generation_prompt=True))
            conv.append({"role": "assistant", "content": "+"})
        full = self._ids(conv, generation_prompt=False)
        if all(full[: len(p)] == p for p in prefixes):  # one forward pass serves every step
            return self._plus_prob(full, [len(p) - 1 for p in prefixes])
        return [self._plus_prob(p, [len(p) - 1])[0] for p in prefixes]


def classify(
    samples: list[dict[str, Any]], spec, problems: dict[str, str], prm: PRMScorer | None = None
) -> dict[str, Any]:
    """Per question: difficult or not, with the evidence. ``samples`` are run-record sample rows."""
    by_q: dict[str, list[dict[str, Any]]] = {}
    for r in samples:
        by_q.setdefault(str(r["id"]), []).append(r)
    out: dict[str, Any] = {}
    for qid, rows in sorted(by_q.items()):
        if spec.method == "checker":
            acc = sum(r["correct"] for r in rows) / len(rows)
            out[qid] = {"difficult": acc < 0.5, "accuracy": acc}
        elif spec.method == "consistency":
            votes: dict[str, int] = {}
            for r in rows:
                if r["extracted"] is not None:
                    k = answer_key(r["extracted"])
                    votes[k] = votes.get(k, 0) + 1
            modal = max(votes.values(), default=0)
            out[qid] = {
                "difficult": modal < spec.consistency_min_count,
                "modal_count": modal,
                "samples": len(rows),
            }
        else:
            scores = prm.score(problems[qid], split_steps(rows[0]["response"], spec.step_separator))
            out[qid] = {
                "difficult": prm_rule(scores, spec.tau1, spec.tau2),
                "step_scores": [round(s, 4) for s in scores],
            }
        out[qid]["response"] = rows[0]["response"]
        out[qid]["correct"] = bool(rows[0]["correct"])
    return out


def agreement_with_checker(verdicts: dict[str, Any]) -> dict[str, float]:
    """How well the rule separates wrong from right answers (the paper's Table 8/11 classification view)."""
    tp = sum(v["difficult"] and not v["correct"] for v in verdicts.values())
    fp = sum(v["difficult"] and v["correct"] for v in verdicts.values())
    fn = sum(not v["difficult"] and not v["correct"] for v in verdicts.values())
    tn = sum(not v["difficult"] and v["correct"] for v in verdicts.values())
    n = max(1, tp + fp + fn + tn)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return {
        "accuracy": (tp + tn) / n,
        "precision": prec,
        "recall": rec,
        "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
        "difficult": tp + fp,
        "n": n,
    }
