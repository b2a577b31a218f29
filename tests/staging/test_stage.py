"""`bmr stage` against the real Samba and sshd: full copies in every direction, resume after a kill,
a link cut mid-copy, a disk that fills up, refusal to overwrite, and corruption caught by verification."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.cli.app import app
from restore.staging.stage import StageRefused, run_stage
from restore.staging.transfer import PARTIAL_SUFFIX, FileJob, Transfer, VerificationFailed
from share import errors
from share.connect import Access, open_backend, parse_location
from tests.lib.proxy import CuttingProxy
from tests.lib.servers import SMB_PASSWORD, SambaServer, SshServer
from tests.lib.treebuilder import ImageCache, PointSpec, bmr_dc, write_tree

runner = CliRunner()
DC = "WindowsImageBackup/DC01"


def _sha256sum_ok(folder: Path) -> None:
    out = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def _same_tree(src: Path, dst: Path) -> None:
    src_files = sorted(p.relative_to(src) for p in src.rglob("*") if p.is_file())
    dst_files = sorted(p.relative_to(dst) for p in dst.rglob("*") if p.is_file() and p.parts[-1] not in
                       ("SHA256SUMS", "bmr-manifest.json"))  # fmt: skip
    assert src_files == dst_files
    for rel in src_files:
        assert (src / rel).read_bytes() == (dst / rel).read_bytes(), rel


def _stage(source: str, target: str, *extra: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, ["stage", source, target, "--json", *extra], env=env)
    assert SMB_PASSWORD not in result.stdout + result.stderr
    try:
        data = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(result.stdout + result.stderr) from None
    return result.exit_code, data


@pytest.fixture
def source_tree(tmp_path: Path, images: ImageCache) -> Path:
    root = tmp_path / "source"
    write_tree(root, {"DC01": PointSpec(pad_mb=24)}, images)
    return root


def test_local_to_smb(source_tree: Path, smb_folder: tuple[str, Path], password_env: str) -> None:
    url, disk = smb_folder
    before = {p: p.stat().st_mtime_ns for p in source_tree.rglob("*")}
    code, data = _stage(str(source_tree), url, "--password-env", password_env)
    assert code == 0, data
    assert data["machine"] == "DC01" and data["version"] == "10/04/2020-17:48" and data["verified"] is True
    assert data["bytes_copied"] == data["bytes_total"] and data["bytes_reused"] == 0
    assert data["backup_target"] == f"\\\\127.0.0.1\\data\\{disk.name}"
    # A sub-folder of a share: wbadmin can use it, the WinRE wizard needs it shared on its own (a warning).
    assert {c["id"]: c["status"] for c in data["checks"]} == {
        "share-root": "warn",
        "recovery-point": "warn",
    }  # tombstone
    _same_tree(source_tree, disk)
    _sha256sum_ok(disk)
    (manifest,) = json.loads((disk / "bmr-manifest.json").read_text())["points"]
    assert manifest["machine"] == "DC01" and len(manifest["files"]) == data["files"]
    assert not list(disk.rglob("*" + PARTIAL_SUFFIX))
    assert before == {p: p.stat().st_mtime_ns for p in source_tree.rglob("*")}  # the source is untouched
    # A second run finds everything there, verifies it, and copies nothing.
    code, again = _stage(str(source_tree), url, "--password-env", password_env)
    assert code == 0 and again["bytes_copied"] == 0 and again["bytes_reused"] == data["bytes_total"]


def test_smb_to_smb_and_sftp_to_smb(
    source_tree: Path, samba: SambaServer, sshd: SshServer, smb_folder: tuple[str, Path], password_env: str
) -> None:
    url, disk = smb_folder
    # SMB -> SMB: the source is another folder on the same server.
    staged_src = samba.shares["data"].path / f"{disk.name}-src"
    os.rename(source_tree, staged_src)
    code, data = _stage(samba.url("data", staged_src.name), url + "/viasmb", "--password-env", password_env)
    assert code == 0, data
    _same_tree(staged_src, disk / "viasmb")
    # SFTP -> SMB.
    ssh = ["--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(sshd.client_key)]
    code, data = _stage(sshd.url(str(staged_src)), url + "/viasftp", "--password-env", password_env, *ssh)
    assert code == 0, data
    _same_tree(staged_src, disk / "viasftp")
    _sha256sum_ok(disk / "viasftp")


def test_local_to_sftp(source_tree: Path, sshd: SshServer, tmp_path: Path) -> None:
    target = tmp_path / "sftp-target"
    target.mkdir()
    ssh = ["--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(sshd.client_key)]
    code, data = _stage(str(source_tree), sshd.url(str(target)), *ssh)
    assert code == 0, data
    _same_tree(source_tree, target)
    _sha256sum_ok(target)


def test_resume_after_kill(source_tree: Path, smb_folder: tuple[str, Path], password_env: str, tmp_path: Path) -> None:
    url, disk = smb_folder
    big = max((p for p in source_tree.rglob("*.vhdx")), key=lambda p: p.stat().st_size)
    partial = disk / DC / big.parent.name / (big.name + PARTIAL_SUFFIX)
    env = {**os.environ, password_env: SMB_PASSWORD}
    proc = subprocess.Popen(
        [sys.executable, "-m", "restore", "stage", str(source_tree), url, "--password-env", password_env],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if partial.exists() and partial.stat().st_size >= big.stat().st_size // 2:
                break
            if proc.poll() is not None:
                pytest.fail("the copy finished before it could be killed")
            time.sleep(0.002)
        else:
            pytest.fail("the copy never got half way")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert partial.exists()
    code, data = _stage(str(source_tree), url, "--password-env", password_env)
    assert code == 0, data
    assert isinstance(data["bytes_reused"], int) and data["bytes_reused"] >= big.stat().st_size // 3
    assert data["bytes_copied"] + data["bytes_reused"] == data["bytes_total"]
    _same_tree(source_tree, disk)
    _sha256sum_ok(disk)


@pytest.fixture
def proxy(samba: SambaServer) -> Iterator[CuttingProxy]:
    cutter = CuttingProxy(samba.port, cut_after=12 * 1024 * 1024)
    yield cutter
    cutter.close()


def test_connection_cut_mid_copy(
    source_tree: Path, samba: SambaServer, smb_folder: tuple[str, Path], proxy: CuttingProxy, password_env: str
) -> None:
    _url, disk = smb_folder
    url = f"smb://BMRFILES;root@127.0.0.1:{proxy.port}/data/{disk.name}"
    code, data = _stage(str(source_tree), url, "--password-env", password_env, "--timeout", "5")
    assert code == 0, data
    assert proxy.cuts_done == 1
    _same_tree(source_tree, disk)
    _sha256sum_ok(disk)


def test_disk_full_then_resume(source_tree: Path, samba: SambaServer, password_env: str, tmp_path: Path) -> None:
    # The share claims plenty of space (a stale quota, as file servers do) but its tmpfs holds only 16 MiB.
    script = tmp_path / "dfree.sh"
    script.write_text("#!/bin/sh\necho 1000000000 1000000000 1024\n")
    script.chmod(0o755)
    folder = samba.add_tmpfs_share("tight", size="16m", **{"dfree command": str(script)})
    code, data = _stage(str(source_tree), samba.url("tight"), "--password-env", password_env)
    assert code == 3 and data["error"]["type"] == "DiskFull"  # type: ignore[index]
    assert "rerun to resume" in data["error"]["message"]  # type: ignore[index]
    partials = list(folder.rglob("*" + PARTIAL_SUFFIX))
    assert partials and partials[0].stat().st_size > 0
    subprocess.run(["mount", "-o", "remount,size=128m", str(folder)], check=True)
    code, data = _stage(str(source_tree), samba.url("tight"), "--password-env", password_env)
    assert code == 0, data
    assert isinstance(data["bytes_reused"], int) and data["bytes_reused"] > 0
    _same_tree(source_tree, folder)


def test_refuses_a_different_point_without_force(
    source_tree: Path, smb_folder: tuple[str, Path], password_env: str, tmp_path: Path, images: ImageCache
) -> None:
    url, disk = smb_folder
    assert _stage(str(source_tree), url, "--password-env", password_env)[0] == 0
    newer = tmp_path / "newer"
    spec = bmr_dc()
    spec.when = spec.when.replace(day=5)
    write_tree(newer, {"DC01": spec}, images)
    code, data = _stage(str(newer), url, "--password-env", password_env)
    assert code == 1 and data["error"]["type"] == "StageRefused"  # type: ignore[index]
    assert "Backup 2020-10-04 174838" in data["error"]["message"]  # type: ignore[index]
    assert (disk / DC / "Backup 2020-10-04 174838").exists()
    code, data = _stage(str(newer), url, "--password-env", password_env, "--force")
    assert code == 0 and data["version"] == "10/05/2020-17:48" and data["replaced"]
    assert not (disk / DC / "Backup 2020-10-04 174838").exists()
    _same_tree(newer, disk)


def test_refuses_an_incomplete_source(tmp_path: Path, smb_folder: tuple[str, Path], password_env: str,
                                      images: ImageCache) -> None:  # fmt: skip
    root = tmp_path / "broken"
    write_tree(root, {"DC01": bmr_dc()}, images)
    (root / DC / "MediaId").unlink()
    code, data = _stage(str(root), smb_folder[0], "--password-env", password_env)
    assert code == 1 and "mediaid-missing" in data["error"]["message"]  # type: ignore[index]
    assert not list(smb_folder[1].iterdir())


class _FlipBeforeVerify(Transfer):
    """Fault injection: damage the copy on the server's disk between writing and reading back."""

    def __init__(self, *args: object, disk: Path, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.disk = disk

    def _verify(self, job: FileJob, partial: str, expected: str) -> str:
        if job.target_path.endswith(".vhdx"):
            on_disk = self.disk / partial
            data = bytearray(on_disk.read_bytes())
            data[len(data) // 2] ^= 0x01
            on_disk.write_bytes(bytes(data))
        return super()._verify(job, partial, expected)


def test_a_flipped_byte_is_caught(source_tree: Path, smb_folder: tuple[str, Path], smb_access: Access) -> None:
    url, disk = smb_folder
    with (
        open_backend(parse_location(str(source_tree)), Access()) as src,
        open_backend(parse_location(url), smb_access) as dst,
        pytest.raises(VerificationFailed, match=r"\.vhdx"),
    ):
        run_stage(src, dst, transfer=_FlipBeforeVerify(src, dst, disk=disk))
    assert not list((disk / DC).rglob("*.vhdx"))  # nothing unverified was put in place


def test_no_verify_says_so(source_tree: Path, tmp_path: Path) -> None:
    target = tmp_path / "quick"
    target.mkdir()
    result = runner.invoke(app, ["stage", str(source_tree), str(target), "--no-verify"])
    assert result.exit_code == 0 and "SKIPPED (--no-verify)" in result.stdout


def test_stage_refused_when_space_is_short(source_tree: Path, samba: SambaServer, password_env: str) -> None:
    code, data = _stage(str(source_tree), samba.url("small"), "--password-env", password_env)
    assert code == 1 and data["error"]["type"] == "StageRefused" and "needs" in data["error"]["message"]  # type: ignore[index]


_ = (errors, StageRefused)
