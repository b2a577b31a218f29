"""`bmr stage --dry-run`: what a stage run would copy, reuse, resume and replace, and the space it needs.

Reads listings and sizes on both sides and writes nothing of the point; only the write test (a small file
created and deleted at once) touches the target, because a copy that cannot write would fail anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from restore.outcome import Outcome
from restore.staging.stage import PlannedFile, StageRequest, _other_points, choose, extensions_of, plan_copy
from restore.staging.transfer import PARTIAL_SUFFIX
from restore.tree.model import TREE_NAME as TREE
from restore.units import human_bytes
from share import errors, paths
from share.base import Backend
from share.connect import Access, open_backend
from share.writetest import write_test


@dataclass(frozen=True)
class PlannedAction:
    path: str
    size: int
    action: str  # "copy", "resume" (a partial copy is there), "compare" (the same size is there)
    held: int  # bytes already on the target that may be reused after comparison


@dataclass(frozen=True)
class StagePlan:
    target: str
    machine: str
    version: str | None
    files: tuple[PlannedAction, ...]
    bytes_total: int
    bytes_to_write: int  # at most: files found already there are compared first and may need nothing
    space_needed: int
    free: int | None
    replaced: tuple[str, ...]  # other points of this computer, removed after the copy verified (--force)
    refusals: tuple[str, ...]  # why the real run would stop before copying

    @property
    def outcome(self) -> Outcome:
        return Outcome.FAILED if self.refusals else Outcome.OK

    def count(self, action: str) -> int:
        return sum(1 for f in self.files if f.action == action)

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": True,
            "target": self.target,
            "machine": self.machine,
            "version": self.version,
            "files": [{"path": f.path, "size": f.size, "action": f.action, "held": f.held} for f in self.files],
            "bytes_total": self.bytes_total,
            "bytes_to_write": self.bytes_to_write,
            "space_needed": self.space_needed,
            "free": self.free,
            "replaced": list(self.replaced),
            "refusals": list(self.refusals),
        }


def _action(target: Backend | None, item: PlannedFile) -> PlannedAction:
    if target is None:
        return PlannedAction(item.target_path, item.size, "copy", 0)
    try:
        if target.stat(item.target_path).size == item.size:
            return PlannedAction(item.target_path, item.size, "compare", item.size)
    except errors.NotFound:
        pass
    try:
        held = min(target.stat(item.target_path + PARTIAL_SUFFIX).size, item.size)
    except errors.NotFound:
        held = 0
    return PlannedAction(item.target_path, item.size, "resume" if held else "copy", held)


def _open_existing(request: StageRequest, access: Access) -> Backend | None:
    """The target folder if it exists (a dry run creates nothing), else None."""
    try:
        backend = open_backend(request.target, access)
    except errors.NotFound:
        return None
    try:
        backend.stat("")  # some backends connect without looking at the folder
    except errors.NotFound:
        backend.close()
        return None
    return backend


def preview_stage(request: StageRequest, access: Access, source_access: Access | None = None) -> StagePlan:
    """What `bmr stage` would do with this request. Raises the share errors of reaching either side."""
    with open_backend(request.source, source_access or access.for_other(request.source)) as source:
        choice = choose(source, request.machine, request.version, request.depth)
        planned = plan_copy(choice)
        refusals: list[str] = []
        if choice.point.errors and not request.force:
            refusals.append(f"the source point {choice.point.folder} is incomplete (--force copies it anyway)")
        target = _open_existing(request, access)
        try:
            return _plan(request, choice.machine.name, choice.point.version, choice.point.folder, planned, target,
                         refusals)  # fmt: skip
        finally:
            if target is not None:
                target.close()


def _plan(
    request: StageRequest,
    machine: str,
    version: str | None,
    folder: str,
    planned: list[PlannedFile],
    target: Backend | None,
    refusals: list[str],
) -> StagePlan:
    actions = tuple(_action(target, item) for item in planned)
    to_write = sum(a.size - a.held for a in actions)
    need = int(to_write * request.margin)
    free = None
    others: list[str] = []
    if target is not None:
        tested = write_test(target, paths.join(TREE, machine), extensions=extensions_of(planned))
        if not tested.ok:
            refusals.append(f"cannot write to {target.describe()}: {tested.why}")
        others = _other_points(target, machine, folder)
        if others and not request.force:
            refusals.append(
                f"a different recovery point of {machine} is there ({', '.join(paths.name(o) for o in others)}); "
                "--force replaces it after the new copy verified"
            )
        if target.features.free_space:
            try:
                free = target.space().free
            except errors.SpaceUnknown:
                free = None  # "free: unknown" in the plan; the real run warns
            if free is not None and free < need:
                refusals.append(f"{human_bytes(free)} free; the copy needs {human_bytes(need)}: free space first")
    return StagePlan(
        target=target.describe() if target is not None else request.target.display(),
        machine=machine,
        version=version,
        files=actions,
        bytes_total=sum(a.size for a in actions),
        bytes_to_write=to_write,
        space_needed=need,
        free=free,
        replaced=tuple(others) if request.force else (),
        refusals=tuple(refusals),
    )
