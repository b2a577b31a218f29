"""`bmr drill`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from restore.cli import text
from restore.cli.options import HostKey, Json, KnownHosts, SshKey, Timeout
from restore.cli.output import finish, run, style
from restore.drill.inventory import describe_keys
from restore.drill.rehearse import DrillRequest, DrillSummary, rehearse
from restore.drill.run import DrillOptions
from share.sftp import SshOptions


def drill(
    inventory: Annotated[Path, typer.Argument(help="The inventory: a TOML file of [[server]] tables.")],
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", metavar="DIR", help="Where the report goes (default: a new folder).")
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=256, help="Shares checked at once.")] = 16,
    junit: Annotated[Path | None, typer.Option("--junit", metavar="FILE", help="Also write JUnit XML here.")] = None,
    server_timeout: Annotated[
        float,
        typer.Option("--server-timeout", min=1.0, max=86400.0, help="Seconds one server may take before it is failed."),
    ] = 120.0,
    as_json: Json = False,
    ssh_known_hosts: KnownHosts = None,
    ssh_host_key: HostKey = None,
    ssh_key: SshKey = None,
    timeout: Timeout = 10.0,
) -> None:
    """Rehearse disaster recovery for many servers: preflight (and optionally stage) every one, then report."""
    options = DrillOptions(
        concurrency=concurrency,
        server_timeout=server_timeout,
        timeout=timeout,
        ssh=SshOptions(known_hosts=ssh_known_hosts, host_key=ssh_host_key, key_files=tuple(ssh_key or ())),
    )
    bar = tqdm(total=0, unit="server", disable=None)

    def work() -> DrillSummary:
        try:
            return rehearse(
                DrillRequest(inventory, options, report_dir, junit),
                on_count=lambda count: setattr(bar, "total", count),
                on_done=lambda _result: bar.update(1),
            )
        finally:
            bar.close()

    def render(summary: DrillSummary) -> str:
        report = summary.report_dir / "drill.html"
        return (
            text.format_drill(list(summary.results), style)
            + f"\nReport: {report} (and drill.json, junit.xml, checklists/)"
        )

    finish(run(as_json, work), as_json, render)


drill.__doc__ = f"""Rehearse disaster recovery for many servers: preflight (or stage) every one, then report.

Writes drill.json, drill.html, junit.xml and one checklist per server into the report folder, and prints one
line per server with the first failing check. Exit 0 when every server passes (warnings allowed), 1 when any
fails, 3 when the inventory cannot be read (nothing runs then).

The inventory is a TOML file of [[server]] tables; examples/drill-inventory.toml is a complete one. Keys:

\b
{describe_keys()}

Example (the password is never in it, only the name of the variable that holds it):

\b
  [[server]]
  name = "DC01 (Berlin)"
  machine = "DC01"
  location = "smb://CORP;svc-restore@10.0.0.5/restore"
  purpose = "bmr"
  password_env = "DR_RESTORE_PW"

\b
  DR_RESTORE_PW=... bmr drill inventory.toml --report-dir drill-report
"""
