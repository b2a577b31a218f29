"""SFTP servers through paramiko. Unknown host keys are refused; every paramiko exception is mapped in ``_mapped``.
Connecting and logging on: share.sshlogin; the SFTP client's start: share.sftpclient; one large file written over
several connections: share.sftpstreams (lanes of share.striped)."""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import errno
import functools
import logging
import shlex
import socket
import stat as stat_mod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import paramiko
from paramiko.sftp import CMD_EXTENDED, CMD_EXTENDED_REPLY

from share import errors, paths
from share.base import Backend, Caveat, Entry, Features, Kind, Release, SessionFacts, Sink, Source, Space, Stream
from share.credentials import PasswordSource, SshOptions
from share.location import DEFAULT_PORTS, Location, split_url
from share.sftpclient import NotSftp, SftpClient, banner_error
from share.sftpstreams import SftpLane, SftpReadLane
from share.sshlogin import CUT_OFF_HINT, SSH_LOGON_HINT, SshLogin, cut_off, fingerprint, negotiated_mac
from share.striped import Lane, ReadLane, StripedSink, StripedSource

DEFAULT_REQUEST = 32 * 1024  # what every SFTP server takes
MAX_REQUEST = 255 * 1024  # OpenSSH's sftp-server takes messages up to 256 KiB

_Extras = list[tuple[paramiko.SSHClient, paramiko.SFTPClient]]  # more connections to the same server

log = logging.getLogger("bmr.sftp")

