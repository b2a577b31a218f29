"""The project's one error tree. Every library exception that can reach a user becomes one of these.

::

    BmrError                       anything bmr reports instead of a traceback
    ├── UsageError                 the user's words are off (bad location, no password source)
    │   ├── InvalidLocation
    │   └── Unsupported            the location cannot do what was asked (e.g. run a command on its server)
    ├── Unreadable                 an input file of the user's cannot be used (a drill inventory, a password file)
    └── ShareError                 a location could not be used as asked
        ├── CannotConnect          no TCP connection (refused, unreachable, DNS)
        │   └── TimedOut           the server stopped answering in time      (retryable)
        ├── ConnectionLost         an open connection dropped mid-operation  (retryable)
        ├── AuthenticationFailed   credentials refused
        │   ├── GuestRefused       the server offered only a guest session (Windows refuses those)
        │   └── NtlmBlocked        the server refuses NTLM logons (STATUS_NTLM_BLOCKED)
        ├── HostKeyRejected        SSH host key unknown or different from the pinned one
        ├── AccessDenied
        ├── InUse                  the file is held open by another connection (often our own dead one) (retryable)
        ├── ConnectionLimit        the share takes no more connections (max connections, a user limit) (retryable)
        ├── ShareNotFound
        ├── NotFound
        ├── AlreadyExists
        ├── NotADirectory
        ├── NameRefused            the server refuses this file name (Samba `veto files`, reserved names)
        ├── DiskFull               no space or quota exceeded on the target
        ├── SpaceUnknown           the server cannot say how much space is free (the copy goes on without knowing)
        ├── Smb1Only               the server speaks only SMB1, which WinRE (and bmr) do not
        └── ProtocolError          the server answered something we cannot use
            └── NoCommonAlgorithm  SSH: the server and bmr share no cipher, MAC, key exchange or host key type

Whether an error is worth a retry is the ``retryable`` attribute, apart from its kind.
Each class's docstring is its one-line hint of what to do next; ``str(err)`` is the message.
Exit codes are not decided here: ``restore/cli/exitcodes.py`` maps classes to them in one place.
"""

from __future__ import annotations

import re


class BmrError(Exception):
    """Something went wrong."""

    retryable: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else (type(self).__doc__ or "").strip()

    def __str__(self) -> str:
        return self.message


_ERRNO = re.compile(r"^\[Errno -?\d+\]\s*")
_NTSTATUS = re.compile(r"(?:Unknown NtStatus error returned\s*)?'?STATUS_([A-Z0-9_]+)'?")


def in_words(text: str) -> str:
    """A library's reason without its internals: ``[Errno 111] Connection refused`` -> ``connection refused``,
    ``Unknown NtStatus error returned 'STATUS_ACCESS_DENIED'`` -> ``access denied``. The raw text stays on the
    exception chain (shown with -v and in the log file)."""
    text = _ERRNO.sub("", text.strip()).rstrip(".")
    text = _NTSTATUS.sub(lambda m: m.group(1).replace("_", " ").lower(), text)
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


class UsageError(BmrError):
    """Check the command line: `--help` after the command shows the accepted forms."""


class InvalidLocation(UsageError):
    """Accepted: a local path, \\\\host\\share\\path, smb://[DOMAIN;]user@host[:port]/share/path, sftp://user@host[:port]/path."""


class Unsupported(UsageError):
    """Use a location of the kind the command names in its help."""


class Unreadable(BmrError):
    """Correct the file named; nothing was run."""


class ShareError(BmrError):
    """Check the location, the credentials and the server."""


class CannotConnect(ShareError):
    """Check the address and port, that the server runs, and that no firewall blocks it."""


class TimedOut(CannotConnect):
    """The server did not answer in time: check the network path and the server's load, then retry."""

    retryable = True


class ConnectionLost(ShareError):
    """The connection dropped; rerunning continues where it stopped."""

    retryable = True


class AuthenticationFailed(ShareError):
    """Check the user name (DOMAIN\\user or SERVER\\user) and the password; guest logons are refused by Windows."""


class GuestRefused(AuthenticationFailed):
    """Check the user and domain name first; then give the account a password on the server and turn off guest
    access (Samba: map to guest = Never): WinRE refuses insecure guest logons."""


class NtlmBlocked(AuthenticationFailed):
    """Allow NTLMv2 logons on the file server (Windows: "Network security: Restrict NTLM"; Samba: ntlm auth =
    ntlmv2-only) or stage through another server: WinRE has no Kerberos."""


class HostKeyRejected(ShareError):
    """Verify the fingerprint with the server's administrator, then add it to known_hosts or pass --ssh-host-key."""


class AccessDenied(ShareError):
    """Grant this account the needed share and file permissions, or use another account."""


class InUse(ShareError):
    """Another connection holds the file open, most often bmr's own earlier one after the link died: the server lets
    go when it notices (minutes; at once after a restart of the file server's service). Rerun then: the copy resumes."""

    retryable = True


class ConnectionLimit(ShareError):
    """The share takes no more connections (Samba `max connections`, a Windows share's user limit): wait until
    others disconnect, or raise the limit. bmr's own dropped connection counts until the server lets it go."""

    retryable = True


class ShareNotFound(ShareError):
    """Check the share name; `smbclient -L //host -U user` or the server's share list shows the real ones."""


class NotFound(ShareError):
    """Check the path: it does not exist on that location."""


class AlreadyExists(ShareError):
    """Something with that name is already there; remove it or choose another name."""


class NotADirectory(ShareError):
    """A file stands where a folder was expected."""


class NameRefused(ShareError):
    """The server refuses files of this name (Samba `veto files`, or a name Windows reserves); choose another
    name or relax the server's rule."""


class DiskFull(ShareError):
    """Free space on the target (or raise the quota), then rerun: what was written is kept and resumed."""


class SpaceUnknown(ShareError):
    """Let the server report free space (OpenSSH: allow the statvfs@openssh.com request, or a shell with df), or
    check the free space on the server yourself before copying."""


class Smb1Only(ShareError):
    """Turn on SMB 2 or 3 on the server (Samba: server max protocol = SMB3, server min protocol = SMB2_02 or newer):
    WinRE has no SMB1 client, and bmr none either."""


class ProtocolError(ShareError):
    """The server answered in a way bmr cannot use; report it with the server's make and version and this message."""


class NoCommonAlgorithm(ProtocolError):
    """Enable on the server one of the algorithms bmr supports (the message names both sides' lists)."""
