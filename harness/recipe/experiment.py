"""The experiment spec behind ``statbench run EXPERIMENT.yaml`` (validated; unknown keys are errors).

A spec may ``extends: other.yaml`` (path relative to the file): the parent is deep-merged under it, so a
variant is a short diff over a base config. Hyperparameters come from a named preset (``paper`` is the STAT
paper's App. C.1 recipe) with per-key overrides. Every place the paper is ambiguous is a knob here; the
README lists the choice made for each.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.core.errors import SpecError, validation_message
from harness.core.protocols import get_protocol
from harness.core.task_folders import INCLUDE_ENV, include_path
from harness.core.tasks import SUITES, TASKS
from harness.recipe.methods import METHODS


def method_uses_teacher(method: str, select: SelectSpec) -> bool:
    """Whether building ``method``'s training set calls the teacher (math-hard/embed-sel only for rewrites)."""
    return METHODS[method].needs_teacher(select)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StudentSpec(_Strict):
    """``student:``: the model being trained and how to run it."""

    model: str  # checkpoint directory (or a hub id already in the local HF cache, on GPU machines)
    name: str | None = None  # label used in runs and boards (default: the directory name)
    build_tiny_seed: int | None = (
        None  # build the local tiny model at `model` if it is missing (CPU examples)
    )
    backend: Literal["hf", "vllm"] = "hf"
    backend_args: dict[str, Any] = {}
    chat_template: Literal["auto", "on", "off"] = "auto"
    # the date a chat template that writes "today" (Llama 3.x: strftime_now -> date_string) sees, in its
    # own format; the same in SFT, GRPO, evaluation and the generation cache (null: the machine's clock)
    chat_template_date: str | None = "26 Jul 2024"
    batch_size: int = Field(default=8, ge=1)


class TeacherSpec(_Strict):
    """``teacher:``: the teacher model (or oracle) and how to reach it."""

    kind: Literal["openai", "oracle", "skillworld"] = (
        "openai"  # oracle: MATH ground truth; skillworld: the world's oracle
    )
    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4o-mini"  # judge, rewrites, solutions (paper default teacher)
    proposer_model: str | None = "gpt-4o"  # STAT-Syn question proposal (paper App. C.3.3); None = `model`
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(default=8, ge=1)
    temperature: float = 0.0  # judge/rewrite; proposals and solutions use `sample_temperature`
    sample_temperature: float = 0.7
    max_tokens: int = 1024
    timeout: float = 120.0
    max_retries: int = 5  # transport retries (429/5xx/timeouts), with backoff
    parse_retries: int = 2  # re-asks for a malformed reply before recording it as failed
    price_per_1m: dict[str, tuple[float, float]] = {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00)}


class DataSpec(_Strict):
    """``data:``: the training pool, the validation and test tasks and their limits."""

    pool: str = "math_train"  # the training pool P (bundled)
    val_task: str = "statbench_math_val1k"  # Q_val: Stage 1 + Stage 2
    test_task: str = "statbench_math_test4k"  # Q_test: Stage 1 -> MATH^D
    pool_limit: int | None = Field(default=None, ge=0)  # first N pool problems (CPU examples)
    val_limit: int | None = Field(default=None, ge=1)
    test_limit: int | None = Field(default=None, ge=1)
    skill_labels: Literal["adaptmi", "teacher"] = (
        "adaptmi"  # teacher: relabel with up to 5 skills per question
    )
    decontaminate: bool = True  # drop training questions that match a bundled test set (exact or n-gram)
    decontam_ngram: int = 13
    replay_pool: str | None = None  # replayed in every SFT arm (e.g. the base student's pre-training mix)
    replay_fraction: float = Field(default=0.0, ge=0.0, lt=1.0)  # share of each arm's budget that is replay


class DifficultySpec(_Strict):
    """``difficulty:``: how Stage 1 decides which questions the student finds difficult."""

    method: Literal["prm", "consistency", "checker"] = "prm"
    prm_model: str = "RLHFlow/Llama3.1-8B-PRM-Mistral-Data"
    tau1: float = 0.85
    tau2: float = 0.7
    step_separator: str = "\n\n"
    consistency_samples: Literal[5] = (
        5  # the consistency-5 protocol's k (paper Table 11): other values are refused, not ignored
    )
    consistency_min_count: int = 2  # difficult if the modal answer appears fewer times than this
    max_gen_toks: int | None = None  # student generation budget (default: the protocol's)
    protocol: str = "stat-paper"  # how the student answers for the checker/PRM rules (paper: pass@1 at T=0.1)


