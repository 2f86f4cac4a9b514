"""Run records (typed: harness/records/models.py) and their index.

A run is an immutable directory ``runs/<run-id>/``: ``spec.json`` (the resolved spec, its hash and the
record's ``schema_version``), ``results.json`` (per task: headline metric, value, stderr, n, k, all metrics,
truncation and no-answer rates), ``provenance.json`` and ``samples/<task>.jsonl``. It is assembled in a hidden temp directory,
made read-only and renamed into place, so a reader sees a whole run or none. ``runs/index.sqlite`` is a
cache of the directories and can always be rebuilt from them (``statbench runs reindex``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sqlite3
import stat
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.core import jsonl
from harness.core.errors import RecordError, SpecError, StorageError, validation_message
from harness.core.faults import fault
from harness.core.state import file_lock, owner_tag, remove_stale, storage_error
from harness.records.models import STORED, ResolvedSpec, RunRecord, SampleRow, TaskResult, migrate_spec

INDEX = "index.sqlite"
INDEX_VERSION = 3  # of the SQLite index (a cache; 3: paths relative to the runs dir); the run records' own version is models.SCHEMA_VERSION
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


TMP_PREFIX = ".tmp-"


def write_run(
    runs_dir: Path,
    run_id: str,
    spec: ResolvedSpec,
    results: dict[str, TaskResult],
    provenance: dict,
    samples: dict[str, Iterable[SampleRow]],
    extra_files: dict[str, str] | None = None,
) -> Path:
    """Assemble the run in a temp dir of this process, make it read-only and rename it into place (atomic);
    returns its directory.

    Never overwrites: when another process took ``run_id`` first (two runs of one spec in the same second),
    this one becomes ``<run_id>-2`` (``-3``, ...), so both records are kept. Temp dirs that dead processes
    left (``.tmp-<id>-<pid>@<host>``) are removed first. A full disk is a one-line :class:`StorageError`
    and leaves no partial record.
    """
    runs_dir = Path(runs_dir)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise storage_error(e, runs_dir, "creating the runs directory") from e
    remove_stale(runs_dir, (TMP_PREFIX,))
    tmp = runs_dir / f"{TMP_PREFIX}{run_id}-{owner_tag()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        (tmp / "samples").mkdir(parents=True)
        fault("write_run:start")
        (tmp / "spec.json").write_text(_dump(spec.to_json()), encoding="utf-8")
        fault("write_run:spec")
        (tmp / "results.json").write_text(
            _dump({t: r.model_dump() for t, r in results.items()}), encoding="utf-8"
        )
        (tmp / "provenance.json").write_text(_dump(provenance), encoding="utf-8")
        fault("write_run:results")
        for task, rows in samples.items():
            with (tmp / "samples" / f"{task}.jsonl").open("w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row.to_json(), ensure_ascii=False) + "\n")
            fault("write_run:samples")
        for name, text in (extra_files or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
        for p in tmp.rglob("*"):
            if p.is_file():
                p.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        fault("write_run:rename")
        final = _rename_new(tmp, runs_dir, run_id)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise storage_error(e, runs_dir, f"writing run record {run_id}; nothing was recorded") from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fault("write_run:index")
    try:
        RunIndex(runs_dir).add(final)
    except StorageError as e:  # the record is complete; the index is only a cache
        _warn(f"{runs_dir / INDEX}: not updated ({e}); `statbench runs reindex` rebuilds it")
    return final


def _rename_new(tmp: Path, runs_dir: Path, run_id: str) -> Path:
    """Rename ``tmp`` to the first free ``run_id``, ``run_id-2``, ... (a rename onto an existing non-empty
    directory fails, so two processes can never take one name)."""
    n = 1
    while True:
        final = runs_dir / (run_id if n == 1 else f"{run_id}-{n}")
        if not final.exists():
            try:
                os.rename(tmp, final)
                return final
            except OSError as e:
                if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
        n += 1


def _damaged(e: sqlite3.DatabaseError) -> bool:
    """Whether an SQLite error says the file is not (or no longer) a database."""
    return any(w in str(e) for w in ("not a database", "malformed", "file is encrypted", "no such table"))


def _warn(msg: str) -> None:
    print(f"statbench: warning: {msg}", file=sys.stderr, flush=True)


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError as e:
        raise RecordError(f"{path.parent}: not a complete statbench run ({path.name} missing)") from e
    except json.JSONDecodeError as e:
        raise RecordError(f"{path}: damaged run record ({e.msg} at line {e.lineno})") from e
    except UnicodeDecodeError as e:
        raise RecordError(f"{path}: damaged run record (invalid UTF-8 at byte {e.start})") from e
    except RecursionError:
        raise RecordError(f"{path}: damaged run record (nested too deeply)") from None
    except ValueError as e:  # Python's guard against integers of over 4,300 digits
        raise RecordError(f"{path}: damaged run record ({str(e).split(':')[0]})") from None
    except OSError as e:
        raise RecordError(f"{path}: cannot read the run record ({e.strerror or e})") from e


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
    """The task's sample rows, in file order (lines split on "\\n" only; a bad line is a RecordError
    ``FILE:LINE: ...``)."""
    path = Path(run_dir) / "samples" / f"{task}.jsonl"
    try:
        for line in jsonl.lines(path):
            if line.text is None:
                raise RecordError(f"{path}:{line.number}: damaged sample line ({line.error})")
            try:
                yield SampleRow.model_validate_json(line.text)
            except ValidationError as e:
                raise RecordError(
                    f"{path}:{line.number}: malformed sample line ({validation_message(e)})"
                ) from e
    except OSError as e:
        raise RecordError(f"{path}: cannot read the samples ({e.strerror or e})") from e


def _scan_dirs(runs_dir: Path) -> list[Path]:
    """The run directories under ``runs_dir`` (hidden temp folders excluded), sorted by name."""
    try:
        entries = sorted(Path(runs_dir).iterdir())
    except OSError:
        return []
    return [d for d in entries if not d.name.startswith(".") and (d / "spec.json").is_file()]


def _connect_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=60)


class RunIndex:
    """SQLite index over ``runs/*/``: a cache, rebuilt from the directories whenever asked.

    Rows name their run by its directory name, relative to the runs dir, so a runs dir can be moved, copied or
    reached by another path; a row that points outside it is ignored. Reading never writes: the file is
    opened read-only (``mode=ro``, so an archived, read-only runs dir works), and when it is missing, from
    another index version or damaged (then with a one-line warning), the run directories are scanned
    instead. Writing (``add``, ``rebuild``) holds ``runs/.index.lock``; a damaged file is replaced by a
    fresh one rebuilt from the directories.
    """

    LOCK = ".index.lock"

    def __init__(self, runs_dir: Path):
        self.runs_dir = Path(runs_dir)
        self.path = self.runs_dir / INDEX
        self._db: sqlite3.Connection | None = None

    # -- reading ------------------------------------------------------------------------------------------

    @property
    def db(self) -> sqlite3.Connection:
        """A read connection: the index file read-only, or an in-memory index of a directory scan."""
        if self._db is None:
            self._db = self._open_ro() or self._scan()
        return self._db

    def _open_ro(self) -> sqlite3.Connection | None:
        if not self.path.is_file():
            return None
        db = None
        try:
            db = _connect_ro(self.path)
            if db.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
                db.close()  # empty, being created, or written by another statbench version
                return None
            db.execute("SELECT run_id, path FROM runs LIMIT 1").fetchall()
            db.execute("SELECT run_id FROM results LIMIT 1").fetchall()
            return db
        except sqlite3.DatabaseError as e:
            if db is not None:
                db.close()
            _warn(
                f"{self.path}: damaged run index ({e}); reading the run directories instead "
                "(`statbench runs reindex` rebuilds it)"
            )
            return None

    def _scan(self) -> sqlite3.Connection:
        db = sqlite3.connect(":memory:")
        for stmt in _SCHEMA:
            db.execute(stmt)
        self._fill(db)
        return db

    # -- writing ------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _writer(self, fresh: bool = False) -> Iterator[sqlite3.Connection]:
        """The index file opened for writing, under the index lock; ``fresh``: start from an empty file."""
        self.close()
        try:
            with file_lock(self.runs_dir / self.LOCK, what="the run index"):
                if fresh:
                    self._remove_file()
                db = self._open_rw(warn=fresh)
                try:
                    yield db
                finally:
                    db.close()
        except sqlite3.OperationalError as e:
            raise storage_error(e, self.path, "updating the run index") from e

    def _open_rw(self, warn: bool = False) -> sqlite3.Connection:
        new = not self.path.is_file() or self.path.stat().st_size == 0
        db = None
        try:
            db = sqlite3.connect(self.path, timeout=60)
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if not new and version == INDEX_VERSION:
                db.execute("SELECT run_id, path FROM runs LIMIT 1").fetchall()
                db.execute("SELECT run_id FROM results LIMIT 1").fetchall()
                return db
        except sqlite3.DatabaseError as e:
            if db is None or (isinstance(e, sqlite3.OperationalError) and not _damaged(e)):
                raise
            db.close()
            _warn(f"{self.path}: damaged run index ({e}); rebuilding it from the run directories")
            self._remove_file()
            db = sqlite3.connect(self.path, timeout=60)
        # new, damaged or from another index version: rebuild from the directories
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DROP TABLE IF EXISTS runs")
            db.execute("DROP TABLE IF EXISTS results")
            for stmt in _SCHEMA:
                db.execute(stmt)
            self._fill(db, warn)
            db.execute(f"PRAGMA user_version={INDEX_VERSION}")
        return db

    def _remove_file(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()

    def _fill(self, db: sqlite3.Connection, warn: bool = False) -> int:
        n = 0
        for d in _scan_dirs(self.runs_dir):
            try:
                self._insert(db, d)
                n += 1
            except SpecError as e:  # RecordError: damaged, incomplete or from an unknown schema version
                if warn:
                    _warn(f"skipped: {e}")
                continue
        return n

    def _insert(self, db: sqlite3.Connection, run_dir: Path) -> None:
        rec = read_run(run_dir)
        spec, results, user = rec.spec, rec.results, rec.spec.spec
        labels = user.labels if rec.spec.eval_spec else {}
        seed = user.seed if rec.spec.eval_spec else None
        db.execute("DELETE FROM results WHERE run_id=?", (run_dir.name,))
        db.execute(
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
                run_dir.name,  # relative to the runs dir
            ),
        )
        db.executemany(
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

    def add(self, run_dir: Path) -> None:
        """Index one run directory of this runs dir (replacing its old rows); one elsewhere is ignored."""
        run_dir = Path(run_dir)
        if run_dir.resolve().parent != self.runs_dir.resolve():
            return
        with self._writer() as db, db:
            self._insert(db, run_dir)

    def rebuild(self) -> int:
        """Rebuild the index from scratch (whatever the old file holds); returns how many runs were indexed
        (unreadable ones are skipped)."""
        with self._writer(fresh=True) as db:
            return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def close(self) -> None:
        """Close the read connection (reopened on the next read)."""
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- queries ------------------------------------------------------------------------------------------

    def _here(self, rel: str | None) -> Path | None:
        """The run directory a stored path names, if it is a run directly under this runs dir."""
        if not rel or "/" in rel or "\\" in rel or rel.startswith("."):
            return None  # absolute, nested or outside (an index written by an older statbench)
        return self.runs_dir / rel

    def find_complete(self, spec_hash: str) -> Path | None:
        """The newest complete, readable run with this spec hash, if any (a damaged one is skipped, with a
        warning)."""
        for (rel,) in self.db.execute(
            "SELECT path FROM runs WHERE spec_hash=? ORDER BY created DESC, run_id DESC", (spec_hash,)
        ).fetchall():
            path = self._here(rel)
            if path is None or not (path / "results.json").is_file():
                continue
            try:
                read_run(path)
            except SpecError as e:
                _warn(f"not reusing it: {e}")
                continue
            return path
        return None

    def runs(self) -> list[dict[str, Any]]:
        """Every indexed run that is still there, as a row dict (run_id, created, kind, model, backend,
        protocol, seed, labels, source, path)."""
        cur = self.db.execute(
            "SELECT run_id, created, kind, model, backend, protocol, seed, labels, source, path FROM runs "
            "ORDER BY created, run_id"
        )
        cols = [c[0] for c in cur.description]
        rows = []
        for row in cur:
            r = dict(zip(cols, row, strict=True))
            path = self._here(r["path"])
            if path is None or not (path / "spec.json").is_file():
                continue
            r["path"] = str(path)
            try:
                r["labels"] = json.loads(r["labels"] or "{}")
            except json.JSONDecodeError:
                r["labels"] = {}
            rows.append(r)
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