_BY_ERRNO: dict[int, type[errors.ShareError]] = {
    errno.ENOENT: errors.NotFound,
    errno.EACCES: errors.AccessDenied,
    errno.EPERM: errors.AccessDenied,
    errno.EEXIST: errors.AlreadyExists,
}


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
        # More connections for writing one file over several streams (max_streams), kept for the next files; the
        # number of streams the server allowed when it refused one more, once found.
        self._extra: _Extras = []
        self._stream_limit: int | None = None
        self.features = SftpBackend.features
        self._login = SshLogin(self.host, self.port, location.user, ssh, password, timeout)
        self.connect()

    # -- connection -------------------------------------------------------------------------------------------

    def connect(self) -> None:
        """Connect, authenticate (see :class:`SshLogin`) and start SFTP."""
        self.close()
        with self._mapped(""):
            client = self._login.open()
            self._client = client
            self._sftp = self._open_sftp(client)
            self._sftp.stat(self._abs(""))
            self._max_read, self._max_write = self._limits()

    def _open_sftp(self, client: paramiko.SSHClient) -> paramiko.SFTPClient:
        try:
            sftp = SftpClient.from_transport(client.get_transport())
        except NotSftp as exc:
            raise banner_error(self.host, exc.data) from None
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
    def _mapped(self, path: str, via: paramiko.SFTPClient | None = None) -> Iterator[None]:
        """Translate paramiko's and the socket's exceptions; the only place this backend catches them. ``via``: the
        SFTP session to ask about the free space (a stream's own, on its thread), else the main one."""
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
            if cut_off(exc):
                raise errors.AuthenticationFailed(
                    f"{self.location.user}@{self.host}: the server closed the connection during the logon after "
                    "refusing too many keys (its MaxAuthTries)",
                    hint=CUT_OFF_HINT,
                ) from exc
            if "private key file" in text.lower():
                raise errors.Unreadable(
                    f"a key file could not be read: {text}",
                    hint="Give --ssh-key an OpenSSH private key (its first line: -----BEGIN OPENSSH PRIVATE KEY-----).",
                ) from exc
            if isinstance(exc, EOFError) or any(word in text.lower() for word in ("closed", "reset", "dropped")):
                raise errors.ConnectionLost(f"the connection to {self.host}:{self.port} dropped") from exc
            raise errors.ProtocolError(f"{where}: {text}") from exc
        except OSError as exc:
            if exc.errno in _BY_ERRNO:
                raise _BY_ERRNO[exc.errno](f"{where}: {exc.strerror}") from exc
            # paramiko's "Socket is closed": a channel whose connection died under it (while another thread sent)
            if isinstance(exc, ConnectionError) or (exc.errno is None and "socket is closed" in str(exc).lower()):
                raise errors.ConnectionLost(f"the connection to {self.host}:{self.port} dropped") from exc
            # A bare SSH_FX_FAILURE ("Failure") has no errno: OpenSSH says this on a full disk, among others,
            # so look at the free space before calling it anything else.
            if self._nearly_full(path, via):
                raise errors.DiskFull(f"{where}: no space left on the server's volume") from exc
            if self._space_from == "none":  # it cannot say: the likeliest cause is named, as a guess
                raise errors.ShareError(
                    f"{where}: the server answered '{exc.strerror or exc}'",
                    hint="This server cannot report its free space, and a full disk is the usual cause of this bare "
                    "answer: check the free space on the server (df -h), free some, and rerun (what was written is "
                    "kept).",
                ) from exc
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

    def open_sink(self, path: str, offset: int = 0, *, streams: int = 1) -> Sink:
        extra = self._extra_connections(streams - 1) if streams > 1 else []
        stream = self.open_write(path, offset)
        raw: Any = stream._raw
        raw.MAX_REQUEST_SIZE = self._max_write  # fewer, larger requests
        lanes: builtins.list[Lane] = []
        for client, sftp in extra:
            try:  # the first connection created the file: the others open it without truncating
                file = sftp.open(self._abs(path), "r+b")
            except Exception as exc:  # noqa: BLE001 - one stream fewer, never a failed copy
                mapped = self._as_error(exc)
                if not mapped.retryable:  # a server that will not open a file twice: fewer streams from now on
                    self._stream_limit = 1 + len(lanes)
                log.info("extra stream dropped", extra={"bmr_fields": {"error": f"{type(mapped).__name__}: {mapped}"}})
                self._drop_extra(client)
                continue
            lanes.append(self._lane(file, path, sftp, functools.partial(self._drop_extra, client)))
        if not lanes:
            return _SftpSink(stream, offset)
        return StripedSink([self._lane(raw, path, self.sftp, lambda: None), *lanes], offset, self.timeout)

    def _lane(self, file: Any, path: str, sftp: paramiko.SFTPClient, dead: Callable[[], None]) -> SftpLane:
        """One stream of a striped copy; its errors are mapped with its own session's help (see _mapped)."""
        return SftpLane(file, functools.partial(self._mapped, path, sftp), self._max_write, self.timeout, dead)

    def max_streams(self, wanted: int) -> int:
        """1 + the extra connections this server took (opened now, kept for the copies); a refused one (MaxStartups,
        a per-user limit, a host key that does not match, anything) means fewer streams, remembered."""
        if wanted <= 1 or self._sftp is None:
            return 1
        return 1 + len(self._extra_connections(wanted - 1))

    def _extra_connections(self, count: int) -> _Extras:
        """Up to ``count`` live extra connections, opening what is missing (never more than the server allowed)."""
        for client, _sftp in list(self._extra):
            transport = client.get_transport()
            if transport is None or not transport.is_active():
                self._drop_extra(client)
        if self._stream_limit is not None:
            count = min(count, self._stream_limit - 1)
        while len(self._extra) < count:
            try:
                self._extra.append(self._open_extra())
            except Exception as exc:  # noqa: BLE001 - refused: fewer streams, never a failed copy
                self._stream_limit = 1 + len(self._extra)
                mapped = self._as_error(exc)
                log.info("extra stream refused", extra={"bmr_fields": {"error": f"{type(mapped).__name__}: {mapped}"}})
                break
        return self._extra[:count]

    def _as_error(self, exc: Exception) -> errors.BmrError:
        """``exc`` as the mapping names it."""
        try:
            with self._mapped(""):
                raise exc
        except errors.BmrError as mapped:
            return mapped
        except Exception as other:  # noqa: BLE001 - something the mapping does not know
            return errors.ProtocolError(str(other) or type(other).__name__)

    def _open_extra(self) -> tuple[paramiko.SSHClient, paramiko.SFTPClient]:
        """One more authenticated connection with an SFTP session, checked as the first one was (known_hosts)."""
        client = self._login.open()
        try:
            sftp = SftpClient.from_transport(client.get_transport())
            if sftp is None:
                raise errors.ProtocolError(f"{self.host}: no SFTP session on another connection")
            sftp.get_channel().settimeout(self.timeout)
        except BaseException:
            client.close()
            raise
        return client, sftp

    def _drop_extra(self, client: paramiko.SSHClient) -> None:
        """Forget an extra connection (failed, hung or dropped) and close it; raises nothing."""
        self._extra = [(c, s) for c, s in self._extra if c is not client]
        with contextlib.suppress(Exception):
            client.close()

    def open_source(self, path: str, offset: int = 0, *, streams: int = 1) -> Source:
        if streams > 1 and (extra := self._extra_connections(streams - 1)):
            return self._striped_source(path, offset, extra)
        with self._mapped(path):
            raw = self.sftp.open(self._abs(path), "rb")
            size = raw.stat().st_size or 0
            if offset:
                raw.seek(offset)
            raw.MAX_REQUEST_SIZE = self._max_read
            raw.prefetch(max(size - offset, 0))
        return Source(Stream(raw, self._mapped, path))

    def _striped_source(self, path: str, offset: int, extra: _Extras) -> Source:
        """``path`` read over the main connection and ``extra`` (one stripe each in turn, see share.striped)."""
        with self._mapped(path):
            first = self.sftp.open(self._abs(path), "rb")
            size = int(first.stat().st_size or 0)
        lanes: builtins.list[ReadLane] = [self._read_lane(first, path, self.sftp, lambda: None)]
        for client, sftp in extra:
            try:
                file = sftp.open(self._abs(path), "rb")
            except Exception:  # noqa: BLE001 - one stream fewer (the failure shows on the main one if it is real)
                self._drop_extra(client)
                continue
            lanes.append(self._read_lane(file, path, sftp, functools.partial(self._drop_extra, client)))
        return StripedSource(lanes, offset, size, self.timeout)

    def _read_lane(self, file: Any, path: str, sftp: paramiko.SFTPClient, dead: Callable[[], None]) -> SftpReadLane:
        return SftpReadLane(file, functools.partial(self._mapped, path, sftp), self._max_read, self.timeout, dead)

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

    def _nearly_full(self, path: str, via: paramiko.SFTPClient | None = None) -> bool:
        try:
            return self._statvfs(self._abs(paths.parent(path)), via).free < 1024 * 1024
        except Exception:  # noqa: BLE001 - only a hint for classifying another error
            return False

    def _statvfs(self, abspath: str, via: paramiko.SFTPClient | None = None) -> Space:
        # paramiko has no statvfs: ask OpenSSH's extension directly (11 uint64 in the reply).
        kind, msg = (via or self.sftp)._request(CMD_EXTENDED, "statvfs@openssh.com", abspath)
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
            mac=negotiated_mac(transport),
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
        for extra, _sftp in self._extra:
            self._drop_extra(extra)
        for thing in (sftp, client):
            if thing is not None:
                # closing a dead link must not mask the error that brought us here
                with contextlib.suppress(Exception):
                    thing.close()


class _SftpSink(Sink):
    """paramiko's pipelined writes, drained every few MiB so that a failure has a known resume point."""

    CHECKPOINT = 32 * 1024 * 1024

    def __init__(self, stream: Stream, offset: int) -> None:
        super().__init__(stream, offset)
        self._confirmed = offset

    def write(self, data: memoryview, release: Release | None = None) -> None:
        try:
            self._stream.write(bytes(data))  # paramiko's message packing takes bytes only
        finally:
            if release is not None:
                release()
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
