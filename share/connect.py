"""Open the right backend for a location: the one entry point the layers above use."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from share.base import Backend
from share.credentials import PasswordSource
from share.location import Location
from share.sftp import SshOptions


@dataclass(frozen=True)
class Access:
    """Everything needed to reach a location besides the location itself."""

    password: PasswordSource = field(default_factory=PasswordSource)
    ssh: SshOptions = field(default_factory=SshOptions)
    user: str | None = None
    timeout: float = 15.0


def open_backend(location: Location, access: Access) -> Backend:
    """Connect to ``location``. Raises the share.errors classes of the backend's connect."""
    if access.user and not location.user:
        # --user DOMAIN\user (or user@domain): the backend parses it the way Windows would.
        location = replace(location, user=access.user, domain=None)
    if location.scheme == "smb":
        from share.smb import SmbBackend

        return SmbBackend(location, access.password, timeout=access.timeout)
    if location.scheme == "sftp":
        from share.sftp import SftpBackend

        return SftpBackend(location, access.password, access.ssh, timeout=access.timeout)
    from share.local import LocalBackend

    return LocalBackend(location)
