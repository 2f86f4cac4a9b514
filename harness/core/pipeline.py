"""Runs stages as a DAG with content-addressed, atomic, resumable outputs.

Each stage's output directory is named by a hash of (stage name, kind, version, config, the hashes of
the stages it depends on): ``<workdir>/stages/<name>-<hash16>/``. A stage is assembled in a temp directory
and renamed into place with its ``done.json``, so a directory that exists is complete, and a rerun skips
it. ``--from STAGE`` reruns that stage and everything downstream (the old output is kept until the new
one is complete). ``waves()`` groups what is left so an executor (harness/executors/) can run a wave's
stages side by side as separate ``statbench run --only STAGE`` jobs. Long stages (SFT, GRPO) also get a persistent scratch directory, ``<workdir>/work/…``,
for trainer checkpoints, so a killed run resumes inside the stage.

Concurrency: one ``statbench run`` per workdir, enforced by an ``flock`` on ``<workdir>/.statbench.lock``
(the kernel drops it when the holder dies, so it is never stale); a second run refuses in one line naming
the holder's pid, or waits (``--wait``). Each process assembles a stage in its own temp folder,
``stages/.tmp-<stage dir>-<pid>@<host>``, so two processes never write into one; temp folders of processes
that are gone are removed when a run starts. ``--only`` jobs (what an executor starts, side by side, inside
the driver's run) do not take the lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.core.errors import RecordError, SpecError
from harness.core.faults import fault
from harness.core.hashing import sha256_json
from harness.core.state import file_lock, is_disk_full, owner_tag, remove_stale, storage_error

LOCK = ".statbench.lock"


@contextlib.contextmanager
def workdir_lock(
    workdir: Path, *, wait: bool = False, log: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the workdir's lock (re-entrant within a process). Busy: :class:`BusyError` naming the holder's
    pid, or with ``wait`` a message through ``log`` and a wait until the holder ends."""
    workdir = Path(workdir)
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise storage_error(e, workdir, "creating the workdir") from e

    def waiting(pid: int | None) -> None:
        if log:
            log(
                f"{workdir}: another statbench run{f' (pid {pid})' if pid else ''} uses this workdir; waiting for it"
            )

    with file_lock(workdir / LOCK, wait=wait, what="this workdir", on_wait=waiting):
        yield


class StageRecord(BaseModel):
    """A finished stage: what ``done.json`` in its output directory holds (re-exported by harness.records)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: str
    kind: str
    hash: str
    config: dict[str, Any]
    deps: list[str]
    summary: dict[str, Any]
    seconds: float

    def to_json(self) -> str:
        """The ``done.json`` text (sorted keys, one-space indent; values JSON cannot hold become strings)."""
        return json.dumps(self.model_dump(), indent=1, sort_keys=True, default=str) + "\n"

    @classmethod
    def read(cls, path: Path) -> StageRecord:
        """A ``done.json`` file as a record; RecordError (one line) if it is missing or damaged."""
        try:
            return cls.model_validate_json(Path(path).read_bytes())
        except (OSError, ValidationError, UnicodeDecodeError) as e:
            raise RecordError(
                f"{path}: not a stage record ({type(e).__name__}: {str(e).splitlines()[0]})"
            ) from None


@dataclass
class Stage:
    """One node of the DAG: its name, kind, hashed config, dependencies and the function that computes it."""

    name: str
    kind: str
    config: dict[str, Any]
    deps: list[str]
    fn: Callable[[Ctx], dict[str, Any]]
    version: int = 1
    gpus: int = 0  # what an executor reserves when it runs this stage as a job
    estimate: dict[str, Any] = field(default_factory=dict)
    hash: str = ""

    def dir_name(self) -> str:
        return f"{self.name.replace('/', '--')}-{self.hash[:16]}"


@dataclass
class Ctx:
    """What a stage function gets: its stage, output and scratch directories, its inputs' directories and a logger."""

    stage: Stage
    workdir: Path
    out: Path  # write outputs here (a temp dir, renamed into place on success)
    work: Path  # persistent scratch (trainer checkpoints) that survives a kill
    inputs: dict[str, Path]  # dep name -> its completed output directory
    log: Callable[[str], None]
    shared: dict[str, Any]


