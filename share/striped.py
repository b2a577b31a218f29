"""One file written (or read back) over several connections ("streams"): each buffer handed to the sink is one
stripe, written at its own offset by the next stream's thread, as robocopy /MT and SMB multichannel spread a copy
over TCP connections; the source reads stripes on every stream ahead and hands them out in order. Protocol-free:
each stream is a :class:`Lane` (or :class:`ReadLane`) of its backend.

What a caller sees is the :class:`~share.base.Sink` contract: writes in order, ``release`` once a stripe's bytes
are handed to its connection, ``confirmed`` the contiguous prefix of stripes every stream acknowledged (where a
later attempt resumes), the first stream's failure raised by the next ``write`` or by ``close``.
"""

from __future__ import annotations

import bisect
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from share import errors
from share.base import ChunkedSource, Release, Sink

Acked = Callable[[int, int], None]  # (end offset, length) of one acknowledged write


class Lane(Protocol):
    """One connection's handle on the file being written."""

    def write_at(self, offset: int, data: memoryview, acked: Acked) -> None:
        """Hand ``data`` to the connection for ``offset``; ``acked`` is called (on any thread) as the server
        acknowledges each part. Returns once ``data`` may be reused. Raises the backend's mapped errors."""

    def finish(self) -> None:
        """Wait for every acknowledgement and close the handle. Raises the first failure."""

    def abandon(self) -> None:
        """Drop the handle after a failure. Raises nothing."""


