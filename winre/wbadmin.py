"""wbadmin's words and command lines, rendered from plain values. Pure functions; nothing here does I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from winre.terms import Purpose

VERSION_RE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})-(\d{2}):(\d{2})$")
RECREATE_WARNING = "WARNING: -recreateDisks wipes every disk it recreates; check the disk list before you press Y"


def check_version(text: str) -> str:
    """A version identifier in wbadmin's form ``MM/DD/YYYY-HH:MM`` (UTC); raises ValueError otherwise."""
    match = VERSION_RE.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a version identifier; wbadmin's form is MM/DD/YYYY-HH:MM (UTC)")
    month, day, year, hour, minute = (int(g) for g in match.groups())
    try:
        datetime(year, month, day, hour, minute)
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a real date and time: {exc}") from None
    return text.strip()


def quote(value: str) -> str:
    """cmd.exe quoting for a value with spaces."""
    return f'"{value}"' if any(c.isspace() for c in value) else value


def share_of(backup_target: str) -> str:
    """``\\\\ip\\share`` of a backup target that may name a sub-folder."""
    parts = [p for p in backup_target.split("\\") if p]
    return "\\\\" + "\\".join(parts[:2])


@dataclass(frozen=True)
class Restore:
    """What the command lines are built from."""

    backup_target: str  # \\ip\share or \\ip\share\folder
    machine: str
    version: str
    account: str  # DOMAIN\user
    purpose: Purpose
    domain_controller: bool = False
    authoritative_sysvol: bool = False


def restore_commands(r: Restore) -> list[str]:
    """The lines to paste, in order, with REM lines for what needs saying. Raises ValueError on bad input."""
    version = check_version(r.version)
    if r.authoritative_sysvol and not r.domain_controller:
        raise ValueError("-authsysvol applies only to a domain controller's system state")
    if r.authoritative_sysvol and r.purpose != "systemstate":
        raise ValueError("-authsysvol belongs to a system-state recovery (--for systemstate)")
    target = f"-backupTarget:{quote(r.backup_target)}"
    machine = f"-machine:{quote(r.machine)}"
    lines = [
        "REM Connect to the share (the * makes net use ask for the password; type it, it is not shown)",
        f"net use {quote(share_of(r.backup_target))} /user:{quote(r.account)} *",
        "REM List the versions on the share; the identifier is UTC",
        f"wbadmin get versions {target} {machine}",
    ]
    if r.purpose == "systemstate":
        extra = " -authsysvol" if r.authoritative_sysvol else ""
        lines += [
            "REM Restore system state"
            + (" (authoritative SYSVOL: only on the FIRST domain controller)" if extra else ""),
            f"wbadmin start systemstaterecovery -version:{version} {target} {machine}{extra}",
        ]
    else:
        lines += [
            "REM Bare metal recovery, from the WinRE command prompt only",
            f"REM {RECREATE_WARNING}",
            f"wbadmin start sysrecovery -version:{version} {target} {machine} -recreateDisks",
        ]
    return lines


@dataclass(frozen=True)
class ListedVersion:
    """One recovery point as `wbadmin get versions` lists it."""

    backup_time_utc: datetime
    version: str
    can_recover: tuple[str, ...]


def backup_time_text(moment: datetime, tz: tzinfo | None) -> str:
    """wbadmin's (en-US) 'Backup time' form in the given zone (None: this machine's), under that zone's rules for
    that date (daylight saving included): ``10/4/2020 10:48 AM``."""
    local = moment.astimezone(tz)
    hour = local.hour % 12 or 12
    return f"{local.month}/{local.day}/{local.year} {hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def location_line(backup_target: str, network: bool) -> str:
    if network:
        return f"Backup location: Network Share labeled {backup_target.rstrip(chr(92))}\\"
    return f"Backup target: Fixed Disk labeled {backup_target}"


def render_get_versions(versions: list[ListedVersion], backup_target: str, network: bool, tz: tzinfo | None) -> str:
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
