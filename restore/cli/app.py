"""The ``bmr`` command line: parse, call ``restore``, render, exit. No logic of its own lives here."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from tqdm import tqdm

from restore import __version__
from restore.checks.check import Status
from restore.checks.junit import render_junit
from restore.checks.preflight import PreflightRequest, run_preflight
from restore.checks.probe import probe as run_probe
from restore.checks.serverside import server_share_check
from restore.cli import exitcodes
from restore.cli import text as report
from restore.cli.options import ACCESS, HostKey, Json, KnownHosts, SshKey, Timeout, with_access
from restore.demo.run import run_demo, samba_usable
from restore.drill.inventory import InventoryError, load_inventory
from restore.drill.report import drill_json, write_report
from restore.drill.run import DrillOptions, run_drill
from restore.guide.gather import Gathered, command_lines, commands_json, gather, runbook_input
from restore.guide.versions import list_versions
from restore.staging.stage import open_target, run_stage
from restore.tree.choose import point_size
from restore.tree.find import inspect_location
from restore.tree.versions import parse_version
from share import errors
from share.base import Backend
from share.connect import Access, open_backend, parse_location
from share.credentials import PasswordSource
from share.sftp import SshOptions
from winre.formats import render_html, render_markdown, render_pdf, render_text
from winre.runbook import RunbookInput

app = typer.Typer(
    name="bmr",
    help="Stage, check and document Windows Server Backup / MABS recovery points for network restores.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals would print passwords
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts carry [[server]] and \\ip\share literally
)
T = TypeVar("T")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bmr {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """bmr: get a server back from a Windows Server Backup or MABS recovery point over the network.

    Exit codes: 0 ok (warnings allowed), 1 a check or verification failed, 2 usage error,
    3 cannot connect, authenticate or access, 130 interrupted.
    """


@contextmanager
def _reported(as_json: bool) -> Iterator[None]:
    """Turn our errors and Ctrl-C into a message and an exit code; never a traceback."""
    try:
        yield
    except errors.BmrError as exc:
        _emit_error(exc, as_json)
        raise typer.Exit(exitcodes.for_error(exc)) from None
    except KeyboardInterrupt:
        typer.echo("bmr: interrupted", err=True)
        raise typer.Exit(exitcodes.INTERRUPTED) from None


def _emit_error(exc: errors.BmrError, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"error": report.error_json(exc)}, indent=2))
    typer.echo(report.format_error(exc), err=True)


def _connected(location: str, access: Access, fn: Callable[[Backend], T]) -> T:
    with open_backend(parse_location(location), access) as backend:
        return fn(backend)


@app.command()
@with_access
def probe(
    location: Annotated[str, typer.Argument(help="Local path, \\\\host\\share\\path, smb://… or sftp://…")],
    write_test: Annotated[
        bool, typer.Option("--write-test", help="Create, read back and delete a small temporary file.")
    ] = False,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Connect, authenticate and report protocol, dialect, signing, encryption and free space.

    Examples:

    \b
      BMR_PASSWORD=… bmr probe 'smb://CORP;svc-restore@10.0.0.5/restore' --write-test

    \b
      bmr probe '\\\\10.0.0.5\\restore' --user 'CORP\\svc-restore' --password-file pw.txt --json

    \b
      bmr probe sftp://backup@10.0.0.9/srv/mabs --ssh-known-hosts ~/.ssh/known_hosts
    """
    with _reported(as_json):
        result = _connected(location, access, lambda b: run_probe(b, write_test=write_test))
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        typer.echo(report.format_probe(result))
    if write_test and not result.writable:
        raise typer.Exit(exitcodes.ENVIRONMENT)


Depth = Annotated[int, typer.Option("--depth", min=1, max=12, help="How many folder levels down to search.")]
Machine = Annotated[str | None, typer.Option("--machine", "-m", help="Computer folder name (wbadmin's -machine:).")]


