"""The typed run record: the one contract between eval, rescore, boards, the gate, recipe stages and executors.

A run directory ``runs/<run-id>/`` holds

- ``spec.json``: a :class:`ResolvedSpec` plus a top-level ``schema_version`` (:data:`SCHEMA_VERSION`).
  ``spec_hash`` is the sha256 of the resolved spec *without* ``spec_hash`` and ``schema_version``
  (:meth:`ResolvedSpec.payload`), exactly as before schema versions existed, so existing runs and caches
  keep matching;
- ``results.json``: ``{task: TaskResult}`` (unchanged from version 1);
- ``provenance.json``: a free-form mapping (versions, git state, hardware, generation counts);
- ``samples/<task>.jsonl``: one :class:`SampleRow` per line.

Schema versions: **1** is the layout without ``schema_version`` (every record written before it existed);
it is read through :func:`migrate_spec` (nothing else changed). **2** adds the key. A record that names any
other version is refused with one line naming the file and the version (:class:`~harness.core.errors.RecordError`).

``EvalSpec`` (what a user asks ``statbench eval`` for) lives here because the resolved spec embeds it;
its checks against the task registry and the filesystem run when a spec is *made*, not when a stored
record is *read* (``model_validate(..., context=STORED)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_serializer

from harness.core.errors import RecordError
from harness.core.hashing import sha256_json
from harness.core.pipeline import StageRecord
from harness.core.protocols import get_protocol
from harness.core.tasks import TASKS

SCHEMA_VERSION = 2
STORED = {"stored": True}  # validation context for reading a record: no registry or filesystem checks

__all__ = [
    "SCHEMA_VERSION",
    "STORED",
    "ChatTemplate",
    "EvalJob",
    "EvalSpec",
    "JobOutcome",
    "MetricValue",
    "ResolvedSpec",
    "RunRecord",
    "SampleRow",
    "SourceSpec",
    "StageRecord",
    "TaskResult",
    "migrate_spec",
]


def _checking(info: ValidationInfo) -> bool:
    return not (info.context or {}).get("stored")


class EvalSpec(BaseModel):
    """One evaluation: a model, a backend, tasks under one protocol."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # task folders (--include-path) whose tasks this spec may name; registered when the spec is made.
    # Not part of the spec hash (a path is not the benchmark): each task's definition and data sha256 are.
    include_path: list[str] = []
    model: str
    backend: Literal["hf", "vllm", "openai"] = "hf"
    # extra tasks defined as an id list over a registered task, e.g. MATH^D for one student:
    # {"statbench_mathd": {"base": "statbench_math_test4k", "ids_file": "/abs/path/mathd_ids.txt"}}
    subsets: dict[str, dict[str, str]] = {}
    tasks: list[str] = Field(min_length=1)
    protocol: str = "stat-paper"
    limit: int | None = Field(default=None, ge=1)
    seed: int = 0
    batch_size: int = Field(default=8, ge=1)
    max_gen_toks: int | None = Field(default=None, ge=1)  # overrides the protocol's budget; recorded
    chat_template: Literal["auto", "on", "off"] = "auto"
    backend_args: dict[str, Any] = {}
    labels: dict[str, str] = {}  # free-form row keys for leaderboards, e.g. method=stat-sel, stage=sft
    # prompt control and reasoning (hashed only when set: runs that do not use them keep their spec hash)
    system_prompt: str | None = None  # sent as the system message (chat) or prepended (no template)
    chat_template_kwargs: dict[str, Any] = {}  # e.g. {"enable_thinking": true}; openai: extra_body
    chat_template_file: str | None = None  # a custom chat template (its sha256 is in the resolved spec)
    num_fewshot: int | None = Field(
        default=None, ge=0
    )  # bundled exemplars (Minerva MATH 4-shot, GSM8K 8-shot CoT)
    think: tuple[str, str] | None = None  # think delimiters when not the default <think>, </think>

    @field_validator("include_path")
    @classmethod
    def _register_include_path(cls, dirs: list[str], info: ValidationInfo) -> list[str]:
        if _checking(info) and dirs:
            from harness.core.errors import StatbenchError
            from harness.core.task_folders import include_path

            try:
                include_path(dirs)  # the tasks validator below checks names against the registry
            except StatbenchError as e:
                raise ValueError(str(e)) from None
        return [str(Path(d).resolve()) for d in dirs]

    @model_serializer(mode="wrap")
    def _omit_unused_new_fields(self, handler: Any) -> dict[str, Any]:
        """A dump without the fields added after runs were recorded while they are unused, so job ids, cache
        keys and spec hashes made from a dump stay what they were for specs that do not use them."""
        data = handler(self)
        for key, default in _SPEC_DEFAULTS.items():
            if key in data and data[key] == default:
                del data[key]
        if not data.get("include_path"):
            data.pop("include_path", None)
        return data

    @field_validator("num_fewshot")
    @classmethod
    def _enough_exemplars(cls, n: int | None, info: ValidationInfo) -> int | None:
        """Refuse more shots than a task's bundled exemplar set has, before any backend loads."""
        if not n or not _checking(info) or "tasks" not in info.data:
            return n
        from harness.core.tasks import TASKS, fewshot_rows, fewshot_set

        subsets = info.data.get("subsets", {})
        for task in info.data["tasks"]:
            base = subsets.get(task, {}).get("base", task)
            if base in TASKS and n > (have := len(fewshot_rows(name := fewshot_set(base)))):
                raise ValueError(f"{n} shots for {task}: its exemplar set {name} has {have}")
        return n

    @field_validator("think")
    @classmethod
    def _think(cls, think: tuple[str, str] | None) -> tuple[str, str] | None:
        if think is not None and (not think[0] or not think[1] or think[0] == think[1]):
            raise ValueError("think delimiters must be two different non-empty strings (open, close)")
        return think

    @field_validator("subsets")
    @classmethod
    def _known_subsets(
        cls, subsets: dict[str, dict[str, str]], info: ValidationInfo
    ) -> dict[str, dict[str, str]]:
        if not _checking(info):
            return subsets
        for name, sub in subsets.items():
            if sub.get("base") not in TASKS:
                raise ValueError(f"subset {name}: base must be a registered task, got {sub.get('base')!r}")
            if not Path(sub.get("ids_file", "")).is_file():
                raise ValueError(f"subset {name}: ids_file {sub.get('ids_file')!r} does not exist")
        return subsets

    @field_validator("tasks")
    @classmethod
    def _known_tasks(cls, tasks: list[str], info: ValidationInfo) -> list[str]:
        if not _checking(info):
            return tasks
        subsets = (info.data or {}).get("subsets") or {}
        unknown = [t for t in tasks if t not in TASKS and t not in subsets]
        if unknown:
            raise ValueError(f"unknown task(s) {', '.join(unknown)}; valid tasks: {', '.join(TASKS)}")
        return list(dict.fromkeys(tasks))

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, protocol: str, info: ValidationInfo) -> str:
        if _checking(info):
            get_protocol(protocol)
        return protocol

    def base_task(self, task: str) -> str:
        """The registered task an id-list subset task draws from (the task itself otherwise)."""
        return self.subsets[task]["base"] if task in self.subsets else task


