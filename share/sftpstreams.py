"""One stream of a striped SFTP copy (issue 24): a file handle on one SSH connection's SFTP session, written at the
offsets :class:`share.striped.StripedSink` hands it, with paramiko's pipelined write requests whose answers are
collected as they come (at most IN_FLIGHT bytes unanswered), each one reported to the sink."""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import paramiko
from paramiko.sftp import CMD_DATA, CMD_READ, CMD_STATUS, CMD_WRITE
from paramiko.sftp_client import int64

from share.striped import Acked

IN_FLIGHT = 8 * 1024 * 1024  # unanswered bytes per connection: enough to keep it busy, little to send again

# The backend's error mapping for this lane's file, with this lane's own SFTP session for the questions it may ask
# (the free space, for a bare failure): a session is used by one thread only.
LaneMapping = Callable[[], AbstractContextManager[None]]


class _Handle:
    """One SFTP file handle used by one stream's thread. ``dead`` is called when the stream is abandoned after its
    connection failed or hung: the backend then drops that connection instead of using it for the next file."""

    def __init__(
        self, file: paramiko.SFTPFile, mapped: LaneMapping, request: int, timeout: float, dead: Callable[[], None]
    ) -> None:
        self._file = file
        self._sftp: Any = file.sftp
        self._handle = file.handle
        self._mapped = mapped
        self._request = request
        self._timeout = timeout
        self._dead = dead
        self._busy = threading.Lock()  # held while the stream's thread talks to the server
        self._stop = threading.Event()
        self._failed = False

    def _drain(self) -> None:
        """Collect what is still due before the handle closes (nothing by default)."""

    def abandon(self) -> None:
        """Stop after the request under way; on a healthy connection what is still due is collected (so that
        ``confirmed`` goes as far as it can) and the handle is closed (a Windows server would keep the file locked
        otherwise); a failed or hung one is reported dead. Bounded by the timeout (each answer's)."""
        self._stop.set()
        if not self._busy.acquire(timeout=self._timeout + 1):
            self._dead()  # closing the connection ends the thread's wait
            return
        try:
            if self._failed:
                self._dead()
                return
            try:
                self._drain()
                self._file.close()
            except Exception:  # noqa: BLE001 - it failed too: the first failure is the one reported
                self._dead()
        finally:
            self._busy.release()


class SftpLane(_Handle):
    """A :class:`share.striped.Lane` over one SFTP file handle."""

    def __init__(
        self, file: paramiko.SFTPFile, mapped: LaneMapping, request: int, timeout: float, dead: Callable[[], None]
    ) -> None:
        super().__init__(file, mapped, request, timeout, dead)
        self._acked: Acked | None = None
        self._pending: collections.deque[tuple[int, int, int]] = collections.deque()  # (request, end, length)
        self._in_flight = 0

    def write_at(self, offset: int, data: memoryview, acked: Acked) -> None:
        self._acked = acked
        with self._busy, self._guard():
            for start in range(0, len(data), self._request):
                if self._stop.is_set():
                    return
                chunk = bytes(data[start : start + self._request])  # paramiko's messages take bytes only
                at = offset + start
                number = self._sftp._async_request(type(None), CMD_WRITE, self._handle, int64(at), chunk)
                self._pending.append((number, at + len(chunk), len(chunk)))
                self._in_flight += len(chunk)
            # Answers already here are taken at once (confirmed() stays current); beyond IN_FLIGHT, waited for.
            while (
                self._pending
                and not self._stop.is_set()
                and (self._in_flight > IN_FLIGHT or self._sftp.sock.recv_ready())
            ):
                self._collect()

    def finish(self) -> None:
        with self._busy, self._guard():
            while self._pending:
                self._collect()
            self._file.close()

    def _drain(self) -> None:
        while self._pending:  # what this stream sent counts even though another one failed
            self._collect()

    @contextlib.contextmanager
    def _guard(self) -> Any:
        try:
            with self._mapped():
                yield
        except BaseException:
            self._failed = True
            raise

    def _collect(self) -> None:
        """Wait for the oldest request's answer (bounded by the channel's timeout); an error status raises."""
        number, end, length = self._pending.popleft()
        self._in_flight -= length
        kind, _msg = self._sftp._read_response(number)
        if kind != CMD_STATUS:
            raise paramiko.SFTPError("Expected status")
        if self._acked is not None:
            self._acked(end, length)


class SftpReadLane(_Handle):
    """A :class:`share.striped.ReadLane` over one SFTP file handle: each stripe asked for in requests of the server's
    read size, all in flight at once, their answers copied into the caller's buffer in order."""

    def read_at(self, offset: int, view: memoryview) -> int:
        with self._busy:
            try:
                with self._mapped():
                    return self._read(offset, view)
            except BaseException:
                self._failed = True
                raise

    def _read(self, offset: int, view: memoryview) -> int:
        got = 0
        while got < len(view) and not self._stop.is_set():
            before = got
            asked = [(at, min(self._request, len(view) - at)) for at in range(got, len(view), self._request)]
            numbers = [
                self._sftp._async_request(type(None), CMD_READ, self._file.handle, int64(offset + at), size)
                for at, size in asked
            ]
            short = False
            for (at, size), number in zip(asked, numbers, strict=True):
                try:
                    kind, msg = self._sftp._read_response(number)
                except EOFError:  # an SSH_FX_EOF status (a dropped link is an SSHException)
                    short = True
                    continue
                if kind != CMD_DATA:
                    raise paramiko.SFTPError("Expected data")
                if short:
                    continue  # past a short answer: asked again from there below
                data = msg.get_binary()[:size]
                view[at : at + len(data)] = data
                got = at + len(data)
                short = len(data) < size
            if short and got < len(view) and self._at_end(offset + got):
                break
            if got == before:
                raise paramiko.SFTPError("the server sent no data before the end of the file")
        return got

    def _at_end(self, offset: int) -> bool:
        """True when ``offset`` is at or past the end of the file (a short answer may be the server's limit)."""
        return offset >= int(self._file.stat().st_size or 0)
