"""statbench command line: thin wrappers over the modules that do the work."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="statbench",
    help="Benchmark harness and evaluation suite for STAT (Skill-Targeted Adaptive Training).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)  # error lines stay whole (file:line: message)


def _progress(total: int, desc: str):
    """A rich progress bar on stderr; returns (context manager, advance callback)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    prog = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    )
    task = prog.add_task(desc, total=total)
    return prog, lambda n=1: prog.advance(task, n)


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
    prog, advance = _progress(len(rows), "grading")
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


def _fail(e: Exception | str, code: int = 2) -> None:
    if os.environ.get("STATBENCH_DEBUG") and isinstance(e, Exception):
        raise e
    err.print(f"[red]error:[/] {e}")
    raise typer.Exit(code)


def _kv(pairs: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for p in pairs:
        if "=" not in p:
            raise typer.BadParameter(f"expected KEY=VALUE, got {p!r}")
        k, v = p.split("=", 1)
        out[k] = int(v) if v.lstrip("-").isdigit() else float(v) if v.replace(".", "", 1).isdigit() else \
            {"true": True, "false": False}.get(v.lower(), v)
    return out


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
) -> None:
    """Evaluate a checkpoint: resumable (request cache), recorded (runs/<run-id>/), reproducible."""
    from harness.evaluation.runner import run_eval, spec_from_cli
    from harness.spec import SpecError, expand_tasks

    try:
        args = _kv(backend_arg or [])
        if tensor_parallel_size:
            args["tensor_parallel_size"] = tensor_parallel_size
        if data_parallel_size:
            args["data_parallel_size"] = data_parallel_size
        task_list = expand_tasks([t.strip() for t in tasks.split(",") if t.strip()] if tasks else [], suite)
        spec = spec_from_cli(model, backend, task_list, protocol=protocol, limit=limit, seed=seed, batch_size=batch_size,
                             max_gen_toks=max_gen_toks, chat_template=chat_template, backend_args=args,
                             labels={k: str(v) for k, v in _kv(label or []).items()})
    except SpecError as e:
        _fail(e)
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
        _fail(e)
    except RuntimeError as e:  # backend failures (server down, CUDA errors): one line; STATBENCH_DEBUG=1 for the trace
        _fail(e, 1)
    _print_results(outcome.results)
    how = ("identical run already recorded; nothing generated" if outcome.reused_run
           else f"{outcome.generated} generated, {outcome.cached} from cache")
    err.print(f"run: {outcome.run_dir}  ({how}; {outcome.seconds:.1f}s)")


def _print_results(results: dict) -> None:
    from harness.io import format_table

    rows = []
    for t, r in results.items():
        se = r.get("stderr")
        rows.append([t, r.get("metric_label") or r["metric"], f"{100 * r['value']:.1f}",
                     f"{100 * se:.1f}" if se is not None else "-", str(r["n"]), str(r["k"]),
                     f"{100 * (r.get('truncation_rate') or 0):.0f}%", f"{100 * (r.get('no_answer_rate') or 0):.0f}%"])
    protocols = sorted({str(r.get("protocol")) for r in results.values()})
    print(format_table(["task", "metric", "value %", "± stderr", "n", "k", "truncated", "no answer"], rows))
    print(f"protocol: {', '.join(protocols)}")


