"""SFTP servers through paramiko. Unknown host keys are refused; every paramiko exception is mapped in ``_mapped``."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import shlex
import socket
import stat as stat_mod
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paramiko
from paramiko.sftp import CMD_EXTENDED, CMD_EXTENDED_REPLY, CMD_INIT, CMD_VERSION

from share import errors, paths
from share.base import Backend, Caveat, Entry, Features, Kind, SessionFacts, Sink, Source, Space, Stream
from share.credentials import HostKeyPin, PasswordSource, SshOptions
from share.location import DEFAULT_PORTS, Location, split_url

DEFAULT_REQUEST = 32 * 1024  # what every SFTP server takes
MAX_REQUEST = 255 * 1024  # OpenSSH's sftp-server takes messages up to 256 KiB
WINDOW = 16 * 1024 * 1024
PACKET = 256 * 1024
# AES-GCM first: paramiko's per-packet cost is lower with it than with CTR + HMAC (measured 1.6x on loopback).
FAST_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")

_BY_ERRNO: dict[int, type[errors.ShareError]] = {
    errno.ENOENT: errors.NotFound,
    errno.EACCES: errors.AccessDenied,
    errno.EPERM: errors.AccessDenied,
    errno.EEXIST: errors.AlreadyExists,
}


# Every logon failure over SSH gets this hint (never the SMB one about DOMAIN\\user).
SSH_LOGON_HINT = (
    "Check the SSH user in sftp://USER@host (or --user), the key (--ssh-key, the agent, ~/.ssh) and that its public "
    "key is in the user's authorized_keys on the server, or the password the server expects for that user "
    "(BMR_PASSWORD, --password-file or the prompt)."
)
_CUT_OFF_HINT = (
    "sshd allows only a few logon attempts per connection (MaxAuthTries, 6 by default) and every key offered counts: "
    "name the right key with --ssh-key (it is offered first), take unrelated keys out of the agent (ssh-add -D), "
    "or give the password (BMR_PASSWORD or --password-file), which bmr then tries on a fresh connection."
)
_PPK_HINT = (
    "bmr reads OpenSSH private keys: convert it with `puttygen {name} -O private-openssh -o {stem}` (PuTTYgen on "
    "Windows: Conversions > Export OpenSSH key), then pass --ssh-key {stem}."
)


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's form: ``SHA256:`` and unpadded base64 of the key blob's SHA-256."""
    return HostKeyPin.of(key.asbytes())


def _shown(key: paramiko.PKey, pin: HostKeyPin | None) -> str:
    """A key as messages name it: its type and SHA256 fingerprint, and the MD5 one when the pin is written so."""
    text = f"{key.get_name()} key {fingerprint(key)}"
    if pin is not None and pin.algorithm != "sha256":
        text += f" ({HostKeyPin.of(key.asbytes(), pin.algorithm)})"
    return text


class _PinMismatch(Exception):
    """The key the server presented for the negotiated type is not the pinned one (another type may be)."""


class _HostKeyCheck(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]
    """Accept a key only when it matches the pinned fingerprint; otherwise refuse, showing the fingerprint.
    Keys that did not match are kept in ``seen``: the connect tries the server's other key types before refusing."""

    def __init__(self, pin: HostKeyPin | None) -> None:
        self.pin = pin
        self.seen: list[paramiko.PKey] = []

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        if self.pin is None:
            raise errors.HostKeyRejected(f"{hostname} is not in known_hosts; it presented {_shown(key, None)}")
        if self.pin.matches(key.asbytes()):
            return
        self.seen.append(key)
        raise _PinMismatch(hostname)


def _key_family(algorithm: str) -> str:
    """Host key algorithms that sign with the same key: rsa-sha2-512, rsa-sha2-256 and ssh-rsa are one RSA key."""
    return "rsa" if algorithm in ("ssh-rsa", "rsa-sha2-256", "rsa-sha2-512") else algorithm


