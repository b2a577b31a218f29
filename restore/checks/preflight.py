"""`bmr preflight`: will WinRE and wbadmin find and open this recovery point on this share, with these credentials?

One logon, one walk of the tree, headers not images. Every check has a stable id and, when not passing, a fix.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from restore.checks import shareroot
from restore.checks.bootchain import deep_checks
from restore.checks.check import Check, failed, passed, skipped, warned
from restore.checks.ids import ORDER
from restore.checks.serverside import server_share_check
from restore.tree.choose import Choice, NotInTree, choose_point
from restore.tree.find import DEFAULT_DEPTH, inspect_location
from restore.tree.model import TREE_NAME, Inspection, Machine, RecoveryPoint, Tree
from restore.units import human_bytes
from share import errors, paths
from share.base import Backend
from share.connect import Access, negotiate, open_backend
from share.credentials import Account
from share.location import Location
from share.writetest import write_test
from winre.terms import Purpose

# What is known (evidence.md, c-amie.co.uk notes on Windows Server Backup 2012 R2): a restore failed with 0x80070001
# on a long UNC path to the image whose length is not published; after the tree moved up, paths of 123-130
# characters worked. Nothing public pins the limit. 200 is well beyond what is known to work (a margin of 70
# characters over 130), and still under MAX_PATH (260) with room for the names the restore adds below the image.
# Below it, bmr only reports the length; a warning at 110 (the old value) contradicted a working restore.
MAX_UNC = 200
KNOWN_WORKING_UNC = 130


@dataclass(frozen=True)
class PreflightRequest:
    location: Location
    purpose: Purpose | None  # None: what the chosen point can do, BMR first
    machine: str | None = None
    version: str | None = None
    stage_size: int | None = None  # bytes about to be copied here; enables the write and free-space checks
    margin: float = 1.1
    depth: int = DEFAULT_DEPTH
    deep: bool = False  # also read inside the chosen point's images (the contents check)
    read_all: bool = False  # read inside every point's images (bmr versions --deep: the server's zone per point)
    target_hardware: str | None = None  # a profile of restore.tree.hardware: the hardware check (with deep)


@dataclass(frozen=True)
class Preflight:
    """What the checks found; no verdict: :class:`restore.plan.model.Plan` is the one place that states it."""

    location: str
    backup_target: str | None
    machine: str | None
    version: str | None
    checks: tuple[Check, ...]
    inspection: Inspection | None = field(default=None, compare=False)
    purpose: Purpose | None = None  # the one asked for, or the one the chosen point can do
    choice: Choice | None = field(default=None, compare=False)  # the computer and point, chosen here once
    server_ip: str | None = None  # the file server's address as this machine reached it (or --share-unc names it)


@dataclass(frozen=True)
class ServerSide:
    """Where to look at the share from the file server itself: Samba's definition of it, over SSH."""

    ssh: Location
    smb_conf: str | None = None


def server_share_of(request: PreflightRequest, server: ServerSide, access: Access) -> Callable[[str], Check]:
    """The server-side check (over SSH) of the share ``request.location`` names, given the UNC target."""
    unc_share = request.location.share or ""

    def check(unc: str) -> Check:
        return server_share_check(server.ssh, access, unc_share, unc, server.smb_conf)

    return check


class _Run:
    """Collects checks in the documented order; the rest are marked skipped with the reason."""

    def __init__(self) -> None:
        self.checks: dict[str, Check] = {}

    def add(self, check: Check) -> None:
        self.checks[check.id] = check

    def finish(self, reason: str, wanted: tuple[str, ...]) -> tuple[Check, ...]:
        return tuple(self.checks.get(i) or skipped(i, reason) for i in ORDER if i in wanted or i in self.checks)


def _wanted(request: PreflightRequest, with_ssh: bool) -> tuple[str, ...]:
    skip = set()
    if request.stage_size is None:
        skip |= {"write", "free-space"}
    if not with_ssh:
        skip.add("server-share")
    if not request.deep:
        skip |= {"contents", "boot-chain"}
    if not request.deep or request.target_hardware is None:
        skip.add("hardware")
    return tuple(i for i in ORDER if i not in skip)


