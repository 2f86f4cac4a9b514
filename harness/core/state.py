"""State on disk shared by processes: per-process temp names, stale temp clean-up, file locks, disk errors.

A temp folder is named ``<prefix><pid>@<host>`` so that the process that owns it is known: a later start
removes the temp folders of processes that are gone (same host, pid not alive), and never touches one of a
live process or of another host (a container or a cluster node sharing the folder). Locks are ``flock``
locks on a lock file: the kernel drops them when the holder dies, so a lock is never stale.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from harness.core.errors import BusyError, StorageError

_HOST = socket.gethostname().replace("/", "_")
DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


def owner_tag() -> str:
    """``<pid>@<host>``: the suffix of this process's temp names."""
    return f"{os.getpid()}@{_HOST}"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_dead(name: str) -> bool:
    """Whether a temp name ending in ``-<pid>@<host>`` belongs to a process of this host that is gone."""
    rest, at, host = name.rpartition("@")
    if not at or host != _HOST:
        return False
    pid = rest.rpartition("-")[2]
    return pid.isdigit() and not pid_alive(int(pid))


def remove_stale(folder: Path, prefixes: tuple[str, ...]) -> list[Path]:
    """Delete the temp entries (``<prefix>…-<pid>@<host>``) in ``folder`` whose process is gone."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for p in entries:
        if p.name.startswith(prefixes) and owner_dead(p.name):
            try:
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
                else:
                    p.unlink()
                removed.append(p)
            except OSError:  # read-only or already removed by another process
                continue
    return removed


def is_disk_full(e: BaseException) -> bool:
    """An OSError (or SQLite error) that says the disk or the quota is full."""
    if isinstance(e, OSError):
        return e.errno in DISK_FULL
    text = str(e).lower()
    return "disk is full" in text or "no space left" in text


def storage_error(e: BaseException, where: Path | str, what: str) -> StorageError:
    """A one-line :class:`StorageError` for a failed write: ``WHERE: no space left on device (WHAT); ...``."""
    if is_disk_full(e):
        return StorageError(f"{where}: no space left on device ({what}); free some space and rerun")
    reason = (getattr(e, "strerror", None) or str(e) or type(e).__name__).lower()
    return StorageError(f"{where}: {reason} ({what})")


# Locks held by this process, per lock file: flock locks belong to an open file, so a second open in the same
# process would wait for itself; re-entering is counted instead.
_held: dict[str, list] = {}
_held_lock = threading.Lock()


@contextlib.contextmanager
def file_lock(
    path: Path,
    *,
    wait: bool = True,
    what: str = "this folder",
    on_wait: Callable[[int | None], None] | None = None,
) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed; the holder's pid is written into it).

    ``wait=False``: raise :class:`BusyError` naming the holder's pid instead of waiting. ``on_wait(pid)`` is
    called once before waiting. Re-entrant within a process.
    """
    path = Path(path)
    key = str(path.resolve())
    with _held_lock:
        if key in _held:
            _held[key][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_lock:
                _held[key][1] -= 1
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise storage_error(e, path, f"cannot create the lock file of {what}") from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            if not wait:
                raise BusyError(
                    f"{path.parent}: {what} is in use by another statbench process"
                    f"{f' (pid {holder})' if holder else ''}; wait for it to finish, or add --wait to queue"
                ) from None
            if on_wait:
                on_wait(holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        with contextlib.suppress(OSError):  # a full disk must not stop the lock itself
            os.ftruncate(fd, 0)
            os.pwrite(
                fd,
                f"{os.getpid()} {_HOST} {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n".encode(),
                0,
            )
        with _held_lock:
            _held[key] = [fd, 1]
        try:
            yield
        finally:
            with _held_lock:
                _held.pop(key, None)
    finally:
        os.close(fd)  # releases the flock


def _holder(fd: int) -> int | None:
    try:
        head = os.pread(fd, 64, 0).split()
        return int(head[0]) if head else None
    except (OSError, ValueError):
        return None
