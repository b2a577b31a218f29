"""`bmr commands` and `bmr checklist`: gather the values (from the tree, the share, the options) that the
pure renderers in ``winre`` turn into command lines and runbooks, each with where it came from."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from restore import __version__
from restore.checks.preflight import Preflight
from restore.tree.choose import Choice, backup_target, choose_machine, choose_point, machines_of
from restore.tree.find import inspect_location
from restore.tree.model import Inspection
from share import errors
from share.base import Backend
from share.connect import parse_location
from share.credentials import Account
from share.location import Location
from winre.runbook import CheckLine, Disk, PreflightSummary, RunbookInput, Scenario, Value
from winre.wbadmin import Restore, restore_commands

Purpose = Literal["bmr", "systemstate"]


class NotRestorable(errors.BmrError):
    """Choose another recovery point or purpose: `bmr inspect` shows what each point can recover."""


@dataclass(frozen=True)
class Gathered:
    choice: Choice
    purpose: Purpose
    backup_target: Value
    account: Value
    server_ip: Value
    several_machines: bool


def gather(
    backend: Backend,
    *,
    machine: str | None,
    version: str | None,
    purpose: Purpose | None,
    server_ip: str | None,
    share_unc: str | None,
    user: str | None,
    depth: int = 4,
) -> Gathered:
    """Inspect the tree and settle every value the commands need. Raises NotInTree, NotRestorable, UsageError."""
    return gather_from(backend, inspect_location(backend, depth), machine=machine, version=version,
                       purpose=purpose, server_ip=server_ip, share_unc=share_unc, user=user)  # fmt: skip


def gather_from(
    backend: Backend,
    inspection: Inspection,
    *,
    machine: str | None,
    version: str | None,
    purpose: Purpose | None,
    server_ip: str | None = None,
    share_unc: str | None = None,
    user: str | None = None,
) -> Gathered:
    """:func:`gather` for a tree already inspected (preflight's)."""
    location = backend.location
    tree, found = choose_machine(inspection, machine)
    point = choose_point(found, version)
    chosen: Purpose = purpose or ("bmr" if point.bare_metal else "systemstate")
    need = "Bare Metal Recovery" if chosen == "bmr" else "System State"
    if need not in point.can_recover:
        raise NotRestorable(
            f"{found.name} {point.folder} cannot do {need}; it can recover: {', '.join(point.can_recover) or 'nothing'}"
        )
    ip = _server_ip(backend, server_ip, share_unc)
    if share_unc is not None:
        target = Value(_unc_with_ip(share_unc, ip.text), "--share-unc")
    elif location.scheme == "smb":
        unc = backup_target(location, tree, ip.text)
        if unc is None:
            raise NotRestorable(
                f"{location.display()} is inside the tree and its share root is above it: share the folder that "
                "holds WindowsImageBackup, then run this again (bmr preflight explains)"
            )
        target = Value(unc, "the share and where WindowsImageBackup sits in it")
    else:
        raise errors.UsageError(
            f"{location.display()} is not an SMB share: give --share-unc \\\\IP\\SHARE, the path WinRE will use"
        )
    return Gathered(Choice(tree, found, point), chosen, target, _account(location, user), ip,
                    len(machines_of(inspection)) > 1)  # fmt: skip


def _server_ip(backend: Backend, given: str | None, share_unc: str | None) -> Value:
    if given is not None:
        try:
            ipaddress.ip_address(given)
        except ValueError:
            raise errors.UsageError(f"--server-ip {given!r} is not an IP address") from None
        return Value(given, "--server-ip")
    if share_unc is not None:
        host = parse_location(share_unc).host or ""
        if _is_ip(host):
            return Value(host, "--share-unc")
        raise errors.UsageError(f"--share-unc names '{host}'; WinRE needs the IP: give --server-ip too")
    facts = backend.facts()
    if facts.server_address:
        host = backend.location.host or ""
        source = "the location" if _is_ip(host) else f"resolved from '{host}' on this machine"
        return Value(facts.server_address, source)
    raise errors.UsageError("no server address: give --server-ip")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _unc_with_ip(unc: str, ip: str) -> str:
    location = parse_location(unc)
    return location.unc(ip)


def _account(location: Location, user: str | None) -> Value:
    if user:
        return Value(Account.parse(user).windows(), "--user")
    if location.user:
        return Value(Account.parse(location.user, location.domain).windows(), "the location")
    return Value("DOMAIN\\user", "not given: write the account in by hand")


def command_lines(g: Gathered, authoritative_sysvol: bool) -> list[str]:
    point = g.choice.point
    if point.version is None:
        raise NotRestorable(f"{point.folder} has no version identifier (its folder name is not wbadmin's)")
    restore = Restore(
        g.backup_target.text, g.choice.machine.name, point.version, g.account.text, g.purpose,
        "domain-controller" in point.roles, authoritative_sysvol,
    )  # fmt: skip
    try:
        return restore_commands(restore)
    except ValueError as exc:
        raise errors.UsageError(str(exc)) from None


def commands_json(g: Gathered, lines: list[str]) -> dict[str, Any]:
    return {
        "machine": g.choice.machine.name,
        "version": g.choice.point.version,
        "purpose": g.purpose,
        "backup_target": g.backup_target.text,
        "lines": lines,
    }


def runbook_input(
    g: Gathered,
    location: str,
    scenario: Scenario | None,
    preflight: Preflight | None,
    stage_command: str | None = None,
    now: datetime | None = None,
) -> RunbookInput:
    point, machine = g.choice.point, g.choice.machine
    if point.backup_time_utc is None or point.version is None:
        raise NotRestorable(f"{point.folder} has no version identifier (its folder name is not wbadmin's)")
    default: Scenario = "os-damaged" if g.purpose == "systemstate" else "server-lost-data-intact"
    summary = None
    if preflight is not None:
        summary = PreflightSummary(
            preflight.status.value,
            now or datetime.now(UTC),
            tuple(CheckLine(c.id, c.status.value, c.message) for c in preflight.checks),
        )
    holder = g.choice.tree.share_root
    return RunbookInput(
        location=location,
        machine=Value(machine.name, "the computer folder in WindowsImageBackup"),
        version=Value(point.version, f"the folder name '{point.folder}' (UTC)"),
        backup_time_utc=point.backup_time_utc,
        can_recover=point.can_recover,
        roles=point.roles,
        purpose=g.purpose,
        scenario=scenario or default,
        backup_target=g.backup_target,
        share_folder=Value(
            "this location's folder" if holder == "." else f"'{holder}' relative to this location",
            "where WindowsImageBackup was found",
        ),
        account=g.account,
        disks=tuple(Disk(v.access_path or v.label or "hidden volume", v.virtual_size) for v in point.volumes),
        generated_at=now or datetime.now(UTC),
        tool_version=__version__,
        preflight=summary,
        stage_command=stage_command
        or f'bmr stage "<exported folder>" "{location}" --machine {machine.name} --version {point.version}',
        several_machines=g.several_machines,
    )
