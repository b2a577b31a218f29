"""`bmr stage`: copy one recovery point to the folder a restore will use, resumable and verified end to end.

Order: inspect the source (refuse an incomplete point unless forced) -> log on to the target, check write
access, a different point already there, free space -> copy each file to a temporary name, verify, rename
-> remove a replaced point (only with force, only after the new one verified) -> write the manifests ->
check the target the way preflight would.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from restore.checks import shareroot
from restore.checks.check import Check, Status, failed, overall, passed, warned
from restore.outcome import Outcome
from restore.staging.lock import StageLock, stage_lock
from restore.staging.manifest import MANIFEST_NAME, SUMS_NAME, ManifestInfo, render_manifest, render_sums
from restore.staging.names import PARTIAL_SUFFIX, partial_name, unfit_paths
from restore.staging.transfer import FileJob, FileOutcome, Progress, Transfer
from restore.tree.choose import Choice, choose_machine, choose_point
from restore.tree.find import inspect_location
from restore.tree.identifiers import looks_like_backup_folder
from restore.tree.model import TREE_NAME as TREE
from restore.tree.model import Inside
from restore.tree.points import read_folder
from restore.units import human_bytes
from share import errors, paths
from share.base import Backend, Kind
from share.connect import Access, open_backend
from share.location import Location
from share.writetest import write_test

log = logging.getLogger("bmr.stage")  # one record per file, for --log-file


class StageRefused(errors.BmrError):
    """Nothing was copied; the message says why."""


@dataclass(frozen=True)
class PlannedFile:
    source_path: str  # in the source backend
    target_path: str  # in the target backend: WindowsImageBackup/<Computer>/...
    size: int


@dataclass(frozen=True)
class StageResult:
    backup_target: str
    machine: str
    version: str | None
    files: tuple[FileOutcome, ...]
    bytes_total: int
    seconds: float
    verified: bool
    manifest: str
    replaced: tuple[str, ...]
    checks: tuple[Check, ...]
    copy_seconds: float = 0.0  # time spent streaming new bytes: the copy rate divides by this, not by `seconds`

    @property
    def bytes_copied(self) -> int:
        return sum(f.bytes_copied for f in self.files)

    @property
    def bytes_reused(self) -> int:
        return sum(f.bytes_reused for f in self.files)

    @property
    def ok(self) -> bool:
        return overall(self.checks) is not Status.FAIL

    @property
    def outcome(self) -> Outcome:
        return Outcome.OK if self.ok else Outcome.FAILED

    def to_json(self) -> dict[str, Any]:
        return {
            "backup_target": self.backup_target,
            "machine": self.machine,
            "version": self.version,
            "files": len(self.files),
            "bytes_total": self.bytes_total,
            "bytes_copied": self.bytes_copied,
            "bytes_reused": self.bytes_reused,
            "seconds": round(self.seconds, 3),
            "copy_seconds": round(self.copy_seconds, 3),
            "verified": self.verified,
            "manifest": self.manifest,
            "replaced": list(self.replaced),
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass(frozen=True)
class StageRequest:
    """What `bmr stage` was asked: from where, to where, which point, and how."""

    source: Location
    target: Location
    machine: str | None = None
    version: str | None = None
    verify: bool = True
    force: bool = False
    margin: float = 1.1
    depth: int = 4
    bwlimit: float | None = None  # bytes per second, copy and read-back together


def stage(
    request: StageRequest,
    access: Access,
    source_access: Access | None = None,
    *,
    progress: Progress | None = None,
    on_file: Any = None,
    on_plan: Any = None,
) -> StageResult:
    """Connect to both sides (creating the target folder if needed) and stage. Raises the share errors, StageRefused,
    VerificationFailed, SourceChanged."""
    with (
        open_backend(request.source, source_access or access.for_other(request.source)) as src,
        open_target(request.target, access) as dst,
    ):
        # A file our own dead connection still holds, or a restarting server, is waited for this long.
        patience = max(30.0, 10 * access.timeout)
        engine = Transfer(
            src, dst, verify=request.verify, progress=progress, patience=patience, bwlimit=request.bwlimit
        )
        return run_stage(
            src, dst, machine=request.machine, version=request.version, verify=request.verify, force=request.force,
            margin=request.margin, depth=request.depth, progress=progress, on_file=on_file, on_plan=on_plan,
            transfer=engine,
        )  # fmt: skip


def open_target(location: Location, access: Access) -> Backend:
    """Connect to the target folder, creating it (and only the missing folders of the path named) if needed."""
    try:
        return open_backend(location, access)
    except errors.NotFound:
        pass
    parts = [p for p in location.path.split("/") if p]
    for up in range(1, len(parts) + 1):
        base = location.parent(up)
        if base is None:
            break
        try:
            with open_backend(base, access) as backend:
                backend.makedirs("/".join(parts[len(parts) - up :]))
        except errors.NotFound:
            continue
        return open_backend(location, access)
    return open_backend(location, access)  # raises the original NotFound


def extensions_of(planned: list[PlannedFile]) -> list[str]:
    """The name endings the copy will write (``.vhdx``, ``.xml``, ``""`` for none): what the write test tries."""
    found = {paths.name(p.target_path).rpartition(".") for p in planned}
    return sorted({dot + ext.lower() if dot else "" for _, dot, ext in found})[:8] or [".vhdx"]


def plan_copy(choice: Choice) -> list[PlannedFile]:
    """Every file of the chosen point, from its place in the source to WindowsImageBackup/<Computer>/... ."""
    machine, point, tree = choice.machine, choice.point, choice.tree
    planned = []
    for relative, size in point.files:
        # When the location is the Backup folder itself, its files sit at the root, without the folder name.
        source = (
            paths.join(*relative.split("/")[1:]) if tree.inside is Inside.BACKUP else paths.join(machine.path, relative)
        )
        planned.append(PlannedFile(source, paths.join(TREE, machine.name, relative), size))
    return planned


def choose(source: Backend, machine: str | None, version: str | None, depth: int) -> Choice:
    inspection = inspect_location(source, depth)
    tree, found = choose_machine(inspection, machine)
    return Choice(tree, found, choose_point(found, version))


def _other_points(target: Backend, machine: str, keep: str) -> list[str]:
    """Backup folders of this computer already on the target, other than the one being staged."""
    problems: list[Any] = []
    try:
        entries = read_folder(target, paths.join(TREE, machine), problems)
    except errors.NotFound:
        return []
    return sorted(
        paths.join(TREE, machine, e.name)
        for e in entries.values()
        if e.kind is Kind.DIR and looks_like_backup_folder(e.name) and e.name.lower() != keep.lower()
    )


def _remaining_bytes(target: Backend, planned: list[PlannedFile]) -> int:
    """Bytes still to write: files not already there at full size, less what partial copies hold."""
    remaining = 0
    for item in planned:
        try:
            if target.stat(item.target_path).size == item.size:
                continue
        except errors.NotFound:
            pass
        try:
            held = min(target.stat(partial_name(item.target_path)).size, item.size)
        except errors.NotFound:
            held = 0
        remaining += item.size - held
    return remaining


def run_stage(
    source: Backend,
    target: Backend,
    *,
    machine: str | None = None,
    version: str | None = None,
    verify: bool = True,
    force: bool = False,
    margin: float = 1.1,
    depth: int = 4,
    progress: Progress | None = None,
    on_file: Any = None,
    on_plan: Any = None,
    transfer: Transfer | None = None,
    bwlimit: float | None = None,
) -> StageResult:
    started = datetime.now(UTC)
    clock = time.monotonic()
    choice = choose(source, machine, version, depth)
    point = choice.point
    errors_ = point.errors
    if errors_ and not force:
        details = "; ".join(f"{p.code}: {p.message}" for p in errors_)
        raise StageRefused(
            f"the source point {point.folder} is incomplete: {details}",
            hint="Copy a complete point (see bmr inspect); --force copies this one anyway, if you are sure.",
        )
    planned = plan_copy(choice)
    total = sum(p.size for p in planned)
    unfit = unfit_paths([p.target_path for p in planned])
    if unfit:
        more = f" (and {len(unfit) - 10} more)" if len(unfit) > 10 else ""
        raise StageRefused(
            f"{len(unfit)} file name(s) of the point cannot be held by a Windows share or read by the restore; "
            f"nothing was copied: {'; '.join(unfit[:10])}{more}"
        )

    write_test(target, paths.join(TREE, choice.machine.name), extensions=extensions_of(planned)).raise_for(
        f"cannot write to {target.describe()}"
    )
    others = _other_points(target, choice.machine.name, point.folder)
    if others and not force:
        raise StageRefused(
            f"{target.describe()} already holds a different recovery point of {choice.machine.name} "
            f"({', '.join(paths.name(o) for o in others)})",
            hint="--force replaces it, only after the new copy verified; or stage into another folder.",
        )
    remaining = _remaining_bytes(target, planned)
    free = _free_or_none(target)  # None: the server cannot say (an SFTP server without statvfs): a warning at the end
    if free is not None:
        need = int(remaining * margin)
        if free < need:
            raise StageRefused(
                f"{target.describe()} has {human_bytes(free)} free; this copy needs {human_bytes(need)} "
                f"({margin:g} x the {human_bytes(remaining)} still to write)",
                hint="Free space on the target (or raise its quota), or stage to another share; --force does not "
                "override this. --margin lowers the headroom asked for.",
            )

    engine = transfer or Transfer(source, target, verify=verify, progress=progress, bwlimit=bwlimit)
    if on_plan is not None:  # past every refusal: progress starts here, never before a refusal
        on_plan(len(planned), total)
    with stage_lock(target) as lock:
        engine.progress = _refreshing(lock, engine.progress)
        outcomes = _copy_all(target, engine, planned, on_file)
        for old in others:
            _remove_tree(target, old)
        if others:
            _remove_stale_spp(target, choice.machine.name, {p.target_path.lower() for p in planned})
        manifest = _write_manifest(
            target,
            outcomes,
            ManifestInfo(source.describe(), target.describe(), choice.machine.name, point.version, started,
                         datetime.now(UTC), verify),
        )  # fmt: skip
    checks = _caveat_checks(target) + _check_target(target, choice.machine.name, point.folder)
    return StageResult(
        backup_target=_target_name(target),
        machine=choice.machine.name,
        version=point.version,
        files=tuple(outcomes),
        bytes_total=total,
        seconds=time.monotonic() - clock,
        verified=verify,
        manifest=manifest,
        replaced=tuple(others),
        checks=checks,
        copy_seconds=engine.copy_seconds,
    )


def _free_or_none(target: Backend) -> int | None:
    """Free bytes on the target; None where the backend has no such answer or the server cannot give one."""
    if not target.features.free_space:
        return None
    try:
        return target.space().free
    except errors.SpaceUnknown:
        return None  # noted by the backend as a caveat: reported with the result


def _caveat_checks(target: Backend) -> tuple[Check, ...]:
    """What the target was found not to do (no free-space answer, no durable writes): warnings, not failures."""
    return tuple(warned(c.code, c.message, c.fix) for c in target.caveats())


def _refreshing(lock: StageLock, progress: Progress) -> Progress:
    """The copy's progress callback, refreshing the stage lock on the way (cheap unless a refresh is due)."""

    def report(phase: str, count: int) -> None:
        lock.refresh()
        progress(phase, count)

    return report


