"""Evaluation protocol presets, in one place.

A protocol fixes sampling (temperature, top_p), k samples per problem, the generation budget and the
headline metric, per task family (``math`` | ``amc`` | ``aime``). The shipped task YAMLs are the
``stat-paper`` rendering (a test keeps them in sync); ``statbench eval --protocol`` applies another.

lm-eval footgun: ``do_sample: false`` silently forces temperature 0 whatever else is asked
(lm-eval's generate_until drops the temperature when do_sample is false). Here ``do_sample`` is always derived from the temperature, and
``check_generation`` refuses any config where the two disagree.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.core.errors import ProtocolError

FILTER_NAME = "all"  # metric keys read "<metric>,all"
METRICS = ("avg_at_k", "pass_at_k", "maj_at_k", "no_answer")
STOP = ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>"]


class Sampling(BaseModel):
    """How one task family is sampled and scored under a protocol."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(ge=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    k: int = Field(default=1, ge=1)
    max_gen_toks: int = Field(ge=1)
    primary_metric: str = "avg_at_k"
    label: str  # what the headline number is called, e.g. "pass@1", "avg@64", "pass@64"


class Protocol(BaseModel):
    """A named sampling protocol: a default sampling setting and per-family overrides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    default: Sampling
    families: dict[str, Sampling] = {}

    def sampling(self, family: str) -> Sampling:
        return self.families.get(family, self.default)


PROTOCOLS: dict[str, Protocol] = {
    "stat-paper": Protocol(
        name="stat-paper",
        description="STAT paper (arXiv 2510.10023): pass@1 at T=0.1 for MATH-like sets, GSM8K and "
        "MATH-Perturb; AMC23 avg@64 and AIME24/25 pass@64 at T=1.0; 2048 new tokens.",
        default=Sampling(temperature=0.1, k=1, max_gen_toks=2048, label="pass@1"),
        families={
            "amc": Sampling(temperature=1.0, k=64, max_gen_toks=2048, label="avg@64"),
            "aime": Sampling(
                temperature=1.0, k=64, max_gen_toks=2048, primary_metric="pass_at_k", label="pass@64"
            ),
        },
    ),
    "r1": Protocol(
        name="r1",
        description="DeepSeek-R1 / open-r1 practice: T=0.6, top_p=0.95, avg@16 everywhere, 32k new tokens.",
        default=Sampling(temperature=0.6, top_p=0.95, k=16, max_gen_toks=32768, label="avg@16"),
    ),
    "greedy": Protocol(
        name="greedy",
        description="Greedy decoding, one sample, 2048 new tokens.",
        default=Sampling(temperature=0.0, k=1, max_gen_toks=2048, label="pass@1"),
    ),
    # Stage 1's consistency heuristic (paper Table 11): 5 samples per question; T is unstated, 0.7 chosen.
    "consistency-5": Protocol(
        name="consistency-5",
        description="Stage-1 consistency heuristic: 5 samples at T=0.7, top_p=0.95, 2048 new tokens.",
        default=Sampling(temperature=0.7, top_p=0.95, k=5, max_gen_toks=2048, label="avg@5"),
    ),
}


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``; an unknown name raises ``ProtocolError`` listing the valid ones."""
    if name not in PROTOCOLS:
        raise ProtocolError(f"unknown protocol '{name}'; valid protocols: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def render(protocol: str, family: str) -> dict[str, Any]:
    """The lm-eval task-config keys a protocol sets for a task family."""
    p = get_protocol(protocol)
    s = p.sampling(family)
    gen: dict[str, Any] = {
        "until": list(STOP),
        "max_gen_toks": s.max_gen_toks,
        "do_sample": s.temperature > 0,
    }
    gen["temperature"] = s.temperature
    if s.temperature > 0:
        gen["top_p"] = s.top_p
    return {
        "repeats": s.k,
        "generation_kwargs": gen,
        "filter_list": [{"name": FILTER_NAME, "filter": [{"function": "take_first_k", "k": s.k}]}],
        "metadata": {
            "protocol": p.name,
            "family": family,
            "primary_metric": s.primary_metric,
            "metric_label": s.label,
        },
    }


def check_generation(task: str, cfg: dict[str, Any]) -> None:
    """Refuse configs where lm-eval would silently decode differently from what was asked."""
    gen = cfg.get("generation_kwargs") or {}
    temp = float(gen.get("temperature", 0.0))
    do_sample = bool(gen.get("do_sample", False))
    repeats = int(cfg.get("repeats", 1))
    if temp > 0 and not do_sample:
        raise ProtocolError(
            f"{task}: temperature={temp} with do_sample=false; lm-eval would silently decode greedily. "
            "Set do_sample: true or temperature: 0."
        )
    if do_sample and temp == 0:
        raise ProtocolError(f"{task}: do_sample=true with temperature=0 is ambiguous; pick one.")
    if repeats > 1 and not do_sample:
        raise ProtocolError(
            f"{task}: repeats={repeats} with greedy decoding gives {repeats} identical samples."
        )
    k = [
        f.get("k")
        for flt in cfg.get("filter_list") or []
        for f in flt.get("filter", [])
        if f.get("function") == "take_first_k"
    ]
    if k and k[0] != repeats:
        raise ProtocolError(
            f"{task}: take_first_k k={k[0]} differs from repeats={repeats}; metrics would drop samples."
        )
