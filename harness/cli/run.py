"""``statbench run EXPERIMENT.yaml``: the STAT recipe as a resumable DAG, in process or as jobs."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err, fail, write_outcome
from harness.cli.options import (
    EnvAllow,
    ExecutorOptions,
    RayAddress,
    ResultFile,
    SlurmGpus,
    SlurmPartition,
    SlurmTime,
)


def run(
    experiment: Annotated[Path, typer.Argument(help="Experiment spec (YAML), e.g. examples/tiny.yaml.")],
    workdir: Annotated[
        Path | None, typer.Option(help="Where stages, runs and the board go (default: experiments/<name>).")
    ] = None,
    from_stage: Annotated[
        str | None, typer.Option("--from", help="Rerun this stage (name or prefix) and everything after it.")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            help="Print the plan (as --from/--only would run it), stage hashes, a compute estimate, each arm's "
            "reachable training-set size and the SFT/GRPO batch plan with a memory estimate; run nothing."
        ),
    ] = False,
    executor: Annotated[
        str | None,
        typer.Option(
            help="Run each stage as a job: local | docker | ray | slurm (default: all in this process)."
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(help="Run just this stage (repeatable; its dependencies must be done)."),
    ] = None,
    image: Annotated[str, typer.Option(help="Image for --executor docker.")] = "statbench-train:latest",
    env: EnvAllow = None,
    gpus_per_job: Annotated[
        int | None,
        typer.Option(help="GPUs per stage job (default: 1 for generate/SFT/GRPO/eval stages, 0 otherwise)."),
    ] = None,
    ray_address: RayAddress = None,
    slurm_partition: SlurmPartition = None,
    slurm_gpus_per_job: SlurmGpus = None,
    slurm_time: SlurmTime = "4:00:00",
    result_file: ResultFile = None,
    wait: Annotated[
        bool,
        typer.Option(help="If another run holds the workdir, wait for it instead of refusing (exit 1)."),
    ] = False,
) -> None:
    """Run the STAT recipe: Stage 1, Missing-Skill-Profile, datasets, SFT, GRPO, evaluation, leaderboard."""
    with contextlib.ExitStack() as stack:  # holds the workdir lock until the command ends
        from harness.core.errors import SpecError
        from harness.recipe.experiment import load_experiment

        if executor and only:
            fail("give --executor (run the whole plan as jobs) or --only (run one stage here), not both")
        try:
            spec = load_experiment(experiment)
            from harness import recipe

            wd = workdir or Path("experiments") / spec.name
            spec = spec.with_workdir(wd, experiment.resolve().parent)
            if not dry_run and not only:  # one run per workdir; held until this command ends
                from harness.core.pipeline import workdir_lock

                stack.enter_context(workdir_lock(wd, wait=wait, log=lambda m: err.print(m)))
            pipe = recipe.plan(spec, wd, build_student=not dry_run)
            if dry_run:
                _dry_run(spec, pipe, from_stage, only)
                return
            recipe.check_ready(spec)
        except SpecError as e:
            write_outcome(result_file, error=str(e))
            fail(e)
        except RuntimeError as e:  # BusyError: another run holds the workdir
            write_outcome(result_file, error=str(e))
            fail(e, 1)

        def progress(stage, i, n, status):
            err.print(f"[{i + 1}/{n}] {stage.name:<36} {status}")

        try:
            if executor:
                slurm = (slurm_partition, slurm_gpus_per_job, slurm_time)
                opts = ExecutorOptions(executor, image, tuple(env or ()), 0, ray_address, slurm)
                summary = _run_on_executor(spec, pipe, experiment, wd, from_stage, opts, gpus_per_job)
            else:
                summary = pipe.run(
                    from_stage, log=lambda m: err.print(f"    {m}"), progress=progress, only=only
                )
        except SpecError as e:
            write_outcome(result_file, error=str(e))
            fail(e)
        except RuntimeError as e:
            write_outcome(result_file, error=str(e))
            fail(e, 1)
        if only:  # one stage of a larger run (an executor's job): the driver writes the record
            write_outcome(result_file, stages=[pipe.record(pipe.stages[n]) for n in only])
            return
        out = recipe.write_record(spec, pipe, summary, experiment)
        if (wd / "board" / "board.yaml").is_file():
            from harness.reporting.board import build_board
            from harness.reporting.board_spec import load_board
            from harness.reporting.render import main_table

            print(main_table(build_board(*load_board(wd / "board"), wd / "runs")))
        err.print(f"experiment record: {out}; board: {wd / 'board'}")


def _dry_run(spec, pipe, from_stage: str | None, only: list[str] | None) -> None:
    """Print the plan as these options would run it, the arms' reachable sizes and the training plans; a
    certain budget shortfall or a plan over the GPU's memory is a SpecError (one line, after the tables)."""
    from harness import recipe
    from harness.core.errors import SpecError
    from harness.core.fileio import format_table
    from harness.recipe import dryrun

    status = dryrun.statuses(pipe, from_stage, only)
    arms = dryrun.reaches(spec)
    dryrun.apply_reach(pipe, arms)
    rows = [
        [
            d["stage"],
            d["kind"],
            d["hash"],
            status[d["stage"]],
            ", ".join(
                f"{k}={v}" for k, v in d.items() if k not in ("stage", "kind", "hash", "status", "deps") and v
            ),
        ]
        for d in pipe.describe()
    ]
    print(format_table(["stage", "kind", "hash", "status", "estimate"], rows, right=False))
    run = [n for n, st in status.items() if st in ("todo", "rerun")]
    print(f"would run {len(run)} of {len(status)} stages")
    est = recipe.estimate(spec, pipe, set(run))
    print(
        "compute estimate: "
        + ", ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v:g}" for k, v in est.items())
    )
    print(f"\ntraining sets (budget_policy: {spec.budget_policy}; sizes before the teacher and the filters)")
    print(
        format_table(
            ["arm", "budget", "reachable", "how", "note"],
            dryrun.dataset_rows(arms, spec.budget_policy),
            right=False,
        )
    )
    hw = spec.hardware
    train = dryrun.training(spec, dryrun.model_shape(spec))
    print(f"\ntraining batch plan and estimated peak memory per GPU ({hw.gpus} x {hw.gpu_memory_gb:g} GB)")
    print(
        format_table(
            ["stage", "processes", "micro-batch", "accumulation", "effective batch", "memory estimate"],
            dryrun.training_rows(train, hw.gpus, hw.gpu_memory_gb),
            right=False,
        )
    )
    if recipe.student_path(spec, build=False) is None and spec.student.build_tiny_seed is None:
        print(
            f"note: the student {spec.student.model} is not available locally; download it before running "
            "(stage hashes that depend on it are provisional)"
        )
    bad = dryrun.problems(spec, arms, train)
    if bad:
        raise SpecError(bad[0] + (f" (and {len(bad) - 1} more problem(s))" if len(bad) > 1 else ""))


