"""The drill's report: drill.json, a self-contained HTML page, JUnit XML and one runbook per server. The page and
the XML are rendered from the drill.json document alone, so that merged reports of several sites look the same.
Pure renderers, plus :func:`write_report` and :func:`write_parts`, which put them in the report folder."""

from __future__ import annotations

import html
import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from restore import __version__
from restore.checks.check import Check, Status
from restore.checks.junit import render_junit
from restore.drill.audit import audit_cell
from restore.drill.run import ServerResult
from restore.units import human_bytes, human_seconds
from winre.formats import not_ready_html, not_ready_markdown, render_html, render_markdown


def drill_json(results: list[ServerResult], now: datetime) -> dict[str, Any]:
    counts = {s.value: sum(1 for r in results if r.status is s) for s in (Status.PASS, Status.WARN, Status.FAIL)}
    return {
        "tool": f"bmr {__version__}",
        "generated": now.isoformat(),
        "summary": counts,
        "servers": [r.to_json(now) for r in results],
    }


_CSS = """
body { font: 10pt/1.4 "DejaVu Sans", "Segoe UI", Arial, sans-serif; margin: 8mm; color: #111; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #bbb; padding: 1.5mm 2mm; vertical-align: top; }
th { background: #eee; text-align: left; } tr { break-inside: avoid; }
.pass { background: #e3f5e1; } .warn { background: #fff4d6; } .fail { background: #fde2df; }
.status { font-weight: bold; text-transform: uppercase; } .fix { color: #555; font-size: 9pt; }
@page { size: A4 landscape; margin: 10mm; }
"""


def drill_html(data: dict[str, Any]) -> str:
    """The report page, from a drill.json document (one drill's, or several sites' merged)."""
    e = html.escape
    servers: list[dict[str, Any]] = data["servers"]
    rows = []
    for server in servers:
        problems = [c for c in server["checks"] if c["status"] in (Status.FAIL, Status.WARN)]
        listed = (
            "".join(
                f"<div><b>{e(c['id'])}</b> ({e(c['status'])}): {e(c['message'])}"
                + (f'<div class="fix">fix: {e(c["fix"])}</div>' if c.get("fix") else "")
                + "</div>"
                for c in problems
            )
            or "none"
        )
        listed += _boot_evidence(server)
        age = server.get("age_days")
        estimate = server.get("estimated_copy_seconds")
        throughput = server.get("throughput_bytes_per_second")
        size = server.get("size_bytes")
        where = [server["location"], f"{server['purpose']}, computer {server.get('machine') or server['name']}"]
        if server.get("site"):
            where.insert(0, f"site {server['site']}")
        rows.append(
            f'<tr class="{e(server["status"])}"><td>{e(server["name"])}<div class="fix">'
            + "<br>".join(e(str(w)) for w in where)
            + f'</div></td><td class="status">{e(server["status"])}</td><td>{listed}</td>'
            f"<td>{e(server.get('version') or '-')}</td><td>{f'{age:.1f} days' if age is not None else '-'}</td>"
            f"<td>{human_bytes(size) if size else '-'}</td>"
            f"<td>{human_seconds(estimate) if estimate is not None else '-'}"
            + (f'<div class="fix">at {human_bytes(int(throughput))}/s</div>' if throughput else "")
            + f"</td><td>{audit_cell(server)}</td></tr>"
        )
    counts = data["summary"]
    sites = data.get("sites") or []
    site_lines = "".join(
        f"<li>{e(site['site'])}: {e(site['generated'][:16].replace('T', ' '))} UTC, {site['summary']['pass']} pass, "
        f"{site['summary']['warn']} warn, {site['summary']['fail']} fail"
        + (f"; drill ledger: {e(site['ledger']['chain'])}" if site.get("ledger") else "")
        + "</li>"
        for site in sites
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>DR drill report</title>'
        f"<style>{_CSS}</style></head><body><h1>DR drill report</h1>"
        f"<p>{e(data['generated'][:16].replace('T', ' '))} UTC, {e(data['tool'])}: {counts['pass']} pass, "
        f"{counts['warn']} warn, {counts['fail']} fail of {len(servers)} servers"
        + (f" from {len(sites)} sites:</p><ul>{site_lines}</ul>" if sites else ".</p>")
        + "<table><thead><tr><th>Server</th><th>Status</th><th>Failing checks and fixes</th><th>Version identifier"
        "</th><th>Recovery point age</th><th>Size</th><th>Estimated restore copy time</th>"
        "<th>RPO, RTO and drill ledger</th></tr></thead><tbody>" + "\n".join(rows) + "</tbody></table></body></html>\n"
    )


