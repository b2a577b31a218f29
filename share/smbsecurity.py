"""SMB 2/3 message security for the bulk channel: signing (HMAC-SHA256, AES-CMAC, AES-GMAC) over a message given
in parts, and SMB 3.x encryption of whole messages in an SMB2 TRANSFORM_HEADER (AES-128/256-CCM/GCM).

Keys, dialect and negotiated algorithms come from smbprotocol's Connection and Session; the results agree
with smbprotocol's own ``_generate_signature``, ``_encrypt`` and ``_decrypt`` (tests/test_smbbulk.py,
tests/share/test_smb_units.py).
"""

from __future__ import annotations

import hmac
import itertools
import os
import struct
import threading
import weakref
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM

from share import errors

TRANSFORM = struct.Struct("<4s16s16sIHHQ")  # protocol, signature (the AEAD tag), nonce, size, reserved, flags, sid
HMAC_SHA256, AES_CMAC, AES_GMAC = 0, 1, 2
AES_128_CCM, AES_128_GCM, AES_256_CCM, AES_256_GCM = 1, 2, 3, 4
CIPHER_NAMES = {AES_128_CCM: "AES-128-CCM", AES_128_GCM: "AES-128-GCM", AES_256_CCM: "AES-256-CCM",
                AES_256_GCM: "AES-256-GCM"}  # fmt: skip


def cipher_of(connection: Any) -> int:
    """The negotiated cipher: chosen in the 3.1.1 negotiate context, AES-128-CCM on 3.0 and 3.0.2."""
    if connection.dialect >= 0x0311:
        return int(connection.cipher_id or 0)
    return AES_128_CCM


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


class _Nonces:
    """Nonces for one session's encryption key: a random prefix and a counter, so none repeats for the key.
    (smbprotocol draws its own nonces at random from the full width; a clash with ours is as unlikely as a
    clash between two of its own.)"""

    def __init__(self, length: int) -> None:
        self.length = length
        self._prefix = os.urandom(length - 8)
        self._counter = itertools.count(1)

    def next(self) -> bytes:
        return self._prefix + next(self._counter).to_bytes(8, "little")


_NONCES: weakref.WeakKeyDictionary[Any, _Nonces] = weakref.WeakKeyDictionary()
_NONCES_LOCK = threading.Lock()


def _nonces_for(session: Any, length: int) -> _Nonces:
    """One counter per session (per key), shared by every channel that ever encrypts with that key."""
    with _NONCES_LOCK:
        nonces = _NONCES.get(session)
        if nonces is None or nonces.length != length:
            nonces = _NONCES[session] = _Nonces(length)
        return nonces


class Sealer:
    """SMB 3.x message encryption: whole messages in an SMB2 TRANSFORM_HEADER (MS-SMB2 2.2.41, 3.1.4.3)."""

    def __init__(self, connection: Any, session: Any) -> None:
        self.cipher = cipher_of(connection)
        gcm = self.cipher in (AES_128_GCM, AES_256_GCM)
        aead: type[AESGCM] | type[AESCCM] = AESGCM if gcm else AESCCM
        self._gcm = gcm
        self._key = bytes(session.encryption_key)
        self._seal = aead(self._key)
        self._open = aead(bytes(session.decryption_key))
        self.session_id = int(session.session_id)
        self.nonce_length = 12 if gcm else 11
        self._nonces = _nonces_for(session, self.nonce_length)
        self._plain_out = bytearray()
        self._sealed_out = bytearray()
        self._plain_in = bytearray()
        self._cipher_in = bytearray()

    @property
    def name(self) -> str:
        return CIPHER_NAMES[self.cipher]

    def seal(self, parts: Sequence[bytes | bytearray | memoryview]) -> list[memoryview]:
        """The transform header and the ciphertext of the message made of ``parts`` (valid until the next call)."""
        total = sum(len(p) for p in parts)
        if len(self._sealed_out) < total + 16:
            self._sealed_out = bytearray(total + 16)
        nonce = self._nonces.next()
        header = bytearray(TRANSFORM.pack(b"\xfdSMB", b"\0" * 16, nonce.ljust(16, b"\0"), total, 0, 1, self.session_id))
        sealed = memoryview(self._sealed_out)[: total + 16]
        if self._gcm:
            # GCM is a stream mode: encrypt the parts one after the other, no joined copy of the message.
            encryptor = Cipher(algorithms.AES(self._key), modes.GCM(nonce)).encryptor()
            encryptor.authenticate_additional_data(bytes(header[20:]))
            position = 0
            for part in parts:
                position += encryptor.update_into(memoryview(part).cast("B"), sealed[position:])
            encryptor.finalize()
            if position != total:
                raise AssertionError(f"GCM gave {position} of {total} bytes")
            header[4:20] = encryptor.tag
        else:
            if len(self._plain_out) < total:
                self._plain_out = bytearray(total)
            plain = memoryview(self._plain_out)
            position = 0
            for part in parts:
                plain[position : position + len(part)] = memoryview(part).cast("B")
                position += len(part)
            self._seal.encrypt_into(nonce, plain[:total], bytes(header[20:]), sealed)
            header[4:20] = sealed[total:]
        return [memoryview(header), sealed[:total]]

    def buffer(self, size: int) -> memoryview:
        """A receive buffer for ``size`` bytes of ciphertext and the 16-byte tag after it."""
        if len(self._plain_in) < size or len(self._cipher_in) < size + 16:
            self._plain_in = bytearray(size)
            self._cipher_in = bytearray(size + 16)
        return memoryview(self._cipher_in)[: size + 16]

    def open(self, transform: bytes, sealed: memoryview) -> memoryview:
        """Decrypt and authenticate one message: ``sealed`` is ciphertext + tag (from :meth:`buffer`)."""
        _proto, _tag, nonce, size, _r, flags, _sid = TRANSFORM.unpack(transform)
        if flags != 1 or len(sealed) != size + 16:
            raise errors.ProtocolError("an encrypted message from the server has a malformed transform header")
        plain = memoryview(self._plain_in)[:size]
        try:
            self._open.decrypt_into(nonce[: self.nonce_length], sealed, transform[20:], plain)
        except InvalidTag:
            raise errors.ProtocolError("an encrypted message from the server failed its integrity check") from None
        return plain
