"""Session fixtures: a real smbd and a real sshd on 127.0.0.1, and one backend fixture over every kind.

Tests that need a real server, root, qemu-img or Chromium carry the ``servers`` mark (given here from the fixtures
they use, or by the test itself); ``python -m pytest -m "not servers" -n 2`` is the fast tier, which needs none of them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from share import memory
from share.base import Backend
from share.connect import Access, open_backend, parse_location
from share.credentials import PasswordSource, SshOptions
from tests.lib.bootimages import BootImages
from tests.lib.diskimages import DiskImages
from tests.lib.servers import SMB_PASSWORD, SambaServer, SshServer
from tests.lib.treebuilder import ImageCache

PASSWORD_ENV = "BMR_TEST_PASSWORD"


@pytest.fixture(scope="session")
def samba(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaServer]:
    server = SambaServer(tmp_path_factory.mktemp("samba"))
    server.add_share("data")
    server.add_share("ro", **{"read only": "yes"})
    server.add_share(
        "sealed", **{"smb encrypt": "required"}
    )  # a share that demands encryption (Set-SmbShare -EncryptData)
    server.add_tmpfs_share("small", size="8m")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    server = SshServer(tmp_path_factory.mktemp("sshd")).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def winre_on_445(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's smbd listen on free ports and stand for file servers that WinRE reaches on 445 (what
    --winre-port says); the port check's own tests remove this."""
    monkeypatch.setenv("BMR_WINRE_PORT", "445")


@pytest.fixture
def password_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """The test password in an environment variable of its own, as a user would give it."""
    monkeypatch.setenv(PASSWORD_ENV, SMB_PASSWORD)
    return PASSWORD_ENV


@pytest.fixture
def smb_access(password_env: str) -> Access:
    return Access(password=PasswordSource(env=password_env), timeout=10)


@pytest.fixture
def ssh_access(sshd: SshServer) -> Access:
    return Access(ssh=SshOptions(known_hosts=sshd.known_hosts, key_files=(sshd.client_key,)), timeout=10)


@pytest.fixture
def smb_folder(samba: SambaServer) -> tuple[str, Path]:
    """A fresh folder on the 'data' share: (its smb:// URL, its path on the server's disk)."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    disk = samba.shares["data"].path / name
    disk.mkdir()
    return samba.url("data", name), disk


# Fixtures that start a real server or need a tool the fast tier does without: a test using one is a "servers" test.
SERVER_FIXTURES = {"samba", "sshd", "images", "smb_folder", "ssh_access", "disks", "boots"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.servers)


@pytest.fixture(
    params=[
        "local",
        "memory",
        pytest.param("smb", marks=pytest.mark.servers),
        pytest.param("sftp", marks=pytest.mark.servers),
    ]
)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def located(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, Path | None, Access]:
    """For the conformance suite: (location string, the same folder on this machine's disk or None, access)."""
    if kind == "smb":
        url, disk = request.getfixturevalue("smb_folder")
        return url, disk, request.getfixturevalue("smb_access")
    if kind == "sftp":
        sshd = request.getfixturevalue("sshd")
        return sshd.url(str(tmp_path)), tmp_path, request.getfixturevalue("ssh_access")
    if kind == "memory":
        name = f"t-{uuid.uuid4().hex[:8]}"
        memory.STORES[name] = memory.MemoryStore()
        return f"memory://{name}/", None, Access()
    return str(tmp_path), tmp_path, Access()


@pytest.fixture
def backend(located: tuple[str, Path | None, Access]) -> Iterator[Backend]:
    location, _disk, access = located
    with open_backend(parse_location(location), access) as b:
        yield b


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> ImageCache:
    return ImageCache(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="session")
def disks(tmp_path_factory: pytest.TempPathFactory) -> DiskImages:
    if os.geteuid() != 0:
        raise RuntimeError("the deep-inspection images need root (ntfs-3g mounts them through FUSE): run as root")
    return DiskImages(tmp_path_factory.mktemp("deep-images"))


@pytest.fixture(scope="session")
def boots(tmp_path_factory: pytest.TempPathFactory) -> BootImages:
    if os.geteuid() != 0:
        raise RuntimeError("the boot-chain images need root (ntfs-3g mounts them through FUSE): run as root")
    return BootImages(tmp_path_factory.mktemp("boot-images"))