def run_preflight(
    request: PreflightRequest,
    access: Access,
    *,
    server_share: Callable[[str], Check] | None = None,
    backend: Backend | None = None,
) -> Preflight:
    """Run every check that applies. ``server_share`` (given the UNC target) adds the SSH-side check.

    ``backend``, when given, is an open session to the location (shared between runs); it is not closed."""
    location = request.location
    if not location.windows_share or not location.host:
        raise errors.UsageError(
            "preflight checks an SMB share (UNC or smb://): WinRE restores only from SMB shares; for a local or SFTP "
            "folder that will be shared, give --share-unc \\\\IP\\SHARE"
        )
    run = _Run()
    wanted = _wanted(request, server_share is not None)
    display = location.display()

    ip = _check_connect(run, location, access.timeout)
    if ip is None:
        return Preflight(display, None, request.machine, request.version, run.finish("not reachable", wanted))
    run.add(port_check(location, access.winre_port))
    _check_dialect(run, location, ip, access.timeout)
    run.add(_unc_name(location, ip))
    if backend is not None:
        run.add(_auth_ok(location, access, backend.facts().user))
        run.add(_share_found(location, backend))
        return _checks_on_share(run, wanted, request, backend, ip, server_share, location)
    opened = _logon(run, location, access)
    if opened is None:
        return Preflight(display, None, request.machine, request.version, run.finish("no logon", wanted))
    with opened:
        return _checks_on_share(run, wanted, request, opened, ip, server_share, location)


NETWORK_CHECKS = ("connect", "dialect", "signing", "auth", "share", "unc-name", "server-share")


def check_folder(
    request: PreflightRequest, backend: Backend, share: Location, ip: str, *, share_known: bool = True
) -> Preflight:
    """The checks of a local or SFTP folder that will be shared as ``share`` (its root is the share's root): all
    but the network ones, which only the SMB share itself can answer. Without ``share_known`` (no --share-unc),
    the share-root and path-length checks are skipped: the share WinRE will use is not known."""
    run = _Run()
    wanted = tuple(i for i in _wanted(request, False) if i not in NETWORK_CHECKS)
    return _checks_on_share(run, wanted, replace(request, location=share), backend, ip, None,
                            share if share_known else None, display=backend.location.display())  # fmt: skip


def _checks_on_share(
    run: _Run,
    wanted: tuple[str, ...],
    request: PreflightRequest,
    backend: Backend,
    ip: str,
    server_share: Callable[[str], Check] | None,
    share: Location | None,
    display: str | None = None,
) -> Preflight:
    location = share or request.location
    staging = request.stage_size is not None
    inspection: Inspection | None = None
    try:
        inspection = inspect_location(backend, request.depth)
        if request.read_all:
            from restore.tree.contents import with_contents  # the image readers load only when asked for

            inspection = with_contents(backend, inspection)
        run.add(passed("read", f"listed and read {backend.describe()}"))
    except errors.AccessDenied as exc:
        run.add(failed("read", str(exc), "grant the account read access to the share and its folders"))
    if staging:
        run.add(_write_check(backend, request.machine))
        run.add(_free_space(backend, request.stage_size or 0, request.margin))
    target: str | None = None
    machine: Machine | None = None
    point: RecoveryPoint | None = None
    tree: Tree | None = None
    if inspection is not None:
        if share is not None:
            root = shareroot.analyse(location, inspection, ip, staging=staging)
            tree, target = root.tree, root.backup_target
            held = backend.dfs_target(paths.parent(tree.path)) if tree and tree.inside is None else None
            if held is not None and target is not None:
                # WinRE cannot resolve a DFS namespace: the restore names the target server's own share.
                run.add(_through_dfs(root.check, held))
                target = held
            else:
                run.add(root.check)
        else:
            run.add(skipped("share-root", "no --share-unc: the share WinRE will use is not known"))
            tree = inspection.trees[0] if inspection.trees else None
            if tree is None:
                run.add(failed("machine", f"no WindowsImageBackup folder at or below {location.display()}",
                               "point at the folder that holds WindowsImageBackup"))  # fmt: skip
        if tree is not None:
            machine = _machine_check(run, tree, request.machine)
        elif staging:
            run.add(skipped("machine", "nothing staged yet"))
            run.add(skipped("recovery-point", "nothing staged yet"))
        if machine is not None:
            point = _point_check(run, machine, request)
        if point is not None and machine is not None and target is not None:
            run.add(path_length_check(target, machine, point))
        elif point is not None and share is None:
            run.add(skipped("path-length", "no --share-unc: the share WinRE will use is not known"))
        elif point is not None:
            # No -backupTarget works yet: a path built from this share would be invented.
            run.add(skipped("path-length", "no -backupTarget works yet (see share-root)"))
        if request.deep and point is not None and machine is not None and tree is not None:
            found, point = deep_checks(backend, tree, machine, point, request.target_hardware)  # with the deep facts
            for check in found:
                run.add(check)
    if server_share is not None:
        run.add(server_share(shareroot.target_for(location, ip)))
    return Preflight(
        display or location.display(),
        target,
        machine.name if machine else request.machine,
        point.version if point else request.version,
        run.finish("an earlier check failed", wanted),
        inspection,
        request.purpose or (default_purpose(point) if point is not None else None),
        Choice(tree, machine, point) if tree is not None and machine is not None and point is not None else None,
        ip,
    )


