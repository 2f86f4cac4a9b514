"""Small I/O helpers: atomic writes (temp file in the same directory, fsync, rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a partial one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def format_table(header: list[str], rows: list[list[str]], right: bool = True) -> str:
    """Fixed-width text table that never wraps (ids and paths stay copy-pasteable).

    The first column is left-aligned; the others right-aligned when ``right``.
    """
    table = [header, *rows]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        cells = [
            str(c).ljust(w) if i == 0 or not right else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return "\n".join([fmt(header), "  ".join("-" * w for w in widths), *map(fmt, rows)])
