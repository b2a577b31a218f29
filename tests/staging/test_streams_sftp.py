"""Issue 24, SFTP: one large file written over several SSH connections to the real sshd (through Transfer and
`bmr stage --streams`), the faults of issue 13 on one stream while the others run (a cut, a stall, a full disk), and
servers that take fewer connections (a session limit, an extra connection that reaches a host with another key)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from restore.staging import transfer as transfer_mod
from restore.staging.transfer import PARTIAL_SUFFIX, FileJob, FileOutcome, Transfer
from share import errors
from share.base import Backend, Sink, Source
from share.connect import Access, open_backend, parse_location
from share.credentials import SshOptions
from share.striped import StripedSink, StripedSource
from tests.lib.proxy import CuttingProxy
from tests.lib.servers import SshServer
from tests.lib.treebuilder import ImageCache, PointSpec, write_tree

pytestmark = pytest.mark.servers
MIB = 1024 * 1024
SIZE = 64 * MIB


@pytest.fixture(autouse=True)
def striped_from_8_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transfer_mod, "STRIPED_MIN", 8 * MIB)  # small files are enough to spread over streams


SOURCE_SHA256: dict[Path, str] = {}


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("source") / "disk.vhdx"
    with open(path, "wb") as out:
        for _ in range(SIZE // MIB):
            out.write(os.urandom(MIB))
    SOURCE_SHA256[path] = _sha256(path)
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        while chunk := src.read(8 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


def _through(sshd: SshServer, port: int, folder: Path, tmp_path: Path, timeout: float = 10) -> Backend:
    """An SFTP backend on ``folder`` reached at ``port`` (a proxy), which known_hosts names with sshd's key."""
    known = tmp_path / "known_hosts_proxy"
    line = sshd.known_hosts.read_text().split(maxsplit=1)[1]
    known.write_text(f"[127.0.0.1]:{port} {line}")
    access = Access(ssh=SshOptions(known_hosts=known, key_files=(sshd.client_key,)), timeout=timeout)
    return open_backend(parse_location(f"sftp://{sshd.user}@127.0.0.1:{port}{folder}"), access)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "dst").mkdir()
    return tmp_path / "dst", tmp_path


class Copy:
    """One copy of ``image`` to out/disk.vhdx, noting where each attempt opened the target and the bytes handed to it
    over all attempts."""

    def __init__(self, image: Path, target: Backend, streams: int, *, verify: bool = True) -> None:
        self.starts: list[int] = []
        self.abandoned: list[tuple[int, str]] = []
        self.handed = 0
        opener = target.open_sink

        def open_sink(path: str, offset: int = 0, *, streams: int = 1) -> Sink:
            self.starts.append(offset)
            sink = opener(path, offset, streams=streams)
            abandon = sink.abandon

            def abandoned() -> None:  # where each failed attempt stopped, and why (for the assertion messages)
                abandon()
                self.abandoned.append((sink.confirmed(), repr(getattr(sink, "error", None))))

            sink.abandon = abandoned  # type: ignore[method-assign]
            return sink

        target.open_sink = open_sink  # type: ignore[method-assign]
        self.sources: list[str] = []  # the kind of each source the target opened (the read-backs)
        source_opener = target.open_source

        def open_source(path: str, offset: int = 0, *, streams: int = 1) -> Source:
            source = source_opener(path, offset, streams=streams)
            self.sources.append(type(source).__name__)
            return source

        target.open_source = open_source  # type: ignore[method-assign]
        source = open_backend(parse_location(str(image.parent)), Access())
        try:
            self.transfer = Transfer(
                source, target, streams=streams, verify=verify, backoff=0.05, sleep=lambda s: None,
                progress=self._progress,
            )  # fmt: skip
            self.outcome = self.transfer.copy(FileJob(image.name, "out/disk.vhdx", image.stat().st_size))
        finally:
            source.close()

    def _progress(self, phase: str, count: int) -> None:
        if phase == "copy":
            self.handed += count


def _only_the_copy(dst: Path, image: Path, outcome: FileOutcome) -> None:
    """The target holds the copy and nothing else (no partial left); its bytes and SHA-256 are the source's, which
    did not change."""
    assert sorted(str(p.relative_to(dst)) for p in dst.rglob("*")) == ["out", "out/disk.vhdx"]
    assert _sha256(dst / "out" / "disk.vhdx") == _sha256(image) == outcome.sha256 == SOURCE_SHA256[image]


