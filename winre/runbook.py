"""The printable restore runbook: sections of tick-box steps built from plain values. Pure functions.

``build_runbook`` decides what the person restoring must do, in order; ``winre.formats`` lays it out as
Markdown, plain text, HTML or PDF. Every value carries where it came from, every step the public sources
it rests on (``winre.references``; numbered in the text, listed in the last section). No secret is ever an
input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from winre.errorcodes import CRITICAL_DISK_RULE, ERROR_CODES
from winre.references import reference
from winre.terms import TOMBSTONE_DAYS as TOMBSTONE_DAYS
from winre.terms import Purpose as Purpose
from winre.terms import Scenario as Scenario
from winre.wbadmin import RECREATE_WARNING, Restore, account_lines, restore_commands, share_of, subfolder_of

REFERENCES_TITLE = "References"
LOCAL_TIME_LABEL = "Backup time (as wbadmin prints it now)"


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
class ImageContents:
    """What reading inside the point's images said the target machine needs (bmr inspect --deep)."""

    firmware: str | None  # UEFI or BIOS; None when the images did not tell
    install_media: str | None  # e.g. "Windows Server 2019 Standard, build 17763, x64, UEFI"
    disk_sizes: tuple[int, ...]  # one per source disk the critical volumes came from: each target disk at least this
    encrypted: tuple[str, ...] = ()  # volumes found BitLocker-encrypted
    boot_chain: str | None = None  # "complete", or the broken links with their fixes (bmr's boot-chain reading)
    hardware: TargetHardware | None = None  # the --target-hardware verdict


@dataclass(frozen=True)
class TargetHardware:
    """Whether the restored Windows will find its boot disk on the target (checklist --target-hardware)."""

    profile: str
    title: str
    verdict: str  # pass, warn, fail
    message: str
    fix: tuple[str, ...]  # WinRE commands, in order, before the first boot


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
    # Failing preflight checks, each with its fix, when the runbook was made anyway (--force): a FAIL banner
    # opens the runbook in every format.
    blocking: tuple[str, ...] = ()
    # Age of the point in days; None: from generated_at - backup_time_utc.
    age_days: int | None = None
    # The share to create for the WinRE wizard when backup_target names a folder below a share
    # (\\ip\newshare, whose root holds WindowsImageBackup); None: the runbook suggests a name.
    wizard_share: Value | None = None
    # NetBIOS name that owns a bare account name (no '\' and no '@'): the file server's for its local account,
    # or the domain's. None: the runbook says what to type.
    account_hint: str | None = None
    # Non-critical (data) volumes the point holds; None: the drive letters among disks other than C:.
    data_volumes: tuple[str, ...] | None = None
    # Read inside the images (bmr inspect --deep / checklist --deep): firmware, disks and media stated as facts.
    contents: ImageContents | None = None
    # "Backup time" as wbadmin prints it when the runbook is made (the zone's offset in force then), e.g.
    # Value("9/21/2020 3:00 PM", "America/Los_Angeles, the server's SYSTEM hive"); None: not shown.
    backup_time_local: Value | None = None
    # The restore-time estimate with what it rests on ("at 110.0 MiB/s, 2.0 TiB restores in about 5 h 30 min (based
    # on ...)"), from a drill; None: not estimated.
    restore_estimate: str | None = None


@dataclass(frozen=True)
class Step:
    text: str
    code: tuple[str, ...] = ()
    note: str | None = None
    refs: tuple[str, ...] = ()  # keys of winre.references.REFERENCES this step rests on


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


def age_days(inp: RunbookInput) -> int:
    """How old the point is, in whole days, when the runbook was made."""
    if inp.age_days is not None:
        return inp.age_days
    return max(0, (inp.generated_at - inp.backup_time_utc).days)


def data_volumes(inp: RunbookInput) -> tuple[str, ...]:
    """The point's non-critical volumes: given, or (inferred) its drive letters other than C:."""
    if inp.data_volumes is not None:
        return inp.data_volumes
    return tuple(d.name for d in inp.disks if re.fullmatch(r"[A-Za-z]:", d.name) and d.name.upper() != "C:")


