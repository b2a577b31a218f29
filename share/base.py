"""The backend contract every location type implements: local folders, SMB shares, SFTP servers.

Paths given to a backend are relative to its location's root, '/'-separated (see :mod:`share.paths`).
Each method raises only :mod:`share.errors` classes; the common ones are named in its docstring.
"""

from __future__ import annotations

import contextlib
import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any

from share import errors
from share.location import Location


class Kind(enum.StrEnum):
    FILE = "file"
    DIR = "dir"
    OTHER = "other"  # symlinks on local sources, devices, anything not followed


@dataclass(frozen=True)
class Entry:
    name: str
    kind: Kind
    size: int
    mtime: float | None = None
    # What changes with every write where the backend has it (local: mtime_ns, ctime_ns, inode); None elsewhere.
    stamp: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Space:
    free: int
    total: int


@dataclass(frozen=True)
class SessionFacts:
    """What was negotiated with the server; None where the protocol has no such thing."""

    protocol: str
    server_address: str | None = None
    port: int | None = None
    dialect: str | None = None
    signing: bool | None = None
    encryption: bool | None = None
    guest: bool | None = None
    user: str | None = None
    server_requires_signing: bool | None = None
    share_encryption: bool | None = None  # the share itself demands encryption (``encryption`` is then True too)
    cipher: str | None = None  # the negotiated cipher (SSH: e.g. aes256-gcm@openssh.com)
    mac: str | None = None  # the negotiated MAC; None where the cipher authenticates itself (AES-GCM)
    key_exchange: str | None = None  # the negotiated key exchange (SSH: e.g. curve25519-sha256)
    signing_algorithm: str | None = None  # SMB: what signs the messages (e.g. AES-128-GMAC)


@dataclass(frozen=True)
class Caveat:
    """Something this server does not do that a copy would like, learnt while using it; the copy goes on and reports
    it as a warning (e.g. no free-space answer, no durable-write request)."""

    code: str  # a check id: "free-space", "durability"
    message: str
    fix: str


@dataclass(frozen=True)
class Features:
    """Abilities that differ between backends, declared up front rather than discovered by failure.

    Operations above ``share`` read these instead of asking which protocol a backend speaks."""

    free_space: bool  # space() answers (read by probe, stage, preflight)
    case_insensitive: bool  # names compare without case, as on Windows (the backend folds names itself)
    server_commands: bool  # run() executes a command on the server (read by the server-side share check)
    # stat()'s ``stamp`` changes with every write, ctime included (read by the copy to trust an unchanged source
    # without reading it again); False where mtimes are coarse, deferred (SMB) or settable by any writer.
    change_stamps: bool = False
    # sync() puts written data on the target's stable storage (fsync, SMB2 FLUSH, fsync@openssh.com); where False it
    # does nothing and a power cut on the server may lose a file bmr already renamed into place (read by nobody yet:
    # declared so that reports can say it).
    durable_sync: bool = False


ErrorMapper = Callable[[str], AbstractContextManager[None]]