runs_app = typer.Typer(help="List, show and re-index run records.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def runs_list(runs_dir: Annotated[Path, typer.Option()] = Path("runs")) -> None:
    """One line per run: id, kind, model, backend, protocol, source."""
    from harness.io import format_table
    from harness.results import RunIndex

    if not runs_dir.is_dir():
        _fail(f"{runs_dir}: no runs directory")
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
        _fail(e)
    spec, prov = rec["spec"], rec["provenance"]
    user = spec.get("spec", {})
    print(f"run {path.name}  ({spec.get('kind')}; spec {spec.get('spec_hash', '')[:16]})")
    print(f"model {user.get('model')}  backend {user.get('backend')}  protocol {user.get('protocol')}  seed {user.get('seed')}")
    print(f"fingerprint {str(spec.get('model_fingerprint'))[:16]}  chat template {spec.get('chat_template')}")
    if spec.get("source"):
        print(f"rescored from {spec['source']}")
    print(f"git {prov.get('git')}  python {prov.get('python')}  checker {prov.get('checker')}")
    _print_results(rec["results"])


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
        _fail(e)
    _print_results(out.results)
    print(f"{len(out.changes)} verdict(s) changed" + (":" if out.changes else ""))
    for c in out.changes[:show]:
        print(f"  {c['task']} {c['id']} sample {c.get('sample', '-')}: {c['before']} -> {c['after']} "
              f"(extracted {c['extracted']!r}, reference {c['reference']!r})")
    if len(out.changes) > show:
        print(f"  ... {len(out.changes) - show} more in {out.run_dir / 'changes.jsonl'}")
    err.print(f"run: {out.run_dir}")


@app.command()
def leaderboard(
    board: Annotated[str, typer.Argument(help="Board name under --boards-dir, or a board folder / board.yaml path.")],
    runs_dir: Annotated[Path, typer.Option(help="Run records to build from.")] = Path("runs"),
    boards_dir: Annotated[Path, typer.Option(help="Where named boards live.")] = Path("leaderboards"),
) -> None:
    """Regenerate a board's README.md, table.csv and index.html from the run index (byte-stable)."""
    from harness.board_render import generate
    from harness.spec import SpecError

    path = Path(board) if (Path(board).exists() or "/" in board) else boards_dir / board
    try:
        out = generate(path, runs_dir)
    except SpecError as e:
        _fail(e)
    b = out["board"]
    filled = sum(c.value is not None for c in b.cells.values())
    text = out["markdown"].read_text()
    first_table = text[text.index("\n|"):].split("\n\n")[0].strip()
    print(first_table)
    err.print(f"{b.spec.title}: {filled}/{len(b.cells)} cells from {len({r for c in b.cells.values() for r in c.runs})} run(s)"
              f"{', ' + str(len(b.reported)) + ' reported rows' if b.reported else ''}")
    for key in ("markdown", "csv", "html"):
        err.print(f"  wrote {out[key]}")


@app.command()
def regress(
    candidate: Annotated[str, typer.Option(help="The run under test (id, prefix or directory).")],
    baseline: Annotated[str | None, typer.Option(help="The run to compare against.")] = None,
    reference: Annotated[Path | None, typer.Option(help="Pinned scores instead of a baseline run: {tasks: {task: {value, tolerance}}} in points.")] = None,
    tasks: Annotated[str | None, typer.Option(help="Comma-separated subset of tasks.")] = None,
    margin: Annotated[float, typer.Option(help="Drops smaller than this many points never fail the gate.")] = 1.0,
    alpha: Annotated[float, typer.Option(help="One-sided significance level.")] = 0.05,
    allow_mismatch: Annotated[bool, typer.Option(help="Compare runs with different protocol, data or checker.")] = False,
    junit: Annotated[Path | None, typer.Option(help="Write a JUnit XML report (for CI).")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write a markdown report (for PR comments).")] = None,
    runs_dir: Annotated[Path, typer.Option()] = Path("runs"),
) -> None:
    """Gate a checkpoint: exit 0 pass, 1 regression, 2 usage error."""
    from harness.io import atomic_write_text, format_table
    from harness.regress import HEADER, compare_reference, compare_runs, to_junit, to_markdown, to_rows
    from harness.results import RunIndex
    from harness.spec import SpecError

    if (baseline is None) == (reference is None):
        _fail("give exactly one of --baseline RUN or --reference FILE")
    task_list = [t.strip() for t in tasks.split(",") if t.strip()] if tasks else None
    try:
        index = RunIndex(runs_dir) if runs_dir.is_dir() else None
        find = lambda ref: Path(ref) if (Path(ref) / "spec.json").is_file() else (index.resolve(ref) if index else None)  # noqa: E731
        cand = find(candidate)
        if cand is None:
            raise SpecError(f"no run '{candidate}' (and no runs directory {runs_dir})")
        if reference is not None:
            verdicts = compare_reference(cand, reference, task_list, allow_mismatch)
            title = f"statbench regress: {cand.name} vs pinned scores {reference}"
        else:
            base = find(baseline)
            if base is None:
                raise SpecError(f"no run '{baseline}' (and no runs directory {runs_dir})")
            verdicts = compare_runs(base, cand, task_list, margin, alpha, allow_mismatch)
            title = f"statbench regress: {cand.name} vs {base.name} (margin {margin} pt, alpha {alpha})"
    except SpecError as e:
        _fail(e)
    print(title)
    print(format_table(HEADER, to_rows(verdicts)))
    for v in verdicts:
        if v.note:
            print(f"note: {v.task}: {v.note}")
    if junit:
        atomic_write_text(junit, to_junit(verdicts, title))
    if markdown:
        atomic_write_text(markdown, to_markdown(verdicts, title))
    failed = [v.task for v in verdicts if v.verdict == "regression"]
    err.print(f"REGRESSION in {', '.join(failed)}" if failed else "pass: no task regressed")
    raise typer.Exit(1 if failed else 0)


@app.command()
def run(
    experiment: Annotated[Path, typer.Argument(help="Experiment spec (YAML), e.g. examples/tiny.yaml.")],
    workdir: Annotated[Path | None, typer.Option(help="Where stages, runs and the board go (default: experiments/<name>).")] = None,
    from_stage: Annotated[str | None, typer.Option("--from", help="Rerun this stage (name or prefix) and everything after it.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the plan, stage hashes and a compute estimate; run nothing.")] = False,
) -> None:
    """Run the STAT recipe: Stage 1, Missing-Skill-Profile, datasets, SFT, GRPO, evaluation, leaderboard."""
    from harness.experiment import load_experiment
    from harness.io import format_table
    from harness.spec import SpecError

    try:
        spec = load_experiment(experiment)
        from harness import recipe

        wd = workdir or Path("experiments") / spec.name
        spec = spec.with_workdir(wd, experiment.resolve().parent)
        pipe = recipe.plan(spec, wd, build_student=not dry_run)
        if dry_run:
            rows = [[d["stage"], d["kind"], d["hash"], d["status"], ", ".join(f"{k}={v}" for k, v in d.items()
                     if k not in ("stage", "kind", "hash", "status", "deps") and v)] for d in pipe.describe()]
            print(format_table(["stage", "kind", "hash", "status", "estimate"], rows, right=False))
            est = recipe.estimate(spec, pipe)
            print("compute estimate: " + ", ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v:g}" for k, v in est.items()))
            if recipe.student_path(spec, build=False) is None and spec.student.build_tiny_seed is None:
                print(f"note: the student {spec.student.model} is not available locally; download it before running "
                      "(stage hashes that depend on it are provisional)")
            return
        recipe.check_ready(spec)
    except SpecError as e:
        _fail(e)

    def progress(stage, i, n, status):
        err.print(f"[{i + 1}/{n}] {stage.name:<36} {status}")

    try:
        summary = pipe.run(from_stage, log=lambda m: err.print(f"    {m}"), progress=progress)
    except SpecError as e:
        _fail(e)
    except RuntimeError as e:
        _fail(e, 1)
    out = recipe.write_record(spec, pipe, summary, experiment)
    board = wd / "board" / "README.md"
    if board.is_file():
        text = board.read_text()
        print(text[text.index("\n|"):].split("\n\n")[0].strip())
    err.print(f"experiment record: {out}; board: {wd / 'board'}")


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo's stages, runs and board go.")] = Path("experiments/skillworld"),
    seeds: Annotated[str, typer.Option(help="Comma-separated SFT/GRPO seeds.")] = "0,1,2",
) -> None:
    """The skill-world demo: Base vs uniform SFT vs STAT-Sel/Syn vs GRPO, through the real pipeline (CPU)."""
    from harness.skillworld import base
    from harness.skillworld import demo as sw
    from harness.spec import SpecError

    t0 = time.perf_counter()
    try:
        spec = sw.load_spec([int(s) for s in seeds.split(",") if s.strip()]).with_workdir(workdir, sw.EXAMPLE.parent)
        meta = base.verify(Path(spec.student.model))
        err.print(f"base student {spec.student.model}: recipe {meta['recipe_hash'][:12]}, weights sha256 "
                  f"{meta['weights_sha256'][:12]} verified")
        from harness import recipe

        pipe = recipe.plan(spec, workdir)
        summary = pipe.run(log=lambda m: err.print(f"    {m}"),
                           progress=lambda st, i, n, status: err.print(f"[{i + 1}/{n}] {st.name:<32} {status}"))
        recipe.write_record(spec, pipe, summary, sw.EXAMPLE)
    except SpecError as e:
        _fail(e)
    rows, table = sw.summarize(workdir, spec)
    notes = sw.grpo_notes(workdir)
    board = workdir / "board"
    text = (f"# Skill-world demo\n\nSeeds {seeds}; accuracy on the {spec.data.test_task} test set (3,000 problems, "
            f"greedy), mean ± sd over seeds, in %. Weak skills: mul, mod, conv.\n\n{table}\n\n"
            + "".join(f"- {n}\n" for n in notes) + f"\nRun time: {time.perf_counter() - t0:.0f} s.\n")
    (board / "demo_summary.md").write_text(text)
    print(table)
    for n in notes:
        print(f"note: {n}")
    print(f"\nleaderboard: {board / 'README.md'}  (HTML: {board / 'index.html'}); summary: {board / 'demo_summary.md'}")
    err.print(f"demo finished in {time.perf_counter() - t0:.0f} s")