def _through_dfs(check: Check, held: str) -> Check:
    """The share-root check of a tree reached through a DFS link: judged on the target server's share."""
    note = f"through a DFS link: WinRE cannot resolve DFS namespaces, so the restore uses {held}"
    if len([p for p in held.split("\\") if p]) == 2:  # the target's share root holds WindowsImageBackup
        return passed("share-root", f"{held} holds WindowsImageBackup at its root ({note})", dfs_target=held)
    return replace(check, message=f"{check.message}; {note}", details={**check.details, "dfs_target": held})


def _check_connect(run: _Run, location: Location, timeout: float) -> str | None:
    host, port = location.host or "", location.port or 445
    try:
        ip = str(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0])
    except socket.gaierror as exc:
        run.add(failed("connect", f"cannot resolve '{host}': {exc.strerror}", "use the file server's IP address"))
        return None
    try:
        with socket.create_connection((ip, port), timeout=min(timeout, 5.0)):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        run.add(
            failed(
                "connect",
                f"cannot open TCP {ip}:{port}: {reason}",
                "check that the file server is up, that SMB (TCP 445) is allowed through its firewall, and the address",
            )
        )
        return None
    run.add(passed("connect", f"TCP {ip}:{port} answers"))
    return ip


def port_check(location: Location, winre_port: int | None) -> Check:
    """WinRE's net use reaches SMB on TCP 445 only: a UNC path has no port. bmr itself may use any."""
    port = location.port or 445
    restore_port = winre_port or port
    if restore_port == 445:
        if port == 445:
            return passed("port", "TCP 445, the port WinRE's net use connects to")
        return passed("port", f"bmr comes in on port {port}; WinRE will reach the file server on 445 (--winre-port)")
    return failed(
        "port",
        f"the share is served on port {restore_port}; WinRE's net use connects to TCP 445 only (a UNC path has no "
        "port; only Windows 11 24H2 and Server 2025 clients can name another one). bmr itself can stage through "
        f"port {restore_port}",
        "serve SMB on 445 for the restore (Samba: smb ports = 445; a NAS: its SMB port setting), or forward 445 "
        f"to port {restore_port} on the file server; if WinRE already reaches the server on 445 and only bmr comes "
        "in another way (a tunnel, a forward), say so with --winre-port 445",
        port=restore_port,
    )


def _check_dialect(run: _Run, location: Location, ip: str, timeout: float) -> None:
    port = location.port or 445
    try:
        offer = negotiate(location, ip, min(timeout, 5.0))
    except errors.ShareError as exc:
        run.add(
            failed(
                "dialect",
                f"no SMB 2/3 negotiation with {ip}:{port}: {exc}",
                "enable SMB 2/3 on the file server; WinRE has no SMB1 (an SMB1-only NAS cannot serve a restore)",
            )
        )
        run.add(skipped("signing", "no SMB 2/3 negotiation"))
        return
    # Windows negotiates every dialect from 2.0.2 to 3.1.1 by default; only SMB1 is gone (windowsserverdocs,
    # manage-smb-dialects.md). 2.0.2 therefore passes, with a note on what it lacks.
    note = "; the oldest SMB 2 dialect, which Windows still accepts" if offer.dialect == "2.0.2" else ""
    run.add(
        passed(
            "dialect",
            f"SMB {offer.dialect}{note}; signing {'required' if offer.signing_required else 'offered'}; "
            f"encryption {'available' if offer.encryption else 'not available'}",
            dialect=offer.dialect,
            encryption=offer.encryption,
        )
    )
    if not offer.signing_enabled:
        run.add(
            warned(
                "signing",
                "the server does not offer SMB signing",
                "enable signing on the file server: Windows Server 2025 and Windows 11 24H2 clients require it",
            )
        )
    else:
        run.add(passed("signing", "signing " + ("required by the server" if offer.signing_required else "offered")))


