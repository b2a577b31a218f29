"""`bmr stage --dry-run`: the plan the real run makes (restore.staging.planner), with writing switched off.

The same refusals in the same order, the same exit code, the same files to copy, resume and compare. What the
dry run cannot do the real run does first: a target folder that does not exist yet is created by the real run, so
the dry run plans an empty target and measures the free space on the nearest folder above it that exists. The
write test (a small file created and deleted) runs on an existing target, as in the real run.
"""

from __future__ import annotations

from restore.staging.overlap import refuse_alias, refuse_overlap
from restore.staging.planner import Space, StagePlan, choose, make_plan, measure
from restore.staging.stage import StageRequest
from share import errors
from share.base import Backend
from share.connect import Access, open_backend
from share.location import Location


def _open_existing(location: Location, access: Access) -> Backend | None:
    """The folder if it exists (a dry run creates nothing), else None."""
    try:
        backend = open_backend(location, access)
    except errors.NotFound:
        return None
    try:
        backend.stat("")  # some backends connect without looking at the folder
    except errors.NotFound:
        backend.close()
        return None
    return backend


def _space_above(location: Location, access: Access) -> tuple[Space, str]:
    """The free space of the nearest existing folder above a target that does not exist yet (the run creates the
    target there, on the same share or file system), and the target's name as the run will show it."""
    parts = [p for p in location.path.replace("\\", "/").split("/") if p]
    levels = 1
    while (parent := location.parent(levels)) is not None:
        backend = _open_existing(parent, access)
        if backend is not None:
            with backend:
                return measure(backend), backend.describe("/".join(parts[len(parts) - levels :]))
        levels += 1
    # No folder above it exists: the real run fails the same way when it tries to create it.
    with open_backend(location, access):
        pass
    return Space(None, f"no folder above {location.display()} exists"), location.display()


def preview_stage(request: StageRequest, access: Access, source_access: Access | None = None) -> StagePlan:
    """What `bmr stage` would do with this request. Raises what the real run raises before it plans (the same
    source and target, the share errors of reaching either side)."""
    refuse_overlap(request.source, request.target)
    with open_backend(request.source, source_access or access.for_other(request.source)) as source:
        target = _open_existing(request.target, access)
        if target is None:
            choice = choose(source, request.machine, request.version, request.depth)
            space, name = _space_above(request.target, access)
            return make_plan(choice, None, force=request.force, margin=request.margin, space=space,
                             target_name=name)  # fmt: skip
        with target:
            refuse_alias(source, target)  # as the real run does, before it chooses the point
            choice = choose(source, request.machine, request.version, request.depth)
            return make_plan(choice, target, force=request.force, margin=request.margin, space=measure(target),
                             target_name=target.describe())  # fmt: skip
