"""SMB negotiation: what a server offers before anyone logs on (dialect, signing, encryption, its NetBIOS names),
the algorithms a connection ended up with, SMB1-only servers told apart, and the logon that replaces a dead session
of ours."""

from __future__ import annotations

import os
import socket
import struct
import uuid
from dataclasses import dataclass
from typing import Any

from smbprotocol.connection import Connection, SecurityMode
from smbprotocol.exceptions import MoreProcessingRequired, SMBConnectionClosed, SMBException, SMBResponseException
from smbprotocol.session import Session, SMB2SessionSetupRequest, SMB2SessionSetupResponse

from share import errors, ntlminfo
from share.smberrors import smb_errors

DIALECTS = {0x0202: "2.0.2", 0x0210: "2.1", 0x0300: "3.0", 0x0302: "3.0.2", 0x0311: "3.1.1"}

_SIGNING_NAMES = {0: "HMAC-SHA256", 1: "AES-128-CMAC", 2: "AES-128-GMAC"}
_CIPHER_NAMES = {1: "AES-128-CCM", 2: "AES-128-GCM", 3: "AES-256-CCM", 4: "AES-256-GCM"}


def signing_algorithm(conn: Any) -> str:
    """The algorithm that signs this connection's messages (MS-SMB2 3.1.4.1): HMAC-SHA256 for SMB 2.x, AES-128-CMAC
    for 3.0 and 3.0.2, and for 3.1.1 what SIGNING_CAPABILITIES negotiated (AES-128-CMAC when it was not)."""
    if conn.dialect < 0x0300:
        return "HMAC-SHA256"
    if conn.dialect >= 0x0311 and conn.signing_algorithm_id is not None:
        return _SIGNING_NAMES.get(int(conn.signing_algorithm_id), hex(int(conn.signing_algorithm_id)))
    return "AES-128-CMAC"


def cipher(conn: Any) -> str:
    """The encryption algorithm of this connection: negotiated in 3.1.1, AES-128-CCM in 3.0 and 3.0.2."""
    if conn.dialect >= 0x0311 and conn.cipher_id:
        return _CIPHER_NAMES.get(int(conn.cipher_id), hex(int(conn.cipher_id)))
    return "AES-128-CCM"


@dataclass(frozen=True)
class Negotiated:
    """What an SMB server offers before anyone logs on."""

    dialect: str
    signing_enabled: bool
    signing_required: bool
    encryption: bool
    server_names: ntlminfo.ServerNames | None = None  # from the NTLM CHALLENGE; None when the server gave none


def _log_on_replacing(conn: Connection, username: str, password: str, previous: int) -> None:
    """Log on over ``conn`` with PreviousSessionId = ``previous`` in the SESSION_SETUP requests (MS-SMB2 2.2.5,
    3.3.5.5.3: the server closes that earlier session of the same user). smbprotocol has no parameter for it,
    so its send is wrapped for the duration of the logon; register_session then finds this session."""
    original = conn.send

    def send(message: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(message, SMB2SessionSetupRequest):
            message["previous_session_id"] = previous
        return original(message, *args, **kwargs)

    session = Session(conn, username=username, password=password, require_encryption=False)
    conn.send = send
    try:
        session.connect()
    finally:
        del conn.send


def _server_names(conn: Connection) -> ntlminfo.ServerNames | None:
    """Send a bare NTLM NEGOTIATE (no credential) and read the server's names from its CHALLENGE."""
    request = SMB2SessionSetupRequest()
    request["security_mode"] = conn.client_security_mode
    request["buffer"] = ntlminfo.NEGOTIATE
    sent = conn.send(request, credit_request=1)
    try:
        response = conn.receive(sent)
    except MoreProcessingRequired as exc:  # the CHALLENGE comes with STATUS_MORE_PROCESSING_REQUIRED
        response = exc.header
    except SMBResponseException:  # no NTLM here (Kerberos only): no names
        return None
    setup = SMB2SessionSetupResponse()
    setup.unpack(response["data"].get_value())
    return ntlminfo.names_from_challenge(setup["buffer"].get_value())


def negotiate(host: str, port: int = 445, timeout: float = 5.0) -> Negotiated:
    """Negotiate only (no logon): the dialect and signing the server offers, and its NetBIOS names from an NTLM
    CHALLENGE (no credential is sent). Raises CannotConnect, TimedOut."""
    where = f"{host}:{port}"
    with smb_errors(where, host, port, None, None):
        conn = Connection(uuid.uuid4(), host, port, require_signing=False)
        conn._receive_timeout = max(int(timeout), 1)
        _negotiate(conn, host, port, timeout)
        try:
            mode = int(conn.server_security_mode or 0)
            return Negotiated(
                dialect=DIALECTS.get(conn.dialect, hex(conn.dialect)),
                signing_enabled=bool(mode & SecurityMode.SMB2_NEGOTIATE_SIGNING_ENABLED),
                signing_required=bool(mode & SecurityMode.SMB2_NEGOTIATE_SIGNING_REQUIRED),
                encryption=bool(conn.supports_encryption),
                server_names=_server_names(conn),
            )
        finally:
            conn.disconnect()


def _negotiate(conn: Connection, host: str, port: int, timeout: float) -> None:
    """``conn.connect``; when the server drops the SMB2 negotiate, find out whether it speaks only SMB1."""
    try:
        conn.connect(timeout=timeout)
    except (SMBConnectionClosed, SMBException) as exc:
        if _speaks_only_smb1(host, port, timeout):
            raise errors.Smb1Only(
                f"{host}:{port} speaks only SMB1 (it dropped the SMB2 negotiate and answered an SMB1 one); "
                "WinRE has no SMB1 client"
            ) from exc
        raise


def _speaks_only_smb1(host: str, port: int, timeout: float) -> bool:
    """Send an SMB1 NEGOTIATE offering only "NT LM 0.12"; True when the answer is an SMB1 message."""
    header = struct.pack(
        "<4sBIBHH8sHHHHH", b"\xffSMB", 0x72, 0, 0x18, 0xC853, 0, b"\0" * 8, 0, 0xFFFF, os.getpid() & 0xFFFF, 0, 0
    )
    dialects = b"\x02NT LM 0.12\x00"
    message = header + struct.pack("<BH", 0, len(dialects)) + dialects
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(struct.pack(">I", len(message)) + message)
            reply = b""
            while len(reply) < 8:
                chunk = sock.recv(8 - len(reply))
                if not chunk:
                    return False
                reply += chunk
    except OSError:
        return False
    return reply[4:8] == b"\xffSMB"


def _resolve(host: str, port: int) -> str:
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise errors.CannotConnect(
            f"cannot resolve '{host}': {exc.strerror}",
            hint="Use the file server's IP address (WinRE usually has no DNS either).",
        ) from exc
    return str(info[0][4][0])
