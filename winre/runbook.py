"""The printable restore runbook: sections of tick-box steps built from plain values. Pure functions.

``build_runbook`` decides what the person restoring must do, in order; ``winre.formats`` lays it out as
Markdown, plain text, HTML or PDF. Every value carries where it came from; no secret is ever an input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from winre.terms import Purpose, Scenario
from winre.wbadmin import RECREATE_WARNING, Restore, restore_commands, share_of


@dataclass(frozen=True)
class Value:
    text: str
    source: str  # where it came from: "folder name (UTC)", "BackupSpecs.xml", "--server-ip", …


@dataclass(frozen=True)
class Disk:
    name: str  # "C:" or the label of a hidden volume
    virtual_size: int | None


@dataclass(frozen=True)
class CheckLine:
    id: str
    status: str
    message: str


@dataclass(frozen=True)
class PreflightSummary:
    status: str
    when: datetime
    checks: tuple[CheckLine, ...]


@dataclass(frozen=True)
class RunbookInput:
    location: str
    machine: Value
    version: Value
    backup_time_utc: datetime
    can_recover: tuple[str, ...]
    roles: tuple[str, ...]
    purpose: Purpose
    scenario: Scenario
    backup_target: Value  # \\ip\share[\folder]
    share_folder: Value  # the folder that must be the share root, said for people
    account: Value
    disks: tuple[Disk, ...]
    generated_at: datetime
    tool_version: str
    preflight: PreflightSummary | None = None
    stage_command: str | None = None
    several_machines: bool = False


@dataclass(frozen=True)
class Step:
    text: str
    code: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Section:
    title: str
    steps: tuple[Step, ...]
    intro: str | None = None
    facts: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (label, "value (from: source)")


def _size(value: int | None) -> str:
    if value is None:
        return "unknown size"
    gib = value / 1024**3
    return f"{gib:.1f} GiB" if gib >= 1 else f"{value / 1024**2:.0f} MiB"


def _with_source(value: Value) -> str:
    return f"{value.text} (from: {value.source})"


def path_for(inp: RunbookInput) -> str:
    """Which path the seed's recovery matrix gives for the scenario and purpose."""
    if inp.scenario == "server-lost-data-lost":
        return "Bare metal recovery, then a regular MABS/DPM recovery of the data volumes"
    if inp.scenario == "server-lost-data-intact":
        return "Bare metal recovery (the data volumes stay as they are)"
    return "System state recovery" if inp.purpose == "systemstate" else "Bare metal recovery"


def build_runbook(inp: RunbookInput) -> tuple[Section, ...]:
    dc = "domain-controller" in inp.roles
    return (
        _which_path(inp),
        _backup_server(inp),
        _share(inp),
        _target_machine(inp),
        _winre(inp, dc) if inp.purpose == "bmr" else _system_state(inp, dc),
        _roles(inp, dc),
        _after(inp),
    )


def _which_path(inp: RunbookInput) -> Section:
    return Section(
        "1. Which path",
        (
            Step(f"Confirm the path: {path_for(inp)}."),
            Step(f"Confirm the point can do it: it can recover {', '.join(inp.can_recover) or 'nothing'}."),
            Step(
                "Lost file data, SharePoint items, VMs or application data alone: use a regular MABS recovery "
                "instead; SharePoint disaster recovery is none of these paths."
            ),
        ),
        facts=(
            ("Computer", _with_source(inp.machine)),
            ("Version identifier (UTC)", _with_source(inp.version)),
            ("Backup time (UTC)", inp.backup_time_utc.strftime("%Y-%m-%d %H:%M:%S")),
            ("Roles", ", ".join(inp.roles) or "none found (from: the point's VSS writer files)"),
            ("Scenario", inp.scenario),
        ),
    )


