"""The error types every layer raises; the CLI turns each into one line and a documented exit code.

``StatbenchError`` is the root. ``SpecError`` (and its subclasses) means "the input is wrong: change it"
(exit 2); ``RunFailure`` means "the work failed" (exit 1, e.g. a backend or a job died).

The exit codes every command uses (docs/exit-codes.md); the CLI maps exceptions onto them in one place
(``harness.cli.common.handle_error``).
"""

from __future__ import annotations

from pydantic import ValidationError

EXIT_OK = 0
EXIT_FAILED = 1  # the work failed (a backend, a job, a stage); for ``regress``: a regression
EXIT_USAGE = 2  # usage or input error: an option, spec, file or record statbench refuses
EXIT_INTERNAL = 3  # an unexpected exception (a bug): one line; STATBENCH_DEBUG=1 for the traceback
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT); finished generations and stages are kept


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
