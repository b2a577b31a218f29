"""One `bmr stage` at a time per target: ``bmr-stage.lock`` beside WindowsImageBackup (no leading dot: hardened
shares veto dot-files), holding host, pid and times, refreshed while the copy runs and removed at the end.

Taking it: write a lock of our own under a temporary name, rename it to ``bmr-stage.lock`` without replacing (the
rename is the atomic step), read it back. A lock whose file was not rewritten for ``STALE_AFTER`` seconds, by the
target's own clock (compared with the time stamp of our fresh temporary file), or whose process is gone on this
very host, is taken over: replaced, then read back after a pause so that of two runs taking it over, one wins.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from share import errors
from share.base import Backend

LOCK_NAME = "bmr-stage.lock"
STALE_AFTER = 15 * 60.0  # seconds without a refresh before a lock counts as abandoned (beyond any retry wait)
REFRESH_EVERY = 60.0
TAKEOVER_PAUSE = 2.0


class StageLocked(errors.BmrError):
    """Wait for the other bmr stage to finish. If it is gone (its machine died), rerun after 15 minutes: a lock
    that is not refreshed for that long is taken over."""


@dataclass(frozen=True)
class Holder:
    token: str
    host: str
    pid: int
    started: str
    refreshed: str

    def describe(self) -> str:
        return f"since {self.started} (host {self.host}, process {self.pid}, last refreshed {self.refreshed})"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _read(target: Backend) -> Holder | None:
    try:
        data: Any = json.loads(target.read_bytes(LOCK_NAME, 64 * 1024).decode("utf-8"))
        return Holder(str(data["token"]), str(data["host"]), int(data["pid"]), str(data["started"]),
                      str(data["refreshed"]))  # fmt: skip
    except errors.NotFound:
        return None
    except (ValueError, KeyError, TypeError):
        return Holder("?", "?", 0, "?", "?")  # unreadable: judged by its age alone


def _gone_here(holder: Holder) -> bool:
    """True when the holder ran on this host and its process no longer exists (Ctrl-C'd, killed)."""
    if holder.host != socket.gethostname() or holder.pid <= 0:
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class StageLock:
    """The lock while held: :meth:`refresh` often (cheap unless due), :meth:`release` at the end."""

    def __init__(self, target: Backend, clock: Callable[[], float] = time.monotonic) -> None:
        self.target = target
        self.clock = clock
        self.me = Holder(uuid.uuid4().hex, socket.gethostname(), os.getpid(), _now(), _now())
        self._last = clock()

    def _write(self, name: str) -> None:
        body = json.dumps(self.me.__dict__, indent=2).encode("utf-8")
        with self.target.open_write(name) as stream:
            stream.write(body)

    def acquire(self) -> None:
        """Take the lock. Raises StageLocked while another live stage holds it."""
        temporary = f"{LOCK_NAME}.{self.me.token[:8]}.bmr-partial"
        self._write(temporary)
        left = True  # the temporary file is there (a rename that worked took it away: nothing to remove)
        try:
            try:
                self.target.rename(temporary, LOCK_NAME)
                left = False
                if self._mine():
                    return
            except errors.AlreadyExists:
                pass
            holder = _read(self.target)
            if holder is not None and not self._abandoned(holder, temporary):
                raise StageLocked(f"another bmr stage is copying here {holder.describe()}; nothing was changed")
            self._write(temporary)
            left = True
            self.target.rename(temporary, LOCK_NAME, replace=True)
            left = False
            time.sleep(TAKEOVER_PAUSE)  # a second run taking it over at the same moment: the later rename wins
            if not self._mine():
                holder = _read(self.target)
                shown = holder.describe() if holder else "a moment ago"
                raise StageLocked(f"another bmr stage took this target over {shown}; nothing was changed")
        finally:
            if left:
                with contextlib.suppress(errors.ShareError):
                    self.target.remove(temporary)

    def _abandoned(self, holder: Holder, ours: str) -> bool:
        if _gone_here(holder):
            return True
        try:
            theirs, fresh = self.target.stat(LOCK_NAME).mtime, self.target.stat(ours).mtime
        except errors.NotFound:
            return True  # released meanwhile
        if theirs is None or fresh is None:
            return False
        return fresh - theirs > STALE_AFTER  # both times from the target's clock

    def _mine(self) -> bool:
        holder = _read(self.target)
        return holder is not None and holder.token == self.me.token

    def refresh(self) -> None:
        """Rewrite the lock when due. Raises StageLocked if another run took it over meanwhile."""
        if self.clock() - self._last < REFRESH_EVERY:
            return
        self._last = self.clock()
        if not self._mine():
            raise StageLocked("another bmr stage took this target over while this one was copying; stopped")
        self.me = Holder(self.me.token, self.me.host, self.me.pid, self.me.started, _now())
        temporary = f"{LOCK_NAME}.{self.me.token[:8]}.bmr-partial"
        self._write(temporary)
        self.target.rename(temporary, LOCK_NAME, replace=True)

    def release(self) -> None:
        """Remove the lock if it is still ours. Raises nothing: the first error is the one worth reporting."""
        with contextlib.suppress(errors.ShareError):
            if self._mine():
                self.target.remove(LOCK_NAME)


@contextlib.contextmanager
def stage_lock(target: Backend) -> Iterator[StageLock]:
    """Hold the target's stage lock for the duration; released also on errors."""
    lock = StageLock(target)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
