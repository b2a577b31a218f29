"""`bmr drill`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from restore.checks.check import Status
from restore.cli import logs, text
from restore.cli.options import HostKey, Json, Junit, KnownHosts, SshKey, Timeout, WinrePort
from restore.cli.output import finish, run, style
from restore.cli.paths import input_file, output_file, output_folder
from restore.cli.progress import ServerProgress
from restore.drill.chains import LedgerCheck, verify_ledger
from restore.drill.freshness import parse_duration
from restore.drill.inventory import InventoryError, describe_keys
from restore.drill.merge import MergedReport, MergeRequest, merge_reports
from restore.drill.nagios import PluginOutput, render_nagios, unknown
from restore.drill.rehearse import DrillRequest, DrillSummary, ledger_error, rehearse
from restore.drill.run import DrillOptions
from share import errors
from share.connect import Access, parse_location
from share.credentials import SshOptions
from share.errors import UsageError

Rpo = Annotated[
    str | None,
    typer.Option("--rpo", metavar="DURATION", help='Target RPO for servers whose inventory names none ("24h", "36h", '
                 '"7d"): an older newest point fails the rpo check.'),
]  # fmt: skip


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
    winre_port: WinrePort = None,
    rpo: Rpo = None,
    ledger: Annotated[
        str | None,
        typer.Option(
            "--ledger",
            metavar="DIR",
            help="Append this drill's record to the ledger in DIR (a folder, local "
            "or on a share; a share's password comes from BMR_PASSWORD).",
        ),
    ] = None,
    sign_key: Annotated[
        Path | None,
        typer.Option(
            "--sign-key",
            metavar="FILE",
            dir_okay=False,
            help="Sign the ledger record with this Ed25519 private key (PEM or OpenSSH, unencrypted).",
        ),
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", metavar="TEXT", help='Why the drill ran, for the record ("Q4 DR test").')
    ] = None,
    prometheus: Annotated[
        Path | None,
        typer.Option(
            "--prometheus",
            metavar="FILE",
            dir_okay=False,
            writable=True,
            help="Also write a Prometheus textfile (e.g. for node_exporter's textfile collector: name it *.prom).",
        ),
    ] = None,
    measure_read: Annotated[
        float | None,
        typer.Option(
            "--measure-read",
            metavar="SECONDS",
            min=1.0,
            max=600.0,
            help="Read each point's biggest image "
            "for this long to measure the share's rate for the restore-time estimate.",
        ),
    ] = None,
    nagios: Annotated[
        bool,
        typer.Option(
            "--nagios",
            help="Nagios/Icinga plugin mode for one server: one line with performance data, "
            "exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; no report folder unless --report-dir.",
        ),
    ] = False,
    server: Annotated[
        str | None, typer.Option("--server", metavar="NAME", help="Drill only this server of the inventory.")
    ] = None,
) -> None:
    # The help is drill.__doc__, set below: it lists the inventory's keys.

    def prepare() -> DrillRequest:
        """Every path and value checked before anything runs; the request."""
        try:
            input_file(inventory, "INVENTORY")
        except UsageError as exc:  # an unreadable inventory is exit 3, as documented
            raise InventoryError(f"{exc.message}; examples/drill-inventory.toml is a complete inventory") from None
        if sign_key is not None:
            input_file(sign_key, "--sign-key")
        if prometheus is not None:
            output_file(prometheus, "--prometheus")
        if ledger is not None and not parse_location(ledger).is_remote:
            output_folder(Path(ledger), "--ledger")  # made when new, only in a folder that exists
        rpo_seconds = _rpo(rpo)
        _measure_fits(measure_read, server_timeout)
        for option, given in (("--ssh-known-hosts", [ssh_known_hosts]), ("--ssh-key", ssh_key or [])):
            for path in given:
                if path is not None:
                    input_file(path, option)
        # The default report folder is a new one in the current folder: that must take one (not in --nagios mode).
        if report_dir is not None or not nagios:
            output_folder(report_dir if report_dir is not None else Path.cwd(), "--report-dir")
        if junit is not None:
            output_file(junit, "--junit")
        options = DrillOptions(
            concurrency=concurrency,
            server_timeout=server_timeout,
            timeout=timeout,
            winre_port=winre_port,
            ssh=SshOptions(known_hosts=ssh_known_hosts, host_key=ssh_host_key, key_files=tuple(ssh_key or ())),
            measure_read=measure_read,
        )
        return DrillRequest(inventory, options, report_dir, junit, rpo=rpo_seconds, ledger=ledger, sign_key=sign_key,
                            note=note, prometheus=prometheus, server=server, report=not nagios)  # fmt: skip

    if nagios:
        _nagios(prepare)
    request = prepare()
    bar = ServerProgress(terminal=sys.stderr.isatty(), quiet=logs.SETTINGS.quiet)

    def work() -> DrillSummary:
        try:
            return rehearse(
                request,
                on_count=bar.on_count,
                on_done=lambda result: bar.on_done(result.status is Status.FAIL),
            )
        finally:
            bar.close()

    def render(summary: DrillSummary) -> str:
        report = (summary.report_dir or Path(".")) / "drill.html"
        lines = (
            text.format_drill(list(summary.results), style)
            + f"\nReport: {report} (and drill.json, junit.xml, checklists/)"
        )
        if summary.appended is not None:
            a = summary.appended
            lines += f"\nLedger: entry {a.position} in {a.before.location} (sha256 {a.sha256}); chain {a.chain_status}"
        elif (why := ledger_error(summary.document)) is not None:
            lines += f"\nLedger: this drill's record was NOT appended: {why}"
        return lines

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


def _rpo(rpo: str | None) -> float | None:
    try:
        return parse_duration(rpo) if rpo is not None else None
    except ValueError as exc:
        raise UsageError(f"--rpo: {exc}") from None


def _measure_fits(measure_read: float | None, server_timeout: float) -> None:
    if measure_read is not None and measure_read >= server_timeout / 2:
        raise UsageError(f"--measure-read {measure_read:g} leaves too little of --server-timeout {server_timeout:g}",
                         hint="raise --server-timeout to more than twice --measure-read")  # fmt: skip


def _nagios(prepare: Callable[[], DrillRequest]) -> None:
    """--nagios: drill one server and answer as a monitoring plugin; every error is UNKNOWN (3), never a traceback."""
    try:
        summary = rehearse(prepare(), on_count=_one_server)
        output: PluginOutput = render_nagios(summary.document["servers"][0])
    except errors.BmrError as exc:
        output = unknown(f"{exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
    except KeyboardInterrupt:
        output = unknown("interrupted")
    typer.echo(output.text)
    raise typer.Exit(output.code)


def _one_server(count: int) -> None:
    if count != 1:
        raise UsageError(f"--nagios checks one server, the inventory lists {count}", hint="name one with --server NAME")


def drill_verify_ledger(
    ledger: Annotated[str, typer.Argument(metavar="DIR", help="The ledger folder (local, or a share's URL).")],
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            metavar="FILE",
            dir_okay=False,
            help="Every entry must be signed by this Ed25519 public key "
            "(PEM or OpenSSH, e.g. the .pub ssh-keygen wrote).",
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="DIR",
            file_okay=False,
            help="Also hold the ledger against the entry this drill report recorded (its drill.json): catches the "
            "newest entry cut off or rewritten.",
        ),
    ] = None,
    as_json: Json = False,
    timeout: Timeout = 10.0,
) -> None:
    """Check a drill ledger's chain: every entry present, in order, unchanged since the next one was written
    (and, with --public-key, signed by that key). Exit 0 when intact, 1 naming each broken entry, 3 when the
    folder cannot be read.

    The newest entry is held by no later one: check it against the entry its drill report recorded
    (--report DIR), or sign the entries.

    Example:

    \b
      bmr drill verify-ledger /srv/dr/ledger --public-key dr-ledger.pub --report reports/berlin
    """
    if public_key is not None:
        input_file(public_key, "--public-key")
    if report is not None:
        input_file(report / "drill.json", "--report")

    def render(check: LedgerCheck) -> str:
        chain = check.chain
        head = f"; newest entry {chain.last_position}, sha256 {chain.head}" if chain.entries else ""
        lines = [f"Ledger {check.location}: {chain.entries} entries{head}"]
        if chain.pinned_key:
            lines.append(f"Signed by {chain.pinned_key}: {chain.signed} of {chain.entries}")
        elif chain.signed:
            lines.append(f"{chain.signed} entries carry a valid signature (key not pinned: give --public-key)")
        lines += [f"BROKEN: {b.describe()}" for b in chain.breaks] or ["Chain intact."]
        return "\n".join(lines)

    access = Access(ssh=SshOptions(), timeout=timeout)
    finish(run(as_json, lambda: verify_ledger(ledger, access, public_key, report)), as_json, render)