def _backup_server(inp: RunbookInput) -> Section:
    steps = [
        Step(
            "In the MABS/DPM console: Recovery > browse to the protected server > Bare Metal Recovery "
            "(or System State)."
        ),
        Step(f"Pick the recovery point of {inp.backup_time_utc:%Y-%m-%d %H:%M} UTC (the console shows local time)."),
        Step("Choose 'Copy to a network folder' and give the destination folder on the file server."),
    ]
    if inp.stage_command:
        steps.append(Step("Or copy and verify the exported point with bmr:", (inp.stage_command,)))
    steps.append(Step("Keep the copy's SHA256SUMS and bmr-manifest.json with the point; they prove it is whole."))
    return Section("2. On the backup server", tuple(steps))


def _share(inp: RunbookInput) -> Section:
    steps = [
        Step(f"The share root must be the folder that holds WindowsImageBackup: {_with_source(inp.share_folder)}."),
        Step(f"Share path for WinRE, by IP address: {share_of(inp.backup_target.text)}"),
        Step(f"Account in DOMAIN\\user form: {_with_source(inp.account)}"),
        Step("Password: ______________________ (written by hand, shredded after the restore)"),
        Step("SMB 2 or 3 with signing on; no guest or anonymous access (WinRE refuses insecure guest logons)."),
    ]
    if inp.preflight is not None:
        result = inp.preflight
        failing = [c for c in result.checks if c.status in ("fail", "warn")]
        lines = tuple(f"{c.status.upper()} {c.id}: {c.message}" for c in failing) or ("every check passed",)
        steps.append(
            Step(
                f"Last preflight: {result.status.upper()} at {result.when:%Y-%m-%d %H:%M} UTC",
                lines,
                "rerun bmr preflight right before the restore",
            ),
        )
    else:
        steps.append(Step("Run bmr preflight against the share before the restore (no result embedded here)."))
    return Section("3. Share set-up", tuple(steps), facts=(("-backupTarget", _with_source(inp.backup_target)),))


def _target_machine(inp: RunbookInput) -> Section:
    volumes = "; ".join(f"{d.name} {_size(d.virtual_size)}" for d in inp.disks) or "unknown"
    total = sum(d.virtual_size or 0 for d in inp.disks)
    return Section(
        "4. Target machine",
        (
            Step(
                f"Disks: at least as many as the original had for these volumes, each at least as large "
                f"(volumes: {volumes}; {_size(total)} in all). Too few or too small: 0x80042401 / 0x80042408."
            ),
            Step("Firmware: the same mode as the original (BIOS or UEFI); a restore across them fails."),
            Step(
                "Bring the NIC and storage drivers (.inf) for WinRE on a USB stick; a missing storage driver "
                "shows as 0x80042412-0x80042414 (no usable disk)."
            ),
            Step("Windows installation media of the same version as the server, for WinRE."),
            Step("Wired network only, no NIC teaming; a Hyper-V guest needs a legacy network adapter."),
        ),
    )


def _net_use(inp: RunbookInput) -> tuple[str, ...]:
    return (f"net use {share_of(inp.backup_target.text)} /user:{inp.account.text} *",)


def _winre(inp: RunbookInput, dc: bool) -> Section:
    commands = restore_commands(
        Restore(inp.backup_target.text, inp.machine.text, inp.version.text, inp.account.text, Purpose.BMR, dc)
    )
    return Section(
        "5. WinRE: bare metal recovery",
        (
            Step("Boot the Windows media > Repair your computer > Troubleshoot > Command Prompt."),
            Step(
                "Start networking; load the NIC driver if no adapter shows; check the address:",
                ("wpeinit", "drvload X:\\drivers\\nic.inf", "ipconfig /all"),
            ),
            Step(
                "No DHCP: set a static address (name, IP, mask, gateway from ipconfig and the network plan):",
                ('netsh interface ip set address "Ethernet" static 10.0.0.50 255.255.255.0 10.0.0.1',),
            ),
            Step("Connect to the share by IP (net use asks for the password):", _net_use(inp)),
            Step(
                "GUI path: System Image Recovery > Select a system image > Advanced > Search for a system image "
                f"on the network > {share_of(inp.backup_target.text)} > computer {inp.machine.text} > "
                f"the point of {inp.backup_time_utc:%Y-%m-%d %H:%M} UTC."
            ),
            Step("Tick 'Format and repartition disks' only when the target disks may be wiped."),
            Step("Or the command line path:", tuple(c for c in commands if not c.startswith("REM")), RECREATE_WARNING),
        ),
    )


