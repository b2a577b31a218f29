"""`bmr drill`: stage (optionally), inspect and preflight many servers at once, bounded and time-boxed.

Servers that name the same share share one session and run one after another; different shares run in
parallel (``concurrency`` at a time). A server that takes longer than its budget is reported as failed and
no longer waited for: one slow or dead server never holds up the rest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from restore.checks.check import Check, Status, failed, overall
from restore.checks.preflight import PreflightRequest
from restore.checks.serverside import server_share_check
from restore.drill.boot import boot_test_check
from restore.drill.estimate import Rate
from restore.drill.inventory import ServerEntry
from restore.drill.measure import last_stage_rate, read_rate
from restore.guide.gather import runbook_for
from restore.plan.evaluate import evaluate
from restore.plan.model import Plan, PlanRequest
from restore.staging.stage import open_target, run_stage
from restore.tree.choose import point_size
from share import errors
from share.base import Backend
from share.connect import Access, open_backend, parse_location
from share.credentials import PasswordSource, Secret, SshOptions
from winre.runbook import RunbookInput


@dataclass(frozen=True)
class ServerResult:
    entry: ServerEntry
    status: Status
    checks: tuple[Check, ...]
    seconds: float
    version: str | None = None
    backup_time_utc: datetime | None = None
    size_bytes: int | None = None
    throughput: float | None = None  # bytes/s read from the share
    staged: dict[str, Any] | None = None
    runbook: RunbookInput | None = field(default=None, compare=False)  # None: the plan has no point to render
    rates: tuple[Rate, ...] = ()  # what the restore-time estimate may rest on (restore.drill.estimate)
    newest_backup_utc: datetime | None = None  # the machine's newest point (freshness), whichever was drilled

    @property
    def banner(self) -> tuple[str, ...]:
        """The failing checks with their fixes: the FAIL banner of this server's checklist."""
        failing = (c for c in self.checks if c.status is Status.FAIL)
        return tuple(f"FAIL {c.id}: {c.message}" + (f" Fix: {c.fix}" if c.fix else "") for c in failing)

    def age_days(self, now: datetime) -> float | None:
        if self.backup_time_utc is None:
            return None
        return (now - self.backup_time_utc).total_seconds() / 86400

    @property
    def estimated_copy_seconds(self) -> float | None:
        if not self.size_bytes or not self.throughput:
            return None
        return self.size_bytes / self.throughput

    def to_json(self, now: datetime) -> dict[str, Any]:
        age = self.age_days(now)
        return {
            "name": self.entry.name,
            "machine": self.entry.computer,
            "location": self.entry.location.display(),
            "purpose": self.entry.purpose,
            "status": self.status.value,
            "checks": [c.to_json() for c in self.checks],
            "version": self.version,
            "backup_time_utc": self.backup_time_utc.isoformat() if self.backup_time_utc else None,
            "age_days": round(age, 2) if age is not None else None,
            "size_bytes": self.size_bytes,
            "throughput_bytes_per_second": round(self.throughput) if self.throughput else None,
            "estimated_copy_seconds": round(self.estimated_copy_seconds, 1) if self.estimated_copy_seconds else None,
            "staged": self.staged,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class DrillOptions:
    concurrency: int = 16
    server_timeout: float = 120.0
    timeout: float = 10.0
    ssh: SshOptions = field(default_factory=SshOptions)
    evidence_dir: Path | None = None  # boot tests keep their screenshots and logs in <evidence_dir>/<server>
    measure_read: float | None = None  # seconds of reading the biggest image; None: a small sample only
    winre_port: int | None = None  # see Access.winre_port


def run_drill(
    entries: list[ServerEntry], options: DrillOptions, on_done: Callable[[ServerResult], object] | None = None
) -> list[ServerResult]:
    """Every server's result, in inventory order."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for index, entry in enumerate(entries):
        groups.setdefault(entry.share_key, []).append(index)
    results: dict[int, ServerResult] = {}
    started: dict[int, float] = {}
    lock = threading.Lock()

    def finish(index: int, result: ServerResult) -> None:
        with lock:
            if index in results:
                return  # already reported as timed out
            results[index] = result
        if on_done is not None:
            on_done(result)

    def run_group(indexes: list[int]) -> None:
        session: _Session | None = None
        try:
            for index in indexes:
                with lock:
                    if index in results:
                        continue
                    started[index] = time.monotonic()
                entry = entries[index]
                if session is None:
                    session = _Session(entry, options)
                elif not session.usable:
                    session.reopen()
                finish(index, _check_server(entry, options, session, started[index]))
        finally:
            if session is not None:
                session.close()

    pool = ThreadPoolExecutor(max_workers=max(1, options.concurrency), thread_name_prefix="bmr-drill")
    futures: list[Future[None]] = [pool.submit(run_group, indexes) for indexes in groups.values()]
    deadline = time.monotonic() + options.server_timeout * (len(entries) + 1)
    try:
        while len(results) < len(entries) and time.monotonic() < deadline:
            now = time.monotonic()
            with lock:
                late = [i for i, t in started.items() if i not in results and now - t > options.server_timeout]
            for index in late:
                finish(index, _timed_out(entries[index], options.server_timeout))
            if all(f.done() for f in futures) and len(results) < len(entries):
                break
            time.sleep(0.05)
        for index, entry in enumerate(entries):
            if index not in results:
                finish(index, _timed_out(entry, options.server_timeout))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return [results[i] for i in range(len(entries))]


def _timed_out(entry: ServerEntry, budget: float) -> ServerResult:
    check = failed(
        "drill", f"no result within {budget:g} s", "check the server and the network, or raise --server-timeout"
    )
    return ServerResult(entry, Status.FAIL, (check,), budget)


class _Session:
    """One logon to a share, shared by the servers that name it. Opening it may fail; preflight then says why."""

    def __init__(self, entry: ServerEntry, options: DrillOptions) -> None:
        self.entry = entry
        self.access = _access(entry, options)
        self.backend: Backend | None = None
        self.reopen()

    def reopen(self) -> None:
        self.close()
        try:
            self.backend = open_backend(self.entry.location, self.access)
        except errors.BmrError:
            self.backend = None

    @property
    def usable(self) -> bool:
        return self.backend is not None

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()
            self.backend = None


class _InventoryPassword(PasswordSource):
    """The password from the variable the inventory names; its absence is told in the drill's own terms."""

    def __init__(self, entry: ServerEntry) -> None:
        super().__init__(env=entry.password_env)
        self.line = entry.line

    def require(self, purpose: str) -> Secret:
        secret = self.get(purpose)
        if secret is None:
            raise errors.UsageError(
                f"no password for {purpose}: the environment variable {self.env} is not set",
                hint=f"set {self.env} in the environment that runs bmr drill (the inventory's password_env, "
                f"in the [[server]] at line {self.line}, names it)",
            )
        return secret


def _access(entry: ServerEntry, options: DrillOptions) -> Access:
    return Access(
        password=_InventoryPassword(entry),
        ssh=options.ssh,
        user=entry.user,
        timeout=entry.timeout or options.timeout,
        winre_port=options.winre_port,
    )


def _check_server(entry: ServerEntry, options: DrillOptions, session: _Session, began: float) -> ServerResult:
    access = _access(entry, options)
    checks: list[Check] = []
    staged: dict[str, Any] | None = None
    stage_size: int | None = None
    try:
        if entry.source is not None and not entry.stage:
            stage_size, problem = _source_size(entry, access)
            checks += [problem] if problem is not None else []
        if entry.source is not None and entry.stage:
            staged = _stage(entry, access)
            if not staged.get("ok"):
                checks.append(failed("stage", staged.get("error", "the copy failed"), "run bmr stage by hand"))
        if staged and staged.get("ok"):
            session.reopen()  # the copy changed the share: a fresh session sees it as the restore will
        server_share = None
        if entry.ssh is not None:
            ssh_location = parse_location(f"sftp://{entry.ssh}/")
            unc_share = entry.location.share or ""
            smb_conf = entry.ssh_smb_conf

            def server_share(unc: str) -> Check:
                return server_share_check(ssh_location, access, unc_share, unc, smb_conf)

        request = PlanRequest(
            entry.location, entry.purpose, entry.computer, entry.version, stage_size=stage_size, deep=entry.deep,
            target_hardware=entry.target_hardware,
        )  # fmt: skip
        plan = evaluate(request, access, server_share=server_share, backend=session.backend)
        booted = [boot_test_check(entry, access, options.evidence_dir)] if entry.boot_test else []
    except errors.BmrError as exc:
        checks.append(failed("drill", str(exc), exc.hint))
        return ServerResult(entry, Status.FAIL, tuple(checks), time.monotonic() - began, staged=staged)
    checks = [*checks, *plan.checks, *booted]
    result = ServerResult(entry, overall(checks), tuple(checks), time.monotonic() - began, staged=staged)
    return replace(result, **_point_details(plan, result, session, options.measure_read))


def _source_size(entry: ServerEntry, access: Access) -> tuple[int | None, Check | None]:
    """The size of the point at the source, which the write and free-space checks are held against; or, when the
    source cannot be read, a failed check saying why (the share is checked all the same)."""
    assert entry.source is not None
    try:
        with open_backend(entry.source, access.for_other(entry.source)) as source:
            return point_size(source, entry.computer, entry.version, PreflightRequest.depth), None
    except errors.BmrError as exc:
        where = entry.source.display()
        return None, failed("source", f"{where}: {exc}", exc.hint or "check the inventory's source")


def _stage(entry: ServerEntry, access: Access) -> dict[str, Any]:
    assert entry.source is not None
    try:
        with (
            open_backend(entry.source, access.for_other(entry.source)) as src,
            open_target(entry.location, access) as dst,
        ):
            result = run_stage(src, dst, machine=entry.computer, version=entry.version)
    except errors.BmrError as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": result.ok, **result.to_json()}


def _point_details(plan: Plan, result: ServerResult, session: _Session, measure_read: float | None) -> dict[str, Any]:
    """What the drill reports of the plan's chosen point, and its runbook (with the FAIL banner when it fails)."""
    choice = plan.choice
    if choice is None:
        return {}
    point = choice.point
    details: dict[str, Any] = {
        "version": point.version,
        "backup_time_utc": point.backup_time_utc,
        "size_bytes": point.size_bytes,
        "newest_backup_utc": max(
            (p.backup_time_utc for p in choice.machine.recovery_points if p.backup_time_utc), default=None
        ),
    }
    try:
        runbook = runbook_for(plan, None, force=True)
        details["runbook"] = replace(runbook, blocking=result.banner)
    except errors.BmrError:
        pass  # no runbook: the report writes the failing checks as this server's checklist
    backend = session.backend
    if backend is None:
        return details
    images = sorted((v for v in point.volumes if v.image and v.size), key=lambda v: v.size or 0)
    rates: list[Rate] = []
    if images:
        path = "/".join(p for p in (choice.machine.path, point.folder, images[-1].image or "") if p)
        if (read := read_rate(backend, path, measure_read)) is not None:
            details["throughput"] = read.per_second
            rates.append(read)
    if (staged := last_stage_rate(backend, choice.tree.path, choice.machine.name)) is not None:
        rates.append(staged)
    details["rates"] = tuple(rates)
    return details
