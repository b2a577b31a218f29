"""Compatibility suite: the SMB backend against real smbd configurations users meet.

Each configuration is one private smbd (module-scoped fixture, one at a time, stopped after its tests). Every
share of it gets a random file written through ``open_sink`` and read back through ``open_source`` (both the
bulk channel) and ``open_read`` (smbclient's file object), byte-identical; or the configuration fails with the
named cause. Files are small (20 MiB and a ragged tail) to keep the whole file under a minute on two cores.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from share import errors
from share.base import Sink, Source, Stream
from share.connect import Access, open_backend, parse_location
from share.credentials import PasswordSource
from share.smb import SmbBackend, _SmbSink, _SmbSource, negotiate
from tests.lib.servers import SMB_PASSWORD, SambaServer

pytestmark = pytest.mark.servers  # every test here runs against an smbd of its own

SIZE = 20 * 1024 * 1024 + 12_345
PIECE = 3 * 1024 * 1024  # what the transfer code hands a sink at a time is 4 MiB; any size must work
TIB = 1024**4


@dataclass(frozen=True)
class Config:
    """One smbd: global settings, its shares (name -> options), and what a logon to it must give."""

    name: str
    min_protocol: str = "SMB2_02"
    max_protocol: str = "SMB3_11"
    signing: str = "mandatory"
    extra: dict[str, str] = field(default_factory=dict)
    shares: dict[str, dict[str, str]] = field(default_factory=lambda: {"plain": {}})
    dialect: str | None = None
    cipher: str | None = None
    refused: type[errors.ShareError] | None = None  # the logon itself fails with this
    request: int = 4 * 1024 * 1024  # bytes per WRITE the sink must choose


ENCRYPTED = {"smb encrypt": "required"}


def _ciphers(algorithm: str) -> Config:
    return Config(
        f"encrypt-global-{algorithm}",
        min_protocol="SMB3_11",
        extra={"server smb encrypt": "required", "server smb3 encryption algorithms": algorithm},
        dialect="3.1.1",
        cipher=algorithm,
    )


def _limits(size: int) -> dict[str, str]:
    return {"smb2 max read": str(size), "smb2 max write": str(size), "smb2 max trans": str(size)}


ACCEPTING = [
    Config("smb2.0.2", max_protocol="SMB2_02", dialect="2.0.2", request=65536),
    Config("smb2.1", min_protocol="SMB2_10", max_protocol="SMB2_10", dialect="2.1"),
    Config("smb3.0", min_protocol="SMB3_00", max_protocol="SMB3_00", dialect="3.0",
           shares={"plain": {}, "enc": ENCRYPTED}),
    Config("smb3.0.2", min_protocol="SMB3_02", max_protocol="SMB3_02", dialect="3.0.2",
           shares={"plain": {}, "enc": ENCRYPTED}),
    Config("smb3.1.1", min_protocol="SMB3_11", dialect="3.1.1",
           shares={"plain": {}, "enc": ENCRYPTED}),
    Config("signing-disabled", signing="disabled", dialect="3.1.1"),
    *(_ciphers(a) for a in ("AES-128-GCM", "AES-256-GCM", "AES-128-CCM", "AES-256-CCM")),
    Config("max-64k", extra=_limits(65536), shares={"plain": {}, "enc": ENCRYPTED}, request=65536),
    Config("max-1m", extra=_limits(1024 * 1024), shares={"plain": {}, "enc": ENCRYPTED}, request=1024 * 1024),
    Config("max-64k-smb2.1", max_protocol="SMB2_10", extra=_limits(65536), dialect="2.1", request=65536),
    # 32 credits pay for 2 MiB in flight: requests of 8 credits keep four of them going.
    Config("credits-32", extra={"smb2 max credits": "32"}, shares={"plain": {}, "enc": ENCRYPTED},
           request=8 * 65536),
]  # fmt: skip
REFUSING = [
    Config("ntlm-disabled", extra={"ntlm auth": "disabled"}, refused=errors.NtlmBlocked),
    Config("smb1-only", min_protocol="NT1", max_protocol="NT1", refused=errors.Smb1Only),
]
# Hardening seen on file servers: dot-files vetoed, and a `dfree command` that claims 1 TiB on an 8 MiB disk.
HARDENED = Config("hardened", min_protocol="SMB3_11", shares={"veto": {"veto files": "/.*/"}, "dfree": {}})


@dataclass
class Running:
    config: Config
    samba: SambaServer

    def open(self, share: str) -> SmbBackend:
        access = Access(password=PasswordSource(env="", prompt=lambda _purpose: SMB_PASSWORD), timeout=10)
        backend = open_backend(parse_location(self.samba.url(share)), access)
        assert isinstance(backend, SmbBackend)
        return backend


def _lying_dfree(base: Path) -> Path:
    """A `dfree command` that claims 1 TiB free whatever the disk holds."""
    script = base / "dfree.sh"
    script.write_text("#!/bin/sh\necho 1073741824 1073741824 1024\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def _run(config: Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    base = tmp_path_factory.mktemp(config.name)
    samba = SambaServer(
        base,
        min_protocol=config.min_protocol,
        signing=config.signing,
        extra_global={"server max protocol": config.max_protocol, **config.extra},
    )
    for name, options in config.shares.items():
        if name == "dfree":
            samba.add_tmpfs_share(name, size="8m", **{"dfree command": str(_lying_dfree(base)), **options})
        else:
            samba.add_share(name, **options)
    samba.start()
    try:
        yield Running(config, samba)
    finally:
        samba.stop()


@pytest.fixture(scope="module", params=ACCEPTING, ids=lambda c: c.name)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    yield from _run(request.param, tmp_path_factory)


@pytest.fixture(scope="module", params=REFUSING, ids=lambda c: c.name)
def refusing(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    yield from _run(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def hardened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    yield from _run(HARDENED, tmp_path_factory)


@pytest.fixture(scope="module")
def payload() -> bytes:
    return os.urandom(SIZE)


def test_round_trip(server: Running, payload: bytes) -> None:
    config = server.config
    for share in config.shares:
        encrypted = share == "enc" or config.cipher is not None
        with server.open(share) as backend:
            facts = backend.facts()
            if config.dialect:
                assert facts.dialect == config.dialect
            assert facts.encryption is encrypted
            # Samba flags every share as encrypted when encryption is required globally, too.
            assert facts.share_encryption is encrypted
            assert bool(backend.session.encrypt_data) is (config.cipher is not None)  # per-share: session stays clear
            assert facts.signing is True
            name = f"f-{uuid.uuid4().hex[:8]}.bin"
            sink = backend.open_sink(name)
            assert isinstance(sink, _SmbSink)  # the bulk channel, not the fallback
            channel = backend._channel
            assert channel is not None and (channel.sealer is not None) is encrypted
            if config.cipher:
                assert channel.sealer is not None and channel.sealer.name == config.cipher
            assert sink._piece == config.request
            view = memoryview(payload)
            for start in range(0, len(payload), PIECE):
                sink.write(view[start : start + PIECE])
            # Bytes in flight, not a request count, bound the pipeline: small requests keep many going.
            assert len(sink._pending) >= min(16, _SmbSink.IN_FLIGHT // config.request) or config.request > 65536
            sink.close()
            assert sink.confirmed() == len(payload)
            assert backend.stat(name).size == len(payload)
            source = backend.open_source(name)
            assert isinstance(source, _SmbSource)
            try:
                got = b"".join(bytes(chunk) for chunk in source.chunks())
            finally:
                source.close()
            assert got == payload, f"{share}: bulk read-back differs"
            with backend.open_read(name) as stream:
                assert stream.read_exact(0, len(payload) + 1) == payload, f"{share}: open_read differs"
            assert (server.samba.shares[share].path / name).read_bytes() == payload  # really on the disk
            backend.remove(name)


def test_resume_and_plain_stream(server: Running, payload: bytes) -> None:
    """The generic Stream path (open_write) completes the server's short writes; a sink resumes at an offset."""
    share = list(server.config.shares)[-1]
    with server.open(share) as backend:
        with backend.open_write("stream.bin") as stream:
            assert stream.write(payload[:5_000_000]) == 5_000_000
        assert backend.stat("stream.bin").size == 5_000_000
        sink = backend.open_sink("stream.bin", 3_000_000)
        sink.write(memoryview(payload)[3_000_000:9_000_000])
        sink.close()
        assert backend.read_range("stream.bin", 0, 10**7) == payload[:9_000_000]
        # The generic Sink and Source over smbclient's raw file (what open_sink falls back to): its write()
        # takes at most the server's max write and says so; every byte must still arrive.
        raw = backend._create("generic.bin", 0, buffering=0)
        sink = Sink(Stream(raw, backend._mapped, "generic.bin"), 0)
        for start in range(0, len(payload), PIECE):
            sink.write(memoryview(payload)[start : start + PIECE])
        sink.close()
        generic = Source(backend.open_read("generic.bin"))
        try:
            got = b"".join(bytes(chunk) for chunk in generic.chunks())
        finally:
            generic.close()
        assert len(got) == len(payload) and got == payload
        backend.remove("generic.bin")
        source = backend.open_source("stream.bin", 4_444_444)
        buffer = memoryview(bytearray(1_500_000))
        assert source.readinto(buffer) == len(buffer)  # short answers are completed
        assert bytes(buffer) == payload[4_444_444:5_944_444]
        source.close()
        backend.remove("stream.bin")


