"""The ``bmr`` command line: the typer app and its table of commands (each one module in this folder)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperGroup

from restore import __version__
from restore.cli import exitcodes
from restore.cli.group import BmrGroup
from restore.cli.interrupts import leave_now
from restore.cli.logs import quiet_library_loggers, with_logging

Command = Callable[..., Any]

# Command name -> "module:function" of the function that parses its options, calls one function, renders and exits
# (imported only when that command is used); or, for a command with sub-commands, their table, whose first runs
# when none is named (`bmr drill INVENTORY` is `bmr drill run ...`).
COMMANDS: dict[str, str | dict[str, str]] = {
    "probe": "restore.cli.probe:probe",
    "inspect": "restore.cli.inspect:inspect",
    "versions": "restore.cli.versions:versions",
    "preflight": "restore.cli.preflight:preflight",
    "stage": "restore.cli.stage:stage_command",
    "verify": "restore.cli.verify:verify",
    "commands": "restore.cli.commands:commands",
    "checklist": "restore.cli.checklist:checklist",
    "drill": {
        "run": "restore.cli.drill:drill",
        "merge": "restore.cli.drill:drill_merge",
        "verify-ledger": "restore.cli.drill:drill_verify_ledger",
    },
    "boot-test": "restore.cli.boottest:boot_test",
    "demo": "restore.cli.demo:demo",
}


class _FirstByDefault(TyperGroup):
    """Sub-commands whose first one runs when the first argument names none of them (so `--help` is its help)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = [next(iter(self.commands)), *args]
        return super().parse_args(ctx, args)


def _load(reference: str) -> Command:
    module, _, name = reference.partition(":")
    function: Command = getattr(importlib.import_module(module), name)
    return function


def _build(name: str, entry: str | dict[str, str]) -> Any:
    """The click command for one entry of COMMANDS, made by typer exactly as for an app holding all of them."""
    holder = typer.Typer(add_completion=False, rich_markup_mode=None)
    if isinstance(entry, dict):
        functions = {sub: _load(reference) for sub, reference in entry.items()}
        first = next(iter(functions.values()))
        group = typer.Typer(
            cls=_FirstByDefault,
            add_completion=False,
            rich_markup_mode=None,
            help=(first.__doc__ or "").split("\n\n")[0] + f" Sub-commands: {', '.join(functions)}.",
        )
        for sub, function in functions.items():
            group.command(name=sub)(with_logging(f"{name} {sub}", function))
        holder.add_typer(group, name=name)
    else:
        holder.command(name=name)(with_logging(name, _load(entry)))
    return typer.main.get_group(holder).commands[name]


class _Commands(MutableMapping[str, Any]):
    """Every command's name from COMMANDS at once (for listings and suggestions); each click command built on
    first access."""

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = _build(name, COMMANDS[name])  # KeyError for a name not in the table
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        # typer's order, which `bmr --help` shows: the commands, then the ones with sub-commands.
        plain = [n for n, entry in COMMANDS.items() if not isinstance(entry, dict)]
        return iter([*plain, *(n for n in COMMANDS if n not in plain), *(n for n in self._built if n not in COMMANDS)])

    def __len__(self) -> int:
        return len(COMMANDS) + sum(1 for n in self._built if n not in COMMANDS)


class _LazyGroup(BmrGroup):
    """The top-level group: a command's module is imported when the command is asked for (to run it or show its
    help), not all at start-up, so `bmr stage` does not load the boot test, the drill or the PDF code."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands()


app = typer.Typer(
    name="bmr",
    cls=_LazyGroup,  # usage errors, our errors and Ctrl-C reported alike, in JSON with --json
    help="Stage, check and document Windows Server Backup / MABS recovery points for network restores.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals would print passwords
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts carry [[server]] and \\ip\share literally
)


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
