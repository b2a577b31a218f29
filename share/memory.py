"""An in-memory backend with fault injection: the fast test tier's stand-in for a server, and the way to place
faults a real server will not produce on demand (a link cut after N bytes, a disk that fills at N bytes, a stall).

It keeps the same contract as the real backends (the conformance suite runs against it): paths relative to the
location, NotFound for a missing parent, AlreadyExists on rename without replace, DiskFull past the capacity.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from share import errors, paths
from share.base import Backend, Entry, Features, Kind, SessionFacts, Space, Stream
from share.location import Location


@dataclass
class Faults:
    """What goes wrong, and when. Byte counts are of data moved by reads and writes since the store was made."""

    cut_after: int | None = None  # the link drops once this many bytes have moved (then ``cuts`` times in all)
    cuts: int = 1
    stall_after: int | None = None  # the server stops answering once this many bytes have moved
    stall_seconds: float = 0.2  # how long a stalled call hangs before it times out (bounded, for the tests)
    capacity: int | None = None  # bytes the volume holds; writing past it is DiskFull
    moved: int = 0
    cuts_done: int = 0
    stalls_done: int = 0


@dataclass
class MemoryStore:
    """The volume: files and folders by absolute '/'-path, shared by every backend opened on it."""

    files: dict[str, bytearray] = field(default_factory=dict)
    mtimes: dict[str, float] = field(default_factory=dict)
    folders: set[str] = field(default_factory=lambda: {""})
    faults: Faults = field(default_factory=Faults)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def used(self) -> int:
        return sum(len(data) for data in self.files.values())


STORES: dict[str, MemoryStore] = {}  # memory://NAME/path locations, for tests that drive the command line


def parse_url(text: str) -> Location:
    """``memory://NAME/path``: a folder in the store registered under NAME."""
    name, _, rest = text.split("://", 1)[1].partition("/")
    return Location("memory", "/" + "/".join(paths.split(rest)), host=name)


def open_location(location: Location) -> MemoryBackend:
    store = STORES.get(location.host or "")
    if store is None:
        raise errors.ShareNotFound(f"no memory store named '{location.host}'")
    return MemoryBackend(store, location.path)


