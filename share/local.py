"""Local folders through the OS."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import io
import os
import shutil
import stat as stat_mod
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path, PureWindowsPath

from share import errors, paths
from share.base import Backend, Entry, ErrorMapper, Features, Kind, Release, SessionFacts, Sink, Source, Space, Stream
from share.location import Location

_BY_ERRNO: dict[int, type[errors.ShareError]] = {
    errno.ENOENT: errors.NotFound,
    errno.EACCES: errors.AccessDenied,
    errno.EPERM: errors.AccessDenied,
    errno.EROFS: errors.AccessDenied,
    errno.EEXIST: errors.AlreadyExists,
    errno.ENOTEMPTY: errors.AlreadyExists,
    errno.ENOTDIR: errors.NotADirectory,
    errno.ENOSPC: errors.DiskFull,
    errno.EDQUOT: errors.DiskFull,
    errno.ELOOP: errors.NotFound,
}

SYNC_THREADS = 8  # flushes in flight at once in sync_files
SYNC_SOON_WAIT = 600.0  # seconds sync_soon's waiter waits at most (the flush that follows it waits for the rest)


class LocalBackend(Backend):
    features = Features(
        free_space=True,
        case_insensitive=os.name == "nt",
        server_commands=False,
        change_stamps=os.name != "nt",
        durable_sync=os.name != "nt",
    )

    def __init__(self, location: Location) -> None:
        self.location = location
        self.root = Path(location.path)
        self._root = str(self.root)

    def _path(self, path: str) -> str:
        # Joined as text: a pathlib join costs more than the system call it names, once per file in many-file points.
        return os.path.join(self._root, *paths.split(path))

    def describe(self, path: str = "") -> str:
        return self._path(path)

    @contextmanager
    def _mapped(self, path: str) -> Iterator[None]:
        """Translate OSError by errno; the only place this backend catches them."""
        try:
            yield
        except errors.BmrError:
            raise
        except OSError as exc:
            cls = _BY_ERRNO.get(exc.errno or 0, errors.ShareError)
            reason = exc.strerror or str(exc)
            raise cls(f"{self.describe(path)}: {reason}") from exc

    def stat(self, path: str) -> Entry:
        with self._mapped(path):
            st = os.stat(self._path(path), follow_symlinks=False)
        return _entry(paths.name(path), st)

    def list(self, path: str) -> list[Entry]:
        out: list[Entry] = []
        with self._mapped(path), os.scandir(self._path(path)) as it:
            for item in it:
                try:
                    st = item.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue  # vanished while listing
                out.append(_entry(item.name, st))
        return out

    def open_read(self, path: str, offset: int = 0) -> Stream:
        with self._mapped(path):
            raw = open(self._path(path), "rb")  # noqa: SIM115 - closed by Stream
            if offset:
                raw.seek(offset)
        return Stream(raw, self._mapped, path)

    def open_write(self, path: str, offset: int = 0) -> Stream:
        target = self._path(path)
        with self._mapped(path):
            # O_BINARY (Windows only): without it the C runtime turns every \n written into \r\n.
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
            raw = os.fdopen(fd, "wb")
            raw.truncate(offset)
            raw.seek(offset)
        return Stream(raw, self._mapped, path)

    def open_sink(self, path: str, offset: int = 0, *, streams: int = 1) -> Sink:
        stream = self.open_write(path, offset)
        return _LocalSink(stream, offset) if _start_writeback is not None else Sink(stream, offset)

    def open_source(self, path: str, offset: int = 0, *, streams: int = 1) -> Source:
        with self._mapped(path):
            raw = open(self._path(path), "rb", buffering=0)  # noqa: SIM115 - closed by the source
            if offset:
                raw.seek(offset)
        return _LocalSource(raw, self._mapped, path)

    def sync(self, path: str, *, folder: bool = False) -> None:
        if sys.platform == "win32":
            return  # no fsync of a folder there, and a file's is its handle's: nothing to do by name
        flags = os.O_RDONLY | (os.O_DIRECTORY if folder else 0)
        with self._mapped(path):
            fd = os.open(self._path(path), flags)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def sync_soon(self, path: str) -> Callable[[], None]:
        if sys.platform == "win32":
            return lambda: None
        thread = threading.Thread(target=self._quiet_sync, args=(path,), name="bmr-sync-soon", daemon=True)
        thread.start()
        return lambda: thread.join(SYNC_SOON_WAIT)

    def _quiet_sync(self, path: str) -> None:
        with contextlib.suppress(errors.BmrError):
            self.sync(path)

    def sync_files(self, files: Sequence[str]) -> None:
        # Flushes issued together share the file system's journal commits: several times faster than in turn.
        if sys.platform == "win32" or len(files) < 2:
            super().sync_files(files)
            return
        with ThreadPoolExecutor(max_workers=min(SYNC_THREADS, len(files)), thread_name_prefix="bmr-sync") as pool:
            for _ in pool.map(self.sync, files):
                pass

    def makedirs(self, path: str) -> None:
        with self._mapped(path):
            Path(self._path(path)).mkdir(parents=True, exist_ok=True)

    def rename(self, src: str, dst: str, *, replace: bool = False) -> None:
        if not replace and self._link(src, dst):
            return
        with self._mapped(dst):
            if not replace and os.path.lexists(self._path(dst)):
                raise errors.AlreadyExists(f"{self.describe(dst)}: already exists")
        with self._mapped(src):
            os.replace(self._path(src), self._path(dst))

    def _link(self, src: str, dst: str) -> bool:
        """Rename without replacing, atomically (a lock depends on it): link, then unlink the old name.
        False where the file system has no hard links (then the check-and-rename fallback is used)."""
        try:
            os.link(self._path(src), self._path(dst), follow_symlinks=False)
        except OSError as exc:
            if exc.errno in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.EOPNOTSUPP, errno.ENOSYS):
                return False
            with self._mapped(dst):
                raise
        with self._mapped(src):
            os.unlink(self._path(src))
        return True

    def remove(self, path: str) -> None:
        with self._mapped(path):
            os.unlink(self._path(path))

    def rmdir(self, path: str) -> None:
        with self._mapped(path):
            os.rmdir(self._path(path))

    def space(self, path: str = "") -> Space:
        with self._mapped(path):
            usage = shutil.disk_usage(self._path(path))
        return Space(free=usage.free, total=usage.total)

    def facts(self) -> SessionFacts:
        return SessionFacts(protocol="local")

    def reconnect(self) -> None:
        pass

    def close(self) -> None:
        pass


def _writeback_starter() -> Callable[[int, int, int], None] | None:
    """Linux's sync_file_range(SYNC_FILE_RANGE_WRITE): start writing a range to the disk without waiting for it.
    None elsewhere (and where libc lacks it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    call.restype = ctypes.c_int

    def start(fd: int, offset: int, length: int) -> None:
        call(fd, offset, length, 2)  # SYNC_FILE_RANGE_WRITE; a failure only means the final fsync does it all

    return start


_start_writeback = _writeback_starter()


class _LocalSink(Sink):
    """A local file written in order, its pages sent to the disk as the copy goes (every WRITEBACK bytes, without
    waiting): the flush before the rename then finds little left to write, and the disk works while the copy and
    its read-back use the processors."""

    WRITEBACK = 32 * 1024 * 1024

    def __init__(self, stream: Stream, offset: int) -> None:
        super().__init__(stream, offset)
        self._unstarted = offset

    def write(self, data: memoryview, release: Release | None = None) -> None:
        super().write(data, release)
        if self._position - self._unstarted >= self.WRITEBACK and _start_writeback is not None:
            with self._stream._mapped(self._stream.path):
                raw = self._stream._raw
                raw.flush()
                _start_writeback(raw.fileno(), self._unstarted, self._position - self._unstarted)
            self._unstarted = self._position


class _LocalSource(Source):
    """readinto straight from the file into the caller's buffer: no intermediate bytes."""

    def __init__(self, raw: io.FileIO, mapped: ErrorMapper, path: str) -> None:
        self._raw = raw
        self._mapped = mapped
        self._where = path

    def readinto(self, buffer: memoryview) -> int:
        with self._mapped(self._where):
            return self._raw.readinto(buffer) or 0

    def close(self) -> None:
        self._raw.close()


def _entry(name: str, st: os.stat_result) -> Entry:
    if stat_mod.S_ISDIR(st.st_mode):
        kind = Kind.DIR
    elif stat_mod.S_ISREG(st.st_mode):
        kind = Kind.FILE
    else:
        kind = Kind.OTHER
    stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    return Entry(name, kind, st.st_size if kind is Kind.FILE else 0, st.st_mtime, stamp)


def parse_path(text: str, *, windows: bool = os.name == "nt") -> Location:
    r"""A local folder (``~`` expanded, made absolute). With ``windows`` (the default on Windows), an absolute
    Windows path (``D:\Restore``, ``D:/Restore``, ``\\?\D:\Restore``) is taken as written; elsewhere such a
    string is a relative path, as the OS would take it."""
    if windows:
        written = PureWindowsPath(text)
        if written.is_absolute():
            return Location("local", str(written))
    if "\x00" in text:
        raise errors.InvalidLocation("a location cannot contain a NUL character")
    try:
        local = Path(text).expanduser()
    except RuntimeError:
        raise errors.InvalidLocation(f"cannot expand the home folder in {text!r}: no such user") from None
    return Location("local", str(local.absolute()))