class _NotSftp(Exception):
    """The SFTP channel carried something other than an SFTP version packet (a login script's text)."""

    def __init__(self, data: bytes) -> None:
        super().__init__("not SFTP")
        self.data = data


class _SftpClient(paramiko.SFTPClient):  # type: ignore[misc]
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
            raise _NotSftp(head + self._more())
        data = self._read_all(size)
        if data[0] != CMD_VERSION:
            raise _NotSftp(head + data[:200])
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


def _banner_error(host: str, data: bytes) -> errors.ProtocolError:
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


class SftpBackend(Backend):
    # durable_sync: through fsync@openssh.com, which OpenSSH offers; a server without it is remembered and skipped.
    features = Features(free_space=True, case_insensitive=False, server_commands=True, durable_sync=True)

    def __init__(self, location: Location, password: PasswordSource, ssh: SshOptions, *, timeout: float = 15.0) -> None:
        if location.scheme != "sftp" or not location.host:
            raise errors.InvalidLocation(f"not an SFTP location: {location}")
        if not location.user:
            raise errors.UsageError(f"no user name for {location}: give sftp://user@host/path")
        self.location = location
        self.host = location.host
        self.port = location.port or 22
        self.timeout = timeout
        self._password = password
        self._ssh = ssh
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._fsync = True
        self._max_read = self._max_write = DEFAULT_REQUEST
        self._extensions: dict[str, str] = {}
        self._space_from: str | None = None  # "statvfs", "df" or "none", once known
        self._caveats: dict[str, Caveat] = {}
        self._host_key_type: str | None = None  # the type whose key matched the pin: tried first on reconnecting
        self.features = SftpBackend.features
        _refuse_putty_keys(ssh.key_files)
        self.connect()

    # -- connection -------------------------------------------------------------------------------------------

    def connect(self) -> None:
        """Connect and authenticate: keys and agent first, then, on a fresh connection and alone, the password
        (when the keys were refused, or the server cut the logon off after too many of them: MaxAuthTries)."""
        self.close()
        with self._mapped(""):
            try:
                client = self._login(password=None)
            except paramiko.SSHException as first:
                if not _needs_password(first):
                    raise
                secret = self._password.get(f"{self.location.user}@{self.host}")
                if secret is None:
                    raise self._no_password(first) from first
                client = self._login(password=secret.reveal())
            self._client = client
            self._sftp = self._open_sftp(client)
            self._sftp.stat(self._abs(""))
            self._max_read, self._max_write = self._limits()

    def _no_password(self, first: paramiko.SSHException) -> errors.AuthenticationFailed:
        who = f"{self.location.user}@{self.host}"
        if _cut_off(first):
            return errors.AuthenticationFailed(
                f"{who}: the server closed the connection after refusing too many keys (its MaxAuthTries), and no "
                "password was given to try",
                hint=_CUT_OFF_HINT,
            )
        return errors.AuthenticationFailed(
            f"{who}: no key or agent identity was accepted and no password was given", hint=SSH_LOGON_HINT
        )

    def _open_sftp(self, client: paramiko.SSHClient) -> paramiko.SFTPClient:
        try:
            sftp = _SftpClient.from_transport(client.get_transport())
        except _NotSftp as exc:
            raise _banner_error(self.host, exc.data) from None
        except paramiko.SSHException as exc:
            if "eof during negotiation" not in str(exc).lower():
                raise
            raise errors.ProtocolError(
                f"{self.host}: the server ended the SFTP session as soon as it started",
                hint="Check `Subsystem sftp` in the server's sshd_config (the path to sftp-server, or internal-sftp) "
                "and any ForceCommand for this user; `sftp USER@host` shows the same.",
            ) from exc
        if sftp is None:
            raise errors.ProtocolError(f"{self.host}: the server refused to start SFTP (no sftp subsystem)")
        sftp.get_channel().settimeout(self.timeout)
        self._extensions = dict(sftp.extensions)
        if self._extensions and "fsync@openssh.com" not in self._extensions:
            # The server named its extensions and fsync is not among them (sftp-server -P fsync leaves it out too).
            self._fsync = False
            self._note_no_fsync(refused=False)
        return sftp

    def _login(self, password: str | None) -> paramiko.SSHClient:
        """One authenticated connection. With a pinned fingerprint, a key that does not match is not the end: the
        server may hold keys of several types (ed25519, ECDSA, RSA) and the pin may be of any of them, so each type
        it offers is asked for in turn (a new connection each, before any logon attempt)."""
        policy = _HostKeyCheck(self._ssh.pin)
        tried: set[str] = set()
        wanted = self._host_key_type
        while True:
            client = self._new_client(policy)
            try:
                self._connect(client, password, wanted)
            except _PinMismatch:
                transport = client.get_transport()
                client.close()
                tried.add(_key_family(getattr(transport, "host_key_type", None) or ""))
                wanted = _next_key_type(transport, tried)
                if wanted is None:
                    raise self._pin_refused(policy) from None
                continue
            except BaseException:
                client.close()
                raise
            transport = client.get_transport()
            self._host_key_type = transport.host_key_type if self._ssh.pin is not None else None
            return client

    def _pin_refused(self, policy: _HostKeyCheck) -> errors.HostKeyRejected:
        seen = ", ".join(_shown(key, policy.pin) for key in policy.seen)
        return errors.HostKeyRejected(
            f"{self.host}:{self.port} presented {seen}, not the pinned {policy.pin}",
            hint="The server's key changed or this is not the server you meant: do not continue until its "
            "administrator confirms the fingerprint (on the server: ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub).",
        )

    def _limits(self) -> tuple[int, int]:
        """(max read, max write) request sizes: OpenSSH says them in limits@openssh.com; others get 32 KiB."""
        try:
            kind, msg = self.sftp._request(CMD_EXTENDED, "limits@openssh.com")
        except (OSError, paramiko.SSHException):
            return DEFAULT_REQUEST, DEFAULT_REQUEST
        if kind != CMD_EXTENDED_REPLY:
            return DEFAULT_REQUEST, DEFAULT_REQUEST
        _packet, read, write = (msg.get_int64() for _ in range(3))
        return (min(read, MAX_REQUEST) or DEFAULT_REQUEST, min(write, MAX_REQUEST) or DEFAULT_REQUEST)

    def _new_client(self, policy: _HostKeyCheck) -> paramiko.SSHClient:
        client = paramiko.SSHClient()
        if self._ssh.host_key is None:  # a pinned fingerprint replaces known_hosts entirely
            known = self._ssh.known_hosts or Path("~/.ssh/known_hosts").expanduser()
            if known.exists():
                client.load_host_keys(str(known))
        client.set_missing_host_key_policy(policy)
        return client

    def _connect(self, client: paramiko.SSHClient, password: str | None, host_key_type: str | None = None) -> None:
        keys = [str(k) for k in self._ssh.key_files]
        try:
            self._client_connect(client, password, keys, host_key_type)
        except paramiko.ssh_exception.IncompatiblePeer as exc:
            raise _no_common_algorithm(self.host, self.port, client.get_transport(), exc) from exc
        except paramiko.SSHException as exc:
            transport = client.get_transport()
            if not isinstance(exc, paramiko.AuthenticationException) and (
                transport is None or not transport.remote_version
            ):
                # The TCP connection opened but no SSH banner came back in time: a hung or wrong service.
                raise errors.TimedOut(
                    f"{self.host}:{self.port} accepted the connection but sent no SSH banner within {self.timeout:g} s"
                ) from exc
            raise

    def _client_connect(
        self, client: paramiko.SSHClient, password: str | None, keys: list[str], host_key_type: str | None = None
    ) -> None:
        # With a password, it alone is offered: keys tried before it would count against the server's MaxAuthTries.
        client.connect(
            transport_factory=functools.partial(_fast_transport, host_key_type=host_key_type),
            hostname=self.host,
            port=self.port,
            username=self.location.user,
            password=password,
            key_filename=(keys or None) if password is None else None,
            allow_agent=self._ssh.use_agent and password is None,
            look_for_keys=not keys and password is None,
            timeout=self.timeout,
            banner_timeout=self.timeout,
            auth_timeout=self.timeout,
            channel_timeout=self.timeout,
        )

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            raise errors.ConnectionLost(f"not connected to {self.host}")
        return self._sftp

    def _abs(self, path: str) -> str:
        parts = [*paths.split(self.location.path), *paths.split(path)]
        return "/" + "/".join(parts)

    def describe(self, path: str = "") -> str:
        return str(self.location.child(path))

    @contextmanager
    def _mapped(self, path: str) -> Iterator[None]:
        """Translate paramiko's and the socket's exceptions; the only place this backend catches them."""
        where = self.describe(path)
        try:
            yield
        except errors.BmrError:
            raise
        except paramiko.BadHostKeyException as exc:
            raise errors.HostKeyRejected(
                f"{self.host} presented key {fingerprint(exc.key)}, "
                f"but known_hosts holds {fingerprint(exc.expected_key)}",
                hint="The server's key changed or this is not the server you meant: confirm with its administrator.",
            ) from exc
        except paramiko.AuthenticationException as exc:
            raise errors.AuthenticationFailed(
                f"{self.location.user}@{self.host} was refused over SSH: {errors.in_words(str(exc))}",
                hint=SSH_LOGON_HINT,
            ) from exc
        except paramiko.SFTPError as exc:
            raise errors.ProtocolError(f"{where}: the SFTP server answered out of turn ({exc})") from exc
        except paramiko.ssh_exception.NoValidConnectionsError as exc:
            raise errors.CannotConnect(f"cannot connect to {self.host}:{self.port}: connection refused") from exc
        except TimeoutError as exc:
            raise errors.TimedOut(f"{where}: no answer within {self.timeout:g} s") from exc
        except socket.gaierror as exc:
            raise errors.CannotConnect(f"cannot resolve '{self.host}': {exc.strerror}") from exc
        except (EOFError, paramiko.SSHException) as exc:
            text = str(exc) or type(exc).__name__
            if _cut_off(exc):
                raise errors.AuthenticationFailed(
                    f"{self.location.user}@{self.host}: the server closed the connection during the logon after "
                    "refusing too many keys (its MaxAuthTries)",
                    hint=_CUT_OFF_HINT,
                ) from exc
            if "private key file" in text.lower():
                raise errors.Unreadable(
                    f"a key file could not be read: {text}",
                    hint="Give --ssh-key an OpenSSH private key (its first line: -----BEGIN OPENSSH PRIVATE KEY-----).",
                ) from exc
            if isinstance(exc, EOFError) or "closed" in text.lower() or "reset" in text.lower():
                raise errors.ConnectionLost(f"the connection to {self.host}:{self.port} dropped") from exc
            raise errors.ProtocolError(f"{where}: {text}") from exc
        except OSError as exc:
            if exc.errno in _BY_ERRNO:
                raise _BY_ERRNO[exc.errno](f"{where}: {exc.strerror}") from exc
            if isinstance(exc, ConnectionError):
                raise errors.ConnectionLost(f"the connection to {self.host}:{self.port} dropped") from exc
            # A bare SSH_FX_FAILURE ("Failure") has no errno: OpenSSH says this on a full disk, among others,
            # so look at the free space before calling it anything else.
            if self._nearly_full(path):
                raise errors.DiskFull(f"{where}: no space left on the server's volume") from exc
            raise errors.ShareError(f"{where}: the server answered '{exc.strerror or exc}'") from exc

    # -- operations --------------------------------------------------------------------------------------------

    def stat(self, path: str) -> Entry:
        with self._mapped(path):
            st = self.sftp.lstat(self._abs(path))
        return _entry(paths.name(path), st)

    def list(self, path: str) -> list[Entry]:
        with self._mapped(path):
            items = self.sftp.listdir_attr(self._abs(path))
        return [_entry(item.filename, item) for item in items]

    def open_read(self, path: str, offset: int = 0) -> Stream:
        with self._mapped(path):
            raw = self.sftp.open(self._abs(path), "rb")
            if offset:
                raw.seek(offset)
        return Stream(raw, self._mapped, path)

    def open_write(self, path: str, offset: int = 0) -> Stream:
        with self._mapped(path):
            if offset:
                raw = self.sftp.open(self._abs(path), "r+b")
                raw.truncate(offset)
                raw.seek(offset)
            else:
                raw = self.sftp.open(self._abs(path), "wb")
            raw.set_pipelined(True)
        return Stream(raw, self._mapped, path)

    def open_sink(self, path: str, offset: int = 0) -> Sink:
        stream = self.open_write(path, offset)
        stream._raw.MAX_REQUEST_SIZE = self._max_write  # type: ignore[attr-defined]  # fewer, larger requests
        return _SftpSink(stream, offset)

    def open_source(self, path: str, offset: int = 0) -> Source:
        with self._mapped(path):
            raw = self.sftp.open(self._abs(path), "rb")
            size = raw.stat().st_size or 0
            if offset:
                raw.seek(offset)
            raw.MAX_REQUEST_SIZE = self._max_read
            raw.prefetch(max(size - offset, 0))
        return Source(Stream(raw, self._mapped, path))

    def reconnect(self) -> None:
        self.connect()

    def sync(self, path: str, *, folder: bool = False) -> None:
        """fsync@openssh.com on a handle of the file; OpenSSH makes renames durable itself (nothing for folders).
        A server without that request, or one that refuses it (sftp-server -P fsync), leaves durability to itself:
        noted once as a caveat, and the copy goes on."""
        if folder or not self._fsync:
            return
        with self._mapped(path):
            handle = self.sftp.open(self._abs(path), "r+")
            try:
                try:
                    self.sftp._request(CMD_EXTENDED, "fsync@openssh.com", handle.handle)
                except OSError as exc:
                    if exc.errno not in (errno.EACCES, errno.EPERM) and "unsupported" not in str(exc).lower():
                        raise  # a real failure to sync (an I/O error on the server) stays an error
                    self._fsync = False
                    self._note_no_fsync(refused=exc.errno in (errno.EACCES, errno.EPERM))
            finally:
                handle.close()

    def _note_no_fsync(self, *, refused: bool) -> None:
        how = "refuses" if refused else "does not offer"
        if "fsync@openssh.com" not in self._extensions:
            how = "does not offer"
        self.features = dataclasses.replace(self.features, durable_sync=False)
        self._caveats.setdefault(
            "durability",
            Caveat(
                "durability",
                f"{self.describe()}: the SFTP server {how} the fsync@openssh.com request, so bmr cannot have the "
                "staged files put on stable storage: their durability is the server's (a power cut on it soon after "
                "the copy may lose data bmr has already verified)",
                "Allow fsync in the server's sftp-server (take it out of its -P list; OpenSSH offers it by default), "
                "or run `sync` on the server after staging and before relying on the copy.",
            ),
        )

    def caveats(self) -> tuple[Caveat, ...]:
        return tuple(self._caveats.values())

    def makedirs(self, path: str) -> None:
        done: list[str] = []
        for part in paths.split(path):
            done.append(part)
            sub = "/".join(done)
            with self._mapped(sub):
                try:
                    st = self.sftp.stat(self._abs(sub))
                except FileNotFoundError:
                    self.sftp.mkdir(self._abs(sub))
                    continue
                if not stat_mod.S_ISDIR(st.st_mode or 0):
                    raise errors.NotADirectory(f"{self.describe(sub)}: a file stands where a folder is needed")

    def rename(self, src: str, dst: str, *, replace: bool = False) -> None:
        with self._mapped(dst):
            if not replace:
                try:
                    self.sftp.lstat(self._abs(dst))
                except FileNotFoundError:
                    pass
                else:
                    raise errors.AlreadyExists(f"{self.describe(dst)}: already exists")
        with self._mapped(src):
            self.sftp.posix_rename(self._abs(src), self._abs(dst))

    def remove(self, path: str) -> None:
        with self._mapped(path):
            self.sftp.remove(self._abs(path))

    def rmdir(self, path: str) -> None:
        with self._mapped(path):
            self.sftp.rmdir(self._abs(path))

    def space(self, path: str = "") -> Space:
        """statvfs@openssh.com, else `df` through a shell; a server with neither raises SpaceUnknown (remembered:
        later calls do not ask again), and the caveat is noted."""
        with self._mapped(path):
            abspath = self._abs(path)
            refused = False
            if self._space_from in (None, "statvfs"):
                try:
                    found = self._statvfs(abspath)
                except OSError as exc:
                    if exc.errno == errno.ENOENT:
                        raise
                    refused = exc.errno in (errno.EACCES, errno.EPERM)
                else:
                    self._space_from = "statvfs"
                    return found
            if self._space_from in (None, "df"):
                space = self._df(abspath)
                if space is not None:
                    self._space_from = "df"
                    return space
            self._space_from = "none"
        raise self._space_unknown(refused)

    def _space_unknown(self, refused: bool) -> errors.SpaceUnknown:
        caveat = self._caveats.get("free-space")
        if caveat is None:
            how = "refuses" if refused and "statvfs@openssh.com" in self._extensions else "does not offer"
            caveat = Caveat(
                "free-space",
                f"free space on {self.describe()} is unknown: the SFTP server {how} the statvfs@openssh.com request "
                "and runs no `df` for this user (no shell); bmr copies without knowing whether it fits",
                "Allow statvfs in the server's sftp-server (take it out of its -P list), or check the free space on "
                "the server yourself (df -h) against the size of the point before staging.",
            )
            self._caveats["free-space"] = caveat
        return errors.SpaceUnknown(caveat.message, hint=caveat.fix)

    def _nearly_full(self, path: str) -> bool:
        try:
            return self._statvfs(self._abs(paths.parent(path))).free < 1024 * 1024
        except Exception:  # noqa: BLE001 - only a hint for classifying another error
            return False

    def _statvfs(self, abspath: str) -> Space:
        # paramiko has no statvfs: ask OpenSSH's extension directly (11 uint64 in the reply).
        kind, msg = self.sftp._request(CMD_EXTENDED, "statvfs@openssh.com", abspath)
        if kind != CMD_EXTENDED_REPLY:
            raise OSError("statvfs@openssh.com not supported")
        _bsize, frsize, blocks, _bfree, bavail = (msg.get_int64() for _ in range(5))
        return Space(free=frsize * bavail, total=frsize * blocks)

    def _df(self, abspath: str) -> Space | None:
        """`df` through the user's shell; None where there is none (ForceCommand internal-sftp, nologin, a forced
        sftp-server: its input is closed at once so that it ends). Bounded by the timeout."""
        assert self._client is not None
        try:
            stdin, out, _err = self._client.exec_command(f"df -P -B1 -- {shlex.quote(abspath)}", timeout=self.timeout)
            stdin.channel.shutdown_write()
            text = out.read(64 * 1024).decode(errors="replace")
            if not out.channel.status_event.wait(self.timeout) or out.channel.exit_status != 0:
                return None
        except (OSError, EOFError, paramiko.SSHException):
            return None
        try:
            fields = text.splitlines()[-1].split()
            return Space(free=int(fields[3]), total=int(fields[1]))
        except (IndexError, ValueError):
            return None

    def facts(self) -> SessionFacts:
        transport = self._client.get_transport() if self._client else None
        address = None
        if transport is not None:
            address = str(transport.getpeername()[0])
        return SessionFacts(
            protocol="sftp",
            server_address=address,
            port=self.port,
            dialect=transport.remote_version if transport is not None else None,
            signing=True if transport is not None else None,  # SSH authenticates every packet
            encryption=True if transport is not None else None,
            guest=False if transport is not None else None,
            user=self.location.user,
            cipher=(transport.local_cipher or None) if transport is not None else None,
            mac=_mac(transport),
            key_exchange=getattr(transport, "agreed_kex", None),
        )

    def run(self, command: str) -> tuple[int, str]:
        """Run a shell command on the server (for `testparm`, `df`); returns (exit status, stdout)."""
        with self._mapped(""):
            assert self._client is not None
            _in, out, _err = self._client.exec_command(command, timeout=self.timeout)
            text = out.read().decode(errors="replace")
            return out.channel.recv_exit_status(), text

    def close(self) -> None:
        sftp, client = self._sftp, self._client
        self._sftp = self._client = None
        for thing in (sftp, client):
            if thing is not None:
                # closing a dead link must not mask the error that brought us here
                with contextlib.suppress(Exception):
                    thing.close()