class MemoryBackend(Backend):
    """A location inside a :class:`MemoryStore`. ``case_insensitive`` makes it compare names as SMB does."""

    def __init__(self, store: MemoryStore | None = None, path: str = "", *, case_insensitive: bool = False) -> None:
        self.store = store or MemoryStore()
        self.root = "/".join(paths.split(path))
        self.location = Location(
            "memory", "/" + self.root, host=next((n for n, s in STORES.items() if s is self.store), "")
        )
        self.features = Features(free_space=True, case_insensitive=case_insensitive, server_commands=False)
        self.connected = True
        self.reconnects = 0
        with self.store.lock:
            if self.root not in self.store.folders:
                raise errors.NotFound(f"{self.describe()}: no such folder")

    # -- paths and faults ----------------------------------------------------------------------------------------

    def _key(self, path: str) -> str:
        wanted = paths.join(self.root, path)
        if not self.features.case_insensitive:
            return wanted
        for key in (*self.store.files, *self.store.folders):
            if key.lower() == wanted.lower():
                return key
        return wanted

    def describe(self, path: str = "") -> str:
        return "memory:///" + paths.join(self.root, path)

    @contextmanager
    def _live(self, path: str) -> Iterator[None]:
        """Every operation: refuse on a dropped link, as a real backend would."""
        if not self.connected:
            raise errors.ConnectionLost(f"{self.describe(path)}: the connection dropped")
        with self.store.lock:
            yield

    def _move(self, count: int, path: str) -> None:
        """Account for ``count`` bytes crossing the link; fire a cut or a stall when their moment has come."""
        faults = self.store.faults
        faults.moved += count
        if faults.cut_after is not None and faults.moved > faults.cut_after and faults.cuts_done < faults.cuts:
            faults.cuts_done += 1
            faults.cut_after = faults.moved + (faults.cut_after or 0)  # the next cut, as far again
            self.connected = False
            raise errors.ConnectionLost(f"{self.describe(path)}: the connection dropped (injected)")
        if faults.stall_after is not None and faults.moved > faults.stall_after:
            faults.stall_after = None
            faults.stalls_done += 1
            self.connected = False
            time.sleep(faults.stall_seconds)
            raise errors.TimedOut(f"{self.describe(path)}: no answer in time (injected stall)")

    def _parent_folder(self, key: str, path: str) -> None:
        if paths.parent(key) not in self.store.folders:
            raise errors.NotFound(f"{self.describe(path)}: no such folder")

    # -- the contract ----------------------------------------------------------------------------------------------

    def stat(self, path: str) -> Entry:
        with self._live(path):
            key = self._key(path)
            if key in self.store.folders:
                return Entry(paths.name(key), Kind.DIR, 0, None)
            if key in self.store.files:
                return Entry(paths.name(key), Kind.FILE, len(self.store.files[key]), self.store.mtimes.get(key))
            raise errors.NotFound(f"{self.describe(path)}: not found")

    def list(self, path: str) -> list[Entry]:
        with self._live(path):
            key = self._key(path)
            if key in self.store.files:
                raise errors.NotADirectory(f"{self.describe(path)}: a file, not a folder")
            if key not in self.store.folders:
                raise errors.NotFound(f"{self.describe(path)}: not found")
            out = [Entry(paths.name(f), Kind.DIR, 0, None) for f in self.store.folders if f and paths.parent(f) == key]
            out += [
                Entry(paths.name(f), Kind.FILE, len(data), self.store.mtimes.get(f))
                for f, data in self.store.files.items()
                if paths.parent(f) == key
            ]
            return out

    def open_read(self, path: str, offset: int = 0) -> Stream:
        with self._live(path):
            key = self._key(path)
            if key not in self.store.files:
                raise errors.NotFound(f"{self.describe(path)}: not found")
        return Stream(_Handle(self, key, offset, writable=False), _passthrough, path)  # type: ignore[arg-type]

    def open_write(self, path: str, offset: int = 0) -> Stream:
        with self._live(path):
            key = self._key(path)
            self._parent_folder(key, path)
            if key in self.store.folders:
                raise errors.AccessDenied(f"{self.describe(path)}: a folder stands there")
            data = self.store.files.setdefault(key, bytearray())
            del data[offset:]
            self.store.mtimes[key] = time.time()
        return Stream(_Handle(self, key, offset, writable=True), _passthrough, path)  # type: ignore[arg-type]

    def makedirs(self, path: str) -> None:
        with self._live(path):
            done: list[str] = []
            for part in paths.split(path):
                done.append(part)
                key = self._key("/".join(done))
                if key in self.store.files:
                    raise errors.NotADirectory(f"{self.describe(key)}: a file stands where a folder is needed")
                self.store.folders.add(key)

    def rename(self, src: str, dst: str, *, replace: bool = False) -> None:
        with self._live(dst):
            source, target = self._key(src), self._key(dst)
            if source not in self.store.files:
                raise errors.NotFound(f"{self.describe(src)}: not found")
            self._parent_folder(target, dst)
            if target in self.store.files and not replace:
                raise errors.AlreadyExists(f"{self.describe(dst)}: already exists")
            self.store.files[target] = self.store.files.pop(source)
            self.store.mtimes[target] = self.store.mtimes.pop(source, time.time())

    def remove(self, path: str) -> None:
        with self._live(path):
            key = self._key(path)
            if key not in self.store.files:
                raise errors.NotFound(f"{self.describe(path)}: not found")
            del self.store.files[key]
            self.store.mtimes.pop(key, None)

    def rmdir(self, path: str) -> None:
        with self._live(path):
            key = self._key(path)
            if key not in self.store.folders or not key:
                raise errors.NotFound(f"{self.describe(path)}: not found")
            if any(paths.parent(k) == key for k in (*self.store.files, *self.store.folders) if k):
                raise errors.AlreadyExists(f"{self.describe(path)}: the folder is not empty")
            self.store.folders.discard(key)

    def space(self, path: str = "") -> Space:
        with self._live(path):
            capacity = self.store.faults.capacity
            total = capacity if capacity is not None else 1 << 40
            return Space(free=max(total - self.store.used(), 0), total=total)

    def facts(self) -> SessionFacts:
        return SessionFacts(protocol="memory")

    def reconnect(self) -> None:
        self.connected = True
        self.reconnects += 1

    def close(self) -> None:
        pass


class _Handle:
    """An open file of the store: reads and writes at a position, with the faults applied."""

    def __init__(self, backend: MemoryBackend, key: str, offset: int, *, writable: bool) -> None:
        self.backend = backend
        self.key = key
        self.position = offset
        self.writable = writable
        self.closed = False

    def _data(self) -> bytearray:
        if not self.backend.connected:
            raise errors.ConnectionLost(f"{self.backend.describe(self.key)}: the connection dropped")
        data = self.backend.store.files.get(self.key)
        if data is None:
            raise errors.NotFound(f"{self.backend.describe(self.key)}: removed while open")
        return data

    def read(self, size: int = -1) -> bytes:
        with self.backend.store.lock:
            data = self._data()
            end = len(data) if size < 0 else min(len(data), self.position + size)
            chunk = bytes(data[self.position : end])
            self.position += len(chunk)
        self.backend._move(len(chunk), self.key)
        return chunk

    def write(self, chunk: bytes | memoryview) -> int:
        with self.backend.store.lock:
            data = self._data()
            capacity = self.backend.store.faults.capacity
            grow = max(self.position + len(chunk) - len(data), 0)
            if capacity is not None and self.backend.store.used() + grow > capacity:
                room = max(capacity - self.backend.store.used(), 0)
                data[self.position : self.position + room] = bytes(chunk[:room])
                raise errors.DiskFull(f"{self.backend.describe(self.key)}: no space left (injected)")
            data[self.position : self.position + len(chunk)] = bytes(chunk)
            self.position += len(chunk)
            self.backend.store.mtimes[self.key] = time.time()
        self.backend._move(len(chunk), self.key)
        return len(chunk)

    def seek(self, offset: int) -> int:
        self.position = offset
        return offset

    def tell(self) -> int:
        return self.position

    def truncate(self, size: int) -> int:
        with self.backend.store.lock:
            del self._data()[size:]
        return size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@contextmanager
def _passthrough(path: str) -> Iterator[None]:
    """The memory backend raises share.errors itself: nothing to translate."""
    yield
