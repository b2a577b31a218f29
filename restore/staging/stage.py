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
from restore.staging.manifest import (
    MANIFEST_NAME,
    SUMS_NAME,
    ManifestInfo,
    merge_manifest,
    merge_sums,
    point_entry,
    proof_texts,
)
from restore.staging.names import PARTIAL_SUFFIX, partial_name
from restore.staging.overlap import refuse_alias, refuse_overlap
from restore.staging.planner import PlannedFile, choose, make_plan, measure, plan_copy, remaining_bytes
from restore.staging.planner import StageRefused as StageRefused  # raised here, named by callers
from restore.staging.transfer import FileJob, FileOutcome, Progress, Transfer
from restore.tree.find import inspect_location
from restore.tree.model import TREE_NAME as TREE
from restore.units import human_bytes
from share import errors, paths
from share.base import Backend, Kind
from share.connect import Access, open_backend
from share.location import Location

log = logging.getLogger("bmr.stage")  # one record per file, for --log-file

SMALL_FILE = 1024 * 1024  # new files up to this size are copied in batches, their flushes issued together
BATCH_FILES = 64  # files a batch holds at most: what a failure leaves copied but unnamed (renamed before it raises)


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
    streams: int = 1  # the most connections one file was written over

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
            "streams": self.streams,
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
    streams: int | None = None  # connections per large file; None: chosen from the cores and the target


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
    refuse_overlap(request.source, request.target)  # before either side is opened or created
    with (
        open_backend(request.source, source_access or access.for_other(request.source)) as src,
        open_target(request.target, access) as dst,
    ):
        # A file our own dead connection still holds, or a restarting server, is waited for this long.
        patience = max(30.0, 10 * access.timeout)
        engine = Transfer(
            src, dst, verify=request.verify, progress=progress, patience=patience, bwlimit=request.bwlimit,
            streams=request.streams,
        )  # fmt: skip
        return run_stage(
            src, dst, machine=request.machine, version=request.version, verify=request.verify, force=request.force,
            margin=request.margin, depth=request.depth, progress=progress, on_file=on_file, on_plan=on_plan,
            transfer=engine,
        )  # fmt: skip


def open_target(location: Location, access: Access) -> Backend:
    """Connect to the target folder, creating it (and only the missing folders of the path named) if needed."""
    try:
        return open_backend(location, access)  # which looks at the folder itself: NotFound when it is missing
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
    refuse_overlap(source.location, target.location)
    refuse_alias(source, target)
    choice = choose(source, machine, version, depth)
    point, name = choice.point, choice.machine.name
    plan = make_plan(choice, target, force=force, margin=margin, space=measure(target),
                     target_name=target.describe())  # fmt: skip
    if plan.refusals:
        raise plan.refusals[0].error()
    planned = plan_copy(choice)
    engine = transfer or Transfer(source, target, verify=verify, progress=progress, bwlimit=bwlimit)
    if on_plan is not None:  # past every refusal: progress starts here, never before a refusal
        on_plan(len(planned), plan.bytes_total)
    with stage_lock(target) as lock:
        engine.progress = _refreshing(lock, engine.progress)
        _withdraw_certificates(target, name)
        outcomes = _copy_all(target, engine, planned, on_file)
        for old in plan.replaced:
            _remove_tree(target, old)
        if plan.replaced:
            _remove_stale_spp(target, name, {p.target_path.lower() for p in planned})
        manifest = _write_manifest(
            target,
            outcomes,
            ManifestInfo(source.describe(), target.describe(), name, point.version, started, datetime.now(UTC),
                         verify),
        )  # fmt: skip
    checks = _caveat_checks(target) + _check_target(target, name, point.folder)
    return StageResult(
        backup_target=_target_name(target),
        machine=name,
        version=point.version,
        files=tuple(outcomes),
        bytes_total=plan.bytes_total,
        seconds=time.monotonic() - clock,
        verified=verify,
        manifest=manifest,
        replaced=plan.replaced,
        checks=checks,
        copy_seconds=engine.copy_seconds,
        streams=engine.streams_used,
    )


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
    present: set[str] = set()  # every name in the target folders, lowercased: one listing per folder, not per file
    for folder in sorted({paths.parent(p.target_path) for p in planned}):
        target.makedirs(folder)
        present.update(paths.join(folder, e.name).lower() for e in target.list(folder))
    outcomes: list[FileOutcome] = []
    batch: list[FileJob] = []  # small new files, flushed together before their renames

    def starting(job: FileJob) -> None:
        if on_file is not None:
            on_file(job.target_path, job.size)

    def settle(results: list[FileOutcome]) -> None:
        for outcome in results:
            outcomes.append(outcome)
            done = {"path": outcome.path, "copied": outcome.bytes_copied, "reused": outcome.bytes_reused}
            log.info("file done", extra={"bmr_fields": {**done, "size": outcome.size, "verified": outcome.verified}})

    try:
        for item in planned:
            fresh = not {item.target_path.lower(), partial_name(item.target_path).lower()} & present
            job = FileJob(item.source_path, item.target_path, item.size, fresh=fresh)
            if fresh and item.size <= SMALL_FILE:
                batch.append(job)
                if len(batch) >= BATCH_FILES:
                    settle(engine.copy_batch(batch, starting))
                    batch = []
                continue
            if batch:
                settle(engine.copy_batch(batch, starting))
                batch = []
            starting(job)
            # A file of this same point that differs (a damaged earlier copy) is simply copied again.
            settle([engine.hash_existing(job) or engine.copy(job)])
        if batch:
            settle(engine.copy_batch(batch, starting))
    except errors.DiskFull as exc:
        raise _disk_full(target, planned, exc) from exc
    engine.sync_folders()  # the renames made durable, before SHA256SUMS and the manifest certify them
    return outcomes


def _disk_full(target: Backend, planned: list[PlannedFile], exc: errors.DiskFull) -> errors.DiskFull:
    try:
        free = target.space().free
        missing = max(remaining_bytes(target, planned) - free, 0)
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


def _withdraw_certificates(target: Backend, machine: str) -> None:
    """This computer's entries in SHA256SUMS and the manifest go before anything on the target changes: if this run
    stops (a changed source, a failure, Ctrl-C), nothing is left certifying files that are no longer what it lists.
    Other computers' entries stay as they are."""
    _rewrite_proofs(target, machine, None, None)


def _rewrite_proofs(
    target: Backend, machine: str, files: list[FileOutcome] | None, entry: dict[str, Any] | None
) -> None:
    """Replace ``machine``'s part of both proofs, each written whole under a temporary name and renamed over the
    old one (the stage lock keeps two runs from doing this at once); a proof left empty is removed."""
    old_sums, old_manifest = proof_texts(target)
    sums = merge_sums(old_sums, machine, files)
    manifest = merge_manifest(old_manifest, machine, entry)
    for name, before, text in ((SUMS_NAME, old_sums, sums), (MANIFEST_NAME, old_manifest, manifest)):
        if text is None:
            if before is not None:  # none there before: nothing to remove
                with contextlib.suppress(errors.NotFound):
                    target.remove(name)
            continue
        temporary = name + PARTIAL_SUFFIX
        with target.open_write(temporary) as stream:
            stream.write(text.encode("utf-8"))
        target.sync(temporary)
        target.rename(temporary, name, replace=True)
        target.sync("", folder=True)


def _write_manifest(target: Backend, outcomes: list[FileOutcome], info: ManifestInfo) -> str:
    _rewrite_proofs(target, info.machine, outcomes, point_entry(info, outcomes))
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
