"""``statbench eval`` (one run, or a checkpoint × seed matrix on an executor) and ``make-tiny-model``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err, fail, parse_kv, print_results
from harness.cli.options import DEFAULT_RUNS, RunsDir


def eval_(
    model: Annotated[str, typer.Option(help="Checkpoint directory (hf, vllm) or served model name (openai).")],
    tasks: Annotated[str | None, typer.Option(help="Comma-separated task names (see `statbench tasks`).")] = None,
    suite: Annotated[str | None, typer.Option(help="A named task list: stat-paper, reasoning, smoke.")] = None,
    backend: Annotated[str, typer.Option(help="hf | vllm | openai")] = "hf",
    protocol: Annotated[str, typer.Option(help="stat-paper | r1 | greedy")] = "stat-paper",
    limit: Annotated[int | None, typer.Option(help="First N problems per task.")] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed (part of every cache key).")] = 0,
    batch_size: Annotated[int, typer.Option(help="Prompts per generation batch.")] = 8,
    max_gen_toks: Annotated[int | None, typer.Option(help="Override the protocol's generation budget (recorded).")] = None,
    chat_template: Annotated[str, typer.Option(help="auto (use the tokenizer's if it has one) | on | off")] = "auto",
    tensor_parallel_size: Annotated[int | None, typer.Option(help="vllm: tensor parallel size.")] = None,
    data_parallel_size: Annotated[int | None, typer.Option(help="vllm: N engine replicas (one per GPU group), requests sharded over them.")] = None,
    backend_arg: Annotated[list[str] | None, typer.Option(help="KEY=VALUE passed to the backend (repeatable), e.g. dtype=bfloat16, base_url=..., gpu_memory_utilization=0.9.")] = None,
    label: Annotated[list[str] | None, typer.Option(help="KEY=VALUE row label for leaderboards (repeatable), e.g. method=stat-sel stage=sft.")] = None,
    runs_dir: RunsDir = DEFAULT_RUNS,
    force: Annotated[bool, typer.Option(help="Write a new run record even if an identical run exists.")] = False,
    seeds: Annotated[str | None, typer.Option(help="Comma-separated seeds: a job matrix (with several --model values too).")] = None,
    executor: Annotated[str | None, typer.Option(help="local | docker | ray: run the matrix as jobs (default: in-process).")] = None,
    image: Annotated[str, typer.Option(help="docker executor: the image to run in.")] = "statbench-eval:latest",
    env: Annotated[list[str] | None, typer.Option(help="docker executor: an environment variable to pass through (repeatable).")] = None,
    gpus_per_job: Annotated[int, typer.Option(help="docker/ray executors: GPUs per job.")] = 1,
    ray_address: Annotated[str | None, typer.Option(help="ray executor: cluster address (default: start a local one).")] = None,
) -> None:
    """Evaluate a checkpoint: resumable (request cache), recorded (runs/<run-id>/), reproducible."""
    from harness.core.errors import SpecError
    from harness.evaluation.runner import run_eval, spec_from_cli
    from harness.evaluation.spec import expand_tasks

    try:
        args = parse_kv(backend_arg or [])
        if tensor_parallel_size:
            args["tensor_parallel_size"] = tensor_parallel_size
        if data_parallel_size:
            args["data_parallel_size"] = data_parallel_size
        task_list = expand_tasks([t.strip() for t in tasks.split(",") if t.strip()] if tasks else [], suite)
        models = [m.strip() for m in model.split(",") if m.strip()]
        seed_list = [int(x) for x in seeds.split(",") if x.strip()] if seeds else [seed]
        if executor or len(models) > 1 or len(seed_list) > 1:
            _matrix(models, task_list, seed_list, runs_dir, executor or "local", image, env or [], gpus_per_job, ray_address,
                    backend=backend, protocol=protocol, limit=limit, batch_size=batch_size, max_gen_toks=max_gen_toks,
                    chat_template=chat_template, label=label or [], force=force, backend_arg=backend_arg or [],
                    tensor_parallel_size=tensor_parallel_size, data_parallel_size=data_parallel_size)
            return
        spec = spec_from_cli(model, backend, task_list, protocol=protocol, limit=limit, seed=seed, batch_size=batch_size,
                             max_gen_toks=max_gen_toks, chat_template=chat_template, backend_args=args,
                             labels={k: str(v) for k, v in parse_kv(label or []).items()})
    except SpecError as e:
        fail(e)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from harness.evaluation.progress import format_line, log_lines

    prog = Progress(TextColumn("{task.description:<32}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.fields[rate]}"), console=err, disable=not err.is_terminal)

    def progress(totals: dict[str, int]):  # bars on a terminal, a plain log line every 10 s otherwise
        if not err.is_terminal:
            return log_lines(lambda m: err.print(m, highlight=False))(totals)
        ids = {t: prog.add_task(t, total=n, rate="") for t, n in totals.items()}
        overall = prog.add_task("all requests", total=sum(totals.values()), rate="")

        def advance(task: str, n: int, stats) -> None:
            prog.advance(ids[task], n)
            prog.update(overall, completed=stats.finished, rate=format_line(stats).split(", ", 1)[1])
        return advance

    try:
        with prog:
            outcome = run_eval(spec, runs_dir, force=force, progress=progress, log=lambda m: err.print(m))
    except SpecError as e:
        fail(e)
    except RuntimeError as e:  # backend failures (server down, CUDA errors): one line; STATBENCH_DEBUG=1 for the trace
        fail(e, 1)
    print_results(outcome.results)
    how = ("identical run already recorded; nothing generated" if outcome.reused_run
           else f"{outcome.generated} generated, {outcome.cached} from cache")
    err.print(f"run: {outcome.run_dir}  ({how}; {outcome.seconds:.1f}s)")


def _matrix(models, tasks, seeds, runs_dir, executor, image, env, gpus, ray_address, **opts) -> None:
    """Fan checkpoint x task x seed out as jobs on an executor; every job writes its own run record."""
    from harness.core.fileio import format_table
    from harness.executors import ExecutorError, make_executor
    from harness.executors.jobs import eval_jobs, report

    flags = ["--backend", opts["backend"], "--protocol", opts["protocol"], "--batch-size", str(opts["batch_size"]),
             "--chat-template", opts["chat_template"]]
    for key in ("limit", "max_gen_toks", "tensor_parallel_size", "data_parallel_size"):
        if opts[key] is not None:
            flags += [f"--{key.replace('_', '-')}", str(opts[key])]
    flags += [x for a in opts["backend_arg"] for x in ("--backend-arg", a)] + [x for a in opts["label"] for x in ("--label", a)]
    flags += ["--force"] if opts["force"] else []
    jobs = eval_jobs(models, tasks, seeds, flags, runs_dir, gpus if executor != "local" else 0)
    try:
        ex = make_executor(executor, image=image, env_allow=env, address=ray_address)
        results = ex.run(jobs)
    except ExecutorError as e:
        fail(e, 1)
    print(format_table(["job", "status", "device", "run"], report(results), right=False))
    failed = [r for r in results if not r.ok]
    err.print(f"{len(results) - len(failed)}/{len(results)} job(s) succeeded on the {executor} executor; runs in {runs_dir}")
    if failed:
        raise typer.Exit(1)


def make_tiny_model(out_dir: Annotated[Path, typer.Argument(help="Directory to write the model to.")],
                    seed: Annotated[int, typer.Option(help="Seed for tokenizer corpus and weights.")] = 0) -> None:
    """Build a tiny Qwen2-style model + tokenizer locally (no download), to try every command on a laptop."""
    from harness.evaluation.tinymodel import build_tiny_model

    path = build_tiny_model(out_dir, seed=seed)
    err.print(f"wrote tiny model to {path}")