class MSPSpec(_Strict):
    """``msp:``: building the missing-skill profile from the teacher's judgements."""

    max_questions: int = 500
    min_skills: int = 1  # the prompt asks for 2-3; replies with fewer valid skills are kept down to this
    max_skills: int = 3
    skip_judged_correct: bool = True  # a reply judging the solution correct contributes no skills


class SelectSpec(_Strict):
    """``select:``: STAT-Sel question and answer counts."""

    questions_per_skill: int = 5  # paper B.2 and README (Algorithm 1 says 3)
    answers_per_question: int = 3  # original solution + teacher rewrites
    rewrites: bool = True  # False: original solutions only (no teacher needed for selection methods)


class SynSpec(_Strict):
    """``syn:``: STAT-Syn question synthesis and solution agreement."""

    reference_questions: int = 3
    new_questions: int = 2
    solutions: int = 3
    min_agree: int = 2


class EmbedSpec(_Strict):
    """``embed:``: the embedding baselines (Embed-Sel, Embed-Syn)."""

    model: str = "hashing"  # "hashing" (local, no model) or a checkpoint path, e.g. gte-Qwen2-7B-instruct
    top_k: int = 5
    syn_new_questions: int = Field(
        default=5, ge=1
    )  # Embed-Syn: new questions per difficult question, one per 3-subset of the top-k (at most C(top_k, 3))
    top_k_max: int | None = Field(
        default=None, ge=1
    )  # Embed-Sel: widen k (up to this) until the neighbours fill the budget (a deviation; paper: top_k)
    pooling: Literal["last", "mean"] = "last"  # checkpoint embeddings: last-token (gte-Qwen2) or mean pooling
    query_instruction: str | None = (
        "Given a math problem, retrieve math problems that test the same skills"  # prefixed to queries as "Instruct: ...\nQuery: " (gte-Qwen2's model card); the corpus gets none
    )
    trust_remote_code: bool = False  # run the checkpoint's own modeling code (gte-Qwen2-7B-instruct ships it)
    max_length: int = Field(default=512, ge=8)


class SFTSpec(_Strict):
    """SFT hyperparameters (a preset, overridden by ``hparams.sft``)."""

    method: Literal["qlora", "lora", "full"] = "qlora"  # qlora falls back to lora where CUDA is missing
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    optim: str = "paged_adamw_8bit"  # on CPU: adamw_torch
    gradient_checkpointing: bool = True
    epochs: float = 3
    max_steps: int | None = None
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.03
    per_device_batch_size: int = Field(default=2, ge=1)  # micro-batch per process
    grad_accum: int = Field(
        default=4, ge=1
    )  # on one process; with k processes: effective batch / (micro x k)
    max_grad_norm: float = 0.3
    weight_decay: float = 0.1
    learning_rates: list[float] = [2e-4]  # paper sweeps {5e-4, 2e-4, 1e-4, 8e-5, 2e-5}; picked on val
    max_length: int = 2048
    group_by_length: bool = True
    save_steps: int = 200


class GRPOSpec(_Strict):
    """GRPO hyperparameters (a preset, overridden by ``hparams.grpo``)."""

    learning_rate: float = 5e-7
    lr_scheduler: str = "constant"
    beta: float = 0.0  # no KL
    questions_per_step: int = 256
    num_generations: int = 4
    mini_batch_questions: int = 64  # questions per optimizer step (x num_generations sequences)
    micro_batch: int | None = Field(
        default=None, ge=1
    )  # sequences per forward/backward per process (None: the largest divisor of the step's share <= 4)
    gradient_checkpointing: bool = True
    # TRL's loss settings, recorded in the stage summary (TRL 1.16 defaults; verl's GRPO defaults agree:
    # token-level normalisation over the accumulated batch, group-std reward scaling, clip 0.2)
    loss_type: Literal["dapo", "grpo", "dr_grpo", "bnpo"] = "dapo"
    scale_rewards: Literal["group", "batch", "none"] = "group"
    epsilon: float = 0.2
    max_prompt_tokens: int = 512  # prompt allowance in the memory estimate (MATH prompts are shorter)
    vllm_gpu_memory_utilization: float = Field(default=0.3, gt=0, lt=1)  # colocated vLLM's share of the GPU
    max_completion_length: int = 2048
    epochs: float = 6
    max_steps: int | None = None
    temperature: float = 1.0
    question_limit: int | None = (
        None  # a seeded sample (data_seed) of N questions of the (decontaminated) pool
    )
    use_vllm: Literal["auto", "on", "off"] = "auto"
    save_steps: int = 50