class _Stream:
    """A lane and the thread that feeds it."""

    def __init__(self, lane: Lane, owner: StripedSink, number: int) -> None:
        self.lane = lane
        self.owner = owner
        self.todo: queue.Queue[tuple[int, memoryview, Release | None] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name=f"bmr-stream-{number}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.todo.get()) is not None:
            offset, data, release = item
            try:
                if self.owner.error is None:
                    self.lane.write_at(offset, data, self.owner.acked)
            except BaseException as exc:  # noqa: BLE001 - handed to the writing thread
                self.owner.fail(exc)
            finally:
                if release is not None:
                    release()


class StripedSink(Sink):
    """A :class:`~share.base.Sink` over several lanes of the same file (see the module's text)."""

    def __init__(self, lanes: Sequence[Lane], offset: int, timeout: float) -> None:
        self._streams = [_Stream(lane, self, number) for number, lane in enumerate(lanes)]
        self._timeout = timeout
        self._next = offset
        self._count = 0
        self._confirmed = offset
        self._lock = threading.Lock()
        self._starts: list[int] = []  # stripes not yet wholly acknowledged, by start offset
        self._open: dict[int, list[int]] = {}  # each one's [bytes not yet acknowledged, end offset]
        self.error: BaseException | None = None

    # -- called by the streams' threads -------------------------------------------------------------------------

    def acked(self, end: int, length: int) -> None:
        with self._lock:
            at = bisect.bisect_right(self._starts, end - length) - 1
            if at < 0:
                return
            self._open[self._starts[at]][0] -= length
            while self._starts and self._open[self._starts[0]][0] <= 0:
                self._confirmed = self._open.pop(self._starts.pop(0))[1]
            # A stripe acknowledged before those below it waits at 0 until they are.

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error = exc

    # -- the Sink contract --------------------------------------------------------------------------------------

    def _raise_failure(self) -> None:
        if self.error is not None:
            raise self.error

    def write(self, data: memoryview, release: Release | None = None) -> None:
        if self.error is not None:
            if release is not None:
                release()
            self._raise_failure()
        if release is None:
            data = memoryview(bytes(data))  # the caller reuses its buffer on return: the stream needs its own
        with self._lock:
            self._starts.append(self._next)
            self._open[self._next] = [len(data), self._next + len(data)]
        stream = self._streams[self._count % len(self._streams)]
        stream.todo.put((self._next, data, release))
        self._next += len(data)
        self._count += 1

    def confirmed(self) -> int:
        with self._lock:
            return self._confirmed

    def _stop_threads(self, deadline: float) -> bool:
        """Ask every stream's thread to end once its queue is done; True when all did before ``deadline``."""
        for stream in self._streams:
            stream.todo.put(None)
        for stream in self._streams:
            stream.thread.join(max(0.0, deadline - time.monotonic()))
        return not any(stream.thread.is_alive() for stream in self._streams)

    def close(self) -> None:
        # Each stream's queue holds a few buffers at most (the caller's pool is small); each write within it is
        # bounded by the connection's timeout.
        if not self._stop_threads(time.monotonic() + self._timeout * (2 + len(self._streams))):
            self.fail(errors.TimedOut(f"a stream did not finish its writes within {self._timeout:g} s"))
        self._raise_failure()
        failure: BaseException | None = None
        for stream in self._streams:
            try:
                stream.lane.finish()
            except BaseException as exc:  # noqa: BLE001 - the first is raised once every lane is closed
                failure = failure or exc
                self.fail(exc)
        if failure is not None:
            for stream in self._streams:
                stream.lane.abandon()
            raise failure
        self._raise_failure()
        with self._lock:
            if self._starts:
                raise errors.ProtocolError("a stream closed with writes not acknowledged")
            self._confirmed = self._next

    def abandon(self) -> None:
        self.fail(errors.ConnectionLost("the copy was abandoned"))
        for stream in self._streams:
            with contextlib.suppress(Exception):
                stream.lane.abandon()
        for stream in self._streams:
            stream.todo.put(None)  # the threads end once their current write fails or finishes (bounded)


class ReadLane(Protocol):
    """One connection's handle on the file being read."""

    def read_at(self, offset: int, view: memoryview) -> int:
        """Fill ``view`` from ``offset``; fewer bytes only at the end of the file. Raises the backend's mapped
        errors."""

    def abandon(self) -> None:
        """Close the handle. Raises nothing."""


class StripedSource(ChunkedSource):
    """A :class:`~share.base.Source` reading one file over several lanes: stripe k (STRIPE bytes) is read by lane
    k mod N into one of that lane's AHEAD buffers, and handed out in order. Memory: N x AHEAD x STRIPE."""

    STRIPE = 4 * 1024 * 1024
    AHEAD = 2

    def __init__(self, lanes: Sequence[ReadLane], offset: int, size: int, timeout: float) -> None:
        self._lanes = list(lanes)
        self._offset = offset
        self._stripes = max(0, -(-(size - offset) // self.STRIPE))
        self._size = size
        self._timeout = timeout
        self._ready: dict[int, tuple[bytearray, int, int]] = {}
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self._free: list[queue.Queue[bytearray | None]] = []
        for number, lane in enumerate(self._lanes):
            free: queue.Queue[bytearray | None] = queue.Queue()
            for _ in range(self.AHEAD):
                free.put(bytearray(self.STRIPE))
            self._free.append(free)
            thread = threading.Thread(target=self._run, args=(number, lane, free), name=f"bmr-read-{number}")
            thread.daemon = True
            thread.start()

    def _run(self, number: int, lane: ReadLane, free: queue.Queue[bytearray | None]) -> None:
        try:
            for stripe in range(number, self._stripes, len(self._lanes)):
                buffer = free.get()
                if buffer is None or self._stop.is_set():
                    return
                start = self._offset + stripe * self.STRIPE
                want = min(self.STRIPE, self._size - start)
                count = lane.read_at(start, memoryview(buffer)[:want])
                with self._cond:
                    self._ready[stripe] = (buffer, count, number)
                    self._cond.notify_all()
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            with self._cond:
                self.error = self.error or exc
                self._cond.notify_all()

    def _take(self, stripe: int) -> tuple[bytearray, int, int]:
        deadline = time.monotonic() + self._timeout * 4
        with self._cond:
            while stripe not in self._ready and self.error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise errors.TimedOut(f"no data from a stream within {self._timeout * 4:g} s")
                self._cond.wait(left)
            if stripe in self._ready:
                return self._ready.pop(stripe)
            assert self.error is not None
            raise self.error

    def chunks(self, size: int = 0) -> Iterator[memoryview]:
        for stripe in range(self._stripes):
            buffer, count, number = self._take(stripe)
            start = self._offset + stripe * self.STRIPE
            try:
                if count:
                    yield memoryview(buffer)[:count]
            finally:
                self._free[number].put(buffer)
            if count < min(self.STRIPE, self._size - start):
                return  # the file ended early

    def close(self) -> None:
        self._stop.set()
        for free in self._free:
            free.put(None)
        for lane in self._lanes:
            lane.abandon()
