"""Reaching an SSH server: the transport (AES-GCM first, wide windows, the negotiated algorithms kept), the host key
check (known_hosts, or a pin of any of the server's key types) and the logon order (keys and agent, then the password
on a fresh connection, alone after a MaxAuthTries cut-off). paramiko's exceptions pass through: share.sftp maps
them in one place."""

from __future__ import annotations

import contextlib
import functools
import socket
from pathlib import Path
from typing import Any

import paramiko

from share import errors
from share.credentials import HostKeyPin, PasswordSource, SshOptions

WINDOW = 16 * 1024 * 1024
PACKET = 256 * 1024
# AES-GCM first: paramiko's per-packet cost is lower with it than with CTR + HMAC (measured 1.6x on loopback).
FAST_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")

# Every logon failure over SSH gets this hint (never the SMB one about DOMAIN\\user).
SSH_LOGON_HINT = (
    "Check the SSH user in sftp://USER@host (or --user), the key (--ssh-key, the agent, ~/.ssh) and that its public "
    "key is in the user's authorized_keys on the server, or the password the server expects for that user "
    "(BMR_PASSWORD, --password-file or the prompt)."
)
CUT_OFF_HINT = (
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


class SshLogin:
    """How to log on to one SSH server; :meth:`open` makes an authenticated connection (again after a drop).
    A PuTTY key is refused when this is made, before any connection."""

    def __init__(
        self, host: str, port: int, user: str, ssh: SshOptions, password: PasswordSource, timeout: float
    ) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.timeout = timeout
        self._ssh = ssh
        self._password = password
        self._host_key_type: str | None = None  # the type whose key matched the pin: asked for first next time
        _refuse_putty_keys(ssh.key_files)

    def open(self) -> paramiko.SSHClient:
        """Keys and agent first; when they are refused, a fresh connection with the password too (alone when the
        server cut the logon off after too many keys: MaxAuthTries)."""
        try:
            return self._login(password=None)
        except paramiko.SSHException as first:
            if not _needs_password(first):
                raise
            secret = self._password.get(f"{self.user}@{self.host}")
            if secret is None:
                raise self._no_password(first) from first
            # After a cut-off the password goes alone (the keys would use up the attempts again); otherwise keys and
            # then the password in one session, which servers asking for both (AuthenticationMethods
            # publickey,password) need.
            return self._login(password=secret.reveal(), offer_keys=not cut_off(first))

    def _no_password(self, first: paramiko.SSHException) -> errors.AuthenticationFailed:
        who = f"{self.user}@{self.host}"
        if cut_off(first):
            return errors.AuthenticationFailed(
                f"{who}: the server closed the connection after refusing too many keys (its MaxAuthTries), and no "
                "password was given to try",
                hint=CUT_OFF_HINT,
            )
        return errors.AuthenticationFailed(
            f"{who}: no key or agent identity was accepted and no password was given", hint=SSH_LOGON_HINT
        )

    def _login(self, password: str | None, *, offer_keys: bool = True) -> paramiko.SSHClient:
        """One authenticated connection. With a pinned fingerprint, a key that does not match is not the end: the
        server may hold keys of several types (ed25519, ECDSA, RSA) and the pin may be of any of them, so each type
        it offers is asked for in turn (a new connection each, before any logon attempt)."""
        policy = _HostKeyCheck(self._ssh.pin)
        tried: set[str] = set()
        wanted = self._host_key_type
        while True:
            client = self._new_client(policy)
            try:
                self._connect(client, password, wanted, offer_keys=offer_keys)
            except _PinMismatch:
                transport = client.get_transport()
                client.close()
                tried.add(_key_family(getattr(transport, "host_key_type", None) or ""))
                if wanted is not None:
                    tried.add(_key_family(wanted))  # each round rules out one more type: the loop ends
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

    def _new_client(self, policy: _HostKeyCheck) -> paramiko.SSHClient:
        client = paramiko.SSHClient()
        if self._ssh.host_key is None:  # a pinned fingerprint replaces known_hosts entirely
            known = self._ssh.known_hosts or Path("~/.ssh/known_hosts").expanduser()
            if known.exists():
                client.load_host_keys(str(known))
        client.set_missing_host_key_policy(policy)
        return client

    def _connect(
        self, client: paramiko.SSHClient, password: str | None, host_key_type: str | None, *, offer_keys: bool
    ) -> None:
        keys = [str(k) for k in self._ssh.key_files]
        try:
            self._client_connect(client, password, keys if offer_keys else None, host_key_type)
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
        self, client: paramiko.SSHClient, password: str | None, keys: list[str] | None, host_key_type: str | None
    ) -> None:
        """``keys`` None: no key at all (neither files, the agent nor ~/.ssh), the password alone."""
        client.connect(
            transport_factory=functools.partial(_fast_transport, host_key_type=host_key_type),
            hostname=self.host,
            port=self.port,
            username=self.user,
            password=password,
            key_filename=keys or None,
            allow_agent=self._ssh.use_agent and keys is not None,
            look_for_keys=keys == [],
            timeout=self.timeout,
            banner_timeout=self.timeout,
            auth_timeout=self.timeout,
            channel_timeout=self.timeout,
        )


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


def negotiated_mac(transport: Any) -> str | None:
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
    ``host_key_type``, that host key algorithm asked for first. No Nagle delay on the socket: the key exchange,
    logon and channel opening are many small messages each waiting for an answer (measured: logon 113 -> 68 ms)."""
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    transport = _Transport(sock, default_window_size=WINDOW, default_max_packet_size=PACKET, **kwargs)
    options = transport.get_security_options()
    offered = tuple(options.ciphers)
    options.ciphers = tuple(c for c in FAST_CIPHERS if c in offered) + tuple(
        c for c in offered if c not in FAST_CIPHERS
    )
    if host_key_type is not None and host_key_type in options.key_types:
        options.key_types = (host_key_type, *(k for k in options.key_types if k != host_key_type))
    return transport


def _needs_password(exc: paramiko.SSHException) -> bool:
    """True when the keys were refused (or the server cut the logon off) and a password may still get in."""
    if isinstance(exc, paramiko.BadHostKeyException):
        return False
    return (
        isinstance(exc, paramiko.AuthenticationException)
        or "no authentication methods" in str(exc).lower()
        or cut_off(exc)
    )


def cut_off(exc: BaseException) -> bool:
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
