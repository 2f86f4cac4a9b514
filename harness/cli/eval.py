"""``statbench eval`` (one run, or a checkpoint × seed matrix on an executor) and ``make-tiny-model``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err, fail, parse_kv, print_results, write_outcome
from harness.cli.options import (
    DEFAULT_RUNS,
    EnvAllow,
    ExecutorOptions,
    GpusPerJob,
    Image,
    RayAddress,
    ResultFile,
    RunsDir,
    SlurmGpus,
    SlurmPartition,
    SlurmTime,
)


def eval_(
    model: Annotated[
        str | None,
        typer.Option(
            help="Checkpoint directory (hf, vllm) or served model name (openai); comma-separated: a matrix. "
            "An existing path is never split; write \\, for a comma inside a name."
        ),
    ] = None,
    tasks: Annotated[
        str | None, typer.Option(help="Comma-separated task names (see `statbench tasks`).")
    ] = None,
    suite: Annotated[
        str | None, typer.Option(help="A named task list: stat-paper, reasoning, smoke.")
    ] = None,
    backend: Annotated[str, typer.Option(help="hf | vllm | openai")] = "hf",
    protocol: Annotated[
        str, typer.Option(help="stat-paper | r1 | greedy | consistency-5 (`statbench ls protocols`)")
    ] = "stat-paper",
    limit: Annotated[int | None, typer.Option(help="First N problems per task.")] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed (part of every cache key).")] = 0,
    batch_size: Annotated[int, typer.Option(help="Prompts per generation batch.")] = 8,
    max_gen_toks: Annotated[
        int | None, typer.Option(help="Override the protocol's generation budget (recorded).")
    ] = None,
    chat_template: Annotated[
        str,
        typer.Option(
            help="auto (use the tokenizer's if it has one) | on | off | @FILE (a custom Jinja chat template; "
            "its sha256 is part of the run's spec)"
        ),
    ] = "auto",
    system_prompt: Annotated[
        str | None,
        typer.Option(
            help="TEXT or @FILE: a system prompt (the system message under a chat template; openai: a system "
            "message; no template: prepended). Recorded and hashed; default: none."
        ),
    ] = None,
    chat_template_kwargs: Annotated[
        list[str] | None,
        typer.Option(
            help="K=V passed to the chat template (repeatable), e.g. enable_thinking=true; openai: sent as "
            "extra_body.chat_template_kwargs (vLLM/SGLang servers). Recorded and hashed."
        ),
    ] = None,
    num_fewshot: Annotated[
        int | None,
        typer.Option(
            help="N bundled exemplars before each problem, for base models: the Minerva MATH 4-shot prompt "
            "(math, amc, aime tasks; N<=4) or GSM8K 8-shot chain-of-thought (N<=8). Hashed."
        ),
    ] = None,
    think_delimiters: Annotated[
        str | None,
        typer.Option(
            help="OPEN,CLOSE of a reasoning trace (default <think>,</think>): only the text after CLOSE is "
            "graded; an unclosed trace is status unfinished_reasoning (wrong)."
        ),
    ] = None,
    include_path: Annotated[
        list[Path] | None,
        typer.Option(
            "--include-path",
            help="A task folder with your own benchmarks (task YAMLs naming JSONL files; repeatable), as "
            "lm-eval's --include_path. See docs/evaluation.md#your-own-benchmark.",
        ),
    ] = None,
    tensor_parallel_size: Annotated[int | None, typer.Option(help="vllm: tensor parallel size.")] = None,
    data_parallel_size: Annotated[
        int | None,
        typer.Option(help="vllm: N engine replicas (one per GPU group), requests sharded over them."),
    ] = None,
    backend_arg: Annotated[
        list[str] | None,
        typer.Option(
            help="KEY=VALUE passed to the backend (repeatable), e.g. dtype=bfloat16, base_url=..., gpu_memory_utilization=0.9."
        ),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option(
            help="KEY=VALUE row label for leaderboards (repeatable), e.g. method=stat-sel stage=sft."
        ),
    ] = None,
    runs_dir: RunsDir = DEFAULT_RUNS,
    force: Annotated[
        bool, typer.Option(help="Write a new run record even if an identical run exists.")
    ] = False,
    spec: Annotated[
        Path | None,
        typer.Option(
            help="A job spec file (JSON: {spec: EvalSpec, runs_dir, force}) instead of the options above; what executors pass."
        ),
    ] = None,
    result_file: ResultFile = None,
    seeds: Annotated[
        str | None,
        typer.Option(help="Comma-separated seeds: a job matrix (with several --model values too)."),
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(help="local | docker | ray | slurm: run the matrix as jobs (default: in-process)."),
    ] = None,
    image: Image = "statbench-eval:latest",
    env: EnvAllow = None,
    gpus_per_job: GpusPerJob = 1,
    ray_address: RayAddress = None,
    slurm_partition: SlurmPartition = None,
    slurm_gpus_per_job: SlurmGpus = None,
    slurm_time: SlurmTime = "4:00:00",
) -> None:
    """Evaluate a checkpoint: resumable (request cache), recorded (runs/<run-id>/), reproducible."""
    from harness.core.errors import SpecError
    from harness.evaluation.runner import spec_from_cli
    from harness.evaluation.spec import expand_tasks

    if spec is not None:
        job = _load_job(spec, result_file)
        _run_one(job.spec, Path(job.runs_dir), job.force, result_file)
        return
    try:
        if not model:
            raise SpecError("give --model (and --tasks/--suite), or --spec JOB.json")
        args = parse_kv(backend_arg or [])
        if tensor_parallel_size:
            args["tensor_parallel_size"] = tensor_parallel_size
        if data_parallel_size:
            args["data_parallel_size"] = data_parallel_size
        if include_path:
            from harness.core.task_folders import include_path as register

            register(include_path)  # before the task names are expanded and checked
        task_list = expand_tasks([t.strip() for t in tasks.split(",") if t.strip()] if tasks else [], suite)
        models = split_models(model)
        seed_list = _seeds(seeds) if seeds else [seed]
        labels = {k: str(v) for k, v in parse_kv(label or [], typed=False).items()}  # as typed
        common = {
            "protocol": protocol,
            "limit": limit,
            "batch_size": batch_size,
            "max_gen_toks": max_gen_toks,
            "backend_args": args,
            "labels": labels,
            **prompt_options(
                chat_template,
                system_prompt,
                chat_template_kwargs,
                num_fewshot,
                think_delimiters,
                include_path,
            ),
        }
        if executor or len(models) > 1 or len(seed_list) > 1:
            specs = [
                spec_from_cli(m, backend, [t], seed=s, **common)
                for m in models
                for t in task_list
                for s in seed_list
            ]
            slurm = (slurm_partition, slurm_gpus_per_job, slurm_time)
            opts = ExecutorOptions(
                executor or "local", image, tuple(env or ()), gpus_per_job, ray_address, slurm
            )
            _matrix(specs, runs_dir, force, opts)
            return
        if not models:
            raise SpecError("--model is empty")
        one = spec_from_cli(models[0], backend, task_list, seed=seed, **common)
    except SpecError as e:
        write_outcome(result_file, error=str(e))
        fail(e)
    _run_one(one, runs_dir, force, result_file)


def _text_or_file(option: str, value: str) -> str:
    """``TEXT`` as is; ``@FILE``: the file's text (one error line when it cannot be read)."""
    from harness.core.errors import SpecError

    if not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(
            f"{path}: cannot read the {option} file ({getattr(e, 'strerror', None) or e})"
        ) from None


