"""The file server's NetBIOS names from an NTLM CHALLENGE (MS-NLMP 2.2.1.2), raw or wrapped, and nothing from junk."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from share.ntlminfo import NEGOTIATE, ServerNames, names_from_challenge


def _challenge(pairs: list[tuple[int, str]]) -> bytes:
    info = b"".join(struct.pack("<HH", i, len(v.encode("utf-16-le"))) + v.encode("utf-16-le") for i, v in pairs)
    info += struct.pack("<HH", 0, 0)
    head = bytearray(56)
    head[0:12] = b"NTLMSSP\x00" + struct.pack("<I", 2)
    struct.pack_into("<HHI", head, 40, len(info), len(info), 56)
    return bytes(head) + info


def test_names_from_a_raw_challenge() -> None:
    token = _challenge([(2, "CORP"), (1, "FILESRV01"), (4, "corp.example"), (3, "filesrv01.corp.example")])
    assert names_from_challenge(token) == ServerNames("FILESRV01", "CORP")


def test_names_from_a_challenge_inside_spnego() -> None:
    wrapped = b"\xa1\x81\xb5\x30\x81\xb2\xa0\x03\x0a\x01\x01\xa2\x81\xa4\x04\x81\xa1" + _challenge([(1, "BMRFILES")])
    assert names_from_challenge(wrapped) == ServerNames("BMRFILES", None)


@pytest.mark.parametrize("token", [b"", b"NTLMSSP\x00\x02\x00\x00\x00", NEGOTIATE, _challenge([(7, "x")])])
def test_nothing_from_what_holds_no_names(token: bytes) -> None:
    assert names_from_challenge(token) is None


@given(st.binary(max_size=300))
def test_never_raises(data: bytes) -> None:
    names_from_challenge(b"NTLMSSP\x00\x02\x00\x00\x00" + data)
