"""The ``contents`` check (preflight --deep): what the chosen point's images hold, as the restore will meet it."""

from __future__ import annotations

from restore.checks.check import Check, failed, passed, warned
from restore.tree.model import Machine, RecoveryPoint, Tree
from restore.units import human_bytes
from share.base import Backend


def contents_check(backend: Backend, tree: Tree, machine: Machine, point: RecoveryPoint) -> tuple[Check, RecoveryPoint]:
    """Read inside the images (bounded, never a copy): a failed check for what stops a restore (BitLocker, no
    system volume, no boot files, a damaged image), a warning for what needs care, else what the target needs;
    and the point with those deep facts (its ``contents``), which the plan keeps."""
    from restore.tree.contents import point_with_contents  # the image readers load only when asked for

    deep = point if point.contents is not None else point_with_contents(backend, tree, machine, point)
    return _check(deep), deep


def _check(point: RecoveryPoint) -> Check:
    facts = point.contents
    if facts is None:
        return warned("contents", "the point lists no image to read", "run bmr inspect --deep to see why")
    problems = facts.all_problems
    details = {"firmware": facts.firmware, "install_media": facts.install_media, "disks": len(facts.target_disks)}
    errors = [p for p in problems if p.severity.value == "error"]
    warnings = [p for p in problems if p.severity.value == "warning"]
    if errors:
        return failed(
            "contents",
            "inside the images: " + "; ".join(f"{p.code}: {p.message}" for p in errors),
            "use a point whose images hold a readable, unencrypted Windows volume (bmr inspect --deep shows each)",
            problems=[p.code for p in errors],
            **details,
        )
    disks = ", ".join(human_bytes(d.size) for d in facts.target_disks) or "none found"
    summary = (
        f"{facts.install_media or 'Windows (version not read)'}; firmware {facts.firmware or 'unknown'}; "
        f"{len(facts.target_disks)} target disk(s) of at least {disks}"
    )
    if warnings:
        return warned(
            "contents",
            f"{summary}; with warnings: " + "; ".join(p.code for p in warnings),
            "read the warnings in bmr inspect --deep before the restore",
            **details,
        )
    return passed("contents", summary, **details)
