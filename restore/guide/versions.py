"""`bmr versions`: the `wbadmin get versions` view of an inspected tree.

wbadmin's "Backup location: Network Share labeled X" repeats ``-backupTarget:`` exactly as it was typed, a
trailing backslash or none (evidence.md, A2). bmr shows the target the user will type: ``--share-unc`` as typed
(a local or SFTP location that will be shared), else the location as typed when it is a UNC path that holds
WindowsImageBackup at its root, else the UNC bmr's own command lines use.

"Backup time" is what wbadmin prints NOW: every point with the zone's offset in force at the moment of listing
(FileTimeToLocalFileTime; evidence.md A2b), in ``--tz``'s zone, else the server's (its SYSTEM hive, when the
images were read with --deep), else this machine's. It moves by an hour across a daylight-saving change; the
version identifier never does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from restore.outcome import Outcome
from restore.plan.evaluate import evaluate
from restore.plan.model import NotReady, Plan, PlanRequest
from restore.tree.choose import backup_target, choose_machine, machines_of
from restore.tree.model import Inspection, Machine, Tree
from restore.tree.zones import LOCAL, Zone, point_zone
from share import errors
from share.connect import Access, parse_location
from share.location import Location
from winre.wbadmin import ListedVersion, backup_time_text, quote, render_get_versions


@dataclass(frozen=True)
class VersionListing:
    text: str
    machines: tuple[dict[str, Any], ...]
    plan: Plan | None = None  # the evaluated restore whose tree is listed (its verdict is the exit code)

    @property
    def outcome(self) -> Outcome:
        """A listing: OK whatever the plan's checks say (its verdict is in the JSON and on stderr); the location
        that cannot be used (3) and the tree with nothing to list (1) stop it before this."""
        return Outcome.OK

    def to_json(self) -> dict[str, Any]:
        return {"machines": list(self.machines), **({"plan": self.plan.summary()} if self.plan else {})}


def get_versions(
    location: Location,
    access: Access,
    machine: str | None,
    depth: int,
    tz: tzinfo | None,
    *,
    typed: str | None = None,
    share_unc: str | None = None,
    deep: bool = False,
    now: datetime | None = None,
) -> VersionListing:
    """Evaluate the restore plan and list its tree. ``tz`` None: the server's zone where ``deep`` reading found
    it, else this machine's; every point with that zone's offset at ``now`` (default: the current time), as wbadmin
    does. ``typed``: the location as the user typed it; ``share_unc``: the UNC a local or SFTP location will
    have."""
    if share_unc is not None and not parse_location(share_unc).windows_share:
        raise errors.UsageError(f"--share-unc {share_unc!r} is not a UNC path (\\\\IP\\SHARE[\\folder])")
    request = PlanRequest(location, None, machine, None, share_unc, depth=depth, deep=deep, listing=True)
    plan = evaluate(request, access)
    plan.require_usable()
    if plan.inspection is None:
        raise NotReady("; ".join(plan.banner), hint="bmr preflight shows every check")
    listing = list_versions(location, plan.inspection, machine, tz, typed=typed, share_unc=share_unc, now=now)
    return replace(listing, plan=plan)


def _below(unc: str, relative: str) -> str | None:
    """A UNC moved by a '/'-separated relative path ('..' goes up); None when it would leave the share."""
    parts = [p for p in unc.split("\\") if p]
    for step in (p for p in relative.split("/") if p and p != "."):
        if step == "..":
            if len(parts) <= 2:
                return None
            parts.pop()
        else:
            parts.append(step)
    return "\\\\" + "\\".join(parts)


def typed_label(location: Location, tree: Tree, typed: str | None, share_unc: str | None) -> tuple[str | None, bool]:
    """The -backupTarget a person types for this tree, as typed where possible, and whether it is a network share."""
    if share_unc is not None:
        if tree.share_root == ".":
            return share_unc, True
        return _below(share_unc, tree.share_root), True
    if typed is not None and typed.startswith("\\\\") and location.windows_share and tree.share_root == ".":
        return typed, True
    return backup_target(location, tree), location.windows_share


def list_versions(
    location: Location,
    inspection: Inspection,
    machine: str | None,
    tz: tzinfo | None,
    *,
    typed: str | None = None,
    share_unc: str | None = None,
    now: datetime | None = None,
) -> VersionListing:
    """Per computer (the named one, or all), its points as wbadmin lists them: the blocks alone for one computer,
    each computer's blocks under the wbadmin line that lists them when there are several."""
    chosen = [choose_machine(inspection, machine)] if machine else machines_of(inspection)
    if not chosen:
        choose_machine(inspection, None)  # raises the "nothing here" error
    when = now or listing_time()
    blocks: list[str] = []
    data: list[dict[str, Any]] = []
    for tree, found in chosen:
        zone = zone_for(found, tz)
        label, network = typed_label(location, tree, typed, share_unc)
        target = label or f"(the folder above {location.display()})"
        listed = [
            ListedVersion(p.backup_time_utc, p.version, p.can_recover)
            for p in found.recovery_points
            if p.backup_time_utc is not None and p.version is not None
        ]
        body = render_get_versions(listed, target, network, zone.zone, when)
        header = f"wbadmin get versions -backupTarget:{quote(target)} -machine:{quote(found.name)}"
        blocks.append(f"{header}\n\n{body}" if len(chosen) > 1 else body)
        data.append(
            {
                "machine": found.name,
                "backup_target": target,
                "listed_at": when.isoformat(),
                "backup_time_zone": zone.to_json(),
                "versions": [
                    {
                        "version": v.version,
                        "backup_time_utc": v.backup_time_utc.isoformat(),
                        "backup_time": backup_time_text(v.backup_time_utc, zone.zone, when),
                        "can_recover": list(v.can_recover),
                    }
                    for v in listed
                ],
            }
        )
    return VersionListing("\n\n".join(blocks), tuple(data))


def listing_time() -> datetime:
    """When the listing is made: wbadmin's "Backup time" depends on it (tests replace it)."""
    return datetime.now(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def zone_for(machine: Machine, tz: tzinfo | None) -> Zone:
    """The zone "Backup time" is shown in: ``tz`` (--tz), else the server's from its points' deep facts, else local."""
    if tz is not None:
        return Zone(tz, str(tz), "--tz")
    newest_first = sorted(machine.recovery_points, key=lambda p: p.backup_time_utc or _EPOCH, reverse=True)
    for point in newest_first:  # the newest point's hive says the zone the server has now
        found = point_zone(point)
        if found is not None:
            return found
    return LOCAL