def wizard_share(inp: RunbookInput) -> str:
    """The path to give the WinRE wizard: the backup target when it is a share root, else the share to create."""
    if subfolder_of(inp.backup_target.text) is None:
        return inp.backup_target.text
    if inp.wizard_share is not None:
        return inp.wizard_share.text
    return f"{share_of(inp.backup_target.text).rsplit(chr(92), 1)[0]}\\{inp.machine.text}-restore"


def restore_of(inp: RunbookInput, purpose: Purpose) -> Restore:
    dc = "domain-controller" in inp.roles
    return Restore(
        inp.backup_target.text, inp.machine.text, inp.version.text, inp.account.text, purpose, dc,
        scenario=inp.scenario, account_hint=inp.account_hint, restore_all_volumes=bool(data_volumes(inp)),
    )  # fmt: skip


def build_runbook(inp: RunbookInput) -> tuple[Section, ...]:
    """The sections, numbered, each step's sources as [n], the references last."""
    dc = "domain-controller" in inp.roles
    sections: list[Section] = [_which_path(inp, dc), _backup_server(inp), _share(inp), _target_machine(inp, dc)]
    if inp.purpose == "bmr":
        sections.append(_winre(inp, dc))
    else:
        if dc:  # DSRM comes first: the restore runs inside it
            sections.append(_dsrm(inp))
        sections.append(_system_state(inp, dc))
    sections += [_roles(inp, dc), _after(inp)]
    if inp.purpose == "bmr":
        sections.append(_error_codes())
    return _numbered(sections)


def _numbered(sections: list[Section]) -> tuple[Section, ...]:
    """Number the sections, turn each step's reference keys into [n], and add the list of references."""
    order: list[str] = []

    def marks(refs: tuple[str, ...]) -> str:
        for key in refs:
            reference(key)  # an unknown source is a programming error
            if key not in order:
                order.append(key)
        return f" [{', '.join(str(order.index(k) + 1) for k in refs)}]" if refs else ""

    out: list[Section] = []
    for number, section in enumerate(sections, start=1):
        steps = tuple(replace(s, text=s.text + marks(s.refs)) for s in section.steps)
        facts = tuple((label, value + marks(_FACT_REFS.get(label, ()))) for label, value in section.facts)
        out.append(replace(section, title=f"{number}. {section.title}", steps=steps, facts=facts))
    listed = tuple((f"[{n}]", reference(key)) for n, key in enumerate(order, start=1))
    out.append(Section(f"{len(sections) + 1}. {REFERENCES_TITLE}", (), facts=listed))
    return tuple(out)


# Facts that state a rule carry their sources here (by label), the values only say where they came from.
_FACT_REFS: dict[str, tuple[str, ...]] = {
    **{code.code: code.refs for code in ERROR_CODES},
    LOCAL_TIME_LABEL: ("blackfield-2024", "filetime-local", "cldr-windowszones"),
}


def _which_path(inp: RunbookInput, dc: bool) -> Section:
    age = age_days(inp)
    steps: list[Step] = []
    if dc and age > TOMBSTONE_DAYS:
        # source: Carbonite, citing Microsoft's "useful shelf life of a system-state backup"
        steps.append(
            Step(
                f"WARN: this point is {age} days old, older than the tombstone lifetime ({TOMBSTONE_DAYS} days; "
                "60 on forests created before Windows Server 2003 SP1). A domain controller restored from it "
                "cannot be used: choose a newer point.",
                refs=("carbonite-dc",),
            )
        )
    steps += [
        Step(f"Confirm the path: {path_for(inp)}.", refs=("mabs-bmr",)),  # source: the seed's recovery matrix
        Step(
            f"Confirm the point can do it: it can recover {', '.join(inp.can_recover) or 'nothing'}.",
            refs=("blackfield",),  # source: wbadmin get versions' "Can recover" line
        ),
        Step(
            "Lost file data, SharePoint items, VMs or application data alone: use a regular MABS recovery "
            "instead; SharePoint disaster recovery is none of these paths.",
            refs=("mabs-bmr",),
        ),
    ]
    return Section(
        "Which path",
        tuple(steps),
        facts=(
            ("Computer", _with_source(inp.machine)),
            ("Version identifier (UTC)", _with_source(inp.version)),
            ("Backup time (UTC)", inp.backup_time_utc.strftime("%Y-%m-%d %H:%M:%S")),
            *_local_time(inp),
            ("Age of the point", f"{age} days on {inp.generated_at:%Y-%m-%d}"),
            ("Roles", ", ".join(inp.roles) or "none the point can restore (from: what BackupSpecs.xml says it holds)"),
            ("Scenario", inp.scenario),
            *((("Estimated restore time", inp.restore_estimate),) if inp.restore_estimate else ()),
        ),
    )


