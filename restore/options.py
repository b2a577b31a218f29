"""Command-line options shared by every command that reaches a location (typer annotations, no logic)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
    typer.Option("--ssh-known-hosts", metavar="FILE", help="known_hosts file for SFTP (default ~/.ssh/known_hosts)."),
]
HostKey = Annotated[
    str | None,
    typer.Option("--ssh-host-key", metavar="SHA256:...", help="Accept exactly this SSH host key fingerprint."),
]
SshKey = Annotated[
    list[Path] | None,
    typer.Option("--ssh-key", metavar="FILE", help="Private key for SFTP (repeatable); agent and ~/.ssh keys too."),
]
Timeout = Annotated[
    float,
    typer.Option("--timeout", min=1.0, max=600.0, help="Seconds to wait for a server before giving up."),
]
