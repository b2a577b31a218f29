"""Account names and passwords. A password is a :class:`Secret`: it never shows in reprs, logs or tracebacks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from share.errors import UsageError

DEFAULT_PASSWORD_ENV = "BMR_PASSWORD"


class Secret:
    """A string that refuses to be shown. ``reveal()`` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __reduce__(self) -> str:
        raise TypeError("a Secret cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))


@dataclass(frozen=True)
class Account:
    """A user as Windows names it: ``DOMAIN\\user``, ``SERVER\\user`` or ``user@domain``."""

    user: str
    domain: str | None = None
    upn: bool = False

    @classmethod
    def parse(cls, text: str, domain: str | None = None) -> Account:
        text = text.strip()
        if not text:
            raise UsageError("an empty user name was given")
        if "\\" in text:
            dom, user = text.split("\\", 1)
            return cls(user, dom or None)
        if ";" in text:
            dom, user = text.split(";", 1)
            return cls(user, dom or None)
        if "@" in text and domain is None:
            user, dom = text.rsplit("@", 1)
            return cls(user, dom, upn=True)
        return cls(text, domain)

    @property
    def qualified(self) -> bool:
        """True when Windows can place the account: DOMAIN\\user, SERVER\\user or user@domain."""
        return self.domain is not None

    def windows(self) -> str:
        """The form wbadmin and `net use /user:` expect."""
        if self.upn:
            return f"{self.user}@{self.domain}"
        return f"{self.domain}\\{self.user}" if self.domain else self.user


_HEX_PAIRS = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){15}$")
_HEX_PLAIN = re.compile(r"^[0-9a-f]{32}$")
_PIN_FORMS = "SHA256:<base64> as ssh-keygen -l prints it (the prefix and the '=' padding optional) or MD5:aa:bb:…"


@dataclass(frozen=True)
class HostKeyPin:
    """One expected SSH host key fingerprint, in any form OpenSSH and PuTTY print: ``SHA256:`` + base64 (the prefix
    optional, '=' padding optional), or MD5 as ``MD5:aa:bb:…``, bare colon hex or 32 hex digits."""

    algorithm: Literal["sha256", "md5"]
    digest: bytes

    @classmethod
    def parse(cls, text: str) -> HostKeyPin:
        """Raises UsageError for a text that is no fingerprint (naming the accepted forms, not echoing a secret:
        a fingerprint is public)."""
        given = text.strip()
        lowered = given.lower()
        if lowered.startswith("md5:"):
            return cls._md5(given[4:], text)
        if _HEX_PAIRS.match(lowered) or _HEX_PLAIN.match(lowered):
            return cls._md5(given, text)
        body = given[7:] if lowered.startswith("sha256:") else given
        body = body.rstrip("=").replace("-", "+").replace("_", "/")  # the URL-safe alphabet too
        try:
            digest = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != hashlib.sha256().digest_size:
            raise UsageError(f"--ssh-host-key {given!r} is not a host key fingerprint: give {_PIN_FORMS}")
        return cls("sha256", digest)

    @classmethod
    def _md5(cls, hex_text: str, original: str) -> HostKeyPin:
        plain = hex_text.strip().replace(":", "")
        if not _HEX_PLAIN.match(plain.lower()):
            raise UsageError(f"--ssh-host-key {original.strip()!r} is not an MD5 fingerprint: give {_PIN_FORMS}")
        return cls("md5", bytes.fromhex(plain))

    def matches(self, key_blob: bytes) -> bool:
        """True when ``key_blob`` (the public key in SSH wire form) has this fingerprint."""
        return hashlib.new(self.algorithm, key_blob).digest() == self.digest

    def __str__(self) -> str:
        if self.algorithm == "md5":
            return "MD5:" + ":".join(f"{b:02x}" for b in self.digest)
        return "SHA256:" + base64.b64encode(self.digest).decode().rstrip("=")

    @staticmethod
    def of(key_blob: bytes, algorithm: Literal["sha256", "md5"] = "sha256") -> str:
        """The fingerprint of ``key_blob`` as OpenSSH prints it with ``algorithm``."""
        return str(HostKeyPin(algorithm, hashlib.new(algorithm, key_blob).digest()))


@dataclass(frozen=True)
class SshOptions:
    """How to verify an SSH server and who we are. Host keys: known_hosts, or one pinned fingerprint (any form
    :class:`HostKeyPin` reads; checked when the options are made, so a malformed pin is a usage error at once)."""

    known_hosts: Path | None = None
    host_key: str | None = None
    key_files: tuple[Path, ...] = field(default_factory=tuple)
    use_agent: bool = True

    def __post_init__(self) -> None:
        if self.host_key is not None:
            HostKeyPin.parse(self.host_key)

    @property
    def pin(self) -> HostKeyPin | None:
        return HostKeyPin.parse(self.host_key) if self.host_key is not None else None


class PasswordSource:
    """Where a password comes from: an environment variable, a file, or a hidden prompt; asked once, lazily."""

    def __init__(
        self,
        env: str = DEFAULT_PASSWORD_ENV,
        file: Path | None = None,
        prompt: Callable[[str], str] | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.env = env
        self.file = file
        self._prompt = prompt
        self._warn = warn
        self._cached: Secret | None = None

    def __repr__(self) -> str:
        return f"PasswordSource(env={self.env!r}, file={self.file!r})"

    def get(self, purpose: str) -> Secret | None:
        """The password, or None when no source holds one and no prompt is possible."""
        if self._cached is not None:
            return self._cached
        value: str | None = None
        if self.file is not None:
            value = read_password_file(self.file, self._warn)
        elif self.env and os.environ.get(self.env):
            value = os.environ[self.env]
        elif self._prompt is not None:
            value = self._prompt(purpose)
        if value is None:
            return None
        self._cached = Secret(value)
        return self._cached

    def require(self, purpose: str) -> Secret:
        secret = self.get(purpose)
        if secret is None:
            raise UsageError(
                f"no password for {purpose}: set the {self.env} environment variable, "
                "pass --password-file, or run on a terminal to be prompted"
            )
        return secret


def read_password_file(path: Path, warn: Callable[[str], None] | None = None) -> str:
    """The first line of ``path`` (UTF-8, a BOM allowed). Raises UsageError for an unreadable, non-UTF-8 or empty
    file; calls ``warn`` when others may read it. The error never quotes the file's content."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the password file {path}: {exc.strerror}") from None
    if mode & 0o004 and warn is not None:
        warn(f"the password file {path} can be read by every user of this machine: chmod 600 it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"the password file {path} is not UTF-8 text (byte {exc.start + 1} is not): save it as UTF-8"
        ) from None
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first:
        raise UsageError(f"the password file {path} is empty or its first line is: write the password on it")
    return first
