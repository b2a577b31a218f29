"""Pipelined bulk reads and writes on an smbprotocol connection, without its per-message copies.

Why: smbprotocol packs, signs and slices every message as whole ``bytes``; for multi-megabyte READ and WRITE
messages those copies (and the page faults of fresh buffers) cost more than the network. Here a WRITE is
header + body + the caller's buffer, signed incrementally and sent with one ``sendmsg``; a READ response is
received straight into a reusable buffer and verified incrementally. Session setup, opens, closes and every
other message still go through smbprotocol; the receive hook hands everything that is not ours back to it.

Relies on smbprotocol internals (``Connection.sequence_window``, ``transport._sock``): :func:`supported`
says when the fast path applies; otherwise callers use the ordinary file object.
"""

from __future__ import annotations

import contextlib
import hmac
import select
import socket
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from smbprotocol.connection import Request
from smbprotocol.header import SMB2HeaderRequest
from smbprotocol.open import SMB2WriteRequest

from share import errors

READ, WRITE = 0x0008, 0x0009
FLAG_RESPONSE, FLAG_ASYNC, FLAG_SIGNED = 0x1, 0x2, 0x8
STATUS_SUCCESS, STATUS_PENDING, STATUS_END_OF_FILE = 0, 0x00000103, 0xC0000011
_HEADER = struct.Struct("<4sHHIHHIIQIIQ16s")
_WRITE_BODY = struct.Struct("<HHIQ16sIIHHI")
_READ_BODY = struct.Struct("<HBBIQ16sIIIHHB")
HMAC_SHA256, AES_CMAC, AES_GMAC = 0, 1, 2


def supported(connection: Any, session: Any, tree: Any) -> bool:
    """The fast path needs multi-credit SMB 2.1+, no encryption, and the internals it relies on."""
    return (
        bool(connection.supports_multi_credit)
        and not session.encrypt_data
        and not tree.encrypt_data
        and hasattr(connection, "sequence_window")
        and hasattr(connection.transport, "_sock")
    )


class Signer:
    """SMB2/3 message signing over a message given in parts (no concatenation)."""

    def __init__(self, connection: Any, session: Any) -> None:
        self.key: bytes | None = session.signing_key if session.signing_required else None
        if connection.dialect >= 0x0311 and connection.signing_algorithm_id is not None:
            self.algorithm = int(connection.signing_algorithm_id)
        elif connection.dialect >= 0x0300:
            self.algorithm = AES_CMAC
        else:
            self.algorithm = HMAC_SHA256

    def signature(self, parts: Sequence[bytes | bytearray | memoryview], message_id: int, response: bool) -> bytes:
        assert self.key is not None
        if self.algorithm == AES_GMAC:
            nonce = message_id.to_bytes(8, "little") + (1 if response else 0).to_bytes(4, "little")
            gmac = Cipher(algorithms.AES(self.key), modes.GCM(nonce)).encryptor()
            for part in parts:
                gmac.authenticate_additional_data(part)
            gmac.finalize()
            return bytes(gmac.tag)
        if self.algorithm == AES_CMAC:
            mac = cmac.CMAC(algorithms.AES(self.key))
            for part in parts:
                mac.update(part)  # type: ignore[arg-type]  # any buffer works at run time
            return bytes(mac.finalize()[:16])
        digest = hmac.new(self.key, digestmod="sha256")
        for part in parts:
            digest.update(part)
        return digest.digest()[:16]