def test_refused_logon_names_its_cause(refusing: Running) -> None:
    refused = refusing.config.refused
    assert refused is not None
    with pytest.raises(refused) as info:
        refusing.open("plain")
    assert not info.value.retryable
    if refused is errors.NtlmBlocked:
        assert "the server refuses NTLM, and WinRE can log on with nothing else" in str(info.value)
    if refused is errors.Smb1Only:
        assert "only SMB1" in str(info.value)
        with pytest.raises(errors.Smb1Only):  # the negotiate-only probe (preflight) says the same
            negotiate("127.0.0.1", refusing.samba.port, timeout=5)
    assert SMB_PASSWORD not in str(info.value)


def test_vetoed_name_is_refused_not_missing(hardened: Running) -> None:
    with hardened.open("veto") as backend:
        for opener in (backend.open_write, backend.open_sink):
            with pytest.raises(errors.NameRefused, match=r"refuses the name '\.bmr-probe'"):
                opener(".bmr-probe")
        backend.makedirs("sub")
        with pytest.raises(errors.NameRefused):
            backend.open_write("sub/.hidden")
        with pytest.raises(errors.NotFound) as info:  # a missing folder is still NotFound
            backend.open_write("missing/file")
        assert not isinstance(info.value, errors.NameRefused)
        with backend.open_write("visible") as stream:
            stream.write(b"ok")
        assert backend.read_bytes("visible", 10) == b"ok"