def _local_time(inp: RunbookInput) -> tuple[tuple[str, str], ...]:
    """wbadmin's "Backup time" on the day the runbook is made: it moves by an hour across a daylight-saving change."""
    if inp.backup_time_local is None:
        return ()
    value = inp.backup_time_local
    return (
        (
            LOCAL_TIME_LABEL,
            f"{value.text} (from: {value.source}; wbadmin uses the offset in force when it runs, so this moves by an "
            "hour across a daylight-saving change; the version identifier never does)",
        ),
    )


def _backup_server(inp: RunbookInput) -> Section:
    # source: the seed (MABS): Recovery > Bare Metal Recovery > Copy to a network folder
    steps = [
        Step(
            "In the MABS/DPM console: Recovery > browse to the protected server > Bare Metal Recovery "
            "(or System State).",
            refs=("mabs-bmr",),
        ),
        Step(
            f"Pick the recovery point of {inp.backup_time_utc:%Y-%m-%d %H:%M} UTC (the console shows local time).",
            refs=("blackfield",),  # source: the folder name is UTC, "Backup time" is local
        ),
        Step(
            "Choose 'Copy to a network folder' and give the destination folder on the file server.", refs=("mabs-bmr",)
        ),
    ]
    if inp.stage_command:
        steps.append(Step("Or copy and verify the exported point with bmr:", (inp.stage_command,), refs=("bmr",)))
    steps.append(
        Step("Keep the copy's SHA256SUMS and bmr-manifest.json with the point; they prove it is whole.", refs=("bmr",))
    )
    return Section("On the backup server", tuple(steps))


def _share(inp: RunbookInput) -> Section:
    target = inp.backup_target.text
    steps = [
        # source: the seed: "Share the folder above WindowsImageBackup ... If it isn't restore won't find the backup"
        Step(
            f"The share root must be the folder that holds WindowsImageBackup: {_with_source(inp.share_folder)}.",
            refs=("mabs-bmr",),
        ),
    ]
    folder = subfolder_of(target)
    if folder is not None:
        wizard = wizard_share(inp)
        given = f" (from: {inp.wizard_share.source})" if inp.wizard_share is not None else " (a suggested name)"
        # source: wbadmin takes a deep sub-folder as -backupTarget (Blackfield); the wizard needs a share root (seed)
        steps.append(
            Step(
                f"The point sits in the folder {folder} below the share {share_of(target)}. The wbadmin lines use "
                f"it as it is (-backupTarget:{target}); the WinRE wizard finds images only at the root of a "
                f"share: share that folder on its own as {wizard}{given} for the wizard.",
                refs=("mabs-bmr", "blackfield"),
            )
        )
    # source: AD forest recovery (full server recovery): the share may be given by the server's IP address
    steps.append(
        Step(
            f"Share path for net use, by IP address (WinRE often has no DNS): {share_of(target)}",
            refs=("forest-full",),
        )
    )
    _, rem = account_lines(inp.account.text, inp.account_hint)
    if rem:
        steps.append(Step(f"Account: {rem[0].removeprefix('REM ')}", refs=("net-use",)))
    else:
        steps.append(Step(f"Account in DOMAIN\\user form: {_with_source(inp.account)}", refs=("net-use",)))
    steps += [
        Step("Password: ______________________ (written by hand, shredded after the restore)"),
        Step(
            "SMB 2 or 3 (Windows negotiates 2.0.2 to 3.1.1; SMB1 is gone); no guest or anonymous access "
            "(WinRE refuses insecure guest logons).",
            refs=("smb-dialects",),
        ),
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
                refs=("bmr",),
            ),
        )
    else:
        steps.append(
            Step("Run bmr preflight against the share before the restore (no result embedded here).", refs=("bmr",))
        )
    facts = [("-backupTarget", _with_source(inp.backup_target))]
    if folder is not None:
        facts.append(("WinRE wizard path", wizard_share(inp)))
    return Section("Share set-up", tuple(steps), facts=tuple(facts))


