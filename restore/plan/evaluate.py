"""The one evaluation: (location, purpose, computer, version, options) -> a :class:`Plan`.

One logon (or one open folder), one walk of the tree, the computer and point chosen once (in the preflight's
machine and recovery-point checks), every check in the documented order. The commands render the result."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from restore.checks.check import Check
from restore.checks.preflight import (
    Preflight,
    PreflightRequest,
    ServerSide,
    check_folder,
    run_preflight,
    server_share_of,
)
from restore.plan.model import Plan, PlanRequest, RestoreValues
from restore.tree.choose import backup_target, machines_of, point_size
from share import errors
from share.base import Backend
from share.connect import Access, negotiate, open_backend, parse_location
from share.credentials import Account
from share.location import Location
from winre.runbook import Value
from winre.wbadmin import is_qualified


def evaluate(
    request: PlanRequest,
    access: Access,
    *,
    backend: Backend | None = None,
    server_share: Callable[[str], Check] | None = None,
    now: datetime | None = None,
) -> Plan:
    """Evaluate the restore. An SMB location gets every check (connect to contents); a local or SFTP folder gets
    those of the folder as the share ``request.share_unc`` names will show it. ``backend``, when given, is an open
    session to the location (not closed here). Raises UsageError for a request that cannot be evaluated."""
    location = request.location
    given_ip = _given_ip(request)
    checks = PreflightRequest(
        location, request.purpose, request.machine, request.version, request.stage_size, request.margin,
        request.depth, request.deep, read_all=request.deep and request.listing,
        target_hardware=request.target_hardware,
    )  # fmt: skip
    if location.windows_share:
        result = run_preflight(checks, access, server_share=server_share, backend=backend)
    else:
        share = _share_of(request)
        host = given_ip or (share.host if share is not None else None) or ""
        if backend is not None:
            result = _folder(checks, backend, share, host)
        else:
            with open_backend(location, access) as opened:
                result = _folder(checks, opened, share, host)
    return Plan(
        result.location,
        result.purpose,
        result.backup_target,
        result.choice,
        result.checks,
        _values(request, result, access, given_ip),
        now or datetime.now(UTC),
        result.inspection,
    )


def evaluate_preflight(
    request: PlanRequest, access: Access, *, source: Location | None = None, server: ServerSide | None = None
) -> Plan:
    """`bmr preflight`: with ``source``, size the point there first (the write and free-space checks follow);
    with ``server``, also check the share's folder on the file server over SSH."""
    if source is not None:
        with open_backend(source, access.for_other(source)) as backend:
            size = point_size(backend, request.machine, request.version, request.depth)
        request = replace(request, stage_size=size)
    server_share = None
    if server is not None:
        server_share = server_share_of(PreflightRequest(request.location, request.purpose), server, access)
    return evaluate(request, access, server_share=server_share)


def _folder(checks: PreflightRequest, backend: Backend, share: Location | None, host: str) -> Preflight:
    """A local or SFTP folder's checks; without a share (bmr versions), only the tree's own."""
    return check_folder(checks, backend, share or backend.location, host, share_known=share is not None)


def _share_of(request: PlanRequest) -> Location | None:
    if request.share_unc is None:
        if request.listing:
            return None
        raise errors.UsageError(
            f"{request.location.display()} is not an SMB share: give --share-unc \\\\IP\\SHARE, the path WinRE will use"
        )
    share = parse_location(request.share_unc)
    if not share.windows_share:
        raise errors.UsageError(f"--share-unc {request.share_unc!r} is not a UNC path (\\\\IP\\SHARE[\\folder])")
    return share


def _given_ip(request: PlanRequest) -> str | None:
    """--server-ip, or the IP --share-unc names; a UsageError when neither names the server by IP where needed."""
    if request.server_ip is not None:
        if not _is_ip(request.server_ip):
            raise errors.UsageError(f"--server-ip {request.server_ip!r} is not an IP address")
        return request.server_ip
    if request.share_unc is not None:
        host = parse_location(request.share_unc).host or ""
        if _is_ip(host):
            return host
        raise errors.UsageError(f"--share-unc names '{host}'; WinRE needs the IP: give --server-ip too")
    return None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _values(request: PlanRequest, result: Preflight, access: Access, given_ip: str | None) -> RestoreValues | None:
    """The command lines' values for the chosen point; None when there is none, or it cannot do the purpose, or no
    -backupTarget reaches it."""
    choice, purpose, location = result.choice, result.purpose, request.location
    if choice is None or purpose is None or purpose.needs not in choice.point.can_recover:
        return None
    if given_ip is not None:
        ip = Value(given_ip, "--server-ip" if request.server_ip is not None else "--share-unc")
    elif result.server_ip is not None and location.windows_share:
        host = location.host or ""
        ip = Value(result.server_ip, "the location" if _is_ip(host) else f"resolved from '{host}' on this machine")
    else:
        return None
    if request.share_unc is not None:
        target = Value(parse_location(request.share_unc).unc(ip.text), "--share-unc")
    elif location.windows_share and (held := _dfs_target(result)) is not None:
        target = Value(held, DFS_NOTE)
    elif location.windows_share:
        unc = backup_target(location, choice.tree, ip.text)
        if unc is None:
            return None
        target = Value(unc, "the share and where WindowsImageBackup sits in it")
    else:
        return None
    account = _account(location, access.user)
    several = result.inspection is not None and len(machines_of(result.inspection)) > 1
    hint = _account_hint(location, account.text, ip.text, access.timeout)
    return RestoreValues(target, account, ip, several, hint)


DFS_NOTE = (
    "the DFS link's target server's own share: WinRE cannot resolve DFS namespaces (\\\\domain\\dfs), so the "
    "restore names the server that holds the files"
)


def _dfs_target(result: Preflight) -> str | None:
    """The target server's share preflight found the tree on, when the location reaches it through a DFS link."""
    found = next((c for c in result.checks if c.id == "share-root"), None)
    held = found.details.get("dfs_target") if found is not None else None
    return str(held) if held else None


def _account(location: Location, user: str | None) -> Value:
    if user:
        return Value(Account.parse(user).windows(), "--user")
    if location.user:
        return Value(Account.parse(location.user, location.domain).windows(), "the location")
    return Value("DOMAIN\\user", "not given: write the account in by hand")


def _account_hint(location: Location, account: str, ip: str, timeout: float) -> str | None:
    """For a bare account (no domain), the file server's NetBIOS computer name from its NTLM CHALLENGE, so that the
    lines say SERVER\\user; None when the account is qualified, the location is no SMB share, or the server does
    not say (the REM line then says what to type)."""
    if is_qualified(account) or not location.windows_share:
        return None
    try:
        offer = negotiate(location, ip, min(timeout, 5.0))
    except errors.ShareError:
        return None
    names = offer.server_names
    return names.computer if names is not None and names.computer else None
