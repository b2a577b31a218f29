"""Options shared by `bmr commands` and `bmr checklist`, which both settle the restore's values from a tree."""

from __future__ import annotations

from typing import Annotated

import typer

from restore.cli.options import PurposeChoice, valid_version
from restore.guide.gather import GuideRequest
from restore.plan.model import PlanRequest
from share.connect import parse_location

ServerIp = Annotated[
    str | None, typer.Option("--server-ip", metavar="IP", help="The file server's IP as WinRE will reach it.")
]
ShareUnc = Annotated[
    str | None,
    typer.Option(
        "--share-unc", metavar="\\\\IP\\SHARE", help="For a local or SFTP location: the UNC it will be shared as."
    ),
]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Print even when the plan fails (the exit code is still 1); the output then opens with the "
        "failing checks.",
    ),
]
ForPurpose = Annotated[
    PurposeChoice | None,
    typer.Option("--for", help="bmr or systemstate (default: what the point can do, BMR first)."),
]


def guide_request(
    location: str,
    machine: str | None,
    version: str | None,
    purpose: PurposeChoice | None,
    server_ip: str | None,
    share_unc: str | None,
    depth: int,
    *,
    deep: bool = False,
    force: bool = False,
) -> GuideRequest:
    """The request, checked (location form, version identifier) before anything connects."""
    plan = PlanRequest(
        parse_location(location), purpose.purpose if purpose else None, machine, valid_version(version), share_unc,
        server_ip, depth=depth, deep=deep,
    )  # fmt: skip
    return GuideRequest(plan, force)
