"""`bmr commands` and `bmr checklist`: gather the values (from the tree, the share, the options) that the
pure renderers in ``winre`` turn into command lines and runbooks, each with where it came from."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from restore import __version__
from restore.checks import shareroot
from restore.checks.check import Check, Status
from restore.checks.preflight import Preflight, PreflightRequest, recovery_point_check, run_preflight
from restore.checks.shareroot import suggested_share
from restore.outcome import Outcome
from restore.tree.choose import Choice, NotInTree, backup_target, choose_machine, choose_point, machines_of
from restore.tree.find import DEFAULT_DEPTH, inspect_location
from restore.tree.model import Inspection, RecoveryPoint
from restore.tree.zones import point_zone
from share import errors
from share.base import Backend
from share.connect import Access, negotiate, open_backend, parse_location
from share.credentials import Account
from share.location import Location
from winre.runbook import CheckLine, Disk, ImageContents, PreflightSummary, RunbookInput, Value
from winre.terms import Purpose, Scenario
from winre.wbadmin import Restore, backup_time_text, is_qualified, restore_commands, subfolder_of


class NotRestorable(errors.BmrError):
    """Choose another recovery point or purpose: `bmr inspect` shows what each point can recover."""


class NotReady(errors.BmrError):
    """Apply the fix, then run this again; or add --force to have the output anyway, headed by the failures."""


@dataclass(frozen=True)
class Gathered:
    choice: Choice
    purpose: Purpose
    backup_target: Value
    account: Value
    server_ip: Value
    several_machines: bool
    account_hint: str | None = None  # NetBIOS name that owns a bare account: the file server's, when it said it


def gather(
    backend: Backend,
    *,
    machine: str | None,
    version: str | None,
    purpose: Purpose | None,
    server_ip: str | None,
    share_unc: str | None,
    user: str | None,
    depth: int = DEFAULT_DEPTH,
    deep: bool = False,
) -> Gathered:
    """Inspect the tree and settle every value the commands need. Raises NotInTree, NotRestorable, UsageError."""
    inspection = inspect_location(backend, depth)
    if deep:
        from restore.tree.contents import with_contents  # the image readers load only when asked for

        inspection = with_contents(backend, inspection)
    return gather_from(backend, inspection, machine=machine, version=version,
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
    chosen = purpose or (Purpose.BMR if point.bare_metal else Purpose.SYSTEM_STATE)
    need = chosen.needs
    if need not in point.can_recover:
        raise NotRestorable(
            f"{found.name} {point.folder} cannot do {need}; it can recover: {', '.join(point.can_recover) or 'nothing'}"
        )
    ip = _server_ip(backend, server_ip, share_unc)
    if share_unc is not None:
        target = Value(_unc_with_ip(share_unc, ip.text), "--share-unc")
    elif location.windows_share:
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


def account_hint(backend: Backend, g: Gathered, timeout: float) -> str | None:
    """For a bare account (no domain), the file server's NetBIOS computer name from its NTLM CHALLENGE, so that the
    lines say SERVER\\user; None when the account is qualified, the location is no SMB share, or the server does
    not say (the REM line then says what to type)."""
    if is_qualified(g.account.text) or not backend.location.windows_share:
        return None
    try:
        offer = negotiate(backend.location, g.server_ip.text, min(timeout, 5.0))
    except errors.ShareError:
        return None
    names = offer.server_names
    return names.computer if names is not None and names.computer else None


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
        "domain-controller" in point.roles, authoritative_sysvol, account_hint=g.account_hint,
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
    default = Scenario.OS_DAMAGED if g.purpose is Purpose.SYSTEM_STATE else Scenario.SERVER_LOST_DATA_INTACT
    summary = None
    if preflight is not None:
        summary = PreflightSummary(
            preflight.status.value,
            now or datetime.now(UTC),
            tuple(CheckLine(c.id, c.status.value, c.message) for c in preflight.checks),
        )
    holder = g.choice.tree.share_root
    made = now or datetime.now(UTC)
    folder = subfolder_of(g.backup_target.text)
    wizard = None
    if folder is not None:  # the WinRE wizard needs the folder that holds WindowsImageBackup shared on its own
        name = suggested_share(folder.replace("\\", "/"))
        wizard = Value(f"\\\\{g.server_ip.text}\\{name}", f"a share to create on the file server for '{folder}'")
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
        contents=_contents(point),
        backup_time_local=_local_time(point, made),
        generated_at=made,
        tool_version=__version__,
        preflight=summary,
        stage_command=stage_command
        or f'bmr stage "<exported folder>" "{location}" --machine {machine.name} --version {point.version}',
        several_machines=g.several_machines,
        age_days=max(0, (made - point.backup_time_utc).days),  # the runbook warns on a DC past the tombstone
        wizard_share=wizard,
        account_hint=g.account_hint,
    )


@dataclass(frozen=True)
class GuideRequest:
    """What `bmr commands` and `bmr checklist` were asked for."""

    location: Location
    machine: str | None = None
    version: str | None = None
    purpose: Purpose | None = None
    server_ip: str | None = None
    share_unc: str | None = None
    depth: int = DEFAULT_DEPTH
    deep: bool = False  # read inside the images: the runbook then states firmware, disks and media as found
    force: bool = False  # print the lines or the runbook even when the share root or the point cannot work


def _default_purpose(inspection: Inspection, request: GuideRequest) -> Purpose | None:
    """The purpose asked for, or the one gather picks (BMR when the point can do it), or None when no point is
    chosen (gather then says why)."""
    if request.purpose is not None:
        return request.purpose
    try:
        _tree, machine = choose_machine(inspection, request.machine)
        point = choose_point(machine, request.version)
    except NotInTree:
        return None
    return Purpose.BMR if point.bare_metal else Purpose.SYSTEM_STATE


def readiness(backend: Backend, inspection: Inspection, request: GuideRequest) -> tuple[Check, ...]:
    """The preflight's share-root and recovery-point checks on an inspected tree, for the share WinRE will use:
    the SMB location, or --share-unc for a local or SFTP folder that will be shared (its root is the share's)."""
    share = parse_location(request.share_unc) if request.share_unc else backend.location
    if not share.windows_share:
        return ()  # gather refuses the location with the usage error
    host = _server_ip(backend, request.server_ip, request.share_unc).text
    checks = [shareroot.analyse(share, inspection, host, staging=False).check]
    purpose = _default_purpose(inspection, request)
    if purpose is not None:
        _tree, machine = choose_machine(inspection, request.machine)
        checks.append(recovery_point_check(machine, purpose, request.version)[0])
    return tuple(checks)


def blocking_of(checks: tuple[Check, ...], force: bool) -> tuple[str, ...]:
    """The failing checks, each with its fix, as the runbook's FAIL banner lists them. Without ``force`` a failure
    stops the command (NotReady, exit 1)."""
    failing = [c for c in checks if c.status is Status.FAIL]
    if failing and not force:
        raise NotReady(
            "not ready for a restore: " + "; ".join(f"{c.id} fails: {c.message}" for c in failing),
            hint="; ".join(f"{c.id}: {c.fix}" for c in failing if c.fix)
            + " (or add --force to have the output anyway, headed by these failures)",
        )
    return tuple(f"FAIL {c.id}: {c.message}" + (f" Fix: {c.fix}" if c.fix else "") for c in failing)


@dataclass(frozen=True)
class CommandLines:
    gathered: Gathered
    lines: tuple[str, ...]

    @property
    def outcome(self) -> Outcome:
        return Outcome.OK

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def to_json(self) -> dict[str, Any]:
        return commands_json(self.gathered, list(self.lines))


def commands_for(request: GuideRequest, access: Access, *, authoritative_sysvol: bool = False) -> CommandLines:
    """`bmr commands`: read the tree at the location and settle the net use and wbadmin lines. Raises NotReady
    when the share root or the point cannot work (unless ``request.force``: then REM lines head the output)."""
    with open_backend(request.location, access) as backend:
        inspection = _inspect(backend, request)
        blocking = blocking_of(readiness(backend, inspection, request), request.force)
        found = _gather_request(backend, inspection, request, access)
    head = ["REM bmr --force: these lines will not work until the failures below are fixed", *(
        f"REM {line}" for line in blocking)] if blocking else []  # fmt: skip
    return CommandLines(found, (*head, *command_lines(found, authoritative_sysvol)))


@dataclass(frozen=True)
class Checklist:
    runbook: RunbookInput
    preflight: Preflight | None

    @property
    def outcome(self) -> Outcome:
        return Outcome.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "machine": self.runbook.machine.text,
            "version": self.runbook.version.text,
            "purpose": self.runbook.purpose,
            "scenario": self.runbook.scenario,
            "preflight": self.preflight.status.value if self.preflight else None,
            "blocking": list(self.runbook.blocking),
        }