@pytest.mark.parametrize("verify", [True, False])
def test_three_streams_copy_identically(sshd: SshServer, image: Path, folders: tuple[Path, Path], verify: bool) -> None:
    dst, tmp = folders
    proxy = CuttingProxy(sshd.port, cut_after=1 << 40, cuts=0)  # counts the connections, cuts none
    target = _through(sshd, proxy.port, dst, tmp)
    try:
        target.makedirs("out")
        copy = Copy(image, target, 3, verify=verify)
        assert copy.transfer.streams == 3
        assert proxy.skip == -3  # one connection per stream, opened once
        _only_the_copy(dst, image, copy.outcome)
        assert copy.outcome.bytes_copied == SIZE and copy.starts == [0]
        assert copy.sources == (["StripedSource"] if verify else [])  # the read-back over the streams too
        # the streams are kept for the next file, and not opened again
        copy.transfer.copy(FileJob(image.name, "out/again.vhdx", SIZE, fresh=True))
        assert proxy.skip == -3
        assert (dst / "out" / "again.vhdx").read_bytes() == image.read_bytes()
    finally:
        target.close()
        proxy.close()


def test_a_cut_on_the_third_stream_resumes(sshd: SshServer, image: Path, folders: tuple[Path, Path]) -> None:
    dst, tmp = folders
    proxy = CuttingProxy(sshd.port, cut_after=14 * MIB, skip=2)  # the third connection drops in its fourth stripe
    target = _through(sshd, proxy.port, dst, tmp)
    try:
        target.makedirs("out")
        copy = Copy(image, target, 3)
        assert proxy.cuts_done == 1
        assert copy.transfer.streams == 3
        _only_the_copy(dst, image, copy.outcome)
        # Resumed where every stream had confirmed (a stripe boundary), not restarted. That prefix is usually well
        # past 0, but a stream that lags (threads under the GIL beside the proxy's, a loaded machine) holds it back.
        assert len(copy.starts) == 2 and copy.starts[1] == copy.abandoned[0][0], copy.abandoned
        assert copy.starts[1] % transfer_mod.CHUNK == 0
        assert copy.handed < 2 * SIZE
    finally:
        target.close()
        proxy.close()


def test_a_stall_on_the_second_stream_is_detected_and_resumed(
    sshd: SshServer, image: Path, folders: tuple[Path, Path]
) -> None:
    dst, tmp = folders
    proxy = CuttingProxy(sshd.port, cut_after=14 * MIB, skip=1, stall=True)  # in its fourth stripe
    target = _through(sshd, proxy.port, dst, tmp, timeout=3)
    try:
        target.makedirs("out")
        started = time.monotonic()
        copy = Copy(image, target, 2)
        took = time.monotonic() - started
        assert proxy.stalled.is_set()
        assert copy.transfer.streams == 2
        _only_the_copy(dst, image, copy.outcome)
        assert len(copy.starts) == 2 and copy.starts[1] == copy.abandoned[0][0], copy.abandoned
        assert copy.handed < 2 * SIZE
        assert took < 3 * 3 + 10, f"took {took:.1f} s"  # the stall costs about one timeout, not a hang
    finally:
        proxy.release()
        target.close()
        proxy.close()


@pytest.fixture
def limited(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SshServer]:
    """An sshd whose SFTP sessions take a lock slot each (``request.param`` slots): further sessions end at once, as
    on a server with a per-user session limit."""
    slots = " || ".join(f"flock -n {tmp_path / f'slot{n}'} /usr/lib/openssh/sftp-server" for n in range(request.param))
    server = SshServer(tmp_path / "sshd", subsystem=slots).start()
    yield server
    server.stop()


@pytest.mark.parametrize("limited", [1, 2], indirect=True)
def test_a_server_taking_fewer_connections_gets_fewer_streams(
    limited: SshServer, image: Path, folders: tuple[Path, Path], request: pytest.FixtureRequest
) -> None:
    dst, _tmp = folders
    slots = request.node.callspec.params["limited"]
    access = Access(ssh=SshOptions(known_hosts=limited.known_hosts, key_files=(limited.client_key,)), timeout=10)
    target = open_backend(parse_location(limited.url(str(dst))), access)
    try:
        target.makedirs("out")
        assert target.max_streams(3) == slots
        copy = Copy(image, target, 3)
        assert copy.transfer.streams == slots
        _only_the_copy(dst, image, copy.outcome)
    finally:
        target.close()