def prompt_options(
    chat_template: str,
    system_prompt: str | None,
    chat_template_kwargs: list[str] | None,
    num_fewshot: int | None,
    think_delimiters: str | None,
    include_path: list[Path] | None,
) -> dict:
    """The EvalSpec fields of the prompt and reasoning options (only those given: defaults keep spec hashes)."""
    from harness.core.errors import SpecError

    out: dict = {}
    if chat_template.startswith("@"):
        path = Path(chat_template[1:])
        if not path.is_file():
            raise SpecError(f"{path}: --chat-template @FILE: no such file (or not a file)")
        import jinja2  # a syntax error would otherwise surface after the model loaded, as an internal error

        text = _text_or_file("--chat-template", chat_template)
        if not text.strip():  # every prompt would be empty
            raise SpecError(f"{path}: --chat-template @FILE is empty")
        try:  # as transformers compiles it (loopcontrols; its own {% generation %} tag is not known here)
            jinja2.Environment(extensions=["jinja2.ext.loopcontrols"]).parse(text)
        except jinja2.TemplateSyntaxError as e:
            if "'generation'" not in e.message:
                raise SpecError(f"{path} line {e.lineno}: not a Jinja chat template ({e.message})") from None
        out.update(chat_template="on", chat_template_file=str(path.resolve()))
    else:
        out["chat_template"] = chat_template
    if system_prompt is not None:
        out["system_prompt"] = _text_or_file("--system-prompt", system_prompt)
    if chat_template_kwargs:
        try:
            out["chat_template_kwargs"] = parse_kv(chat_template_kwargs)
        except typer.BadParameter as e:
            raise SpecError(f"--chat-template-kwargs: {e.message}") from None
        bad = [k for k in out["chat_template_kwargs"] if not k.isidentifier()]
        if bad:  # a template reads its variables by name: `=x` or ` k =1` would be silently unused
            raise SpecError(f"--chat-template-kwargs: KEY must be a template variable name, got {bad[0]!r}")
    if num_fewshot is not None:
        out["num_fewshot"] = num_fewshot
    if think_delimiters is not None:
        parts = [p.strip() for p in think_delimiters.split(",")]  # "<think>, </think>": the space is not
        if len(parts) != 2:  # part of the delimiter (it would never match, every trace would look unfinished)
            raise SpecError(f"--think-delimiters: expected OPEN,CLOSE, got {think_delimiters!r}")
        out["think"] = (parts[0], parts[1])
    if include_path:
        out["include_path"] = [str(p) for p in include_path]
    return out


