"""The error types every layer raises; the CLI turns each into one line and a documented exit code.

``StatbenchError`` is the root. ``SpecError`` (and its subclasses) means "the input is wrong: change it"
(exit 2); ``RunFailure`` means "the work failed" (exit 1, e.g. a backend or a job died).
"""

from __future__ import annotations

from pydantic import ValidationError


class StatbenchError(Exception):
    """Base of every error statbench raises on purpose (one line, no traceback for users)."""

    exit_code = 2


class SpecError(StatbenchError, ValueError):
    """A spec, file or option statbench refuses, with a message that says what to change."""


class DataIntegrityError(StatbenchError, RuntimeError):
    """A bundled data file is missing or does not match its manifest."""


class ModelError(SpecError):
    """A model directory statbench cannot evaluate, with the file and the reason."""


class ProtocolError(SpecError):
    """A protocol name or generation config that statbench refuses to run."""


class RecordError(SpecError):
    """A run or stage record that cannot be read (missing, damaged, or from an unknown schema version)."""


class RunFailure(StatbenchError, RuntimeError):
    """Work that started and failed (a backend, a job, a stage); exit code 1."""

    exit_code = 1


def validation_message(e: ValidationError) -> str:
    """A pydantic error as ``key.path: message; ...`` (the keys a user wrote, not a traceback)."""
    return "; ".join(
        f"{'.'.join(map(str, err['loc'])) or 'spec'}: {err['msg'].removeprefix('Value error, ')}"
        for err in e.errors()
    )


class StorageError(RunFailure):
    """The disk is full, or the filesystem refused a write (exit 1); what was written before is kept."""


class BusyError(RunFailure):
    """Another statbench process holds the lock on a workdir (exit 1; ``statbench run --wait`` queues)."""
