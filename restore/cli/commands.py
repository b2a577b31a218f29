"""`bmr commands`."""

from __future__ import annotations

from typing import Annotated

import typer

from restore.cli.guide import Force, ForPurpose, ServerIp, ShareUnc, guide_request
from restore.cli.options import ACCESS, Depth, Json, Machine, Version, with_access
from restore.cli.output import finish, run
from restore.guide.gather import CommandLines, commands_for
from restore.tree.find import DEFAULT_DEPTH
from share.connect import Access


@with_access
def commands(
    location: Annotated[str, typer.Argument(help="The share holding the tree: \\\\ip\\share or smb://…")],
    machine: Machine = None,
    version: Version = None,
    purpose: ForPurpose = None,
    server_ip: ServerIp = None,
    share_unc: ShareUnc = None,
    authoritative_sysvol: Annotated[
        bool, typer.Option("--authoritative-sysvol", help="Add -authsysvol (first domain controller only).")
    ] = False,
    force: Force = False,
    depth: Depth = DEFAULT_DEPTH,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Print the net use and wbadmin command lines for this recovery point, ready to paste.

    Version and computer come from the tree when not given (a given version must exist); the server is
    named by IP. The restore is evaluated once, as `bmr preflight` evaluates it (for a local or SFTP folder:
    every check but the network ones, on the share --share-unc names). When it fails, nothing is printed and
    the exit code is 1 (3 when the location cannot be used), with the failing checks and their fixes; --force
    prints the lines anyway, headed by REM lines naming the failures, and still exits 1. Warnings (a domain
    controller's point past the tombstone lifetime among them) head the lines as REM lines.

    Examples:

    \b
      BMR_PASSWORD=… bmr commands 'smb://CORP;svc-restore@10.0.0.5/restore' --machine DC01 --for systemstate

    \b
      bmr commands /srv/restore --share-unc '\\\\10.0.0.5\\restore' --user 'CORP\\svc-restore' --json
    """

    def work() -> CommandLines:
        request = guide_request(location, machine, version, purpose, server_ip, share_unc, depth, force=force)
        return commands_for(request, access, authoritative_sysvol=authoritative_sysvol)

    finish(run(as_json, work), as_json, lambda r: r.text)
