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
from typing import Any

from tqdm import tqdm

from restore.cli import logs
from restore.units import human_bytes, human_seconds

INTERVAL = 5.0  # seconds between progress lines when stderr is not a terminal

PHASE_WORDS = {"copy": "copying", "reuse": "comparing", "verify": "reading back"}


@dataclass
class Counts:
    """What a copy has done so far, phase by phase; pure bookkeeping, rendered by :func:`progress_line`."""

    files: int = 0
    bytes_total: int = 0
    file_index: int = 0
    settled: int = 0  # copied or found already there
    read_back: int = 0
    copied: int = 0
    copy_seconds: float = 0.0
    phase: str = "copy"
    started: float = field(default_factory=time.monotonic)

    def rate(self) -> float:
        return self.copied / self.copy_seconds if self.copy_seconds > 0 else 0.0


def progress_line(counts: Counts, now: float) -> str:
    """One line for logs and pipes: phase, files, bytes, rate, elapsed and ETA."""
    rate = counts.rate()
    left = counts.bytes_total - counts.settled
    eta = f"ETA {human_seconds(left / rate)}" if rate > 0 and left > 0 else "ETA -"
    done = counts.read_back if counts.phase == "verify" else counts.settled
    return (
        f"bmr: {PHASE_WORDS.get(counts.phase, counts.phase)} file {counts.file_index}/{counts.files}, "
        f"{human_bytes(done)} of {human_bytes(counts.bytes_total)}, {human_bytes(int(rate))}/s, "
        f"{human_seconds(now - counts.started)} elapsed, {eta}"
    )


def _bar_text(counts: Counts, done: int) -> str:
    return (
        f"{human_bytes(done)}/{human_bytes(counts.bytes_total)}  {human_bytes(int(counts.rate()))}/s  "
        f"file {counts.file_index}/{counts.files}"
    )


class Tracker:
    """The callbacks a copy reports to: on_plan(files, bytes), on_file(path, size), progress(phase, bytes)."""

    def __init__(self, *, terminal: bool, quiet: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.counts = Counts(started=clock())
        self.terminal = terminal
        self.quiet = quiet
        self.clock = clock
        self.bars: dict[str, tqdm[Any]] = {}
        self.last_line = self.counts.started
        self.last_event = self.counts.started
        self.lines: list[str] = []  # what was printed without a terminal (for tests)

    def on_plan(self, files: int, size: int) -> None:
        self.counts.files, self.counts.bytes_total = files, size
        if self.terminal and not self.quiet:
            fmt = "{desc:<12} {percentage:3.0f}%|{bar}| {postfix} [{elapsed}<{remaining}]"
            for position, (key, label) in enumerate((("copy", "copy"), ("verify", "read back"))):
                self.bars[key] = tqdm(total=size, desc=label, bar_format=fmt, position=position, dynamic_ncols=True)

    def on_file(self, path: str, size: int) -> None:
        self.counts.file_index += 1
        logs.record("file", path=path, size=size, index=self.counts.file_index, of=self.counts.files)

    def progress(self, phase: str, count: int) -> None:
        now = self.clock()
        counts = self.counts
        if phase == "copy" and counts.phase == "copy":
            counts.copy_seconds += now - self.last_event
        counts.phase = phase
        self.last_event = now
        if phase == "verify":
            counts.read_back += count
        else:
            counts.settled += count
            if phase == "copy":
                counts.copied += count
        if self.bars:
            bar = self.bars["verify" if phase == "verify" else "copy"]
            bar.set_postfix_str(_bar_text(counts, counts.read_back if phase == "verify" else counts.settled), False)
            bar.update(count)
        elif not self.terminal and not self.quiet and now - self.last_line >= INTERVAL:
            self.last_line = now
            self.say(progress_line(counts, now))

    def say(self, line: str) -> None:
        self.lines.append(line)
        print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


@contextmanager
def progress_bar() -> Iterator[Tracker]:
    """Bars on a terminal, progress lines elsewhere, nothing with -q."""
    tracker = Tracker(terminal=sys.stderr.isatty(), quiet=logs.SETTINGS.quiet)
    try:
        yield tracker
    finally:
        tracker.close()