class HardwareSpec(_Strict):
    """``hardware:``: the GPU each training stage gets, for the dry run's batch plan and memory check."""

    gpu_memory_gb: float = Field(default=80, gt=0)  # H100 80GB
    gpus: int = Field(default=1, ge=1)  # data-parallel processes per SFT/GRPO stage


class HParams(_Strict):
    """``hparams:``: a preset plus SFT and GRPO overrides."""

    preset: Literal["paper", "cpu-tiny"] = "paper"
    sft: dict[str, Any] = {}
    grpo: dict[str, Any] = {}
    # TRL's ``report_to`` for the SFT and GRPO stages (e.g. [wandb]; its own env vars, such as WANDB_PROJECT,
    # pass through). Where training logs go changes no output, so it is not part of any stage hash.
    report_to: list[Literal["wandb", "mlflow", "tensorboard", "trackio"]] = []


class ExperimentEval(_Strict):
    """``eval:``: the tasks, protocol and limits of the final evaluations."""

    suite: str | None = "stat-paper"
    tasks: list[str] = []
    protocol: str = "stat-paper"
    limit: int | None = None
    max_gen_toks: int | None = None
    mathd: bool = True  # also score MATH^D (the student's Stage-1 difficult subset of the test split)
    lr_select_task: str = "statbench_math_val1k"  # where the SFT learning rate is picked (paper: unspecified)


class ExperimentSpec(_Strict):
    """One experiment file: student, teacher, data, methods, training and evaluation."""

    name: str
    seeds: list[int] = [0]
    # task folders (lm-eval's --include_path) whose tasks this experiment names; relative to the spec file
    # ({spec_dir} also works); registered before the task names are checked, passed to every evaluation
    include_path: list[str] = []
    student: StudentSpec
    teacher: TeacherSpec = TeacherSpec()
    data: DataSpec = DataSpec()
    difficulty: DifficultySpec = DifficultySpec()
    msp: MSPSpec = MSPSpec()
    select: SelectSpec = SelectSpec()
    syn: SynSpec = SynSpec()
    embed: EmbedSpec = EmbedSpec()
    methods: list[str] = list(METHODS)
    post_training: list[Literal["none", "grpo"]] = ["none", "grpo"]
    grpo_methods: list[str] | None = None  # which methods get a GRPO arm (default: all)
    budget: int = 9500
    budget_policy: Literal["error", "allow-short"] = "error"  # a dataset below the budget stops the run
    hardware: HardwareSpec = HardwareSpec()
    data_seed: int = 0  # datasets are built once with this seed; `seeds` vary SFT/GRPO (the paper is silent)
    hparams: HParams = HParams()
    eval: ExperimentEval = ExperimentEval()

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        # the name becomes a folder (experiments/<name>): one plain path component, nothing that escapes it
        import re

        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,99}", v) or v.endswith("."):
            raise ValueError(
                f"{v!r} is not a usable experiment name: use 1-100 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit (it names the folder experiments/<name>)"
            )
        return v

    @field_validator("methods", "grpo_methods")
    @classmethod
    def _methods(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        bad = [m for m in v if m not in METHODS]
        if bad:
            raise ValueError(f"unknown method(s) {', '.join(bad)}; valid: {', '.join(METHODS)}")
        return list(dict.fromkeys(v))

    def sft(self) -> SFTSpec:
        return SFTSpec(**{**PRESETS[self.hparams.preset]["sft"], **self.hparams.sft})

    def grpo(self) -> GRPOSpec:
        return GRPOSpec(**{**PRESETS[self.hparams.preset]["grpo"], **self.hparams.grpo})

    def eval_tasks(self) -> list[str]:
        tasks = list(self.eval.tasks) + (SUITES[self.eval.suite] if self.eval.suite else [])
        return list(dict.fromkeys(tasks))

    def student_name(self) -> str:
        return self.student.name or Path(self.student.model).name

    def with_workdir(self, workdir: Path, spec_dir: Path | None = None) -> ExperimentSpec:
        """Substitute ``{workdir}`` and ``{spec_dir}`` in model paths (a tiny student built inside the
        experiment; a checkpoint shipped next to the spec file)."""
        sub = lambda v: v.replace("{workdir}", str(workdir)).replace("{spec_dir}", str(spec_dir or "."))  # noqa: E731
        return self.model_copy(
            update={
                "student": self.student.model_copy(update={"model": sub(self.student.model)}),
                "difficulty": self.difficulty.model_copy(
                    update={"prm_model": sub(self.difficulty.prm_model)}
                ),
            }
        )


PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    # STAT paper App. C.1 (QLoRA r16/a32/.05 NF4, paged AdamW 8-bit, 3 epochs, cosine, 3% warmup,
    # 2 x 4 = effective batch 8, clip .3, wd .1; GRPO constant 5e-7, no KL, 256 x 4, 2048, mini-batch 64, 6 epochs)
    "paper": {"sft": {}, "grpo": {}},
    # a few optimizer steps of everything, for the tiny CPU example and tests
    "cpu-tiny": {
        "sft": {
            "method": "lora",
            "optim": "adamw_torch",
            "max_steps": 4,
            "per_device_batch_size": 2,
            "grad_accum": 1,
            "learning_rates": [1e-3],
            "max_length": 256,
            "save_steps": 2,
            "group_by_length": False,
        },
        "grpo": {
            "learning_rate": 1e-5,
            "questions_per_step": 2,
            "num_generations": 2,
            "mini_batch_questions": 2,
            "max_completion_length": 16,
            "max_steps": 2,
            "question_limit": 8,
            "save_steps": 1,
        },
    },
}


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _load_raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in seen:
        raise SpecError(f"{path}: extends cycle")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise SpecError(f"{path}: cannot read ({e.strerror})") from e
    except UnicodeDecodeError as e:
        raise SpecError(f"{path}: not UTF-8 text (byte {e.start})") from e
    except (yaml.YAMLError, ValueError, RecursionError) as e:
        raise SpecError(f"{path}: invalid YAML ({' '.join(str(e).split())})") from e
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping at the top level")
    parent = raw.pop("extends", None)
    if parent is not None and not isinstance(parent, str):
        raise SpecError(f"{path}: extends: expected the path of another experiment file")
    if parent:
        raw = _deep_merge(_load_raw(path.parent / parent, (*seen, path)), raw)
    return raw


