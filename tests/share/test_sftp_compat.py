"""SFTP against OpenSSH configured as users meet it: restricted ciphers (one bmr cannot speak, one it can), and
internal-sftp in a chroot. Each stages with verification or fails with the cause named, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.cli.app import app
from restore.demo.sample import bmr_dc, write_tree
from tests.lib.servers import SshServer

runner = CliRunner()


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SshServer]:
    sshd = SshServer(tmp_path / "sshd", extra=tuple(request.param)).start()
    yield sshd
    sshd.stop()


def _ssh_args(sshd: SshServer) -> list[str]:
    return ["--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(sshd.client_key)]


@pytest.mark.servers
@pytest.mark.parametrize("server", [["Ciphers chacha20-poly1305@openssh.com"]], indirect=True)
def test_a_cipher_bmr_cannot_speak_is_named(server: SshServer, tmp_path: Path) -> None:
    result = runner.invoke(app, ["probe", server.url(str(tmp_path)), "--json", *_ssh_args(server)])
    assert result.exit_code == 3, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "NoCommonAlgorithm"
    assert "chacha20-poly1305@openssh.com" in error["message"] and "aes128-gcm@openssh.com" in error["message"]
    assert "sshd_config" in error["hint"] and "DOMAIN" not in error["hint"]
    assert "Traceback" not in result.stderr


@pytest.mark.servers
@pytest.mark.parametrize(
    "server",
    [["Ciphers aes256-ctr", "MACs hmac-sha2-256"], ["Ciphers aes128-gcm@openssh.com"]],
    indirect=True,
    ids=["ctr-only", "gcm-only"],
)
def test_restricted_ciphers_stage_and_verify(server: SshServer, tmp_path: Path) -> None:
    source, target = tmp_path / "src", tmp_path / "dst"
    write_tree(source, {"DC01": bmr_dc()})
    target.mkdir()
    result = runner.invoke(app, ["stage", str(source), server.url(str(target)), "--json", *_ssh_args(server)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verified"] is True
    for path in source.rglob("*"):
        if path.is_file():
            assert (target / path.relative_to(source)).read_bytes() == path.read_bytes()


@pytest.fixture
def chroot(tmp_path: Path) -> Iterator[Path]:
    # sshd requires every component of a ChrootDirectory to be root-owned and not group/world writable.
    root = Path("/run") / f"bmr-chroot-{os.getpid()}-{tmp_path.name}"  # /run: root-owned, mode 755
    (root / "upload").mkdir(parents=True)
    root.chmod(0o755)
    for folder in (root, root.parent):
        assert folder.stat().st_uid == 0 and not folder.stat().st_mode & 0o022
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.servers
def test_internal_sftp_in_a_chroot(chroot: Path, tmp_path: Path) -> None:
    sshd = SshServer(tmp_path / "sshd", extra=(f"ChrootDirectory {chroot}", "ForceCommand internal-sftp")).start()
    try:
        source = tmp_path / "src"
        write_tree(source, {"DC01": bmr_dc()})
        result = runner.invoke(app, ["stage", str(source), sshd.url("/upload"), "--json", *_ssh_args(sshd)])
        assert result.exit_code == 0, result.output
        staged = chroot / "upload" / "WindowsImageBackup" / "DC01"
        assert staged.is_dir() and (chroot / "upload" / "SHA256SUMS").exists()
    finally:
        sshd.stop()
