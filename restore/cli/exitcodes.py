"""The one map from how a command ended (an Outcome, or the error class that stopped it) to its exit code."""

from __future__ import annotations

from restore.outcome import Outcome
from share import errors

OK = 0  # success, warnings allowed
FAILED = 1  # a check or a verification failed
USAGE = 2  # the command line is wrong
ENVIRONMENT = 3  # cannot connect, authenticate or access
INTERRUPTED = 130  # Ctrl-C

BY_OUTCOME: dict[Outcome, int] = {Outcome.OK: OK, Outcome.FAILED: FAILED, Outcome.UNREACHABLE: ENVIRONMENT}

# Error class -> exit code; the most specific class in an error's MRO wins. Every error class of the project
# falls under one row (a test walks the class tree).
BY_ERROR: dict[type[BaseException], int] = {
    KeyboardInterrupt: INTERRUPTED,
    errors.UsageError: USAGE,
    errors.ShareError: ENVIRONMENT,
    errors.Unreadable: ENVIRONMENT,
    errors.BmrError: FAILED,
}


def for_outcome(outcome: Outcome) -> int:
    return BY_OUTCOME[outcome]


def for_error(exc: BaseException) -> int:
    """The exit code for an exception that ended a command."""
    for cls in type(exc).__mro__:
        if cls in BY_ERROR:
            return BY_ERROR[cls]
    return FAILED
