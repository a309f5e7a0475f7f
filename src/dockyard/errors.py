"""Errors a user can act on, and the exit codes they map to.

Every expected failure is a :class:`DockyardError` and carries its exit code: a command that
fails raises one (after writing whatever result it has to stdout), a command that succeeds
returns :class:`ExitCode` ``OK`` (or ``CHANGES`` for ``diff``). ``dockyard.cli.main`` is the one
place that turns either into the process's exit status, printing the error's message as one
line, ``what happened: why``, with an optional hint. Anything else is a bug and shows a
traceback only with ``--debug``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes dockyard documents (README, "Exit codes")."""

    OK = 0
    FAILED = 1
    USAGE = 2
    AWS_PRECONDITION = 3
    ROLLED_BACK = 4
    CHANGES = 10  # `dockyard diff`: something would change
    TASK_FAILED_TO_START = 70
    SPOT_INTERRUPTED = 71
    TIMEOUT = 124
    CANCELLED = 130


class DockyardError(Exception):
    """An expected failure with a one-line message, an optional hint and an exit code."""

    exit_code: int = ExitCode.FAILED

    def __init__(self, message: str, *, hint: str | None = None,
                 exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:  # a code known only at run time: kaniko's own, say
            self.exit_code = exit_code


class Cancelled(DockyardError):
    """The user stopped the command (Ctrl-C) or declined a prompt: said as a note, not an
    error, with exit code 130."""

    exit_code = ExitCode.CANCELLED


class Declined(Cancelled):
    """The user answered no to a prompt: said as a note, exit 1 (nothing was changed; not a
    Ctrl-C)."""

    exit_code = ExitCode.FAILED


class UsageError(DockyardError):
    """A bad argument or option on the command line."""

    exit_code = ExitCode.USAGE


class ConfigError(DockyardError):
    """dockyard.yml cannot be read or does not validate.

    ``problems`` holds one line per finding (``dockyard.yml:12: apps.web.cpu: ...``); the message
    is the first of them, so a caller that prints only the message still names the field.
    """

    exit_code = ExitCode.USAGE

    def __init__(self, problems: list[str], *, hint: str | None = None) -> None:
        super().__init__(problems[0], hint=hint)
        self.problems = problems


class ValidationFailedError(DockyardError):
    """A rendered template did not pass validation (cfn-lint found errors)."""

    exit_code = ExitCode.FAILED
