"""SMB errors in the project's words: every smbprotocol exception is classified here, by NTSTATUS where it has one
(smbprotocol's classes are not the usual OSError subclasses), and :func:`smb_errors` is the only place that catches
them."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager

from smbprotocol.exceptions import (
    SMBAuthenticationError,
    SMBConnectionClosed,
    SMBException,
    SMBOSError,
    SMBResponseException,
)

from share import errors

# NTSTATUS -> our class. smbprotocol's own classes are not OSError subclasses (or are, with errno 0),
# so the status code is the only reliable thing to classify by.
_BY_STATUS: dict[int, type[errors.ShareError]] = {
    0xC000006D: errors.AuthenticationFailed,  # STATUS_LOGON_FAILURE
    0xC000006A: errors.AuthenticationFailed,  # STATUS_WRONG_PASSWORD
    0xC000006E: errors.AuthenticationFailed,  # STATUS_ACCOUNT_RESTRICTION
    0xC0000071: errors.AuthenticationFailed,  # STATUS_PASSWORD_EXPIRED
    0xC0000072: errors.AuthenticationFailed,  # STATUS_ACCOUNT_DISABLED
    0xC0000193: errors.AuthenticationFailed,  # STATUS_ACCOUNT_EXPIRED
    0xC0000234: errors.AuthenticationFailed,  # STATUS_ACCOUNT_LOCKED_OUT
    0xC0000022: errors.AccessDenied,  # STATUS_ACCESS_DENIED
    0xC00000A2: errors.AccessDenied,  # STATUS_MEDIA_WRITE_PROTECTED
    0xC0000061: errors.AccessDenied,  # STATUS_PRIVILEGE_NOT_HELD
    0xC0000043: errors.InUse,  # STATUS_SHARING_VIOLATION: often our own dead session still holds the file
    0xC00000CC: errors.ShareNotFound,  # STATUS_BAD_NETWORK_NAME
    0xC000000F: errors.NotFound,  # STATUS_NO_SUCH_FILE
    0xC0000034: errors.NotFound,  # STATUS_OBJECT_NAME_NOT_FOUND
    0xC000003A: errors.NotFound,  # STATUS_OBJECT_PATH_NOT_FOUND
    0xC0000056: errors.NotFound,  # STATUS_DELETE_PENDING
    0xC0000225: errors.NotFound,  # STATUS_NOT_FOUND
    0xC0000035: errors.AlreadyExists,  # STATUS_OBJECT_NAME_COLLISION
    0xC0000101: errors.AlreadyExists,  # STATUS_DIRECTORY_NOT_EMPTY
    0xC0000103: errors.NotADirectory,  # STATUS_NOT_A_DIRECTORY
    0xC000007F: errors.DiskFull,  # STATUS_DISK_FULL
    0xC0000044: errors.DiskFull,  # STATUS_QUOTA_EXCEEDED
    0xC00000B5: errors.TimedOut,  # STATUS_IO_TIMEOUT
    0xC000009A: errors.ConnectionLimit,  # STATUS_INSUFFICIENT_RESOURCES: Samba's answer past `max connections`
    0xC00000D0: errors.ConnectionLimit,  # STATUS_REQUEST_NOT_ACCEPTED: Windows, past a share's user limit
    0xC000020C: errors.ConnectionLost,  # STATUS_CONNECTION_DISCONNECTED
    0xC000023A: errors.ConnectionLost,  # STATUS_CONNECTION_ABORTED
    0xC0000418: errors.NtlmBlocked,  # STATUS_NTLM_BLOCKED (smbprotocol has no name for it: "UNKNOWN_ENUM")
}

_STATUS_NAMES = {
    0xC000006D: "unknown user name or bad password",
    0xC000006A: "wrong password",
    0xC000006E: "account restriction",
    0xC0000071: "password expired",
    0xC0000072: "account disabled",
    0xC0000193: "account expired",
    0xC0000234: "account locked out",
    0xC0000418: "the server refuses NTLM, and WinRE can log on with nothing else",
}


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "ntstatus", None)
    if status is None:
        status = getattr(exc, "status", None)
    return int(status) if isinstance(status, int) else None


@contextmanager
def smb_errors(where: str, host: str, port: int, account: str | None, share: str | None) -> Iterator[None]:
    """Translate smbprotocol's exceptions into share.errors; the only place they are caught."""
    try:
        yield
    except errors.BmrError:
        raise
    except (SMBOSError, SMBResponseException) as exc:
        status = _status_of(exc) or 0
        cls = _BY_STATUS.get(status, errors.ShareError)
        reason = errors.in_words(getattr(exc, "strerror", None) or _first_line(exc))
        if issubclass(cls, errors.AuthenticationFailed):
            raise cls(f"{account} was refused by {host}:{port} ({_STATUS_NAMES.get(status, 'logon failure')})") from exc
        if cls is errors.ShareNotFound:
            raise cls(f"no share '{share}' on {host}") from exc
        if cls is errors.ConnectionLimit:
            raise cls(f"{where}: the share refuses another connection (its connection limit is reached)") from exc
        raise cls(f"{where}: {reason}") from exc
    except SMBAuthenticationError as exc:
        raise errors.AuthenticationFailed(f"{account} was refused by {host}:{port}") from exc
    except SMBConnectionClosed as exc:
        raise errors.ConnectionLost(f"the connection to {host}:{port} dropped") from exc
    except SMBException as exc:
        text = _first_line(exc)
        if "guest" in text.lower():
            # Samba's `map to guest = Bad User` (a common default) turns a name it does not know into a guest: the
            # usual cause is a mistyped user or domain name, not a guest-only share.
            raise errors.GuestRefused(
                f"{host} logged {account} on as a guest instead: the server does not know that account (a mistyped "
                "user or domain name?) or maps failed logons to guest; Windows and WinRE refuse insecure guest "
                "logons"
            ) from exc
        if "timeout" in text.lower():
            raise errors.TimedOut(f"{where}: {text}") from exc
        raise errors.ProtocolError(f"{where}: {text}") from exc
    except ValueError as exc:  # smbprotocol reports TCP connect failures as ValueError
        text = str(exc)
        if not text.startswith("Failed to connect"):
            # Its parsers raise ValueError for values outside their enums (non-conforming servers).
            raise errors.ProtocolError(f"{where}: the server sent something smbprotocol cannot parse ({text})") from exc
        cls2: type[errors.ShareError] = errors.TimedOut if "timed out" in text else errors.CannotConnect
        raise cls2(f"cannot connect to {host}:{port}: {errors.in_words(text.split(': ', 1)[-1])}") from exc
    except (struct.error, KeyError) as exc:  # smbprotocol's parsers, on messages of non-conforming servers
        raise errors.ProtocolError(
            f"{where}: the server sent something smbprotocol cannot parse ({type(exc).__name__}: {exc})"
        ) from exc
    except TimeoutError as exc:
        raise errors.TimedOut(f"{where}: no answer in time") from exc
    except OSError as exc:  # socket-level failures outside smbprotocol's wrapping
        raise errors.CannotConnect(
            f"cannot connect to {host}:{port}: {errors.in_words(exc.strerror or str(exc))}"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]
