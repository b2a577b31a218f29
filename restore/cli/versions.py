"""`bmr versions`."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from restore.cli.guide import ShareUnc
from restore.cli.options import ACCESS, Depth, Json, Machine, with_access
from restore.cli.output import finish, run
from restore.guide.versions import VersionListing, get_versions
from restore.tree.find import DEFAULT_DEPTH
from share import errors
from share.connect import Access, parse_location

TZ_HELP = (
    "Show Backup time in this IANA zone (the server's, as its wbadmin shows it), e.g. America/Los_Angeles. "
    "Default: this machine's zone."
)


def _zone(name: str | None) -> ZoneInfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise errors.UsageError(f"--tz {name!r} is not an IANA time zone name (e.g. America/Los_Angeles)") from None


@with_access
def versions(
    location: Annotated[str, typer.Argument(help="Where the tree is: local path, UNC, smb:// or sftp://")],
    machine: Machine = None,
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            metavar="ZONE",
            help="Show Backup time in this IANA zone (the server's: what its wbadmin "
            "shows), e.g. America/Los_Angeles. Default: this machine's zone.",
        ),
    ] = None,
    share_unc: ShareUnc = None,
    depth: Depth = DEFAULT_DEPTH,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Print what `wbadmin get versions -backupTarget:... -machine:...` would show for this tree.

    Backup time is local time under the zone's rules for that date (daylight saving included), as wbadmin
    shows it; the version identifier is UTC, taken from the Backup folder's name, never from local time.
    "Backup location" repeats the target as it will be typed: --share-unc exactly as given (for a local or
    SFTP location that will be shared), or the UNC location exactly as typed (a trailing backslash kept)
    when WindowsImageBackup sits right in it.

    Examples:

    \b
      bmr versions '\\\\10.0.0.5\\restore' --user 'CORP\\svc-restore' --machine DC01

    \b
      bmr versions /srv/restore --share-unc '\\\\10.0.0.5\\restore\\' --tz America/Los_Angeles --json
    """

    def work() -> VersionListing:
        return get_versions(
            parse_location(location), access, machine, depth, _zone(tz), typed=location, share_unc=share_unc
        )

    finish(run(as_json, work), as_json, lambda r: r.text)
