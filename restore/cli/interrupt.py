"""Ctrl-C during a copy: stop within a moment, say what was kept, and abandon the connections instead of draining
them. The work runs on a worker thread, so the interrupt lands on the main thread, which only waits: no message
to a server is cut in half, and nothing waits for a busy server to answer before the process ends."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

import typer

from restore.cli import exitcodes, text
from share import errors

T = TypeVar("T")
POLL = 0.1  # seconds between looks at the worker: the longest a Ctrl-C waits to be noticed


class Interrupted(errors.BmrError):
    """Rerun the same command: what is on the target is compared with the source and the copy continues."""


def in_worker(work: Callable[[], T]) -> T:
    """``work()`` on a daemon thread; its result or its exception here. KeyboardInterrupt arrives here at once."""
    result: list[T] = []
    failure: list[BaseException] = []

    def body() -> None:
        try:
            result.append(work())
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            failure.append(exc)

    worker = threading.Thread(target=body, name="bmr-work", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(POLL)
    if failure:
        raise failure[0]
    return result[0]


def report_interrupt(as_json: bool, kept: str) -> typer.Exit:
    """The message for Ctrl-C during a copy (``kept`` says what stays on the target), and the exit to raise."""
    exc = Interrupted(f"interrupted; {kept}")
    if as_json:
        typer.echo(json.dumps({"error": text.error_json(exc)}, indent=2))
    typer.echo("\n" + text.format_error(exc), err=True)
    return typer.Exit(exitcodes.INTERRUPTED)


def leave_now(code: int) -> None:
    """End the process without the libraries' exit handlers, which would close busy connections politely and
    wait for answers (smbclient's connection cache, paramiko's transport threads): the server drops them."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
