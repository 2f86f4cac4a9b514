"""Job builders: the evaluation matrix (checkpoint x task x seed) and pipeline stages, and the wave driver."""

from __future__ import annotations

from pathlib import Path

from harness.executors import Job, JobResult


def eval_jobs(models: list[str], tasks: list[str], seeds: list[int], options: list[str], runs_dir: Path,
              gpus: int = 1) -> list[Job]:
    """``options`` are the shared ``statbench eval`` flags (protocol, limit, backend, ...)."""
    runs = str(Path(runs_dir).resolve())
    jobs = []
    for model in models:
        mounts = (str(Path(model).resolve()),) if Path(model).exists() else ()
        for task in tasks:
            for seed in seeds:
                argv = ("eval", "--model", str(Path(model).resolve()) if mounts else model, "--tasks", task,
                        "--seed", str(seed), "--runs-dir", runs, *options)
                jobs.append(Job(f"{Path(model).name}/{task}/s{seed}", argv, gpus, (*mounts, runs), (runs,)))
    return jobs


def report(results: list[JobResult]) -> list[list[str]]:
    return [[r.job.name, "ok" if r.ok else f"FAILED ({r.returncode})", r.device or "-",
             Path(r.run_dir()).name if r.run_dir() else (r.log_tail.strip().splitlines() or ["?"])[-1][:90]]
            for r in results]


def stage_job(stage, experiment: Path, workdir: Path, gpus: int | None = None, mounts: tuple[str, ...] = ()) -> Job:
    """One pipeline stage as ``statbench run EXPERIMENT --workdir WD --only STAGE`` (its deps are done)."""
    exp, wd = str(Path(experiment).resolve()), str(Path(workdir).resolve())
    return Job(stage.name, ("run", exp, "--workdir", wd, "--only", stage.name), stage.gpus if gpus is None else gpus,
               tuple(dict.fromkeys((str(Path(exp).parent), wd, *mounts))), (wd,))


def run_pipeline(pipe, executor, experiment: Path, workdir: Path, start: str | None = None, gpus: int | None = None,
                 mounts: tuple[str, ...] = (), log=print) -> list[JobResult]:
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
        log(f"wave {i}/{len(waves)}: {len(ready)} stage(s) on the {executor.name} executor: "
            + ", ".join(s.name for s in ready[:6]) + (" ..." if len(ready) > 6 else ""))
        for r in executor.run([stage_job(s, experiment, workdir, gpus, mounts) for s in ready]):
            results.append(r)
            log(f"    {r.job.name:<36} {'done' if r.ok else f'FAILED (exit {r.returncode})'}"
                + (f"  [CUDA_VISIBLE_DEVICES={r.device}]" if r.device else "") + f"  {r.ended - r.started:.0f}s")
            if not r.ok:
                blocked.add(r.job.name)
    if blocked:
        failed = {r.job.name for r in results if not r.ok}
        skipped = sorted(blocked - failed)
        if skipped:
            log(f"skipped {len(skipped)} stage(s) downstream of a failure: {', '.join(skipped[:6])}"
                + (" ..." if len(skipped) > 6 else ""))
    return results