class _Transport(paramiko.Transport):  # type: ignore[misc]  # paramiko is untyped
    """paramiko's Transport, keeping what the server offered so that a failed agreement can name both sides, and
    the key exchange agreed on (paramiko keeps only its engine)."""

    offered: dict[str, list[str]] | None = None
    agreed_kex: str | None = None

    def _really_parse_kex_init(self, m: Any, ignore_first_byte: bool = False) -> dict[str, Any]:
        parsed: dict[str, Any] = super()._really_parse_kex_init(m, ignore_first_byte)
        self.offered = parsed
        # paramiko, as a client, takes the first of its own list that the server offers.
        theirs = parsed.get("kex_algo_list") or []
        self.agreed_kex = next((k for k in self.preferred_kex if k in theirs), None)
        return parsed


def _mac(transport: Any) -> str | None:
    """The negotiated MAC; None with an AEAD cipher (AES-GCM, chacha20-poly1305), which authenticates by itself."""
    if transport is None:
        return None
    cipher = str(transport.local_cipher or "")
    if "gcm" in cipher or "poly1305" in cipher:
        return None
    return str(transport.local_mac) if transport.local_mac else None


def _next_key_type(transport: Any, tried: set[str]) -> str | None:
    """The first host key algorithm of ours, offered by the server, of a key not yet seen; None when none is left."""
    offered = set((getattr(transport, "offered", None) or {}).get("server_key_algo_list") or [])
    for algorithm in getattr(transport, "preferred_keys", ()) or ():
        if algorithm in offered and "-cert-" not in algorithm and _key_family(algorithm) not in tried:
            return str(algorithm)
    return None


