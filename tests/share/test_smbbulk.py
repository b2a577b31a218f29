"""The bulk channel's signing agrees with smbprotocol's own, for every algorithm, on message parts."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from smbprotocol.connection import Connection

from share.smbbulk import AES_CMAC, AES_GMAC, HMAC_SHA256, Signer


@pytest.mark.parametrize(
    ("dialect", "algorithm"),
    [(0x0311, AES_GMAC), (0x0311, AES_CMAC), (0x0300, None), (0x0210, None)],
)
@pytest.mark.parametrize("response", [False, True])
def test_signatures_match_smbprotocol(dialect: int, algorithm: int | None, response: bool) -> None:
    key = os.urandom(16)
    conn = Connection.__new__(Connection)  # only the fields _generate_signature reads
    conn.dialect = dialect
    conn.signing_algorithm_id = algorithm
    header = bytearray(os.urandom(64))
    header[0:4] = b"\xfeSMB"
    header[48:64] = b"\0" * 16
    body, data = os.urandom(48), os.urandom(100_000)
    message_id = int.from_bytes(os.urandom(6), "little")
    expected = conn._generate_signature(bytes(header) + body + data, key, message_id, response, 9)
    signer = Signer(SimpleNamespace(dialect=dialect, signing_algorithm_id=algorithm),
                    SimpleNamespace(signing_key=key, signing_required=True))  # fmt: skip
    assert signer.algorithm == (
        algorithm if algorithm is not None else (AES_CMAC if dialect >= 0x0300 else HMAC_SHA256)
    )
    assert signer.signature([bytes(header), body, memoryview(data)], message_id, response) == expected
