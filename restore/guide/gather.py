"""`bmr commands` and `bmr checklist`: renderings of one evaluated restore plan (:mod:`restore.plan`) as the
command lines and the runbook that the pure renderers in ``winre`` turn into text; nothing here decides anew."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from restore import __version__
from restore.checks.check import Check
from restore.checks.shareroot import suggested_share
from restore.outcome import Outcome
from restore.plan.evaluate import evaluate
from restore.plan.model import NotReady, Plan, PlanRequest, RestoreValues
from restore.tree.choose import Choice
from restore.tree.model import Inside, RecoveryPoint
from restore.tree.zones import point_zone
from share import errors
from share.connect import Access
from share.location import windows_host
from winre.runbook import CheckLine, Disk, ImageContents, PreflightSummary, RunbookInput, TargetHardware, Value
from winre.terms import Purpose, Scenario
from winre.wbadmin import Restore, backup_time_text, restore_commands, subfolder_of


class NotRestorable(errors.BmrError):
    """Choose another recovery point or purpose: `bmr inspect` shows what each point can recover."""


class InsideTheTree(errors.BmrError):
    """Share the folder that holds WindowsImageBackup and name that share: WinRE restores from no other."""


@dataclass(frozen=True)
class GuideRequest:
    """What `bmr commands` and `bmr checklist` were asked for: the plan's request, and --force."""

    plan: PlanRequest
    force: bool = False  # print the lines or the runbook even when the plan fails (headed by the failures)


def _ready(plan: Plan, force: bool) -> tuple[Choice, Purpose, RestoreValues]:
    """What a rendering needs, or the reason there is none: Unusable (3), NotReady (1; --force passes it when the
    values exist), NotRestorable (1)."""
    plan.require_ready(force)
    inside = next((c for c in plan.failing if c.id == "share-root" and "inside" in c.details), None)
    if inside is not None:  # --force cannot help: no -backupTarget and no wizard path can reach this tree
        what = Inside(str(inside.details["inside"]))
        raise InsideTheTree(
            f"{plan.location} is shared as {what.description}: wbadmin and the WinRE wizard find a recovery point "
            "only below a share whose root holds WindowsImageBackup, so no command line or runbook made here can "
            "work (--force cannot change that)",
            hint=f"on the file server, share the folder {what.levels_above} level(s) above this one (the folder "
            "that holds WindowsImageBackup) and give that share (the location, or --share-unc); -machine: is the "
            "computer folder's name",
        )
    if plan.choice is None or plan.purpose is None or plan.values is None:
        raise NotReady(
            "no restore can be rendered: " + ("; ".join(plan.banner) or "no computer and recovery point chosen"),
            hint="apply the fixes above, then run this again (bmr preflight shows every check)",
        )
    point = plan.choice.point
    if point.version is None or point.backup_time_utc is None:
        raise NotRestorable(f"{point.folder} has no version identifier (its folder name is not wbadmin's)")
    return plan.choice, plan.purpose, plan.values


def command_lines(plan: Plan, authoritative_sysvol: bool, *, force: bool = False) -> list[str]:
    """The net use and wbadmin lines; for a failing plan (with ``force``) headed by REM lines naming the failures,
    and for warnings (a DC point past the tombstone lifetime among them) by REM lines naming them."""
    choice, purpose, values = _ready(plan, force)
    point = choice.point
    restore = Restore(
        values.backup_target.text, choice.machine.name, point.version or "", values.account.text, purpose,
        "domain-controller" in point.roles, authoritative_sysvol, account_hint=values.account_hint,
    )  # fmt: skip
    try:
        lines = restore_commands(restore)
    except ValueError as exc:
        raise errors.UsageError(str(exc)) from None
    head = [f"REM bmr: warning: {line}" for line in plan.warnings]
    if plan.banner:
        head = ["REM bmr --force: these lines will not work until the failures below are fixed",
                *(f"REM {line}" for line in plan.banner), *head]  # fmt: skip
    return [*head, *lines]


