"""``statbench eval``: resolve, reuse or run, record.

1. Validate and resolve the spec (no torch/lm_eval import): unknown tasks, protocols, a missing or
   truncated checkpoint, an unwritable runs dir all fail here, before any work.
2. A finished run with the same spec hash is returned as is (zero generations, well under 2 s).
3. Otherwise lm-eval runs the tasks with ``StatbenchLM`` in front of the backend; generations come from
   (and go to) the request cache, so a killed run resumes where it stopped.
4. Every sample is graded by the checker; lm-eval's aggregate metrics are cross-checked against the
   samples; the run directory is written atomically and indexed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import SpecError, validation_message
from harness.evaluation.cache import GenerationCache, endpoint_fingerprint, model_fingerprint, writable_dir
from harness.evaluation.spec import EvalSpec, resolve_eval
from harness.records.models import ResolvedSpec, SampleRow, TaskResult
from harness.records.provenance import core_versions
from harness.records.store import RunIndex, new_run_id, read_run, write_run

CACHE_PATH = Path(".cache") / "generations.sqlite"


@dataclass
class EvalOutcome:
    """What ``run_eval`` did: the run record's directory, its results, and whether anything was generated."""

    run_dir: Path
    results: dict[str, TaskResult]
    reused_run: bool
    generated: int
    cached: int
    seconds: float


def _fingerprint(spec: EvalSpec, cache: GenerationCache) -> str:
    if spec.backend == "openai":
        if spec.backend_args.get("model_path"):
            return model_fingerprint(Path(spec.backend_args["model_path"]), cache)
        from harness.core.redact import redact_text

        return endpoint_fingerprint(
            redact_text(str(spec.backend_args.get("base_url", "http://localhost:8000/v1"))), spec.model
        )
    return model_fingerprint(Path(spec.model), cache)


def prepare(spec: EvalSpec, runs_dir: Path) -> tuple[ResolvedSpec, GenerationCache]:
    """Check the backend args and that the runs dir is writable, open the generation cache, resolve the spec."""
    from harness.evaluation.backends import check_backend_args

    check_backend_args(spec.backend, dict(spec.backend_args))
    writable_dir(runs_dir)
    cache = GenerationCache(runs_dir / CACHE_PATH)
    return resolve_eval(spec, _fingerprint(spec, cache), core_versions()), cache


def _task_configs(resolved: ResolvedSpec, spec: EvalSpec, think_opened: bool = False) -> list[dict[str, Any]]:
    from lm_eval.tasks._yaml_loader import load_yaml

    from harness.core.tasks import tasks_dir

    cfgs = []
    from harness.core.tasks import TASKS

    for task, over in (resolved.tasks or {}).items():
        if (
            TASKS[spec.base_task(task)].user is not None
        ):  # a task-folder task: the bundled template + its name
            cfg = load_yaml(tasks_dir() / "_default_template_yaml", resolve_func=True)
            cfg.update(task=task, dataset_kwargs={"task": task})
        else:
            cfg = load_yaml(tasks_dir() / f"{spec.base_task(task)}.yaml", resolve_func=True)
        if task in spec.subsets:  # an id-list task (e.g. MATH^D) over a registered one
            cfg["task"] = task
            cfg["dataset_kwargs"] = {
                "task": spec.base_task(task),
                "ids_file": str(Path(spec.subsets[task]["ids_file"]).resolve()),
            }
        if spec.num_fewshot:  # the docs' prompts carry the exemplars (harness.core.tasks.fewshot_prompt)
            cfg["dataset_kwargs"] = {**cfg["dataset_kwargs"], "num_fewshot": spec.num_fewshot}
        if spec.think is not None or think_opened:  # what process_results splits responses with
            cfg["dataset_kwargs"] = {
                **cfg["dataset_kwargs"],
                **({"think": list(spec.think)} if spec.think else {}),
                "think_opened": think_opened,
            }
        cfg.update({k: over[k] for k in ("repeats", "generation_kwargs", "filter_list")})
        cfg["metadata"] = {**cfg.get("metadata", {}), **over["metadata"]}
        cfgs.append(cfg)
    return cfgs


