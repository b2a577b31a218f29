"""The ``bmr`` command line: parse, call ``restore``, render, exit. No logic of its own lives here."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from restore import __version__, exitcodes, report
from restore.layout import inspect_location
from restore.listing import list_versions
from restore.options import HostKey, Json, KnownHosts, PasswordEnv, PasswordFile, SshKey, Timeout, User
from restore.probe import probe as run_probe
from share import errors
from share.base import Backend
from share.connect import Access, open_backend
from share.credentials import DEFAULT_PASSWORD_ENV, PasswordSource
from share.location import parse_location
from share.sftp import SshOptions

app = typer.Typer(
    name="bmr",
    help="Stage, check and document Windows Server Backup / MABS recovery points for network restores.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals would print passwords
    pretty_exceptions_enable=False,
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


def _prompt(purpose: str) -> str:
    return getpass.getpass(f"Password for {purpose}: ")


def _access(
    user: str | None,
    password_env: str,
    password_file: Path | None,
    known_hosts: Path | None,
    host_key: str | None,
    ssh_key: list[Path] | None,
    timeout: float,
) -> Access:
    prompt = _prompt if sys.stdin.isatty() else None
    return Access(
        password=PasswordSource(env=password_env, file=password_file, prompt=prompt),
        ssh=SshOptions(known_hosts=known_hosts, host_key=host_key, key_files=tuple(ssh_key or ())),
        user=user,
        timeout=timeout,
    )


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
def probe(
    location: Annotated[str, typer.Argument(help="Local path, \\\\host\\share\\path, smb://… or sftp://…")],
    write_test: Annotated[
        bool, typer.Option("--write-test", help="Create, read back and delete a small temporary file.")
    ] = False,
    as_json: Json = False,
    user: User = None,
    password_env: PasswordEnv = DEFAULT_PASSWORD_ENV,
    password_file: PasswordFile = None,
    ssh_known_hosts: KnownHosts = None,
    ssh_host_key: HostKey = None,
    ssh_key: SshKey = None,
    timeout: Timeout = 15.0,
) -> None:
    """Connect, authenticate and report protocol, dialect, signing, encryption and free space.

    Examples:

      BMR_PASSWORD=… bmr probe 'smb://CORP;svc-restore@10.0.0.5/restore' --write-test

      bmr probe '\\\\10.0.0.5\\restore' --user 'CORP\\svc-restore' --password-file pw.txt --json

      bmr probe sftp://backup@10.0.0.9/srv/mabs --ssh-known-hosts ~/.ssh/known_hosts
    """
    access = _access(user, password_env, password_file, ssh_known_hosts, ssh_host_key, ssh_key, timeout)
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
def inspect(
    location: Annotated[str, typer.Argument(help="Where the tree is: local path, UNC, smb:// or sftp://")],
    depth: Depth = 4,
    as_json: Json = False,
    user: User = None,
    password_env: PasswordEnv = DEFAULT_PASSWORD_ENV,
    password_file: PasswordFile = None,
    ssh_known_hosts: KnownHosts = None,
    ssh_host_key: HostKey = None,
    ssh_key: SshKey = None,
    timeout: Timeout = 15.0,
) -> None:
    """Find WindowsImageBackup trees and report every recovery point: version, what it can recover, images.

    Reads headers and metadata only, never whole images. Exit 0 when every point is complete,
    1 when any has an error or nothing was found, 3 when the location cannot be reached.

    Examples:

      bmr inspect /mnt/usb/restore

      BMR_PASSWORD=… bmr inspect 'smb://CORP;svc-restore@10.0.0.5/restore' --json
    """
    access = _access(user, password_env, password_file, ssh_known_hosts, ssh_host_key, ssh_key, timeout)
    with _reported(as_json):
        result = _connected(location, access, lambda b: inspect_location(b, depth))
    typer.echo(json.dumps(result.to_json(), indent=2) if as_json else report.format_inspection(result))
    raise typer.Exit(exitcodes.OK if result.ok else exitcodes.FAILED)


@app.command()
def versions(
    location: Annotated[str, typer.Argument(help="Where the tree is: local path, UNC, smb:// or sftp://")],
    machine: Machine = None,
    depth: Depth = 4,
    as_json: Json = False,
    user: User = None,
    password_env: PasswordEnv = DEFAULT_PASSWORD_ENV,
    password_file: PasswordFile = None,
    ssh_known_hosts: KnownHosts = None,
    ssh_host_key: HostKey = None,
    ssh_key: SshKey = None,
    timeout: Timeout = 15.0,
) -> None:
    """Print what `wbadmin get versions -backupTarget:... -machine:...` would show for this tree.

    Backup time is in this machine's local time zone (as wbadmin shows it); the version identifier is UTC,
    taken from the Backup folder's name, never from local time.

    Example:

      bmr versions '\\\\10.0.0.5\\restore' --user 'CORP\\svc-restore' --machine DC01
    """
    access = _access(user, password_env, password_file, ssh_known_hosts, ssh_host_key, ssh_key, timeout)
    with _reported(as_json):
        parsed = parse_location(location)
        result = _connected(location, access, lambda b: inspect_location(b, depth))
        listing = list_versions(parsed, result, machine, datetime.now().astimezone().tzinfo or UTC)
    if as_json:
        typer.echo(json.dumps(listing.to_json(), indent=2))
    else:
        typer.echo(listing.text)


def main() -> None:
    app()
