"""Choosing within an inspection: which computer, which recovery point, and the -backupTarget that reaches it."""

from __future__ import annotations

from dataclasses import dataclass

from restore.tree.find import DEFAULT_DEPTH, inspect_location
from restore.tree.model import Inspection, Machine, RecoveryPoint, Tree
from share import errors, paths
from share.base import Backend
from share.location import Location


class NotInTree(errors.BmrError):
    """Run `bmr inspect LOCATION` to see which computers and versions the tree holds."""


@dataclass(frozen=True)
class Choice:
    tree: Tree
    machine: Machine
    point: RecoveryPoint


def machines_of(inspection: Inspection) -> list[tuple[Tree, Machine]]:
    return [(t, m) for t in inspection.trees for m in t.machines]


def choose_machine(inspection: Inspection, name: str | None) -> tuple[Tree, Machine]:
    """The named computer (case-insensitive, as Windows compares), or the only one."""
    found = machines_of(inspection)
    if not found:
        raise NotInTree(f"no computer folder found at {inspection.location}")
    if name is not None:
        matches = [(t, m) for t, m in found if m.name.lower() == name.lower()]
        if not matches:
            names = ", ".join(sorted({m.name for _, m in found}))
            raise NotInTree(f"no computer '{name}' here; found: {names}")
        return matches[0]
    if len({m.name.lower() for _, m in found}) > 1:
        names = ", ".join(sorted({m.name for _, m in found}))
        raise NotInTree(f"several computers here ({names}): choose one with --machine (wbadmin needs -machine: too)")
    return found[0]


def choose_point(machine: Machine, version: str | None) -> RecoveryPoint:
    """The point with that version identifier, or the newest."""
    points = [p for p in machine.recovery_points if p.version is not None] or list(machine.recovery_points)
    if not points:
        raise NotInTree(f"{machine.name} has no recovery point")
    if version is not None:
        for point in points:
            if point.version == version:
                return point
        have = ", ".join(p.version or p.folder for p in points)
        raise NotInTree(f"{machine.name} has no version {version}; it has: {have}")
    return max(points, key=lambda p: (p.backup_time_utc is not None, p.backup_time_utc or 0))


def point_size(backend: Backend, machine: str | None, version: str | None, depth: int = DEFAULT_DEPTH) -> int:
    """Bytes a copy of the chosen point needs (Catalog, MediaId, SPPMetadataCache and the Backup folder)."""
    inspection = inspect_location(backend, depth)
    _tree, found = choose_machine(inspection, machine)
    return choose_point(found, version).size_bytes


def holder_location(location: Location, tree: Tree) -> Location | None:
    """The folder that holds the tree's WindowsImageBackup; None when it lies above the share."""
    if tree.inside is not None:
        return location.parent(tree.inside.levels_above)
    return location.child(paths.parent(tree.path))


def backup_target(location: Location, tree: Tree, host: str | None = None) -> str | None:
    """The ``-backupTarget:`` value for a tree: the UNC of the folder that holds WindowsImageBackup.

    None when that folder is above the share (the location points inside a tree at the share root)."""
    base = holder_location(location, tree)
    if base is None:
        return None
    return base.unc(host) if base.windows_share else base.display()
