"""Run records (typed: harness/records/models.py) and their index.

A run is an immutable directory ``runs/<run-id>/``: ``spec.json`` (the resolved spec, its hash and the
record's ``schema_version``), ``results.json`` (per task: headline metric, value, stderr, n, k, all metrics,
truncation and no-answer rates), ``provenance.json`` and ``samples/<task>.jsonl``. It is assembled in a hidden temp directory,
made read-only and renamed into place, so a reader sees a whole run or none. ``runs/index.sqlite`` is a
cache of the directories and can always be rebuilt from them (``statbench runs reindex``).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.core.errors import RecordError, SpecError, validation_message
from harness.records.models import STORED, ResolvedSpec, RunRecord, SampleRow, TaskResult, migrate_spec

INDEX = "index.sqlite"
INDEX_VERSION = 2  # of the SQLite index (a cache); the run records' own version is models.SCHEMA_VERSION
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, created TEXT, kind TEXT, model TEXT, backend TEXT, "
    "protocol TEXT, seed INTEGER, labels TEXT, spec_hash TEXT, fingerprint TEXT, source TEXT, path TEXT)",
    "CREATE TABLE IF NOT EXISTS results (run_id TEXT, task TEXT, metric TEXT, label TEXT, value REAL, stderr REAL, "
    "n INTEGER, k INTEGER, truncation_rate REAL, no_answer_rate REAL, PRIMARY KEY (run_id, task))",
)


def new_run_id(label: str, spec_hash: str) -> str:
    """``<UTC timestamp>-<label>-<hash8>``: sortable by time, readable, unique per spec."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)[-40:] or "run"
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{safe}-{spec_hash[:8]}"


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def write_run(
    runs_dir: Path,
    run_id: str,
    spec: ResolvedSpec,
    results: dict[str, TaskResult],
    provenance: dict,
    samples: dict[str, Iterable[SampleRow]],
    extra_files: dict[str, str] | None = None,
) -> Path:
    """Assemble the run in a temp dir, make it read-only and rename it into place (atomic); returns its directory."""
    final, n = runs_dir / run_id, 1
    while final.exists():  # two runs of one spec in the same second: never overwrite a record
        n += 1
        final = runs_dir / f"{run_id}-{n}"
    tmp = runs_dir / f".tmp-{run_id}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "samples").mkdir(parents=True)
    try:
        (tmp / "spec.json").write_text(_dump(spec.to_json()))
        (tmp / "results.json").write_text(_dump({t: r.model_dump() for t, r in results.items()}))
        (tmp / "provenance.json").write_text(_dump(provenance))
        for task, rows in samples.items():
            with (tmp / "samples" / f"{task}.jsonl").open("w") as fh:
                for row in rows:
                    fh.write(json.dumps(row.to_json(), ensure_ascii=False) + "\n")
        for name, text in (extra_files or {}).items():
            (tmp / name).write_text(text)
        for p in tmp.rglob("*"):
            if p.is_file():
                p.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    RunIndex(runs_dir).add(final)
    return final


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as e:
        raise RecordError(f"{path.parent}: not a complete statbench run ({path.name} missing)") from e
    except json.JSONDecodeError as e:
        raise RecordError(f"{path}: damaged run record ({e.msg} at line {e.lineno})") from e


def read_run(run_dir: Path) -> RunRecord:
    """A run directory as a :class:`RunRecord`; version-1 records are migrated, unknown versions refused."""
    run_dir = Path(run_dir)
    spec = migrate_spec(_load(run_dir / "spec.json"), run_dir / "spec.json")
    results, provenance = _load(run_dir / "results.json"), _load(run_dir / "provenance.json")
    version = spec.pop("schema_version")
    try:
        return RunRecord.model_validate(
            {
                "schema_version": version,
                "run_id": run_dir.name,
                "path": run_dir,
                "spec": spec,
                "results": results,
                "provenance": provenance,
            },
            context=STORED,
        )
    except ValidationError as e:
        raise RecordError(f"{run_dir}: damaged run record ({validation_message(e)})") from None


