"""Location strings: parse what the user typed into one typed value, or refuse with the accepted forms."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from share.errors import InvalidLocation

Scheme = Literal["local", "smb", "sftp", "memory"]

DEFAULT_PORTS: dict[str, int] = {"smb": 445, "sftp": 22}
FORMS = (
    "a local path, \\\\host\\share\\path, smb://[DOMAIN;]user@host[:port]/share/path or sftp://user@host[:port]/path"
)


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
    def windows_share(self) -> bool:
        """True for an SMB share: what WinRE and wbadmin can restore from, reachable as \\\\host\\share."""
        return self.scheme == "smb"

    @property
    def host_is_ip(self) -> bool:
        return self.host is not None and _is_ip(self.host)

    def unc(self, host: str | None = None, subpath: str = "") -> str:
        """The Windows form of an SMB location (or of a folder below it), e.g. ``\\\\10.0.0.5\\restore``; an IPv6
        address in the form Windows parses (``\\\\--1.ipv6-literal.net\\restore``). A UNC path has no port."""
        if self.scheme != "smb":
            raise ValueError("only SMB locations have a UNC form")
        parts = [p for p in (self.path + "/" + subpath).split("/") if p]
        return "\\\\" + "\\".join([windows_host(host or self.host or ""), self.share or "", *parts])

    def child(self, subpath: str) -> Location:
        """This location moved down to ``subpath`` (relative, '/'-separated)."""
        parts = [p for p in subpath.split("/") if p]
        if not parts:
            return self
        if self.scheme == "local":
            return Location("local", str(Path(self.path, *parts)))
        base = self.path.rstrip("/")
        joined = "/".join([base, *parts]) if base else "/".join(parts)
        if self.scheme in ("sftp", "memory") and not joined.startswith("/"):
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
        if self.scheme in ("sftp", "memory"):
            rest = "/" + rest
        return Location(self.scheme, rest, self.host, self.port, self.share, self.user, self.domain)

    def display(self) -> str:
        """What messages show: never holds a secret, because a location never carries one."""
        if self.scheme == "local":
            return self.path
        if self.scheme == "memory":
            return f"memory://{self.host or ''}{self.path}"
        user = ""
        if self.user:
            user = (f"{self.domain};" if self.domain else "") + self.user + "@"
        host = f"[{self.host.replace('%', '%25')}]" if self.host and ":" in self.host else (self.host or "")
        port = f":{self.port}" if self.port and self.port != DEFAULT_PORTS[self.scheme] else ""
        if self.scheme == "smb":
            tail = "/".join(p for p in [self.share or "", self.path] if p)
            return f"smb://{user}{host}{port}/{tail}"
        return f"sftp://{user}{host}{port}{self.path}"

    def __str__(self) -> str:
        return self.display()


IPV6_LITERAL = ".ipv6-literal.net"


def windows_host(host: str) -> str:
    """A host as Windows takes it in a UNC path: an IPv6 address becomes its ``ipv6-literal.net`` name
    (``::1`` -> ``--1.ipv6-literal.net``, ``fe80::1%4`` -> ``fe80--1s4.ipv6-literal.net``); anything else as is."""
    address, _, zone = host.partition("%")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return host
    if ip.version != 6:
        return host
    return address.replace(":", "-") + (f"s{zone}" if zone else "") + IPV6_LITERAL


def host_from_windows(text: str) -> str | None:
    """The address an IPv6 host written the Windows way names (``[::1]``, ``--1.ipv6-literal.net``,
    ``fe80--1s4.ipv6-literal.net``), as ``::1`` or ``fe80::1%4``; None when ``text`` is neither form."""
    if text.startswith("[") and text.endswith("]"):
        candidate = unquote(text[1:-1])
    elif text.lower().endswith(IPV6_LITERAL) and len(text) > len(IPV6_LITERAL):
        name = text[: -len(IPV6_LITERAL)]
        address, _, zone = name.partition("s")
        candidate = address.replace("-", ":") + (f"%{zone}" if zone else "")
    else:
        return None
    address, _, zone = candidate.partition("%")
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return None
    if zone and not re.fullmatch(r"[A-Za-z0-9_.-]+", zone):
        return None
    return str(ip) + (f"%{zone}" if zone else "")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False
    return True


def clean_parts(raw: str, original: str) -> list[str]:
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


def refuse_password(text: str) -> None:
    """Refuse a location with a password written into it, echoing no part of it (the password may hold '/')."""
    rest = text.split("://", 1)[1] if "://" in text else ""
    if "@" in rest and ":" in rest.rsplit("@", 1)[0]:
        raise InvalidLocation(
            "a password seems to be written into the location (user:password@host); bmr never takes one there "
            "and does not repeat the location. Use the BMR_PASSWORD environment variable, --password-file or "
            "the prompt"
        )


def split_url(text: str, default_port: int) -> tuple[str, int, str | None, str | None, list[str]]:
    """(host, port, user, domain, path parts) of ``scheme://[DOMAIN;]user@host[:port]/path``."""
    refuse_password(text)
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError:
        raise InvalidLocation(
            f"cannot read the host or port of {redact(text)}: the port must be a number from 1 to 65535"
        ) from None
    if not url.hostname:
        raise InvalidLocation(f"no host in {redact(text)}; expected {FORMS}")
    user, domain = _split_user(url.username)
    # urlsplit lowercases the host; keep it as typed (a UNC path and its smb:// form must name the same host).
    typed = url.netloc.rsplit("@", 1)[-1]
    host = typed[1:].split("]", 1)[0] if typed.startswith("[") else typed.rsplit(":", 1)[0] if url.port else typed
    if typed.startswith("["):
        host = host_from_windows(typed[: typed.index("]") + 1]) or host
    elif host.lower() != url.hostname:
        host = url.hostname
    host = host_from_windows(host) or host
    return host, port or default_port, user, domain, clean_parts(unquote(url.path), text)


def redact(text: str) -> str:
    """A location as it may be shown: without its user part."""
    return re.sub(r"//[^/@]*@", "//…@", text)


@dataclass(frozen=True)
class Place:
    """Where a location's folder is: a server (None for this machine) and the folders from its root down."""

    server: tuple[str, ...] | None
    parts: tuple[str, ...]


def _host(host: str | None) -> str:
    text = (host or "").strip().rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def place_of(location: Location) -> Place:
    """The folder a location names, spelling aside: a local path resolved (symlinks, ``..``, case on Windows); an
    SMB path as host, port, share and folders without case (SMB names are case-insensitive); an SFTP path as
    host, port and folders. Two places are one folder, or one inside the other, when their parts say so."""
    if location.scheme == "local":
        resolved = os.path.normcase(os.path.realpath(location.path))
        return Place(None, tuple(p for p in resolved.replace("\\", "/").split("/") if p))
    parts = tuple(p for p in location.path.replace("\\", "/").split("/") if p and p != ".")
    port = location.port or DEFAULT_PORTS.get(location.scheme, 0)
    if location.scheme == "smb":
        share = (location.share or "").lower()
        return Place(("smb", _host(location.host), str(port), share), tuple(p.lower() for p in parts))
    if location.scheme == "memory" and not location.host:
        return Place(("memory", f"unnamed-{id(location)}"), parts)  # a store with no name: like no other place
    return Place((location.scheme, _host(location.host), str(port)), parts)