_FIRST_DC = Step(
    "Domain controller: if it is the first DC restored in the domain (no other DC is left), restore it on an "
    "isolated network that holds only the file server (cable off the production network, or a separate virtual "
    "switch) and keep it there until it is verified; with other DCs running, it replicates from them.",
    refs=("forest-initial", "betahydri"),
)


def _boot_steps(contents: ImageContents) -> tuple[Step, ...]:
    """The boot chain read offline and the target-hardware verdict, with the fix lines to type in WinRE."""
    steps = []
    if contents.boot_chain is not None:
        steps.append(Step(f"Boot chain in the backup: {contents.boot_chain}.", refs=("bmr-deep",)))
    hw = contents.hardware
    if hw is not None:
        text = f"Target hardware: {hw.profile} ({hw.title}): {hw.verdict.upper()}: {hw.message}."
        if hw.fix:
            text += " Before the first boot, from the WinRE command prompt:"
        steps.append(Step(text, code=hw.fix, refs=("bmr-deep",)))
    return tuple(steps)


def _measured_target(contents: ImageContents) -> tuple[Step, ...]:
    """Disks, firmware and media as read inside the images, each with where it came from."""
    # source: bmr's own reading of the images ("bmr-deep"); the error codes: vsserror.h texts (evidence.md)
    count = len(contents.disk_sizes)
    sizes = ", ".join(_size(size) for size in contents.disk_sizes) or "unknown"
    steps = [
        Step(
            f"Disks: at least {count} basic disk{'s' if count != 1 else ''}, each at least as large as the "
            f"original ({sizes}). Too few or too small: 0x80042401 / 0x80042407 / 0x80042408.",
            refs=("bmr-deep", "vsserror"),
        ),
        Step(
            f"Firmware: {contents.firmware or 'not found in the images: use the original mode'} "
            "(the critical disk's partition table says it); a restore across BIOS and UEFI fails.",
            refs=("bmr-deep", "testmybackups"),
        ),
        Step(
            f"Boot media: {contents.install_media or 'not found in the images: the same Windows version as the server'}"
            ", for WinRE.",
            refs=("bmr-deep", "mabs-bmr"),
        ),
        *_boot_steps(contents),
    ]
    if contents.encrypted:
        steps.append(
            Step(
                f"BitLocker: {', '.join(contents.encrypted)} is encrypted in the backup: have the recovery key.",
                refs=("bmr-deep", "simplified-guide"),
            )
        )
    return tuple(steps)


