"""One conformance suite, run against a local folder, the real smbd and the real sshd."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from share import errors
from share.base import Backend, Kind, walk_files
from share.connect import Access, open_backend, parse_location
from share.credentials import PasswordSource, SshOptions
from tests.lib.proxy import SilentServer
from tests.lib.servers import SMB_PASSWORD, SambaServer, SshServer


def _write(backend: Backend, path: str, data: bytes, offset: int = 0) -> None:
    with backend.open_write(path, offset) as stream:
        stream.write(data)


def test_makedirs_list_stat(backend: Backend, located: tuple[str, Path | None, Access]) -> None:
    backend.makedirs("a/b/c")
    backend.makedirs("a/b/c")  # no error when it exists
    _write(backend, "a/b/file.bin", b"x" * 1234)
    entries = {e.name: e for e in backend.list("a/b")}
    assert set(entries) == {"c", "file.bin"}
    assert entries["c"].kind is Kind.DIR
    assert entries["file.bin"].kind is Kind.FILE and entries["file.bin"].size == 1234
    assert backend.stat("a/b/file.bin").size == 1234
    assert backend.stat("a/b").kind is Kind.DIR
    disk = located[1]
    if disk is not None:
        assert (disk / "a" / "b" / "file.bin").stat().st_size == 1234  # really on the server's disk


def test_read_write_offsets(backend: Backend) -> None:
    data = os.urandom(300_000)
    _write(backend, "f.bin", data)
    assert backend.read_bytes("f.bin", 10**6) == data
    assert backend.read_range("f.bin", 123_456, 1000) == data[123_456:124_456]
    # Writing at an offset keeps the bytes before it and drops everything after.
    _write(backend, "f.bin", b"TAIL", offset=100_000)
    assert backend.read_bytes("f.bin", 10**6) == data[:100_000] + b"TAIL"
    with backend.open_read("f.bin", 100_000) as stream:
        assert stream.read(10) == b"TAIL"


def test_rename_replace_remove(backend: Backend) -> None:
    _write(backend, "one", b"1")
    _write(backend, "two", b"2")
    with pytest.raises(errors.AlreadyExists):
        backend.rename("one", "two")
    backend.rename("one", "two", replace=True)
    assert backend.read_bytes("two", 10) == b"1"
    assert not backend.exists("one")
    backend.rename("two", "three")
    backend.remove("three")
    assert backend.list("") == []
    backend.makedirs("d")
    backend.rmdir("d")
    assert not backend.exists("d")


def test_missing_paths_are_not_found(backend: Backend) -> None:
    for call in (
        lambda: backend.stat("nope"),
        lambda: backend.list("nope"),
        lambda: backend.open_read("nope"),
        lambda: backend.remove("nope"),
        lambda: backend.open_write("no/parent/file"),
    ):
        with pytest.raises(errors.NotFound):
            call()


def test_paths_cannot_climb_out(backend: Backend) -> None:
    with pytest.raises(errors.UsageError):
        backend.open_write("../escape")
    with pytest.raises(errors.UsageError):
        backend.list("a/../../b")


def test_space_and_facts(backend: Backend, kind: str) -> None:
    space = backend.space()
    assert 0 < space.free <= space.total
    facts = backend.facts()
    assert facts.protocol == kind
    if kind == "smb":
        assert facts.dialect == "3.1.1" and facts.signing is True and facts.server_address == "127.0.0.1"
    if kind == "sftp":
        assert facts.dialect is not None and facts.dialect.startswith("SSH-2.0-OpenSSH")


def test_walk_files(backend: Backend) -> None:
    backend.makedirs("x/y")
    _write(backend, "x/y/z.bin", b"zz")
    _write(backend, "x/a.bin", b"a")
    assert [(p, e.size) for p, e in walk_files(backend, "")] == [("x/a.bin", 1), ("x/y/z.bin", 2)]


def test_smb_names_are_case_insensitive(samba: SambaServer, smb_folder: tuple[str, Path], smb_access: Access) -> None:
    (smb_folder[1] / "WindowsImageBackup").mkdir()
    with open_backend(parse_location(smb_folder[0]), smb_access) as backend:
        assert backend.features.case_insensitive
        assert backend.stat("windowsimagebackup").kind is Kind.DIR


# -- error cases against the real servers ------------------------------------------------------------------------


def test_wrong_password(samba: SambaServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BMR_WRONG", "not-the-password")
    with pytest.raises(errors.AuthenticationFailed) as info:
        open_backend(parse_location(samba.url("data")), Access(password=PasswordSource(env="BMR_WRONG")))
    assert "not-the-password" not in str(info.value)


def test_unknown_share(samba: SambaServer, smb_access: Access) -> None:
    with pytest.raises(errors.ShareNotFound, match="no share 'nosuchshare'"):
        open_backend(parse_location(samba.url("nosuchshare")), smb_access)


def test_missing_path_in_location(samba: SambaServer, smb_access: Access) -> None:
    with pytest.raises(errors.NotFound):
        open_backend(parse_location(samba.url("data", "no/such/folder")), smb_access)


def test_read_only_share(samba: SambaServer, smb_access: Access) -> None:
    with open_backend(parse_location(samba.url("ro")), smb_access) as backend:
        assert backend.list("") == []
        with pytest.raises(errors.AccessDenied):
            _write(backend, "file", b"x")
        with pytest.raises(errors.AccessDenied):
            backend.makedirs("folder")


def test_disk_full_on_small_share(samba: SambaServer, smb_access: Access) -> None:
    with open_backend(parse_location(samba.url("small")), smb_access) as backend:
        assert backend.space().total == 8 * 1024 * 1024
        with pytest.raises(errors.DiskFull), backend.open_write("big.bin") as stream:
            for _ in range(12):
                stream.write(b"\0" * (1024 * 1024))
        backend.remove("big.bin")
        assert backend.space().free > 7 * 1024 * 1024


def test_disk_full_over_sftp(samba: SambaServer, sshd: SshServer, ssh_access: Access) -> None:
    small = samba.shares["small"].path
    with open_backend(parse_location(sshd.url(str(small))), ssh_access) as backend:
        with pytest.raises(errors.DiskFull), backend.open_write("big-sftp.bin") as stream:
            for _ in range(12):
                stream.write(b"\0" * (1024 * 1024))
        backend.remove("big-sftp.bin")


def test_refused_connection(smb_access: Access, ssh_access: Access) -> None:
    port = _closed_port()
    with pytest.raises(errors.CannotConnect):
        open_backend(parse_location(f"smb://u@127.0.0.1:{port}/share"), smb_access)
    with pytest.raises(errors.CannotConnect):
        open_backend(parse_location(f"sftp://u@127.0.0.1:{port}/tmp"), ssh_access)


def test_unknown_host_key_is_refused_with_its_fingerprint(sshd: SshServer, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    access = Access(ssh=SshOptions(known_hosts=empty, key_files=(sshd.client_key,)))
    with pytest.raises(errors.HostKeyRejected) as info:
        open_backend(parse_location(sshd.url("/tmp")), access)
    assert sshd.fingerprint() in str(info.value)


def test_pinned_host_key(sshd: SshServer, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    pinned = Access(ssh=SshOptions(known_hosts=empty, host_key=sshd.fingerprint(), key_files=(sshd.client_key,)))
    with open_backend(parse_location(sshd.url(str(tmp_path))), pinned) as backend:
        assert backend.stat("known_hosts").kind is Kind.FILE
    wrong = Access(ssh=SshOptions(host_key="SHA256:" + "A" * 43, key_files=(sshd.client_key,)))
    with pytest.raises(errors.HostKeyRejected, match="not the pinned"):
        open_backend(parse_location(sshd.url(str(tmp_path))), wrong)


def test_changed_host_key_is_refused(sshd: SshServer, tmp_path: Path) -> None:
    other = tmp_path / "known_hosts"
    # A known_hosts line for this host and port, but with some other key.
    other.write_text(
        f"[127.0.0.1]:{sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
    )
    with pytest.raises(errors.HostKeyRejected, match="known_hosts holds"):
        open_backend(parse_location(sshd.url("/tmp")), Access(ssh=SshOptions(known_hosts=other)))


def test_ssh_wrong_password_after_keys_fail(sshd: SshServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BMR_SSH_PW", "definitely-wrong")
    access = Access(
        password=PasswordSource(env="BMR_SSH_PW"),
        ssh=SshOptions(known_hosts=sshd.known_hosts, use_agent=False),
    )
    with pytest.raises(errors.AuthenticationFailed) as info:
        open_backend(parse_location(f"sftp://nobody-here@127.0.0.1:{sshd.port}/tmp"), access)
    assert "definitely-wrong" not in str(info.value)


@pytest.fixture
def silent_server() -> Iterator[int]:
    server = SilentServer()
    yield server.port
    server.close()


@pytest.mark.parametrize("scheme", ["smb", "sftp"])
def test_silent_server_times_out_quickly(silent_server: int, scheme: str, smb_access: Access) -> None:
    access = Access(password=smb_access.password, timeout=1)
    started = time.monotonic()
    with pytest.raises(errors.TimedOut):
        open_backend(parse_location(f"{scheme}://u@127.0.0.1:{silent_server}/share"), access)
    assert time.monotonic() - started < 15


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_password_is_not_exposed(smb_access: Access) -> None:
    secret = smb_access.password.require("test")
    assert SMB_PASSWORD not in repr(secret) and SMB_PASSWORD not in str(secret)
    assert SMB_PASSWORD not in repr(smb_access)
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_sink_and_source_round_trip(backend: Backend) -> None:
    data = os.urandom(19 * 1024 * 1024 + 12345)  # several full-size requests and a ragged tail
    sink = backend.open_sink("big.bin")
    view = memoryview(data)
    for start in range(0, len(data), 3 * 1024 * 1024):
        sink.write(view[start : start + 3 * 1024 * 1024])
    sink.close()
    assert sink.confirmed() == len(data)
    source = backend.open_source("big.bin")
    assert b"".join(bytes(chunk) for chunk in source.chunks()) == data
    source.close()
    source = backend.open_source("big.bin", 5_000_000)
    buffer = memoryview(bytearray(1_000_000))
    got = bytearray()
    while count := source.readinto(buffer):
        got += buffer[:count]
    source.close()
    assert bytes(got) == data[5_000_000:]
    # Resuming: a sink at an offset keeps what is before it and replaces the rest.
    sink = backend.open_sink("big.bin", 7_000_000)
    sink.write(memoryview(b"resumed"))
    sink.close()
    assert backend.read_bytes("big.bin", 10**8) == data[:7_000_000] + b"resumed"


def test_sink_reports_disk_full(samba: SambaServer, smb_access: Access) -> None:
    with open_backend(parse_location(samba.url("small")), smb_access) as backend:
        sink = backend.open_sink("full.bin")
        with pytest.raises(errors.DiskFull):
            for _ in range(12):
                sink.write(memoryview(bytes(1024 * 1024)))
            sink.close()
        sink.abandon()
        assert sink.confirmed() <= 8 * 1024 * 1024
        backend.remove("full.bin")


def test_sync_puts_a_file_and_a_rename_on_storage(backend: Backend) -> None:
    """Issue 13.8: the durability step of the contract works on every backend that declares it (and is harmless
    on those that do not); a missing file is NotFound where it is really done."""
    backend.makedirs("durable")
    with backend.open_write("durable/f.bin") as stream:
        stream.write(b"x" * 100_000)
    backend.sync("durable/f.bin")
    backend.rename("durable/f.bin", "durable/g.bin")
    backend.sync("durable", folder=True)
    assert backend.read_bytes("durable/g.bin", 10) == b"x" * 10
    assert getattr(backend, "_fsync", True)  # OpenSSH offers fsync@openssh.com: it was used, not given up on
    if backend.features.durable_sync:
        with pytest.raises(errors.NotFound):
            backend.sync("durable/missing.bin")
