"""SMB 2/3 shares through smbprotocol, with every library exception mapped in :meth:`SmbBackend._mapped`."""

from __future__ import annotations

import builtins
import contextlib
import logging
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import smbclient
from smbprotocol.connection import Connection, SecurityMode
from smbprotocol.file_info import FileAttributes
from smbprotocol.tree import TreeConnect

from share import errors, paths, smbbulk, smbdfs
from share.base import Backend, ChunkedSource, Entry, Features, Kind, Release, SessionFacts, Sink, Source, Space, Stream
from share.credentials import Account, PasswordSource, Secret
from share.location import (
    DEFAULT_PORTS,
    IPV6_LITERAL,
    Location,
    clean_parts,
    host_from_windows,
    redact,
    split_url,
    windows_host,
)
from share.smbbulk import CREDIT_BYTES, BulkChannel, ReadSlot
from share.smberrors import smb_errors
from share.smbnegotiate import (
    DIALECTS,
    Negotiated,
    _log_on_replacing,
    _negotiate,
    _resolve,
    cipher,
    negotiate,
    signing_algorithm,
)
from share.striped import Acked, StripedSink, StripedSource

__all__ = ["DIALECTS", "Negotiated", "SmbBackend", "negotiate", "parse_unc", "parse_url", "smb_errors"]

# smbprotocol's receive thread reports a dropped or garbled connection with log.exception; with no handler
# anywhere, Python's last-resort handler would print that traceback on stderr. The caller gets the mapped error;
# the record still reaches any handler the application installs (it propagates).
logging.getLogger("smbprotocol").addHandler(logging.NullHandler())
log = logging.getLogger("bmr.smb")
_L = TypeVar("_L", "_SmbSink", "_SmbReadLane")  # one stream's handle of a striped write or read

# Every handle bmr opens lets others read, write and delete (rename) the file. After a link dies, the server keeps
# the dead session's handles open until it notices (minutes); a handle that shared nothing would lock bmr's own
# reconnect out of its partial file ("used by another process"). One stage at a time is the lock file's job.
SHARING = "rwd"


