"""The one place that maps outcomes and error classes to the exit codes the whole CLI keeps."""

from __future__ import annotations

from share import errors

OK = 0  # success, warnings allowed
FAILED = 1  # a check or a verification failed
USAGE = 2  # the command line is wrong
ENVIRONMENT = 3  # cannot connect, authenticate or access
INTERRUPTED = 130  # Ctrl-C


def for_error(exc: BaseException) -> int:
    """The exit code for an exception that ended a command."""
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED
    if isinstance(exc, errors.UsageError):
        return USAGE
    if isinstance(exc, errors.ShareError):
        return ENVIRONMENT
    return FAILED