_AGREEMENTS = (  # (what, the server's list in the KEXINIT, our list on the transport)
    ("ciphers", "server_encrypt_algo_list", "preferred_ciphers"),
    ("MACs", "server_mac_algo_list", "preferred_macs"),
    ("key exchange", "kex_algo_list", "preferred_kex"),
    ("host key types", "server_key_algo_list", "preferred_keys"),
)


def _no_common_algorithm(host: str, port: int, transport: Any, exc: Exception) -> errors.ShareError:
    """Name what the server offers and what bmr (paramiko) supports, for the first list that does not meet."""
    offered = getattr(transport, "offered", None) or {}
    for what, theirs_key, ours_key in _AGREEMENTS:
        theirs = [a for a in offered.get(theirs_key, []) if a]
        ours = list(getattr(transport, ours_key, ()) or ())
        if theirs and ours and not set(theirs) & set(ours):
            return errors.NoCommonAlgorithm(
                f"{host}:{port} and bmr share no SSH {what}: the server offers {', '.join(theirs)}; "
                f"bmr (paramiko) supports {', '.join(ours)}",
                hint=f"add one of bmr's {what} to the server's sshd_config, or use an SMB location instead",
            )
    return errors.NoCommonAlgorithm(f"{host}:{port}: the SSH server and bmr agree on no algorithm ({exc})")