def _register_include_path(spec: ExperimentSpec, path: Path) -> ExperimentSpec:
    """Resolve ``include_path`` against the spec file's folder and register those task folders (also in
    ``$STATBENCH_INCLUDE_PATH``, so the commands the recipe starts see the tasks too)."""
    here = path.resolve().parent
    dirs = [str((here / d.replace("{spec_dir}", str(here))).resolve()) for d in spec.include_path]
    try:
        include_path(dirs, source="include_path")
    except SpecError as e:
        raise SpecError(f"{path}: include_path: {e}") from None
    known = [d for d in os.environ.get(INCLUDE_ENV, "").split(os.pathsep) if d.strip()]
    os.environ[INCLUDE_ENV] = os.pathsep.join(dict.fromkeys([*known, *dirs]))
    return spec.model_copy(update={"include_path": dirs})


def load_experiment(path: Path, overrides: dict[str, Any] | None = None) -> ExperimentSpec:
    """Load and validate (``overrides`` deep-merged over the file first); errors name the file and every offending key."""
    raw = _deep_merge(_load_raw(Path(path)), overrides or {})
    try:
        spec = ExperimentSpec.model_validate(raw)
    except ValidationError as e:
        raise SpecError(f"{path}: {validation_message(e)}") from None
    if spec.include_path:
        spec = _register_include_path(spec, Path(path))
    for task in spec.eval_tasks() + [spec.data.val_task, spec.data.test_task, spec.eval.lr_select_task]:
        if task not in TASKS:
            raise SpecError(f"{path}: unknown task '{task}'; valid tasks: {', '.join(TASKS)}")
    if spec.eval.suite and spec.eval.suite not in SUITES:
        raise SpecError(f"{path}: eval.suite: unknown suite '{spec.eval.suite}'; valid: {', '.join(SUITES)}")
    get_protocol(spec.eval.protocol)
    try:
        spec.sft(), spec.grpo()
    except ValidationError as e:
        raise SpecError(f"{path}: hparams: {e.errors()[0]['loc'][0]}: {e.errors()[0]['msg']}") from None
    return spec
