"""Small I/O helpers: atomic writes (temp file in the same directory, fsync, rename) that honour the umask."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def current_umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_file_mode() -> int:
    """The mode ``open()`` would give a new file: 0o666 minus the umask (0o644 under the usual 022)."""
    return 0o666 & ~current_umask()


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a partial one.

    The file gets the mode a plain ``open()`` would give it (``0o666 & ~umask``), not ``mkstemp``'s 0600:
    reports are for teammates and web servers too."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """``atomic_write_text`` for bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, default_file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
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