def _target_machine(inp: RunbookInput, dc: bool) -> Section:
    if inp.purpose == "systemstate":
        # source: the seed: system state recovers a machine that starts but has lost system files and registry
        steps = [
            Step(
                "System state goes back onto this server's own Windows installation: the server must start "
                + ("(normally, or in Directory Services Restore Mode)" if dc else "Windows")
                + ". A server that does not start needs the bare metal path.",
                refs=("mabs-bmr",),
            )
        ]
        return Section("Target machine", (*steps, _FIRST_DC) if dc else tuple(steps))
    volumes = "; ".join(f"{d.name} {_size(d.virtual_size)}" for d in inp.disks) or "unknown"
    total = sum(d.virtual_size or 0 for d in inp.disks)
    disks = Step(
        f"Disks: at least as many as the original had for these volumes, each at least as large "
        f"(volumes: {volumes}; {_size(total)} in all). Too few or too small: 0x80042401 / 0x80042408.",
        refs=("forest-full", "vsserror"),
    )
    firmware = Step(
        "Firmware: the same mode as the original (BIOS or UEFI); a restore across them fails.",
        refs=("testmybackups",),
    )
    media = Step("Windows installation media of the same version as the server, for WinRE.", refs=("forest-full",))
    basic = Step(
        "Basic disks only (dynamic disks break BMR); BitLocker on the target disks may ask for the "
        "recovery key: have it at hand.",
        refs=("simplified-guide",),
    )
    drivers = Step(
        "Bring the NIC and storage drivers (.inf) for WinRE on a USB stick; a missing storage driver "
        "shows as 0x80042413 (no fixed disk found).",
        refs=("vsserror",),
    )
    network = Step(
        "Wired network only, no NIC teaming. A VMware guest: WinRE may lack the VMXNET3 driver; give the "
        "VM an E1000 adapter for the restore.",
        refs=("betahydri",),
    )
    if inp.contents is not None:  # measured inside the images: stated as facts, with their source
        steps = [*_measured_target(inp.contents), basic, drivers, network]
    else:
        steps = [disks, firmware, basic, drivers, media, network]
    if dc:
        steps.append(_FIRST_DC)  # source: AD forest recovery, initial recovery step 1; BetaHydri/ADRecovery
    return Section("Target machine", tuple(steps))


def _net_use(inp: RunbookInput) -> tuple[str, ...]:
    account, _ = account_lines(inp.account.text, inp.account_hint)
    return (f"net use {share_of(inp.backup_target.text)} /user:{account} *",)


def _winre(inp: RunbookInput, dc: bool) -> Section:
    commands = restore_commands(restore_of(inp, Purpose.BMR))
    keep = inp.scenario != "server-lost-data-lost"
    steps = [
        Step("Boot the Windows media > Repair your computer > Troubleshoot > Command Prompt.", refs=("forest-full",)),
        # source: SergeCaron/SetUpOEMRecovery: X: is WinRE's RAM disk; the stick has another letter
        Step(
            "Start networking, then find the USB stick's drive letter (X: is WinRE's RAM disk, not the stick): "
            "mountvol lists the volumes, wmic shows each letter's kind, dir shows what is on one.",
            ("wpeinit", "mountvol", "wmic logicaldisk get caption,description,volumename", "dir D:\\"),
            refs=("forest-full", "sergecaron"),
        ),
        Step(
            "Load the drivers from the stick's letter (D: here: use the one you found), then check the address:",
            ("drvload D:\\drivers\\nic.inf", "drvload D:\\drivers\\storage.inf", "ipconfig /all"),
            refs=("sergecaron",),
        ),
        # source: vsserror.h 0x80042412; a real restore fixed by booting without the USB disk
        Step(
            "Detach every USB disk now, the driver stick too (drivers stay loaded): WinRE may take a USB disk "
            "for the system disk (0x80042412).",
            refs=("vsserror", "usb-0x80042412"),
        ),
        # source: a localized WinRE names the NIC otherwise than "Ethernet": list the interfaces, use the index
        Step(
            "No DHCP: list the interfaces first and note the Idx of the wired NIC (a localized WinRE names it "
            "differently), then set a static address by that index: replace NIC_INDEX by it, and the IP, mask "
            "and gateway by the network plan's:",
            (
                "netsh interface ipv4 show interface",
                "netsh interface ipv4 set address NIC_INDEX static 10.0.0.50 255.255.255.0 10.0.0.1",
            ),
            refs=("forest-full", "jp-0x8007001f"),
        ),
        Step("Connect to the share by IP (net use asks for the password):", _net_use(inp), refs=("net-use",)),
        # source: SergeCaron (WinPE's clock zone is Pacific); Blackfield (the identifier is the UTC folder time)
        Step(
            f"Pick the point by its version identifier {inp.version.text} (UTC). WinPE's clock is on Pacific "
            "time by default: the times WinRE shows are neither UTC nor the server's.",
            refs=("sergecaron", "blackfield"),
        ),
        Step(
            "GUI path: System Image Recovery. The wizard first says it cannot find a system image on this "
            "computer: Cancel that notice, then Select a system image > Advanced > Search for a system image "
            f"on the network > {wizard_share(inp)} > computer {inp.machine.text} > the point {inp.version.text}.",
            refs=("mabs-bmr", "forest-full", "server2008-bmr", "pipeit-0x8007001f"),
        ),
    ]
    if keep:
        steps.append(
            Step(
                "Data disks must survive: tick 'Format and repartition disks' only together with 'Exclude disks' "
                "for every disk that holds data; leave it unticked when the system disk keeps its partitions. "
                f"Exclude only data disks: {CRITICAL_DISK_RULE}.",
                refs=("wbadmin-sysrecovery", "forest-full", "vsserror"),
            )
        )
    else:
        steps.append(
            Step(
                "The data volumes are lost: tick 'Format and repartition disks'"
                + (" and restore all volumes the point holds." if data_volumes(inp) else "."),
                refs=("wbadmin-sysrecovery", "forest-full"),
            )
        )
    if dc:
        steps.append(
            Step(
                "Advanced: untick 'Automatically restart' (and check the result before the DC first boots).",
                refs=("forest-full",),
            )
        )
    steps += [
        Step(
            "If the wizard fails (0x8007001F: a known issue of Windows 10 / Server 2019 WinRE with network images, "
            "on physical machines too), use the command lines below instead: they work.",
            refs=("pipeit-0x8007001f", "jp-0x8007001f"),
        ),
        Step(
            "Command line path (REM lines say what to fill in):",
            tuple(commands),
            RECREATE_WARNING,
            refs=("wbadmin-get-disks", "wbadmin-sysrecovery", "vsserror"),
        ),
    ]
    return Section("WinRE: bare metal recovery", tuple(steps))