@app.command()
@with_access
def inspect(
    location: Annotated[str, typer.Argument(help="Where the tree is: local path, UNC, smb:// or sftp://")],
    depth: Depth = 4,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Find WindowsImageBackup trees and report every recovery point: version, what it can recover, images.

    Reads headers and metadata only, never whole images. Exit 0 when every point is complete,
    1 when any has an error or nothing was found, 3 when the location cannot be reached.

    Examples:

    \b
      bmr inspect /mnt/usb/restore

    \b
      BMR_PASSWORD=… bmr inspect 'smb://CORP;svc-restore@10.0.0.5/restore' --json
    """
    with _reported(as_json):
        result = _connected(location, access, lambda b: inspect_location(b, depth))
    typer.echo(json.dumps(result.to_json(), indent=2) if as_json else report.format_inspection(result))
    raise typer.Exit(exitcodes.OK if result.ok else exitcodes.FAILED)


@app.command()
@with_access
def versions(
    location: Annotated[str, typer.Argument(help="Where the tree is: local path, UNC, smb:// or sftp://")],
    machine: Machine = None,
    depth: Depth = 4,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Print what `wbadmin get versions -backupTarget:... -machine:...` would show for this tree.

    Backup time is in this machine's local time zone (as wbadmin shows it); the version identifier is UTC,
    taken from the Backup folder's name, never from local time.

    Example:

    \b
      bmr versions '\\\\10.0.0.5\\restore' --user 'CORP\\svc-restore' --machine DC01
    """
    with _reported(as_json):
        parsed = parse_location(location)
        result = _connected(location, access, lambda b: inspect_location(b, depth))
        listing = list_versions(parsed, result, machine, datetime.now().astimezone().tzinfo or UTC)
    if as_json:
        typer.echo(json.dumps(listing.to_json(), indent=2))
    else:
        typer.echo(listing.text)


class Purpose(StrEnum):
    bmr = "bmr"
    systemstate = "systemstate"


def _style(text: str, colour: str) -> str:
    return typer.style(text, fg=colour, bold=colour in ("red", "green"))


@app.command()
@with_access
def preflight(
    location: Annotated[str, typer.Argument(help="The share the restore will use: \\\\ip\\share or smb://…")],
    purpose: Annotated[Purpose, typer.Option("--for", help="What the restore is: bmr or systemstate.")],
    machine: Machine = None,
    version: Annotated[str | None, typer.Option("--version", help="Version identifier MM/DD/YYYY-HH:MM.")] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Where a copy will come from: checks write access and free space.")
    ] = None,
    stage_size: Annotated[
        int | None, typer.Option("--stage-size", min=0, metavar="BYTES", help="Bytes about to be copied here.")
    ] = None,
    margin: Annotated[float, typer.Option("--margin", min=1.0, help="Free space needed = size x margin.")] = 1.1,
    ssh: Annotated[
        str | None,
        typer.Option("--ssh", metavar="USER@HOST[:PORT]", help="Also check the Samba share's folder over SSH."),
    ] = None,
    ssh_smb_conf: Annotated[
        str | None, typer.Option("--ssh-smb-conf", metavar="PATH", help="smb.conf on the file server, if not default.")
    ] = None,
    junit: Annotated[Path | None, typer.Option("--junit", metavar="FILE", help="Also write JUnit XML here.")] = None,
    depth: Depth = 4,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Check that WinRE and wbadmin will find and open the recovery point on this share.

    Checks: connect, dialect, signing, auth, share, unc-name, read, share-root, machine, recovery-point,
    path-length; with --source or --stage-size also write and free-space; with --ssh also server-share.
    Exit 0 when nothing fails (warnings allowed), 1 when a check fails, 3 when the share cannot be
    reached or the logon is refused.

    Examples:

    \b
      BMR_PASSWORD=… bmr preflight 'smb://CORP;svc-restore@10.0.0.5/restore' --for bmr --machine DC01

    \b
      bmr preflight '\\\\10.0.0.5\\restore' -u 'CORP\\svc-restore' --for systemstate --json --junit drill.xml

    \b
      bmr preflight 'smb://FS01;copy@10.0.0.5/restore' --for bmr --source /mnt/mabs/export
    """
    if source is not None and stage_size is not None:
        raise typer.BadParameter("give --source or --stage-size, not both", param_hint="--source")
    with _reported(as_json):
        parsed = parse_location(location)
        if version is not None:
            version = _valid_version(version)
        if source is not None:
            stage_size = _connected(source, access, lambda b: point_size(b, machine, version, depth))
        request = PreflightRequest(parsed, purpose.value, machine, version, stage_size, margin, depth)
        server_share = None
        if ssh is not None:
            ssh_location = parse_location(f"sftp://{ssh}/")
            unc_share = parsed.share or ""
            server_share = lambda unc: server_share_check(ssh_location, access, unc_share, unc, ssh_smb_conf)  # noqa: E731
        result = run_preflight(request, access, server_share=server_share)
    if junit is not None:
        junit.write_text(render_junit([(result.machine or parsed.display(), result.checks)]), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        typer.echo(report.format_preflight(result, _style))
    if result.unreachable:
        raise typer.Exit(exitcodes.ENVIRONMENT)
    raise typer.Exit(exitcodes.FAILED if result.status is Status.FAIL else exitcodes.OK)


@app.command()
@with_access
def stage(
    source: Annotated[str, typer.Argument(help="Where the recovery point is: local path, UNC, smb:// or sftp://")],
    target: Annotated[str, typer.Argument(help="The share (and sub-folder) that will be -backupTarget:")],
    machine: Machine = None,
    version: Annotated[str | None, typer.Option("--version", help="Version identifier MM/DD/YYYY-HH:MM.")] = None,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Read every copied file back and compare (default on).")
    ] = True,
    force: Annotated[
        bool,
        typer.Option("--force", help="Copy an incomplete point, or replace a different one already on the target."),
    ] = False,
    margin: Annotated[float, typer.Option("--margin", min=1.0, help="Free space needed = size x margin.")] = 1.1,
    source_password_env: Annotated[
        str | None, typer.Option("--source-password-env", metavar="NAME", help="Password variable for the source.")
    ] = None,
    depth: Depth = 4,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Copy a recovery point to the share a restore will use: resumable, and verified byte for byte.

    The target's root gets WindowsImageBackup\\<Computer>\\... plus SHA256SUMS and bmr-manifest.json.
    Rerun the same command after an interruption: it continues where it stopped, after checking that
    what is already there matches the source.

    Examples:

    \b
      BMR_PASSWORD=… bmr stage /mnt/mabs/export 'smb://CORP;svc-restore@10.0.0.5/restore' --machine DC01

    \b
      bmr stage sftp://backup@10.0.0.9/mabs '\\\\10.0.0.5\\restore' -u 'CORP\\svc-restore' --json
    """
    source_access = access
    if source_password_env is not None:
        source_access = Access(
            password=PasswordSource(env=source_password_env), ssh=access.ssh, user=None, timeout=access.timeout
        )
    with _reported(as_json):
        if version is not None:
            version = _valid_version(version)
        with (
            open_backend(parse_location(source), source_access) as src,
            open_target(parse_location(target), access) as dst,
            _progress_bar() as (progress, on_file),
        ):
            result = run_stage(
                src, dst, machine=machine, version=version, verify=verify, force=force, margin=margin,
                depth=depth, progress=progress, on_file=on_file,
            )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        typer.echo(report.format_stage(result, _style))
    raise typer.Exit(exitcodes.OK if result.ok else exitcodes.FAILED)


@contextmanager
def _progress_bar() -> Iterator[tuple[Callable[[str, int], None], Callable[[str, int], None]]]:
    """tqdm on stderr when it is a terminal: bytes with rate and ETA, the current file and phase."""
    bar = tqdm(total=0, unit="B", unit_scale=True, unit_divisor=1024, disable=None, dynamic_ncols=True)
    state = {"file": ""}

    def on_file(path: str, size: int) -> None:
        state["file"] = path.rsplit("/", 1)[-1]
        bar.total = (bar.total or 0) + size
        bar.refresh()

    def progress(phase: str, count: int) -> None:
        if phase == "verify":
            bar.set_postfix_str(f"verify {state['file']}", refresh=False)
            return
        bar.set_postfix_str(f"{phase} {state['file']}", refresh=False)
        bar.update(count)

    try:
        yield progress, on_file
    finally:
        bar.close()


class Scenario(StrEnum):
    os_damaged = "os-damaged"
    server_lost_data_intact = "server-lost-data-intact"
    server_lost_data_lost = "server-lost-data-lost"


class Format(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"
    txt = "txt"


ServerIp = Annotated[
    str | None, typer.Option("--server-ip", metavar="IP", help="The file server's IP as WinRE will reach it.")
]
ShareUnc = Annotated[
    str | None,
    typer.Option(
        "--share-unc", metavar="\\\\IP\\SHARE", help="For a local or SFTP location: the UNC it will be shared as."
    ),
]
ForPurpose = Annotated[
    Purpose | None, typer.Option("--for", help="bmr or systemstate (default: what the point can do, BMR first).")
]
VersionOption = Annotated[str | None, typer.Option("--version", help="Version identifier MM/DD/YYYY-HH:MM.")]


@app.command()
@with_access
def commands(
    location: Annotated[str, typer.Argument(help="The share holding the tree: \\\\ip\\share or smb://…")],
    machine: Machine = None,
    version: VersionOption = None,
    purpose: ForPurpose = None,
    server_ip: ServerIp = None,
    share_unc: ShareUnc = None,
    authoritative_sysvol: Annotated[
        bool, typer.Option("--authoritative-sysvol", help="Add -authsysvol (first domain controller only).")
    ] = False,
    depth: Depth = 4,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Print the net use and wbadmin command lines for this recovery point, ready to paste.

    Version and computer come from the tree when not given (a given version must exist); the server is
    named by IP.

    Examples:

    \b
      BMR_PASSWORD=… bmr commands 'smb://CORP;svc-restore@10.0.0.5/restore' --machine DC01 --for systemstate

    \b
      bmr commands /srv/restore --share-unc '\\\\10.0.0.5\\restore' --user 'CORP\\svc-restore' --json
    """
    with _reported(as_json):
        if version is not None:
            version = _valid_version(version)
        chosen = purpose.value if purpose else None

        def build(backend: Backend) -> tuple[Gathered, list[str]]:
            found = gather(backend, machine=machine, version=version, purpose=chosen,  # type: ignore[arg-type]
                           server_ip=server_ip, share_unc=share_unc, user=access.user, depth=depth)  # fmt: skip
            return found, command_lines(found, authoritative_sysvol)

        found, lines = _connected(location, access, build)
    typer.echo(json.dumps(commands_json(found, lines), indent=2) if as_json else "\n".join(lines))


@app.command()
@with_access
def checklist(
    location: Annotated[str, typer.Argument(help="The share holding the tree: \\\\ip\\share or smb://…")],
    machine: Machine = None,
    version: VersionOption = None,
    purpose: ForPurpose = None,
    server_ip: ServerIp = None,
    share_unc: ShareUnc = None,
    scenario: Annotated[Scenario | None, typer.Option("--scenario", help="What was lost (picks the path).")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="md, html, pdf or txt.")] = Format.md,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write here.")] = None,
    depth: Depth = 4,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Write a printable restore runbook with tick boxes, from the real recovery point and share.

    For an SMB location a preflight runs first and its result (with its time) goes into the runbook.

    Examples:

    \b
      BMR_PASSWORD=… bmr checklist 'smb://CORP;svc-restore@10.0.0.5/restore' -m DC01 --format pdf -o DC01.pdf

    \b
      bmr checklist /srv/restore --share-unc '\\\\10.0.0.5\\restore' --format html -o r.html
    """
    if fmt is Format.pdf and output is None and (sys.stdout.isatty() or as_json):
        raise typer.BadParameter("a PDF goes to a file: add -o FILE", param_hint="--format")
    with _reported(as_json):
        if version is not None:
            version = _valid_version(version)
        parsed = parse_location(location)
        chosen = purpose.value if purpose else None
        checked = None
        with open_backend(parsed, access) as backend:  # one logon serves the tree and the preflight
            found = gather(backend, machine=machine, version=version, purpose=chosen,  # type: ignore[arg-type]
                           server_ip=server_ip, share_unc=share_unc, user=access.user, depth=depth)  # fmt: skip
            if parsed.scheme == "smb":
                point = found.choice.point
                request = PreflightRequest(parsed, found.purpose, found.choice.machine.name, point.version)
                checked = run_preflight(request, access, backend=backend)
        inp = runbook_input(found, parsed.display(), scenario.value if scenario else None, checked)
        document = _render(fmt, inp)
    if output is not None:
        if isinstance(document, bytes):
            output.write_bytes(document)
        else:
            output.write_text(document, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
    if as_json:
        typer.echo(json.dumps({
            "machine": inp.machine.text, "version": inp.version.text, "purpose": inp.purpose,
            "scenario": inp.scenario, "format": fmt.value, "output": str(output) if output else None,
            "preflight": checked.status.value if checked else None,
            "document": document if output is None and isinstance(document, str) else None,
        }, indent=2))  # fmt: skip
    elif output is None and isinstance(document, bytes):
        sys.stdout.buffer.write(document)
    elif output is None:
        typer.echo(document, nl=False)


@app.command()
def drill(
    inventory: Annotated[Path, typer.Argument(help="The inventory: a TOML file of [[server]] tables.")],
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", metavar="DIR", help="Where the report goes (default: a new folder).")
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=256, help="Shares checked at once.")] = 16,
    junit: Annotated[Path | None, typer.Option("--junit", metavar="FILE", help="Also write JUnit XML here.")] = None,
    server_timeout: Annotated[
        float, typer.Option("--server-timeout", min=1.0, help="Seconds one server may take before it is failed.")
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
    with _reported(as_json):
        try:
            entries = load_inventory(inventory)
        except InventoryError as exc:
            _emit_error(exc, as_json)
            raise typer.Exit(exitcodes.ENVIRONMENT) from None
        options = DrillOptions(
            concurrency=concurrency,
            server_timeout=server_timeout,
            timeout=timeout,
            ssh=SshOptions(known_hosts=ssh_known_hosts, host_key=ssh_host_key, key_files=tuple(ssh_key or ())),
        )
        bar = tqdm(total=len(entries), unit="server", disable=None)
        try:
            results = run_drill(entries, options, on_done=lambda r: bar.update(1))
        finally:
            bar.close()
        now = datetime.now(UTC)
        folder = report_dir or Path(f"drill-report-{now:%Y%m%d-%H%M%S}")
        write_report(folder, results, now, junit)
    if as_json:
        typer.echo(json.dumps({**drill_json(results, now), "report_dir": str(folder)}, indent=2))
    else:
        typer.echo(report.format_drill(results, _style))
        typer.echo(f"Report: {folder / 'drill.html'} (and drill.json, junit.xml, checklists/)")
    raise typer.Exit(exitcodes.FAILED if any(r.status is Status.FAIL for r in results) else exitcodes.OK)


@app.command()
def demo(
    folder: Annotated[
        Path | None, typer.Option("--dir", metavar="DIR", help="An empty or new folder for the demo's files.")
    ] = None,
    no_samba: Annotated[
        bool, typer.Option("--no-samba", help="Use a local folder even where smbd is installed.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Show the whole job with no real server: sample point -> staged share -> preflight -> commands -> checklists.

    Uses a throwaway Samba on 127.0.0.1 when smbd is installed (and run as root), else a local folder, and
    stops what it started. The files stay, and the last lines say where.
    """
    with _reported(as_json):
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="bmr-demo-"))
        elif folder.exists() and any(folder.iterdir()):
            raise errors.UsageError(f"{folder} is not empty; give a new or empty folder (nothing there is touched)")
        folder.mkdir(parents=True, exist_ok=True)
        say = (lambda text: None) if as_json else typer.echo
        with _progress_bar() as (progress, _on_file):
            result = run_demo(folder.resolve(), use_samba=samba_usable() and not no_samba, say=say, progress=progress)
    if as_json:
        typer.echo(json.dumps({
            "folder": str(result.folder), "source": str(result.source), "target": result.target,
            "samba": result.used_samba, "staged": result.staged.to_json(),
            "preflight": [c.to_json() for c in result.preflight] if result.preflight else None,
            "commands": result.commands, "checklists": [str(p) for p in result.files],
        }, indent=2))  # fmt: skip
    else:
        typer.echo(f"Everything is in {result.folder}: mabs-export/ (the sample), share/ (the staged copy with "
                   "SHA256SUMS and bmr-manifest.json), checklists/.")  # fmt: skip


def _render(fmt: Format, inp: RunbookInput) -> str | bytes:
    if fmt is Format.pdf:
        return render_pdf(inp)
    if fmt is Format.html:
        return render_html(inp)
    return render_text(inp) if fmt is Format.txt else render_markdown(inp)


def _valid_version(text: str) -> str:
    try:
        return parse_version(text)
    except ValueError as exc:
        raise errors.UsageError(str(exc)) from None


def main() -> None:
    app()