def split_models(model: str) -> list[str]:
    """``--model`` as a list: an existing path (a checkpoint folder whose name has a comma) is one model;
    otherwise split on commas, where ``\\,`` is a literal comma."""
    import re

    if Path(model).exists():
        return [model]
    parts = [p.replace("\\,", ",").strip() for p in re.split(r"(?<!\\),", model)]
    return [p for p in parts if p]


def _seeds(seeds: str) -> list[int]:
    from harness.core.errors import SpecError

    try:
        return [int(x) for x in seeds.split(",") if x.strip()]
    except ValueError:
        raise SpecError(f"--seeds: expected comma-separated integers, got {seeds!r}") from None


def _load_job(path: Path, result_file: Path | None):
    """The EvalJob in ``path``; on a bad file, one error line (and the result file says why)."""
    from harness.core.errors import SpecError

    try:
        return load_job(path)
    except SpecError as e:
        write_outcome(result_file, error=str(e))
        fail(e)


def load_job(path: Path):
    """The EvalJob in ``path`` (validated as a new request: tasks, protocol and subset files are checked);
    ``SpecError`` naming the file and what is wrong, whatever the bytes."""
    from pydantic import ValidationError

    from harness.core.errors import SpecError, validation_message
    from harness.records.models import EvalJob

    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise SpecError(f"{path}: cannot read the job spec ({e.strerror or e})") from None
    try:
        return EvalJob.model_validate_json(raw)
    except ValidationError as e:
        raise SpecError(f"{path}: {validation_message(e)}") from None
    except (ValueError, RecursionError) as e:
        raise SpecError(f"{path}: not a valid job spec ({type(e).__name__}: {e})") from None


