"""How a command's work ended, as every result reports it; the command line turns it into an exit code."""

from __future__ import annotations

import enum
from typing import Any, Protocol


class Outcome(enum.StrEnum):
    OK = "ok"  # done; warnings allowed
    FAILED = "failed"  # a check or a verification failed, nothing was found, a copy was refused
    UNREACHABLE = "unreachable"  # the location could not be reached, logged on to, or used


class Result(Protocol):
    """What every command's one function returns: its JSON form and how it ended."""

    @property
    def outcome(self) -> Outcome: ...

    def to_json(self) -> dict[str, Any]: ...