def _boot_evidence(server: dict[str, Any]) -> str:
    """The boot test's last screenshot, shown from the report folder's ``boot-tests/<server>/`` (where the drill keeps
    it), and how many there are: the evidence of what the screen showed when the test stopped."""
    booted = next((c for c in server["checks"] if c["id"] == "boot-test"), None)
    details = (booted or {}).get("details") or {}
    shots = (details.get("run") or {}).get("screenshots") or []
    folder = details.get("evidence_dir")
    if not shots or not folder:
        return ""
    src = html.escape(f"boot-tests/{Path(folder).name}/{shots[-1]}", quote=True)
    return (
        f'<div class="fix">boot test: {len(shots)} screenshot(s) in boot-tests/{html.escape(Path(folder).name)}/; '
        f'the last:</div><a href="{src}"><img src="{src}" alt="the boot test\'s last screen" '
        'style="max-width: 60mm; border: 1px solid #bbb"></a>'
    )


def drill_junit(data: dict[str, Any]) -> str:
    """JUnit XML from a drill.json document: one testsuite per server, one testcase per check."""
    suites = []
    for server in data["servers"]:
        name = f"{server['name']} ({server['purpose']})"
        if server.get("site"):
            name = f"{server['site']}: {name}"
        checks = tuple(Check(c["id"], Status(c["status"]), c["message"], c.get("fix")) for c in server["checks"])
        suites.append((name, checks))
    return render_junit(suites, name="bmr drill", qualified=True)


def write_parts(folder: Path, data: dict[str, Any], junit: Path | None = None) -> list[Path]:
    """drill.json, drill.html and junit.xml of a drill.json document into ``folder`` (and ``junit``)."""
    folder.mkdir(exist_ok=True)  # only under an existing folder: a typo must not grow a tree of folders
    written = []
    parts = {
        "drill.json": json.dumps(data, indent=2) + "\n",
        "drill.html": drill_html(data),
        "junit.xml": drill_junit(data),
    }
    for name, text in parts.items():
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    if junit is not None:
        junit.write_text(parts["junit.xml"], encoding="utf-8")
        written.append(junit)
    return written


def write_report(
    folder: Path,
    results: list[ServerResult],
    now: datetime,
    junit: Path | None = None,
    document: dict[str, Any] | None = None,
) -> list[Path]:
    """Write every part of the report (``document``: the drill.json when the caller added to it); returns the
    files written."""
    written = write_parts(folder, document or drill_json(results, now), junit)
    books = folder / "checklists"
    shutil.rmtree(books, ignore_errors=True)  # a rerun into the same folder must not keep the last run's checklists
    for index, result in enumerate(results):  # every server gets one; a failing one opens with the FAIL banner
        books.mkdir(exist_ok=True)
        stem = f"{index + 1:03d}-{_safe(result.entry.name)}"
        runbook = result.runbook
        for suffix, render, not_ready in (
            ("md", render_markdown, not_ready_markdown),
            ("html", render_html, not_ready_html),
        ):
            path = books / f"{stem}.{suffix}"
            if runbook is not None:
                book = render(runbook)
            else:
                book = not_ready(result.entry.name, result.entry.location.display(), result.banner)
            path.write_text(book, encoding="utf-8")
            written.append(path)
    return written


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:60] or "server"