class SmbBackend(Backend):
    features = Features(free_space=True, case_insensitive=True, server_commands=False, durable_sync=True)

    def __init__(self, location: Location, password: PasswordSource, *, timeout: float = 15.0) -> None:
        if location.scheme != "smb" or not location.host or not location.share:
            raise errors.InvalidLocation(f"not an SMB location: {location}")
        if not location.user:
            raise errors.UsageError(
                f"no user name for {location}: give --user DOMAIN\\user or smb://DOMAIN;user@host/share"
            )
        self.location = location
        self.account = Account.parse(location.user, location.domain)
        self.host = location.host
        self.port = location.port or 445
        self.timeout = timeout
        self._password = password
        self._cache: dict[str, Any] = {}
        self._session: Any = None
        self._secret: Secret | None = None
        self._dfs_tree: Any = None  # the tree connect of a DFS root share, for referrals
        self._links: dict[str, smbdfs.Link] = {}
        self._channel: BulkChannel | None = None
        self._server_address: str | None = None
        self._share_encrypted: bool | None = None
        self._extras: builtins.list[SmbBackend] = []  # the extra connections of striped copies
        self._extras_refused = False
        self._flusher: SmbBackend | None = None  # the connection of sync_soon
        self._flusher_refused = False
        self.connect()

    # -- connection -------------------------------------------------------------------------------------------

    def connect(self) -> None:
        """Open (or reopen after a drop) the connection and session, and check the share and path exist.

        A reopen names the session it replaces (SESSION_SETUP's PreviousSessionId, as Windows clients do after a
        reconnect): the server then closes that dead session at once, with its open files and its tree connects,
        instead of holding them until it notices the link is gone (a share with `max connections = 1` would
        refuse the reconnect until then)."""
        previous = int(self._session.session_id or 0) if self._session is not None else 0
        self.close()
        secret = self._password.require(f"{self.account.windows()} on {self.describe()}")
        self._secret = secret
        with self._mapped(""):
            self._server_address = _resolve(self.host, self.port)
            conn = Connection(uuid.uuid4(), self.host, self.port, require_signing=True)
            # smbprotocol waits 600 s of silence before it even probes a dead link; ours is the only knob.
            conn._receive_timeout = max(int(self.timeout), 1)
            _negotiate(conn, self.host, self.port, self.timeout)
            self._cache[f"{self.host.lower()}:{self.port}"] = conn
            if previous:
                _log_on_replacing(conn, self.account.windows(), secret.reveal(), previous)
            self._session = smbclient.register_session(
                self.host,
                username=self.account.windows(),
                password=secret.reveal(),
                port=self.port,
                connection_cache=self._cache,
                connection_timeout=self.timeout,
            )
            # smbclient reports a missing share as STATUS_NOT_FOUND from its DFS lookup; a plain tree
            # connect gets the true STATUS_BAD_NETWORK_NAME, so ask that way once.
            tree = TreeConnect(self._session, f"\\\\{self.host}\\{self.location.share}")
            tree.connect()
            self._share_encrypted = bool(tree.encrypt_data)
            if tree.is_dfs_share:
                self._dfs_tree = tree  # kept: the referrals of the links below are asked over it
                if paths.split(self.location.path):
                    self._follow(self._unc(""))
            else:
                tree.disconnect()
        with self._mapped(""):  # anew: below a DFS link, what fails now is the target server's
            smbclient.stat(self._unc(""), **self._kw)

    @property
    def _kw(self) -> dict[str, Any]:
        # The credentials go with every call: smbclient logs on to a DFS link's target server with them (Windows
        # uses the same credentials for every server of a namespace).
        secret = self._secret.reveal() if self._secret is not None else None
        return {
            "port": self.port,
            "connection_cache": self._cache,
            "username": self.account.windows(),
            "password": secret,
            "connection_timeout": self.timeout,
        }

    def _follow(self, unc: str) -> smbdfs.Link | None:
        """Resolve the DFS link at or above ``unc`` (first reachable target first); remembered for dfs_target."""
        if self._dfs_tree is None:
            return None
        link = smbdfs.resolve(self._dfs_tree, unc, self.port, min(self.timeout, 5.0))
        if link is not None:
            self._links[link.path.lower()] = link
        return link

    def dfs_target(self, path: str = "") -> str | None:
        """The UNC of ``path`` on the DFS target server in use, when ``path`` is at or below a link; else None.
        WinRE cannot resolve domain-based namespaces: this is the share a restore must name."""
        unc = self.describe(path)
        lowered = unc.lower()
        for key, link in self._links.items():
            if lowered == key or lowered.startswith(key + "\\"):
                return smbdfs.target_unc(link, unc)
        return None

    def _unc(self, path: str) -> str:
        parts = [self.host, self.location.share or "", *paths.split(self.location.path), *paths.split(path)]
        return "\\\\" + "\\".join(parts)

    def describe(self, path: str = "") -> str:
        """The UNC path as Windows writes it (an IPv6 host as its ipv6-literal.net name)."""
        return "\\\\" + windows_host(self.host) + self._unc(path)[2 + len(self.host) :]

    @contextmanager
    def _mapped(self, path: str) -> Iterator[None]:
        # Below a DFS link, a refusal comes from the link's target server: name that one.
        target = self.dfs_target(path) if self._links else None
        host = next(p for p in target.split("\\") if p) if target else self.host
        with smb_errors(self.describe(path), host, self.port, self.account.windows(), self.location.share):
            yield

    # -- operations --------------------------------------------------------------------------------------------

    def stat(self, path: str) -> Entry:
        with self._mapped(path):
            st = smbclient.stat(self._unc(path), follow_symlinks=False, **self._kw)
        is_dir = bool(st.st_file_attributes & FileAttributes.FILE_ATTRIBUTE_DIRECTORY)
        kind = Kind.DIR if is_dir else Kind.FILE
        return Entry(paths.name(path), kind, 0 if is_dir else st.st_size, st.st_mtime)

    def list(self, path: str) -> list[Entry]:
        out: list[Entry] = []
        with self._mapped(path):
            for item in smbclient.scandir(self._unc(path), **self._kw):
                info = item.smb_info
                attrs = info.file_attributes
                if attrs & FileAttributes.FILE_ATTRIBUTE_REPARSE_POINT and self._dfs_tree is not None:
                    kind = Kind.DIR  # a DFS link: a folder on its target server, looked through as Windows does
                    self._follow(self._unc(paths.join(path, item.name)))
                elif attrs & FileAttributes.FILE_ATTRIBUTE_REPARSE_POINT:
                    kind = Kind.OTHER
                elif attrs & FileAttributes.FILE_ATTRIBUTE_DIRECTORY:
                    kind = Kind.DIR
                else:
                    kind = Kind.FILE
                size = info.end_of_file if kind is Kind.FILE else 0
                out.append(Entry(item.name, kind, size, info.last_write_time.timestamp()))
        return out

    def open_read(self, path: str, offset: int = 0) -> Stream:
        with self._mapped(path):
            raw = smbclient.open_file(self._unc(path), mode="rb", share_access=SHARING, **self._kw)
            if offset:
                raw.seek(offset)
        return Stream(raw, self._mapped, path, forget)

    def _open_for_writing(self, path: str, offset: int, **options: Any) -> Any:
        """Create ``path``, or keep its first ``offset`` bytes and drop the rest; positioned at ``offset``."""
        if not offset:
            return smbclient.open_file(self._unc(path), mode="wb", share_access=SHARING, **options, **self._kw)
        raw = smbclient.open_file(self._unc(path), mode="r+b", share_access=SHARING, **options, **self._kw)
        raw.truncate(offset)
        raw.seek(offset)
        return raw

    def _create(self, path: str, offset: int, **options: Any) -> Any:
        """:meth:`_open_for_writing`, mapped; a name the server refuses is told apart from a missing folder."""
        try:
            with self._mapped(path):
                return self._open_for_writing(path, offset, **options)
        except errors.NotFound as exc:
            # Samba answers a create of a vetoed name (`veto files`) with OBJECT_NAME_NOT_FOUND, as if the
            # folder were missing; when the folder is there, it is the name that is refused.
            if offset or not self._is_folder(paths.parent(path)):
                raise
            raise errors.NameRefused(
                f"{self.describe(path)}: the server refuses the name '{paths.name(path)}' "
                "(a `veto files` rule or a name it reserves)"
            ) from exc

    def _is_folder(self, path: str) -> bool:
        try:
            return self.stat(path).kind is Kind.DIR
        except errors.ShareError:
            return False

    def open_write(self, path: str, offset: int = 0) -> Stream:
        raw = self._create(path, offset)
        return Stream(raw, self._mapped, path, forget)

    def _channel_for(self, raw: Any) -> BulkChannel | None:
        """The fast bulk channel for an open file's connection, or None where it does not apply."""
        tree = raw.fd.tree_connect
        session = tree.session
        conn = session.connection
        if not smbbulk.supported(conn, session, tree):
            return None
        channel = self._channel
        if channel is not None and channel.conn is conn and channel.session is session:
            if channel.tree_id != tree.tree_connect_id:
                channel.retarget(tree)
            return channel
        if channel is not None:
            channel.close()
        channel = self._channel = BulkChannel(conn, session, tree, timeout=self.timeout)
        return channel

    def open_sink(self, path: str, offset: int = 0, *, streams: int = 1) -> Sink:
        raw = self._create(path, offset, buffering=0)
        with self._mapped(path):
            channel = self._channel_for(raw)
        if channel is None:
            return Sink(Stream(raw, self._mapped, path, forget), offset)
        first = _SmbSink(raw, channel, self._mapped, path, offset)
        lanes = self._lanes(first, streams, lambda extra: extra._write_lane(path, offset))
        return StripedSink(lanes, offset, self.timeout) if len(lanes) > 1 else first

    def _fast_open(self, path: str, mode: str) -> tuple[Any, BulkChannel] | None:
        """``path`` (created by another connection, never truncated here) opened for one stream of a striped copy,
        with its bulk channel; None where the fast path does not apply."""
        with self._mapped(path):
            raw = smbclient.open_file(self._unc(path), mode=mode, share_access=SHARING, buffering=0, **self._kw)
            channel = self._channel_for(raw)
        if channel is None:
            forget(raw)
            return None
        return raw, channel

    def _write_lane(self, path: str, offset: int) -> _SmbSink | None:
        opened = self._fast_open(path, "r+b")
        return _SmbSink(*opened, self._mapped, path, offset) if opened else None

    def _read_lane(self, path: str) -> _SmbReadLane | None:
        opened = self._fast_open(path, "rb")
        return _SmbReadLane(*opened, self._mapped, path) if opened else None

    def _lanes(self, first: _L, streams: int, open_one: Callable[[SmbBackend], _L | None]) -> builtins.list[_L]:
        """``first`` and one lane on each of up to ``streams`` - 1 extra connections (fewer where one does not take
        the fast path); on a failure every lane opened so far is abandoned."""
        lanes = [first]
        try:
            for extra in self._extra_streams(streams - 1):
                lane = open_one(extra)
                if lane is None:
                    break
                lanes.append(lane)
        except errors.BmrError:
            for lane in lanes:
                lane.abandon()
            raise
        return lanes

    def max_streams(self, wanted: int) -> int:
        """Connections of their own (TCP, session, tree connect), as many as the server grants up to ``wanted``:
        a share with ``max connections`` reached, or a server refusing more sessions, means fewer."""
        return 1 + len(self._extra_streams(wanted - 1))

    def _extra_streams(self, wanted: int) -> tuple[SmbBackend, ...]:
        """Up to ``wanted`` extra connections to the same location, opened once and kept until close/reconnect;
        after the server refused one, no more are tried."""
        while len(self._extras) < wanted and not self._extras_refused:
            extra = self._another_connection("extra stream")
            if extra is None:
                self._extras_refused = True
            else:
                self._extras.append(extra)
        return tuple(self._extras[: max(wanted, 0)])

    def _another_connection(self, purpose: str) -> SmbBackend | None:
        """One more connection (TCP, session, tree connect) to this location; None when the server refuses it
        (e.g. `max connections` reached), logged with the reason."""
        try:
            return SmbBackend(self.location, self._password, timeout=self.timeout)
        except errors.BmrError as exc:
            log.info(f"{purpose} refused", extra={"bmr_fields": {"error": str(exc)}})
            return None

    def open_source(self, path: str, offset: int = 0, *, streams: int = 1) -> Source:
        with self._mapped(path):
            raw = smbclient.open_file(self._unc(path), mode="rb", share_access=SHARING, buffering=0, **self._kw)
            channel = self._channel_for(raw)
        if channel is None:
            raw.seek(offset)
            return Source(Stream(raw, self._mapped, path, forget))
        if not self._extra_streams(streams - 1):
            return _SmbSource(raw, channel, self._mapped, path, offset)
        first = _SmbReadLane(raw, channel, self._mapped, path)
        lanes = self._lanes(first, streams, lambda extra: extra._read_lane(path))
        return StripedSource(lanes, offset, int(raw.fd.end_of_file), self.timeout)

    def reconnect(self) -> None:
        self.connect()

    def sync(self, path: str, *, folder: bool = False) -> None:
        """SMB2 FLUSH on a handle of its own (FLUSH needs write access; the server flushes the whole file). A
        rename is the server's to make durable: nothing to send for a folder."""
        if folder:
            return
        with self._mapped(path):
            raw = smbclient.open_file(self._unc(path), mode="r+b", share_access=SHARING, buffering=0, **self._kw)
            try:
                raw.fd.flush()
            finally:
                raw.close()

    def sync_soon(self, path: str) -> Callable[[], None]:
        """A FLUSH on a connection of its own (this one's credits are the copy's and read-back's), in a thread."""
        if self._flusher is None and not self._flusher_refused:
            self._flusher = self._another_connection("background flush")
            # Refused (e.g. `max connections` reached): the flush before the rename does it all.
            self._flusher_refused = self._flusher is None
        flusher = self._flusher
        if flusher is None:
            return lambda: None

        def flush() -> None:
            with contextlib.suppress(errors.BmrError):
                flusher.sync(path)

        thread = threading.Thread(target=flush, name="bmr-sync-soon", daemon=True)
        thread.start()
        return lambda: thread.join(self.timeout * 4)

    def makedirs(self, path: str) -> None:
        with self._mapped(path):
            smbclient.makedirs(self._unc(path), exist_ok=True, **self._kw)

    def rename(self, src: str, dst: str, *, replace: bool = False) -> None:
        with self._mapped(dst):
            if replace:
                smbclient.replace(self._unc(src), self._unc(dst), **self._kw)
            else:
                smbclient.rename(self._unc(src), self._unc(dst), **self._kw)

    def remove(self, path: str) -> None:
        with self._mapped(path):
            smbclient.remove(self._unc(path), **self._kw)

    def rmdir(self, path: str) -> None:
        with self._mapped(path):
            smbclient.rmdir(self._unc(path), **self._kw)

    def space(self, path: str = "") -> Space:
        with self._mapped(path):
            vol = smbclient.stat_volume(self._unc(path), **self._kw)
        # caller_available_size honours per-user quotas, which is what a copy will run into.
        return Space(free=vol.caller_available_size, total=vol.total_size)

    def facts(self) -> SessionFacts:
        session = self._session
        conn = session.connection if session is not None else None
        return SessionFacts(
            protocol="smb",
            server_address=self._server_address,
            port=self.port,
            dialect=DIALECTS.get(conn.dialect, hex(conn.dialect)) if conn is not None else None,
            signing=bool(session.signing_required or session.encrypt_data or self._share_encrypted)
            if session is not None
            else None,
            encryption=bool(session.encrypt_data or self._share_encrypted) if session is not None else None,
            guest=False if session is not None else None,  # smbprotocol refuses guest sessions when signing
            user=self.account.windows(),
            server_requires_signing=bool(
                int(conn.server_security_mode or 0) & SecurityMode.SMB2_NEGOTIATE_SIGNING_REQUIRED
            )
            if conn is not None
            else None,
            share_encryption=self._share_encrypted if session is not None else None,
            signing_algorithm=signing_algorithm(conn) if session is not None else None,
            cipher=cipher(conn) if session is not None and (session.encrypt_data or self._share_encrypted) else None,
        )

    @property
    def session(self) -> Any:
        """The smbprotocol Session, for the pipelined transfer code in this package."""
        return self._session

    def close(self) -> None:
        extras, self._extras = getattr(self, "_extras", []), []
        flusher, self._flusher = getattr(self, "_flusher", None), None
        for extra in [*extras, *([flusher] if flusher else [])]:
            extra.close()
        cache, self._cache = self._cache, {}
        self._session = None
        self._dfs_tree = None
        self._share_encrypted = None
        channel, self._channel = self._channel, None
        if cache:
            smbclient.reset_connection_cache(fail_on_error=False, connection_cache=cache)
        # Only now: the channel's receive hook (and what it read ahead) serves the logoff's answers too.
        if channel is not None:
            channel.close()


