"""How every command ends: a result printed as text or JSON, an error as a message (never a traceback), and the
exit code from the one map in :mod:`restore.cli.exitcodes`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import typer

from restore.cli import exitcodes, logs, text
from restore.outcome import Result
from share import errors

R = TypeVar("R", bound=Result)


def style(words: str, colour: str) -> str:
    """Colour for terminals (typer leaves it out when stdout is not one)."""
    return typer.style(words, fg=colour, bold=colour in ("red", "green"))


def emit_error(exc: errors.BmrError, as_json: bool) -> None:
    raw = logs.raw_error(exc)
    logs.log.error("error", extra={"bmr_fields": {**text.error_json(exc), "raw": raw}})
    if as_json:
        typer.echo(json.dumps({"error": text.error_json(exc)}, indent=2))
    typer.echo(text.format_error(exc), err=True)
    if logs.SETTINGS.verbose and raw:
        typer.echo(f"  raw: {raw}", err=True)


def emit_interrupted(as_json: bool) -> None:
    logs.record("interrupted")
    interrupted = errors.BmrError(
        "interrupted", hint="rerun the same command; bmr stage continues a copy where it stopped"
    )
    if as_json:
        typer.echo(json.dumps({"error": {**text.error_json(interrupted), "type": "Interrupted"}}, indent=2))
    typer.echo("bmr: interrupted", err=True)


@contextmanager
def reported(as_json: bool) -> Iterator[None]:
    """Turn our errors and Ctrl-C into a message and an exit code; never a traceback."""
    try:
        yield
    except errors.BmrError as exc:
        emit_error(exc, as_json)
        raise typer.Exit(exitcodes.for_error(exc)) from None
    except KeyboardInterrupt:
        emit_interrupted(as_json)
        raise typer.Exit(exitcodes.INTERRUPTED) from None


def run(as_json: bool, work: Callable[[], R]) -> R:
    """Call the command's one function with errors reported."""
    with reported(as_json):
        return work()


def finish(result: Result, as_json: bool, render: Callable[[Any], str]) -> NoReturn:
    """Print ``result`` (JSON, or ``render(result)``) and exit with the code its outcome maps to."""
    logs.record("summary", outcome=result.outcome.value, result=result.to_json())
    typer.echo(json.dumps(result.to_json(), indent=2) if as_json else render(result))
    raise typer.Exit(exitcodes.for_outcome(result.outcome))
