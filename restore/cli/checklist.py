"""`bmr checklist`."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from restore.cli import exitcodes, logs
from restore.cli.guide import Force, ForPurpose, ServerIp, ShareUnc, guide_request
from restore.cli.options import ACCESS, Depth, Json, Machine, TargetHardware, Version, valid_profile, with_access
from restore.cli.output import run
from restore.cli.paths import output_file, write_output
from restore.guide.gather import Checklist, checklist_for
from restore.tree.find import DEFAULT_DEPTH
from share.connect import Access
from winre.formats import Format, render
from winre.terms import Scenario


@with_access
def checklist(
    location: Annotated[str, typer.Argument(help="The share holding the tree: \\\\ip\\share or smb://…")],
    machine: Machine = None,
    version: Version = None,
    purpose: ForPurpose = None,
    server_ip: ServerIp = None,
    share_unc: ShareUnc = None,
    scenario: Annotated[Scenario | None, typer.Option("--scenario", help="What was lost (picks the path).")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="md, html, pdf or txt.")] = Format.md,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write here.", dir_okay=False, writable=True)
    ] = None,
    deep: Annotated[
        bool,
        typer.Option("--deep", help="Read inside the images: the runbook states firmware, disks and boot media."),
    ] = False,
    target_hardware: TargetHardware = None,
    force: Force = False,
    depth: Depth = DEFAULT_DEPTH,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Write a printable restore runbook with tick boxes, from the real recovery point and share.

    The restore is evaluated once, as `bmr preflight` evaluates it (for a local or SFTP folder with --share-unc:
    every check but the network ones; with --deep the contents check too), and its checks, with their time, go
    into the runbook. When it fails, no runbook is written and the exit code is 1 (3 when the location cannot be
    used), with the failing checks and their fixes; --force writes it anyway, opening with a FAIL banner, and
    still exits 1.

    Examples:

    \b
      BMR_PASSWORD=… bmr checklist 'smb://CORP;svc-restore@10.0.0.5/restore' -m DC01 --format pdf -o DC01.pdf

    \b
      bmr checklist /srv/restore --share-unc '\\\\10.0.0.5\\restore' --format html -o r.html
    """
    if fmt is Format.pdf and output is None and (sys.stdout.isatty() or as_json):
        raise typer.BadParameter("a PDF goes to a file: add -o FILE", param_hint="--format")

    if output is not None:
        output_file(output, "--output")
    profile = valid_profile(target_hardware)  # reads the SYSTEM hive: implies --deep

    def work() -> Checklist:
        request = guide_request(
            location,
            machine,
            version,
            purpose,
            server_ip,
            share_unc,
            depth,
            deep=deep or profile is not None,
            force=force,
        )
        request = replace(request, plan=replace(request.plan, target_hardware=profile))
        return checklist_for(request, access, scenario)

    result = run(as_json, work)
    if result.runbook.blocking:
        typer.echo("bmr: made with --force; the plan FAILS and the runbook opens with the failing checks", err=True)
    document = render(fmt, result.runbook)
    if output is not None:
        write_output(output, document, "--output")
        if not logs.SETTINGS.quiet:
            typer.echo(f"wrote {output}", err=True)
    if as_json:
        inline = document if output is None and isinstance(document, str) else None
        data = {**result.to_json(), "format": fmt.value, "output": str(output) if output else None, "document": inline}
        typer.echo(json.dumps(data, indent=2))
    elif output is None and isinstance(document, bytes):
        sys.stdout.buffer.write(document)
    elif output is None:
        typer.echo(document, nl=False)
    raise typer.Exit(exitcodes.for_outcome(result.outcome))
