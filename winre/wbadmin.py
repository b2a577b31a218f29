"""wbadmin's words and command lines, rendered from plain values. Pure functions; nothing here does I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from winre.errorcodes import CRITICAL_DISK_RULE
from winre.terms import Purpose, Scenario

VERSION_RE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})-(\d{2}):(\d{2})$")
RECREATE_WARNING = "WARNING: -recreateDisks wipes every disk it recreates; check the disk list before you press Y"
# What the person replaces by the identifiers `wbadmin get disks` prints for the disks to keep. No angle
# brackets: pasted unchanged into cmd.exe they would be redirections; this way wbadmin refuses the line.
DISK_IDS = "DISK_IDS_TO_KEEP"
NO_BACKUP = "ERROR - No backup was found."


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


def subfolder_of(backup_target: str) -> str | None:
    """The folder below the share that a target names (``folder\\sub``), or None for a share root."""
    parts = [p for p in backup_target.split("\\") if p]
    return "\\".join(parts[2:]) or None


def is_qualified(account: str) -> bool:
    """``DOMAIN\\user`` or ``user@domain``: a form WinRE (in no domain) can log on with."""
    return "\\" in account or "@" in account


def account_lines(account: str, hint: str | None) -> tuple[str, list[str]]:
    """The account to put on the command line and the REM lines that say what to type instead, if anything.

    WinRE belongs to no domain: a bare user name is taken as a user of the WinRE machine itself and refused.
    With the NetBIOS name of the account's owner (``hint``: the file server for its local account, or the
    domain) the name is qualified here; without it, a placeholder and a REM line say what to type.
    """
    if is_qualified(account):
        return account, []
    if hint:
        qualified = f"{hint}\\{account}"
        return qualified, [f"REM The account was given without a domain: using {qualified} ({hint} owns the account)"]
    return f"FILESERVER\\{account}", [
        f"REM The account '{account}' has no domain: replace FILESERVER by the file server's computer name "
        "(a local account there) or by the domain's NetBIOS name (a domain account) before you run net use",
    ]


@dataclass(frozen=True)
class Restore:
    """What the command lines are built from."""

    backup_target: str  # \\ip\share or \\ip\share\folder
    machine: str
    version: str
    account: str  # DOMAIN\user, or a bare user qualified with account_hint
    purpose: Purpose
    domain_controller: bool = False
    authoritative_sysvol: bool = False
    scenario: Scenario | None = None  # None: not said; a bare metal recovery then keeps the data disks
    account_hint: str | None = None  # NetBIOS name that owns a bare account: the file server's or the domain's
    restore_all_volumes: bool = False  # the point holds non-critical (data) volumes


def restore_commands(r: Restore) -> list[str]:
    """The lines to paste, in order, with REM lines for what needs saying. Raises ValueError on bad input."""
    version = check_version(r.version)
    if r.authoritative_sysvol and not r.domain_controller:
        raise ValueError("-authsysvol applies only to a domain controller's system state")
    if r.authoritative_sysvol and r.purpose != "systemstate":
        raise ValueError("-authsysvol belongs to a system-state recovery (--for systemstate)")
    target = f"-backupTarget:{quote(r.backup_target)}"
    machine = f"-machine:{quote(r.machine)}"
    account, account_rem = account_lines(r.account, r.account_hint)
    lines = [
        *account_rem,
        # source: net use (windows-commands/net-use.md): * prompts for the password, which is never printed
        "REM Connect to the share (the * makes net use ask for the password; type it, it is not shown)",
        f"net use {quote(share_of(r.backup_target))} /user:{quote(account)} *",
        # source: the Blackfield output: the identifier is the folder's UTC instant; WinPE's clock is Pacific
        "REM List the versions on the share; pick the point by its version identifier (UTC), not by the time",
        f"wbadmin get versions {target} {machine}",
    ]
    if r.purpose == "systemstate":
        return lines + _system_state_lines(r, version, target, machine)
    return lines + _sysrecovery_lines(r, version, target, machine)


def _system_state_lines(r: Restore, version: str, target: str, machine: str) -> list[str]:
    lines: list[str] = []
    if r.domain_controller:
        # source: azure-docs restore-system-state, Redmondmag, Carbonite: DSRM first, then the restore
        lines.append(
            "REM Domain controller: run this only in Directory Services Restore Mode (bcdedit /set safeboot "
            "dsrepair, restart, log on as .\\Administrator with the DSRM password)"
        )
    extra = " -authsysvol" if r.authoritative_sysvol else ""
    # source: wbadmin start systemstaterecovery; -authsysvol only on the first DC (AD forest recovery)
    lines += [
        "REM Restore system state" + (" (authoritative SYSVOL: only on the FIRST domain controller)" if extra else ""),
        f"wbadmin start systemstaterecovery -version:{version} {target} {machine}{extra}",
    ]
    return lines


def _sysrecovery_lines(r: Restore, version: str, target: str, machine: str) -> list[str]:
    base = f"wbadmin start sysrecovery -version:{version} {target} {machine}"
    # source: wbadmin start sysrecovery: -recreateDisks "might also delete data from data volumes";
    # -excludeDisks (valid only with -recreateDisks) takes the identifiers `wbadmin get disks` lists
    lost = r.scenario == "server-lost-data-lost"
    lines = [
        "REM Bare metal recovery, from the WinRE command prompt only",
        "REM List the disks this machine has: "
        + (
            "as many as the original had, each at least as large"
            if lost
            else "note the identifier of every disk that holds data to keep"
        ),
        "wbadmin get disks",
    ]
    if lost:
        all_volumes = " -restoreAllVolumes" if r.restore_all_volumes else ""
        lines += [
            "REM The data volumes are lost: recreate every disk"
            + (", and bring back the data volumes this point holds (-restoreAllVolumes)" if all_volumes else ""),
            f"REM {RECREATE_WARNING}",
            f"{base} -recreateDisks{all_volumes}",
        ]
        return lines
    lines += [
        f"REM Data disks must survive: replace {DISK_IDS} by their identifiers from wbadmin get disks, "
        "comma-separated (excluded disks are not partitioned or formatted)",
        # source: vsserror.h 0x80042415 (VSS_E_ASRERROR_CRITICAL_DISK_CANNOT_BE_EXCLUDED)
        f"REM Exclude only data disks: {CRITICAL_DISK_RULE}",
        f"REM {RECREATE_WARNING}",
        f"{base} -recreateDisks -excludeDisks:{DISK_IDS}",
        "REM If the system disk still has its original partitions, recreate nothing (no disk is repartitioned):",
        f"REM   {base}",
    ]
    return lines


@dataclass(frozen=True)
class ListedVersion:
    """One recovery point as `wbadmin get versions` lists it."""

    backup_time_utc: datetime
    version: str
    can_recover: tuple[str, ...]
    # The point's own target, as wbadmin's catalog listing (no -backupTarget) shows each point where it was
    # written; None: the listing's target.
    location: str | None = None


def backup_time_text(moment: datetime, tz: tzinfo | None, now: datetime) -> str:
    """wbadmin's (en-US) 'Backup time' of ``moment`` as printed at ``now``: ``9/21/2020 3:00 PM``.

    wbadmin converts every point with the offset the zone has IN FORCE AT ``now`` (Win32's
    FileTimeToLocalFileTime uses the current daylight-saving setting whatever the date converted; evidence.md
    A2b): a September point listed in November prints one hour earlier than the same point listed in summer.
    ``tz`` None: this machine's zone. A naive moment is UTC (folder names are UTC).
    """
    offset = _utc(now).astimezone(tz).utcoffset() or timedelta(0)
    local = _utc(moment).astimezone(UTC).replace(tzinfo=None) + offset
    hour = local.hour % 12 or 12
    return f"{local.month}/{local.day}/{local.year} {hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def location_line(backup_target: str, network: bool) -> str:
    """wbadmin repeats the target as it was typed, a trailing backslash or none (the Blackfield output)."""
    if network:
        return f"Backup location: Network Share labeled {backup_target}"
    return f"Backup target: Fixed Disk labeled {backup_target}"


def render_get_versions(
    versions: list[ListedVersion], backup_target: str, network: bool, tz: tzinfo | None, now: datetime
) -> str:
    """What `wbadmin get versions -backupTarget:... -machine:...` prints at ``now`` for these points, oldest first.

    Four lines a point, a blank line between points; ``ERROR - No backup was found.`` when there is none. Every
    "Backup time" uses the zone's offset at ``now`` (see :func:`backup_time_text`): it moves by an hour across a
    daylight-saving change; the version identifier never does.
    """
    if not versions:
        return NO_BACKUP
    blocks = [
        "\n".join(
            [
                f"Backup time: {backup_time_text(item.backup_time_utc, tz, now)}",
                location_line(item.location or backup_target, network),
                f"Version identifier: {item.version}",
                f"Can recover: {', '.join(item.can_recover)}",
            ]
        )
        for item in sorted(versions, key=lambda v: _utc(v.backup_time_utc))
    ]
    return "\n\n".join(blocks)