skillworld_app = typer.Typer(help="The skill world: pre-train or verify the demo's base student.", no_args_is_help=True)
app.add_typer(skillworld_app, name="skillworld")


@skillworld_app.command("pretrain")
def skillworld_pretrain(out_dir: Annotated[Path, typer.Argument(help="Where to write the base student.")],
                        seed: Annotated[int, typer.Option(help="Pre-training seed (the shipped base uses 0).")] = 0) -> None:
    """Rebuild the skill world's base student from its recipe (~10 min on 2 cores)."""
    from harness.skillworld.base import RECIPE, pretrain

    meta = pretrain(out_dir, {**RECIPE, "seed": seed}, log=lambda m: err.print(m))
    print(json.dumps(meta["val_accuracy_by_type"], indent=1))
    err.print(f"wrote {out_dir} (recipe {meta['recipe_hash'][:12]}, weights {meta['weights_sha256'][:12]})")


@skillworld_app.command("verify")
def skillworld_verify(model_dir: Annotated[Path, typer.Argument()] = Path("examples/skillworld/base")) -> None:
    """Check a base student against its recipe hash and weights sha256."""
    from harness.skillworld.base import verify
    from harness.spec import SpecError

    try:
        meta = verify(model_dir)
    except SpecError as e:
        _fail(e, 1)
    print(f"ok: recipe {meta['recipe_hash'][:12]}, weights {meta['weights_sha256'][:12]}")


@app.command("make-tiny-model")
def make_tiny_model(out_dir: Annotated[Path, typer.Argument(help="Directory to write the model to.")],
                    seed: Annotated[int, typer.Option(help="Seed for tokenizer corpus and weights.")] = 0) -> None:
    """Build a tiny Qwen2-style model + tokenizer locally (no download), to try every command on a laptop."""
    from harness.tinymodel import build_tiny_model

    path = build_tiny_model(out_dir, seed=seed)
    err.print(f"wrote tiny model to {path}")


def main() -> None:
    if not os.environ.get("STATBENCH_DEBUG"):  # statbench draws its own progress; silence libraries' bars
        for key, value in (("TQDM_DISABLE", "1"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1"), ("TRANSFORMERS_VERBOSITY", "error"),
                           ("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1"), ("TOKENIZERS_PARALLELISM", "false")):
            os.environ.setdefault(key, value)
    app()


if __name__ == "__main__":
    main()
