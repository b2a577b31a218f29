"""Ctrl-C: never lost, never cut into a message to a server, and a copy stops within a moment.

Python raises KeyboardInterrupt wherever the main thread happens to be: inside a weakref callback it is printed as
"Exception ignored" and dropped, inside a queue's or a thread's lock it can leave the lock held. Two ways out:
- ``bmr stage`` runs its work on a worker thread (:func:`in_worker`); the main thread only waits, so Ctrl-C lands
  there at once, says what was kept (:func:`report_interrupt`) and the connections are abandoned, not drained
  (:func:`leave_now`).
- Work on the main thread that reports progress (``bmr verify``) defers the first Ctrl-C to its next progress
  callback (:func:`check`), a safe point; a second Ctrl-C raises at once. Elsewhere Ctrl-C raises as usual.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar

import typer

from restore.cli import exitcodes, text
from share import errors

_requested = threading.Event()
_deferring = threading.Event()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    if _deferring.is_set() and not _requested.is_set():
        _requested.set()
        return
    _requested.set()
    raise KeyboardInterrupt


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed: the safe point of a copy."""
    if _requested.is_set():
        _deferring.clear()  # from here on, Ctrl-C raises at once again
        raise KeyboardInterrupt


def start_deferring() -> None:
    """A copy starts: from now on the first Ctrl-C waits for the next :func:`check`."""
    _deferring.set()


def stop_deferring() -> None:
    _deferring.clear()


@contextmanager
def catching_interrupts() -> Iterator[None]:
    """For the time of one command (main thread only; elsewhere Python's default stays)."""
    _requested.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _requested.clear()
        _deferring.clear()


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
