"""wbadmin's words and command lines, rendered from plain values. Pure functions; nothing here does I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo


@dataclass(frozen=True)
class ListedVersion:
    """One recovery point as `wbadmin get versions` lists it."""

    backup_time_utc: datetime
    version: str
    can_recover: tuple[str, ...]


def backup_time_text(moment: datetime, tz: tzinfo) -> str:
    """wbadmin's (en-US) 'Backup time' form in the given zone: ``10/4/2020 10:48 AM``."""
    local = moment.astimezone(tz)
    hour = local.hour % 12 or 12
    return f"{local.month}/{local.day}/{local.year} {hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def location_line(backup_target: str, network: bool) -> str:
    if network:
        return f"Backup location: Network Share labeled {backup_target.rstrip(chr(92))}\\"
    return f"Backup target: Fixed Disk labeled {backup_target}"


def render_get_versions(versions: list[ListedVersion], backup_target: str, network: bool, tz: tzinfo) -> str:
    """What `wbadmin get versions -backupTarget:... -machine:...` prints for these points, oldest first."""
    blocks = []
    for item in sorted(versions, key=lambda v: v.backup_time_utc):
        blocks.append(
            "\n".join(
                [
                    f"Backup time: {backup_time_text(item.backup_time_utc, tz)}",
                    location_line(backup_target, network),
                    f"Version identifier: {item.version}",
                    f"Can recover: {', '.join(item.can_recover)}",
                ]
            )
        )
    return "\n\n".join(blocks)
