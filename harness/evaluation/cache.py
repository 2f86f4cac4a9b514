"""Request-level generation cache (SQLite) and model fingerprints.

Every generation is keyed by (cache version, model fingerprint, producer, prompt, generation params, sample
index, seed), so a cache entry can never be served for another checkpoint (lm-eval's ``--use_cache`` is
keyed by prompt only and skips sampled requests: lm-eval #2715, #4063) nor for another way of running it.
The *producer* is what the backend reports about itself (``Backend.identity()``): backend name, chat or
completions mode, dtype/quantization and any engine setting that changes numerics, and for a served model
what its ``/v1/models`` entry says (id, root, max_model_len). Completions are committed in group commits
(``harness.evaluation.lm``), so a SIGKILL loses at most one commit window; a rerun generates only what is
missing.

Cache versions (``CACHE_VERSION`` is part of every key, so entries of an older version are never served;
they stay in the file, unused; finished runs are found by their spec hash, not through this cache, and are
reused unchanged):

- 1: (fingerprint, prompt, params, sample index, seed). The backend, mode and dtype were not in the key:
  an hf float32 run, the same checkpoint in bfloat16 and a server with ``model_path`` shared entries.
- 2: adds the producer (above); empty/null server replies are errors, never cached; the optional
  ``reasoning`` column keeps a server's ``reasoning_content`` (recorded, not graded).

Shared filesystems: SQLite's WAL needs shared memory between all writers, which NFS (and other network
filesystems) do not provide across hosts. When the cache lives on one (``/proc/mounts``; override with
``STATBENCH_CACHE_SHARDS=1|0``), every process writes its own shard, ``<cache>.shards/<host>-<pid>.sqlite``,
in rollback-journal mode, and reads merge the main file and every shard; ``merge_shards()`` folds them into
the main file when no job is running.

The model fingerprint is the sha256 over config, tokenizer and weight files. Hashing multi-GB weights
takes seconds, so it is memoised per file by (size, mtime); a changed file is re-hashed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import struct
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import ModelError, SpecError
from harness.core.faults import fault
from harness.core.hashing import canonical_json
from harness.core.state import file_lock, is_disk_full, storage_error

CACHE_VERSION = 2
MODEL_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
    "added_tokens.json",
)
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")
NETWORK_FS = {
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "lustre",
    "gpfs",
    "beegfs",
    "ceph",
    "glusterfs",
    "9p",
    "fuse.sshfs",
    "fuse.glusterfs",
    "fuse.cephfs",
    "fuse.juicefs",
    "fuse.s3fs",
    "fuse.gcsfuse",
    "afs",
    "panfs",
}


@dataclass(frozen=True)
class Generation:
    """One completed sample: text, generated tokens, finish reason (stop | length), optional reasoning."""

    text: str
    tokens: int
    finish_reason: str  # stop | length
    reasoning: str | None = None  # a server's reasoning_content; kept in the record, never graded


def generation_key(
    fingerprint: str, prompt: str, params: dict, sample_idx: int, seed: int, producer: dict[str, Any]
) -> str:
    """The cache key of one sample: everything that decides what the sample is (see the module docstring)."""
    return hashlib.sha256(
        canonical_json([CACHE_VERSION, fingerprint, producer, prompt, params, sample_idx, seed]).encode()
    ).hexdigest()


def filesystem_type(path: Path) -> str | None:
    """The filesystem type (as /proc/mounts names it) that holds ``path``; None if unknown."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None
    target, best, fstype = str(Path(path).resolve()), -1, None
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        mnt = parts[1].replace("\\040", " ")
        if (target == mnt or target.startswith(mnt.rstrip("/") + "/")) and len(mnt) > best:
            best, fstype = len(mnt), parts[2]
    return fstype


def wants_shards(path: Path) -> bool:
    """Whether the cache at ``path`` must be written in per-process shards (a network filesystem)."""
    env = os.environ.get("STATBENCH_CACHE_SHARDS")
    if env in ("0", "1"):
        return env == "1"
    return (filesystem_type(Path(path).parent) or "") in NETWORK_FS


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, fingerprint TEXT, task TEXT, sample_idx INTEGER, "
    "response TEXT, tokens INTEGER, finish_reason TEXT, created REAL, reasoning TEXT)",
    "CREATE TABLE IF NOT EXISTS file_hashes (path TEXT PRIMARY KEY, sig TEXT, sha256 TEXT)",
)
_COLS = "key, fingerprint, task, sample_idx, response, tokens, finish_reason, created, reasoning"


