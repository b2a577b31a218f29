"""Issue 13 against the real smbd: Ctrl-C mid-copy, a stalled link, a file held by a dead session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from restore.staging.transfer import PARTIAL_SUFFIX
from tests.lib.servers import SMB_PASSWORD
from tests.lib.treebuilder import ImageCache, PointSpec, write_tree

pytestmark = pytest.mark.servers
DC = "WindowsImageBackup/DC01"


def _same_tree(src: Path, dst: Path) -> None:
    src_files = sorted(p.relative_to(src) for p in src.rglob("*") if p.is_file())
    dst_files = sorted(p.relative_to(dst) for p in dst.rglob("*") if p.is_file() and p.name not in
                       ("SHA256SUMS", "bmr-manifest.json"))  # fmt: skip
    assert src_files == dst_files
    for rel in src_files:
        assert (src / rel).read_bytes() == (dst / rel).read_bytes(), rel


@pytest.fixture
def big_tree(tmp_path: Path, images: ImageCache) -> Path:
    root = tmp_path / "source"
    write_tree(root, {"DC01": PointSpec(pad_mb=160)}, images)
    return root


def _bmr(*args: str, password_env: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, password_env: SMB_PASSWORD}
    return subprocess.Popen(
        [sys.executable, "-m", "restore", "stage", *args, "--password-env", password_env],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.parametrize("when", [0.25, 0.5, 0.75])
def test_ctrl_c_mid_copy_stops_at_once_and_a_rerun_completes(
    big_tree: Path, smb_folder: tuple[str, Path], password_env: str, when: float
) -> None:
    url, disk = smb_folder
    big = max(big_tree.rglob("*.vhdx"), key=lambda p: p.stat().st_size)
    partial = disk / DC / big.parent.name / (big.name + PARTIAL_SUFFIX)
    proc = _bmr(str(big_tree), url, password_env=password_env)
    deadline = time.monotonic() + 120
    try:
        while not (partial.exists() and partial.stat().st_size >= big.stat().st_size * when):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the copy ended or stalled before it could be interrupted")
            time.sleep(0.002)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        latency = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    print(f"Ctrl-C at {when:.0%}: exit {proc.returncode} after {latency:.2f} s")
    stderr = err.decode(errors="replace")
    assert proc.returncode == 130, stderr
    assert latency < 2.0, f"took {latency:.1f} s"
    assert "Traceback" not in stderr and "worker died" not in stderr, stderr
    assert "rerun the same command to resume" in stderr and big.name + PARTIAL_SUFFIX in stderr
    assert SMB_PASSWORD not in stderr + out.decode(errors="replace")
    rerun = _bmr(str(big_tree), url, password_env=password_env)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode(errors="replace")
    _same_tree(big_tree, disk)
    check = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=disk, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
