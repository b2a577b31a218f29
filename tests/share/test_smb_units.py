"""The bulk channel's encryption agrees with smbprotocol's own, for every cipher and in both directions; nonces
never repeat for a key; request sizes follow credits; library exceptions map to named errors."""

from __future__ import annotations

import os
import struct
from types import SimpleNamespace
from typing import Any

import pytest
from smbprotocol.connection import Connection, SMB2TransformHeader
from smbprotocol.exceptions import SMBOSError, SMBResponseException
from smbprotocol.header import SMB2HeaderResponse

from share import errors
from share.smb import smb_errors
from share.smbbulk import charge_for
from share.smbsecurity import AES_128_CCM, AES_128_GCM, AES_256_CCM, AES_256_GCM, CIPHER_NAMES, Sealer


class _Session(SimpleNamespace):
    """Stands in for smbprotocol's Session: weakly referenced and hashed by identity, like it."""

    __hash__ = object.__hash__


def _pair(dialect: int, cipher: int) -> tuple[Any, Any]:
    """An smbprotocol Connection with just the fields its _encrypt/_decrypt read, and a matching session."""
    key_size = 32 if cipher in (AES_256_CCM, AES_256_GCM) else 16
    session = _Session(
        session_id=int.from_bytes(os.urandom(8), "little"),
        encryption_key=os.urandom(key_size),
        decryption_key=os.urandom(key_size),
    )
    conn = Connection.__new__(Connection)
    conn.dialect = dialect
    conn.cipher_id = cipher
    conn.session_table = {session.session_id: session}
    return conn, session


CASES = [(0x0311, c) for c in CIPHER_NAMES] + [(0x0300, AES_128_CCM), (0x0302, AES_128_CCM)]


@pytest.mark.parametrize(("dialect", "cipher"), CASES, ids=lambda v: CIPHER_NAMES.get(v, hex(v)))
def test_sealed_requests_open_with_smbprotocol(dialect: int, cipher: int) -> None:
    conn, session = _pair(dialect, cipher)
    # What we send, smbprotocol (standing in for the server) decrypts with the same key.
    peer = SimpleNamespace(**{**vars(session), "decryption_key": session.encryption_key})
    conn.session_table = {session.session_id: peer}
    sealer = Sealer(conn, session)
    parts = [b"\xfeSMB" + os.urandom(60), os.urandom(48), memoryview(os.urandom(200_001))]
    header, body = sealer.seal(parts)
    message = SMB2TransformHeader()
    message.unpack(bytes(header) + bytes(body))
    assert conn._decrypt(message) == b"".join(bytes(p) for p in parts)


@pytest.mark.parametrize(("dialect", "cipher"), CASES, ids=lambda v: CIPHER_NAMES.get(v, hex(v)))
def test_smbprotocol_sealed_responses_open_here(dialect: int, cipher: int) -> None:
    conn, session = _pair(dialect, cipher)
    peer = SimpleNamespace(**{**vars(session), "encryption_key": session.decryption_key})
    plain = b"\xfeSMB" + os.urandom(100_000)
    sealed = conn._encrypt(plain, peer).pack()
    sealer = Sealer(conn, session)
    buffer = sealer.buffer(len(sealed) - 52)
    buffer[: len(sealed) - 52] = sealed[52:]
    buffer[len(sealed) - 52 :] = sealed[4:20]
    assert bytes(sealer.open(sealed[:52], buffer)) == plain
    # One flipped bit anywhere fails the integrity check, as a named protocol error.
    buffer[1000] ^= 1
    with pytest.raises(errors.ProtocolError, match="integrity"):
        sealer.open(sealed[:52], buffer)


@pytest.mark.parametrize("cipher", [AES_128_GCM, AES_128_CCM])
def test_nonces_never_repeat_for_a_session(cipher: int) -> None:
    conn, session = _pair(0x0311, cipher)
    first, second = Sealer(conn, session), Sealer(conn, session)  # a channel reopened on the same session
    seen = set()
    for sealer in (first, second, first):
        for _ in range(500):
            header, _body = sealer.seal([b"x" * 100])
            nonce = bytes(header[20:36])
            assert nonce not in seen
            assert nonce[sealer.nonce_length :] == b"\0" * (16 - sealer.nonce_length)
            seen.add(nonce)


def test_credit_charge() -> None:
    assert [charge_for(n, True) for n in (1, 65536, 65537, 4 << 20, 8 << 20)] == [1, 1, 2, 64, 128]
    assert charge_for(65536, False) == 0  # SMB 2.0.2: no CreditCharge


def _response(status: int) -> SMBResponseException:
    header = SMB2HeaderResponse()
    header["status"] = status
    header["data"] = b"\0" * 9
    return SMBResponseException(header)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (_response(0xC0000418), errors.NtlmBlocked),  # STATUS_NTLM_BLOCKED: no name in smbprotocol's enum
        (SMBOSError(0xC0000418, "x"), errors.NtlmBlocked),
        (struct.error("unpack requires a buffer of 4 bytes"), errors.ProtocolError),
        (ValueError("16 is not a valid Commands"), errors.ProtocolError),
        (KeyError(347), errors.ProtocolError),
    ],
)
def test_library_exceptions_map(exc: BaseException, expected: type[errors.ShareError]) -> None:
    with pytest.raises(expected) as info, smb_errors("\\\\h\\s\\f", "h", 445, "D\\u", "s"):
        raise exc
    assert type(info.value) is expected and not info.value.retryable
    if expected is errors.NtlmBlocked:
        assert "the server refuses NTLM, and WinRE can log on with nothing else" in str(info.value)


def test_hints_name_no_missing_options() -> None:
    for cls in (errors.ProtocolError, errors.Smb1Only, errors.NtlmBlocked, errors.NameRefused):
        hint = cls("x").hint
        assert hint and "--debug" not in hint and " -v" not in hint
    assert issubclass(errors.NtlmBlocked, errors.AuthenticationFailed)
    for name in ("NtlmBlocked", "NameRefused", "Smb1Only"):
        assert name in (errors.__doc__ or "")
