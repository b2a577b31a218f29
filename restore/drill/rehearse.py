"""`bmr drill` as one call: read the inventory, run every server, judge freshness, estimate restore times, append
the drill's record to the ledger, write the report (and the Prometheus textfile)."""

from __future__ import annotations

import getpass
import hashlib
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from restore.checks.check import Status
from restore.drill.audit import annotate, estimate_for, ledger_record, with_estimates_in_runbooks, with_freshness
from restore.drill.chains import append_to_ledger, private_key
from restore.drill.inventory import InventoryError, load_inventory
from restore.drill.ledger import Appended
from restore.drill.prometheus import render_prometheus, write_textfile
from restore.drill.report import drill_json, write_report
from restore.drill.run import DrillOptions, ServerResult, run_drill
from restore.outcome import Outcome
from share import errors
from share.connect import Access, parse_location
from share.credentials import PasswordSource


@dataclass(frozen=True)
class DrillRequest:
    inventory: Path
    options: DrillOptions
    report_dir: Path | None = None  # None: a new folder named by the time, in the current folder
    junit: Path | None = None
    rpo: float | None = None  # target RPO (seconds) for servers whose inventory entry names none
    ledger: str | None = None  # the ledger folder, local or on a share (its password: BMR_PASSWORD)
    sign_key: Path | None = None  # Ed25519 private key that signs the ledger record
    note: str | None = None  # why the drill ran, for the record ("quarterly DR test")
    prometheus: Path | None = None
    server: str | None = None  # drill only this server of the inventory (by name, any case)
    report: bool = True  # False: no report folder unless report_dir is given (--nagios)


@dataclass(frozen=True)
class DrillSummary:
    results: tuple[ServerResult, ...]
    generated: datetime
    report_dir: Path | None
    document: dict[str, Any] = field(default_factory=dict)
    appended: Appended | None = None

    @property
    def outcome(self) -> Outcome:
        failed = any(r.status is Status.FAIL for r in self.results) or ledger_error(self.document) is not None
        return Outcome.FAILED if failed else Outcome.OK

    def to_json(self) -> dict[str, Any]:
        document = self.document or drill_json(list(self.results), self.generated)
        return {**document, "report_dir": str(self.report_dir) if self.report_dir else None}


def rehearse(
    request: DrillRequest,
    *,
    on_count: Callable[[int], object] | None = None,
    on_done: Callable[[ServerResult], object] | None = None,
) -> DrillSummary:
    """Validate the inventory (InventoryError before anything runs), run every server, write the report."""
    entries = load_inventory(request.inventory)
    if request.server is not None:
        entries = [e for e in entries if e.name.lower() == request.server.lower()]
        if not entries:
            raise InventoryError(f"{request.inventory}: no [[server]] is named {request.server!r}")
    key = private_key(request.sign_key)  # a bad key stops the drill before it runs
    if request.ledger is not None:
        parse_location(request.ledger)
    if on_count is not None:
        on_count(len(entries))
    started = datetime.now(UTC)
    options = request.options
    early: Path | None = None
    if any(entry.boot_test for entry in entries) and (request.report_dir or request.report):
        # The boot tests' screenshots go into the report: its folder is made before the servers run.
        early = request.report_dir or Path(f"drill-report-{started:%Y%m%d-%H%M%S}")
        early.mkdir(exist_ok=True)
        options = replace(options, evidence_dir=early / "boot-tests")
    results = run_drill(entries, options, on_done=on_done)
    now = datetime.now(UTC)
    results = with_freshness(results, request.rpo, now)
    estimates = [estimate_for(r) for r in results]
    results = with_estimates_in_runbooks(results, estimates)
    document = annotate(drill_json(results, now), results, estimates, request.rpo, now)
    folder = early or request.report_dir or (Path(f"drill-report-{now:%Y%m%d-%H%M%S}") if request.report else None)
    appended = None
    if request.ledger is not None:
        inventory_bytes = request.inventory.read_bytes()
        record = ledger_record(
            document,
            started=started,
            user=_user(),
            host=socket.gethostname(),
            note=request.note,
            inventory=str(request.inventory),
            inventory_sha256=hashlib.sha256(inventory_bytes).hexdigest(),
            report_dir=str(folder.resolve()) if folder else None,
        )
        access = Access(password=PasswordSource(), ssh=request.options.ssh, timeout=request.options.timeout)
        ledger: dict[str, Any]
        try:
            appended = append_to_ledger(request.ledger, access, record, key)
            ledger = appended.to_json()
        except errors.BmrError as exc:  # the report is still written, and says the record is missing
            ledger = {"ledger": request.ledger, "error": f"{exc.message}" + (f" ({exc.hint})" if exc.hint else "")}
        document = {**document, "ledger": ledger,
                    "servers": [{**s, "ledger": ledger} for s in document["servers"]]}  # fmt: skip
    if folder is not None:
        write_report(folder, results, now, request.junit, document=document)
    if request.prometheus is not None:
        write_textfile(request.prometheus, render_prometheus(document))
    return DrillSummary(tuple(results), now, folder, document, appended)


def ledger_error(document: dict[str, Any]) -> str | None:
    """Why the drill's record could not be appended, when it could not."""
    ledger = document.get("ledger") or {}
    return str(ledger["error"]) if "error" in ledger else None


def _user() -> str:
    """Who ran the drill (the login name; the environment's when the system has none for this process)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name for this uid (a container), no USERNAME on Windows
        return "unknown"
