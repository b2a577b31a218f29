"""Look inside every point of an inspection (`bmr inspect --deep`): its images' disks, file systems and Windows."""

from __future__ import annotations

from dataclasses import replace

from restore.tree.deep import deep_inspect
from restore.tree.deep.bootchain import read_boot_chain
from restore.tree.hardware import wanted_services
from restore.tree.model import Inside, Inspection, Machine, RecoveryPoint, Tree
from share import paths
from share.base import Backend


def with_contents(backend: Backend, inspection: Inspection) -> Inspection:
    """The same inspection with each point's ``contents`` read and its problems added to the point's own."""
    trees = tuple(replace(tree, machines=tuple(_machine(backend, tree, m) for m in tree.machines)) for tree in
                  inspection.trees)  # fmt: skip
    return replace(inspection, trees=trees)


def _machine(backend: Backend, tree: Tree, machine: Machine) -> Machine:
    return replace(
        machine, recovery_points=tuple(point_with_contents(backend, tree, machine, p) for p in machine.recovery_points)
    )


def point_with_contents(backend: Backend, tree: Tree, machine: Machine, point: RecoveryPoint) -> RecoveryPoint:
    """One point with what its images hold read, and those problems added to its own."""
    volumes = [(v.image, v.access_path) for v in point.volumes if v.image]
    if not volumes:
        return point
    folder = "" if tree.inside is Inside.BACKUP else paths.join(machine.path, point.folder)
    facts = deep_inspect(
        backend, folder, volumes, machine.name, {writer_id for writer_id, _name in point.writers},
        needs_system=point.bare_metal,
    )  # fmt: skip
    chain = read_boot_chain(backend, folder, facts, bare_metal=point.bare_metal, wanted_services=wanted_services())
    facts = replace(facts, boot_chain=chain)
    # The chain's own problems stay in it (shown under it, and by preflight's boot-chain check).
    return replace(point, contents=facts, problems=point.problems + facts.all_problems)