def _run_one(spec, runs_dir: Path, force: bool, result_file: Path | None) -> None:
    """One evaluation in this process, with a progress bar; prints the results, writes the result file."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from harness.core.errors import StatbenchError
    from harness.core.redact import redact_text
    from harness.evaluation.progress import PlainProgress, format_line
    from harness.evaluation.runner import run_eval

    prog = Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[rate]}"),
        console=err,
        disable=not err.is_terminal,
    )

    def log(message: str) -> None:
        err.print(redact_text(message), highlight=False, markup=False, soft_wrap=True)

    plain = PlainProgress(log)  # every 10 % and at least every 30 s ($STATBENCH_PROGRESS_EVERY)

    def progress(totals: dict[str, int]):  # bars on a terminal, plain log lines otherwise
        if not err.is_terminal:
            return plain.factory(totals)
        ids = {t: prog.add_task(t, total=n, rate="") for t, n in totals.items()}
        overall = prog.add_task("all requests", total=sum(totals.values()), rate="")

        def advance(task: str, n: int, stats) -> None:
            prog.advance(ids[task], n)
            prog.update(overall, completed=stats.finished, rate=format_line(stats).split(", ", 1)[1])

        return advance

    try:
        with prog, plain:
            outcome = run_eval(spec, runs_dir, force=force, progress=progress, log=log)
    except StatbenchError as e:  # input (exit 2) or a failed run (exit 1)
        write_outcome(result_file, error=str(e))
        fail(e, e.exit_code)
    except RuntimeError as e:  # backend failures (CUDA errors, a dead engine): one line, exit 1
        write_outcome(result_file, error=f"{type(e).__name__}: {e}")
        fail(e, 1)
    except BaseException as e:  # Ctrl-C or a bug: the result file says so; the top level prints the line
        write_outcome(result_file, error="interrupted" if isinstance(e, KeyboardInterrupt) else repr(e))
        raise
    write_outcome(
        result_file,
        run_dir=str(outcome.run_dir),
        run_id=outcome.run_dir.name,
        generated=outcome.generated,
        cached=outcome.cached,
        reused=outcome.reused_run,
    )
    order = [t for t in spec.tasks if t in outcome.results]  # as asked, also for a reused run (stored sorted)
    print_results({t: outcome.results[t] for t in [*order, *sorted(set(outcome.results) - set(order))]})
    how = (
        "identical run already recorded; nothing generated"
        if outcome.reused_run
        else f"{outcome.generated} generated, {outcome.cached} from cache"
    )
    err.print(f"run: {outcome.run_dir}  ({how}; {outcome.seconds:.1f}s)")


def _matrix(specs, runs_dir: Path, force: bool, opts: ExecutorOptions) -> None:
    """Fan the specs (checkpoint x task x seed) out as jobs on an executor; every job writes its own run record."""
    from harness.core.fileio import format_table
    from harness.executors import ExecutorError
    from harness.executors.jobs import eval_jobs, report

    jobs = eval_jobs(specs, runs_dir, force, opts.gpus_per_job if opts.executor != "local" else 0)
    try:
        results = opts.make().run(jobs)
    except ExecutorError as e:
        fail(e, 1)
    print(format_table(["job", "status", "device", "run"], report(results), right=False))
    failed = [r for r in results if not r.ok]
    for r in failed:  # the job's last log lines (for slurm: its Slurm log when Slurm killed it)
        err.print(
            f"--- {r.job.name} failed; last lines:\n" + "\n".join(r.log_tail.strip().splitlines()[-8:]),
            markup=False,
            highlight=False,
        )
    err.print(
        f"{len(results) - len(failed)}/{len(results)} job(s) succeeded on the {opts.executor} executor; runs in {runs_dir}"
    )
    if failed:
        raise typer.Exit(1)


def make_tiny_model(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write the model to.")],
    seed: Annotated[int, typer.Option(help="Seed for tokenizer corpus and weights.")] = 0,
) -> None:
    """Build a tiny Qwen2-style model + tokenizer locally (no download), to try every command on a laptop."""
    from harness.evaluation.tinymodel import build_tiny_model

    path = build_tiny_model(out_dir, seed=seed)
    err.print(f"wrote tiny model to {path}")
