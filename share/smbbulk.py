"""Pipelined bulk reads and writes on an smbprotocol connection, without its per-message copies.

Why: smbprotocol packs, signs and slices every message as whole ``bytes``; for multi-megabyte READ and WRITE
messages those copies (and the page faults of fresh buffers) cost more than the network. Here a WRITE is
header + body + the caller's buffer, signed incrementally and sent with one ``sendmsg``; a READ response is
received straight into a reusable buffer and verified incrementally. Session setup, opens, closes and every
other message still go through smbprotocol; the receive hook hands everything that is not ours back to it.

Encrypted sessions and shares (SMB 3.x): each request is sealed whole in an SMB2 TRANSFORM_HEADER with the
session's encryption key and the negotiated cipher (AES-128/256-GCM/CCM, :mod:`share.smbsecurity`); nonces
come from one counter per session, so none repeats for a key. Every encrypted message from the server is
opened here: responses to our READs and WRITEs are handled in place, anything else goes back to smbprotocol
already decrypted.

Credits: a request costs ceil(bytes / 64 KiB) credits (one message id, no charge, on SMB 2.0.2, which has no
multi-credit and so 64 KiB requests). Callers size requests from :meth:`BulkChannel.request_size` (what the
server grants, split so several fit in flight), bound the pipeline by bytes in flight, and on
:meth:`BulkChannel.send_write` returning None or :meth:`BulkChannel.send_read` False (too few credits now) wait
for their oldest request or send a smaller one: nothing here waits for credits that may never come.

Relies on smbprotocol internals (``Connection.sequence_window``, ``transport._sock``, the session's keys):
:func:`supported` says when the fast path applies; otherwise callers use the ordinary file object.
"""

from __future__ import annotations

import contextlib
import hmac
import select
import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

from smbprotocol.exceptions import SMBOSError

from share import errors
from share.smbsecurity import (
    AES_128_CCM,
    AES_128_GCM,
    AES_256_CCM,
    AES_256_GCM,
    AES_CMAC,
    AES_GMAC,
    CIPHER_NAMES,
    HMAC_SHA256,
    TRANSFORM,
    Sealer,
    Signer,
    cipher_of,
)

__all__ = [  # the security names are re-exported for the callers and tests that import them from here
    "AES_128_CCM", "AES_128_GCM", "AES_256_CCM", "AES_256_GCM", "AES_CMAC", "AES_GMAC", "CIPHER_NAMES",
    "CREDIT_BYTES", "HMAC_SHA256", "BulkChannel", "ReadSlot", "Sealer", "Signer", "WriteTicket", "charge_for",
    "cipher_of", "supported",
]  # fmt: skip

READ, WRITE = 0x0008, 0x0009
FLAG_RESPONSE, FLAG_ASYNC, FLAG_SIGNED = 0x1, 0x2, 0x8
STATUS_SUCCESS, STATUS_PENDING, STATUS_END_OF_FILE = 0, 0x00000103, 0xC0000011
_HEADER = struct.Struct("<4sHHIHHIIQIIQ16s")
_WRITE_BODY = struct.Struct("<HHIQ16sIIHHI")
_READ_BODY = struct.Struct("<HBBIQ16sIIIHHB")
CREDIT_BYTES = 65536  # one credit pays for 64 KiB of payload
DIRECT_READ = 32 * 1024  # reads at least this large skip the inbox and land in place (READ data, sealed messages)


# Not on Windows, where the bulk channel is never used (no sendmsg): the ordinary file objects do the work there.
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)


def supported(connection: Any, session: Any, tree: Any) -> bool:
    """The fast path needs the internals it relies on, and the session's keys when traffic is encrypted."""
    internals = hasattr(connection, "sequence_window") and hasattr(connection.transport, "_sock")
    # Windows' sockets have no sendmsg: there the ordinary file objects do the work (slower, but whole).
    if not internals or not hasattr(socket.socket, "sendmsg"):
        return False
    if session.encrypt_data or tree.encrypt_data:
        return bool(session.encryption_key and session.decryption_key) and cipher_of(connection) in CIPHER_NAMES
    return True


