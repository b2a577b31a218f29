"""Account names and passwords. A password is a :class:`Secret`: it never shows in reprs, logs or tracebacks."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass(frozen=True)
class SshOptions:
    """How to verify an SSH server and who we are. Host keys: known_hosts, or one pinned SHA256 fingerprint."""

    known_hosts: Path | None = None
    host_key: str | None = None
    key_files: tuple[Path, ...] = field(default_factory=tuple)
    use_agent: bool = True


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