def _connect(path: Path, wal: bool) -> sqlite3.Connection:
    """Open (creating if needed) a cache file; a damaged one (not an SQLite database, or malformed) is moved
    aside to ``<name>.damaged-<time>`` with a one-line warning and a fresh one started: the cache only saves
    work, and run records do not depend on it. A full disk is a one-line StorageError."""
    try:
        try:
            return _open(path, wal)
        except sqlite3.DatabaseError as e:
            if not _damaged(e):
                raise
        with file_lock(Path(f"{path}.lock"), what="the generation cache"):
            try:  # another process may have replaced it meanwhile
                return _open(path, wal)
            except sqlite3.DatabaseError as e:
                if not _damaged(e):
                    raise
                aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
                path.rename(aside)
                for suffix in ("-wal", "-shm", "-journal"):
                    with contextlib.suppress(FileNotFoundError):
                        Path(f"{path}{suffix}").unlink()
                print(
                    f"statbench: warning: {path}: damaged generation cache ({e}); moved it to {aside.name} "
                    "and started a new one (generations will be recomputed; run records are untouched)",
                    file=sys.stderr,
                    flush=True,
                )
            return _open(path, wal)
    except (sqlite3.OperationalError, OSError) as e:
        raise storage_error(e, path, "opening the generation cache") from e


def _damaged(e: sqlite3.DatabaseError) -> bool:
    return not isinstance(e, sqlite3.OperationalError) or any(
        w in str(e) for w in ("not a database", "malformed", "file is encrypted")
    )


def _open(path: Path, wal: bool) -> sqlite3.Connection:
    """Open a cache file and set it up. Switching the journal mode ignores SQLite's busy timeout, so two
    processes creating one file at once would see "database is locked": that setup is retried."""
    db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    deadline = time.monotonic() + 60
    while True:
        try:
            db.execute(f"PRAGMA journal_mode={'WAL' if wal else 'DELETE'}")
            db.execute("PRAGMA synchronous=NORMAL")
            for stmt in _SCHEMA:
                db.execute(stmt)
            if "reasoning" not in {
                r[1] for r in db.execute("PRAGMA table_info(generations)")
            }:  # a version-1 file
                db.execute("ALTER TABLE generations ADD COLUMN reasoning TEXT")
            return db
        except sqlite3.OperationalError as e:
            transient = any(
                w in str(e) for w in ("locked", "busy", "duplicate column")
            )  # another process got there first
            if not transient or time.monotonic() > deadline:
                db.close()
                raise
        except sqlite3.DatabaseError:
            db.close()
            raise
            time.sleep(0.05)


class GenerationCache:
    """Persistent cache of generations; safe to share between runs and processes (WAL, or shards on NFS).

    Thread-safe: the scheduler's commit thread and the caller may use one instance.
    """

    def __init__(self, path: Path, shards: bool | None = None):
        self.path = Path(path)
        self.sharded = wants_shards(self.path) if shards is None else shards
        self.lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.sharded:
                self.path.with_name(self.path.name + ".shards").mkdir(exist_ok=True)
        except OSError as e:
            raise storage_error(e, self.path.parent, "creating the generation cache folder") from e
        if self.sharded:
            self.shard_dir = self.path.with_name(self.path.name + ".shards")
            self.write_path = self.shard_dir / f"{socket.gethostname()}-{os.getpid()}-{time.time_ns()}.sqlite"
        else:
            self.write_path = self.path
        self.db = _connect(self.write_path, wal=not self.sharded)

    def _others(self) -> list[Path]:
        if not self.sharded:
            return []
        paths = [self.path] if self.path.exists() else []
        return paths + sorted(p for p in self.shard_dir.glob("*.sqlite") if p != self.write_path)

    @staticmethod
    def _select(db: sqlite3.Connection, keys: list[str], out: dict[str, Generation]) -> None:
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            q = (
                "SELECT key, response, tokens, finish_reason, reasoning FROM generations "
                f"WHERE key IN ({','.join('?' * len(chunk))})"
            )
            for key, resp, tok, fin, reasoning in db.execute(q, chunk):
                out[key] = Generation(resp, tok, fin, reasoning)

    def get_many(self, keys: Iterable[str]) -> dict[str, Generation]:
        """The cached generations among ``keys`` (own file first, then the other shards and the main file)."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, Generation] = {}
        with self.lock:
            self._select(self.db, keys, out)
        for p in self._others():
            missing = [k for k in keys if k not in out]
            if not missing:
                break
            try:
                other = sqlite3.connect(f"file:{p}?mode=ro", uri=True, timeout=60)
                try:
                    self._select(other, missing, out)
                finally:
                    other.close()
            except sqlite3.DatabaseError:  # a shard being created this instant, or not (yet) a cache
                continue
        return out

    def put_many(self, rows: Iterable[tuple[str, str, str, int, Generation]]) -> None:
        """Insert (key, fingerprint, task, sample_idx, generation) rows in one transaction."""
        now = time.time()
        vals = [
            (k, fp, task, idx, g.text, g.tokens, g.finish_reason, now, g.reasoning)
            for k, fp, task, idx, g in rows
        ]
        if not vals:
            return
        try:
            with self.lock, self.db:
                self.db.execute("BEGIN")
                self.db.executemany(
                    f"INSERT OR REPLACE INTO generations ({_COLS}) VALUES (?,?,?,?,?,?,?,?,?)", vals
                )
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                raise
            raise storage_error(
                e, self.write_path, f"caching {len(vals)} generations; earlier ones are kept, rerun to resume"
            ) from e
        fault("cache:commit", len(vals))

    def count(self, fingerprint: str | None = None) -> int:
        """Distinct cached generations (of one model fingerprint, or all)."""
        q, args = (
            ("SELECT key FROM generations", ())
            if fingerprint is None
            else ("SELECT key FROM generations WHERE fingerprint=?", (fingerprint,))
        )
        with self.lock:
            keys = {r[0] for r in self.db.execute(q, args)}
        for p in self._others():
            other = sqlite3.connect(f"file:{p}?mode=ro", uri=True, timeout=60)
            try:
                keys |= {r[0] for r in other.execute(q, args)}
            finally:
                other.close()
        return len(keys)

    def merge_shards(self) -> int:
        """Fold every shard into the main file and delete it (run it when no job writes the cache)."""
        if not self.sharded:
            return 0
        main = _connect(self.path, wal=False)
        n = 0
        try:
            for p in sorted(self.shard_dir.glob("*.sqlite")):
                main.execute("ATTACH DATABASE ? AS shard", (str(p),))
                with main:
                    main.execute("BEGIN")
                    n += main.execute(
                        f"INSERT OR IGNORE INTO generations ({_COLS}) SELECT {_COLS} FROM shard.generations"
                    ).rowcount
                main.execute("DETACH DATABASE shard")
                if p != self.write_path:
                    p.unlink()
        finally:
            main.close()
        return n

    def file_sha256(self, path: Path) -> str:
        """sha256 of a file, memoised by (size, mtime)."""
        st = path.stat()
        sig = f"{st.st_size}:{st.st_mtime_ns}"
        with self.lock:
            row = self.db.execute(
                "SELECT sig, sha256 FROM file_hashes WHERE path=?", (str(path.resolve()),)
            ).fetchone()
        if row and row[0] == sig:
            return row[1]
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
        digest = h.hexdigest()
        try:
            with self.lock, self.db:
                self.db.execute(
                    "INSERT OR REPLACE INTO file_hashes VALUES (?,?,?)", (str(path.resolve()), sig, digest)
                )
        except sqlite3.OperationalError as e:
            if not is_disk_full(e):
                raise
            raise storage_error(e, self.write_path, "memoising a file hash") from e
        return digest

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.db.close()


def check_safetensors(path: Path) -> None:
    """Refuse a truncated or corrupt .safetensors file before anything loads it."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise ModelError(f"{path}: truncated safetensors file ({size} bytes, no header)")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8:
            raise ModelError(f"{path}: truncated safetensors file (header says {n} bytes, file has {size})")
        try:
            header = json.loads(fh.read(n))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ModelError(f"{path}: corrupt safetensors header ({e})") from e
    end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    if size != 8 + n + end:
        raise ModelError(f"{path}: truncated safetensors file: expected {8 + n + end} bytes, found {size}")