def checklist_for(request: GuideRequest, access: Access, scenario: Scenario | None) -> Checklist:
    """`bmr checklist`: the runbook's values, with a preflight of the share embedded when it is an SMB share.
    One logon serves both reading the tree and the preflight. Raises NotReady when the preflight (or, for a local
    or SFTP folder given --share-unc, the share-root and recovery-point checks) fails, unless ``request.force``:
    the runbook then opens with the FAIL banner."""
    location = request.location
    checked = None
    with open_backend(location, access) as backend:
        inspection = _inspect(backend, request)
        if location.windows_share:
            purpose = _default_purpose(inspection, request)
            if purpose is None:  # no computer or point could be chosen: gather raises and says why
                purpose = _gather_request(backend, inspection, request, access).purpose
            preflight = PreflightRequest(location, purpose, request.machine, request.version, depth=request.depth)
            checked = run_preflight(preflight, access, backend=backend)
            blocking = blocking_of(checked.checks, request.force)
        else:
            blocking = blocking_of(readiness(backend, inspection, request), request.force)
        found = _gather_request(backend, inspection, request, access)
    runbook = replace(runbook_input(found, location.display(), scenario, checked), blocking=blocking)
    return Checklist(runbook, checked)


def _gather_request(backend: Backend, inspection: Inspection, request: GuideRequest, access: Access) -> Gathered:
    found = gather_from(
        backend, inspection, machine=request.machine, version=request.version, purpose=request.purpose,
        server_ip=request.server_ip, share_unc=request.share_unc, user=access.user,
    )  # fmt: skip
    return replace(found, account_hint=account_hint(backend, found, access.timeout))


def _inspect(backend: Backend, request: GuideRequest) -> Inspection:
    """The tree at the location; with ``deep``, what its images hold too."""
    inspection = inspect_location(backend, request.depth)
    if not request.deep:
        return inspection
    from restore.tree.contents import with_contents  # the image readers load only when asked for

    return with_contents(backend, inspection)


def _local_time(point: RecoveryPoint, made: datetime) -> Value | None:
    """ "Backup time" as the server's wbadmin prints it when the runbook is made; None when its zone is unknown."""
    zone = point_zone(point)
    if zone is None or point.backup_time_utc is None:
        return None
    return Value(backup_time_text(point.backup_time_utc, zone.zone, made), f"{zone.name}, {zone.source}")


def _contents(point: RecoveryPoint) -> ImageContents | None:
    """What --deep read inside the images, as the runbook states it; None when the images were not read."""
    facts = point.contents
    if facts is None:
        return None
    encrypted = tuple(
        image.access_path or image.image
        for image in facts.images
        for part in image.partitions
        if part.file_system is not None and part.file_system.kind == "bitlocker"
    )
    return ImageContents(facts.firmware, facts.install_media, tuple(d.size for d in facts.target_disks), encrypted)
