"""The ``bmr`` command line: the typer app and its table of commands (each one module in this folder)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from restore import __version__
from restore.cli import exitcodes
from restore.cli.boottest import boot_test
from restore.cli.checklist import checklist
from restore.cli.commands import commands
from restore.cli.demo import demo
from restore.cli.drill import drill, drill_merge, drill_verify_ledger
from restore.cli.group import BmrGroup
from restore.cli.inspect import inspect
from restore.cli.interrupts import leave_now
from restore.cli.logs import quiet_library_loggers, with_logging
from restore.cli.preflight import preflight
from restore.cli.probe import probe
from restore.cli.stage import stage_command
from restore.cli.verify import verify
from restore.cli.versions import versions

app = typer.Typer(
    name="bmr",
    cls=BmrGroup,  # usage errors, our errors and Ctrl-C reported alike, in JSON with --json
    help="Stage, check and document Windows Server Backup / MABS recovery points for network restores.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals would print passwords
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts carry [[server]] and \\ip\share literally
)

Command = Callable[..., Any]

# Command name -> the function that parses its options, calls one function, renders and exits; or, for a command
# with sub-commands, their table, whose first runs when none is named (`bmr drill INVENTORY` is `bmr drill run ...`).
COMMANDS: dict[str, Command | dict[str, Command]] = {
    "probe": probe,
    "inspect": inspect,
    "versions": versions,
    "preflight": preflight,
    "stage": stage_command,
    "verify": verify,
    "commands": commands,
    "checklist": checklist,
    "drill": {"run": drill, "merge": drill_merge, "verify-ledger": drill_verify_ledger},
    "boot-test": boot_test,
    "demo": demo,
}


class _FirstByDefault(TyperGroup):
    """Sub-commands whose first one runs when the first argument names none of them (so `--help` is its help)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = [next(iter(self.commands)), *args]
        return super().parse_args(ctx, args)


for _name, _command in COMMANDS.items():
    if isinstance(_command, dict):
        _first = next(iter(_command.values()))
        _group = typer.Typer(
            cls=_FirstByDefault,
            add_completion=False,
            rich_markup_mode=None,
            help=(_first.__doc__ or "").split("\n\n")[0] + f" Sub-commands: {', '.join(_command)}.",
        )
        for _sub, _function in _command.items():
            _group.command(name=_sub)(with_logging(f"{_name} {_sub}", _function))
        app.add_typer(_group, name=_name)
    else:
        app.command(name=_name)(with_logging(_name, _command))


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
    3 cannot connect, authenticate or access (a named folder that does not exist too), 130 interrupted.
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
