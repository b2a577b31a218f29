"""`bmr verify`."""

from __future__ import annotations

from typing import Annotated

import typer

from restore.checks.junit import render_junit
from restore.cli import text
from restore.cli.options import ACCESS, Json, Junit, Machine, Version, valid_version, with_access
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
    machine: Machine = None,
    version: Version = None,
    junit: Junit = None,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Read the staged recovery points back and compare them with SHA256SUMS and bmr-manifest.json.

    Every point bmr staged there is checked (or only the one --machine/--version names): each of its files is
    read in full. Reports files missing, files in a checked computer's folder the manifests do not name
    (extra), files whose size or SHA-256 differs, and computers no manifest names (not checked). Exit 0 when
    all match, 1 when anything differs or there is no manifest, 3 when the location cannot be reached or does
    not exist. Nothing is written to the location.

    Examples:

    \b
      BMR_PASSWORD=… bmr verify 'smb://CORP;svc-restore@10.0.0.5/restore'

    \b
      bmr verify /srv/restore --json --junit verify.xml
    """
    if junit is not None:
        output_file(junit, "--junit")
    wanted = valid_version(version)

    def work() -> Verification:
        with progress_bar(phases=("verify",)) as tracker:
            return verify_staged(
                parse_location(location), access, machine=machine, version=wanted, progress=tracker.progress,
                on_plan=tracker.on_plan, on_file=tracker.on_file,
            )  # fmt: skip

    result = run(as_json, work)
    if junit is not None:
        write_output(junit, render_junit([(result.location, result.checks)], name="bmr verify"), "--junit")
    finish(result, as_json, lambda r: text.format_verification(r, style))
