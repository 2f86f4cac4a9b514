"""CLI commands for experiments and operations: run, demo, leaderboard, regress, doctor, skillworld, containers.

Wired into the app explicitly in harness/cli.py; each command only parses arguments and delegates.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from harness.cli_common import err, fail


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
        fail(e)
    b = out["board"]
    filled = sum(c.value is not None for c in b.cells.values())
    text = out["markdown"].read_text()
    first_table = text[text.index("\n|"):].split("\n\n")[0].strip()
    print(first_table)
    err.print(f"{b.spec.title}: {filled}/{len(b.cells)} cells from {len({r for c in b.cells.values() for r in c.runs})} run(s)"
              f"{', ' + str(len(b.reported)) + ' reported rows' if b.reported else ''}")
    for key in ("markdown", "csv", "html"):
        err.print(f"  wrote {out[key]}")



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
        fail("give exactly one of --baseline RUN or --reference FILE")
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
        fail(e)
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



def run(
    experiment: Annotated[Path, typer.Argument(help="Experiment spec (YAML), e.g. examples/tiny.yaml.")],
    workdir: Annotated[Path | None, typer.Option(help="Where stages, runs and the board go (default: experiments/<name>).")] = None,
    from_stage: Annotated[str | None, typer.Option("--from", help="Rerun this stage (name or prefix) and everything after it.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the plan, stage hashes and a compute estimate; run nothing.")] = False,
    executor: Annotated[str | None, typer.Option(help="Run each stage as a job: local | docker | ray (default: all in this process).")] = None,
    only: Annotated[list[str] | None, typer.Option(help="Run just this stage (repeatable; its dependencies must be done).")] = None,
    image: Annotated[str, typer.Option(help="Image for --executor docker.")] = "statbench-train:latest",
    env: Annotated[list[str] | None, typer.Option(help="Environment variable passed into containers (repeatable); "
                                                        "the teacher's api_key_env always passes.")] = None,
    gpus_per_job: Annotated[int | None, typer.Option(help="GPUs per stage job (default: 1 for generate/SFT/GRPO/eval stages, 0 otherwise).")] = None,
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster for --executor ray (default: start a local one).")] = None,
) -> None:
    """Run the STAT recipe: Stage 1, Missing-Skill-Profile, datasets, SFT, GRPO, evaluation, leaderboard."""
    from harness.experiment import load_experiment
    from harness.io import format_table
    from harness.spec import SpecError

    if executor and only:
        fail("give --executor (run the whole plan as jobs) or --only (run one stage here), not both")
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
        fail(e)

    def progress(stage, i, n, status):
        err.print(f"[{i + 1}/{n}] {stage.name:<36} {status}")

    try:
        if executor:
            summary = _run_on_executor(spec, pipe, experiment, wd, from_stage, executor, image, env or [], gpus_per_job,
                                       ray_address)
        else:
            summary = pipe.run(from_stage, log=lambda m: err.print(f"    {m}"), progress=progress, only=only)
    except SpecError as e:
        fail(e)
    except RuntimeError as e:
        fail(e, 1)
    if only:
        return  # one stage of a larger run (an executor's job): the driver writes the record
    out = recipe.write_record(spec, pipe, summary, experiment)
    board = wd / "board" / "README.md"
    if board.is_file():
        text = board.read_text()
        print(text[text.index("\n|"):].split("\n\n")[0].strip())
    err.print(f"experiment record: {out}; board: {wd / 'board'}")


def _run_on_executor(spec, pipe, experiment: Path, wd: Path, from_stage, name, image, env, gpus, ray_address) -> dict:
    from harness.executors import ExecutorError, make_executor
    from harness.executors.jobs import run_pipeline
    from harness.recipe import student_path

    allow = [*env, spec.teacher.api_key_env] if spec.teacher.api_key_env else list(env)
    student = student_path(spec, build=False)
    mounts = (str(Path(student).resolve()),) if student and Path(student).exists() else ()
    ex = make_executor(name, image=image, env_allow=allow, address=ray_address)  # ExecutorError: one line, exit 1
    results = run_pipeline(pipe, ex, experiment, wd, from_stage, gpus, mounts, log=lambda m: err.print(m))
    failed = [r for r in results if not r.ok]
    for r in failed:
        tail = r.log_tail.strip().splitlines()[-8:]
        err.print(f"--- {r.job.name} failed (exit {r.returncode}); last lines:\n" + "\n".join(f"    {x}" for x in tail))
    if failed or pipe.todo():
        raise ExecutorError(f"{len(failed)} stage job(s) failed and {len(pipe.todo())} stage(s) are not done; fix and "
                            "rerun the same command (finished stages are kept)")
    return pipe.summary()


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
        fail(e)
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
        fail(e, 1)
    print(f"ok: recipe {meta['recipe_hash'][:12]}, weights {meta['weights_sha256'][:12]}")


def doctor(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Self-check: versions, CUDA, the checker (incl. a hard timeout), installed pins vs the lock."""
    from harness.containers import doctor as run_checks
    from harness.containers import summary

    checks = run_checks()
    if as_json:
        print(json.dumps(summary(checks), indent=1))
    else:
        for name, ok, detail in checks:
            print(f"{'ok  ' if ok else 'FAIL'}  {name:<18} {detail}")
    raise typer.Exit(0 if all(ok for _, ok, _ in checks) else 1)


containers_app = typer.Typer(help="Build, list and pin the GPU images (containers/Dockerfile).", no_args_is_help=True)


@containers_app.command("build")
def containers_build(
    target: Annotated[str, typer.Option(help="eval | train")] = "eval",
    tag: Annotated[list[str] | None, typer.Option(help="Image tag, repeatable (default statbench-<target>:<version> and :latest).")] = None,
    push: Annotated[bool, typer.Option(help="Push instead of loading into the local engine.")] = False,
) -> None:
    """docker buildx build of one target, labelled with the git sha and the lock's sha256."""
    from harness.containers import ContainerError, build, default_tags

    if target not in ("eval", "train"):
        fail(f"unknown target '{target}'; valid targets: eval, train")
    try:
        code = build(target, tag or default_tags(target), push)
    except ContainerError as e:
        fail(e, 1)
    raise typer.Exit(code)


@containers_app.command("ls")
def containers_ls() -> None:
    """List local statbench images."""
    from harness.containers import ContainerError, images

    try:
        rows = images()
    except ContainerError as e:
        fail(e, 1)
    print("\n".join(rows) if rows else "no statbench images (statbench containers build)")


@containers_app.command("pin-base")
def containers_pin_base(tag: Annotated[str | None, typer.Argument(help="Base image tag (default: the Dockerfile's).")] = None) -> None:
    """Resolve the CUDA base image's digest from the registry and pin it in the Dockerfile."""
    from harness.containers import ContainerError, pin_base

    try:
        print(f"pinned {pin_base(tag)}")
    except ContainerError as e:
        fail(e, 1)
