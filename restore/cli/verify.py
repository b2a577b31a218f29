"""`bmr verify`."""

from __future__ import annotations

from typing import Annotated

import typer

from restore.checks.junit import render_junit
from restore.cli import text
from restore.cli.options import ACCESS, Json, Junit, with_access
from restore.cli.output import finish, run, style
from restore.cli.paths import output_file, write_output
from restore.cli.progress import progress_bar
from restore.staging.verify import Verification, verify_staged
from share.connect import Access, parse_location


@with_access
def verify(
    location: Annotated[
        str, typer.Argument(help="The staged target: the folder holding SHA256SUMS and bmr-manifest.json.")
    ],
    junit: Junit = None,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Read a staged recovery point back and compare it with its SHA256SUMS and bmr-manifest.json.

    Every file under WindowsImageBackup is read in full. Reports files missing, files the manifests do not
    name (extra) and files whose size or SHA-256 differs. Exit 0 when all match, 1 when anything differs or
    there is no manifest, 3 when the location cannot be reached. Nothing is written to the location.

    Examples:

    \b
      BMR_PASSWORD=… bmr verify 'smb://CORP;svc-restore@10.0.0.5/restore'

    \b
      bmr verify /srv/restore --json --junit verify.xml
    """
    if junit is not None:
        output_file(junit, "--junit")

    def work() -> Verification:
        with progress_bar(phases=("verify",)) as tracker:
            return verify_staged(
                parse_location(location), access, progress=tracker.progress, on_plan=tracker.on_plan,
                on_file=tracker.on_file,
            )  # fmt: skip

    result = run(as_json, work)
    if junit is not None:
        write_output(junit, render_junit([(result.location, result.checks)], name="bmr verify"), "--junit")
    finish(result, as_json, lambda r: text.format_verification(r, style))
