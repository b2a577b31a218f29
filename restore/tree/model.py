"""The recovery-point model: what a WindowsImageBackup tree holds, as frozen values with a JSON form."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from restore.outcome import Outcome

if TYPE_CHECKING:  # the contents module builds on this model; only the type is needed here
    from restore.tree.deep.facts import DeepFacts

TREE_NAME = "WindowsImageBackup"  # the one folder name WinRE and wbadmin look for at a share's root


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    severity: Severity
    code: str  # stable: scripts may match on it
    message: str  # what is wrong and what it means for the restore

    def to_json(self) -> dict[str, str]:
        return {"severity": str(self.severity), "code": self.code, "message": self.message}


def error(code: str, message: str) -> Problem:
    return Problem(Severity.ERROR, code, message)


def warning(code: str, message: str) -> Problem:
    return Problem(Severity.WARNING, code, message)


@dataclass(frozen=True)
class Volume:
    guid: str
    access_path: str
    label: str
    image: str | None  # file name in the Backup folder, None when missing
    format: str | None  # "vhdx", "vhd", "unknown"
    size: int | None  # bytes of the image file
    virtual_size: int | None  # bytes of the disk it holds

    def to_json(self) -> dict[str, Any]:
        return {
            "guid": self.guid,
            "access_path": self.access_path,
            "label": self.label,
            "image": self.image,
            "format": self.format,
            "size": self.size,
            "virtual_size": self.virtual_size,
        }


@dataclass(frozen=True)
class RecoveryPoint:
    folder: str
    version: str | None  # wbadmin's MM/DD/YYYY-HH:MM (UTC); None when the folder name is malformed
    backup_time_utc: datetime | None
    system_state: bool
    bare_metal: bool
    can_recover: tuple[str, ...]
    roles: tuple[str, ...]  # roles the point can restore (from what it holds: ComponentSpecs, system state)
    writers: tuple[tuple[str, str], ...]  # (id, name) of the writers whose data the point holds
    volumes: tuple[Volume, ...]
    size_bytes: int
    files: tuple[tuple[str, int], ...]  # every file a copy of this point needs: (path in the computer folder, size)
    problems: tuple[Problem, ...]
    contents: DeepFacts | None = field(default=None, compare=False)  # what its images hold (inspect --deep)
    # What ran on the server (the writer files, written even for a volume-only backup): not what can be restored.
    server_roles: tuple[str, ...] = ()
    server_writers: tuple[tuple[str, str], ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that stop a restore."""
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "version": self.version,
            "backup_time_utc": self.backup_time_utc.isoformat().replace("+00:00", "Z")
            if self.backup_time_utc
            else None,
            "can_recover": list(self.can_recover),
            "system_state": self.system_state,
            "bare_metal": self.bare_metal,
            "roles": list(self.roles),
            "writers": [{"id": i, "name": n} for i, n in self.writers],
            "server_roles": list(self.server_roles),
            "server_writers": [{"id": i, "name": n} for i, n in self.server_writers],
            "volumes": [v.to_json() for v in self.volumes],
            "size_bytes": self.size_bytes,
            "problems": [p.to_json() for p in self.problems],
            **({"contents": self.contents.to_json()} if self.contents is not None else {}),
        }


@dataclass(frozen=True)
class Machine:
    name: str
    path: str  # backend-relative path of the computer folder
    recovery_points: tuple[RecoveryPoint, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return (
            bool(self.recovery_points)
            and all(p.ok for p in self.recovery_points)
            and not any(p.severity is Severity.ERROR for p in self.problems)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "recovery_points": [p.to_json() for p in self.recovery_points],
            "problems": [p.to_json() for p in self.problems],
        }


class Inside(enum.StrEnum):
    """Where a location can point inside a tree instead of at the folder that holds WindowsImageBackup."""

    TREE = "windowsimagebackup"
    COMPUTER = "computer"
    BACKUP = "backup"

    @property
    def levels_above(self) -> int:
        """How many folders up the folder that holds WindowsImageBackup (the share root a restore needs) is."""
        return {Inside.TREE: 1, Inside.COMPUTER: 2, Inside.BACKUP: 3}[self]

    @property
    def description(self) -> str:
        return {
            Inside.TREE: "the WindowsImageBackup folder itself",
            Inside.COMPUTER: "a computer folder inside WindowsImageBackup",
            Inside.BACKUP: "a Backup folder inside WindowsImageBackup",
        }[self]


def up(levels: int) -> str:
    """A relative path ``levels`` folders up ("." for none)."""
    return "/".join([".."] * levels) or "."


@dataclass(frozen=True)
class Tree:
    """One WindowsImageBackup tree found at or below (or around) a location."""

    location: str  # the location as given, displayed
    relative_path: str  # the WindowsImageBackup folder relative to the location: "WindowsImageBackup", "x/y/...", "."
    inside: Inside | None  # None, or where the location points inside a tree
    folder_name: str  # the tree folder's real name (may be misnamed, e.g. "WindowsImageBackup - Copy")
    path: str  # backend-relative path of the tree folder ("" when the location is inside it)
    machines: tuple[Machine, ...]
    problems: tuple[Problem, ...] = ()
    staged: bool = False  # bmr staged it: the bmr-manifest.json beside it names every computer in it

    @property
    def share_root(self) -> str:
        """The folder, relative to the location, that must be the share root so that it holds WindowsImageBackup."""
        if self.inside is not None:
            return up(self.inside.levels_above)
        parts = self.relative_path.split("/")
        return "/".join(parts[:-1]) or "."

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "relative_path": self.relative_path,
            "inside": self.inside,
            "folder_name": self.folder_name,
            "share_root": self.share_root,
            "machines": [m.to_json() for m in self.machines],
            "problems": [p.to_json() for p in self.problems],
            "staged": self.staged,
        }


@dataclass(frozen=True)
class Inspection:
    location: str
    trees: tuple[Tree, ...]
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        points = [p for t in self.trees for m in t.machines for p in m.recovery_points]
        return (
            bool(points)
            and all(m.ok for t in self.trees for m in t.machines)
            and not any(p.severity is Severity.ERROR for t in self.trees for p in t.problems)
        )

    @property
    def outcome(self) -> Outcome:
        return Outcome.OK if self.ok else Outcome.FAILED

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "ok": self.ok,
            "trees": [t.to_json() for t in self.trees],
            "problems": [p.to_json() for p in self.problems],
        }