def _fast_transport(sock: Any, host_key_type: str | None = None, **kwargs: Any) -> paramiko.Transport:
    """A Transport with wide windows and AES-GCM preferred (others still offered, for older servers); with
    ``host_key_type``, that host key algorithm asked for first."""
    transport = _Transport(sock, default_window_size=WINDOW, default_max_packet_size=PACKET, **kwargs)
    options = transport.get_security_options()
    offered = tuple(options.ciphers)
    options.ciphers = tuple(c for c in FAST_CIPHERS if c in offered) + tuple(
        c for c in offered if c not in FAST_CIPHERS
    )
    if host_key_type is not None and host_key_type in options.key_types:
        options.key_types = (host_key_type, *(k for k in options.key_types if k != host_key_type))
    return transport


class _SftpSink(Sink):
    """paramiko's pipelined writes, drained every few MiB so that a failure has a known resume point."""

    CHECKPOINT = 32 * 1024 * 1024

    def __init__(self, stream: Stream, offset: int) -> None:
        super().__init__(stream, offset)
        self._confirmed = offset

    def write(self, data: memoryview) -> None:
        self._stream.write(bytes(data))  # paramiko's message packing takes bytes only
        self._position += len(data)
        if self._position - self._confirmed >= self.CHECKPOINT:
            self._drain()

    def _drain(self) -> None:
        # paramiko checks pipelined write replies only now and then and may drop the last ones at close:
        # collect every reply here, so that errors surface and confirmed() is true.
        raw: Any = self._stream._raw
        with self._stream._mapped(self._stream.path):
            while raw._reqs:
                raw.sftp._read_response(raw._reqs.popleft())
        self._confirmed = self._position

    def confirmed(self) -> int:
        return self._confirmed

    def close(self) -> None:
        self._drain()
        self._stream.close()