def model_files(model_dir: Path) -> list[Path]:
    """The files that define a checkpoint (config, tokenizer, weights), validated."""
    if not model_dir.exists():
        raise ModelError(f"{model_dir}: model path does not exist")
    if not model_dir.is_dir():
        raise ModelError(
            f"{model_dir}: model path is not a directory (give a Hugging Face-format checkpoint dir)"
        )
    if not (model_dir / "config.json").is_file():
        raise ModelError(f"{model_dir}: no config.json; not a Hugging Face-format checkpoint")
    weights = sorted(p for p in model_dir.iterdir() if p.suffix in WEIGHT_SUFFIXES and p.is_file())
    if not weights:
        raise ModelError(f"{model_dir}: no weight files ({', '.join('*' + s for s in WEIGHT_SUFFIXES)})")
    for w in weights:
        if w.suffix == ".safetensors":
            check_safetensors(w)
    return [model_dir / f for f in MODEL_FILES if (model_dir / f).is_file()] + weights


def model_fingerprint(model_dir: Path, cache: GenerationCache) -> str:
    """sha256 over the names and contents of the checkpoint's config, tokenizer and weight files."""
    h = hashlib.sha256()
    for f in model_files(Path(model_dir)):
        h.update(f.name.encode() + b"\0" + cache.file_sha256(f).encode() + b"\n")
    return h.hexdigest()


def endpoint_fingerprint(base_url: str, model: str) -> str:
    """Served models cannot be hashed from here: fingerprint the endpoint and model name instead."""
    return hashlib.sha256(f"openai:{base_url.rstrip('/')}:{model}".encode()).hexdigest()


def served_fingerprint(model: str) -> str:
    """The cache-key fingerprint of a served model whose weights are not hashed: its name only; what the
    servers' ``/v1/models`` say about it (id, root, max_model_len; or, if unlisted, the server URLs) is in
    the backend identity. Independent of how many servers there are, so ``base_url=URL1,URL2`` reuses and
    reproduces a one-server run's samples."""
    return hashlib.sha256(f"openai-served:{model}".encode()).hexdigest()


def writable_dir(path: Path) -> None:
    """Fail before any work if ``path`` cannot hold run records."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        if is_disk_full(e):
            raise storage_error(e, path, "the runs directory; nothing was started") from e
        raise SpecError(f"{path}: runs directory is not writable ({e.strerror or e})") from e
