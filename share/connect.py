"""Pick and open the backend for a location: the one entry point the layers above use, driven by one table."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from share import errors, local, memory
from share.base import Backend
from share.credentials import Account, PasswordSource, SshOptions
from share.location import FORMS, Location

# An SMB2 CREATE carries a path of at most 65,535 bytes of UTF-16; Windows and Linux both allow 255 per name.
LONGEST_LOCATION = 16_383
LONGEST_NAME = 255
_URL_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class Access:
    """Everything needed to reach a location besides the location itself."""

    password: PasswordSource = field(default_factory=PasswordSource)
    ssh: SshOptions = field(default_factory=SshOptions)
    user: str | None = None
    timeout: float = 15.0
    # The TCP port WinRE's net use will reach the file server on, when bmr's own way in is another (a tunnel, a port
    # forward, a test server); None: the location's own port. Only preflight's port check reads it.
    winre_port: int | None = None

    def for_other(self, location: Location) -> Access:
        """This access for a command's second location (a copy's source, the file server over SSH): --user fills in
        a user the location lacks, as for the first; a user it names itself is used, without a conflict."""
        return replace(self, user=None) if location.user else self


@dataclass(frozen=True)
class Scheme:
    """One kind of location: how its URL form parses, how it opens, and what it can tell before a logon."""

    parse_url: Callable[[str], Location] | None
    open: Callable[[Location, Access], Backend]
    negotiate: Callable[[str, int, float], Any] | None = None  # facts the server offers before anyone logs on


# The network backends import their protocol libraries only when a location of theirs is used: a local copy
# does not pay for smbprotocol and paramiko at start-up.
def _smb_url(text: str) -> Location:
    from share.smb import parse_url

    return parse_url(text)


def _smb_unc(text: str) -> Location:
    from share.smb import parse_unc

    return parse_unc(text)


def _smb_open(location: Location, access: Access) -> Backend:
    from share.smb import SmbBackend

    return SmbBackend(location, access.password, timeout=access.timeout)


def _smb_negotiate(address: str, port: int, timeout: float) -> Any:
    from share.smb import negotiate

    return negotiate(address, port, timeout)


def _sftp_url(text: str) -> Location:
    from share.sftp import parse_url

    return parse_url(text)


def _sftp_open(location: Location, access: Access) -> Backend:
    from share.sftp import SftpBackend

    return SftpBackend(location, access.password, access.ssh, timeout=access.timeout)


SCHEMES: dict[str, Scheme] = {
    "smb": Scheme(_smb_url, _smb_open, _smb_negotiate),
    "sftp": Scheme(_sftp_url, _sftp_open),
    "local": Scheme(None, lambda loc, access: local.LocalBackend(loc)),
    "memory": Scheme(memory.parse_url, lambda loc, access: memory.open_location(loc)),  # tests' stand-in server
}


def parse_location(text: str, *, windows: bool = os.name == "nt") -> Location:
    r"""Parse what the user typed: a UNC path, a URL of a scheme in :data:`SCHEMES`, or a local path (with
    ``windows``, the default on Windows, also ``D:\Restore`` and ``\\?\`` long paths). Raises InvalidLocation naming
    the accepted forms."""
    original = text.strip()
    if not original:
        raise errors.InvalidLocation(f"empty location; expected {FORMS}")
    if "\x00" in original:
        raise errors.InvalidLocation("a location cannot contain a NUL character")
    if len(original) > LONGEST_LOCATION:
        raise errors.InvalidLocation(
            f"the location is {len(original)} characters long; a path a share can open has at most {LONGEST_LOCATION}"
        )
    location = _parse(original, windows)
    longest = max((p for p in location.path.split("/")), key=len, default="")
    if len(longest) > LONGEST_NAME:
        raise errors.InvalidLocation(
            f"the name {longest[:24]}… in the location is {len(longest)} characters long; at most {LONGEST_NAME}"
        )
    return location


def _parse(original: str, windows: bool) -> Location:
    if original.startswith("\\\\") and not original.startswith(("\\\\?\\", "\\\\.\\")):
        return _smb_unc(original)
    match = _URL_RE.match(original)
    if match and len(match.group(1)) > 1:  # one letter is a drive (C://...), not a scheme
        scheme = SCHEMES.get(match.group(1).lower())
        if scheme is None or scheme.parse_url is None:
            raise errors.InvalidLocation(f"unsupported scheme '{match.group(1).lower()}://'; expected {FORMS}")
        return scheme.parse_url(original)
    return local.parse_path(original, windows=windows)


def open_backend(location: Location, access: Access) -> Backend:
    """Connect to ``location``. Raises the share.errors classes of the backend's connect; a location whose folder
    is missing is NotFound "... does not exist" whatever the backend (the exit-code contract: 3 everywhere)."""
    if access.user and not location.user:
        # --user DOMAIN\user (or user@domain): the backend parses it the way Windows would.
        location = replace(location, user=access.user, domain=None)
    elif access.user and location.user and not same_user(location, access.user):
        raise errors.UsageError(
            f"two different users: {location.display()} names {_named(location)}, --user names {access.user!r}",
            hint="Give the user once (in the location or with --user), or the same one in both.",
        )
    try:
        backend = SCHEMES[location.scheme].open(location, access)
    except errors.NotFound as exc:
        raise _missing(location) from (exc.__cause__ or exc)
    try:
        backend.stat("")  # some backends open lazily (a local folder): ask once for the folder itself
    except errors.NotFound as exc:
        backend.close()
        raise _missing(location) from (exc.__cause__ or exc)
    except BaseException:
        backend.close()
        raise
    return backend


def _missing(location: Location) -> errors.NotFound:
    return errors.NotFound(
        f"{location.display()} does not exist",
        hint="check the folder in the location (bmr inspect on its parent shows what is there)",
    )


def _named(location: Location) -> str:
    return repr(f"{location.domain}\\{location.user}" if location.domain else location.user)


def same_user(location: Location, user: str) -> bool:
    """Whether ``user`` (as --user gives it) is the account the location names. SMB compares as Windows does
    (DOMAIN\\user, DOMAIN;user and user@domain alike, without case; a domain on one side only is no conflict);
    SFTP compares the names exactly, as sshd does."""
    if location.scheme != "smb":
        return user == location.user
    given = Account.parse(user)
    named = Account.parse(location.user or "", location.domain)
    if given.user.lower() != named.user.lower():
        return False
    return given.domain is None or named.domain is None or given.domain.lower() == named.domain.lower()


def negotiate(location: Location, address: str, timeout: float) -> Any:
    """What the server at ``address`` offers before a logon (SMB: dialect, signing, encryption).
    Raises Unsupported for a kind of location that has no such step, else the backend's connect errors."""
    scheme = SCHEMES[location.scheme]
    if scheme.negotiate is None:
        raise errors.Unsupported(f"{location.display()}: this kind of location has no negotiation to check")
    return scheme.negotiate(address, location.port or 0, timeout)