def _token_split(lm, rows: list[dict[str, Any]], splits: list) -> list[tuple[int | None, int | None]]:
    """(reasoning, answer) generated tokens per sample: counted with the backend's tokenizer when it has one
    (in-text traces), else the server's reasoning_content share of the reported count, by characters."""
    texts = [s.reasoning or "" for s in splits] + [s.answer for s in splits]
    try:
        counts = lm.backend.count_tokens(texts) if any(s.reasoning for s in splits) else None
    except Exception:  # noqa: BLE001 - a closed engine: fall back to the estimate below
        counts = None
    out = []
    for i, (r, s) in enumerate(zip(rows, splits, strict=True)):
        total = r["tokens"]
        if not s.reasoning and not r.get("reasoning"):
            out.append((0, total))
        elif counts is not None and s.reasoning:
            out.append((counts[i], counts[len(splits) + i]))
        elif total is None:
            out.append((None, None))
        else:
            trace = s.reasoning or r.get("reasoning") or ""
            share = len(trace) / max(1, len(trace) + len(s.answer))
            out.append((round(total * share), total - round(total * share)))
    return out


def _samples(
    task: str, logged: list[dict], lm, meta: dict[str, Any], think: tuple[str, str], opened: bool
) -> tuple[list[SampleRow], TaskResult]:
    from harness.records.scores import task_result
    from harness.scoring import default_checker, grade_responses, reference_text, split_reasoning

    rows = []
    for s in sorted(logged, key=lambda s: s["doc_id"]):
        doc = s["doc"]
        for i, response in enumerate(s["resps"][0]):
            prompt, gen = lm.records[(task, s["doc_id"], i)]
            if gen.text != response:
                raise RuntimeError(
                    f"{task} doc {s['doc_id']} sample {i}: lm-eval response differs from the generation record"
                )
            rows.append(
                {
                    "id": doc.get("id"),
                    "doc_id": s["doc_id"],
                    "sample": i,
                    "prompt": prompt,
                    "response": response,
                    "reference": reference_text(doc["answer"]),
                    "tokens": gen.tokens,
                    "finish_reason": gen.finish_reason,
                    "truncated": gen.finish_reason == "length",
                    **({"reasoning": gen.reasoning} if gen.reasoning else {}),
                }
            )  # a server's reasoning_content, not graded
    verdicts = grade_responses(  # the answer after the reasoning trace; an unfinished trace is not graded
        default_checker(),
        [(r["response"], r["reference"]) for r in rows],
        think,
        opened,
        [r.get("reasoning") for r in rows],
    )
    splits = [split_reasoning(r["response"], think, opened, r.get("reasoning")) for r in rows]
    graded = [
        SampleRow(
            **r,
            extracted=v.extracted,
            correct=v.correct,
            status=v.status,
            method=v.method,
            reasoning_tokens=rt,
            answer_tokens=at,
        )
        for r, v, (rt, at) in zip(rows, verdicts, _token_split(lm, rows, splits), strict=True)
    ]
    return graded, task_result(task, graded, verdicts, meta)


def _task_file_hashes(tasks: list[str]) -> dict[str, str]:
    import hashlib

    from harness.core.tasks import TASKS, tasks_dir

    d = tasks_dir()
    shared = (d / "_default_template_yaml").read_bytes() + (d / "utils.py").read_bytes()

    def own(t: str) -> bytes:
        user = TASKS[t].user
        return Path(user.yaml).read_bytes() if user is not None else (d / f"{t}.yaml").read_bytes()

    return {t: hashlib.sha256(own(t) + shared).hexdigest() for t in tasks}


def _cross_check(task: str, ours: TaskResult, theirs: dict[str, Any]) -> None:
    for name, agg in ours.metrics.items():
        got = theirs.get(f"{name},all")
        if got is None or abs(got - agg.value) > 1e-9:
            raise RuntimeError(f"{task}: lm-eval {name}={got} but the graded samples give {agg.value}")