def _dsrm(inp: RunbookInput) -> Section:
    # source: azure-docs restore-system-state, Redmondmag, Carbonite: DSRM first, then the restore
    dsrm = ("azure-systemstate", "redmondmag-dsrm", "carbonite-dc")
    return Section(
        "Directory Services Restore Mode (first)",
        (
            Step(
                "Domain controller: boot into Directory Services Restore Mode before the system state restore:",
                ("bcdedit /set safeboot dsrepair", "shutdown /r /t 0"),
                refs=dsrm,
            ),
            Step("Log on as .\\Administrator with the DSRM password (write it nowhere).", refs=dsrm),
        ),
    )


def _system_state(inp: RunbookInput, dc: bool) -> Section:
    commands = restore_commands(restore_of(inp, Purpose.SYSTEM_STATE))
    steps = [
        Step(
            ("In Directory Services Restore Mode" if dc else "On the server (booted normally)")
            + ", open an elevated command prompt."
        ),
        Step("Connect to the share by IP (net use asks for the password):", _net_use(inp), refs=("net-use",)),
    ]
    if dc:
        # source: AD forest recovery (initial recovery): authoritative SYSVOL only on the first DC
        steps.append(
            Step(
                "Add -authsysvol to the restore line ONLY on the first domain controller restored in the domain; "
                "elsewhere it causes replication conflicts.",
                refs=("forest-initial", "forest-sysvol"),
            )
        )
    steps += [
        Step(
            "Check the version is listed, then restore system state:",
            tuple(c for c in commands if c.startswith("wbadmin")),
            refs=("wbadmin-systemstaterecovery",),
        ),
        Step(
            "Or Windows Server Backup > Recover > A backup stored on another location > Remote shared folder "
            f"{inp.backup_target.text} > {inp.machine.text} > {inp.version.text} > System state.",
            refs=("mabs-bmr",),
        ),
    ]
    if inp.several_machines:
        steps.append(
            Step(
                f"Several computers share this folder: -machine:{inp.machine.text} is required.",
                refs=("wbadmin-systemstaterecovery",),
            )
        )
    if dc:
        steps += [
            Step(
                "Object-level authoritative restore, while still in DSRM:",
                ("ntdsutil", "activate instance ntds", "authoritative restore"),
                refs=("ntdsutil",),
            ),
            Step(
                "Leave DSRM after the restore:",
                ("bcdedit /deletevalue safeboot", "shutdown /r /t 0"),
                refs=("azure-systemstate",),
            ),
        ]
    return Section("System state recovery" + (" (in DSRM)" if dc else ""), tuple(steps))


