"""The ``boot-chain`` and ``hardware`` checks (preflight --deep [--target-hardware P]): will the point start, there?"""

from __future__ import annotations

from restore.checks.check import Check, failed, passed, skipped, warned
from restore.checks.contents import contents_check
from restore.tree.model import Machine, RecoveryPoint, Tree
from share.base import Backend

# What the file systems alone show fails the check. What rests on reading the BCD store's elements (its objects,
# the device encoding) warns: that reading is tested against stores bmr's tests write, not yet against a store
# Windows wrote, and a false FAIL would block the runbook and the commands.
CERTAIN = frozenset({"boot-partition-not-in-backup", "boot-partition-missing", "kernel-missing"})


def deep_checks(
    backend: Backend, tree: Tree, machine: Machine, point: RecoveryPoint, target_hardware: str | None
) -> tuple[tuple[Check, ...], RecoveryPoint]:
    """contents, boot-chain and (with a profile) hardware, from one read of the point's images; and the point with
    those deep facts (its ``contents``, which hold the boot chain)."""
    from restore.tree.hardware import assess

    contents, deep = contents_check(backend, tree, machine, point)
    facts = deep.contents
    checks = [contents]
    chain = facts.boot_chain if facts is not None else None
    if chain is None:
        checks.append(skipped("boot-chain", "the point lists no image to read"))
    elif chain.state == "volume-only":
        checks.append(warned("boot-chain", chain.links[0].detail, "use a bare-metal recovery point"))
    elif chain.problems:
        errors = [p for p in chain.problems if p.severity.value == "error" and p.code in CERTAIN]
        broken = [link for link in chain.links if link.ok is False]
        make = failed if errors else warned
        checks.append(
            make(
                "boot-chain",
                "; ".join(f"{p.code}: {p.message}" for p in chain.problems),
                " / ".join(link.fix for link in broken if link.fix) or "see bmr inspect --deep",
                problems=[p.code for p in chain.problems],
                links=[link.to_json() for link in chain.links],
            )
        )
    else:
        loader = next((link.detail for link in chain.links if link.name == "loader"), "")
        checks.append(
            passed(
                "boot-chain",
                f"system partition {chain.system_partition}; default entry {chain.default_entry}; {loader}",
                links=[link.to_json() for link in chain.links],
            )
        )
    if target_hardware is not None:
        verdict = assess(target_hardware, chain.services if chain else None, facts.firmware if facts else None)
        details = {"verdict": verdict.to_json()}
        fix = " ; ".join(verdict.fix) or "see the driver lines above"
        title = f"{verdict.profile} ({verdict.title}): {verdict.message}"
        if verdict.status == "fail":
            checks.append(failed("hardware", title, fix, **details))
        elif verdict.status == "warn":
            checks.append(warned("hardware", title, fix, **details))
        else:
            checks.append(passed("hardware", title, **details))
    return tuple(checks), deep