class SourceSpec(BaseModel):
    """The ``spec`` of a rescore of lm-eval ``--log_samples`` output: nothing is known about the run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: None = None
    backend: None = None
    protocol: None = None


class ChatTemplate(BaseModel):
    """Whether prompts went through a chat template (``on``/``off``/``server``) and its sha256."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: str
    sha256: str | None = None


_EVAL_KEYS = (
    "kind",
    "spec",
    "model_fingerprint",
    "chat_template",
    "tasks",
    "data_sha256",
    "prompt_version",
    "versions",
)
# EvalSpec fields added after runs were recorded: left out of the hashed payload while at their default, so
# every run that does not use them keeps its spec hash; include_path is never hashed (see EvalSpec).
_SPEC_DEFAULTS: dict[str, Any] = {
    "system_prompt": None,
    "chat_template_kwargs": {},
    "chat_template_file": None,
    "num_fewshot": None,
    "think": None,
}
_SPEC_UNHASHED = ("include_path",)
_RESCORE_KEYS = ("kind", "source", "source_kind", "source_spec_hash", "spec", "model_fingerprint", "versions")


class ResolvedSpec(BaseModel):
    """Everything that decides a run's outcome (``spec.json``); its ``spec_hash`` names the run.

    ``kind: eval`` records carry the chat template, the per-task generation config, data hashes and the
    prompt version; ``kind: rescore`` records carry their ``source`` (path), ``source_kind`` (``run`` or
    ``lm-eval``) and ``source_spec_hash``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["eval", "rescore"]
    spec: EvalSpec | SourceSpec
    model_fingerprint: str | None = None
    versions: dict[str, Any] = {}
    # kind: eval
    chat_template: ChatTemplate | None = None
    tasks: dict[str, dict[str, Any]] | None = (
        None  # per task: the lm-eval generation config the protocol renders
    )
    data_sha256: dict[str, str] | None = None
    prompt_version: Any = None
    # kind: rescore
    source: str | None = None
    source_kind: Literal["run", "lm-eval"] | None = None
    source_spec_hash: str | None = None
    spec_hash: str = ""

    def payload(self) -> dict[str, Any]:
        """The dict whose sha256 is ``spec_hash`` (the same keys and values as before schema versions)."""
        dump = self.model_dump(mode="json")
        if isinstance(dump.get("spec"), dict):
            dump["spec"] = {
                k: v
                for k, v in dump["spec"].items()
                if k not in _SPEC_UNHASHED and not (k in _SPEC_DEFAULTS and v == _SPEC_DEFAULTS[k])
            }
        return {k: dump[k] for k in (_EVAL_KEYS if self.kind == "eval" else _RESCORE_KEYS)}

    def with_hash(self) -> ResolvedSpec:
        """This spec with ``spec_hash`` computed from :meth:`payload`."""
        return self.model_copy(update={"spec_hash": sha256_json(self.payload())})

    def to_json(self) -> dict[str, Any]:
        """What ``spec.json`` holds: the payload, ``spec_hash`` and ``schema_version``."""
        return {**self.payload(), "spec_hash": self.spec_hash, "schema_version": SCHEMA_VERSION}

    @property
    def eval_spec(self) -> EvalSpec | None:
        """The user's request, or None for a rescore of lm-eval output."""
        return self.spec if isinstance(self.spec, EvalSpec) else None

    @property
    def model(self) -> str | None:
        """The model path (or served name) the run evaluated, if known."""
        return self.spec.model

    @property
    def protocol(self) -> str | None:
        """The protocol the run was generated under, if known."""
        return self.spec.protocol

    def generation(self, task: str) -> Any:
        """The task's ``generation_kwargs`` (None when the record has no per-task config)."""
        return ((self.tasks or {}).get(task) or {}).get("generation_kwargs")


