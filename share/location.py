"""Location strings: parse what the user typed into one typed value, or refuse with the accepted forms."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from share.errors import InvalidLocation

Scheme = Literal["local", "smb", "sftp"]

DEFAULT_PORTS: dict[str, int] = {"smb": 445, "sftp": 22}
_FORMS = (
    "a local path, \\\\host\\share\\path, smb://[DOMAIN;]user@host[:port]/share/path or sftp://user@host[:port]/path"
)
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Location:
    """Where a tree lives. ``path`` is share-relative for SMB, absolute for SFTP and local; '/'-separated."""

    scheme: Scheme
    path: str
    host: str | None = None
    port: int | None = None
    share: str | None = None
    user: str | None = None
    domain: str | None = None

    @property
    def is_remote(self) -> bool:
        return self.scheme != "local"

    @property
    def host_is_ip(self) -> bool:
        return self.host is not None and _is_ip(self.host)

    def unc(self, host: str | None = None, subpath: str = "") -> str:
        """The Windows form of an SMB location (or of a folder below it), e.g. ``\\\\10.0.0.5\\restore``."""
        if self.scheme != "smb":
            raise ValueError("only SMB locations have a UNC form")
        parts = [p for p in (self.path + "/" + subpath).split("/") if p]
        return "\\\\" + "\\".join([host or self.host or "", self.share or "", *parts])

    def child(self, subpath: str) -> Location:
        """This location moved down to ``subpath`` (relative, '/'-separated)."""
        parts = [p for p in subpath.split("/") if p]
        if not parts:
            return self
        if self.scheme == "local":
            return Location("local", str(Path(self.path, *parts)))
        base = self.path.rstrip("/")
        joined = "/".join([base, *parts]) if base else "/".join(parts)
        if self.scheme == "sftp" and not joined.startswith("/"):
            joined = "/" + joined
        return Location(self.scheme, joined, self.host, self.port, self.share, self.user, self.domain)

    def parent(self, levels: int = 1) -> Location | None:
        """This location ``levels`` folders up; None when that would leave the share (or the file system root)."""
        if self.scheme == "local":
            path = Path(self.path)
            return Location("local", str(path.parents[levels - 1])) if levels <= len(path.parents) else None
        parts = [p for p in self.path.split("/") if p]
        if levels > len(parts):
            return None
        rest = "/".join(parts[: len(parts) - levels])
        if self.scheme == "sftp":
            rest = "/" + rest
        return Location(self.scheme, rest, self.host, self.port, self.share, self.user, self.domain)

    def display(self) -> str:
        """What messages show: never holds a secret, because a location never carries one."""
        if self.scheme == "local":
            return self.path
        user = ""
        if self.user:
            user = (f"{self.domain};" if self.domain else "") + self.user + "@"
        host = f"[{self.host}]" if self.host and ":" in self.host else (self.host or "")
        port = f":{self.port}" if self.port and self.port != DEFAULT_PORTS[self.scheme] else ""
        if self.scheme == "smb":
            tail = "/".join(p for p in [self.share or "", self.path] if p)
            return f"smb://{user}{host}{port}/{tail}"
        return f"sftp://{user}{host}{port}{self.path}"

    def __str__(self) -> str:
        return self.display()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _clean_parts(raw: str, original: str) -> list[str]:
    parts = [p for p in raw.replace("\\", "/").split("/") if p and p != "."]
    if ".." in parts:
        raise InvalidLocation(f"'..' is not allowed in a remote location: {original}")
    if any("\x00" in p for p in parts):
        raise InvalidLocation("a location cannot contain a NUL character")
    return parts


def _split_user(raw: str | None) -> tuple[str | None, str | None]:
    """``DOMAIN;user`` (the smb URL form), ``DOMAIN\\user`` or ``user@domain`` -> (user, domain)."""
    if not raw:
        return None, None
    text = unquote(raw)
    for sep in (";", "\\"):
        if sep in text:
            domain, user = text.split(sep, 1)
            return user or None, domain or None
    return text, None


def parse_location(text: str) -> Location:
    """Parse a location string; raise :class:`InvalidLocation` naming the accepted forms."""
    original = text.strip()
    if not original:
        raise InvalidLocation(f"empty location; expected {_FORMS}")
    if original.startswith("\\\\"):
        return _parse_unc(original)
    if _SCHEME_RE.match(original):
        return _parse_url(original)
    try:
        local = Path(original).expanduser()
    except RuntimeError:
        raise InvalidLocation(f"cannot expand the home folder in {original!r}: no such user") from None
    return Location("local", str(local.absolute()))


def _parse_unc(text: str) -> Location:
    parts = _clean_parts(text[2:], text)
    if len(parts) < 2:
        raise InvalidLocation(f"a UNC path needs a host and a share (\\\\host\\share): {text}")
    host, share, rest = parts[0], parts[1], parts[2:]
    return Location("smb", "/".join(rest), host=host, port=DEFAULT_PORTS["smb"], share=share)


def _parse_url(text: str) -> Location:
    scheme = text.split("://", 1)[0].lower()
    if scheme not in ("smb", "sftp"):
        raise InvalidLocation(f"unsupported scheme '{scheme}://'; expected {_FORMS}")
    # Look for a password before anything else so that no message ever repeats it.
    netloc = text.split("://", 1)[1].split("/", 1)[0]
    if "@" in netloc and ":" in netloc.rsplit("@", 1)[0]:
        raise InvalidLocation(
            "a password was written into the location; bmr never takes one there. "
            "Use the BMR_PASSWORD environment variable, --password-file or the prompt"
        )
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError as exc:
        raise InvalidLocation(f"cannot read the host or port of {_redact(text)}: {exc}") from None
    if not url.hostname:
        raise InvalidLocation(f"no host in {_redact(text)}; expected {_FORMS}")
    user, domain = _split_user(url.username)
    parts = _clean_parts(unquote(url.path), text)
    port = port or DEFAULT_PORTS[scheme]
    if scheme == "smb":
        if not parts:
            raise InvalidLocation(f"an smb:// location needs a share: smb://host/share[/path], got {text}")
        return Location("smb", "/".join(parts[1:]), url.hostname, port, parts[0], user, domain)
    return Location("sftp", "/" + "/".join(parts), url.hostname, port, None, user, domain)


def _redact(text: str) -> str:
    return re.sub(r"//[^/@]*@", "//…@", text)
