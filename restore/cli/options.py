"""Command-line options shared by every command that reaches a location, and the decorator that adds them."""

from __future__ import annotations

import enum
import functools
import getpass
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from restore.cli.paths import input_file
from restore.tree.hardware import profile_names
from restore.units import parse_rate
from share.connect import Access
from share.credentials import DEFAULT_PASSWORD_ENV, PasswordSource, SshOptions
from share.errors import UsageError
from winre.terms import Purpose
from winre.wbadmin import check_version

Json = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
User = Annotated[
    str | None,
    typer.Option("--user", "-u", help="Account as DOMAIN\\user, SERVER\\user or user@domain (or put it in the URL)."),
]
PasswordEnv = Annotated[
    str,
    typer.Option("--password-env", metavar="NAME", help="Environment variable holding the password."),
]
PasswordFile = Annotated[
    Path | None,
    typer.Option("--password-file", metavar="FILE", help="File whose first line is the password.", dir_okay=False),
]
KnownHosts = Annotated[
    Path | None,
    typer.Option(
        "--ssh-known-hosts",
        metavar="FILE",
        help="known_hosts file for SFTP (default ~/.ssh/known_hosts).",
        dir_okay=False,
    ),
]
HostKey = Annotated[
    str | None,
    typer.Option(
        "--ssh-host-key",
        metavar="SHA256:...",
        help="Accept exactly this SSH host key fingerprint (SHA256:… or MD5:…, of any of the server's key types).",
    ),
]
SshKey = Annotated[
    list[Path] | None,
    typer.Option(
        "--ssh-key",
        metavar="FILE",
        help="Private key for SFTP (repeatable); agent and ~/.ssh keys too.",
        dir_okay=False,
    ),
]
Timeout = Annotated[
    float,
    typer.Option("--timeout", min=1.0, max=600.0, help="Seconds to wait for a server before giving up."),
]


WinrePort = Annotated[
    int | None,
    typer.Option(
        "--winre-port",
        envvar="BMR_WINRE_PORT",
        min=1,
        max=65535,
        help="The port WinRE will reach the file server on, when bmr comes in through another (a tunnel or a port "
        "forward). Default: the location's own port.",
    ),
]


Junit = Annotated[
    Path | None,
    typer.Option("--junit", metavar="FILE", help="Also write JUnit XML here.", dir_okay=False, writable=True),
]
TargetHardware = Annotated[
    str | None,
    typer.Option(
        "--target-hardware",
        metavar="PROFILE",
        help=f"The machine the point will be restored to: {', '.join(profile_names())}.",
    ),
]


def valid_profile(name: str | None) -> str | None:
    """The --target-hardware profile, checked against the table."""
    if name is not None and name not in profile_names():
        raise typer.BadParameter(f"unknown profile '{name}': one of {', '.join(profile_names())}")
    return name


Margin = Annotated[float, typer.Option("--margin", min=1.0, max=10.0, help="Free space needed = size x margin.")]
Depth = Annotated[int, typer.Option("--depth", min=1, max=12, help="How many folder levels down to search.")]
Machine = Annotated[str | None, typer.Option("--machine", "-m", help="Computer folder name (wbadmin's -machine:).")]
Version = Annotated[str | None, typer.Option("--version", help="Version identifier MM/DD/YYYY-HH:MM (UTC).")]


class PurposeChoice(enum.StrEnum):
    """--for: the choices people type; :class:`winre.terms.Purpose` is what the code passes around."""

    bmr = "bmr"
    systemstate = "systemstate"

    @property
    def purpose(self) -> Purpose:
        return Purpose(self.value)


def valid_version(text: str | None) -> str | None:
    """A --version value checked before any work starts (a usage error, exit 2, when malformed)."""
    if text is None:
        return None
    try:
        return check_version(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def valid_rate(text: str | None, option: str = "--bwlimit") -> float | None:
    """A rate like 50M or 1.5G (bytes per second, binary units), checked before any work starts."""
    if text is None:
        return None
    try:
        return parse_rate(text)
    except ValueError:
        raise UsageError(f"{option} {text!r}: give bytes per second like 800K, 50M or 1.5G") from None


ACCESS = Access()  # a placeholder default: @with_access always passes the real one

_ACCESS_OPTIONS: dict[str, tuple[Any, Any]] = {
    "user": (User, None),
    "password_env": (PasswordEnv, DEFAULT_PASSWORD_ENV),
    "password_file": (PasswordFile, None),
    "ssh_known_hosts": (KnownHosts, None),
    "ssh_host_key": (HostKey, None),
    "ssh_key": (SshKey, None),
    "timeout": (Timeout, 15.0),
    "winre_port": (WinrePort, None),
}


def _prompt(purpose: str) -> str:
    return getpass.getpass(f"Password for {purpose}: ")


def _warn(message: str) -> None:
    typer.echo(f"bmr: warning: {message}", err=True)


def build_access(
    user: str | None,
    password_env: str,
    password_file: Path | None,
    ssh_known_hosts: Path | None,
    ssh_host_key: str | None,
    ssh_key: list[Path] | None,
    timeout: float,
    winre_port: int | None = None,
) -> Access:
    """How to reach a location, from the options every command shares. Prompts only on a terminal."""
    for option, given in (("--password-file", [password_file]), ("--ssh-known-hosts", [ssh_known_hosts]),
                          ("--ssh-key", ssh_key or [])):  # fmt: skip
        for path in given:
            if path is not None:
                input_file(path, option)
    prompt = _prompt if sys.stdin.isatty() else None
    return Access(
        password=PasswordSource(env=password_env, file=password_file, prompt=prompt, warn=_warn),
        ssh=SshOptions(known_hosts=ssh_known_hosts, host_key=ssh_host_key, key_files=tuple(ssh_key or ())),
        user=user,
        timeout=timeout,
        winre_port=winre_port,
    )


def with_access(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the shared connection options (--user, --password-env, --ssh-key, --timeout, …) and
    hand it one ``access: Access`` built from them, instead of each command declaring seven parameters."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "access"]
    extra = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        for name, (annotation, default) in _ACCESS_OPTIONS.items()
    ]

    @functools.wraps(command)
    def run(**kwargs: Any) -> Any:
        shared = {name: kwargs.pop(name) for name in _ACCESS_OPTIONS}
        return command(access=build_access(**shared), **kwargs)

    run.__dict__["__signature__"] = signature.replace(parameters=own + extra)  # typer reads the merged options
    run.__annotations__ = {p.name: p.annotation for p in own + extra}
    return run