class _BulkFile:
    """An open smbclient file used through the bulk channel."""

    def __init__(self, raw: Any, channel: BulkChannel, mapped: Any, path: str, offset: int) -> None:
        self._raw = raw
        self._channel = channel
        self._mapped = mapped
        self._path = path
        self._file_id = raw.fd.file_id
        self._next = offset


class _SmbSink(_BulkFile, Sink):
    """WRITEs through the bulk channel; ``confirmed`` is the contiguous acknowledged prefix.

    Requests are as large as the server's max write and its credits allow (at most 4 MiB); the pipeline is
    bounded by bytes in flight, so 64 KiB requests (SMB 2.0.2, ``smb2 max write = 65536``) keep as many bytes
    moving as 4 MiB ones. Short of credits, it waits for its oldest WRITE, or with none in flight sends smaller
    ones."""

    LARGEST = 4 * 1024 * 1024
    IN_FLIGHT = 16 * 1024 * 1024
    BATCH = 1024 * 1024

    def __init__(self, raw: Any, channel: BulkChannel, mapped: Any, path: str, offset: int) -> None:
        super().__init__(raw, channel, mapped, path, offset)
        self._confirmed = offset
        self._acked: Acked | None = None
        self._pending: deque[tuple[Any, int, int]] = deque()
        self._in_flight = 0
        with mapped(path):
            self._piece = channel.request_size(self.LARGEST, "write")

    def write(self, data: memoryview, release: Release | None = None) -> None:
        try:
            self._write(data)
        finally:
            if release is not None:
                release()  # every byte was handed to the socket (or the write failed)

    def _write(self, data: memoryview) -> None:
        start = 0
        with self._mapped(self._path):  # one mapping for the whole buffer: 64 KiB requests come by the hundred
            while start < len(data):
                # Small requests go several to a sendmsg (up to BATCH bytes); large ones one at a time.
                end = min(len(data), start + max(self._piece, self.BATCH // self._piece * self._piece))
                pieces = [data[at : at + self._piece] for at in range(start, end, self._piece)]
                size = end - start
                while self._pending and self._in_flight + size > self.IN_FLIGHT:
                    self._wait_oldest()
                tickets = self._channel.send_writes(self._file_id, self._next, pieces)
                if not tickets:
                    self._short_of_credits()
                    continue
                for piece, ticket in zip(pieces, tickets, strict=False):
                    self._next += len(piece)
                    self._in_flight += len(piece)
                    self._pending.append((ticket, self._next, len(piece)))
                    start += len(piece)

    def _short_of_credits(self) -> None:
        if self._pending:
            self._wait_oldest()  # its response returns credits
        elif self._piece > CREDIT_BYTES:
            self._piece = max(CREDIT_BYTES, self._piece // 2)
        elif self._channel.credits() < 1:
            raise errors.ProtocolError(f"{self._path}: the server grants no credits, so no request can be sent")

    def _wait_oldest(self) -> None:
        request, end, length = self._pending.popleft()
        self._in_flight -= length
        written = self._channel.wait_write(request)  # callers map the errors
        if written != length:
            raise errors.DiskFull(f"{self._path}: the server wrote {written} of {length} bytes")
        self._confirmed = end
        if self._acked is not None:
            self._acked(end, length)

    # -- as one lane of a StripedSink ---------------------------------------------------------------------------

    def write_at(self, offset: int, data: memoryview, acked: Acked) -> None:
        self._next = offset
        self._acked = acked
        self._write(data)

    def finish(self) -> None:
        self.close()

    def confirmed(self) -> int:
        return self._confirmed

    def close(self) -> None:
        with self._mapped(self._path):
            while self._pending:
                self._wait_oldest()
            self._raw.close()

    def abandon(self) -> None:
        self._pending.clear()
        forget(self._raw)


class _SmbSource(_BulkFile, ChunkedSource):
    """READs through the bulk channel with read-ahead into reused buffers, bounded by bytes in flight.
    A short answer before the end of the file is completed: the read-ahead after it is dropped and asked
    again from where the answer stopped."""

    LARGEST = 8 * 1024 * 1024
    IN_FLIGHT = 32 * 1024 * 1024

    def __init__(self, raw: Any, channel: BulkChannel, mapped: Any, path: str, offset: int) -> None:
        super().__init__(raw, channel, mapped, path, offset)
        self._size = int(raw.fd.end_of_file)
        # Slots no larger, and no more, than what is left to read: 32 MiB allocated (and zeroed) to read back a
        # small file cost more than reading it (a point holds many small files).
        left = max(self._size - offset, 1)
        with mapped(path):
            size = min(channel.request_size(self.LARGEST, "read"), left)
        count = max(2, min(512, min(self.IN_FLIGHT, left + size) // size))
        self._free = [ReadSlot(memoryview(bytearray(size))) for _ in range(count)]
        self._batch = max(1, count // 4)
        self._flight: deque[ReadSlot] = deque()

    def _fill(self) -> None:
        """Re-arm free slots: in batches (one ``sendmsg`` for many small READs) once a quarter of them is free,
        or at once when nothing is in flight."""
        if self._flight and len(self._free) < self._batch:
            return
        wanted: list[tuple[int, int, ReadSlot]] = []
        offset = self._next
        for slot in reversed(self._free):  # the slots popped from the end below, in the same order
            if offset >= self._size or len(wanted) >= 256:
                break
            length = min(len(slot.buffer), self._size - offset)
            wanted.append((offset, length, slot))
            offset += length
        if not wanted:
            return
        with self._mapped(self._path):
            sent = self._channel.send_reads(self._file_id, wanted)
        if not sent and not self._flight:
            raise errors.ProtocolError(f"{self._path}: the server grants no credits, so no READ can be sent")
        for offset, length, slot in wanted[:sent]:
            self._free.pop()
            self._flight.append(slot)
            self._next = offset + length

    def _take(self) -> tuple[ReadSlot, int] | None:
        self._fill()
        if not self._flight:
            return None
        slot = self._flight.popleft()
        with self._mapped(self._path):
            length = self._channel.wait_read(slot)
        if 0 < length < slot.requested and slot.offset + length < self._size:
            self._drop_read_ahead()
            self._next = slot.offset + length
        return slot, length

    def _drop_read_ahead(self) -> None:
        for slot in self._flight:
            with contextlib.suppress(Exception):
                self._channel.wait_read(slot)
            self._free.append(slot)
        self._flight.clear()

    def chunks(self, size: int = 0) -> Iterator[memoryview]:
        while (taken := self._take()) is not None:
            slot, length = taken
            if length == 0:
                self._free.append(slot)
                return
            yield slot.buffer[:length]
            self._free.append(slot)

    def close(self) -> None:
        # Collect answers still on the way so the channel stays in step, then close the handle.
        self._drop_read_ahead()
        forget(self._raw)


class _SmbReadLane(_BulkFile):
    """One stream of a striped read: each stripe asked in one go (as many READs as the credits allow), answered in
    place into the caller's buffer."""

    LARGEST = 1024 * 1024

    def __init__(self, raw: Any, channel: BulkChannel, mapped: Any, path: str) -> None:
        super().__init__(raw, channel, mapped, path, 0)
        with mapped(path):
            self._piece = channel.request_size(self.LARGEST, "read")

    def read_at(self, offset: int, view: memoryview) -> int:
        got = 0
        with self._mapped(self._path):
            while got < len(view):
                count = self._read_some(offset + got, view[got:])
                if count == 0:
                    break
                got += count
        return got

    def _read_some(self, offset: int, view: memoryview) -> int:
        """Bytes read at the start of ``view``: READs for as much of it as the credits allow, answered in order;
        the count stops at the first short answer (end of file, or a server answering less)."""
        wanted = [
            (offset + at, min(self._piece, len(view) - at), ReadSlot(view[at : at + self._piece]))
            for at in range(0, len(view), self._piece)
        ]
        sent = self._channel.send_reads(self._file_id, wanted)
        if not sent:
            raise errors.ProtocolError(f"{self._path}: the server grants no credits, so no READ can be sent")
        got, whole = 0, True
        for _offset, length, slot in wanted[:sent]:
            answered = self._channel.wait_read(slot)  # every answer is collected, to stay in step
            if whole:
                got += answered
                whole = answered == length
        return got

    def abandon(self) -> None:
        forget(self._raw)


def forget(raw: Any) -> None:
    """Close a file handle after a failure. If the connection is gone, the server dropped the handle with it:
    mark it closed so that smbclient does not warn about it later."""
    try:
        raw.close()
    except Exception:  # noqa: BLE001 - the first error is the one being reported
        with contextlib.suppress(AttributeError):
            raw.fd._connected = False


_HOST_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")  # a NetBIOS or DNS name, or an IPv4 address


def parse_unc(text: str) -> Location:
    """``\\\\host\\share\\path`` as a location; an IPv6 host as ``[::1]`` or ``--1.ipv6-literal.net`` (Windows'
    form, with ``s<zone>``). A UNC path has no port: the smb:// form takes one."""
    parts = clean_parts(text[2:], text)
    if len(parts) < 2:
        raise errors.InvalidLocation(f"a UNC path needs a host and a share (\\\\host\\share): {text}")
    host = host_from_windows(parts[0])
    if host is None and (parts[0].startswith("[") or parts[0].lower().endswith(IPV6_LITERAL)):
        raise errors.InvalidLocation(f"'{parts[0]}' is not an IPv6 address in the UNC path {text}")
    if host is None and ":" in parts[0] and _HOST_RE.match(parts[0].split(":", 1)[0]):
        raise errors.InvalidLocation(
            f"a UNC path has no port ('{parts[0]}' in {text}): Windows always uses 445 there; give another port as "
            f"smb://user@{parts[0]}/{parts[1]}"
        )
    if host is None and not _HOST_RE.match(parts[0]):
        raise errors.InvalidLocation(f"'{parts[0]}' is not a host name or IP address in the UNC path {text}")
    return Location("smb", "/".join(parts[2:]), host=host or parts[0], port=DEFAULT_PORTS["smb"], share=parts[1])


def parse_url(text: str) -> Location:
    """``smb://[DOMAIN;]user@host[:port]/share/path`` as a location."""
    host, port, user, domain, parts = split_url(text, DEFAULT_PORTS["smb"])
    if not parts:
        raise errors.InvalidLocation(f"an smb:// location needs a share: smb://host/share[/path], got {redact(text)}")
    return Location("smb", "/".join(parts[1:]), host, port, parts[0], user, domain)
