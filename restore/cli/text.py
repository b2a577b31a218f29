"""Plain-text and JSON renderings for the terminal. Pure functions: strings in, strings out."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from restore.checks.check import Status, overall
from restore.tree.model import Severity
from restore.tree.zones import iana_of
from restore.units import human_bytes, human_seconds
from share import errors

if TYPE_CHECKING:  # named in annotations only: a command loads the results it renders, not every command's
    from restore.boottest.run import BootTest
    from restore.checks.check import Check
    from restore.checks.probe import ProbeResult
    from restore.drill.run import ServerResult
    from restore.plan.model import Plan
    from restore.staging.planner import StagePlan
    from restore.staging.stage import StageResult
    from restore.staging.verify import Verification
    from restore.tree.deep.bootchain import BootChain
    from restore.tree.deep.facts import DeepFacts
    from restore.tree.hardware import HardwareVerdict
    from restore.tree.model import Inspection, Problem, RecoveryPoint
    from share.base import SessionFacts


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _negotiated(facts: SessionFacts) -> list[tuple[str, str]]:
    """The algorithms the session agreed on, where the protocol names them (SSH: cipher, MAC, key exchange)."""
    named = (("Cipher", facts.cipher), ("MAC", facts.mac), ("Key exchange", facts.key_exchange),
             ("Signing algorithm", facts.signing_algorithm))  # fmt: skip
    return [(name, value) for name, value in named if value]


def format_probe(result: ProbeResult) -> str:
    facts = result.facts
    rows = [
        ("Location", result.location),
        ("Protocol", facts.protocol),
        ("Server address", facts.server_address or "-"),
        ("Port", str(facts.port) if facts.port else "-"),
        ("Dialect", facts.dialect or "-"),
        ("Signing", _yes_no(facts.signing)),
        ("Encryption", _yes_no(facts.encryption)),
        *_negotiated(facts),
        ("User", facts.user or "-"),
        ("Free", human_bytes(result.space.free) if result.space else "unknown"),
        ("Total", human_bytes(result.space.total) if result.space else "unknown"),
    ]
    if result.writable is None:
        rows.append(("Writable", "not tested (add --write-test)"))
    else:
        rows.append(("Writable", "yes" if result.writable else f"no: {result.write_error}"))
    rows += [("Warning", f"{c.message}\n  what to do: {c.fix}") for c in result.caveats]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k + ':':<{width + 1}} {v}" for k, v in rows)


def error_json(exc: errors.BmrError) -> dict[str, Any]:
    return {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint, "retryable": exc.retryable}


def format_error(exc: errors.BmrError) -> str:
    text = f"bmr: error: {exc.message}"
    if exc.hint:
        text += f"\n  what to do: {exc.hint}"
    return text


def _point_summary(point: RecoveryPoint) -> str:
    kinds = []
    if point.bare_metal:
        kinds.append("BMR")
    if point.system_state:
        kinds.append("system state")
    kind = " + ".join(kinds) or "volumes only"
    errors_ = len(point.errors)
    status = "OK" if point.ok else f"{errors_} error{'s' if errors_ != 1 else ''}"
    return f"{point.folder}   version {point.version or '?'}   {kind}   {human_bytes(point.size_bytes)}   {status}"


def _problem_lines(problems: tuple[Problem, ...], indent: str) -> list[str]:
    marks = {Severity.ERROR: "x", Severity.WARNING: "!"}
    return [f"{indent}{marks[p.severity]} {p.severity} {p.code}: {p.message}" for p in problems]


def _contents_lines(facts: DeepFacts, indent: str) -> list[str]:
    """What --deep read inside the images, in the words the restore needs."""
    windows = facts.windows
    lines = [
        f"{indent}inside the images: firmware {facts.firmware or 'unknown'}; media: {facts.install_media or 'unknown'}"
    ]
    if windows is not None:
        role = "domain controller" if windows.domain_controller else (windows.product_type or "unknown role")
        zone = windows.time_zone or "?"
        iana = iana_of(windows.time_zone)
        lines.append(f"{indent}  Windows: computer {windows.computer or '?'}, {role}, time zone {zone}")
        if iana is not None:  # what bmr versions --deep shows "Backup time" in
            lines[-1] += f" ({iana})"
    disks = ", ".join(f"{d.style} disk of {human_bytes(d.size)}" for d in facts.target_disks)
    lines.append(f"{indent}  target disks needed: {len(facts.target_disks)} ({disks or 'none found'})")
    for image in facts.images:
        parts = ", ".join(
            f"{p.partition.kind} {human_bytes(p.partition.size)}"
            + (f" {p.file_system.kind}" if p.file_system is not None else "")
            for p in image.partitions
        )
        lines.append(f"{indent}  {image.image}: {image.partition_style or '?'}: {parts or 'no partitions read'}")
    if facts.boot_chain is not None:
        lines += [f"{indent}  {line}" for line in boot_chain_lines(facts.boot_chain)]
    return lines


def boot_chain_lines(chain: BootChain) -> list[str]:
    """The boot chain, one line per link, with the fix under a broken one."""
    marks = {True: "ok", False: "BROKEN", None: "-"}
    lines = [f"boot chain: {chain.state}" + (f" (firmware {chain.firmware})" if chain.firmware else "")]
    for link in chain.links:
        lines.append(f"  {marks[link.ok]:<6} {link.name}: {link.detail}")
        if link.fix and link.ok is False:
            lines.append(f"         fix: {link.fix}")
    return lines


def hardware_lines(verdict: HardwareVerdict) -> list[str]:
    """The target-hardware verdict: profile, verdict, and the fix lines to type in WinRE."""
    lines = [f"target hardware: {verdict.profile} ({verdict.title}): {verdict.status.upper()}: {verdict.message}"]
    lines += [f"  {state.describe()}" for state in verdict.drivers]
    if verdict.fix:
        lines.append("  fix, in WinRE before the first boot:")
        lines += [f"    {line}" for line in verdict.fix]
    return lines


def format_inspection(result: Inspection) -> str:
    lines = [f"Location: {result.location}"]
    lines += _problem_lines(result.problems, "  ")
    for tree in result.trees:
        where = tree.relative_path if tree.inside is None else f"{tree.relative_path} (the location is inside it)"
        lines.append(f"  Tree: {where}   share root for a restore: {tree.share_root}")
        lines += _problem_lines(tree.problems, "    ")
        for machine in tree.machines:
            lines.append(f"    Computer: {machine.name}")
            lines += _problem_lines(machine.problems, "      ")
            for point in machine.recovery_points:
                lines.append(f"      {_point_summary(point)}")
                lines.append(f"        can recover: {', '.join(point.can_recover) or 'nothing'}")
                if point.roles:
                    lines.append(f"        roles it can restore: {', '.join(point.roles)}")
                if point.server_writers:
                    ran = ", ".join(name for _, name in point.server_writers)
                    roles = f" (roles: {', '.join(point.server_roles)})" if point.server_roles else ""
                    lines.append(f"        writers that ran on the server{roles}: {ran}")
                for vol in point.volumes:
                    name = vol.access_path or f"[{vol.label or 'hidden'}]"
                    if vol.image is None:
                        lines.append(f"        volume {name} - image missing")
                    else:
                        lines.append(
                            f"        volume {name} - {vol.format}, disk {human_bytes(vol.virtual_size)}, "
                            f"file {human_bytes(vol.size)}"
                        )
                if point.contents is not None:
                    lines += _contents_lines(point.contents, "        ")
                lines += _problem_lines(point.problems, "        ")
    verdict = "every recovery point found is complete" if result.ok else "NOT restorable as it stands (see above)"
    lines.append(f"Result: {verdict}")
    return "\n".join(lines)


_STATUS_STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "red", Status.SKIP: "bright_black"}


def format_checks(checks: tuple[Check, ...], style: Callable[[str, str], str]) -> str:
    """A table of checks; ``style(text, colour)`` adds colour (the CLI passes one that does so on terminals only)."""
    width = max((len(c.id) for c in checks), default=10)
    lines = []
    for check in checks:
        badge = style(f"{check.status.value.upper():<4}", _STATUS_STYLE[check.status])
        lines.append(f"  {badge}  {check.id:<{width}}  {check.message}")
        if check.fix and check.status in (Status.FAIL, Status.WARN):
            lines.append(f"  {'':4}  {'':<{width}}  fix: {check.fix}")
    return "\n".join(lines)


def format_preflight(result: Plan, style: Callable[[str, str], str]) -> str:
    head = [
        f"Preflight of {result.location}",
        f"  computer: {result.machine or '-'}   version: {result.version or '-'}",
        f"  -backupTarget: {result.backup_target or '(none works yet: see share-root)'}",
        "",
        format_checks(result.checks, style),
        "",
        f"Result: {style(result.status.value.upper(), _STATUS_STYLE[result.status])}",
    ]
    return "\n".join(head)


def format_stage(result: StageResult, style: Callable[[str, str], str]) -> str:
    # The rate of the copy alone: time spent comparing files already there is not copying.
    rate = result.bytes_copied / result.copy_seconds if result.copy_seconds > 0 else 0.0
    copy_rate = f"{human_bytes(int(rate))}/s" if result.bytes_copied else "- (nothing copied)"
    lines = [
        f"Staged {result.machine} version {result.version or '?'} to {result.backup_target}",
        f"  files: {len(result.files)}   total: {human_bytes(result.bytes_total)}   "
        f"copied: {human_bytes(result.bytes_copied)}   already there (verified): {human_bytes(result.bytes_reused)}",
        f"  elapsed: {human_seconds(result.seconds)}   copying: {human_seconds(result.copy_seconds)}   "
        f"copy rate: {copy_rate}" + (f"   streams: {result.streams}" if result.streams > 1 else ""),
        "  verification: "
        + ("every file read back and compared" if result.verified else "SKIPPED (--no-verify): sizes only"),
        f"  manifest: {result.manifest} (and SHA256SUMS beside it)",
    ]
    if result.replaced:
        lines.append(f"  replaced: {', '.join(result.replaced)}")
    lines += [
        "",
        format_checks(result.checks, style),
        "",
        f"Result: {style(overall(result.checks).value.upper(), _STATUS_STYLE[overall(result.checks)])}",
    ]
    return "\n".join(lines)


def format_plan(plan: StagePlan) -> str:
    words = {"copy": "copy", "resume": "resume (part there)", "compare": "compare (same size there)"}
    lines = [
        f"Dry run: staging {plan.machine} version {plan.version or '?'} to {plan.target} would",
        *(f"  {words[f.action]:<26} {human_bytes(f.size):>10}  {f.path}" for f in plan.files),
        f"  files: {len(plan.files)}   copy: {plan.count('copy')}   resume: {plan.count('resume')}   "
        f"compare and reuse if equal: {plan.count('compare')}",
        f"  bytes to write: at most {human_bytes(plan.bytes_to_write)} of {human_bytes(plan.bytes_total)}   "
        f"space needed: {human_bytes(plan.space_needed)}   "
        + (f"free: {human_bytes(plan.free)}" if plan.free is not None else f"free: unknown ({plan.free_note})"),
    ]
    if not plan.target_exists:
        lines.append("  the target folder does not exist yet: the run creates it (free space of the folder above it)")
    lines += [f"  replace (after the new copy verified): {p}" for p in plan.replaced]
    for refusal in plan.refusals:
        lines += [f"  REFUSED: {refusal.message}", f"    what to do: {refusal.hint}"]
    lines.append("Nothing was copied." + (" The real run would stop (see REFUSED)." if plan.refusals else ""))
    return "\n".join(lines)


def format_verification(result: Verification, style: Callable[[str, str], str]) -> str:
    lines = [
        f"Verified {result.location} against {' and '.join(result.proofs)}",
        f"  staged points checked: {', '.join(result.points) or 'none'}",
        f"  files read back: {result.checked}   bytes: {human_bytes(result.bytes_read)}   "
        f"missing: {len(result.missing)}   extra: {len(result.extra)}   differing: {len(result.differing)}",
    ]
    lines += [f"  missing:   {p}" for p in result.missing]
    lines += [f"  extra:     {p}" for p in result.extra]
    lines += [f"  differs:   {d.path} ({d.reason})" for d in result.differing]
    lines += [f"  SHA256SUMS and the manifest disagree on: {p}" for p in result.disagreements]
    status = overall(result.checks)
    lines += [
        "",
        format_checks(result.checks, style),
        "",
        f"Result: {style(status.value.upper(), _STATUS_STYLE[status])}",
    ]
    return "\n".join(lines)


def format_drill(results: list[ServerResult], style: Callable[[str, str], str]) -> str:
    """One row per server (status, name, purpose, location, version), then the first failing check (or, for a
    server that passed with warnings, the first warning) with its message; the report holds the rest."""
    rows = [(r.entry.name, str(r.entry.purpose), r.entry.location.display(), r.version or "-") for r in results]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
    lines = []
    for r, row in zip(results, rows, strict=True):
        badge = style(f"{r.status.value.upper():<4}", _STATUS_STYLE[r.status])
        cells = "  ".join(f"{cell:<{width}}" for cell, width in zip(row, widths, strict=False))
        lines.append(f"  {badge}  {cells}  {row[3]}".rstrip())
        problems = [c for c in r.checks if c.status is r.status and r.status in (Status.FAIL, Status.WARN)]
        if problems:
            first = problems[0]
            label = "failing" if r.status is Status.FAIL else "warning"
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            lines.append(f"        {label}: {first.id}: {first.message}{more}")
    counts = {s: sum(1 for r in results if r.status is s) for s in (Status.PASS, Status.WARN, Status.FAIL)}
    lines.append(
        f"{len(results)} servers: {counts[Status.PASS]} pass, {counts[Status.WARN]} warn, {counts[Status.FAIL]} fail"
    )
    return "\n".join(lines)


def format_boot_test(result: BootTest) -> str:
    """What the boot test saw: the stage, its evidence, how it ran."""
    from restore.boottest.stages import STAGE_MEANING

    run = result.run
    lines = [
        f"Boot test of {result.machine} {result.version or ''} ({result.image}"
        + (", staged locally)" if result.staged else ")"),
        f"  firmware {result.firmware}, disk on {result.controller}, {result.accelerator.upper()} "
        f"({result.accelerator_reason}), {run.seconds:.1f} s, stopped: {run.stopped}",
        f"  reached: {run.stage}: {STAGE_MEANING[run.stage]}",
    ]
    lines += [f"    {s.source}: {s.stage}: {s.evidence}" for s in run.sightings]
    if result.evidence_dir:
        lines.append(
            f"  evidence: {result.evidence_dir} ({len(run.screenshots)} screenshots, serial.log, firmware.log)"
        )
    lines += [f"  note: {note}" for note in (*result.notes, *run.notes)]
    lines.append(f"Result: {result.verdict}")
    return "\n".join(lines)