def charge_for(length: int, multi_credit: bool) -> int:
    """Credits a READ or WRITE of ``length`` bytes costs (0 where the dialect has no credit charge)."""
    if not multi_credit:
        return 0
    return (max(length, 1) - 1) // CREDIT_BYTES + 1


@dataclass
class ReadSlot:
    """Where one READ response lands. ``buffer`` is owned by the caller and reused."""

    buffer: memoryview
    done: threading.Event = field(default_factory=threading.Event)
    length: int = 0
    error: BaseException | None = None
    offset: int = 0
    requested: int = 0


@dataclass
class WriteTicket:
    """One WRITE in flight; its response is parsed on the receive thread, without smbprotocol's objects."""

    length: int
    done: threading.Event = field(default_factory=threading.Event)
    written: int = 0
    status: int = STATUS_SUCCESS
    error: BaseException | None = None


class BulkChannel:
    """Fast READ and WRITE on one smbprotocol connection/session/tree. One bulk user at a time."""

    def __init__(self, connection: Any, session: Any, tree: Any, *, timeout: float) -> None:
        self.conn = connection
        self.session = session
        self.session_id = int(session.session_id)
        self.tree_id = int(tree.tree_connect_id)
        self.dfs = bool(getattr(tree, "is_dfs_share", False))
        self.timeout = timeout
        self.multi_credit = bool(connection.supports_multi_credit)
        self.sealer = Sealer(connection, session) if (session.encrypt_data or tree.encrypt_data) else None
        # Encrypted messages are not signed as well: the cipher's tag protects them.
        self.signer = Signer(connection, session)
        if self.sealer is not None:
            self.signer.key = None
        self.transport = connection.transport
        limit = None if self.multi_credit else CREDIT_BYTES  # SMB 2.0.2: single-credit requests only
        self.max_write = min(int(connection.max_write_size), limit or 1 << 32)
        self.max_read = min(int(connection.max_read_size), limit or 1 << 32)
        self._reads: dict[int, ReadSlot] = {}
        self._writes: dict[int, WriteTicket] = {}
        self._reads_lock = threading.Lock()  # guards both tables
        seconds = max(int(timeout), 1)
        self.transport._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", seconds, 0))
        self._inbox = memoryview(bytearray(256 * 1024))
        self._in_start = self._in_end = 0
        self._original_recv = self.transport.recv
        self.transport.recv = self._recv  # the receive thread looks it up on every message
        self.bank_credits()

    def retarget(self, tree: Any) -> None:
        """Serve another tree of the same session (the receive hook, and its inbox, stay)."""
        self.tree_id = int(tree.tree_connect_id)
        self.dfs = bool(getattr(tree, "is_dfs_share", False))
        encrypted = bool(self.session.encrypt_data or tree.encrypt_data)
        if encrypted and self.sealer is None:
            self.sealer = Sealer(self.conn, self.session)
        elif not encrypted:
            self.sealer = None
        self.signer = Signer(self.conn, self.session)
        if self.sealer is not None:
            self.signer.key = None

    def close(self) -> None:
        """Only when the connection goes: bytes read ahead into the inbox would be lost to smbprotocol."""
        if self.transport.recv == self._recv:
            self.transport.recv = self._original_recv

    # -- credits ----------------------------------------------------------------------------------------------

    def credits(self) -> int:
        """Credits available right now (granted and not yet spent)."""
        with self.conn.sequence_lock:
            return int(self.conn.sequence_window["high"] - self.conn.sequence_window["low"])

    def bank_credits(self, wanted: int = 512) -> int:
        """Ask for enough credits to keep full-size requests in flight; returns what is available after.
        A session starts with a few dozen; a server may cap the total (Samba ``smb2 max credits``)."""
        if self.credits() < wanted and self.credits() >= 1:
            self.conn.echo(sid=self.session_id, timeout=max(int(self.timeout), 1), credit_request=wanted)
        return self.credits()

    def request_size(self, largest: int, kind: str) -> int:
        """Bytes per READ or WRITE: the server's maximum, at most ``largest``, and small enough that the credits
        granted pay for about four requests in flight (never below one credit's 64 KiB)."""
        maximum = self.max_write if kind == "write" else self.max_read
        size = min(maximum, largest)
        if self.multi_credit:
            size = min(size, max(1, self.bank_credits() // 4) * CREDIT_BYTES)
        return max(1, size)

    def _take_ids(self, charge: int) -> int | None:
        """Reserve the message ids (and credits) of one request, or None when too few credits are left now."""
        cost = max(charge, 1)
        with self.conn.sequence_lock:
            window = self.conn.sequence_window
            if window["high"] - window["low"] < cost:
                return None
            message_id = int(window["low"])
            window["low"] += cost
            return message_id

    # -- sending ----------------------------------------------------------------------------------------------

    def _header(self, command: int, charge: int, message_id: int) -> bytes:
        flags = FLAG_SIGNED if self.signer.key else 0
        if self.dfs:
            flags |= 0x10000000
        return _HEADER.pack(
            b"\xfeSMB", 64, charge, 0, command, max(charge, 1), flags, 0, message_id, 0, self.tree_id,
            self.session_id, b"\0" * 16,
        )  # fmt: skip

    def _frame(
        self, parts: list[bytes | bytearray | memoryview], message_id: int, *, keep: bool = False
    ) -> list[memoryview]:
        """One message ready for the wire: signed or sealed, behind its 4-byte length. ``keep``: the views stay
        valid after the next message is framed (a sealed message is copied out of the sealer's buffer)."""
        if self.signer.key:
            signature = self.signer.signature(parts, message_id, response=False)
            parts[0] = bytes(parts[0])[:48] + signature
        if self.sealer is not None:
            sealed = self.sealer.seal(parts)
            parts = [bytes(p) for p in sealed] if keep else list(sealed)
        total = sum(len(p) for p in parts)
        return [memoryview(struct.pack(">I", total))] + [memoryview(p).cast("B") for p in parts]

    def _transmit(self, views: list[memoryview]) -> None:
        """Send framed messages with as few system calls as the socket allows."""
        sock = self.transport._sock
        with self.transport._sock_lock:
            if not self.transport.connected:
                raise errors.ConnectionLost("the SMB connection is closed")
            # A send must never block for ever inside the lock: a peer that stops reading would hold it, and the
            # receive thread needs it to close the connection. SO_SNDTIMEO (set in __init__) bounds each call.
            try:
                first = 0
                while first < len(views):
                    sent = sock.sendmsg(views[first : first + 512])  # well below IOV_MAX
                    while sent:
                        if sent >= len(views[first]):
                            sent -= len(views[first])
                            first += 1
                        else:
                            views[first] = views[first][sent:]
                            sent = 0
            except (BlockingIOError, TimeoutError):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the receive thread, which closes up
                raise errors.ConnectionLost(f"the server took no data for {self.timeout:g} s") from None
            except OSError as exc:
                raise errors.ConnectionLost(f"sending to the server failed: {exc.strerror or exc}") from exc

    def send_writes(self, file_id: bytes, offset: int, pieces: list[memoryview]) -> list[WriteTicket]:
        """Send WRITEs of consecutive ``pieces`` from ``offset`` in one go and return their tickets (wait with
        :meth:`wait_write`); fewer (maybe none) when the credits run out: the rest were not sent. The pieces are
        free on return."""
        views: list[memoryview] = []
        tickets: list[WriteTicket] = []
        sent: list[int] = []
        keep = len(pieces) > 1  # a sealed message must outlive the sealing of the next one
        try:
            for data in pieces:
                length = len(data)
                charge = charge_for(length, self.multi_credit)
                message_id = self._take_ids(charge)
                if message_id is None:
                    break
                ticket = WriteTicket(length)
                with self._reads_lock:
                    self._writes[message_id] = ticket
                sent.append(message_id)
                tickets.append(ticket)
                body = _WRITE_BODY.pack(49, 64 + 48, length, offset, file_id, 0, 0, 0, 0, 0)
                views += self._frame([self._header(WRITE, charge, message_id), body, data], message_id, keep=keep)
                offset += length
            if views:
                self._transmit(views)
        except BaseException:
            with self._reads_lock:
                for message_id in sent:
                    self._writes.pop(message_id, None)
            raise
        return tickets

    def send_write(self, file_id: bytes, offset: int, data: memoryview) -> WriteTicket | None:
        """Send one WRITE and return its ticket, or None when the credits for it are not there right now."""
        tickets = self.send_writes(file_id, offset, [data])
        return tickets[0] if tickets else None

    def wait_write(self, ticket: WriteTicket) -> int:
        """Bytes the server says it wrote. A failure status raises smbprotocol's SMBOSError (map it outside)."""
        if not ticket.done.wait(self.timeout):
            raise errors.TimedOut(f"no WRITE response within {self.timeout:g} s")
        if ticket.error is not None:
            raise ticket.error
        if ticket.status != STATUS_SUCCESS:
            raise SMBOSError(ticket.status, "WRITE")
        return ticket.written

    def send_reads(self, file_id: bytes, wanted: list[tuple[int, int, ReadSlot]]) -> int:
        """Send READs of (offset, length, slot), in order, in one go; returns how many were sent (fewer when the
        credits run out: the rest were not sent at all)."""
        views: list[memoryview] = []
        sent: list[int] = []
        try:
            for offset, length, slot in wanted:
                charge = charge_for(length, self.multi_credit)
                message_id = self._take_ids(charge)
                if message_id is None:
                    break
                slot.done.clear()
                slot.error = None
                slot.length = 0
                slot.offset = offset
                slot.requested = length
                with self._reads_lock:
                    self._reads[message_id] = slot
                sent.append(message_id)
                body = _READ_BODY.pack(49, 0x50, 0, length, offset, file_id, 0, 0, 0, 0, 0, 0)
                views += self._frame([self._header(READ, charge, message_id), body], message_id, keep=True)
            if views:
                self._transmit(views)
        except BaseException:
            with self._reads_lock:
                for message_id in sent:
                    self._reads.pop(message_id, None)
            raise
        return len(sent)

    def send_read(self, file_id: bytes, offset: int, length: int, slot: ReadSlot) -> bool:
        """Send one READ answered into ``slot``; False (nothing sent) when the credits are not there now."""
        return self.send_reads(file_id, [(offset, length, slot)]) == 1

    def wait_read(self, slot: ReadSlot) -> int:
        if not slot.done.wait(self.timeout):
            raise errors.TimedOut(f"no READ response within {self.timeout:g} s")
        if slot.error is not None:
            raise slot.error
        return slot.length

    # -- receiving (runs on smbprotocol's receive thread) ---------------------------------------------------

    def _fail_reads(self, exc: BaseException) -> None:
        """Fail every READ and WRITE still waiting (the connection is gone)."""
        with self._reads_lock:
            pending: list[ReadSlot | WriteTicket] = [*self._reads.values(), *self._writes.values()]
            self._reads, self._writes = {}, {}
        for waiting in pending:
            waiting.error = exc
            waiting.done.set()

    def _read_exact(self, view: memoryview, timeout: float, *, between_messages: bool = False) -> bool:
        """Fill ``view`` from the socket. False when the socket closed. Silence longer than ``timeout`` between
        messages raises TimeoutError (smbprotocol then probes the link with an echo); inside a message it closes
        the connection, because a message cut in two cannot be resumed.

        Small reads (headers, WRITE responses) are served from an inbox filled by one ``recv`` of whatever has
        arrived, so a burst of responses costs one system call, not three each; large ones (READ data) go
        straight into ``view``. The inbox belongs to this channel's hook, which stays on the connection."""
        got = self._from_inbox(view)
        sock = self.transport._sock
        stalled = False
        while got < len(view):
            remaining = len(view) - got
            direct = remaining >= DIRECT_READ
            with self.transport._close_lock:
                if not self.transport.connected:
                    return False
                try:
                    count = sock.recv_into(view[got:] if direct else self._inbox, 0, _DONTWAIT)
                except BlockingIOError:
                    count = -1
                except OSError:
                    count = 0
                if count < 0:
                    if select.select([sock], [], [], max(timeout, 1))[0]:
                        continue
                    if between_messages and got == 0:
                        raise TimeoutError(f"recv idle for {timeout:.0f}s")
                    stalled = True
            if count < 0 and stalled:
                self.transport.close()
                return False
            if count == 0:
                self.transport.close()
                return False
            if direct:
                got += count
            else:
                self._in_start, self._in_end = 0, count
                got += self._from_inbox(view[got:])
        return True

    def _from_inbox(self, view: memoryview) -> int:
        count = min(len(view), self._in_end - self._in_start)
        if count:
            view[:count] = self._inbox[self._in_start : self._in_start + count]
            self._in_start += count
        return count

    def _recv(self, timeout: float) -> bytes:
        try:
            return self._recv_next(timeout)
        except BaseException as exc:
            self._fail_reads(errors.ConnectionLost(f"the SMB connection failed: {exc}"))
            raise

    def _closed(self) -> bytes:
        self._fail_reads(errors.ConnectionLost("the SMB connection closed"))
        return b""

    def _recv_next(self, timeout: float) -> bytes:
        prefix = bytearray(4 + 64 + 16)
        view = memoryview(prefix)
        while True:
            if not self._read_exact(view[:4], timeout, between_messages=True):
                return self._closed()
            length = struct.unpack_from(">I", prefix, 0)[0]
            head = min(length, 80)
            if not self._read_exact(view[4 : 4 + head], timeout):
                return self._closed()
            if prefix[4:8] == b"\xfdSMB" and self.sealer is not None and length > TRANSFORM.size:
                message = self._recv_sealed(prefix, length, timeout)
                if message is None:
                    continue  # one of our READ responses: landed in its slot
                return message
            ticket = self._our_write(prefix, length)
            slot = self._our_read(prefix, length) if ticket is None else None
            if slot is None:
                rest = bytearray(length - head)
                if rest and not self._read_exact(memoryview(rest), timeout):
                    return self._closed()
                if ticket is None:
                    return bytes(prefix[4 : 4 + head]) + bytes(rest)
                self._land_write(memoryview(bytes(prefix[4 : 4 + head]) + bytes(rest)), ticket, sealed=False)
                continue
            self._land_read(prefix, length, slot, timeout)

    def _recv_sealed(self, prefix: bytearray, length: int, timeout: float) -> bytes | None:
        """Receive and decrypt one encrypted message. Our READ responses land in their slot (None returned);
        anything else is returned decrypted for smbprotocol, which then skips its own decryption."""
        assert self.sealer is not None
        transform = bytes(prefix[4 : 4 + TRANSFORM.size])
        session_id = TRANSFORM.unpack(transform)[6]
        head = min(length, 80)
        size = length - TRANSFORM.size
        if session_id != self.sealer.session_id:  # another session's message: smbprotocol's business
            rest = bytearray(length - head)
            if rest and not self._read_exact(memoryview(rest), timeout):
                return self._closed()
            return bytes(prefix[4 : 4 + head]) + bytes(rest)
        sealed = self.sealer.buffer(size)
        already = head - TRANSFORM.size
        sealed[:already] = prefix[4 + TRANSFORM.size : 4 + head]
        if not self._read_exact(sealed[already:size], timeout):
            return self._closed()
        sealed[size:] = transform[4:20]
        try:
            plain = self.sealer.open(transform, sealed)
        except errors.BmrError as exc:
            self._fail_reads(exc)
            raise
        if len(plain) >= 64 + 8 and bytes(plain[:4]) == b"\xfeSMB":
            command, next_command, message_id = struct.unpack_from("<H6xIQ", plain, 12)
            if command == READ and next_command == 0:
                with self._reads_lock:
                    slot = self._reads.get(message_id)
                if slot is not None:
                    self._land_plain_read(plain, slot)
                    return None
            if command == WRITE and next_command == 0:
                with self._reads_lock:
                    ticket = self._writes.get(message_id)
                if ticket is not None:
                    self._land_write(plain, ticket, sealed=True)
                    return None
        message = bytearray(plain)
        # smbprotocol checks the signature of a message it did not decrypt itself when the SIGNED flag is set,
        # which some servers set inside encrypted messages (Samba on 3.0) with a signature that is not meant to
        # be checked. The cipher's tag has authenticated every byte: clear the flag of each compounded header.
        position = 0
        while position + 64 <= len(message) and message[position : position + 4] == b"\xfeSMB":
            flags, next_command = struct.unpack_from("<II", message, position + 16)
            struct.pack_into("<I", message, position + 16, flags & ~FLAG_SIGNED)
            if not next_command:
                break
            position += next_command
        return bytes(message)

    def _add_credits(self, granted: int) -> None:
        if granted == 0 and not self.multi_credit:
            granted = 1  # SMB 2.0.2: a response returns the one credit its request used
        with self.conn.sequence_lock:
            self.conn.sequence_window["high"] += granted

    def _land_plain_read(self, plain: memoryview, slot: ReadSlot) -> None:
        """Our READ response, decrypted (so already authenticated by the cipher's tag)."""
        status, _cmd, credits, _flags = struct.unpack_from("<IHHI", plain, 8)
        message_id = struct.unpack_from("<Q", plain, 24)[0]
        self._add_credits(credits)
        if status == STATUS_PENDING:
            return  # an interim answer; the real one follows
        with self._reads_lock:
            self._reads.pop(message_id, None)
        if status == STATUS_END_OF_FILE:
            slot.length = 0
        elif status != STATUS_SUCCESS:
            slot.error = errors.ShareError(f"the server refused a READ (NTSTATUS 0x{status:08X})")
        elif len(plain) < 80 or not _fits(plain, len(slot.buffer)):
            slot.error = errors.ProtocolError("a READ response did not fit its request")
        else:
            data_offset, data_length = struct.unpack_from("<BxI", plain, 64 + 2)
            slot.buffer[:data_length] = plain[data_offset : data_offset + data_length]
            slot.length = data_length
        slot.done.set()

    def _our_write(self, prefix: bytearray, length: int) -> WriteTicket | None:
        if length < 64 + 8 or length > 4096 or prefix[4:8] != b"\xfeSMB":
            return None
        command, next_command, message_id = struct.unpack_from("<H6xIQ", prefix, 4 + 12)
        if command != WRITE or next_command != 0:
            return None
        with self._reads_lock:
            return self._writes.get(message_id)

    def _land_write(self, message: memoryview, ticket: WriteTicket, *, sealed: bool) -> None:
        """One response to our WRITE (plain, or decrypted and so already authenticated)."""
        status, _cmd, credits, flags = struct.unpack_from("<IHHI", message, 8)
        message_id = struct.unpack_from("<Q", message, 24)[0]
        self._add_credits(credits)
        if status == STATUS_PENDING:
            return  # an interim answer; the real one follows
        with self._reads_lock:
            self._writes.pop(message_id, None)
        if self.signer.key and not sealed:
            header = bytes(message[:48]) + b"\0" * 16
            expected = self.signer.signature([header, message[64:]], message_id, response=True)
            if not flags & FLAG_SIGNED or not hmac.compare_digest(expected, bytes(message[48:64])):
                ticket.error = errors.ProtocolError("a WRITE response failed its signature check")
        if status == STATUS_SUCCESS:
            if len(message) >= 64 + 8:
                ticket.written = int(struct.unpack_from("<I", message, 64 + 4)[0])
            else:
                ticket.error = errors.ProtocolError("a WRITE response is too short")
        ticket.status = status
        ticket.done.set()

    def _our_read(self, prefix: bytearray, length: int) -> ReadSlot | None:
        if length < 64 + 8 or prefix[4:8] != b"\xfeSMB":
            return None
        command = struct.unpack_from("<H", prefix, 4 + 12)[0]
        next_command = struct.unpack_from("<I", prefix, 4 + 20)[0]
        message_id = struct.unpack_from("<Q", prefix, 4 + 24)[0]
        if command != READ or next_command != 0:
            return None
        with self._reads_lock:
            return self._reads.get(message_id)

    def _drain(self, count: int, timeout: float) -> bool:
        return count <= 0 or self._read_exact(memoryview(bytearray(count)), timeout)

    def _land_read(self, prefix: bytearray, length: int, slot: ReadSlot, timeout: float) -> None:
        """Consume one response to our READ from the socket (always all of it, to stay in step)."""
        head = min(length, 80)
        status, _cmd, credits, flags = struct.unpack_from("<IHHI", prefix, 4 + 8)
        message_id = struct.unpack_from("<Q", prefix, 4 + 24)[0]
        self._add_credits(credits)
        if status == STATUS_PENDING:
            if not self._drain(length - head, timeout):
                self._fail_reads(errors.ConnectionLost("the SMB connection closed"))
            return  # an interim answer; the real one follows
        with self._reads_lock:
            self._reads.pop(message_id, None)
        data_offset, _r, data_length = struct.unpack_from("<BBI", prefix, 68 + 2)
        fits = (
            status == STATUS_SUCCESS
            and length >= 80
            and data_offset >= 80
            and data_length <= len(slot.buffer)
            and data_offset + data_length <= length
        )
        if not fits:
            if not self._drain(length - head, timeout):
                self._fail_reads(errors.ConnectionLost("the SMB connection closed"))
                return
            if status == STATUS_END_OF_FILE:
                slot.length = 0
            elif status != STATUS_SUCCESS:
                slot.error = errors.ShareError(f"the server refused a READ (NTSTATUS 0x{status:08X})")
            else:
                slot.error = errors.ProtocolError("a READ response did not fit its request")
            slot.done.set()
            return
        # DataOffset is honoured both ways (MS-SMB2 2.2.20): padding may stand before the data, and some servers
        # (impacket's) pad the message after it to 8 bytes; both are read, and signed, as part of the message.
        pad = bytearray(data_offset - 80)
        target = slot.buffer[:data_length]
        tail = bytearray(length - data_offset - data_length)
        if not (
            self._read_exact(memoryview(pad), timeout)
            and self._read_exact(target, timeout)
            and self._read_exact(memoryview(tail), timeout)
        ):
            self._fail_reads(errors.ConnectionLost("the SMB connection closed"))
            return
        if self.signer.key:
            header = bytes(prefix[4:52]) + b"\0" * 16
            body = memoryview(prefix)[68:84]
            expected = self.signer.signature([header, body, pad, target, tail], message_id, response=True)
            if not flags & FLAG_SIGNED or not hmac.compare_digest(expected, bytes(prefix[52:68])):
                slot.error = errors.ProtocolError("a READ response failed its signature check")
        slot.length = data_length
        slot.done.set()


def _fits(response: memoryview, room: int) -> bool:
    """A READ response's data lies inside the message and fits the slot's buffer."""
    data_offset, data_length = struct.unpack_from("<BxI", response, 64 + 2)
    return bool(data_offset >= 80 and data_length <= room and data_offset + data_length <= len(response))
