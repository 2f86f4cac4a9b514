"""statbench command line: thin wrappers over the modules that do the work."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harness import cli_ops
from harness.cli_common import err, fail, parse_kv, print_results, progress_bar

app = typer.Typer(
    name="statbench",
    help="Benchmark harness and evaluation suite for STAT (Skill-Targeted Adaptive Training).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def grade(
    input: Annotated[Path | None, typer.Argument(help="JSONL with 'response' and 'reference' per line ('-' = stdin).")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write graded JSONL here (atomically) instead of stdout.")] = None,
    report: Annotated[bool, typer.Option("--report", help="Agreement report on the bundled graded samples instead.")] = False,
    report_dir: Annotated[Path, typer.Option(help="Where --report writes agreement.md/.json and disagreements.jsonl.")] = Path("reports/grader_agreement"),
    response_key: Annotated[str, typer.Option(help="Field holding the model response.")] = "response",
    reference_key: Annotated[str, typer.Option(help="Field holding the reference answer.")] = "reference",
    workers: Annotated[int | None, typer.Option(help="Grader worker processes (default: min(4, CPUs)).")] = None,
    timeout: Annotated[float, typer.Option(help="Per-pair time limit in seconds; over it: status=timeout.")] = 5.0,
    limit: Annotated[int | None, typer.Option(help="--report only: first N samples per file.")] = None,
) -> None:
    """Grade responses against references with the statbench checker (or --report grader agreement)."""
    from harness.scoring import Checker, checker_version
    from harness.scoring.files import grade_rows, parse_lines, to_jsonl

    if report:
        _report(report_dir, workers, timeout, limit)
        return
    if input is None:
        err.print("[red]error:[/] give an input JSONL file (or '-' for stdin), or --report")
        raise typer.Exit(2)
    if str(input) != "-" and not input.is_file():
        err.print(f"[red]error:[/] {input}: no such file")
        raise typer.Exit(2)
    text = sys.stdin.read() if str(input) == "-" else input.read_text(encoding="utf-8")
    rows, errors = parse_lines(text.splitlines(), str(input), response_key, reference_key)
    checker = Checker(workers=workers, timeout=timeout)
    t0 = time.perf_counter()
    prog, advance = progress_bar(len(rows), "grading")
    try:
        with prog:
            graded, summary = grade_rows(rows, checker, response_key, reference_key, advance)
    finally:
        checker.close()
    if output is None:
        sys.stdout.write(to_jsonl(graded))
    else:
        from harness.io import atomic_write_text

        atomic_write_text(output, to_jsonl(graded))
    secs = time.perf_counter() - t0
    acc = f"{100 * summary.correct / summary.n:.1f}%" if summary.n else "n/a"
    err.print(
        f"graded {summary.n} lines in {secs:.1f}s: {summary.correct} correct ({acc}); "
        f"status {dict(summary.statuses)}; {checker_version()}"
        + (f"; wrote {output}" if output else "")
    )
    for e in errors:
        err.print(f"[red]error:[/] {e}")
    if errors:
        err.print(f"[red]{len(errors)} malformed line(s) skipped[/]; all other lines were graded and written")
        raise typer.Exit(1)


def _report(out_dir: Path, workers: int | None, timeout: float, limit: int | None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from harness.evaluation.agreement import run_report, to_text, write_outputs
    from harness.scoring import checker_version

    t0 = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err, transient=True) as prog:

        def progress(desc: str, total: int):
            task = prog.add_task(desc, total=total)
            return lambda n=1: prog.advance(task, n)

        reports = run_report(workers=workers, timeout=timeout, limit=limit, progress=progress)
    paths = write_outputs(reports, out_dir)
    n_dis = sum(len(r.disagreements) for r in reports)
    print(f"Grader agreement with the labels of the bundled graded samples ({checker_version()})")
    print("% of samples where the grader agrees with the label (false positives/false negatives)\n")
    print(to_text(reports))
    print(
        f"\nstatbench disagrees with the label on {n_dis} samples; each is listed in {paths['disagreements']}."
        f"\nFull report: {paths['markdown']} ({time.perf_counter() - t0:.0f}s)"
    )


@app.command()
def tasks() -> None:
    """List the bundled lm-eval tasks and what each protocol does with them."""
    from rich.table import Table

    from harness.benchmarks import TASKS, task_docs
    from harness.protocols import PROTOCOLS

    table = Table("task", "n", *PROTOCOLS, title="statbench tasks × protocols (headline metric, temperature)")
    table.columns[0].no_wrap = True
    for name, td in TASKS.items():
        cells = [f"{p.sampling(td.family).label} T={p.sampling(td.family).temperature:g}" for p in PROTOCOLS.values()]
        table.add_row(name, str(len(task_docs(name))), *cells)
    Console().print(table)


@app.command("eval")
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
    data_parallel_size: Annotated[int | None, typer.Option(help="vllm: data parallel size.")] = None,
    backend_arg: Annotated[list[str] | None, typer.Option(help="KEY=VALUE passed to the backend (repeatable), e.g. dtype=bfloat16, base_url=..., gpu_memory_utilization=0.9.")] = None,
    label: Annotated[list[str] | None, typer.Option(help="KEY=VALUE row label for leaderboards (repeatable), e.g. method=stat-sel stage=sft.")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run records and the generation cache live.")] = Path("runs"),
    force: Annotated[bool, typer.Option(help="Write a new run record even if an identical run exists.")] = False,
    seeds: Annotated[str | None, typer.Option(help="Comma-separated seeds: a job matrix (with several --model values too).")] = None,
    executor: Annotated[str | None, typer.Option(help="local | docker | ray: run the matrix as jobs (default: in-process).")] = None,
    image: Annotated[str, typer.Option(help="docker executor: the image to run in.")] = "statbench-eval:latest",
    env: Annotated[list[str] | None, typer.Option(help="docker executor: an environment variable to pass through (repeatable).")] = None,
    gpus_per_job: Annotated[int, typer.Option(help="docker/ray executors: GPUs per job.")] = 1,
    ray_address: Annotated[str | None, typer.Option(help="ray executor: cluster address (default: start a local one).")] = None,
) -> None:
    """Evaluate a checkpoint: resumable (request cache), recorded (runs/<run-id>/), reproducible."""
    from harness.evaluation.runner import run_eval, spec_from_cli
    from harness.spec import SpecError, expand_tasks

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

    prog = Progress(TextColumn("{task.description:<32}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, disable=not err.is_terminal)

    def progress(totals: dict[str, int]):
        ids = {t: prog.add_task(t, total=n) for t, n in totals.items()}
        return lambda task, n: prog.advance(ids[task], n)

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
    from harness.executors import ExecutorError, make_executor
    from harness.executors.jobs import eval_jobs, report
    from harness.io import format_table

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


runs_app = typer.Typer(help="List, show and re-index run records.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def runs_list(runs_dir: Annotated[Path, typer.Option()] = Path("runs")) -> None:
    """One line per run: id, kind, model, backend, protocol, source."""
    from harness.io import format_table
    from harness.results import RunIndex

    if not runs_dir.is_dir():
        fail(f"{runs_dir}: no runs directory")
    rows = RunIndex(runs_dir).runs()
    print(format_table(["run", "kind", "model", "backend", "protocol", "seed", "labels", "source"],
                       [[r["run_id"], r["kind"] or "", r["model"] or "", r["backend"] or "", r["protocol"] or "",
                         "" if r["seed"] is None else str(r["seed"]),
                         ",".join(f"{k}={v}" for k, v in r["labels"].items()), r["source"] or ""] for r in rows], right=False))
    err.print(f"{len(rows)} run(s) in {runs_dir}")


@runs_app.command("show")
def runs_show(run: Annotated[str, typer.Argument(help="Run id (or unique prefix) or run directory.")],
              runs_dir: Annotated[Path, typer.Option()] = Path("runs")) -> None:
    """Results and provenance summary of one run."""
    from harness.results import RunIndex, read_run
    from harness.spec import SpecError

    try:
        path = RunIndex(runs_dir).resolve(run)
        rec = read_run(path)
    except SpecError as e:
        fail(e)
    spec, prov = rec["spec"], rec["provenance"]
    user = spec.get("spec", {})
    print(f"run {path.name}  ({spec.get('kind')}; spec {spec.get('spec_hash', '')[:16]})")
    print(f"model {user.get('model')}  backend {user.get('backend')}  protocol {user.get('protocol')}  seed {user.get('seed')}")
    print(f"fingerprint {str(spec.get('model_fingerprint'))[:16]}  chat template {spec.get('chat_template')}")
    if spec.get("source"):
        print(f"rescored from {spec['source']}")
    print(f"git {prov.get('git')}  python {prov.get('python')}  checker {prov.get('checker')}")
    print_results(rec["results"])


@runs_app.command("reindex")
def runs_reindex(runs_dir: Annotated[Path, typer.Option()] = Path("runs")) -> None:
    """Rebuild runs/index.sqlite from the run directories."""
    from harness.results import RunIndex

    err.print(f"indexed {RunIndex(runs_dir).rebuild()} run(s) in {runs_dir}")


@app.command()
def rescore(
    source: Annotated[str, typer.Argument(help="A statbench run (id or directory) or lm-eval samples_*.jsonl (file or directory).")],
    runs_dir: Annotated[Path, typer.Option(help="Where to find the source run and write the new record.")] = Path("runs"),
    workers: Annotated[int | None, typer.Option(help="Grader worker processes.")] = None,
    show: Annotated[int, typer.Option(help="How many changed verdicts to print.")] = 20,
) -> None:
    """Re-grade saved generations with the current checker (no regeneration); lists changed verdicts."""
    from harness.evaluation.rescore import rescore as do_rescore
    from harness.spec import SpecError

    try:
        out = do_rescore(source, runs_dir, workers)
    except SpecError as e:
        fail(e)
    print_results(out.results)
    print(f"{len(out.changes)} verdict(s) changed" + (":" if out.changes else ""))
    for c in out.changes[:show]:
        print(f"  {c['task']} {c['id']} sample {c.get('sample', '-')}: {c['before']} -> {c['after']} "
              f"(extracted {c['extracted']!r}, reference {c['reference']!r})")
    if len(out.changes) > show:
        print(f"  ... {len(out.changes) - show} more in {out.run_dir / 'changes.jsonl'}")
    err.print(f"run: {out.run_dir}")


@app.command("make-tiny-model")
def make_tiny_model(out_dir: Annotated[Path, typer.Argument(help="Directory to write the model to.")],
                    seed: Annotated[int, typer.Option(help="Seed for tokenizer corpus and weights.")] = 0) -> None:
    """Build a tiny Qwen2-style model + tokenizer locally (no download), to try every command on a laptop."""
    from harness.tinymodel import build_tiny_model

    path = build_tiny_model(out_dir, seed=seed)
    err.print(f"wrote tiny model to {path}")


# commands defined in harness/cli_ops.py, wired here explicitly
app.command()(cli_ops.run)
app.command()(cli_ops.demo)
app.command()(cli_ops.leaderboard)
app.command()(cli_ops.regress)
app.command()(cli_ops.doctor)
app.add_typer(cli_ops.skillworld_app, name="skillworld")
app.add_typer(cli_ops.containers_app, name="containers")


def main() -> None:
    if not os.environ.get("STATBENCH_DEBUG"):  # statbench draws its own progress; silence libraries' bars
        for key, value in (("TQDM_DISABLE", "1"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1"), ("TRANSFORMERS_VERBOSITY", "error"),
                           ("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1"), ("TOKENIZERS_PARALLELISM", "false")):
            os.environ.setdefault(key, value)
    app()


if __name__ == "__main__":
    main()
