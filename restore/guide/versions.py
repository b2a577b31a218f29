"""`bmr versions`: the `wbadmin get versions` view of an inspected tree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from restore.outcome import Outcome
from restore.tree.choose import backup_target, choose_machine, machines_of
from restore.tree.find import inspect_at
from restore.tree.model import Inspection
from share.connect import Access
from share.location import Location
from winre.wbadmin import ListedVersion, render_get_versions


@dataclass(frozen=True)
class VersionListing:
    text: str
    machines: tuple[dict[str, Any], ...]

    @property
    def outcome(self) -> Outcome:
        return Outcome.OK

    def to_json(self) -> dict[str, Any]:
        return {"machines": list(self.machines)}


def get_versions(
    location: Location, access: Access, machine: str | None, depth: int, tz: tzinfo | None
) -> VersionListing:
    """Connect, inspect and list. ``tz`` None: this machine's zone, with its rules for each point's date."""
    return list_versions(location, inspect_at(location, access, depth), machine, tz)


def list_versions(location: Location, inspection: Inspection, machine: str | None, tz: tzinfo | None) -> VersionListing:
    """Per computer (the named one, or all), its points as wbadmin lists them."""
    chosen = [choose_machine(inspection, machine)] if machine else machines_of(inspection)
    if not chosen:
        choose_machine(inspection, None)  # raises the "nothing here" error
    blocks: list[str] = []
    data: list[dict[str, Any]] = []
    for tree, found in chosen:
        target = backup_target(location, tree) or f"(the folder above {location.display()})"
        listed = [
            ListedVersion(p.backup_time_utc, p.version, p.can_recover)
            for p in found.recovery_points
            if p.backup_time_utc is not None and p.version is not None
        ]
        header = f"-machine:{found.name}"
        body = render_get_versions(listed, target, location.windows_share, tz) or "(no listable version)"
        blocks.append(f"{header}\n{body}" if len(chosen) > 1 or machine is None else body)
        data.append(
            {
                "machine": found.name,
                "backup_target": target,
                "versions": [
                    {
                        "version": v.version,
                        "backup_time_utc": v.backup_time_utc.isoformat(),
                        "can_recover": list(v.can_recover),
                    }
                    for v in listed
                ],
            }
        )
    return VersionListing("\n\n".join(blocks), tuple(data))
