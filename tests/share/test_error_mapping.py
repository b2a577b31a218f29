"""Every library exception that can reach a user comes out as one of ours (share.errors)."""

from __future__ import annotations

import errno
import socket

import paramiko
import pytest
from smbprotocol.exceptions import (
    NtStatus,
    SMBAuthenticationError,
    SMBConnectionClosed,
    SMBException,
    SMBOSError,
)

from restore.cli import exitcodes
from share import errors
from share.connect import Access, open_backend, parse_location
from share.sftp import SftpBackend
from share.smb import SmbBackend
from tests.lib.servers import SambaServer, SshServer

SMB_STATUSES = sorted(v for k, v in vars(NtStatus).items() if k.startswith("STATUS_") and v >= 0xC0000000)


@pytest.fixture
def smb(samba: SambaServer, smb_access: Access) -> SmbBackend:
    backend = open_backend(parse_location(samba.url("data")), smb_access)
    assert isinstance(backend, SmbBackend)
    return backend


@pytest.mark.parametrize("status", SMB_STATUSES, ids=hex)
def test_every_ntstatus_maps(smb: SmbBackend, status: int) -> None:
    with pytest.raises(errors.ShareError), smb._mapped("x"):
        raise SMBOSError(status, "x")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (SMBOSError(NtStatus.STATUS_LOGON_FAILURE, "x"), errors.AuthenticationFailed),
        (SMBOSError(NtStatus.STATUS_ACCESS_DENIED, "x"), errors.AccessDenied),
        (SMBOSError(NtStatus.STATUS_BAD_NETWORK_NAME, "x"), errors.ShareNotFound),
        (SMBOSError(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, "x"), errors.NotFound),
        (SMBOSError(NtStatus.STATUS_OBJECT_NAME_COLLISION, "x"), errors.AlreadyExists),
        (SMBOSError(NtStatus.STATUS_DISK_FULL, "x"), errors.DiskFull),
        (SMBConnectionClosed("gone"), errors.ConnectionLost),
        (SMBAuthenticationError("no"), errors.AuthenticationFailed),
        (SMBException("session was authenticated as a guest"), errors.AuthenticationFailed),
        (SMBException("Connection timeout of 5 seconds exceeded"), errors.TimedOut),
        (SMBException("anything else"), errors.ProtocolError),
        (ValueError("Failed to connect to 'h:445': [Errno 111] Connection refused"), errors.CannotConnect),
        (ValueError("Failed to connect to 'h:445': timed out"), errors.TimedOut),
        (TimeoutError(), errors.TimedOut),
        (ConnectionResetError(errno.ECONNRESET, "reset"), errors.CannotConnect),
    ],
)
def test_smb_classes(smb: SmbBackend, exc: BaseException, expected: type[errors.BmrError]) -> None:
    with pytest.raises(expected), smb._mapped("x"):
        raise exc


@pytest.fixture
def sftp(sshd: SshServer, ssh_access: Access) -> SftpBackend:
    backend = open_backend(parse_location(sshd.url("/tmp")), ssh_access)
    assert isinstance(backend, SftpBackend)
    return backend


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (paramiko.AuthenticationException("no"), errors.AuthenticationFailed),
        (paramiko.ssh_exception.NoValidConnectionsError({("127.0.0.1", 1): OSError()}), errors.CannotConnect),
        (paramiko.SSHException("Socket is closed"), errors.ConnectionLost),
        (paramiko.SSHException("odd"), errors.ProtocolError),
        # a drop seen by another thread than paramiko's reader: a channel send, an SFTP reply awaited (issue 24)
        (OSError("Socket is closed"), errors.ConnectionLost),
        (paramiko.SSHException("Server connection dropped: "), errors.ConnectionLost),
        (EOFError(), errors.ConnectionLost),
        (TimeoutError(), errors.TimedOut),
        (socket.gaierror(-2, "Name or service not known"), errors.CannotConnect),
        (FileNotFoundError(errno.ENOENT, "No such file"), errors.NotFound),
        (PermissionError(errno.EACCES, "Permission denied"), errors.AccessDenied),
        (OSError("Failure"), errors.ShareError),
        (ConnectionResetError(errno.ECONNRESET, "reset"), errors.ConnectionLost),
    ],
)
def test_sftp_classes(sftp: SftpBackend, exc: BaseException, expected: type[errors.BmrError]) -> None:
    with pytest.raises(expected), sftp._mapped("x"):
        raise exc


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.InvalidLocation, 2),
        (errors.UsageError, 2),
        (errors.AuthenticationFailed, 3),
        (errors.CannotConnect, 3),
        (errors.TimedOut, 3),
        (errors.DiskFull, 3),
        (errors.HostKeyRejected, 3),
        (errors.BmrError, 1),
    ],
)
def test_exit_codes(cls: type[errors.BmrError], code: int) -> None:
    assert exitcodes.for_error(cls("x")) == code
    assert exitcodes.for_error(KeyboardInterrupt()) == 130


def test_retryable_is_separate_from_kind() -> None:
    assert errors.ConnectionLost("x").retryable and errors.TimedOut("x").retryable
    assert not errors.AuthenticationFailed("x").retryable and not errors.DiskFull("x").retryable