def _roles(inp: RunbookInput, dc: bool) -> Section:
    steps: list[Step] = []
    if dc and inp.purpose == "bmr":
        steps += [
            Step(
                "First DC restored in the domain: keep it off the production network until it is verified.",
                refs=("forest-initial", "betahydri"),
            ),
            # source: AD forest recovery: after a full server recovery, SYSVOL needs an authoritative sync
            Step(
                "First DC restored in the domain only: make SYSVOL authoritative. Active Directory Users and "
                "Computers > View > Advanced Features (and Users, Contacts, Groups, and Computers as containers) "
                f"> Domain Controllers > {inp.machine.text} > DFSR-LocalSettings > Domain System Volume > "
                "SYSVOL Subscription > Properties > Attribute Editor > msDFSR-Options = 1. On any other DC, "
                "do not: it causes replication conflicts.",
                refs=("forest-sysvol", "forest-full", "betahydri"),
            ),
        ]
    if "cluster-node" in inp.roles:
        steps.append(
            Step(
                "Cluster node: the cluster database restored here is superseded by the cluster's copy "
                "(inferred); rejoin the node and check the cluster's state."
            )
        )
    if "certificate-authority" in inp.roles:
        steps.append(
            Step(
                "Certificate authority: system state carries the CA database and certificate store; "
                "check that the CA service starts and publishes its CRL.",
                refs=("mabs-bmr",),
            )
        )
    other = [r for r in inp.roles if r not in ("domain-controller", "cluster-node", "certificate-authority")]
    if other:
        steps.append(Step(f"Other roles found ({', '.join(other)}): check each service after the restore."))
    if not steps and inp.roles:  # the roles' steps sit in the sections above (DSRM, -authsysvol)
        steps.append(Step(f"Roles of this point ({', '.join(inp.roles)}): their steps are in the sections above."))
    elif not steps:
        steps.append(Step("No special role among what the point holds: nothing extra."))
    return Section("Role steps", tuple(steps))


def _after(inp: RunbookInput) -> Section:
    steps = [
        Step("Restart; log on; check the event log, services, the network and the server's roles."),
        Step("Disconnect the share:", (f"net use {share_of(inp.backup_target.text)} /delete",), refs=("net-use",)),
    ]
    if inp.scenario == "server-lost-data-lost":
        steps.append(
            Step(
                "Recover the data volumes with a regular MABS/DPM recovery (this runbook restored the "
                "server, not its data).",
                refs=("mabs-bmr",),
            )
        )
    if inp.purpose == "bmr" and _may_need_catalog_reset(inp):
        steps.append(
            Step(
                "Windows Server 2012 / 2012 R2 restored on UEFI: if Windows Server Backup will not start, delete "
                "its catalog (the backups themselves stay; the next backup starts a new catalog), then start it "
                "again:",
                ("wbadmin delete catalog",),
                refs=("kb2961238",),
            )
        )
    steps.append(Step("Record the restore: date, version identifier, who did it, what was checked."))
    return Section("After the restore", tuple(steps))


def _may_need_catalog_reset(inp: RunbookInput) -> bool:
    """KB 2961238 hits 2012 / 2012 R2 on UEFI: shown unless the images say another version or BIOS."""
    contents = inp.contents
    if contents is None:
        return True
    if contents.firmware is not None and contents.firmware != "UEFI":
        return False
    return contents.install_media is None or "2012" in contents.install_media


def _error_codes() -> Section:
    return Section(
        "If the restore fails",
        (),
        intro="What each code means and what to do (the cause as Windows' error texts give it):",
        facts=tuple((code.code, f"{code.cause}. Do: {code.action}.") for code in ERROR_CODES),
    )
