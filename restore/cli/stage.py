"""`bmr stage`."""

from __future__ import annotations

from typing import Annotated

import typer

from restore.cli import text
from restore.cli.interrupts import in_worker, report_interrupt
from restore.cli.options import (
    ACCESS,
    Depth,
    Json,
    Machine,
    Margin,
    Version,
    valid_rate,
    valid_version,
    with_access,
)
from restore.cli.output import finish, run, style
from restore.cli.progress import progress_bar
from restore.staging.names import partial_name
from restore.staging.preview import preview_stage
from restore.staging.stage import StageRequest, StageResult, stage
from restore.tree.find import DEFAULT_DEPTH
from share.connect import Access, parse_location
from share.credentials import PasswordSource


@with_access
def stage_command(
    source: Annotated[str, typer.Argument(help="Where the recovery point is: local path, UNC, smb:// or sftp://")],
    target: Annotated[str, typer.Argument(help="The share (and sub-folder) that will be -backupTarget:")],
    machine: Machine = None,
    version: Version = None,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Read every copied file back and compare (default on).")
    ] = True,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Copy an incomplete point, or replace this computer's different point already on the target "
            "(nothing else). Source and target overlapping is refused all the same.",
        ),
    ] = False,
    margin: Margin = 1.1,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="The real run's plan with writing switched off: what would be copied, resumed, compared and "
            "replaced, the free space, every refusal and its exit code; copies nothing. The write test and the "
            "same-folder probe still run (small files created and deleted on the target).",
        ),
    ] = False,
    bwlimit: Annotated[
        str | None,
        typer.Option(
            "--bwlimit",
            metavar="RATE",
            help="At most this many bytes a second, copy and read-back together, e.g. 50M or 1.5G (binary units).",
        ),
    ] = None,
    streams: Annotated[
        int | None,
        typer.Option(
            "--streams",
            min=1,
            max=8,
            metavar="N",
            help="Connections per large file (64 MiB and up) to an SMB share or SFTP server, 1 to 8: each writes "
            "and reads back its own parts, as robocopy /MT does, for links where one connection is the limit. "
            "Default: one per two cores, at most 4; fewer when the server refuses more connections.",
        ),
    ] = None,
    source_password_env: Annotated[
        str | None, typer.Option("--source-password-env", metavar="NAME", help="Password variable for the source.")
    ] = None,
    depth: Depth = DEFAULT_DEPTH,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Copy a recovery point to the share a restore will use: resumable, and verified byte for byte.

    The target's root gets WindowsImageBackup\\<Computer>\\... plus this point's entries in SHA256SUMS and
    bmr-manifest.json (other computers staged there keep theirs). Source and target must be apart: the same
    folder, or one inside the other, is refused (exit 2) before anything is read or written.
    Rerun the same command after an interruption: it continues where it stopped, after checking that
    what is already there matches the source.

    Examples:

    \b
      BMR_PASSWORD=… bmr stage /mnt/mabs/export 'smb://CORP;svc-restore@10.0.0.5/restore' --machine DC01

    \b
      bmr stage /mnt/mabs/export /srv/restore --dry-run

    \b
      bmr stage /mnt/mabs/export '\\\\10.0.0.5\\restore' -u 'CORP\\svc-restore' --bwlimit 50M --log-file stage.jsonl

    \b
      bmr stage sftp://backup@10.0.0.9/mabs '\\\\10.0.0.5\\restore' -u 'CORP\\svc-restore' --json

    \b
      bmr stage /mnt/mabs/export 'smb://CORP;svc-restore@10.0.0.5/restore' --streams 4
    """
    rate = valid_rate(bwlimit)
    source_access = access
    if source_password_env is not None:
        source_access = Access(
            password=PasswordSource(env=source_password_env), ssh=access.ssh, user=None, timeout=access.timeout
        )

    def request() -> StageRequest:
        return StageRequest(
            parse_location(source), parse_location(target), machine, valid_version(version), verify, force, margin,
            depth, rate, streams,
        )  # fmt: skip

    if dry_run:
        finish(run(as_json, lambda: preview_stage(request(), access, source_access)), as_json, text.format_plan)

    current: list[str] = []

    def work() -> StageResult:
        phases = ("copy", "verify") if verify else ("copy",)
        with progress_bar(phases, defer_interrupts=False) as tracker:

            def on_file(path: str, size: int) -> None:
                current[:] = [path]
                tracker.on_file(path, size)

            return stage(
                request(), access, source_access, progress=tracker.progress, on_file=on_file, on_plan=tracker.on_plan
            )

    try:
        result = in_worker(lambda: run(as_json, work))
    except KeyboardInterrupt:  # on the main thread, which only waits: the copy thread is abandoned, not drained
        raise report_interrupt(as_json, _kept(current)) from None
    finish(result, as_json, lambda r: text.format_stage(r, style))


def _kept(current: list[str]) -> str:
    if not current:
        return "nothing was copied yet; rerun the same command to start"
    return (
        f"the files finished so far and the partial copy {partial_name(current[0])} are kept on the target; "
        "rerun the same command to resume (what is there is compared with the source first)"
    )
