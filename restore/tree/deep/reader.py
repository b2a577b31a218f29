"""A bounded, counting, seekable file-like object over one file on a backend: the only way deep inspection reads."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from share import errors
from share.base import Backend, Stream

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much one image may cost: bytes fetched from the share, bytes handed to the readers, wall time."""

    max_bytes: int = 64 * MIB
    # Cached re-reads cost no network but a looping structure re-reads forever: bound those too.
    max_served: int = 512 * MIB
    seconds: float = 30.0
    # smbclient's buffered file fetches 64 KiB after every seek: smaller blocks would cost the same traffic
    # while the count showed less.
    block: int = 64 * 1024
    read_ahead: int = 16  # blocks fetched at once at most, when misses are sequential
    cache_bytes: int = 8 * MIB


class ReadLimitError(Exception):
    """Reading an image stopped: over one of its limits, or the share failed; ``code`` is the stable problem code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class _Positioned:
    """Seeking for the file-like objects handed to the libyal readers (which call get_offset and get_size too)."""

    size: int
    _position: int

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: self.size}[whence]
        if base + offset < 0:
            raise ValueError("seek before the start")
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def get_offset(self) -> int:
        return self._position

    def get_size(self) -> int:
        return self.size

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True


class _PositionedReads(_Positioned):
    """``read`` at the position, for file objects that read by offset (``pread``)."""

    def pread(self, offset: int, size: int) -> bytes:
        raise NotImplementedError

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.size - self._position
        data = self.pread(self._position, size)
        self._position += len(data)
        return data


class BoundedReader(_PositionedReads):
    """Random access to one image file in aligned, cached blocks through one stream, counted and bounded."""

    # The first limit hit raises a ReadLimitError that is also kept in ``failure``: the C readers calling
    # read() replace Python exceptions with their own error text, so the caller looks here for the cause.

    def __init__(self, backend: Backend, path: str, size: int, limits: Limits) -> None:
        self.path = path
        self.size = size
        self.limits = limits
        self.bytes_read = 0
        self.bytes_served = 0
        self.requests = 0
        self.short_read = False  # the file ended before a block the readers asked for: a truncated image
        self.failure: ReadLimitError | None = None
        self._deadline = time.monotonic() + limits.seconds
        self._backend = backend
        self._stream: Stream | None = None
        self._position = 0
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._next = -1  # the block after the last fetch: a miss there is sequential
        self._ahead = 1
        # A reader stuck in C without calling back (a loop over data it already has) sees no deadline check:
        # at the deadline a timer calls signal_abort() on every open libyal handle, which they poll.
        self._handles: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(limits.seconds, self._abort)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, handle: Any) -> Any:
        """Register an open libyal handle so that the deadline can abort it; returns the handle."""
        with self._lock:
            self._handles.append(handle)
        return handle

    def release(self, handle: Any) -> None:
        """Close a handle registered with :meth:`watch` (errors of closing a damaged handle are not news)."""
        with self._lock:
            if handle in self._handles:
                self._handles.remove(handle)
        with contextlib.suppress(OSError, ValueError):
            handle.close()

    def _abort(self) -> None:
        with self._lock:
            self._fail("read-timeout", f"reading {self.path} took longer than {self.limits.seconds:g} s")
            for handle in self._handles:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    handle.signal_abort()

    def _fail(self, code: str, message: str) -> ReadLimitError:
        self.failure = self.failure or ReadLimitError(code, message)
        return self.failure

    def check_time(self) -> None:
        """Raise the timeout error once the deadline has passed (also called between steps that read nothing)."""
        if self.failure is not None:
            raise self.failure
        if time.monotonic() > self._deadline:
            raise self._fail("read-timeout", f"reading {self.path} took longer than {self.limits.seconds:g} s")

    def _block(self, index: int) -> bytes:
        cached = self._cache.get(index)
        if cached is not None:
            self._cache.move_to_end(index)
            return cached
        block = self.limits.block
        # Sequential misses (libregf's walk over every hive bin, $Bitmap) double the read-ahead up to
        # read_ahead blocks: one request instead of many; a jump resets it.
        self._ahead = min(self._ahead * 2, self.limits.read_ahead) if index == self._next else 1
        start = index * block
        one = min(block, self.size - start)
        want = min(self._ahead * block, self.size - start)
        left = self.limits.max_bytes - self.bytes_read
        if one > left:
            raise self._fail(
                "read-cap-exceeded",
                f"reading {self.path} would fetch more than {self.limits.max_bytes // MIB} MiB: stopped",
            )
        want = max(one, min(want, left // block * block))  # read-ahead alone never passes the cap
        try:
            if self._stream is None:
                self._stream = self._backend.open_read(self.path)
            data = self._stream.read_exact(start, want)
        except errors.ShareError as exc:
            # The C readers would turn this into their own error text: keep the share's message and stop.
            raise self._fail("share-read-failed", f"reading {self.path} over the share failed: {exc}") from exc
        self.bytes_read += len(data)
        self.requests += 1
        if len(data) < want:
            self.short_read = True
        pieces = max(1, -(-len(data) // block))
        for piece in range(pieces):
            self._cache[index + piece] = data[piece * block : (piece + 1) * block]
            self._cache.move_to_end(index + piece)
        self._next = index + pieces
        while len(self._cache) * block > self.limits.cache_bytes:
            self._cache.popitem(last=False)
        return self._cache.get(index, b"")

    def pread(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset``, fewer at the end of the file."""
        self.check_time()
        if offset < 0 or size < 0:
            raise ValueError("negative offset or size")
        end = min(offset + size, self.size)
        if offset >= end:
            if size and offset >= self.size:
                self.short_read = self.short_read or offset > self.size
            return b""
        if self.bytes_served + (end - offset) > self.limits.max_served:
            raise self._fail(
                "read-cap-exceeded",
                f"the readers asked for more than {self.limits.max_served // MIB} MiB of {self.path}: "
                "a looping structure? stopped",
            )
        block = self.limits.block
        parts: list[bytes] = []
        at = offset
        while at < end:
            self.check_time()
            data = self._block(at // block)
            inner = at % block
            piece = data[inner : inner + (end - at)]
            if not piece:
                break
            parts.append(piece)
            at += len(piece)
        out = b"".join(parts)
        self.bytes_served += len(out)
        return out

    def close(self) -> None:
        self._timer.cancel()
        if self._stream is not None:
            self._stream.abandon()  # read-only: nothing to flush, and a close error must not hide the facts
            self._stream = None
        self._cache.clear()


class RandomAccess(Protocol):
    """What a window reads from: a seekable byte source (a disk container opened by libvhdi, or a reader)."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...


class Window(_Positioned):
    """A file-like view of ``size`` bytes at ``offset`` of another file-like object (a partition of a disk)."""

    def __init__(self, base: RandomAccess, offset: int, size: int, reader: BoundedReader) -> None:
        self._base = base
        self.offset = offset
        self.size = size
        self._reader = reader  # for the deadline: C readers may loop over cached data without new fetches
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        self._reader.check_time()
        if size is None or size < 0 or self._position + size > self.size:
            size = max(0, self.size - self._position)
        if size == 0:
            return b""
        self._base.seek(self.offset + self._position)
        data = self._base.read(size)
        self._position += len(data)
        return data

    def pread(self, offset: int, size: int) -> bytes:
        self.seek(offset)
        return self.read(size)
