"""The restore plan: what one evaluation of a location found, frozen. Every command that speaks about a restore
(preflight, commands, checklist, versions, drill) renders this object and decides nothing of its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from restore.checks.check import Check, Status, overall
from restore.checks.ids import ENVIRONMENT_CHECKS
from restore.outcome import Outcome
from restore.tree.choose import Choice
from restore.tree.find import DEFAULT_DEPTH
from restore.tree.model import Inspection
from share import errors
from share.location import Location
from winre.runbook import Value
from winre.terms import Purpose


class NotReady(errors.BmrError):
    """Apply the fix, then run this again; or add --force to have the output anyway, headed by the failures."""


class Unusable(errors.ShareError):
    """Check the location, the credentials and the server: the failing check says which."""


@dataclass(frozen=True)
class PlanRequest:
    """What a restore is asked to be: where, for what, which computer and point, and how deep to look."""

    location: Location
    purpose: Purpose | None = None  # None: what the chosen point can do, bare metal first
    machine: str | None = None
    version: str | None = None
    share_unc: str | None = None  # for a local or SFTP folder: the UNC WinRE will use once it is shared
    server_ip: str | None = None
    stage_size: int | None = None  # bytes about to be copied here: adds the write and free-space checks
    margin: float = 1.1
    depth: int = DEFAULT_DEPTH
    deep: bool = False  # read inside the chosen point's images (the contents check)
    target_hardware: str | None = None  # a profile (restore.tree.hardware): the hardware check and its verdict
    listing: bool = False  # a local or SFTP folder may come without --share-unc (bmr versions lists it anyway)


@dataclass(frozen=True)
class RestoreValues:
    """The values the restore's command lines and runbook are made of, each with where it came from."""

    backup_target: Value
    account: Value
    server_ip: Value
    several_machines: bool
    account_hint: str | None = None  # NetBIOS name that owns a bare account: the file server's, when it said it


@dataclass(frozen=True)
class Plan:
    """One evaluated restore: the share's facts, the computer and point (chosen once), every check with its status
    and fix, the deep facts (in the point and the contents check), the warnings, and how it ends."""

    location: str
    purpose: Purpose | None
    backup_target: str | None
    choice: Choice | None
    checks: tuple[Check, ...]
    values: RestoreValues | None  # None: no computer and point, or none that can do the purpose
    evaluated_at: datetime
    inspection: Inspection | None = field(default=None, compare=False)

    @property
    def machine(self) -> str | None:
        return self.choice.machine.name if self.choice else None

    @property
    def version(self) -> str | None:
        return self.choice.point.version if self.choice else None

    @property
    def status(self) -> Status:
        return overall(self.checks)

    @property
    def failing(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status is Status.FAIL)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every warning, one line each (a DC point past the tombstone lifetime, a long path, ...)."""
        return tuple(f"{c.id}: {c.message}" for c in self.checks if c.status is Status.WARN)

    @property
    def banner(self) -> tuple[str, ...]:
        """The failing checks, each with its fix: the FAIL banner of every rendering of a failing plan."""
        return tuple(f"FAIL {c.id}: {c.message}" + (f" Fix: {c.fix}" if c.fix else "") for c in self.failing)

    @property
    def outcome(self) -> Outcome:
        if any(c.id in ENVIRONMENT_CHECKS or c.details.get("missing") for c in self.failing):
            return Outcome.UNREACHABLE
        return Outcome.FAILED if self.failing else Outcome.OK

    def summary(self) -> dict[str, Any]:
        """The verdict as every rendering states it in its JSON (``"plan"``): the same for one evaluation."""
        return {
            "verdict": self.status.value,
            "outcome": self.outcome.value,
            "machine": self.machine,
            "version": self.version,
            "purpose": self.purpose.value if self.purpose else None,
            "backup_target": self.backup_target,
            "warnings": list(self.warnings),
            "failing": list(self.banner),
        }

    def to_json(self) -> dict[str, Any]:
        """Preflight's JSON: the checks, and the plan's summary."""
        return {
            "status": str(self.status),
            "location": self.location,
            "backup_target": self.backup_target,
            "machine": self.machine,
            "version": self.version,
            "checks": [c.to_json() for c in self.checks],
            "plan": self.summary(),
        }

    def require_usable(self) -> None:
        """Unusable (exit 3, as from every command) when the location cannot be reached, logged on to or found."""
        if self.outcome is Outcome.UNREACHABLE:
            first = next(c for c in self.failing if c.id in ENVIRONMENT_CHECKS or c.details.get("missing"))
            raise Unusable(first.message, hint=first.fix)

    def require_ready(self, force: bool) -> None:
        """Stop a rendering of a plan that cannot work: Unusable (exit 3) when the location cannot be used at all;
        NotReady (exit 1) when a check fails, unless ``force``."""
        self.require_usable()
        if self.failing and not force:
            raise NotReady(
                "not ready for a restore: " + "; ".join(f"{c.id} fails: {c.message}" for c in self.failing),
                hint="; ".join(f"{c.id}: {c.fix}" for c in self.failing if c.fix)
                + " (or add --force to have the output anyway, headed by these failures)",
            )
