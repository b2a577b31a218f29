"""`bmr demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from restore.cli import logs
from restore.cli.options import Json
from restore.cli.output import finish, run
from restore.cli.paths import output_folder
from restore.cli.progress import progress_bar
from restore.demo.run import DemoResult
from restore.demo.run import demo as run_demo


def demo(
    folder: Annotated[
        Path | None,
        typer.Option("--dir", metavar="DIR", help="An empty or new folder for the demo's files.", file_okay=False),
    ] = None,
    no_samba: Annotated[
        bool, typer.Option("--no-samba", help="Use a local folder even where smbd is installed.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Show the whole job with no real server: sample point -> staged share -> preflight -> commands -> checklists.

    Uses a throwaway Samba on 127.0.0.1 when smbd is installed (and run as root), else a local folder, and
    stops what it started. The files stay, and the last lines say where.
    """
    if folder is not None:
        output_folder(folder, "--dir")
    say = (lambda words: None) if as_json or logs.SETTINGS.quiet else typer.echo

    def work() -> DemoResult:
        with progress_bar() as tracker:
            return run_demo(folder, no_samba=no_samba, say=say, progress=tracker.progress, on_plan=tracker.on_plan)

    def render(result: DemoResult) -> str:
        return (
            f"Everything is in {result.folder}: mabs-export/ (the sample), share/ (the staged copy with "
            "SHA256SUMS and bmr-manifest.json), checklists/."
        )

    finish(run(as_json, work), as_json, render)
