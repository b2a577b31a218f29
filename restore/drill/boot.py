"""The drill's ``boot-test`` check (``boot_test = true`` for a server): bmr boot-test's verdict as a check."""

from __future__ import annotations

from pathlib import Path

from restore.boottest.run import BootTestRequest, boot_test_at
from restore.checks.check import Check, failed, passed, warned
from restore.drill.inventory import ServerEntry
from share import errors
from share.connect import Access


def boot_test_check(entry: ServerEntry, access: Access, evidence_root: Path | None) -> Check:
    """Boot the server's point under QEMU; the screenshots and logs go to ``evidence_root``/<server name>."""
    evidence = None
    if evidence_root is not None:
        evidence_root.mkdir(exist_ok=True)
        evidence = evidence_root / "".join(c if c.isalnum() or c in "-_." else "_" for c in entry.name)
    request = BootTestRequest(
        entry.location, entry.computer, entry.version, entry.target_hardware, entry.boot_timeout, 5.0, evidence
    )
    try:
        result = boot_test_at(request, access)
    except errors.BmrError as exc:
        return failed("boot-test", f"the boot test did not run: {exc}", exc.hint or "run bmr boot-test by hand")
    details = result.to_json()
    message = (
        f"{result.verdict}: reached {result.run.stage} in {result.run.seconds:.0f} s "
        f"({result.accelerator.upper()}, {result.firmware}, {result.controller})"
    )
    seen = "; ".join(f"{s.source}: {s.evidence}" for s in result.run.sightings[-2:])
    if seen:
        message += f"; {seen}"
    if result.verdict == "boots":
        return passed("boot-test", message, **details)
    if result.verdict == "inconclusive":
        return warned("boot-test", message, "look at the screenshots in the report's boot-tests folder", **details)
    return failed("boot-test", message, "read the boot chain and hardware checks (preflight --deep)", **details)
