"""Ctrl-C during a copy is honoured at the end of a chunk (never inside a lock, never swallowed); a second one,
or one outside a copy, raises at once."""

from __future__ import annotations

import signal

import pytest

from restore.cli import interrupts
from restore.cli.progress import progress_bar


def test_outside_a_copy_ctrl_c_raises_at_once() -> None:
    with interrupts.catching_interrupts(), pytest.raises(KeyboardInterrupt):
        interrupts._on_sigint(signal.SIGINT, None)


def test_during_a_copy_the_first_waits_for_the_chunk_and_the_second_does_not() -> None:
    with interrupts.catching_interrupts(), progress_bar() as tracker:
        tracker.on_plan(1, 10)
        interrupts._on_sigint(signal.SIGINT, None)  # recorded, not raised here
        with pytest.raises(KeyboardInterrupt):
            tracker.progress("copy", 5)  # the safe point
    with interrupts.catching_interrupts(), progress_bar() as tracker:
        tracker.on_plan(1, 10)
        interrupts._on_sigint(signal.SIGINT, None)
        with pytest.raises(KeyboardInterrupt):
            interrupts._on_sigint(signal.SIGINT, None)  # pressed again: at once


def test_a_swallowed_interrupt_is_raised_again_at_the_next_chunk() -> None:
    with interrupts.catching_interrupts(), progress_bar() as tracker:
        tracker.on_plan(1, 10)
        try:
            interrupts._on_sigint(signal.SIGINT, None)
            interrupts._deferring.clear()
            interrupts._on_sigint(signal.SIGINT, None)
        except KeyboardInterrupt:
            pass  # as a weakref callback would drop it
        with pytest.raises(KeyboardInterrupt):
            tracker.progress("verify", 5)
    with interrupts.catching_interrupts():
        interrupts.check()  # a new command starts clean
