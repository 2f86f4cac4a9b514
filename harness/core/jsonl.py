"""THE JSONL reader: every JSONL file statbench reads goes through here.

Lines are split on ``\\n`` only. ``str.splitlines()`` also breaks on U+2028, U+2029, U+0085, form feeds and
other characters that JSON leaves unescaped inside strings (``json.dumps(..., ensure_ascii=False)`` writes
them verbatim), so it would cut a valid record in two. Each line is decoded as UTF-8 on its own, so one
bad byte costs one line, and every problem is reported as ``FILE:LINE: what is wrong``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import RecordError


class JsonlError(RecordError):
    """A JSONL line that is not valid UTF-8 or not valid JSON (``FILE:LINE: ...``; exit 2)."""


@dataclass(frozen=True)
class Line:
    """One non-blank line: its 1-based number, and either its text or why it could not be decoded."""

    number: int
    text: str | None
    error: str | None = None


def split(data: bytes | str) -> Iterator[tuple[int, bytes | str]]:
    """``(line number, raw line)`` for every line of ``data``, split on ``\\n`` only (a final ``\\n`` ends the
    last line; it does not start an empty one)."""
    sep = b"\n" if isinstance(data, bytes) else "\n"
    parts = data.split(sep)  # type: ignore[arg-type]
    if parts and not parts[-1]:
        parts.pop()
    yield from enumerate(parts, 1)


def decode(raw: bytes | str) -> tuple[str | None, str | None]:
    """``(text, None)`` or ``(None, why)`` for one raw line."""
    if isinstance(raw, str):
        return raw, None
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return None, f"invalid UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1})"


def _lines(raws: Iterable[tuple[int, bytes | str]]) -> Iterator[Line]:
    for i, raw in raws:
        text, error = decode(raw)
        if text is not None and not text.strip():
            continue  # blank lines (and a trailing "\r") are allowed
        yield Line(i, text, error)


def lines(source: Path | bytes | str) -> Iterator[Line]:
    """The non-blank lines of a file (streamed) or of a bytes/str buffer, each decoded on its own."""
    if isinstance(source, bytes | str):
        yield from _lines(split(source))
        return
    with Path(source).open("rb") as fh:  # binary iteration splits on b"\n" only
        yield from _lines((i, raw.removesuffix(b"\n")) for i, raw in enumerate(fh, 1))


def parse(text: str) -> tuple[Any, str | None]:
    """``(value, None)`` or ``(None, why)`` for one line's text."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as e:
        return None, f"invalid JSON ({e.msg} at column {e.colno})"
    except RecursionError:
        return None, "invalid JSON (nested too deeply)"
    except ValueError as e:  # Python's int-size guard: an integer of over 4,300 digits
        return None, f"invalid JSON ({' '.join(str(e).split()[:6])} ...)"


def records(source: Path | bytes | str, name: str | None = None) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` for each non-blank line; the first bad line raises :class:`JsonlError`
    (``NAME:LINE: ...``; ``name`` defaults to the path)."""
    label = name or (str(source) if isinstance(source, Path) else "<input>")
    try:
        for line in lines(source):
            if line.text is None:
                raise JsonlError(f"{label}:{line.number}: {line.error}")
            value, why = parse(line.text)
            if why is not None:
                raise JsonlError(f"{label}:{line.number}: {why}")
            yield line.number, value
    except OSError as e:
        raise JsonlError(f"{label}: cannot read ({e.strerror or e})") from e


def read(source: Path | bytes | str, name: str | None = None) -> list[Any]:
    """Every value of a JSONL file or buffer, in order (see :func:`records`)."""
    return [v for _, v in records(source, name)]


def read_objects(source: Path | bytes | str, name: str | None = None) -> list[dict[str, Any]]:
    """Like :func:`read`, and every line must be a JSON object."""
    label = name or (str(source) if isinstance(source, Path) else "<input>")
    out = []
    for i, v in records(source, name):
        if not isinstance(v, dict):
            raise JsonlError(f"{label}:{i}: expected a JSON object, got {type(v).__name__}")
        out.append(v)
    return out