def _unc_name(location: Location, ip: str) -> Check:
    if location.host_is_ip:
        return passed("unc-name", f"the location names the server by IP ({location.host})")
    return warned(
        "unc-name",
        f"the location names the server '{location.host}'; WinRE often has no DNS",
        f"use the IP form in WinRE: {shareroot.target_for(location, ip)}",
        ip=ip,
    )


def _logon(run: _Run, location: Location, access: Access) -> Backend | None:
    try:
        backend = open_backend(location, access)
    except errors.GuestRefused as exc:
        run.add(failed("auth", str(exc), exc.hint))
        return None
    except errors.AuthenticationFailed as exc:
        run.add(failed("auth", str(exc), exc.hint))
        return None
    except errors.ShareNotFound as exc:
        run.add(_auth_ok(location, access))
        run.add(failed("share", str(exc), "check the share name on the file server (net share, or smb.conf)"))
        return None
    except errors.NotFound as exc:
        run.add(_auth_ok(location, access))
        run.add(passed("share", f"share '{location.share}' exists"))
        run.add(failed("read", str(exc), "check the folder below the share in the location", missing=True))
        return None
    except errors.AccessDenied as exc:
        run.add(_auth_ok(location, access))
        run.add(passed("share", f"share '{location.share}' exists"))
        run.add(failed("read", str(exc), "grant the account read access to the share"))
        return None
    except errors.CannotConnect as exc:
        run.add(failed("auth", f"the connection failed during logon: {exc}", exc.hint))
        return None
    run.add(_auth_ok(location, access, backend.facts().user))
    run.add(_share_found(location, backend))
    return backend


def _share_found(location: Location, backend: Backend) -> Check:
    """The share exists; and whether its traffic is encrypted, by the share's demand or the session's."""
    facts = backend.facts()
    if facts.share_encryption:
        how = "the share requires encryption"
    elif facts.encryption:
        how = "the session is encrypted"
    else:
        how = "not encrypted (signed)" if facts.signing else "not encrypted"
    return passed(
        "share",
        f"share '{location.share}' exists; {how}",
        encryption=bool(facts.encryption),
        share_encryption=bool(facts.share_encryption),
    )


def _auth_ok(location: Location, access: Access, user: str | None = None) -> Check:
    account = Account.parse(user or access.user or location.user or "", None if user else location.domain)
    if not account.qualified:
        return warned(
            "auth",
            f"credentials accepted for '{account.windows()}', but WinRE needs a qualified name",
            f"use DOMAIN\\{account.user} (or FILESERVER\\{account.user} for a local account) in net use and wbadmin",
        )
    return passed("auth", f"credentials accepted for {account.windows()} (not a guest session)")


def _write_check(backend: Backend, machine: str | None) -> Check:
    """What the stage writes, where it writes it: WindowsImageBackup\\<Computer> (WindowsImageBackup when the
    computer is not named) and the lock beside it."""
    folder = paths.join(TREE_NAME, machine or "")
    result = write_test(backend, folder)
    if result.ok:
        return passed("write", f"wrote, renamed and deleted .vhdx and .xml files in {backend.describe(folder)}")
    hint = result.hint or "grant the account change (write) permission on the share"
    if result.refused_pattern:
        return failed("write", result.why or "a file name is refused", hint, refused=result.refused_pattern)
    return failed("write", result.why or "cannot write", hint)


def _free_space(backend: Backend, size: int, margin: float) -> Check:
    need = int(size * margin)
    try:
        free = backend.space().free
    except errors.SpaceUnknown as exc:  # the copy can still run; whether it fits is for the user to check
        return warned("free-space", f"{exc} ({human_bytes(need)} needed)", exc.hint, need=need)
    if free >= need:
        return passed("free-space", f"{human_bytes(free)} free, {human_bytes(need)} needed", free=free, need=need)
    return failed(
        "free-space",
        f"{human_bytes(free)} free on {backend.describe()}, {human_bytes(need)} needed "
        f"({margin:g} x {human_bytes(size)})",
        f"free {human_bytes(need - free)} on the share (or raise the account's quota), or choose another share",
        free=free,
        need=need,
    )


