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
    "Show Backup time in this IANA zone (the server's: what its wbadmin shows), e.g. America/Los_Angeles. "
    "Default: the server's zone from its SYSTEM hive (with --deep), else this machine's zone. Every point uses "
    "the zone's offset in force NOW, as wbadmin does."
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
            help=TZ_HELP,
        ),
    ] = None,
    deep: Annotated[
        bool,
        typer.Option("--deep", help="Read inside the images for the server's time zone (its SYSTEM hive)."),
    ] = False,
    share_unc: ShareUnc = None,
    depth: Depth = DEFAULT_DEPTH,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Print what `wbadmin get versions -backupTarget:... -machine:...` would show for this tree.

    Backup time is local time as wbadmin prints it NOW: every point with the offset the zone has in force at
    the moment of listing (wbadmin converts as FileTimeToLocalFileTime does), not the offset of the point's own
    date. So a point's Backup time moves by an hour across a daylight-saving change (a September point listed in
    November shows one hour earlier than in summer); the version identifier never moves: it is UTC, taken from
    the Backup folder's name. Match points by identifier. The zone: --tz, else the server's (TimeZoneKeyName in
    its SYSTEM hive, read with --deep), else this machine's. Points are listed oldest first.
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
            parse_location(location), access, machine, depth, _zone(tz), typed=location, share_unc=share_unc, deep=deep
        )

    result = run(as_json, work)
    if result.plan is not None and result.plan.banner:  # the listing stands; the restore it lists would fail
        typer.echo("bmr: the restore plan fails: " + "; ".join(result.plan.banner), err=True)
    finish(result, as_json, lambda r: r.text)
