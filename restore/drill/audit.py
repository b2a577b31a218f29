"""What auditors and monitoring read from a drill: the RPO each server achieves (freshness, a check of its own),
the restore-time estimate (RTO), and the drill record the ledger keeps. Pure functions over the drill's results
and its drill.json document."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import datetime
from typing import Any

from restore.checks.check import Status, overall
from restore.drill.estimate import STAGED, Estimate, Rate, best_estimate
from restore.drill.freshness import human_duration, rpo_check
from restore.drill.run import ServerResult


def with_freshness(results: list[ServerResult], default_rpo: float | None, now: datetime) -> list[ServerResult]:
    """Each result with its ``rpo`` check added (the server's own target, else ``default_rpo``) and its status
    recomputed; unchanged without a target, and for a server that was never reached (no point was looked at)."""
    out = []
    for result in results:
        target = result.entry.rpo or default_rpo
        # The share was read far enough to look for the computer's points; otherwise nothing is known of their age.
        looked = any(c.id in ("machine", "recovery-point") and c.status is not Status.SKIP for c in result.checks)
        reached = result.version is not None or looked
        if target is None or not reached:
            out.append(result)
            continue
        checks = (*result.checks, rpo_check(result.newest_backup_utc or result.backup_time_utc, target, now))
        out.append(replace(result, checks=checks, status=overall(checks)))
    return out


def estimate_for(result: ServerResult) -> Estimate | None:
    """The restore-time estimate of one server (restore.drill.estimate says which rate wins)."""
    rates = list(result.rates)
    staged = result.staged or {}
    if staged.get("ok") and staged.get("bytes_copied") and staged.get("copy_seconds"):
        rates.append(Rate(STAGED, int(staged["bytes_copied"]), float(staged["copy_seconds"]), "this drill"))
    return best_estimate(result.size_bytes, rates)


def with_estimates_in_runbooks(results: list[ServerResult], estimates: list[Estimate | None]) -> list[ServerResult]:
    """The estimate, explained, into each server's checklist."""
    return [
        replace(r, runbook=replace(r.runbook, restore_estimate=e.explained()))
        if r.runbook is not None and e is not None
        else r
        for r, e in zip(results, estimates, strict=True)
    ]


def annotate(document: dict[str, Any], results: list[ServerResult], estimates: list[Estimate | None],
             default_rpo: float | None, now: datetime) -> dict[str, Any]:  # fmt: skip
    """The drill.json document with each server's ``rpo`` and ``rto`` added."""
    servers = []
    for server, result, estimate in zip(document["servers"], results, estimates, strict=True):
        target = result.entry.rpo or default_rpo
        newest = result.newest_backup_utc or result.backup_time_utc
        age = (now - newest).total_seconds() if newest is not None else None
        rpo = {
            "target_seconds": target,
            "newest_point_utc": newest.isoformat() if newest else None,
            "achieved_seconds": round(age) if age is not None else None,
            "met": None if target is None or age is None else age <= target,
        }
        rto = {"estimate": estimate.to_json() if estimate else None}
        servers.append({**server, "rpo": rpo, "rto": rto})
    return {**document, "servers": servers}


def ledger_record(document: dict[str, Any], *, started: datetime, user: str, host: str, note: str | None,
                  inventory: str, inventory_sha256: str, report_dir: str | None) -> dict[str, Any]:  # fmt: skip
    """The fields of one drill's ledger entry (the ledger adds position, previous_sha256 and format), from its
    drill.json document: when, who, which servers and points, purpose, achieved RPO, RTO, every check's verdict."""
    servers = []
    for server in document["servers"]:
        estimate = (server.get("rto") or {}).get("estimate")
        rpo = server.get("rpo") or {}
        servers.append({
            "name": server["name"],
            "machine": server.get("machine"),
            "purpose": server["purpose"],
            "location": server["location"],
            "version": server.get("version"),
            "backup_time_utc": server.get("backup_time_utc"),
            "result": server["status"],
            "rpo_target_seconds": rpo.get("target_seconds"),
            "rpo_achieved_seconds": rpo.get("achieved_seconds"),
            "rpo_met": rpo.get("met"),
            "rto_estimated_seconds": estimate["seconds"] if estimate else None,
            "rto_basis": estimate["based_on"] if estimate else None,
            "checks": [{"id": c["id"], "status": c["status"], "message": c["message"]} for c in server["checks"]],
        })  # fmt: skip
    return {
        "drill_started_utc": started.isoformat(),
        "drill_finished_utc": document["generated"],
        "performed_by": {"user": user, "host": host},
        "tool": document["tool"],
        "note": note,
        "inventory": inventory,
        "inventory_sha256": inventory_sha256,
        "report_dir": report_dir,
        "result": "fail" if document["summary"]["fail"] else ("warn" if document["summary"]["warn"] else "pass"),
        "summary": document["summary"],
        "servers": servers,
    }


def audit_cell(server: dict[str, Any]) -> str:
    """The report's RPO / RTO / ledger cell of one server (HTML)."""
    e = html.escape
    lines = []
    rpo = server.get("rpo") or {}
    if rpo.get("achieved_seconds") is not None:
        target = rpo.get("target_seconds")
        said = f"RPO achieved: {human_duration(rpo['achieved_seconds'])}"
        if target is not None:
            said += f" (target {human_duration(target)}: {'met' if rpo.get('met') else 'MISSED'})"
        lines.append(e(said))
    estimate = (server.get("rto") or {}).get("estimate")
    if estimate:
        lines.append(f'RTO estimate: {e(estimate["text"])}<div class="fix">based on {e(estimate["based_on"])}</div>')
    ledger = server.get("ledger")
    if ledger and "error" in ledger:
        lines.append(e(f"drill ledger: record NOT appended: {ledger['error']}"))
    elif ledger:
        lines.append(
            e(f"ledger entry {ledger['position']} (sha256 {ledger['sha256'][:12]}...), chain {ledger['chain']}")
        )
    return "<br>".join(lines) or "-"