def runbook_input(
    plan: Plan, location: str, scenario: Scenario | None, stage_command: str | None = None
) -> RunbookInput:
    """The runbook's values from a ready plan (see :func:`runbook_for`); its checks are the embedded preflight."""
    choice, purpose, g = _ready(plan, force=True)
    point, machine = choice.point, choice.machine
    assert point.backup_time_utc is not None and point.version is not None  # _ready refuses a point without them
    default = Scenario.OS_DAMAGED if purpose is Purpose.SYSTEM_STATE else Scenario.SERVER_LOST_DATA_INTACT
    summary = PreflightSummary(
        plan.status.value, plan.evaluated_at, tuple(CheckLine(c.id, c.status.value, c.message) for c in plan.checks)
    )
    holder = choice.tree.share_root
    made = plan.evaluated_at
    folder = subfolder_of(g.backup_target.text)
    wizard = None
    if folder is not None:  # the WinRE wizard needs the folder that holds WindowsImageBackup shared on its own
        name = suggested_share(folder.replace("\\", "/"))
        unc = f"\\\\{windows_host(g.server_ip.text)}\\{name}"
        wizard = Value(unc, f"a share to create on the file server for '{folder}'")
    return RunbookInput(
        location=location,
        machine=Value(machine.name, "the computer folder in WindowsImageBackup"),
        version=Value(point.version, f"the folder name '{point.folder}' (UTC)"),
        backup_time_utc=point.backup_time_utc,
        can_recover=point.can_recover,
        roles=point.roles,
        purpose=purpose,
        scenario=scenario or default,
        backup_target=g.backup_target,
        share_folder=Value(
            "this location's folder" if holder == "." else f"'{holder}' relative to this location",
            "where WindowsImageBackup was found",
        ),
        account=g.account,
        disks=tuple(Disk(v.access_path or v.label or "hidden volume", v.virtual_size) for v in point.volumes),
        contents=_contents(point, plan.checks),
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
class CommandLines:
    plan: Plan
    lines: tuple[str, ...]

    @property
    def outcome(self) -> Outcome:
        return self.plan.outcome

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def to_json(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "machine": plan.machine,
            "version": plan.version,
            "purpose": plan.purpose,
            "backup_target": plan.values.backup_target.text if plan.values else None,
            "lines": list(self.lines),
            "warnings": list(plan.warnings),
            "plan": plan.summary(),
        }


def commands_for(request: GuideRequest, access: Access, *, authoritative_sysvol: bool = False) -> CommandLines:
    """`bmr commands`: evaluate the plan and render its net use and wbadmin lines. Raises NotReady when the plan
    fails (unless ``request.force``: then REM lines head the output), Unusable when the location cannot be used."""
    plan = evaluate(request.plan, access)
    return CommandLines(plan, tuple(command_lines(plan, authoritative_sysvol, force=request.force)))


@dataclass(frozen=True)
class Checklist:
    runbook: RunbookInput
    plan: Plan

    @property
    def outcome(self) -> Outcome:
        return self.plan.outcome

    def to_json(self) -> dict[str, Any]:
        return {
            "machine": self.runbook.machine.text,
            "version": self.runbook.version.text,
            "purpose": self.runbook.purpose,
            "scenario": self.runbook.scenario,
            "preflight": self.plan.status.value,
            "blocking": list(self.runbook.blocking),
            "warnings": list(self.plan.warnings),
            "plan": self.plan.summary(),
        }


def checklist_for(request: GuideRequest, access: Access, scenario: Scenario | None) -> Checklist:
    """`bmr checklist`: evaluate the plan (with --deep, the contents check too) and render it as the runbook's
    values, its checks embedded. Raises NotReady when the plan fails, unless ``request.force``: the runbook then
    opens with the FAIL banner."""
    plan = evaluate(request.plan, access)
    return Checklist(runbook_for(plan, scenario, force=request.force), plan)


def runbook_for(
    plan: Plan, scenario: Scenario | None, *, force: bool, stage_command: str | None = None
) -> RunbookInput:
    """The runbook of a plan: for a failing one (with ``force``), opening with the FAIL banner."""
    _ready(plan, force)
    return replace(runbook_input(plan, plan.location, scenario, stage_command), blocking=plan.banner)


def _local_time(point: RecoveryPoint, made: datetime) -> Value | None:
    """ "Backup time" as the server's wbadmin prints it when the runbook is made; None when its zone is unknown."""
    zone = point_zone(point)
    if zone is None or point.backup_time_utc is None:
        return None
    return Value(backup_time_text(point.backup_time_utc, zone.zone, made), f"{zone.name}, {zone.source}")


def _contents(point: RecoveryPoint, checks: tuple[Check, ...] = ()) -> ImageContents | None:
    """What --deep read inside the images, as the runbook states it (with the boot chain, and the plan's hardware
    check when --target-hardware asked for one); None when the images were not read."""
    facts = point.contents
    if facts is None:
        return None
    chain = facts.boot_chain
    boot = None
    if chain is not None:
        broken = [f"{link.name}: {link.detail} (fix: {link.fix})" for link in chain.links if link.ok is False]
        boot = "; ".join(broken) if broken else chain.state
    hardware = None
    verdict = next((c.details.get("verdict") for c in checks if c.id == "hardware"), None)
    if isinstance(verdict, dict):
        hardware = TargetHardware(
            verdict["profile"], verdict["title"], verdict["status"], verdict["message"], tuple(verdict["fix"])
        )
    encrypted = tuple(
        image.access_path or image.image
        for image in facts.images
        for part in image.partitions
        if part.file_system is not None and part.file_system.kind == "bitlocker"
    )
    sizes = tuple(d.size for d in facts.target_disks)
    return ImageContents(facts.firmware, facts.install_media, sizes, encrypted, boot, hardware)
