"""The click group under the typer app: every way a command can stop early ends the same way.

Click reports its own usage errors (a bad option value, a missing argument) in a format of its own, ignores
``--json``, and turns Ctrl-C into a bare exit. Here they become what the commands print for their errors: one
``bmr: error:`` line and a hint on stderr, plus ``{"error": {...}}`` on stdout when ``--json`` is among the
arguments; the exit code comes from :mod:`restore.cli.exitcodes`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from restore.cli import exitcodes
from restore.cli.output import emit_error, emit_interrupted
from share import errors


def _usage_error(exc: typer.TyperException) -> errors.UsageError:
    """Click's usage error in our words: its message, and the help of the command it was about as the hint."""
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "bmr"
    message = " ".join(exc.format_message().split())  # one line
    return errors.UsageError(message, hint=f"`{where} --help` shows the accepted options and forms")


def _shows_help(exc: typer.TyperException) -> bool:
    """`bmr` alone prints its help through a usage error; that is not an error."""
    return type(exc).__name__ == "NoArgsIsHelpError"


class BmrGroup(TyperGroup):
    """Runs click in non-standalone mode and reports what it raises our way."""

    as_json = False

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        self.as_json = "--json" in argv
        try:
            code = super().main(argv, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.TyperException as exc:
            if _shows_help(exc):
                typer.echo(exc.format_message(), err=True)
                code = exitcodes.USAGE
            else:
                code = self._report(_usage_error(exc))
        except typer.Abort:  # Ctrl-C or end of input at a prompt
            emit_interrupted(self.as_json)
            code = exitcodes.INTERRUPTED
        code = code if isinstance(code, int) else exitcodes.OK
        if not standalone_mode:
            return code
        sys.exit(code)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except errors.BmrError as exc:  # raised before or after a command's `run` (its option checks, rendering)
            raise typer.Exit(self._report(exc)) from None
        except KeyboardInterrupt:
            emit_interrupted(self.as_json)
            raise typer.Exit(exitcodes.INTERRUPTED) from None

    def _report(self, exc: errors.BmrError) -> int:
        emit_error(exc, self.as_json)
        return exitcodes.for_error(exc)
