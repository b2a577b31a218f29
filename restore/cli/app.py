"""The ``bmr`` command line: the typer app and its table of commands (each one module in this folder)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from restore import __version__
from restore.cli import exitcodes
from restore.cli.checklist import checklist
from restore.cli.commands import commands
from restore.cli.demo import demo
from restore.cli.drill import drill
from restore.cli.inspect import inspect
from restore.cli.interrupt import leave_now
from restore.cli.logs import quiet_library_loggers
from restore.cli.preflight import preflight
from restore.cli.probe import probe
from restore.cli.stage import stage_command
from restore.cli.versions import versions

app = typer.Typer(
    name="bmr",
    help="Stage, check and document Windows Server Backup / MABS recovery points for network restores.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals would print passwords
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts carry [[server]] and \\ip\share literally
)

# Command name -> the function that parses its options, calls one function, renders and exits.
COMMANDS: dict[str, Callable[..., Any]] = {
    "probe": probe,
    "inspect": inspect,
    "versions": versions,
    "preflight": preflight,
    "stage": stage_command,
    "commands": commands,
    "checklist": checklist,
    "drill": drill,
    "demo": demo,
}
for _name, _command in COMMANDS.items():
    app.command(name=_name)(_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bmr {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """bmr: get a server back from a Windows Server Backup or MABS recovery point over the network.

    Exit codes: 0 ok (warnings allowed), 1 a check or verification failed, 2 usage error,
    3 cannot connect, authenticate or access, 130 interrupted.
    """
    quiet_library_loggers()


def main() -> None:
    quiet_library_loggers()
    try:
        app()
    except SystemExit as exc:
        if exc.code == exitcodes.INTERRUPTED:
            leave_now(exitcodes.INTERRUPTED)  # abandon connections: no exit handler drains a busy session
        raise
