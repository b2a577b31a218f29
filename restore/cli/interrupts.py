"""Ctrl-C that is never lost and never lands in the middle of a lock.

Python raises KeyboardInterrupt wherever the main thread happens to be: inside a weakref callback it is printed
as "Exception ignored" and dropped (the copy runs on), inside a queue's or a thread's lock it can leave the lock
held (the copy hangs). While a copy runs, the first Ctrl-C therefore only records the request, and the copy's
progress callback (called for every chunk) raises it at that safe point; a second Ctrl-C raises at once.
Outside a copy (connecting, inspecting, writing the manifests), Ctrl-C raises at once as usual.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

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
