"""`bmr drill`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from restore.checks.check import Status
from restore.cli import logs, text
from restore.cli.options import HostKey, Json, Junit, KnownHosts, SshKey, Timeout
from restore.cli.output import finish, run, style
from restore.cli.paths import input_file, output_file, output_folder
from restore.cli.progress import ServerProgress
from restore.drill.inventory import InventoryError, describe_keys
from restore.drill.merge import MergedReport, MergeRequest, merge_reports
from restore.drill.rehearse import DrillRequest, DrillSummary, rehearse
from restore.drill.run import DrillOptions
from share.credentials import SshOptions
from share.errors import UsageError


def drill(
    # Checked below, not by typer: an unreadable inventory is exit 3.
    inventory: Annotated[Path, typer.Argument(help="The inventory: a TOML file of [[server]] tables.")],
    report_dir: Annotated[
        Path | None,
        typer.Option(
            "--report-dir",
            metavar="DIR",
            help="Where the report goes: a new folder in an existing one, or a report folder to overwrite "
            "(default: a new folder here).",
            file_okay=False,
        ),
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=256, help="Shares checked at once.")] = 16,
    junit: Junit = None,
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
    """Rehearse disaster recovery for many servers: preflight (and optionally stage) every one, then report.

    Writes drill.json, drill.html, junit.xml and one checklist per server into the report folder.
    Exit 0 when every server passes (warnings allowed), 1 when any fails, 3 when the inventory cannot be read.

    Inventory example (the password is never in it, only the name of the variable that holds it):

    \b
      [[server]]
      name = "DC01"
      location = "smb://CORP;svc-restore@10.0.0.5/restore"
      purpose = "bmr"
      password_env = "DR_RESTORE_PW"
    """
    try:
        input_file(inventory, "INVENTORY")
    except UsageError as exc:  # an unreadable inventory is exit 3, as documented
        raise InventoryError(f"{exc.message}; examples/drill-inventory.toml is a complete inventory") from None
    for option, given in (("--ssh-known-hosts", [ssh_known_hosts]), ("--ssh-key", ssh_key or [])):
        for path in given:
            if path is not None:
                input_file(path, option)
    # The default report folder is a new one in the current folder: that must take one.
    output_folder(report_dir if report_dir is not None else Path.cwd(), "--report-dir")
    if junit is not None:
        output_file(junit, "--junit")
    options = DrillOptions(
        concurrency=concurrency,
        server_timeout=server_timeout,
        timeout=timeout,
        ssh=SshOptions(known_hosts=ssh_known_hosts, host_key=ssh_host_key, key_files=tuple(ssh_key or ())),
    )
    bar = ServerProgress(terminal=sys.stderr.isatty(), quiet=logs.SETTINGS.quiet)

    def work() -> DrillSummary:
        try:
            return rehearse(
                DrillRequest(inventory, options, report_dir, junit),
                on_count=bar.on_count,
                on_done=lambda result: bar.on_done(result.status is Status.FAIL),
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

One report from several sites' drills (each run by the site's own scheduler): bmr drill merge DIR... --report-dir DIR.

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


def drill_merge(
    reports: Annotated[
        list[Path], typer.Argument(metavar="DIR...", help="Report folders of `bmr drill` (each holds drill.json).")
    ],
    report_dir: Annotated[
        Path,
        typer.Option(
            "--report-dir", metavar="DIR", help="Where the merged report goes (a new folder).", file_okay=False
        ),
    ],
    junit: Junit = None,
    as_json: Json = False,
) -> None:
    """One report from several sites' drills: drill.json, drill.html and junit.xml in --report-dir.

    Each site runs `bmr drill` from the scheduler it has (cron, CI, Ansible) and the folders are gathered here;
    every server keeps its result and names its site (the folder's name). Each site's checklists are copied
    to checklists/SITE/. Exit 0 when every server passed (warnings allowed), 1 when any failed, 3 when a
    report cannot be read (nothing is written then).

    Example:

    \b
      bmr drill merge reports/berlin reports/hamburg --report-dir reports/all
    """

    def render(merged: MergedReport) -> str:
        counts = merged.document["summary"]
        sites = ", ".join(f"{s['site']} ({len([x for x in merged.document['servers'] if x['site'] == s['site']])})"
                          for s in merged.document["sites"])  # fmt: skip
        return (
            f"Merged {len(merged.document['servers'])} servers from {sites}: {counts['pass']} pass, "
            f"{counts['warn']} warn, {counts['fail']} fail\nReport: {merged.report_dir / 'drill.html'} "
            "(and drill.json, junit.xml, checklists/)"
        )

    output_folder(report_dir, "--report-dir")
    if junit is not None:
        output_file(junit, "--junit")
    request = MergeRequest(tuple(reports), report_dir, junit)
    finish(run(as_json, lambda: merge_reports(request)), as_json, render)
