"""`bmr boot-test`: boot the chosen point's system disk under QEMU through a copy-on-write overlay, and classify
what it reached. The point is never written: QEMU opens its image only as the overlay's read-only backing file."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from restore.boottest.machine import CONTROLLERS, PROFILE_CONTROLLER, RunResult, RunSpec, run_machine
from restore.boottest.stages import STAGE_MEANING
from restore.boottest.tools import find_tools, kvm_usable
from restore.outcome import Outcome
from restore.tree.choose import choose_machine, choose_point
from restore.tree.find import DEFAULT_DEPTH, inspect_location
from restore.tree.hardware import PROFILES
from share import errors, paths
from share.connect import Access, open_backend
from share.location import Location

MAX_TIMEOUT = 3600.0


class ToolsMissing(errors.BmrError):
    """Install them (Debian/Ubuntu: apt-get install qemu-system-x86 qemu-utils ovmf) and run again."""


@dataclass(frozen=True)
class BootTestRequest:
    location: Location
    machine: str | None = None
    version: str | None = None
    target_hardware: str | None = None
    timeout: float = 300.0
    interval: float = 5.0
    evidence_dir: Path | None = None  # user-named: screenshots (PNG), serial and firmware logs, result.json
    memory_mib: int = 2048
    depth: int = DEFAULT_DEPTH
    accelerator: str = "auto"  # auto (KVM when usable, else TCG), kvm, tcg


@dataclass(frozen=True)
class BootTest:
    location: str
    machine: str
    version: str | None
    image: str
    staged: bool  # the image was copied to a local temporary folder first (a point on SMB/SFTP)
    firmware: str
    controller: str
    accelerator: str  # kvm or tcg
    accelerator_reason: str
    target_hardware: str | None
    run: RunResult
    evidence_dir: str | None
    notes: tuple[str, ...] = field(default=())

    @property
    def verdict(self) -> str:
        if self.run.stage == "logon-screen":
            return "boots"
        if self.run.stage in ("firmware", "loader-started", "no-output") and self.run.stopped == "timeout":
            return "inconclusive"
        return "does-not-boot"

    @property
    def outcome(self) -> Outcome:
        return Outcome.OK if self.verdict == "boots" else Outcome.FAILED

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "machine": self.machine,
            "version": self.version,
            "image": self.image,
            "staged": self.staged,
            "firmware": self.firmware,
            "controller": self.controller,
            "accelerator": self.accelerator,
            "accelerator_reason": self.accelerator_reason,
            "target_hardware": self.target_hardware,
            "verdict": self.verdict,
            "stage": self.run.stage,
            "meaning": STAGE_MEANING[self.run.stage],
            "run": self.run.to_json(),
            "evidence_dir": self.evidence_dir,
            "notes": list(self.notes),
        }


def boot_test_at(
    request: BootTestRequest, access: Access, tick: Callable[[float, str], None] | None = None
) -> BootTest:
    """Choose the point, read inside it, build the overlay, boot it; raises ToolsMissing before connecting."""
    from restore.boottest.disk import local_image, make_overlay, merge_region, plan_disk
    from restore.tree.contents import point_with_contents  # the image readers load only when asked for

    tools, missing = find_tools()
    if tools is None:
        raise ToolsMissing(f"a boot test needs QEMU; missing: {', '.join(missing)}")
    if not 0 < request.timeout <= MAX_TIMEOUT:
        raise errors.UsageError(f"--timeout must be between 1 and {MAX_TIMEOUT:g} seconds")
    profile = PROFILES[request.target_hardware] if request.target_hardware else None
    kvm, reason = kvm_usable()
    if request.accelerator == "tcg":
        kvm, reason = False, "TCG asked for (--accel tcg)"
    elif request.accelerator == "kvm" and not kvm:
        raise errors.Unsupported(f"--accel kvm: {reason}")
    notes: list[str] = []
    with open_backend(request.location, access) as backend:
        inspection = inspect_location(backend, request.depth)
        tree, machine = choose_machine(inspection, request.machine)
        point = choose_point(machine, request.version)
        facts = point_with_contents(backend, tree, machine, point).contents
        if facts is None:
            raise errors.Unreadable(f"{machine.name} {point.version}: the point lists no image to boot")
        plan = plan_disk(facts, profile.firmware if profile else None)
        if plan.firmware == "UEFI" and tools.ovmf_code is None:
            raise ToolsMissing("the point boots UEFI and no OVMF firmware was found; missing: ovmf")
        folder = paths.join(machine.path, point.folder) if tree.inside is None else ""
        scratch = Path(tempfile.mkdtemp(prefix="bmr-boot-test-"))
        try:
            source, staged = local_image(backend, folder, plan.image, scratch)
            overlay = scratch / "overlay.qcow2"
            make_overlay(tools.qemu_img, source, plan.container, overlay)
            for region in plan.regions:
                other, copied = local_image(backend, folder, region.image, scratch)
                staged = staged or copied
                merge_region(tools.qemu_img, tools.qemu_io, other, plan.container, region, overlay, scratch)
                notes.append(f"partition at byte {region.offset} taken from {region.image} (another image of the disk)")
            if request.target_hardware == "hyperv-gen2":
                notes.append("QEMU has no Hyper-V synthetic SCSI (storvsc): the disk sits on AHCI instead")
            controller = PROFILE_CONTROLLER[request.target_hardware]
            evidence = request.evidence_dir
            if evidence is not None:
                evidence.mkdir(parents=True, exist_ok=True)
            spec = RunSpec(
                overlay, plan.firmware, controller, "kvm" if kvm else "tcg", request.timeout, request.interval,
                request.memory_mib, scratch, evidence,
            )  # fmt: skip
            started = time.monotonic()
            result = run_machine(tools, spec, tick)
            if result.stopped == "accelerator-failed":
                notes.append(f"KVM stopped with an internal error after {result.seconds:.1f} s: ran again with TCG")
                reason = "KVM failed on this guest; TCG used"
                spec = replace(spec, accelerator="tcg")
                result = run_machine(tools, spec, tick)
            notes.append(f"boot watched for {time.monotonic() - started:.1f} s ({plan.note}: {plan.image})")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    test = BootTest(
        request.location.display(), machine.name, point.version, plan.image, staged, plan.firmware,
        CONTROLLERS[controller][0], spec.accelerator, reason, request.target_hardware, result,
        str(evidence) if evidence else None, tuple(notes),
    )  # fmt: skip
    if evidence is not None:  # the verdict beside its screenshots
        (evidence / "result.json").write_text(json.dumps(test.to_json(), indent=2), encoding="utf-8")
    return test
