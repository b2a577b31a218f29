"""Copy one file between backends: streamed, pipelined, hashed while read, resumable, verified.

The main thread reads the source into a small pool of reused buffers and hands each to the target's sink
(which may spread them over several connections: ``streams``); a thread each computes SHA-256 (for the
manifest) and, verifying, BLAKE3 (for the read-back check) of the same buffers. A buffer is reused once the sink
and every hashing thread released it. Memory stays at about POOL x CHUNK whatever the file size.

Resume, in order of preference:
- after a dropped connection in this run: continue at the sink's last acknowledged offset, with the hash
  state saved at that offset;
- after an interruption (Ctrl-C, kill, earlier run): compare the temporary file with the source block by
  block and continue after the last block that matches; its size alone is never trusted.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import blake3

from restore.staging.names import PARTIAL_SUFFIX as PARTIAL_SUFFIX  # named here by callers and tests
from restore.staging.names import partial_name
from share import errors, paths
from share.base import Backend, Entry

CHUNK = 4 * 1024 * 1024
POOL = 8
AUTO_STREAMS = 4
STRIPED_MIN = 64 * 1024 * 1024  # files from this size are written over several streams, where the target can
EARLY_SYNC = 256 * 1024 * 1024  # a large file's flush is started in the background every this many bytes copied
COMPARE_BLOCK = 8 * 1024 * 1024
RACY_SECONDS = 2.0  # a source written this shortly before it was read may not move its stamps on the next write

log = logging.getLogger("bmr.transfer")  # retries, for --log-file

Progress = Callable[[str, int], None]  # (phase, bytes): "copy", "reuse", "verify" or "recheck" (the source again)


def auto_streams(cores: int | None = None) -> int:
    """Streams per large file when none is asked for: one per two cores, at most AUTO_STREAMS. Each stream costs
    this side most of a core at full speed (signing or sealing, sending, its receive thread, all under one
    interpreter lock); on two cores a second stream gave no reliable gain (benchmarks/stage_vs_tools.py)."""
    count = (os.cpu_count() or 1) if cores is None else cores
    return max(1, min(count // 2, AUTO_STREAMS))


class VerificationFailed(errors.BmrError):
    """Copy the file again (bmr stage resumes and re-verifies); if it repeats, check the target's storage."""


class SourceChanged(errors.BmrError):
    """The source changed while it was copied; make sure nothing writes to the recovery point, then rerun."""


@dataclass(frozen=True)
class FileJob:
    source_path: str
    target_path: str
    size: int
    # Neither the file nor its partial was in the target folder's listing (taken under the stage lock): no need to
    # look for either by name, which for many small files costs more than copying them.
    fresh: bool = False


@dataclass(frozen=True)
class FileOutcome:
    path: str
    size: int
    sha256: str
    blake3: str
    bytes_copied: int
    bytes_reused: int
    verified: bool


