"""Read back what W&B wrote in offline mode: the records of a ``run-<id>.wandb`` file.

The file is W&B's transaction log: a 7-byte header (``:W&B``, a key, a version) then LevelDB-log blocks
of 32 KiB, each record a 7-byte header (crc32c, length, type: 1 full, 2 first, 3 middle, 4 last) and a
chunk; a whole record is a serialized ``wandb_internal_pb2.Record``. wandb 0.31's Python package no longer
ships a reader (its Go core writes the file), so the tests carry this small one.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

BLOCK = 32768


def _chunks(data: bytes):
    pos, buf = 7, b""
    while pos + 7 <= len(data):
        left = BLOCK - pos % BLOCK
        if left < 7:  # block trailer padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind == 1:
            yield chunk
        elif kind == 2:
            buf = chunk
        elif kind == 3:
            buf += chunk
        elif kind == 4:
            yield buf + chunk
            buf = b""


def read_offline_run(run_folder: Path) -> dict[str, Any]:
    """{config, summary, tags, name} of an offline run folder (``wandb/offline-run-*``)."""
    from wandb.proto import wandb_internal_pb2 as pb

    (path,) = Path(run_folder).glob("run-*.wandb")
    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path}: not a W&B transaction log"
    config: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    out: dict[str, Any] = {"config": config, "summary": summary, "tags": [], "name": None}
    for chunk in _chunks(data):
        rec = pb.Record()
        rec.ParseFromString(chunk)
        kind = rec.WhichOneof("record_type")
        if kind == "run":
            out["name"], out["tags"] = rec.run.display_name, list(rec.run.tags)
            for item in rec.run.config.update:
                config[item.key] = json.loads(item.value_json)
        elif kind == "config":
            for item in rec.config.update:
                config[item.key] = json.loads(item.value_json)
        elif kind == "summary":
            for item in rec.summary.update:
                if item.key:
                    summary[item.key] = json.loads(item.value_json)
    return out
