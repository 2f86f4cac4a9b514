"""Validated specs and their hashes.

``EvalSpec`` (defined with the run record it is part of, harness/records/models.py) is what a user asks
``statbench eval`` for; ``resolve_eval`` pins everything that decides
the outcome (model fingerprint, chat template, the per-task generation config a protocol renders, data
hashes, checker and prompt versions) into the resolved spec whose sha256 names a run. Resolving needs no
torch or lm_eval import, so an already-finished run is found in well under a second.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from harness.core.errors import ProtocolError, SpecError
from harness.core.hashing import canonical_json
from harness.core.protocols import check_generation, render
from harness.core.tasks import PROMPT_VERSION, SUITES, TASKS, task_data_hashes
from harness.records.models import EvalSpec, ResolvedSpec

__all__ = [
    "EvalSpec",
    "chat_template_kwargs",
    "chat_template_text",
    "expand_tasks",
    "resolve_eval",
    "task_generation",
]


def expand_tasks(tasks: list[str] | None, suite: str | None) -> list[str]:
    """``--tasks a,b`` plus ``--suite NAME`` -> one ordered task list."""
    out = list(tasks or [])
    if suite:
        if suite not in SUITES:
            raise SpecError(f"unknown suite '{suite}'; valid suites: {', '.join(SUITES)}")
        out += SUITES[suite]
    if not out:
        raise SpecError("no tasks: give --tasks and/or --suite")
    return list(dict.fromkeys(out))


def task_generation(spec: EvalSpec, task: str) -> dict[str, Any]:
    """The lm-eval config keys the spec's protocol (and overrides) set for one task."""
    td = TASKS[spec.base_task(task)]
    cfg = render(spec.protocol, td.family)
    if td.user is not None:  # a task-folder task: its definition (fields, prompt, data sha256) is hashed
        cfg["metadata"]["task_definition"] = td.user.definition()
    elif td.prompt:  # a registry task with its own prompt template: hashed (by its text)
        from harness.core.tasks import PROMPTS

        cfg["metadata"]["prompt"] = PROMPTS[td.prompt]
    if spec.num_fewshot:  # the exemplar set (its file's sha256 is in data_sha256) and where an answer ends
        from harness.core.tasks import FEWSHOT_SETS, fewshot_set

        fs = fewshot_set(spec.base_task(task))
        cfg["generation_kwargs"]["until"] = [*FEWSHOT_SETS[fs].stop, *cfg["generation_kwargs"]["until"]]
        cfg["metadata"]["fewshot"] = {"set": fs, "n": spec.num_fewshot}
    if spec.max_gen_toks is not None:
        cfg["generation_kwargs"]["max_gen_toks"] = spec.max_gen_toks
        cfg["metadata"]["max_gen_toks_override"] = spec.max_gen_toks
    try:
        check_generation(task, cfg)
    except ProtocolError as e:
        raise SpecError(str(e)) from e
    return cfg


def chat_template_text(model_dir: Path) -> str | None:
    """The tokenizer's chat template, read from the files (no transformers import)."""
    jinja = model_dir / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text()
    cfg = model_dir / "tokenizer_config.json"
    if cfg.is_file():
        tpl = json.loads(cfg.read_text()).get("chat_template")
        if isinstance(tpl, str):
            return tpl
        if isinstance(tpl, list):  # named templates
            return canonical_json(tpl)
    return None


def _custom_template(spec: EvalSpec) -> str | None:
    if spec.chat_template_file is None:
        return None
    try:
        return Path(spec.chat_template_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"{spec.chat_template_file}: cannot read the --chat-template file ({e})") from None


def chat_template_kwargs(model_dir: Path, date: str | None) -> dict[str, Any]:
    """``{"date_string": date}`` when the model's chat template writes a date (Llama 3.x: ``strftime_now`` into
    ``date_string``), else ``{}``: the extra ``apply_chat_template`` arguments that pin a prompt to ``date``."""
    template = chat_template_text(Path(model_dir)) or ""
    if date is None or not ("strftime_now" in template or "date_string" in template):
        return {}
    return {"date_string": date}


def resolve_eval(spec: EvalSpec, fingerprint: str, versions: dict[str, str]) -> ResolvedSpec:
    """The full resolved spec (written as spec.json); the sha256 of its payload is the run's identity."""
    custom = _custom_template(spec)
    if spec.backend == "openai":
        # the server applies its own template to chat messages (or the --chat-template @FILE one, sent along)
        template, use_chat = custom, custom is not None
        template_mode = "server"
    elif custom is not None:  # --chat-template @FILE: that template, whatever the tokenizer has
        template, use_chat, template_mode = custom, True, "file"
    else:
        template = chat_template_text(Path(spec.model))
        if spec.chat_template == "on" and template is None:
            raise SpecError(f"{spec.model}: --chat-template on, but the tokenizer has no chat template")
        use_chat = spec.chat_template == "on" or (spec.chat_template == "auto" and template is not None)
        template_mode = "on" if use_chat else "off"
    if spec.chat_template_kwargs and template_mode == "off":
        raise SpecError(
            f"{spec.model}: --chat-template-kwargs, but no chat template is applied (--chat-template off, or the "
            "tokenizer has none); use --chat-template on or @FILE"
        )
    bases = [spec.base_task(t) for t in spec.tasks]
    data: dict[str, str] = {}
    for t in bases:
        data.update(task_data_hashes(t))
        if spec.num_fewshot:
            from harness.core.tasks import FEWSHOT_SETS, data_hashes, fewshot_set

            entry = FEWSHOT_SETS[fewshot_set(t)].entry
            data[entry] = data_hashes()[entry]
    data.update(
        {
            f"subset:{n}": hashlib.sha256(Path(s["ids_file"]).read_bytes()).hexdigest()
            for n, s in spec.subsets.items()
            if n in spec.tasks
        }
    )
    from harness.core.redact import redact

    return ResolvedSpec(
        kind="eval",
        # spec.json never holds a URL password or token (unchanged, and so the same hash, when there is none)
        spec=spec.model_copy(update={"backend_args": redact(dict(spec.backend_args))}),
        model_fingerprint=fingerprint,
        chat_template={
            "mode": template_mode,
            "sha256": hashlib.sha256(template.encode()).hexdigest() if (use_chat and template) else None,
        },
        tasks={t: task_generation(spec, t) for t in spec.tasks},
        data_sha256=data,
        prompt_version=PROMPT_VERSION,
        versions=versions,
    ).with_hash()