class MetricValue(BaseModel):
    """One aggregate metric over problems: mean and lm-eval's stderr."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    stderr: float | None = None


class TaskResult(BaseModel):
    """One task's entry in ``results.json``: the headline metric, all metrics and the health rates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    protocol: str | None = None
    metric: str
    metric_label: str | None = None
    value: float | None = None
    stderr: float | None = None
    n: int
    k: int
    metrics: dict[str, MetricValue] = {}
    truncation_rate: float | None = None
    no_answer_rate: float | None = None
    timeout_rate: float | None = None
    mean_tokens: float | None = None
    # reasoning models (None in records written before these existed)
    unfinished_reasoning_rate: float | None = None  # share of samples whose think block never closed
    mean_reasoning_tokens: float | None = None
    mean_answer_tokens: float | None = None

    @property
    def label(self) -> str:
        """The metric's display label (``avg@16``, ``pass@1``), else its name."""
        return self.metric_label or self.metric


class SampleRow(BaseModel):
    """One graded generation (a line of ``samples/<task>.jsonl``).

    Eval rows carry the prompt, token count and finish reason; rescore rows also carry ``previous_correct``
    (the verdict before re-grading) and, from lm-eval sources, ``previous_doc_score``. Written with the keys
    that were set (``exclude_unset``), so a row reads back as it was written.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Any = None
    doc_id: Any
    sample: int
    prompt: Any = None
    response: str
    reference: str
    tokens: int | None = None
    finish_reason: str | None = None
    truncated: bool | None = None
    extracted: str | None = None
    correct: bool | None = None
    status: str = "ok"
    method: str = ""
    previous_doc_score: float | None = None
    previous_correct: bool | None = None
    reasoning: str | None = None  # a server's reasoning_content (kept, never graded)
    reasoning_tokens: int | None = (
        None  # generated tokens in the reasoning trace (in the text or the server's)
    )
    answer_tokens: int | None = None  # generated tokens after it (what is graded)

    @property
    def problem_id(self) -> str:
        """The problem's id as a string (its ``id``, else its ``doc_id``): how runs are paired."""
        return str(self.id if self.id is not None else self.doc_id)

    def to_json(self) -> dict[str, Any]:
        """The JSON line's mapping (the fields that were set)."""
        return self.model_dump(exclude_unset=True)


class RunRecord(BaseModel):
    """A whole run record as read back from its directory."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    schema_version: int = SCHEMA_VERSION
    run_id: str
    path: Path
    spec: ResolvedSpec
    results: dict[str, TaskResult]
    provenance: dict[str, Any] = {}


class EvalJob(BaseModel):
    """What an executor hands ``statbench eval --spec FILE``: the request, where to record it, and ``force``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec: EvalSpec
    runs_dir: str
    force: bool = False


class JobOutcome(BaseModel):
    """What a job writes to ``--result-file``: did it finish, and the run (or stage) it made.

    ``generated``/``cached`` count generations of an eval job; ``stage`` is the stage record of a
    ``statbench run --only STAGE`` job; ``error`` is the one-line reason of a failure.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    ok: bool
    run_dir: str | None = None
    run_id: str | None = None
    generated: int = 0
    cached: int = 0
    reused: bool = False
    stages: list[StageRecord] = []
    error: str | None = None


def migrate_spec(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """A stored ``spec.json`` mapping at the current schema version (a v1 record gains the key), or RecordError."""
    if not isinstance(data, dict):
        raise RecordError(f"{path}: not a run spec (expected a JSON object)")
    version = data.get("schema_version", 1)
    if version == 1:
        data = {**data, "schema_version": SCHEMA_VERSION}
    elif version != SCHEMA_VERSION:
        raise RecordError(
            f"{path}: run record schema_version {version!r} is not one this statbench reads "
            f"(1..{SCHEMA_VERSION}); upgrade statbench to read it"
        )
    return data