class Pipeline:
    """A DAG of content-hashed stages under one workdir: topological order, waves, caching and resumable runs."""

    def __init__(self, stages: list[Stage], workdir: Path):
        self.workdir = Path(workdir)
        self.stages = {s.name: s for s in stages}
        if len(self.stages) != len(stages):
            raise SpecError("duplicate stage names in the plan")
        self.order = self._toposort(stages)
        for s in self.order:
            missing = [d for d in s.deps if d not in self.stages]
            if missing:
                raise SpecError(f"stage {s.name}: unknown dependency {', '.join(missing)}")
            s.hash = sha256_json([s.name, s.kind, s.version, s.config, [self.stages[d].hash for d in s.deps]])

    @staticmethod
    def _toposort(stages: list[Stage]) -> list[Stage]:
        by = {s.name: s for s in stages}
        done: dict[str, int] = {}
        order: list[Stage] = []

        def visit(s: Stage, path: tuple[str, ...]) -> None:
            if done.get(s.name) == 2:
                return
            if done.get(s.name) == 1:
                raise SpecError(f"dependency cycle: {' -> '.join((*path, s.name))}")
            done[s.name] = 1
            for d in s.deps:
                if d in by:
                    visit(by[d], (*path, s.name))
            done[s.name] = 2
            order.append(s)

        for s in stages:
            visit(s, ())
        return order

    def out_dir(self, s: Stage) -> Path:
        return self.workdir / "stages" / s.dir_name()

    def is_done(self, s: Stage) -> bool:
        return (self.out_dir(s) / "done.json").is_file()

    def unknown(self, flag: str, names: list[str]) -> SpecError:
        """One line for stage names that match nothing: the closest name, and the stage groups (first path
        parts, which --from also takes) instead of every one of a paper run's hundreds of stages."""
        import difflib

        all_names = [s.name for s in self.order]
        close = difflib.get_close_matches(names[0], all_names, n=1, cutoff=0.5)
        groups = list(dict.fromkeys(n.split("/")[0] for n in all_names))
        return SpecError(
            f"{flag} {', '.join(names)}: no such stage"
            + (f" (did you mean {close[0]}?)" if close else "")
            + f"; stage groups: {', '.join(groups)} ({len(all_names)} stages; --dry-run lists them)"
        )

    def forced(self, start: str | None) -> set[str]:
        if not start:
            return set()
        seeds = {n for n in self.stages if n == start or n.startswith(start.rstrip("/") + "/")}
        if not seeds:
            raise self.unknown("--from", [start])
        out = set(seeds)
        for s in self.order:  # topological order: one pass propagates downstream
            if any(d in out for d in s.deps):
                out.add(s.name)
        return out

    def todo(self, start: str | None = None) -> list[Stage]:
        forced = self.forced(start)
        return [s for s in self.order if s.name in forced or not self.is_done(s)]

    def waves(self, start: str | None = None) -> list[list[Stage]]:
        """The stages still to run, grouped so that every stage's dependencies are done or in an earlier wave:
        an executor runs one wave's stages side by side."""
        todo = {s.name for s in self.todo(start)}
        level: dict[str, int] = {}
        for s in self.order:
            if s.name in todo:
                level[s.name] = 1 + max((level[d] for d in s.deps if d in todo), default=-1)
        waves: list[list[Stage]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
        for s in self.order:
            if s.name in level:
                waves[level[s.name]].append(s)
        return waves

    def run(
        self,
        start: str | None = None,
        log: Callable[[str], None] = print,
        progress: Callable[[Stage, int, int, str], None] | None = None,
        only: list[str] | None = None,
        wait: bool = False,
    ) -> dict[str, Any]:
        """Run what is not done (``start``: rerun it and downstream). ``only``: run exactly these stages
        (always rerun), whose dependencies must be done already; this is how an executor runs one stage as a job.
        Holds the workdir lock (not with ``only``): busy, it raises BusyError, or with ``wait`` waits."""
        if only:
            unknown = [n for n in only if n not in self.stages]
            if unknown:
                raise self.unknown("--only", unknown)
            for n in only:
                missing = [
                    d for d in self.stages[n].deps if not self.is_done(self.stages[d]) and d not in only
                ]
                if missing:
                    raise SpecError(
                        f"--only {n}: dependency {', '.join(missing)} is not done yet; run it first"
                    )
            forced = set(only)
        else:
            forced = self.forced(start)
        with contextlib.nullcontext() if only else workdir_lock(self.workdir, wait=wait, log=log):
            remove_stale(self.workdir / "stages", (".tmp-", ".old-"))  # left by processes that are gone
            return self._run(forced, only, log, progress)

    def _run(
        self,
        forced: set[str],
        only: list[str] | None,
        log: Callable[[str], None],
        progress: Callable[[Stage, int, int, str], None] | None,
    ) -> dict[str, Any]:
        shared: dict[str, Any] = {}
        summary: dict[str, Any] = {}
        for i, s in enumerate(self.order):
            if only and s.name not in forced:
                continue
            if self.is_done(s) and s.name not in forced:
                summary[s.name] = self._done_summary(s)
                if progress:
                    progress(s, i, len(self.order), "cached")
                continue
            if progress:
                progress(s, i, len(self.order), "running")
            summary[s.name], seconds = self._run_stage(s, log, shared)
            if progress:
                progress(s, i, len(self.order), f"done in {seconds:.0f}s")
        return summary

    def summary(self) -> dict[str, Any]:
        """The summaries of the stages that are done (after an executor ran them as jobs)."""
        return {s.name: self._done_summary(s) for s in self.order if self.is_done(s)}

    def record(self, s: Stage) -> StageRecord:
        """The stage's ``done.json`` (the stage must be done)."""
        return StageRecord.read(self.out_dir(s) / "done.json")

    def _done_summary(self, s: Stage) -> dict[str, Any]:
        try:
            return self.record(s).summary
        except RecordError as e:
            raise RecordError(f"{e}; rerun the stage with --from {s.name}") from None

    def _run_stage(
        self, s: Stage, log: Callable[[str], None], shared: dict[str, Any]
    ) -> tuple[dict[str, Any], float]:
        out = self.out_dir(s)
        tag = owner_tag()
        tmp = out.with_name(f".tmp-{out.name}-{tag}")  # this process's own: nobody else writes into it
        work = self.workdir / "work" / out.name
        ctx = Ctx(s, self.workdir, tmp, work, {d: self.out_dir(self.stages[d]) for d in s.deps}, log, shared)
        t0 = time.perf_counter()
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            fault("stage:start")
            result = s.fn(ctx) or {}
            record = StageRecord(
                stage=s.name,
                kind=s.kind,
                hash=s.hash,
                config=s.config,
                deps=s.deps,
                summary=result,
                seconds=round(time.perf_counter() - t0, 2),
            )
            (tmp / "done.json").write_text(record.to_json(), encoding="utf-8")
            fault("stage:done")
            self._commit(tmp, out, tag, log)
        except Exception as e:
            shutil.rmtree(tmp, ignore_errors=True)
            if is_disk_full(e):
                raise storage_error(
                    e, self.workdir, f"stage {s.name}; finished stages are kept, rerun to resume"
                ) from e
            raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fault("stage:committed")
        shutil.rmtree(work, ignore_errors=True)  # checkpoints are only needed until the stage completes
        return result, record.seconds

    @staticmethod
    def _commit(tmp: Path, out: Path, tag: str, log: Callable[[str], None]) -> None:
        """Rename the finished ``tmp`` into place; an older output is moved aside first and then deleted."""
        old = out.with_name(f".old-{out.name}-{tag}")
        with contextlib.suppress(FileNotFoundError):  # another process may have moved it already
            out.rename(old)
        try:
            os.rename(tmp, out)
        except OSError as e:
            if not out.is_dir():
                raise
            # another process (an --only job) committed the same stage between the two renames: its output
            # is as complete as ours; keep it
            shutil.rmtree(tmp, ignore_errors=True)
            log(f"{out}: committed by another process meanwhile ({e.strerror}); keeping that one")
        shutil.rmtree(old, ignore_errors=True)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "stage": s.name,
                "kind": s.kind,
                "hash": s.hash[:16],
                "deps": s.deps,
                "status": "done" if self.is_done(s) else "todo",
                **s.estimate,
            }
            for s in self.order
        ]
