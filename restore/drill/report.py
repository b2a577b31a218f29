"""The drill's report: drill.json, a self-contained HTML page, JUnit XML and one runbook per server. Pure
renderers, plus :func:`write_report`, which puts them in the report folder."""

from __future__ import annotations

import html
import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from restore import __version__
from restore.checks.check import Status
from restore.checks.junit import render_junit
from restore.drill.run import ServerResult
from restore.units import human_bytes, human_seconds
from winre.formats import render_html, render_markdown


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


def drill_html(results: list[ServerResult], now: datetime) -> str:
    e = html.escape
    rows = []
    for r in results:
        problems = [c for c in r.checks if c.status in (Status.FAIL, Status.WARN)]
        listed = (
            "".join(
                f"<div><b>{e(c.id)}</b> ({e(c.status.value)}): {e(c.message)}"
                + (f'<div class="fix">fix: {e(c.fix)}</div>' if c.fix else "")
                + "</div>"
                for c in problems
            )
            or "none"
        )
        age = r.age_days(now)
        estimate = r.estimated_copy_seconds
        rows.append(
            f'<tr class="{r.status.value}"><td>{e(r.entry.name)}<div class="fix">{e(r.entry.location.display())}'
            f'</div></td><td class="status">{e(r.status.value)}</td><td>{listed}</td>'
            f"<td>{e(r.version or '-')}</td><td>{f'{age:.1f} days' if age is not None else '-'}</td>"
            f"<td>{human_bytes(r.size_bytes) if r.size_bytes else '-'}</td>"
            f"<td>{human_seconds(estimate) if estimate is not None else '-'}"
            + (f'<div class="fix">at {human_bytes(int(r.throughput))}/s</div>' if r.throughput else "")
            + "</td></tr>"
        )
    counts = drill_json(results, now)["summary"]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>DR drill report</title>'
        f"<style>{_CSS}</style></head><body><h1>DR drill report</h1>"
        f"<p>{now:%Y-%m-%d %H:%M} UTC, bmr {e(__version__)}: {counts['pass']} pass, {counts['warn']} warn, "
        f"{counts['fail']} fail of {len(results)} servers.</p>"
        "<table><thead><tr><th>Server</th><th>Status</th><th>Failing checks and fixes</th><th>Version identifier"
        "</th><th>Recovery point age</th><th>Size</th><th>Estimated restore copy time</th></tr></thead><tbody>"
        + "\n".join(rows)
        + "</tbody></table></body></html>\n"
    )


def write_report(folder: Path, results: list[ServerResult], now: datetime, junit: Path | None = None) -> list[Path]:
    """Write every part of the report; returns the files written."""
    folder.mkdir(exist_ok=True)  # only under an existing folder: a typo must not grow a tree of folders
    written = []
    parts = {
        "drill.json": json.dumps(drill_json(results, now), indent=2) + "\n",
        "drill.html": drill_html(results, now),
        "junit.xml": render_junit([(r.entry.name, r.checks) for r in results], name="bmr drill"),
    }
    for name, text in parts.items():
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    if junit is not None:
        junit.write_text(parts["junit.xml"], encoding="utf-8")
        written.append(junit)
    books = folder / "checklists"
    shutil.rmtree(books, ignore_errors=True)  # a rerun into the same folder must not keep the last run's checklists
    for index, result in enumerate(results):
        if result.runbook is None:
            continue
        books.mkdir(exist_ok=True)
        stem = f"{index + 1:03d}-{_safe(result.entry.name)}"
        for suffix, render in (("md", render_markdown), ("html", render_html)):
            path = books / f"{stem}.{suffix}"
            path.write_text(render(result.runbook), encoding="utf-8")
            written.append(path)
    return written


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:60] or "server"