def test_stage_to_sftp_with_streams_reports_them_and_the_point_is_whole(
    sshd: SshServer, tmp_path: Path, images: ImageCache
) -> None:
    source, target = tmp_path / "source", tmp_path / "staged"
    write_tree(source, {"DC01": PointSpec(pad_mb=72)}, images)  # one file above STRIPED_MIN (64 MiB)
    target.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "restore", "stage", str(source), sshd.url(str(target)), "--streams", "2", "--json",
         "--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(sshd.client_key)],
        capture_output=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    result = json.loads(proc.stdout)
    assert result["streams"] == 2 and result["verified"]
    files = sorted(p.relative_to(source) for p in source.rglob("*") if p.is_file())
    staged = [p.relative_to(target) for p in target.rglob("*") if p.is_file()]
    assert files == sorted(p for p in staged if p.name not in ("SHA256SUMS", "bmr-manifest.json"))
    for rel in files:
        assert _sha256(target / rel) == _sha256(source / rel), rel
    check = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=target, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_an_extra_connection_to_a_host_with_another_key_is_refused(
    sshd: SshServer, image: Path, folders: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "bmr.sftp")
    dst, tmp = folders
    other = SshServer(tmp / "other-sshd").start()  # its own host key, which known_hosts does not hold
    switch = CuttingProxy(sshd.port, cut_after=0, cuts=0, later_port=other.port)
    (other.base / "authorized_keys").write_text(sshd.client_key.with_suffix(".pub").read_text())
    target = _through(sshd, switch.port, dst, tmp)
    try:
        target.makedirs("out")
        assert target.max_streams(3) == 1
        assert len(switch.client_bytes) >= 2  # it was tried, and refused for its key
        assert [r.bmr_fields["error"].split(":")[0] for r in caplog.records] == ["HostKeyRejected"]  # type: ignore[attr-defined]
        copy = Copy(image, target, 3)
        assert copy.transfer.streams == 1
        _only_the_copy(dst, image, copy.outcome)
    finally:
        target.close()
        switch.close()
        other.stop()


def test_a_full_disk_under_several_streams_is_disk_full_and_a_rerun_completes(
    sshd: SshServer, ssh_access: Access, image: Path, tmp_path: Path
) -> None:
    disk = tmp_path / "small"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m,mode=0755", "tmpfs", str(disk)], check=True)
    try:
        target = open_backend(parse_location(sshd.url(str(disk))), ssh_access)
        try:
            target.makedirs("out")
            with pytest.raises(errors.DiskFull):
                Copy(image, target, 3)
            partial = next((disk / "out").iterdir())
            assert partial.name.endswith(PARTIAL_SUFFIX) and partial.stat().st_size > 0
            subprocess.run(["mount", "-o", "remount,size=128m", str(disk)], check=True)
            copy = Copy(image, target, 3)
            assert copy.transfer.streams == 3
            # the rerun compared what the first run wrote (kept what matches: often, not always, a prefix)
            assert copy.outcome.bytes_reused + copy.outcome.bytes_copied == SIZE
            _only_the_copy(disk, image, copy.outcome)
        finally:
            target.close()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_abandon_stops_every_stream_at_once_and_a_new_sink_resumes_at_confirmed(
    sshd: SshServer, ssh_access: Access, image: Path, folders: tuple[Path, Path]
) -> None:
    dst, _tmp = folders
    data = image.read_bytes()
    target = open_backend(parse_location(sshd.url(str(dst))), ssh_access)
    try:
        sink = target.open_sink("disk.vhdx", 0, streams=3)
        assert isinstance(sink, StripedSink)
        released: list[int] = []
        chunk = transfer_mod.CHUNK
        for at in range(0, 6 * chunk, chunk):
            sink.write(memoryview(data)[at : at + chunk], lambda at=at: released.append(at))  # type: ignore[misc]
        started = time.monotonic()
        sink.abandon()
        for thread in [t for t in threading.enumerate() if t.name.startswith("bmr-stream")]:
            thread.join(2.0)  # they end with the write under way
            assert not thread.is_alive()
        assert time.monotonic() - started < 2.0
        resume = sink.confirmed()
        assert resume % chunk == 0 and len(released) == 6
        # the same connections go on: the partial file opens again and the rest is written from ``resume``
        assert target.max_streams(3) == 3
        sink = target.open_sink("disk.vhdx", resume, streams=3)
        for at in range(resume, SIZE, chunk):
            sink.write(memoryview(data)[at : at + chunk])
        sink.close()
        assert (dst / "disk.vhdx").read_bytes() == data
    finally:
        target.close()


@pytest.mark.parametrize("offset", [0, 3 * MIB + 5])
def test_reading_over_three_streams_gives_the_bytes_in_order(
    sshd: SshServer, ssh_access: Access, tmp_path: Path, offset: int
) -> None:
    data = os.urandom(10 * MIB + 12345)  # not a whole number of stripes nor of requests
    (tmp_path / "odd.bin").write_bytes(data)
    target = open_backend(parse_location(sshd.url(str(tmp_path))), ssh_access)
    try:
        source = target.open_source("odd.bin", offset, streams=3)
        assert isinstance(source, StripedSource)
        try:
            assert b"".join(bytes(chunk) for chunk in source.chunks()) == data[offset:]
        finally:
            source.close()
        assert target.stat("odd.bin").size == len(data)  # the main connection is still usable
    finally:
        target.close()