def _copy_all(target: Backend, engine: Transfer, planned: list[PlannedFile], on_file: Any) -> list[FileOutcome]:
    _withdraw_certificates(target)
    for folder in sorted({paths.parent(p.target_path) for p in planned}):
        target.makedirs(folder)
    outcomes: list[FileOutcome] = []
    for item in planned:
        if on_file is not None:
            on_file(item.target_path, item.size)
        job = FileJob(item.source_path, item.target_path, item.size)
        try:
            # A file of this same point that differs (a damaged earlier copy) is simply copied again.
            outcome = engine.hash_existing(job) or engine.copy(job)
        except errors.DiskFull as exc:
            raise _disk_full(target, planned, exc) from exc
        outcomes.append(outcome)
        done = {"path": outcome.path, "copied": outcome.bytes_copied, "reused": outcome.bytes_reused}
        log.info("file done", extra={"bmr_fields": {**done, "size": outcome.size, "verified": outcome.verified}})
    return outcomes


def _disk_full(target: Backend, planned: list[PlannedFile], exc: errors.DiskFull) -> errors.DiskFull:
    try:
        free = target.space().free
        missing = max(_remaining_bytes(target, planned) - free, 0)
        detail = f"{human_bytes(free)} free, about {human_bytes(missing)} more needed"
    except errors.ShareError:
        detail = str(exc)
    return errors.DiskFull(f"{target.describe()} is full ({detail}); what was written is kept: rerun to resume")