def _system_state(inp: RunbookInput, dc: bool) -> Section:
    commands = restore_commands(
        Restore(inp.backup_target.text, inp.machine.text, inp.version.text, inp.account.text, Purpose.SYSTEM_STATE, dc)
    )
    steps = [
        Step(
            "On the server (booted normally"
            + (", or in DSRM for a domain controller" if dc else "")
            + "), open an elevated command prompt."
        ),
        Step("Connect to the share by IP (net use asks for the password):", _net_use(inp)),
        Step(
            "Check the version is listed, then restore system state:",
            tuple(c for c in commands[3:] if not c.startswith("REM")),
        ),
        Step(
            "Or Windows Server Backup > Recover > A backup stored on another location > Remote shared folder "
            f"{inp.backup_target.text} > {inp.machine.text} > {inp.version.text} > System state."
        ),
    ]
    if inp.several_machines:
        steps.append(Step(f"Several computers share this folder: -machine:{inp.machine.text} is required."))
    return Section("5. System state recovery", tuple(steps))


def _roles(inp: RunbookInput, dc: bool) -> Section:
    steps: list[Step] = []
    if dc:
        steps += [
            Step(
                "Domain controller: boot into Directory Services Restore Mode before a system state restore:",
                ("bcdedit /set safeboot dsrepair", "shutdown /r /t 0"),
            ),
            Step("Log on as .\\Administrator with the DSRM password (write it nowhere)."),
            Step(
                "Add -authsysvol ONLY on the first domain controller restored in the domain; elsewhere it "
                "causes replication conflicts. After a BMR of a DC, SYSVOL needs its own authoritative restore."
            ),
            Step(
                "Object-level authoritative restore, while still in DSRM:",
                ("ntdsutil", "activate instance ntds", "authoritative restore"),
            ),
            Step("Leave DSRM after the restore:", ("bcdedit /deletevalue safeboot", "shutdown /r /t 0")),
            Step("Keep the restored DC off the production network until it is verified."),
        ]
    if "cluster-node" in inp.roles:
        steps.append(
            Step(
                "Cluster node: the cluster database restored here is superseded by the cluster's copy; "
                "rejoin the node and check the cluster's state."
            )
        )
    if "certificate-authority" in inp.roles:
        steps.append(
            Step(
                "Certificate authority: system state carries the CA database and certificate store; "
                "check that the CA service starts and publishes its CRL."
            )
        )
    other = [r for r in inp.roles if r not in ("domain-controller", "cluster-node", "certificate-authority")]
    if other:
        steps.append(Step(f"Other roles found ({', '.join(other)}): check each service after the restore."))
    if not steps:
        steps.append(Step("No special role found in the point's writers: nothing extra."))
    return Section("6. Role steps", tuple(steps))


def _after(inp: RunbookInput) -> Section:
    steps = [
        Step("Restart; log on; check the event log, services, the network and the server's roles."),
        Step("Disconnect the share:", (f"net use {share_of(inp.backup_target.text)} /delete",)),
    ]
    if inp.scenario == "server-lost-data-lost":
        steps.append(
            Step(
                "Recover the data volumes with a regular MABS/DPM recovery (this runbook restored the "
                "server, not its data)."
            )
        )
    steps.append(Step("Record the restore: date, version identifier, who did it, what was checked."))
    return Section("7. After the restore", tuple(steps))
