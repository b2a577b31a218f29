"""Check results: the vocabulary preflight and stage share. Frozen values; no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Status(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


_RANK = {Status.SKIP: 0, Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}


@dataclass(frozen=True)
class Check:
    id: str  # stable
    status: Status
    message: str
    fix: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": str(self.status), "message": self.message, "fix": self.fix}
        if self.details:
            out["details"] = self.details
        return out


def passed(check_id: str, message: str, **details: Any) -> Check:
    return Check(check_id, Status.PASS, message, None, details)


def warned(check_id: str, message: str, fix: str, **details: Any) -> Check:
    return Check(check_id, Status.WARN, message, fix, details)


def failed(check_id: str, message: str, fix: str, **details: Any) -> Check:
    return Check(check_id, Status.FAIL, message, fix, details)


def skipped(check_id: str, why: str) -> Check:
    return Check(check_id, Status.SKIP, why)


def overall(checks: list[Check] | tuple[Check, ...]) -> Status:
    worst = max((_RANK[c.status] for c in checks), default=0)
    return {0: Status.PASS, 1: Status.WARN, 2: Status.FAIL}[worst]