def _needs_password(exc: paramiko.SSHException) -> bool:
    """True when the keys were refused (or the server cut the logon off) and a password may still get in."""
    if isinstance(exc, paramiko.BadHostKeyException):
        return False
    return (
        isinstance(exc, paramiko.AuthenticationException)
        or "no authentication methods" in str(exc).lower()
        or _cut_off(exc)
    )


def _cut_off(exc: BaseException) -> bool:
    """paramiko's words when the server closed the connection in the middle of the logon: sshd does this after
    MaxAuthTries refused attempts, and paramiko then reports only that it has no session."""
    return "no existing session" in str(exc).lower()


def _refuse_putty_keys(key_files: tuple[Path, ...]) -> None:
    """A PuTTY key (.ppk) is explained before connecting: paramiko reads only OpenSSH and PEM keys, and would
    otherwise end in a refused logon that looks like the server's doing."""
    for path in key_files:
        try:
            with open(path, "rb") as handle:
                head = handle.read(32)
        except OSError:
            continue  # the connect names an unreadable key file itself
        if head.startswith(b"PuTTY-User-Key-File-"):
            stem = path.with_suffix("") if path.suffix.lower() == ".ppk" else path.with_name(path.name + "-openssh")
            raise errors.Unreadable(
                f"{path} is a PuTTY private key (.ppk), which bmr cannot use",
                hint=_PPK_HINT.format(name=path, stem=stem),
            )


def _entry(name: str, st: Any) -> Entry:
    mode = st.st_mode or 0
    if stat_mod.S_ISDIR(mode):
        kind = Kind.DIR
    elif stat_mod.S_ISREG(mode):
        kind = Kind.FILE
    else:
        kind = Kind.OTHER
    return Entry(name, kind, int(st.st_size or 0) if kind is Kind.FILE else 0, st.st_mtime)


def parse_url(text: str) -> Location:
    """``sftp://user@host[:port]/path`` as a location."""
    host, port, user, domain, parts = split_url(text, DEFAULT_PORTS["sftp"])
    return Location("sftp", "/" + "/".join(parts), host, port, None, user, domain)
