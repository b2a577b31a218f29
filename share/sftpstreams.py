"""One file written over several SSH connections at once (issue 24). Each buffer the copy hands over (a stripe) goes to
the next connection in turn and is written at its own offset by that connection's thread, with paramiko's pipelined
write requests; the acknowledgements are collected as they come, so the sink knows the contiguous prefix every stream
has confirmed (where a copy resumes after a failure on any of them).

A lane's thread keeps the exception it met; the main thread maps it (through the backend's one mapping) and raises it
on the next write or on close, after stopping the other lanes: the mapping may ask the server about its free space."""

from __future__ import annotations

import collections
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paramiko
from paramiko.sftp import CMD_STATUS, CMD_WRITE
from paramiko.sftp_client import int64

from share.base import ErrorMapper, Release, Sink

IN_FLIGHT = 8 * 1024 * 1024  # unacknowledged bytes per connection: enough to keep it busy, little to resend
QUEUED = 2  # stripes waiting for a lane beyond the one it sends


@dataclass
class _Stripe:
    index: int
    offset: int
    data: memoryview
    release: Release | None


@dataclass
class _Lane:
    """One connection's writer: a file handle on its own SFTP session, a queue of stripes and a thread."""

    number: int
    file: paramiko.SFTPFile
    todo: queue.Queue[_Stripe | None] = field(default_factory=lambda: queue.Queue(QUEUED))
    thread: threading.Thread | None = None
    failed: BaseException | None = None