@dataclass
class ReadSlot:
    """Where one READ response lands. ``buffer`` is owned by the caller and reused."""

    buffer: memoryview
    done: threading.Event = field(default_factory=threading.Event)
    length: int = 0
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
        self.signer = Signer(connection, session)
        self.transport = connection.transport
        self.max_write = int(connection.max_write_size)
        self.max_read = int(connection.max_read_size)
        self._reads: dict[int, ReadSlot] = {}
        self._reads_lock = threading.Lock()
        seconds = max(int(timeout), 1)
        self.transport._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", seconds, 0))
        self._original_recv = self.transport.recv
        self.transport.recv = self._recv  # the receive thread looks it up on every message
        self._bank_credits()

    def close(self) -> None:
        if self.transport.recv == self._recv:
            self.transport.recv = self._original_recv

    def _bank_credits(self) -> None:
        # A session starts with a few dozen credits; ask for enough to keep full-size requests in flight.
        window = self.conn.sequence_window
        if window["high"] - window["low"] < 512:
            self.conn.echo(sid=self.session_id, timeout=int(self.timeout), credit_request=512)

    # -- sending ----------------------------------------------------------------------------------------------

    def _take_ids(self, charge: int, deadline: float) -> int:
        """Reserve ``charge`` credits; wait (bounded) for responses to return some when there are too few."""
        while True:
            with self.conn.sequence_lock:
                window = self.conn.sequence_window
                if window["high"] - window["low"] >= charge:
                    message_id = int(window["low"])
                    window["low"] += charge
                    return message_id
            if time.monotonic() > deadline:
                raise errors.TimedOut("the server granted no credits in time")
            time.sleep(0.0005)

    def _header(self, command: int, charge: int, message_id: int) -> bytes:
        flags = FLAG_SIGNED if self.signer.key else 0
        if self.dfs:
            flags |= 0x10000000
        return _HEADER.pack(
            b"\xfeSMB", 64, charge, 0, command, charge, flags, 0, message_id, 0, self.tree_id, self.session_id,
            b"\0" * 16,
        )  # fmt: skip

    def _send(self, parts: list[bytes | bytearray | memoryview], message_id: int) -> None:
        if self.signer.key:
            signature = self.signer.signature(parts, message_id, response=False)
            parts[0] = bytes(parts[0])[:48] + signature
        total = sum(len(p) for p in parts)
        views = [memoryview(struct.pack(">I", total))] + [memoryview(p).cast("B") for p in parts]
        sock = self.transport._sock
        with self.transport._sock_lock:
            if not self.transport.connected:
                raise errors.ConnectionLost("the SMB connection is closed")
            # A send must never block for ever inside the lock: a peer that stops reading would hold it, and the
            # receive thread needs it to close the connection. SO_SNDTIMEO (set in __init__) bounds each call.
            try:
                while views:
                    sent = sock.sendmsg(views)
                    while sent:
                        if sent >= len(views[0]):
                            sent -= len(views[0])
                            views.pop(0)
                        else:
                            views[0] = views[0][sent:]
                            sent = 0
            except (BlockingIOError, TimeoutError):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the receive thread, which closes up
                raise errors.ConnectionLost(f"the server took no data for {self.timeout:g} s") from None
            except OSError as exc:
                raise errors.ConnectionLost(f"sending to the server failed: {exc.strerror or exc}") from exc

    def send_write(self, file_id: bytes, offset: int, data: memoryview) -> Any:
        """Send one WRITE; returns the pending request (wait with :meth:`wait_write`). ``data`` is free on return."""
        length = len(data)
        charge = (max(length, 1) - 1) // 65536 + 1
        message_id = self._take_ids(charge, time.monotonic() + self.timeout)
        header = SMB2HeaderRequest()
        header["command"] = WRITE
        header["message_id"] = message_id
        header["session_id"] = self.session_id
        header["tree_id"] = self.tree_id
        request = Request(header, SMB2WriteRequest, self.conn, session_id=self.session_id)
        self.conn.outstanding_requests[message_id] = request
        body = _WRITE_BODY.pack(49, 64 + 48, length, offset, file_id, 0, 0, 0, 0, 0)
        self._send([self._header(WRITE, charge, message_id), body, data], message_id)
        return request

    def wait_write(self, request: Any) -> int:
        """Bytes the server says it wrote. Raises the smbprotocol error for a failure status (map it outside)."""
        response = self.conn.receive(request, timeout=self.timeout)
        message_id = response["message_id"].get_value()
        self.conn.outstanding_requests.pop(message_id, None)
        data = response["data"].get_value()
        return int(struct.unpack_from("<I", data, 4)[0])

    def send_read(self, file_id: bytes, offset: int, length: int, slot: ReadSlot) -> None:
        charge = (max(length, 1) - 1) // 65536 + 1
        message_id = self._take_ids(charge, time.monotonic() + self.timeout)
        slot.done.clear()
        slot.error = None
        slot.length = 0
        with self._reads_lock:
            self._reads[message_id] = slot
        body = _READ_BODY.pack(49, 0x50, 0, length, offset, file_id, 0, 0, 0, 0, 0, 0)
        try:
            self._send([self._header(READ, charge, message_id), body], message_id)
        except BaseException:
            with self._reads_lock:
                self._reads.pop(message_id, None)
            raise

    def wait_read(self, slot: ReadSlot) -> int:
        if not slot.done.wait(self.timeout):
            raise errors.TimedOut(f"no READ response within {self.timeout:g} s")
        if slot.error is not None:
            raise slot.error
        return slot.length

    # -- receiving (runs on smbprotocol's receive thread) ---------------------------------------------------

    def _fail_reads(self, exc: BaseException) -> None:
        with self._reads_lock:
            pending, self._reads = list(self._reads.values()), {}
        for slot in pending:
            slot.error = exc
            slot.done.set()

    def _read_exact(self, view: memoryview, timeout: float) -> bool:
        """Fill ``view`` from the socket. False when the socket closed; TimeoutError when idle too long."""
        sock = self.transport._sock
        got = 0
        while got < len(view):
            with self.transport._close_lock:
                if not self.transport.connected:
                    return False
                ready = select.select([sock], [], [], max(timeout, 1))[0]
                if not ready:
                    raise TimeoutError(f"recv idle for {timeout:.0f}s")
                try:
                    count = sock.recv_into(view[got:])
                except OSError:
                    count = 0
            if count == 0:
                self.transport.close()
                return False
            got += count
        return True

    def _recv(self, timeout: float) -> bytes:
        try:
            return self._recv_next(timeout)
        except BaseException as exc:
            self._fail_reads(errors.ConnectionLost(f"the SMB connection failed: {exc}"))
            raise

    def _recv_next(self, timeout: float) -> bytes:
        prefix = bytearray(4 + 64 + 16)
        view = memoryview(prefix)
        while True:
            if not self._read_exact(view[:4], timeout):
                self._fail_reads(errors.ConnectionLost("the SMB connection closed"))
                return b""
            length = struct.unpack_from(">I", prefix, 0)[0]
            head = min(length, 80)
            if not self._read_exact(view[4 : 4 + head], timeout):
                self._fail_reads(errors.ConnectionLost("the SMB connection closed"))
                return b""
            slot = self._our_read(prefix, length)
            if slot is None:
                rest = bytearray(length - head)
                if rest and not self._read_exact(memoryview(rest), timeout):
                    self._fail_reads(errors.ConnectionLost("the SMB connection closed"))
                    return b""
                return bytes(prefix[4 : 4 + head]) + bytes(rest)
            self._land_read(prefix, length, slot, timeout)

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
        with self.conn.sequence_lock:
            self.conn.sequence_window["high"] += credits
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
            and data_offset + data_length == length
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
        pad = bytearray(data_offset - 80)
        target = slot.buffer[:data_length]
        if not (self._read_exact(memoryview(pad), timeout) and self._read_exact(target, timeout)):
            self._fail_reads(errors.ConnectionLost("the SMB connection closed"))
            return
        if self.signer.key:
            header = bytes(prefix[4:52]) + b"\0" * 16
            body = memoryview(prefix)[68:84]
            expected = self.signer.signature([header, body, pad, target], message_id, response=True)
            if not flags & FLAG_SIGNED or not hmac.compare_digest(expected, bytes(prefix[52:68])):
                slot.error = errors.ProtocolError("a READ response failed its signature check")
        slot.length = data_length
        slot.done.set()
