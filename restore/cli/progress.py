"""Progress on stderr while a copy runs.

On a terminal: two tqdm bars, one for copying (and comparing what is already there) and one for the read-back,
each with its own count, in the binary units of the summary (KiB, MiB, GiB). They start with the first file, so
a refusal prints no empty bar. Without a terminal (a scheduled task, a pipe) tqdm stays silent, so one line is
printed every INTERVAL seconds instead: files done/total, bytes, rate, ETA. With -q, nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from restore.cli import interrupts, logs
from restore.units import human_bytes, human_seconds

if TYPE_CHECKING:  # loaded when a bar is drawn (on a terminal): -q, --json and pipes never pay for it
    from tqdm import tqdm

INTERVAL = 5.0  # seconds between progress lines when stderr is not a terminal

PHASE_WORDS = {"copy": "copying", "reuse": "comparing", "verify": "reading back"}


@dataclass
class Counts:
    """What a copy has done so far, phase by phase; pure bookkeeping, rendered by :func:`progress_line`."""

    files: int = 0
    bytes_total: int = 0
    file_index: int = 0
    settled: int = 0  # copied or found already there
    reused: int = 0
    read_back: int = 0
    copied: int = 0
    copy_seconds: float = 0.0
    verify_seconds: float = 0.0
    verifying: bool = True  # a read-back phase follows each copy
    phase: str = "copy"
    started: float = field(default_factory=time.monotonic)

    def rate(self, phase: str = "copy") -> float:
        """Bytes a second of one phase, over the time spent in it (comparing is neither)."""
        done, seconds = (self.read_back, self.verify_seconds) if phase == "verify" else (self.copied, self.copy_seconds)
        return done / seconds if seconds > 0 else 0.0

    def eta(self) -> float | None:
        copy_rate = self.rate("copy")
        verify_rate = self.rate("verify") or copy_rate
        if copy_rate <= 0:
            return None
        left = max(self.bytes_total - self.settled, 0) / copy_rate
        if self.verifying:
            left += max(self.bytes_total - self.reused - self.read_back, 0) / verify_rate
        return left


def progress_line(counts: Counts, now: float) -> str:
    """One line for logs and pipes: phase, files, bytes, rate, elapsed and ETA."""
    eta = counts.eta()
    verify = counts.phase == "verify"
    done = counts.read_back if verify else counts.settled
    return (
        f"bmr: {PHASE_WORDS.get(counts.phase, counts.phase)} file {counts.file_index}/{counts.files}, "
        f"{human_bytes(done)} of {human_bytes(counts.bytes_total)}, "
        f"{human_bytes(int(counts.rate('verify' if verify else 'copy')))}/s, "
        f"{human_seconds(now - counts.started)} elapsed, ETA {human_seconds(eta) if eta else '-'}"
    )


def _bar_text(counts: Counts, phase: str) -> str:
    verify = phase == "verify"
    label = "read back" if verify else ("compare" if phase == "reuse" else "copy")
    done = counts.read_back if verify else counts.settled
    return (
        f"{label:<9} {human_bytes(done)}/{human_bytes(counts.bytes_total)}  "
        f"{human_bytes(int(counts.rate('verify' if verify else 'copy')))}/s  file {counts.file_index}/{counts.files}"
    )


class Tracker:
    """The callbacks a copy reports to: on_plan(files, bytes), on_file(path, size), progress(phase, bytes)."""

    def __init__(
        self,
        *,
        terminal: bool,
        quiet: bool,
        phases: tuple[str, ...] = ("copy", "verify"),
        clock: Callable[[], float] = time.monotonic,
        defer_interrupts: bool = True,
    ) -> None:
        # A copy on the main thread defers Ctrl-C to the end of a chunk (never inside a lock); a copy on a worker
        # thread (bmr stage) does not: its main thread only waits, so Ctrl-C may land there at once.
        self.defer_interrupts = defer_interrupts
        self.counts = Counts(started=clock(), verifying="verify" in phases)
        self.phases = phases
        self.terminal = terminal
        self.quiet = quiet
        self.clock = clock
        self.bars: dict[str, tqdm[Any]] = {}
        self.last_line = self.counts.started
        self.last_event = self.counts.started

    def on_plan(self, files: int, size: int) -> None:
        if self.defer_interrupts:
            interrupts.start_deferring()  # copying starts: Ctrl-C now waits for the end of the chunk
        self.counts.files, self.counts.bytes_total = files, size
        if self.terminal and not self.quiet:
            from tqdm import tqdm

            fmt = "{desc}  {percentage:3.0f}%|{bar}| {elapsed} elapsed"
            for position, key in enumerate(self.phases):
                desc = _bar_text(self.counts, key)
                self.bars[key] = tqdm(total=size, desc=desc, bar_format=fmt, position=position, dynamic_ncols=True)

    def on_file(self, path: str, size: int) -> None:
        self.counts.file_index += 1
        logs.record("file", path=path, size=size, index=self.counts.file_index, of=self.counts.files)

    def progress(self, phase: str, count: int) -> None:
        interrupts.check()  # a Ctrl-C swallowed somewhere (a weakref callback) still ends the copy
        if phase == "recheck":
            return  # the source read again to prove it did not change: time spent, no bytes settled
        now = self.clock()
        counts = self.counts
        if phase == counts.phase == "copy":
            counts.copy_seconds += now - self.last_event
        elif phase == counts.phase == "verify":
            counts.verify_seconds += now - self.last_event
        counts.phase = phase
        self.last_event = now
        if phase == "verify":
            counts.read_back += count
        else:
            counts.settled += count
            counts.copied += count if phase == "copy" else 0
            counts.reused += count if phase == "reuse" else 0
        bar = self.bars.get("verify" if phase == "verify" else "copy")
        if bar is not None:
            bar.set_description_str(_bar_text(counts, phase), refresh=False)
            bar.update(count)
        elif not self.terminal and not self.quiet and now - self.last_line >= INTERVAL:
            self.last_line = now
            self.say(progress_line(counts, now))

    def say(self, line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class ServerProgress:
    """Servers done in a drill: a tqdm bar on a terminal, else a line every INTERVAL seconds; nothing with -q."""

    def __init__(self, *, terminal: bool, quiet: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started = self.last_line = clock()
        self.total = self.done = self.failing = 0
        self.lines = not terminal and not quiet
        self.bar: tqdm[Any] | None = None
        if terminal and not quiet:
            from tqdm import tqdm

            self.bar = tqdm(total=0, unit="server")

    def on_count(self, count: int) -> None:
        self.total = count
        if self.bar is not None:
            self.bar.total = count
            self.bar.refresh()

    def on_done(self, failed: bool) -> None:
        interrupts.check()
        self.done += 1
        self.failing += int(failed)
        if self.bar is not None:
            self.bar.update(1)
        now = self.clock()
        if self.lines and (now - self.last_line >= INTERVAL or self.done == self.total):
            self.last_line = now
            print(
                f"bmr: {self.done}/{self.total} servers done, {self.failing} failing, "
                f"{human_seconds(now - self.started)} elapsed",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@contextmanager
def progress_bar(phases: tuple[str, ...] = ("copy", "verify"), *, defer_interrupts: bool = True) -> Iterator[Tracker]:
    """Bars (one per phase: "copy", "verify") on a terminal, progress lines elsewhere, nothing with -q."""
    tracker = Tracker(
        terminal=sys.stderr.isatty(), quiet=logs.SETTINGS.quiet, phases=phases, defer_interrupts=defer_interrupts
    )
    try:
        yield tracker
    finally:
        interrupts.stop_deferring()
        tracker.close()
