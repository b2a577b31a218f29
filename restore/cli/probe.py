"""`bmr probe`."""

from __future__ import annotations

from typing import Annotated

import typer

from restore.checks.probe import probe_location
from restore.cli import text
from restore.cli.options import ACCESS, Json, with_access
from restore.cli.output import finish, run
from share.connect import Access, parse_location


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
    result = run(as_json, lambda: probe_location(parse_location(location), access, write_test=write_test))
    finish(result, as_json, text.format_probe)
