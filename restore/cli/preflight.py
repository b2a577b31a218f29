"""`bmr preflight`."""

from __future__ import annotations

from typing import Annotated

import typer

from restore.checks.ids import describe_checks
from restore.checks.junit import render_junit
from restore.checks.preflight import ServerSide
from restore.cli import text
from restore.cli.guide import ShareUnc
from restore.cli.options import (
    ACCESS,
    Depth,
    Json,
    Junit,
    Machine,
    Margin,
    PurposeChoice,
    TargetHardware,
    Version,
    valid_profile,
    valid_version,
    with_access,
)
from restore.cli.output import finish, run, style
from restore.cli.paths import output_file, write_output
from restore.plan.evaluate import evaluate_preflight
from restore.plan.model import Plan, PlanRequest
from restore.tree.find import DEFAULT_DEPTH
from share.connect import Access, parse_location


def _preflight(
    location: Annotated[str, typer.Argument(help="The share the restore will use: \\\\ip\\share or smb://…")],
    purpose: Annotated[PurposeChoice, typer.Option("--for", help="What the restore is: bmr or systemstate.")],
    machine: Machine = None,
    share_unc: ShareUnc = None,
    version: Version = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Where a copy will come from: checks write access and free space.")
    ] = None,
    stage_size: Annotated[
        int | None,
        typer.Option("--stage-size", min=0, max=2**60, metavar="BYTES", help="Bytes about to be copied here."),
    ] = None,
    margin: Margin = 1.1,
    ssh: Annotated[
        str | None,
        typer.Option("--ssh", metavar="USER@HOST[:PORT]", help="Also check the Samba share's folder over SSH."),
    ] = None,
    ssh_smb_conf: Annotated[
        str | None, typer.Option("--ssh-smb-conf", metavar="PATH", help="smb.conf on the file server, if not default.")
    ] = None,
    junit: Junit = None,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also read inside the point's images (the contents and boot-chain checks).")
    ] = False,
    target_hardware: TargetHardware = None,
    depth: Depth = DEFAULT_DEPTH,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Check that WinRE and wbadmin will find and open the recovery point on this share.

    Checks, in order:

    \b
    {checks}

    A local or SFTP folder that will be shared is checked with --share-unc \\\\IP\\SHARE (every check but the
    network ones). Exit 0 when nothing fails (warnings allowed), 1 when a check fails, 3 when the share cannot
    be reached, the logon is refused or the named folder does not exist. `bmr commands`, `bmr checklist`,
    `bmr versions` and `bmr drill` render this same evaluation.

    Examples:

    \b
      BMR_PASSWORD=… bmr preflight 'smb://CORP;svc-restore@10.0.0.5/restore' --for bmr --machine DC01

    \b
      bmr preflight '\\\\10.0.0.5\\restore' -u 'CORP\\svc-restore' --for systemstate --json --junit drill.xml

    \b
      bmr preflight 'smb://FS01;copy@10.0.0.5/restore' --for bmr --source /mnt/mabs/export
    """
    if junit is not None:
        output_file(junit, "--junit")  # before the checks run: their result must not be lost to a typo
    if source is not None and stage_size is not None:
        raise typer.BadParameter("give --source or --stage-size, not both", param_hint="--source")
    profile = valid_profile(target_hardware)
    if profile is not None and not deep:
        raise typer.BadParameter("--target-hardware reads the point's SYSTEM hive: add --deep", param_hint="--deep")

    def work() -> Plan:
        request = PlanRequest(
            parse_location(location), purpose.purpose, machine, valid_version(version), share_unc,
            stage_size=stage_size, margin=margin, depth=depth, deep=deep, target_hardware=profile,
        )  # fmt: skip
        server = ServerSide(parse_location(f"sftp://{ssh}/"), ssh_smb_conf) if ssh is not None else None
        source_location = parse_location(source) if source is not None else None
        return evaluate_preflight(request, access, source=source_location, server=server)

    result = run(as_json, work)
    if junit is not None:
        write_output(junit, render_junit([(result.machine or result.location, result.checks)]), "--junit")
    finish(result, as_json, lambda r: text.format_preflight(r, style))


_preflight.__doc__ = (_preflight.__doc__ or "").replace("{checks}", describe_checks().replace("\n", "\n    "))
preflight = with_access(_preflight)