def _quiet_third_party() -> None:
    """statbench draws its own progress; silence lm-eval's and transformers' bars and chatter."""
    import logging
    import os

    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    for name in ("lm_eval", "lm-eval", "transformers", "datasets"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import lm_eval.evaluator

    # lm-eval shells out to `git describe` in the CWD (stderr noise outside a repo); statbench records the git
    # state of its own checkout in provenance.json instead.
    lm_eval.evaluator.get_git_commit_hash = lambda: None


def run_eval(
    spec: EvalSpec,
    runs_dir: Path,
    force: bool = False,
    progress: Callable[[dict[str, int]], Callable[..., None]]
    | None = None,  # see harness.evaluation.progress
    log: Callable[[str], None] = lambda _: None,
) -> EvalOutcome:
    """Evaluate ``spec`` (or return the finished run with the same spec hash) and record the run in ``runs_dir``."""
    t0 = time.perf_counter()
    runs_dir = Path(runs_dir)
    resolved, cache = prepare(spec, runs_dir)
    if not force and (hit := RunIndex(runs_dir).find_complete(resolved.spec_hash)):
        return EvalOutcome(hit, read_run(hit).results, True, 0, 0, time.perf_counter() - t0)

    _quiet_third_party()
    import lm_eval

    from harness.core.tasks import tasks_dir
    from harness.evaluation.backends import make_backend
    from harness.evaluation.cache import served_fingerprint
    from harness.evaluation.lm import StatbenchLM
    from harness.evaluation.spec import chat_template_text
    from harness.records import provenance

    log(f"loading {spec.backend} backend for {spec.model}")
    backend = make_backend(spec.backend, spec.model, dict(spec.backend_args))
    use_chat = resolved.chat_template is not None and resolved.chat_template.mode in ("on", "file")
    custom_template = Path(spec.chat_template_file).read_text() if spec.chat_template_file else None
    server_chat = spec.backend == "openai" and spec.backend_args.get("mode", "chat") == "chat"
    if (
        spec.backend == "openai"
    ):  # the server templates: the system prompt and template options go with each request
        backend.set_prompting(
            spec.system_prompt if server_chat else None, dict(spec.chat_template_kwargs), custom_template
        )
    served = spec.backend == "openai" and not spec.backend_args.get("model_path")  # weights not hashed
    cache_fp = (
        served_fingerprint(spec.model) if served else resolved.model_fingerprint
    )  # not tied to the URL list
    lm = StatbenchLM(
        backend,
        cache,
        cache_fp,
        spec.seed,
        spec.batch_size,
        spec.model,
        (custom_template or chat_template_text(Path(spec.model))) if use_chat else None,
        progress,
        chat_template_kwargs=dict(spec.chat_template_kwargs),
        custom_template=custom_template,
    )
    from lm_eval.tasks import TaskManager

    from harness.scoring import DEFAULT_THINK
    from harness.scoring.reasoning import opens_reasoning

    think = spec.think or DEFAULT_THINK
    # a chat template that opens the trace in the prompt (e.g. "<think>\n" after the generation prompt)
    opened = (
        use_chat
        and spec.backend != "openai"
        and opens_reasoning(lm.apply_chat_template([{"role": "user", "content": "?"}]), think)
    )
    try:
        out = lm_eval.simple_evaluate(
            model=lm,
            tasks=_task_configs(resolved, spec, opened),
            task_manager=TaskManager(include_path=str(tasks_dir()), include_defaults=False),
            limit=spec.limit,
            log_samples=True,
            apply_chat_template=use_chat,
            # lm-eval puts it in the system turn of the chat template, or in front of the prompt without one
            system_instruction=None if server_chat else spec.system_prompt,
            fewshot_as_multiturn=use_chat,
            random_seed=spec.seed,
            numpy_random_seed=spec.seed,
            torch_random_seed=spec.seed,
            fewshot_random_seed=spec.seed,
            verbosity="ERROR",
        )
    finally:
        backend.close()
    samples, results = {}, {}
    for task in spec.tasks:
        rows, res = _samples(task, out["samples"][task], lm, resolved.tasks[task]["metadata"], think, opened)
        _cross_check(task, res, out["results"][task])
        samples[task], results[task] = rows, res
    from harness.core.redact import redact

    prov = provenance.collect(
        {
            "checker": resolved.versions["checker"],
            "model_fingerprint": resolved.model_fingerprint,
            "chat_template_sha256": resolved.chat_template.sha256 if resolved.chat_template else None,
            "task_files_sha256": _task_file_hashes([spec.base_task(t) for t in spec.tasks]),
            "generation": {
                "generated": lm.generated,
                "from_cache": lm.reused,
                "cache": str(cache.path),
                # what produced the samples (part of every cache key); a served model's weights are not hashed
                "backend": lm.producer,
                "weights_hashed": not served,
            },
            "lm_eval_config": {k: v for k, v in (out.get("config") or {}).items() if k != "model"},
        }
    )
    prov = redact(prov)  # no password or token from a URL or option reaches provenance.json
    run_dir = write_run(
        runs_dir,
        new_run_id(Path(spec.model).name or spec.model, resolved.spec_hash),
        resolved,
        results,
        prov,
        samples,
    )
    return EvalOutcome(run_dir, results, False, lm.generated, lm.reused, time.perf_counter() - t0)


def spec_from_cli(model: str, backend: str, tasks: list[str], **kw: Any) -> EvalSpec:
    """Build and validate an EvalSpec, turning pydantic errors into one readable SpecError."""
    from pydantic import ValidationError

    from harness.evaluation.backends import check_backend_args

    try:
        spec = EvalSpec(model=model, backend=backend, tasks=tasks, **kw)
    except ValidationError as e:
        raise SpecError(validation_message(e)) from None
    check_backend_args(spec.backend, dict(spec.backend_args))
    return spec