def test_lying_free_space_ends_in_disk_full(hardened: Running) -> None:
    with hardened.open("dfree") as backend:
        assert backend.space().free >= TIB  # what the server claims
        sink = backend.open_sink("big.bin")
        with pytest.raises(errors.DiskFull):
            for _ in range(4):
                sink.write(memoryview(bytes(4 * 1024 * 1024)))
            sink.close()
        sink.abandon()
        assert sink.confirmed() <= 8 * 1024 * 1024
        backend.remove("big.bin")


def test_smbclient_agrees_on_the_configuration(server: Running) -> None:
    """Samba's own client sees the same server: a sanity check that the config means what the test thinks."""
    config = server.config
    share = next(iter(config.shares))
    result = subprocess.run(
        ["smbclient", f"//127.0.0.1/{share}", "-p", str(server.samba.port), "-U", server.samba.user,
         "--option=client min protocol=SMB2_02", "-c", "ls"],
        capture_output=True, text=True, env={**os.environ, "PASSWD": SMB_PASSWORD}, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def stingy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    yield from _run(Config("credits-16", extra={"smb2 max credits": "16"}), tmp_path_factory)


def test_too_few_credits_means_smaller_requests_not_a_wait(stingy: Running, payload: bytes) -> None:
    """A sink that finds too few credits for its request size, with nothing in flight, sends smaller ones at once
    (16 credits pay for 1 MiB); it never waits for credits that will not come, nor calls that retryable."""
    with stingy.open("plain") as backend:
        sink = backend.open_sink("stingy.bin")
        assert isinstance(sink, _SmbSink)
        sink._piece = 4 * 1024 * 1024  # as if the server had granted more at first
        started = time.monotonic()
        sink.write(memoryview(payload)[:9_000_000])
        sink.close()
        assert time.monotonic() - started < 5
        assert sink._piece <= 16 * 65536
        assert backend.read_bytes("stingy.bin", 10**7) == payload[:9_000_000]
        source = backend.open_source("stingy.bin")
        try:
            assert b"".join(bytes(c) for c in source.chunks()) == payload[:9_000_000]
        finally:
            source.close()