class Stream:
    """A file opened on a backend; every read, write and close goes through the backend's error mapping."""

    def __init__(
        self, raw: IO[bytes], mapped: ErrorMapper, path: str, forget: Callable[[Any], None] | None = None
    ) -> None:
        self._raw = raw
        self._mapped = mapped
        self.path = path
        self._forget = forget

    def read(self, size: int = -1) -> bytes:
        with self._mapped(self.path):
            return self._raw.read(size)

    def write(self, data: bytes | memoryview) -> int:
        """Write all of ``data``. A raw file object may take fewer bytes per call (an SMB file takes at most the
        server's max write size): the rest is written by further calls, never dropped."""
        view = memoryview(data).cast("B")
        done = 0
        with self._mapped(self.path):
            while done < len(view):
                written = self._raw.write(view[done:])
                if written is None:  # file objects that take everything and return nothing (paramiko's)
                    break
                if written <= 0:
                    raise errors.ShareError(f"{self.path}: the server accepted no bytes of a write")
                done += written
        return len(view)

    def seek(self, offset: int) -> int:
        with self._mapped(self.path):
            return self._raw.seek(offset)

    def read_exact(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset``; fewer only at the end of the file."""
        self.seek(offset)
        chunks: list[bytes] = []
        remaining = size
        while remaining > 0:
            chunk = self.read(remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def tell(self) -> int:
        with self._mapped(self.path):
            return self._raw.tell()

    def flush(self) -> None:
        with self._mapped(self.path):
            self._raw.flush()

    def close(self) -> None:
        with self._mapped(self.path):
            self._raw.close()

    def abandon(self) -> None:
        """Close after a failure without raising again: the first error is the one worth reporting."""
        if self._forget is not None:
            self._forget(self._raw)
            return
        with contextlib.suppress(Exception):
            self._raw.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.close()
        else:
            self.abandon()


Release = Callable[[], None]


class Sink:
    """Sequential writing of one file with requests in flight. ``write`` may return before the server
    acknowledged. The buffer passed in is the sink's until it calls ``release`` (if given: a sink writing over
    several streams sends it from another thread later), else until ``write`` returns. ``close`` waits for every
    acknowledgement and raises the first failure. Default: a plain :class:`Stream`, where every write is final."""

    def __init__(self, stream: Stream, offset: int) -> None:
        self._stream = stream
        self._position = offset

    def write(self, data: memoryview, release: Release | None = None) -> None:
        try:
            self._stream.write(data)
            self._position += len(data)
        finally:
            if release is not None:
                release()

    def confirmed(self) -> int:
        """Offset up to which every byte is known to be on the server (after a failure: where to resume)."""
        return self._position

    def close(self) -> None:
        self._stream.close()

    def abandon(self) -> None:
        self._stream.abandon()


class Source:
    """Sequential reading of one file into caller-owned buffers. Default: a plain :class:`Stream`."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer``; fewer bytes only at the end of the file (short reads are completed here)."""
        got = 0
        while got < len(buffer):
            data = self._stream.read(len(buffer) - got)
            if not data:
                break
            buffer[got : got + len(data)] = data
            got += len(data)
        return got

    def chunks(self, size: int = 4 * 1024 * 1024) -> Iterator[memoryview]:
        """The rest of the file as views into a reused buffer; each view is valid until the next one."""
        buffer = memoryview(bytearray(size))
        while count := self.readinto(buffer):
            yield buffer[:count]

    def close(self) -> None:
        self._stream.abandon()


class ChunkedSource(Source):
    """A :class:`Source` whose subclass yields its data from :meth:`chunks` (each view valid until the next one is
    asked for); ``readinto`` is served from them."""

    _pending: Iterator[memoryview] | None = None
    _current = memoryview(b"")

    def chunks(self, size: int = 0) -> Iterator[memoryview]:
        raise NotImplementedError

    def readinto(self, buffer: memoryview) -> int:
        if self._pending is None:
            self._pending = self.chunks()
        got = 0
        while got < len(buffer):
            if not len(self._current):
                self._current = next(self._pending, memoryview(b""))  # the previous chunk is released only now
                if not len(self._current):
                    break
            count = min(len(buffer) - got, len(self._current))
            buffer[got : got + count] = self._current[:count]
            self._current = self._current[count:]
            got += count
        return got


