"""The file server's NetBIOS names, from the NTLM CHALLENGE it sends before anyone logs on.

WinRE belongs to no domain: a bare user name must be written ``SERVER\\user`` (a local account of the file server)
for ``net use`` and wbadmin. The server names itself in the CHALLENGE's target information (MS-NLMP 2.2.1.2:
MsvAvNbComputerName, MsvAvNbDomainName). smbprotocol keeps its NTLM context local to the logon, so bmr asks once
more, on a negotiated connection, with a bare NTLM NEGOTIATE in a SESSION_SETUP, and reads the answer; no
credential is sent.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SIGNATURE = b"NTLMSSP\x00"
_CHALLENGE = SIGNATURE + struct.pack("<I", 2)
# UNICODE | REQUEST_TARGET | NTLM | ALWAYS_SIGN | EXTENDED_SESSIONSECURITY | TARGET_INFO | 128 | 56
_FLAGS = 0x00000001 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00080000 | 0x00800000 | 0x20000000 | 0x80000000
NEGOTIATE = SIGNATURE + struct.pack("<II", 1, _FLAGS) + bytes(16)  # no domain, no workstation
_NB_COMPUTER, _NB_DOMAIN = 1, 2


@dataclass(frozen=True)
class ServerNames:
    computer: str | None  # the server's NetBIOS computer name: SERVER in SERVER\user
    domain: str | None  # its NetBIOS domain (the computer name again on a standalone server)


def names_from_challenge(token: bytes) -> ServerNames | None:
    """The names in an NTLM CHALLENGE, raw or inside a SPNEGO wrapper; None when there is none or it is malformed."""
    start = token.find(_CHALLENGE)
    if start < 0:
        return None
    message = token[start:]
    if len(message) < 48:
        return None
    length, _max, offset = struct.unpack_from("<HHI", message, 40)
    info = message[offset : offset + length]
    if len(info) < length:
        return None
    found: dict[int, str] = {}
    at = 0
    while at + 4 <= len(info):
        av_id, av_len = struct.unpack_from("<HH", info, at)
        if av_id == 0:
            break
        value = info[at + 4 : at + 4 + av_len]
        if av_id in (_NB_COMPUTER, _NB_DOMAIN) and len(value) == av_len:
            found[av_id] = value.decode("utf-16-le", errors="replace")
        at += 4 + av_len
    if not found:
        return None
    return ServerNames(found.get(_NB_COMPUTER) or None, found.get(_NB_DOMAIN) or None)