def _run_on_executor(
    spec, pipe, experiment: Path, wd: Path, from_stage, opts: ExecutorOptions, gpus: int | None
) -> dict:
    from harness.core.task_folders import task_folder_paths
    from harness.executors import ExecutorError
    from harness.executors.jobs import run_pipeline
    from harness.recipe import student_path

    allow = [*opts.env, spec.teacher.api_key_env] if spec.teacher.api_key_env else list(opts.env)
    student = student_path(spec, build=False)
    mounts = (str(Path(student).resolve()),) if student and Path(student).exists() else ()
    mounts = (*mounts, *task_folder_paths(spec.include_path)[1])  # the spec's task folders and their data
    ex = opts.make(allow)  # ExecutorError: one line, exit 1
    results = run_pipeline(pipe, ex, experiment, wd, from_stage, gpus, mounts, log=lambda m: err.print(m))
    failed = [r for r in results if not r.ok]
    for r in failed:
        tail = r.log_tail.strip().splitlines()[-8:]
        err.print(
            f"--- {r.job.name} failed (exit {r.returncode}); last lines:\n"
            + "\n".join(f"    {x}" for x in tail)
        )
    if failed or pipe.todo():
        raise ExecutorError(
            f"{len(failed)} stage job(s) failed and {len(pipe.todo())} stage(s) are not done; fix and "
            "rerun the same command (finished stages are kept)"
        )
    return pipe.summary()