def _remove_tree(target: Backend, path: str) -> None:
    for entry in target.list(path):
        child = paths.join(path, entry.name)
        if entry.kind is Kind.DIR:
            _remove_tree(target, child)
        else:
            target.remove(child)
    target.rmdir(path)


def _remove_stale_spp(target: Backend, machine: str, keep: set[str]) -> None:
    """The replaced point's SPPMetadataCache entry goes with it; the new point's stays."""
    folder = paths.join(TREE, machine, "SPPMetadataCache")
    try:
        entries = target.list(folder)
    except errors.NotFound:
        return
    for entry in entries:
        path = paths.join(folder, entry.name)
        if entry.kind is Kind.FILE and path.lower() not in keep:
            target.remove(path)


def _withdraw_certificates(target: Backend) -> None:
    """An earlier run's SHA256SUMS and manifest go before anything on the target changes: if this run stops
    (a changed source, a failure, Ctrl-C), nothing is left certifying files that are no longer what it lists."""
    for name in (SUMS_NAME, MANIFEST_NAME):
        with contextlib.suppress(errors.NotFound):
            target.remove(name)


def _write_manifest(target: Backend, outcomes: list[FileOutcome], info: ManifestInfo) -> str:
    for name, text in ((SUMS_NAME, render_sums(outcomes)), (MANIFEST_NAME, render_manifest(info, outcomes))):
        temporary = name + PARTIAL_SUFFIX
        with target.open_write(temporary) as stream:
            stream.write(text.encode("utf-8"))
        target.sync(temporary)
        target.rename(temporary, name, replace=True)
        target.sync("", folder=True)
    return target.describe(MANIFEST_NAME)