class RateLimit:
    """A token bucket: on average at most ``rate`` bytes a second, bursts of at most BURST seconds' worth (idle
    moments between files do not bank a surge). One bucket serves a whole run, so a resumed file continues at the
    same pace instead of starting with a burst."""

    MAX_SLEEP = 1.0  # each wait is short, so that Ctrl-C and the run's other clocks stay responsive
    BURST = 0.1

    def __init__(
        self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.rate = rate
        self.clock = clock
        self.sleep = sleep
        self.tokens = 0.0
        self.last = clock()

    def take(self, count: int) -> None:
        """Account for ``count`` bytes; wait until the average is back under the rate."""
        now = self.clock()
        self.tokens = min(self.rate * self.BURST, self.tokens + (now - self.last) * self.rate) - count
        self.last = now
        while self.tokens < 0:
            self.sleep(min(-self.tokens / self.rate, self.MAX_SLEEP))
            now = self.clock()
            self.tokens += (now - self.last) * self.rate
            self.last = now


class _Track:
    """One algorithm's running hash, with its states at recent offsets (for resuming after a drop)."""

    KEEP = 32

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make
        self.reset()

    def reset(self) -> None:
        self.hash: Any = self.make()
        self.offset = 0
        self.saved: dict[int, Any] = {}

    def mark(self) -> None:
        self.saved[self.offset] = self.hash.copy()

    def update(self, data: memoryview) -> None:
        self.hash.update(data)
        self.offset += len(data)
        self.saved[self.offset] = self.hash.copy()
        if len(self.saved) > self.KEEP:
            del self.saved[min(self.saved)]

    def rewind(self, offset: int) -> bool:
        if offset == self.offset:
            return True
        state = self.saved.get(offset)
        if state is None:
            return False
        self.hash = state.copy()
        self.offset = offset
        self.saved = {k: v for k, v in self.saved.items() if k <= offset}
        return True


class _Hashes:
    """BLAKE3 and SHA-256 (each where asked) of one stream, one :class:`_Track` each (hashed on a thread each
    while copying): SHA-256 for SHA256SUMS, BLAKE3 (verifying only) to compare with the read-back."""

    def __init__(self, *, sha256: bool = True, blake3: bool = True) -> None:
        self.tracks: dict[str, _Track] = {}
        if sha256:
            self.tracks["sha256"] = _Track(hashlib.sha256)
        if blake3:
            self.tracks["blake3"] = _Track(_blake3)

    @property
    def offset(self) -> int:
        return min((t.offset for t in self.tracks.values()), default=0)

    def reset(self) -> None:
        for track in self.tracks.values():
            track.reset()

    def hexdigests(self) -> tuple[str, str]:
        """(BLAKE3, SHA-256), "" for one not computed."""
        b3 = self.tracks.get("blake3")
        sha = self.tracks.get("sha256")
        return (str(b3.hash.hexdigest()) if b3 else "", str(sha.hash.hexdigest()) if sha else "")

    def mark(self) -> None:
        """Save the state at the current offset (where an attempt starts)."""
        for track in self.tracks.values():
            track.mark()

    def update(self, data: memoryview) -> None:
        for track in self.tracks.values():
            track.update(data)

    def rewind(self, offset: int) -> bool:
        """Go back to the state at ``offset`` if every track saved it."""
        if not all(offset == t.offset or offset in t.saved for t in self.tracks.values()):
            return False
        return all([track.rewind(offset) for track in self.tracks.values()])


def _blake3() -> Any:
    return blake3.blake3()


class _Pool:
    """Reused buffers, each back in the pool once everyone it was handed to (the hasher, a sink that sends from
    threads of its own) has released it."""

    def __init__(self, count: int, size: int) -> None:
        self.free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(count):
            self.free.put(bytearray(size))
        self._holders: dict[int, int] = {}
        self._lock = threading.Lock()

    def take(self) -> bytearray:
        return self.free.get()

    def hold(self, buffer: bytearray, holders: int) -> None:
        with self._lock:
            self._holders[id(buffer)] = holders

    def release(self, buffer: bytearray) -> None:
        with self._lock:
            left = self._holders.get(id(buffer), 1) - 1
            if left > 0:
                self._holders[id(buffer)] = left
                return
            self._holders.pop(id(buffer), None)
        self.free.put(buffer)


class _HashWorker:
    """Hashes buffers on threads of their own, one per track (hashlib and blake3 release the GIL), and releases
    each buffer once per track."""

    def __init__(self, hashes: _Hashes, pool: _Pool) -> None:
        self.pool = pool
        self.error: BaseException | None = None
        self.queues: list[queue.Queue[tuple[bytearray, int] | None]] = []
        self.threads: list[threading.Thread] = []
        for name, track in hashes.tracks.items():
            todo: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
            thread = threading.Thread(target=self._run, args=(track, todo), name=f"bmr-{name}", daemon=True)
            self.queues.append(todo)
            self.threads.append(thread)
            thread.start()

    @property
    def holders(self) -> int:
        return len(self.queues)

    def _run(self, track: _Track, todo: queue.Queue[tuple[bytearray, int] | None]) -> None:
        while (item := todo.get()) is not None:
            buffer, count = item
            try:
                if self.error is None:
                    track.update(memoryview(buffer)[:count])
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                self.error = exc
            finally:
                self.pool.release(buffer)
                todo.task_done()
        todo.task_done()

    def submit(self, buffer: bytearray, count: int) -> None:
        for todo in self.queues:
            todo.put((buffer, count))

    def drain(self) -> None:
        for todo in self.queues:
            todo.join()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        for todo in self.queues:
            todo.put(None)
        for thread in self.threads:
            thread.join(timeout=60)


class _InlineHasher:
    """The hashing worker's interface, done on the calling thread: for a file that fits one buffer, starting and
    joining a thread costs more than hashing it."""

    holders = 1

    def __init__(self, hashes: _Hashes, pool: _Pool) -> None:
        self.hashes = hashes
        self.pool = pool

    def submit(self, buffer: bytearray, count: int) -> None:
        try:
            self.hashes.update(memoryview(buffer)[:count])
        finally:
            self.pool.release(buffer)

    def drain(self) -> None:
        pass

    def stop(self) -> None:
        pass


class _Budget:
    """How many more times a step may be tried. A dropped or timed-out link counts against ``retries``; a file held
    open by another connection (InUse: our own dead session, until the server notices) is retried for ``patience``
    seconds from the first time, then reported as such."""

    def __init__(self, retries: int, patience: float, clock: Callable[[], float], backoff: float) -> None:
        self.backoff = backoff
        self.retries = retries
        self.patience = patience
        self.clock = clock
        self.attempts = 0
        self.held_until: float | None = None
        self.held_tries = 0

    def spend(self, exc: errors.BmrError) -> float:
        """Seconds to wait before the next try; raises ``exc`` (or a clearer InUse) when none is left."""
        if not exc.retryable:
            raise exc
        if isinstance(exc, errors.InUse):
            now = self.clock()
            if self.held_until is None:
                self.held_until = now + self.patience
            if now >= self.held_until:
                raise errors.InUse(
                    f"{exc.message} (still held open by another connection after {self.patience:.0f} s: most likely "
                    "bmr's own earlier connection, which the server keeps until it notices that the link died)"
                ) from exc
            self.held_tries += 1
            return min(self.backoff * 2.0**self.held_tries, 10.0)
        self.attempts += 1
        if self.attempts > self.retries:
            raise exc
        return min(self.backoff * 2.0 ** (self.attempts - 1), 30.0)


class Transfer:
    """Copies files from one backend to another. ``retries`` bounds reconnects per file (never for logons)."""

    def __init__(
        self,
        source: Backend,
        target: Backend,
        *,
        verify: bool = True,
        progress: Progress | None = None,
        retries: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        bwlimit: float | None = None,
        patience: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        streams: int | None = None,
    ) -> None:
        self.source = source
        self.target = target
        self.verify = verify
        self.progress = progress or (lambda phase, count: None)
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        # Seconds to keep trying, per failure, for a file another (dead) connection still holds and for a server
        # that does not take a connection (restarting): both end by themselves, unlike a wrong password.
        self.patience = patience
        self.clock = clock
        self._confirmed_at_failure = 0
        self.copy_seconds = 0.0  # time spent streaming new bytes (not comparing or reading back)
        self.limit = RateLimit(bwlimit) if bwlimit else None  # bytes copied and read back, per second
        # Folders that gained a file by rename since the last sync_folders(): synced once each, not once per file.
        self.unsynced_folders: set[str] = set()
        # Connections per large file: asked for (None: chosen from the cores), then what the target allows.
        self.streams_wanted = streams
        self._streams_allowed: int | None = None
        self.streams_used = 1  # the most streams one file was copied over in this run
        self._settling: list[Callable[[], None]] = []  # background flushes started (Backend.sync_soon)

    @property
    def streams(self) -> int:
        """Streams used for a file of at least STRIPED_MIN bytes: as asked (or :func:`auto_streams`), fewer where
        the target allows fewer (asked once per run)."""
        if self._streams_allowed is None:
            wanted = self.streams_wanted or auto_streams()
            self._streams_allowed = self.target.max_streams(wanted) if wanted > 1 else 1
        return self._streams_allowed

    # -- public ---------------------------------------------------------------------------------------------

    def copy(self, job: FileJob) -> FileOutcome:
        """Copy (or resume) ``job`` into its partial name (``target_path`` + PARTIAL_SUFFIX, or a short hashed name
        where that would be too long), verify, flush it to stable storage, then rename into place. The rename itself
        is made durable by :meth:`sync_folders`, which the caller runs before anything certifies the file.
        Raises SourceChanged (nothing renamed) when the source moved while it was read."""
        return self.copy_batch([job])[0]

    def copy_batch(self, jobs: list[FileJob], starting: Callable[[FileJob], None] | None = None) -> list[FileOutcome]:
        """:meth:`copy` of several files, their flushes issued together before their renames (each file's bytes are
        still on stable storage before its final name says "done"). ``starting`` is called as each file's copy
        starts. When one fails, those copied before it are still renamed into place, then the error is raised."""
        done: list[FileOutcome] = []
        try:
            for job in jobs:
                if starting is not None:
                    starting(job)
                done.append(self._copied(job))
        except errors.BmrError:
            with contextlib.suppress(errors.BmrError):
                self._commit(done)
            raise
        self._commit(done)
        return done

    def _copied(self, job: FileJob) -> FileOutcome:
        """Copy and verify ``job`` under its partial name; not yet flushed nor renamed."""
        partial = partial_name(job.target_path)
        before = self._source_before(job)
        # SHA-256 (for SHA256SUMS) while copying, and, verifying, BLAKE3 beside it on a thread of its own: the
        # read-back then computes BLAKE3 alone, and equal BLAKE3s make the SHA-256 of the source bytes that of the
        # target's. (SHA-256 during the read-back instead measured slower, local and SMB alike.)
        hashes = _Hashes(sha256=True, blake3=self.verify)
        reused = 0 if job.fresh else self._retrying(lambda: self._matching_prefix(job, partial, hashes))
        copied = self._retrying_copy(job, partial, hashes)
        b3, sha = hashes.hexdigests()
        if self.verify:
            if job.size >= STRIPED_MIN:  # the rest goes to the target's disk while it is read back
                self._settling.append(self.target.sync_soon(partial))
            self._retrying(lambda: self._verify(job, partial, b3))
        elif self.target.stat(partial).size != job.size:
            raise VerificationFailed(f"{self.target.describe(partial)}: size differs from the source")
        self._retrying(lambda: self._source_after(job, before, b3 or sha, sha256=not b3))
        return FileOutcome(job.target_path, job.size, sha, b3, copied, reused, self.verify)

    def _commit(self, outcomes: list[FileOutcome]) -> None:
        """Flush the partial copies of ``outcomes`` to stable storage, then give each its final name."""
        if not outcomes:
            return
        partials = [partial_name(o.path) for o in outcomes]
        settling, self._settling = self._settling, []
        for settled in settling:  # background flushes of these files: done, or their rest is left to this one
            settled()
        self._retrying(lambda: self.target.sync_files(partials))  # on stable storage before the final name
        for partial, outcome in zip(partials, outcomes, strict=True):
            self.target.rename(partial, outcome.path, replace=True)
            self.unsynced_folders.add(paths.parent(outcome.path))

    def sync_folders(self) -> None:
        """Make the renames of every file copied so far durable: one sync per folder that gained files."""
        for folder in sorted(self.unsynced_folders):
            self._retrying(functools.partial(self.target.sync, folder, folder=True))
            self.unsynced_folders.discard(folder)

    def hash_existing(self, job: FileJob) -> FileOutcome | None:
        """If ``target_path`` already holds exactly the source's bytes, say so (verified); else None."""
        if job.fresh:
            return None
        try:
            existing = self.target.stat(job.target_path)
        except errors.NotFound:
            return None
        if existing.size != job.size:
            return None
        before = self._source_before(job)
        hashes = _Hashes(sha256=False)
        buffer = memoryview(bytearray(CHUNK))
        source = self.source.open_source(job.source_path)
        try:
            while count := source.readinto(buffer):
                hashes.update(buffer[:count])
        finally:
            source.close()
        b3 = hashes.hexdigests()[0]
        if hashes.offset != job.size:
            return None
        theirs, sha = self._digests_of(self.target, job.target_path, "reuse")
        if theirs != b3:
            return None
        self._retrying(lambda: self._source_after(job, before, b3))
        return FileOutcome(job.target_path, job.size, sha, b3, 0, job.size, True)

    # -- the source must hold still -----------------------------------------------------------------------------

    def _source_before(self, job: FileJob) -> tuple[Entry, float]:
        """The source's metadata before it is read, and when it was taken."""
        entry: Entry = self._retrying(lambda: self.source.stat(job.source_path))
        if entry.size != job.size:
            raise SourceChanged(
                f"{self.source.describe(job.source_path)} is {entry.size} bytes now, {job.size} when the point "
                "was inspected: something is writing to the source; nothing was certified for it"
            )
        return entry, time.time()

    def _source_after(self, job: FileJob, before: tuple[Entry, float], digest: str, *, sha256: bool = False) -> None:
        """Raise SourceChanged unless the source still holds what was copied: same size and stamps, and where the
        stamps cannot be trusted (coarse or deferred times, a file written moments before), the same content
        (``digest``: BLAKE3, or with ``sha256`` the SHA-256 of what was copied)."""
        entry, taken = before
        now = self.source.stat(job.source_path)
        if (now.size, now.mtime, now.stamp) != (entry.size, entry.mtime, entry.stamp):
            raise SourceChanged(
                f"{self.source.describe(job.source_path)} changed while it was copied (its size or time stamps "
                "moved); nothing was certified for it"
            )
        trusted = self.source.features.change_stamps and entry.stamp is not None
        racy = entry.mtime is None or taken - entry.mtime < RACY_SECONDS
        if trusted and not racy:
            return
        again = self._digests_of(self.source, job.source_path, "recheck", sha256=sha256, blake3=not sha256)
        if (again[1] if sha256 else again[0]) != digest:
            raise SourceChanged(
                f"{self.source.describe(job.source_path)} changed while it was copied (read again, its content "
                "differs from the copy); "
                "nothing was certified for it"
            )

    # -- steps ----------------------------------------------------------------------------------------------

    def _retrying(self, step: Callable[[], Any]) -> Any:
        budget = _Budget(self.retries, self.patience, self.clock, self.backoff)
        while True:
            try:
                return step()
            except errors.BmrError as exc:
                self._recover(budget, exc)

    def _recover(self, budget: _Budget, exc: errors.BmrError) -> None:
        """Raise ``exc`` when the budget says so; else wait and reconnect both sides. A server that refuses
        connections for a while (restarting) is waited for, ``patience`` seconds at most."""
        pause = budget.spend(exc)
        log.warning("retry", extra={"bmr_fields": {"pause": pause, "error": str(exc)}})
        self.sleep(pause)
        deadline = self.clock() + self.patience
        wait = self.backoff
        for backend in (self.source, self.target):
            while True:
                try:
                    backend.reconnect()
                    break
                except errors.ShareError as again:
                    if not (again.retryable or isinstance(again, errors.CannotConnect)):
                        raise
                    if self.clock() >= deadline:
                        raise
                self.sleep(wait)
                wait = min(wait * 2, 10.0)

    def _matching_prefix(self, job: FileJob, partial: str, hashes: _Hashes) -> int:
        """Bytes at the start of an earlier partial copy that equal the source, compared block by block."""
        hashes.reset()  # a retry starts the comparison over
        try:
            existing = min(self.target.stat(partial).size, job.size)
        except errors.NotFound:
            return 0
        if existing == 0:
            return 0
        ours = memoryview(bytearray(COMPARE_BLOCK))
        theirs = memoryview(bytearray(COMPARE_BLOCK))
        source = self.source.open_source(job.source_path)
        target = self.target.open_source(partial)
        matched = 0
        try:
            while matched < existing:
                want = min(COMPARE_BLOCK, existing - matched)
                got_ours = _fill(source, ours[:want])
                got_theirs = _fill(target, theirs[:want])
                if got_ours != want or got_theirs != want or ours[:want] != theirs[:want]:
                    break
                hashes.update(ours[:want])
                matched += want
                self.progress("reuse", want)
        finally:
            source.close()
            target.close()
        return matched

    def _retrying_copy(self, job: FileJob, partial: str, hashes: _Hashes) -> int:
        """Bytes written by this run: every acknowledged byte of every attempt, the interrupted ones included."""
        copied = 0
        budget = _Budget(self.retries, self.patience, self.clock, self.backoff)
        while True:
            start = hashes.offset
            self._confirmed_at_failure = start
            try:
                copied += self._stream(job, partial, hashes, start)
                return copied
            except errors.BmrError as exc:
                resume = self._confirmed_at_failure
                copied += max(resume - start, 0)
                self._recover(budget, exc)
                if not hashes.rewind(resume):
                    # No saved state at the acknowledged offset: compare with the source again.
                    self._retrying(lambda: self._matching_prefix(job, partial, hashes))
        raise AssertionError("unreachable")

    def _stream(self, job: FileJob, partial: str, hashes: _Hashes, start: int) -> int:
        """Copy source[start:] to the partial file. On a failure, ``_confirmed_at_failure`` holds the last offset the
        target acknowledged (where the next attempt resumes)."""
        # Buffers no larger than what is left to copy: 32 MiB allocated (and zeroed) for a 100-byte file cost more
        # than the copy itself, and a point may hold thousands of small files.
        left = max(job.size - start, 1)
        size = min(CHUNK, left)
        streams = self.streams if job.size >= STRIPED_MIN else 1
        self.streams_used = max(self.streams_used, streams)
        # A stream holds a buffer only while handing it to its socket: a few more than the streams keep all busy.
        pool = _Pool(min(max(POOL, streams + 4), -(-left // size)), size)
        hashes.mark()
        worker = _HashWorker(hashes, pool) if left > size else _InlineHasher(hashes, pool)
        sink = self.target.open_sink(partial, start, streams=streams)
        source = None
        offset = flushed = start
        began = time.monotonic()
        try:
            source = self.source.open_source(job.source_path, start)
            while offset < job.size:
                buffer = pool.take()
                want = min(len(buffer), job.size - offset)
                count = _fill(source, memoryview(buffer)[:want])
                if count == 0:
                    pool.release(buffer)
                    raise SourceChanged(f"{self.source.describe(job.source_path)} ended early at byte {offset}")
                if self.limit is not None:
                    self.limit.take(count)
                pool.hold(buffer, 1 + worker.holders)  # the sink and each hashing thread
                try:
                    sink.write(memoryview(buffer)[:count], functools.partial(pool.release, buffer))
                except BaseException:
                    for _ in range(worker.holders):
                        pool.release(buffer)  # the hashers' shares: not hashed, the next attempt starts before it
                    raise
                worker.submit(buffer, count)
                offset += count
                self.progress("copy", count)
                if offset - flushed >= EARLY_SYNC:
                    # The target writes what it has to its disk while the copy goes on: the flush before the rename
                    # then finds little left (a head start only; that flush is what makes the file durable).
                    self._settling.append(self.target.sync_soon(partial))
                    flushed = offset
            sink.close()
            worker.drain()
            return offset - start
        except errors.BmrError:
            sink.abandon()
            with contextlib.suppress(Exception):
                worker.drain()
            self._confirmed_at_failure = sink.confirmed()
            raise
        except BaseException:
            sink.abandon()
            raise
        finally:
            self.copy_seconds += time.monotonic() - began
            worker.stop()
            if source is not None:
                source.close()

    def _digests_of(
        self, backend: Backend, path: str, phase: str, *, sha256: bool = True, blake3: bool = True, size: int = 0
    ) -> tuple[str, str]:
        """(BLAKE3, SHA-256), "" for one not asked for, of a file as ``backend`` serves it. The backend's source
        keeps reads in flight while this thread hashes the chunk it has (hashlib and blake3 release the GIL); a
        target file of ``size`` >= STRIPED_MIN is read over the copy's streams."""
        digests = _Hashes(sha256=sha256, blake3=blake3)
        streams = self.streams if backend is self.target and size >= STRIPED_MIN else 1
        source = backend.open_source(path, streams=streams)
        try:
            for chunk in source.chunks():
                if self.limit is not None:
                    self.limit.take(len(chunk))
                digests.update(chunk)
                self.progress(phase, len(chunk))
        finally:
            source.close()
        return digests.hexdigests()

    def _verify(self, job: FileJob, partial: str, expected: str) -> str:
        """Read the copy back: its BLAKE3 must equal the source's (returned)."""
        theirs, _ = self._digests_of(self.target, partial, "verify", sha256=False, size=job.size)
        if theirs != expected:
            raise VerificationFailed(
                f"{self.target.describe(job.target_path)}: the copy read back differs from the source"
            )
        return theirs


def _fill(source: Any, view: memoryview) -> int:
    """Read until ``view`` is full or the stream ends."""
    got = 0
    while got < len(view):
        count = source.readinto(view[got:])
        if not count:
            break
        got += count
    return got
