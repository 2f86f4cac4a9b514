"""Job builders: the evaluation matrix (checkpoint x task x seed) and pipeline stages, and the wave driver."""

from __future__ import annotations

from pathlib import Path

from harness.core.hashing import sha256_json
from harness.core.task_folders import task_folder_paths
from harness.executors import Job, JobResult
from harness.records.models import EvalJob, EvalSpec

JOBS_DIR = ".jobs"  # under the runs dir / workdir: one folder per job for job.json and result.json


def eval_jobs(specs: list[EvalSpec], runs_dir: Path, force: bool = False, gpus: int = 1) -> list[Job]:
    """One ``statbench eval --spec job.json`` job per spec (one model, one task, one seed each, typically);
    model directories that exist here are passed (and mounted) by absolute path, and so are the task
    folders of its task-folder tasks and their data (also one named only by ``$STATBENCH_INCLUDE_PATH``).
    ``include_path`` is not part of the spec hash, so this changes no run id or cache key."""
    runs = str(Path(runs_dir).resolve())
    jobs = []
    for spec in specs:
        mounts: tuple[str, ...] = ()
        if Path(spec.model).exists():
            mounts = (str(Path(spec.model).resolve()),)
            spec = spec.model_copy(update={"model": mounts[0]})
        folders, paths = task_folder_paths(spec.include_path, spec.tasks)
        if folders:
            mounts = (*mounts, *paths)
            spec = spec.model_copy(update={"include_path": folders})
        payload = EvalJob(spec=spec, runs_dir=runs, force=force).model_dump_json(indent=1)
        name = f"{Path(spec.model).name}/{','.join(spec.tasks)}/s{spec.seed}"
        key = sha256_json([name, spec.model_dump(exclude={"model", "include_path"}), force])[
            :16
        ]  # stable across machines
        files = str(Path(runs) / JOBS_DIR / f"{name.replace('/', '--')}-{key}")
        jobs.append(Job(name, ("eval",), gpus, (*mounts, runs), (runs,), files, payload))
    return jobs


def report(results: list[JobResult]) -> list[list[str]]:
    """Table rows: job, status, device, run id (or why it failed)."""
    return [
        [r.job.name, "ok" if r.ok else f"FAILED ({r.returncode})", r.device or "-", r.reason()]
        for r in results
    ]


def stage_job(
    stage, experiment: Path, workdir: Path, gpus: int | None = None, mounts: tuple[str, ...] = ()
) -> Job:
    """One pipeline stage as ``statbench run EXPERIMENT --workdir WD --only STAGE --result-file F`` (its deps are done)."""
    exp, wd = str(Path(experiment).resolve()), str(Path(workdir).resolve())
    files = str(Path(wd) / JOBS_DIR / stage.name.replace("/", "--"))
    return Job(
        stage.name,
        ("run", exp, "--workdir", wd, "--only", stage.name),
        stage.gpus if gpus is None else gpus,
        tuple(dict.fromkeys((str(Path(exp).parent), wd, *mounts))),
        (wd,),
        files,
    )


def run_pipeline(
    pipe,
    executor,
    experiment: Path,
    workdir: Path,
    start: str | None = None,
    gpus: int | None = None,
    mounts: tuple[str, ...] = (),
    log=print,
) -> list[JobResult]:
    """Run what is left of a pipeline wave by wave, each wave's stages side by side as jobs. A failed stage
    skips only what depends on it; everything else still runs (its outputs are kept for the rerun)."""
    results: list[JobResult] = []
    blocked: set[str] = set()
    waves = pipe.waves(start)
    for i, wave in enumerate(waves, 1):
        ready = [s for s in wave if not any(d in blocked for d in s.deps)]
        blocked |= {s.name for s in wave if s not in ready}
        if not ready:
            continue
        log(
            f"wave {i}/{len(waves)}: {len(ready)} stage(s) on the {executor.name} executor: "
            + ", ".join(s.name for s in ready[:6])
            + (" ..." if len(ready) > 6 else "")
        )
        for r in executor.run([stage_job(s, experiment, workdir, gpus, mounts) for s in ready]):
            results.append(r)
            log(
                f"    {r.job.name:<36} {'done' if r.ok else f'FAILED (exit {r.returncode})'}"
                + (f"  [CUDA_VISIBLE_DEVICES={r.device}]" if r.device else "")
                + f"  {r.ended - r.started:.0f}s"
            )
            if not r.ok:
                blocked.add(r.job.name)
    if blocked:
        failed = {r.job.name for r in results if not r.ok}
        skipped = sorted(blocked - failed)
        if skipped:
            log(
                f"skipped {len(skipped)} stage(s) downstream of a failure: {', '.join(skipped[:6])}"
                + (" ..." if len(skipped) > 6 else "")
            )
    return results
