"""`bmr inspect`."""

from __future__ import annotations

from typing import Annotated

import typer

from restore.cli import text
from restore.cli.options import ACCESS, Depth, Json, with_access
from restore.cli.output import finish, run
from restore.tree.find import DEFAULT_DEPTH, inspect_at
from share.connect import Access, parse_location


@with_access
def inspect(
    location: Annotated[str, typer.Argument(help="Where the tree is: local path, UNC, smb:// or sftp://")],
    deep: Annotated[
        bool,
        typer.Option("--deep", help="Also read inside the images: firmware, disks, Windows version, BitLocker, hives."),
    ] = False,
    depth: Depth = DEFAULT_DEPTH,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Find WindowsImageBackup trees and report every recovery point: version, what it can recover, images.

    Reads headers and metadata only, never whole images; with --deep, the structures inside the images that say
    what the restore needs (a bounded read per image, never a copy). Exit 0 when every point is complete,
    1 when any has an error or nothing was found, 3 when the location cannot be reached.

    Examples:

    \b
      bmr inspect /mnt/usb/restore

    \b
      BMR_PASSWORD=… bmr inspect 'smb://CORP;svc-restore@10.0.0.5/restore' --json

    \b
      bmr inspect /mnt/mabs/export --deep
    """
    result = run(as_json, lambda: inspect_at(parse_location(location), access, depth, deep=deep))
    finish(result, as_json, text.format_inspection)