def _target_name(target: Backend) -> str:
    location = target.location
    if location.windows_share:
        host = target.facts().server_address or location.host or ""
        return location.unc(host)
    return target.describe()


def _check_target(target: Backend, machine: str, folder: str) -> tuple[Check, ...]:
    """The share-root and recovery-point checks, run on what is now on the target."""
    inspection = inspect_location(target)
    location = target.location
    host = (target.facts().server_address or location.host or "") if location.windows_share else ""
    if location.windows_share:
        root = shareroot.analyse(location, inspection, host, staging=False).check
    elif any(t.relative_path == TREE for t in inspection.trees):
        root = passed("share-root", f"{target.describe()} holds WindowsImageBackup at its root")
    else:
        root = failed("share-root", "WindowsImageBackup is not at the root of the target", "stage into the root")
    found = [
        p for t in inspection.trees for m in t.machines if m.name.lower() == machine.lower()
        for p in m.recovery_points if p.folder.lower() == folder.lower()
    ]  # fmt: skip
    if not found:
        point = failed("recovery-point", f"{folder} is not on the target after the copy", "rerun bmr stage")
    elif not found[0].ok:
        bad = "; ".join(p.code for p in found[0].errors)
        point = failed("recovery-point", f"the staged point has problems: {bad}", "rerun bmr stage")
    elif found[0].problems:
        point = warned(
            "recovery-point",
            "staged and complete, with warnings: " + ", ".join(p.code for p in found[0].problems),
            "read them in bmr inspect",
        )
    else:
        point = passed("recovery-point", f"{folder} is complete on the target")
    return (root, point)
