"""paramiko's SFTP client with two additions: the extensions the server announces are kept, and text that arrives
before the SFTP version packet (what a login script prints) is told apart from a broken server."""

from __future__ import annotations

import contextlib
import struct

import paramiko
from paramiko.sftp import CMD_INIT, CMD_VERSION

from share import errors


class NotSftp(Exception):
    """The SFTP channel carried something other than an SFTP version packet (a login script's text)."""

    def __init__(self, data: bytes) -> None:
        super().__init__("not SFTP")
        self.data = data


class SftpClient(paramiko.SFTPClient):  # type: ignore[misc]
    """paramiko's SFTP client, keeping the extensions the server announces and telling text before the SFTP
    version packet (what a login script prints) apart from a broken server."""

    extensions: dict[str, str]
    LONGEST_VERSION = 256 * 1024

    def _send_version(self) -> int:
        self.extensions = {}
        message = paramiko.Message()
        message.add_int(3)
        self._send_packet(CMD_INIT, message)
        head = self._read_all(4)
        size = struct.unpack(">I", head)[0]
        if head[0] != 0 or not 5 <= size <= self.LONGEST_VERSION:
            raise NotSftp(head + self._more())
        data = self._read_all(size)
        if data[0] != CMD_VERSION:
            raise NotSftp(head + data[:200])
        reply = paramiko.Message(data[1:])
        version = int(reply.get_int())
        with contextlib.suppress(Exception):  # a malformed extension list only loses the names
            while reply.get_remainder():
                name = reply.get_text()
                self.extensions[name] = reply.get_text()
        return version

    def _more(self, limit: int = 300, wait: float = 0.5) -> bytes:
        """What else arrives within ``wait`` seconds (at most ``limit`` bytes): the rest of a banner, to quote."""
        got = b""
        before = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            while len(got) < limit:
                part = self.sock.recv(limit - len(got))
                if not part:
                    break
                got += part
        except (TimeoutError, OSError, EOFError):
            pass
        finally:
            self.sock.settimeout(before)
        return bytes(got)


def banner_error(host: str, data: bytes) -> errors.ProtocolError:
    # The text ends where binary begins (the server's real SFTP version packet often follows it).
    end = next((i for i, byte in enumerate(data) if byte < 0x20 and byte not in b"\t\r\n"), len(data))
    text = data[:end].decode("utf-8", errors="replace")
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    quoted = " / ".join(lines)[:120] or repr(data[:40])
    return errors.ProtocolError(
        f"{host}: the SFTP subsystem sent text instead of the SFTP protocol: '{quoted}'. Something on the server "
        "prints when a session starts (a login script such as .bashrc or .profile, or a ForceCommand)",
        hint="Make it print only in interactive shells (e.g. first line of .bashrc: `case $- in *i*) ;; *) return;; "
        "esac`), or let sshd serve SFTP itself with `Subsystem sftp internal-sftp` and no printing ForceCommand; "
        "`ssh USER@host true` shows what it prints.",
    )
