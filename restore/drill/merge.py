"""`bmr drill merge`: several sites' drill reports (each a folder with drill.json) as one report.

A fleet runs one drill per site from the scheduler it already has and reads one report: each server keeps its
result and gains the site it came from (the folder's name, or the path when two folders share a name); each
site's checklists are copied under ``checklists/<site>/``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from restore import __version__
from restore.checks.check import Status
from restore.drill.chains import site_ledger
from restore.drill.report import write_parts
from restore.outcome import Outcome
from share import errors

_COUNTED = (Status.PASS, Status.WARN, Status.FAIL)


class ReportUnreadable(errors.Unreadable):
    """Give folders that `bmr drill --report-dir` wrote (each holds drill.json); nothing was written."""


@dataclass(frozen=True)
class MergeRequest:
    reports: tuple[Path, ...]  # report folders, or their drill.json files
    report_dir: Path
    junit: Path | None = None


@dataclass(frozen=True)
class MergedReport:
    document: dict[str, Any]
    report_dir: Path
    written: tuple[Path, ...]

    @property
    def outcome(self) -> Outcome:
        broken = any((s.get("ledger") or {}).get("intact") is False for s in self.document.get("sites", []))
        return Outcome.FAILED if self.document["summary"]["fail"] or broken else Outcome.OK

    def to_json(self) -> dict[str, Any]:
        return {**self.document, "report_dir": str(self.report_dir)}


def merge_reports(request: MergeRequest, now: datetime | None = None) -> MergedReport:
    """Read every site's drill.json (ReportUnreadable naming each bad one before anything is written), then write
    drill.json, drill.html and junit.xml of all of them, and copy the checklists, into ``report_dir``."""
    if not request.reports:
        raise errors.UsageError("give at least one report folder")
    loaded: list[tuple[Path, dict[str, Any]]] = []
    problems: list[str] = []
    for given in request.reports:
        path = given if given.name == "drill.json" else given / "drill.json"
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(document, dict) or not isinstance(document.get("servers"), list):
                raise ValueError("no list of servers")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            problems.append(f"{path}: {exc}")
            continue
        loaded.append((path.parent, document))
    if problems:
        raise ReportUnreadable("cannot merge: " + "; ".join(problems))
    if request.report_dir.resolve() in {folder.resolve() for folder, _ in loaded}:
        raise errors.UsageError(f"{request.report_dir} is one of the reports: give a new --report-dir")

    names = [folder.resolve().name or str(folder) for folder, _ in loaded]
    sites: list[dict[str, Any]] = []
    servers: list[dict[str, Any]] = []
    for (folder, document), name in zip(loaded, names, strict=True):
        site = name if names.count(name) == 1 else str(folder)
        site_servers = [{**server, "site": server.get("site") or site} for server in document["servers"]]
        # Each site's ledger is its own chain: checked against the entry its report recorded, copied unchanged.
        ledger = site_ledger(document, request.report_dir / "ledgers" / _safe(site))
        if ledger is not None:
            site_servers = [{**s, "ledger": {**s["ledger"], "chain": ledger["chain"]}} if s.get("ledger") else s
                            for s in site_servers]  # fmt: skip
        servers += site_servers
        sites.append({
            "site": site,
            "report": str(folder),
            "generated": document.get("generated", ""),
            "tool": document.get("tool", ""),
            "summary": _count(site_servers),
            **({"ledger": ledger} if ledger is not None else {}),
        })  # fmt: skip
    now = now or datetime.now(UTC)
    merged = {
        "tool": f"bmr {__version__}",
        "generated": now.isoformat(),
        "summary": _count(servers),
        "sites": sites,
        "servers": servers,
    }
    written = write_parts(request.report_dir, merged, request.junit)
    for (folder, _document), site in zip(loaded, (s["site"] for s in sites), strict=True):
        books = folder / "checklists"
        if books.is_dir():
            target = request.report_dir / "checklists" / _safe(site)
            shutil.copytree(books, target, dirs_exist_ok=True)
            written += sorted(p for p in target.rglob("*") if p.is_file())
    return MergedReport(merged, request.report_dir, tuple(written))


def _count(servers: list[dict[str, Any]]) -> dict[str, int]:
    return {s.value: sum(1 for server in servers if server.get("status") == s.value) for s in _COUNTED}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".")[:60] or "site"