class StripedSink(Sink):
    """A sink over several SFTP file handles of the same file (the first one created or truncated it at ``offset``).
    ``dead(k)`` is told when lane k's connection failed or hung, so that the backend does not use it again."""

    def __init__(
        self,
        files: list[paramiko.SFTPFile],
        offset: int,
        *,
        mapped: ErrorMapper,
        path: str,
        timeout: float,
        request: int,
        dead: Callable[[int], None],
    ) -> None:
        self._mapped = mapped
        self._path = path
        self._timeout = timeout
        self._request = request
        self._dead = dead
        self._start = self._position = offset
        self._next = 0  # index of the next stripe
        self._ends: dict[int, int] = {}  # stripe index -> its end offset, until confirmed
        self._acked: set[int] = set()
        self._confirmed_index = 0  # stripes [0, this) are acknowledged
        self._confirmed = offset
        self._lock = threading.Lock()
        self._failure: BaseException | None = None
        self._stopping = threading.Event()
        self._finished = False
        self._lanes = [_Lane(number, file) for number, file in enumerate(files)]
        for lane in self._lanes:
            lane.thread = threading.Thread(target=self._run, args=(lane,), name=f"bmr-sftp-{lane.number}", daemon=True)
            lane.thread.start()

    @property
    def streams(self) -> int:
        return len(self._lanes)

    # -- the copy's side ----------------------------------------------------------------------------------------

    def write(self, data: memoryview, release: Release | None = None) -> None:
        try:
            self._raise_failure()
            stripe = _Stripe(self._next, self._position, data, release)
            lane = self._lanes[self._next % len(self._lanes)]
            with self._lock:
                self._ends[stripe.index] = self._position + len(data)
            deadline = time.monotonic() + 2 * self._timeout + 1
            while True:
                try:
                    lane.todo.put(stripe, timeout=0.1)
                    break
                except queue.Full:
                    self._raise_failure()
                    if time.monotonic() > deadline:
                        self._fail(lane, TimeoutError(f"stream {lane.number} took no data for {self._timeout:g} s"))
                        self._raise_failure()
            release = None  # the lane releases it now
            self._next += 1
            self._position += len(data)
        finally:
            if release is not None:
                release()

    def confirmed(self) -> int:
        with self._lock:
            return self._confirmed

    def close(self) -> None:
        """Wait for every stripe's acknowledgement, then close every handle; the first failure is raised."""
        if self._finished:
            return
        for lane in self._lanes:
            self._hand(lane, None)
        deadline = time.monotonic() + 2 * self._timeout + 1
        for lane in self._lanes:
            assert lane.thread is not None
            lane.thread.join(max(deadline - time.monotonic(), 0.1))
            if lane.thread.is_alive():
                self._fail(lane, TimeoutError(f"stream {lane.number} did not finish within {self._timeout:g} s"))
        self._raise_failure()
        self._finished = True
        with self._mapped(self._path):
            for lane in self._lanes:
                lane.file.close()

    def abandon(self) -> None:
        """Stop every lane without raising: queued stripes are dropped (and released); failed or hung connections are
        reported dead, the others' handles closed."""
        if self._finished:
            return
        self._finished = True
        self._stopping.set()
        for lane in self._lanes:
            with contextlib.suppress(queue.Full):
                lane.todo.put_nowait(None)
        deadline = time.monotonic() + self._timeout
        for lane in self._lanes:
            assert lane.thread is not None
            lane.thread.join(max(deadline - time.monotonic(), 0.1))
            if lane.failed is not None or lane.thread.is_alive():
                self._dead(lane.number)
                continue
            with contextlib.suppress(Exception):
                lane.file.close()

    # -- failures -------------------------------------------------------------------------------------------------

    def _fail(self, lane: _Lane, exc: BaseException) -> None:
        lane.failed = exc
        with self._lock:
            if self._failure is None:
                self._failure = exc
        self._stopping.set()

    def _raise_failure(self) -> None:
        """Raise the first failure of any lane, mapped; the other lanes are stopped first (the mapping may talk to the
        server on the first connection)."""
        failure = self._failure
        if failure is None:
            return
        self.abandon()
        with self._mapped(self._path):
            raise failure

    def _hand(self, lane: _Lane, item: _Stripe | None) -> None:
        deadline = time.monotonic() + 2 * self._timeout + 1
        while time.monotonic() < deadline:
            try:
                lane.todo.put(item, timeout=0.1)
                return
            except queue.Full:
                if lane.thread is None or not lane.thread.is_alive():
                    return

    # -- a lane's thread ------------------------------------------------------------------------------------------

    def _run(self, lane: _Lane) -> None:
        sftp: Any = lane.file.sftp
        handle = lane.file.handle
        pending: collections.deque[tuple[int, int, int | None]] = collections.deque()  # (request, bytes, stripe)
        in_flight = 0
        while True:
            try:
                stripe = lane.todo.get(timeout=0.2)
            except queue.Empty:
                if self._stopping.is_set():
                    break  # abandoned with a full queue: no end marker came
                continue
            if stripe is None:
                break
            try:
                if self._stopping.is_set():
                    continue
                view = stripe.data
                step = self._request
                last = (len(view) - 1) // step * step
                for start in range(0, len(view), step):
                    chunk = bytes(view[start : start + step])  # paramiko's message packing takes bytes only
                    number = sftp._async_request(type(None), CMD_WRITE, handle, int64(stripe.offset + start), chunk)
                    pending.append((number, len(chunk), stripe.index if start == last else None))
                    in_flight += len(chunk)
                if stripe.release is not None:
                    stripe.release()
                    stripe.release = None
                while in_flight > IN_FLIGHT:
                    in_flight -= self._collect(sftp, pending)
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which maps it
                self._fail(lane, exc)
            finally:
                if stripe.release is not None:
                    stripe.release()
        if lane.failed is not None:
            return
        try:  # what this lane sent is acknowledged even when another one failed: confirmed() goes as far as it can
            while pending:
                self._collect(sftp, pending)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self._fail(lane, exc)

    def _collect(self, sftp: Any, pending: collections.deque[tuple[int, int, int | None]]) -> int:
        """Wait for the oldest request's answer (bounded by the channel's timeout); returns its size."""
        number, size, stripe = pending.popleft()
        kind, _msg = sftp._read_response(number)  # an error status raises here
        if kind != CMD_STATUS:
            raise paramiko.SFTPError("Expected status")
        if stripe is not None:
            self._stripe_done(stripe)
        return size

    def _stripe_done(self, index: int) -> None:
        with self._lock:
            self._acked.add(index)
            while self._confirmed_index in self._acked:
                self._acked.discard(self._confirmed_index)
                self._confirmed = self._ends.pop(self._confirmed_index)
                self._confirmed_index += 1