def iter_samples(run_dir: Path, task: str) -> Iterable[SampleRow]:
    """The task's sample rows, in file order."""
    path = Path(run_dir) / "samples" / f"{task}.jsonl"
    with path.open() as fh:
        for i, line in enumerate(fh, 1):
            try:
                yield SampleRow.model_validate_json(line)
            except ValidationError as e:
                raise RecordError(f"{path}:{i}: malformed sample line ({validation_message(e)})") from e


class RunIndex:
    """SQLite index over ``runs/*/``; a cache, rebuilt from the directories whenever asked."""

    def __init__(self, runs_dir: Path):
        self.runs_dir = Path(runs_dir)
        self.path = self.runs_dir / INDEX
        fresh = not self.path.exists()
        self.db = sqlite3.connect(self.path, timeout=60)
        if not fresh and self.db.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
            self.db.execute("DROP TABLE IF EXISTS runs")  # an index from an older statbench: rebuild it
            self.db.execute("DROP TABLE IF EXISTS results")
            fresh = True
        for stmt in _SCHEMA:
            self.db.execute(stmt)
        self.db.execute(f"PRAGMA user_version={INDEX_VERSION}")
        if fresh:
            self.rebuild()

    def add(self, run_dir: Path) -> None:
        """Index one run directory (replacing its old rows)."""
        rec = read_run(run_dir)
        spec, results, user = rec.spec, rec.results, rec.spec.spec
        labels = user.labels if rec.spec.eval_spec else {}
        seed = user.seed if rec.spec.eval_spec else None
        with self.db:
            self.db.execute("DELETE FROM results WHERE run_id=?", (run_dir.name,))
            self.db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_dir.name,
                    rec.provenance.get("created"),
                    spec.kind,
                    user.model,
                    user.backend,
                    user.protocol,
                    seed,
                    json.dumps(labels or {}, sort_keys=True),
                    spec.spec_hash,
                    spec.model_fingerprint,
                    spec.source,
                    str(run_dir),
                ),
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO results VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        run_dir.name,
                        t,
                        r.metric,
                        r.metric_label,
                        r.value,
                        r.stderr,
                        r.n,
                        r.k,
                        r.truncation_rate,
                        r.no_answer_rate,
                    )
                    for t, r in results.items()
                ],
            )

    def rebuild(self) -> int:
        """Re-index every complete run directory; returns how many were indexed (unreadable ones are skipped)."""
        with self.db:
            self.db.execute("DELETE FROM runs")
            self.db.execute("DELETE FROM results")
        n = 0
        for d in sorted(self.runs_dir.iterdir()) if self.runs_dir.is_dir() else []:
            if d.is_dir() and not d.name.startswith(".") and (d / "spec.json").is_file():
                try:
                    self.add(d)
                    n += 1
                except SpecError:  # RecordError: damaged, incomplete or from an unknown schema version
                    continue
        return n

    def find_complete(self, spec_hash: str) -> Path | None:
        """The newest complete run with this spec hash, if any."""
        for (path,) in self.db.execute(
            "SELECT path FROM runs WHERE spec_hash=? ORDER BY created DESC", (spec_hash,)
        ):
            if (Path(path) / "results.json").is_file():
                return Path(path)
        return None

    def runs(self) -> list[dict[str, Any]]:
        """Every indexed run as a row dict (run_id, created, kind, model, backend, protocol, seed, labels, source, path)."""
        cur = self.db.execute(
            "SELECT run_id, created, kind, model, backend, protocol, seed, labels, source, path FROM runs "
            "ORDER BY created, run_id"
        )
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, row, strict=True)) for row in cur]
        for r in rows:
            r["labels"] = json.loads(r["labels"] or "{}")
        return rows

    def resolve(self, ref: str) -> Path:
        """A run by directory path, full id or unique id prefix/substring."""
        p = Path(ref)
        if (p / "spec.json").is_file():
            return p
        ids = [r["run_id"] for r in self.runs()]
        hits = (
            [i for i in ids if i == ref]
            or [i for i in ids if i.startswith(ref)]
            or [i for i in ids if ref in i]
        )
        if len(hits) == 1:
            return self.runs_dir / hits[0]
        if not hits:
            raise SpecError(
                f"no run matches '{ref}' in {self.runs_dir} ({len(ids)} runs; see `statbench runs list`)"
            )
        raise SpecError(f"'{ref}' matches {len(hits)} runs: {', '.join(hits[:5])}…; give more of the id")