class Backend(ABC):
    """One connected location. Use as a context manager, or call :meth:`close`."""

    location: Location
    features: Features

    @abstractmethod
    def stat(self, path: str) -> Entry:
        """The entry at ``path``. Raises NotFound, AccessDenied."""

    @abstractmethod
    def list(self, path: str) -> list[Entry]:
        """The entries of folder ``path``, unsorted. Raises NotFound, NotADirectory, AccessDenied."""

    @abstractmethod
    def open_read(self, path: str, offset: int = 0) -> Stream:
        """A stream reading file ``path`` from ``offset``. Raises NotFound, AccessDenied."""

    @abstractmethod
    def open_write(self, path: str, offset: int = 0) -> Stream:
        """A stream writing ``path`` from ``offset``; creates the file, keeps bytes before ``offset`` and drops
        the rest. Raises NotFound (no parent folder), AccessDenied, DiskFull (on write or close)."""

    @abstractmethod
    def makedirs(self, path: str) -> None:
        """Create folder ``path`` and its parents; no error if it exists. Raises AccessDenied, NotADirectory."""

    @abstractmethod
    def rename(self, src: str, dst: str, *, replace: bool = False) -> None:
        """Move ``src`` to ``dst``. Raises AlreadyExists (unless ``replace``), NotFound, AccessDenied."""

    @abstractmethod
    def remove(self, path: str) -> None:
        """Delete file ``path``. Raises NotFound, AccessDenied."""

    @abstractmethod
    def rmdir(self, path: str) -> None:
        """Delete the empty folder ``path``. Raises NotFound, AccessDenied."""

    @abstractmethod
    def space(self, path: str = "") -> Space:
        """Free (for this user) and total bytes of the volume holding ``path``. Raises NotFound, and SpaceUnknown
        where the server cannot tell (the copy may go on without knowing; the caller decides)."""

    @abstractmethod
    def facts(self) -> SessionFacts:
        """What was negotiated when connecting. Raises nothing."""

    @abstractmethod
    def describe(self, path: str = "") -> str:
        """How to name ``path`` in a message: a local path, a UNC path or an sftp:// URL."""

    @abstractmethod
    def close(self) -> None:
        """Release connections. Raises nothing."""

    def sync(self, path: str, *, folder: bool = False) -> None:
        """Put file ``path`` (or, with ``folder``, the names in folder ``path``: a rename) on stable storage, where
        ``features.durable_sync``; elsewhere nothing. Call with no stream open on ``path``. Raises NotFound,
        AccessDenied and the connection errors."""
        return  # the default for backends that declare no durable_sync

    def sync_soon(self, path: str) -> Callable[[], None]:
        """Start putting file ``path`` on stable storage in the background (where the backend can without slowing
        what else it is doing), and return a call that waits for that, boundedly, raising nothing. Only a head
        start: :meth:`sync` (or :meth:`sync_files`) after it is what makes the file durable. Default: nothing."""
        return lambda: None

    def sync_files(self, files: Sequence[str]) -> None:
        """:meth:`sync` of each of ``files`` (not folders), where the backend can, several at once: for many small
        files the flushes, not the copies, take the time. Raises what sync raises (the first error)."""
        for path in files:
            self.sync(path)

    def caveats(self) -> tuple[Caveat, ...]:
        """What this server was found not to do so far (in the order found). Raises nothing."""
        return ()

    def open_sink(self, path: str, offset: int = 0, *, streams: int = 1) -> Sink:
        """Like :meth:`open_write`, pipelined where the backend can, over ``streams`` connections where it can
        (at most :meth:`max_streams`; the file's writes are spread across them). Raises what open_write raises."""
        return Sink(self.open_write(path, offset), offset)

    def max_streams(self, wanted: int) -> int:
        """How many connections (at most ``wanted``) one copy may use at once: 1 where the backend has one
        connection or the server allows only one (found by trying, once). Raises nothing."""
        return 1

    def open_source(self, path: str, offset: int = 0, *, streams: int = 1) -> Source:
        """Like :meth:`open_read`, with read-ahead where the backend can, over ``streams`` connections where it can
        (at most :meth:`max_streams`). Raises what open_read raises."""
        return Source(self.open_read(path, offset))

    def dfs_target(self, path: str = "") -> str | None:
        """The UNC of folder ``path`` on the server that really holds it, when the location reaches it through a
        DFS link (WinRE cannot resolve DFS namespaces, so a restore names that share); None elsewhere. Raises
        nothing."""
        return None

    def run(self, command: str) -> tuple[int, str]:
        """Run a shell command on the server; (exit status, stdout). Only where ``features.server_commands``.
        Raises Unsupported elsewhere, and the connection errors of the backend."""
        from share.errors import Unsupported

        raise Unsupported(f"{self.describe()}: this kind of location cannot run commands on its server")

    @abstractmethod
    def reconnect(self) -> None:
        """Open the connection again after ConnectionLost. Raises the errors of connecting."""

    def exists(self, path: str) -> bool:
        """True when something is at ``path``. Raises AccessDenied and connection errors, not NotFound."""
        from share.errors import NotFound

        try:
            self.stat(path)
        except NotFound:
            return False
        return True

    def read_bytes(self, path: str, limit: int) -> bytes:
        """At most ``limit`` bytes from the start of a file: for headers and small metadata files."""
        return self.read_range(path, 0, limit)

    def read_range(self, path: str, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset`` (fewer at the end of the file)."""
        with self.open_read(path) as stream:
            return stream.read_exact(offset, size)

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def walk_files(backend: Backend, path: str) -> Iterator[tuple[str, Entry]]:
    """Every file below folder ``path`` as (relative path, entry), depth first, links not followed."""
    from share.paths import join

    for entry in sorted(backend.list(path), key=lambda e: e.name):
        child = join(path, entry.name)
        if entry.kind is Kind.DIR:
            yield from walk_files(backend, child)
        elif entry.kind is Kind.FILE:
            yield child, entry