def _machine_check(run: _Run, tree: Tree, wanted: str | None) -> Machine | None:
    names = [m.name for m in tree.machines]
    if wanted is not None:
        found = next((m for m in tree.machines if m.name.lower() == wanted.lower()), None)
        if found is None:
            run.add(
                failed(
                    "machine",
                    f"no computer folder '{wanted}'; found: {', '.join(names) or 'none'}",
                    "pass the computer name exactly as its folder in WindowsImageBackup is named",
                )
            )
        else:
            run.add(passed("machine", f"computer {found.name} found"))
        return found
    if len(tree.machines) == 1 and any(p.code == "machine-name-unknown" for p in tree.problems):
        run.add(
            warned(
                "machine",
                f"one computer folder, whose own name cannot be seen from this share (shown as '{names[0]}')",
                "read the folder's name on the file server: it is the -machine: value",
            )
        )
        return tree.machines[0]
    if len(tree.machines) == 1:
        run.add(passed("machine", f"computer {names[0]} found"))
        return tree.machines[0]
    if not names:
        run.add(failed("machine", "WindowsImageBackup holds no computer folder", "copy the recovery point again"))
        return None
    run.add(
        failed(
            "machine",
            f"{len(names)} computers here: {', '.join(names)}",
            "choose one with --machine; wbadmin then needs -machine:NAME too",
            machines=names,
        )
    )
    return None


def _point_check(run: _Run, machine: Machine, request: PreflightRequest) -> RecoveryPoint | None:
    check, point = recovery_point_check(machine, request.purpose, request.version)
    run.add(check)
    return point


def default_purpose(point: RecoveryPoint) -> Purpose:
    """What a restore of this point is when not asked: bare metal when it can, else system state."""
    return Purpose.BMR if point.bare_metal else Purpose.SYSTEM_STATE


def recovery_point_check(
    machine: Machine, purpose: Purpose | None, version: str | None
) -> tuple[Check, RecoveryPoint | None]:
    """The ``recovery-point`` check: the chosen point (the given version, or the newest) can do ``purpose`` (None:
    what it can, BMR first), is complete, and its warnings (a DC point past the tombstone lifetime among them) are
    named."""
    try:
        point = choose_point(machine, version)
    except NotInTree as exc:
        return failed("recovery-point", str(exc), "pick a version that `bmr versions` lists"), None
    purpose = purpose or default_purpose(point)
    need = purpose.needs
    errors_ = point.errors
    warnings = point.warnings
    label = f"{point.folder} (version {point.version})"
    if need not in point.can_recover:
        return failed(
            "recovery-point",
            f"{label} cannot do {need}; it can recover: {', '.join(point.can_recover) or 'nothing'}",
            "use a recovery point taken with bare metal recovery selected"
            if purpose is Purpose.BMR
            else "use a recovery point that includes system state",
        ), point
    if errors_:
        return failed(
            "recovery-point",
            f"{label} is incomplete: " + "; ".join(f"{p.code}: {p.message}" for p in errors_),
            "copy the recovery point again (bmr stage verifies every byte)",
            problems=[p.code for p in errors_],
        ), point
    if warnings:
        codes = [p.code for p in warnings]
        fix = "read the warnings in `bmr inspect` before the restore"
        if "tombstone" in codes:
            fix = "choose a point taken within the tombstone lifetime (180 days); " + fix
        return warned(
            "recovery-point",
            f"{label} fits {need}, with warnings: " + "; ".join(f"{p.code}: {p.message}" for p in warnings),
            fix,
            problems=codes,
        ), point
    return passed("recovery-point", f"{label} is complete and can do {need}"), point


def path_length_check(target: str, machine: Machine, point: RecoveryPoint) -> Check:
    folder = f"{target}\\WindowsImageBackup\\{machine.name}\\{point.folder}"
    images = [v.image for v in point.volumes if v.image]
    longest = max((f"{folder}\\{i}" for i in images), key=len, default=folder)
    length = len(longest)
    if length > MAX_UNC:
        return warned(
            "path-length",
            f"the UNC path to the image is {length} characters (folder {len(folder)}): {longest}. "
            f"Known: a restore failed with 0x80070001 on a long path (its length is not published) and worked at "
            f"123-{KNOWN_WORKING_UNC} characters",
            "shorten it if the restore fails with 0x80070001: use the IP, a short share name, and a share root "
            "right above WindowsImageBackup",
            length=length,
        )
    known = (
        "real restores worked at 123-130"
        if length <= KNOWN_WORKING_UNC
        else f"longer than the 123-130 known to work; bmr warns above {MAX_UNC}"
    )
    return passed("path-length", f"longest image path is {length} characters ({known})", length=length)
