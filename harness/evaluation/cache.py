"""Request-level generation cache (SQLite, WAL) and model fingerprints.

Every generation is keyed by (model fingerprint, prompt, generation params, sample index, seed), so a
cache entry can never be served for another checkpoint (lm-eval's ``--use_cache`` is keyed by prompt only
and skips sampled requests: lm-eval #2715, #4063). Each batch is committed as it finishes, so a SIGKILL
loses at most the batch in flight, and a rerun generates only what is missing.

The model fingerprint is the sha256 over config, tokenizer and weight files. Hashing multi-GB weights
takes seconds, so it is memoised per file by (size, mtime); a changed file is re-hashed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import ModelError, SpecError
from harness.core.hashing import canonical_json

MODEL_FILES = (
    "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
    "chat_template.jinja", "vocab.json", "merges.txt", "tokenizer.model", "added_tokens.json",
)
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")


@dataclass(frozen=True)
class Generation:
    """One cached generation: its text, token count and finish reason."""
    text: str
    tokens: int
    finish_reason: str  # stop | length


def generation_key(fingerprint: str, prompt: str, params: dict, sample_idx: int, seed: int) -> str:
    """The cache key of one sample: model fingerprint, prompt, sampling parameters, sample index and seed."""
    return hashlib.sha256(canonical_json([fingerprint, prompt, params, sample_idx, seed]).encode()).hexdigest()


class GenerationCache:
    """Persistent cache of generations; safe to share between runs and processes (WAL)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, fingerprint TEXT, task TEXT, "
            "sample_idx INTEGER, response TEXT, tokens INTEGER, finish_reason TEXT, created REAL)"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS file_hashes (path TEXT PRIMARY KEY, sig TEXT, sha256 TEXT)")

    def get_many(self, keys: Iterable[str]) -> dict[str, Generation]:
        keys = list(dict.fromkeys(keys))
        out: dict[str, Generation] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            q = f"SELECT key, response, tokens, finish_reason FROM generations WHERE key IN ({','.join('?' * len(chunk))})"
            for key, resp, tok, fin in self.db.execute(q, chunk):
                out[key] = Generation(resp, tok, fin)
        return out

    def put_many(self, rows: Iterable[tuple[str, str, str, int, Generation]]) -> None:
        """Insert (key, fingerprint, task, sample_idx, generation) rows in one transaction."""
        now = time.time()
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR REPLACE INTO generations VALUES (?,?,?,?,?,?,?,?)",
                [(k, fp, task, idx, g.text, g.tokens, g.finish_reason, now) for k, fp, task, idx, g in rows],
            )

    def count(self, fingerprint: str | None = None) -> int:
        if fingerprint is None:
            return self.db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM generations WHERE fingerprint=?", (fingerprint,)).fetchone()[0]

    def file_sha256(self, path: Path) -> str:
        st = path.stat()
        sig = f"{st.st_size}:{st.st_mtime_ns}"
        row = self.db.execute("SELECT sig, sha256 FROM file_hashes WHERE path=?", (str(path.resolve()),)).fetchone()
        if row and row[0] == sig:
            return row[1]
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
        digest = h.hexdigest()
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO file_hashes VALUES (?,?,?)", (str(path.resolve()), sig, digest))
        return digest

    def close(self) -> None:
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
        raise ModelError(f"{model_dir}: model path is not a directory (give a Hugging Face-format checkpoint dir)")
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


def writable_dir(path: Path) -> None:
    """Fail before any work if ``path`` cannot hold run records."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise SpecError(f"{path}: runs directory is not writable ({e.strerror or e})") from e
