"""Issue 13 against the real smbd: Ctrl-C mid-copy, a stalled link, a file held by a dead session."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from restore.staging.stage import run_stage
from restore.staging.transfer import PARTIAL_SUFFIX, FileJob, SourceChanged, Transfer
from share.connect import Access, open_backend, parse_location
from tests.lib.proxy import CuttingProxy
from tests.lib.servers import SMB_PASSWORD, SambaServer
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


@pytest.fixture
def staller(samba: SambaServer) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(samba.port, cut_after=12 * 1024 * 1024, stall=True)
    yield proxy
    proxy.close()


def _via(proxy: CuttingProxy, disk: Path) -> str:
    return f"smb://BMRFILES;root@127.0.0.1:{proxy.port}/data/{disk.name}"


def test_ctrl_c_while_the_link_is_stalled_stops_at_once(
    big_tree: Path, smb_folder: tuple[str, Path], password_env: str, staller: CuttingProxy
) -> None:
    proc = _bmr(str(big_tree), _via(staller, smb_folder[1]), "--timeout", "20", password_env=password_env)
    try:
        assert staller.stalled.wait(60), "the proxy never stalled"
        time.sleep(1.0)  # the copy now waits for answers that do not come
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        latency = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    print(f"Ctrl-C on a stalled link: exit {proc.returncode} after {latency:.2f} s")
    stderr = err.decode(errors="replace")
    assert proc.returncode == 130 and latency < 2.0, (latency, stderr)
    assert "Traceback" not in stderr, stderr


def test_a_stalled_link_is_detected_and_the_copy_resumes_once_the_server_lets_go(
    big_tree: Path, smb_folder: tuple[str, Path], password_env: str, staller: CuttingProxy
) -> None:
    """The server keeps the dead session (and its open partial file) until its keepalive drops it: bmr waits
    for that within its retry budget, then resumes."""
    _url, disk = smb_folder
    proc = _bmr(str(big_tree), _via(staller, disk), "--timeout", "3", "--json", password_env=password_env)
    assert staller.stalled.wait(60), "the proxy never stalled"
    threading.Timer(8.0, staller.release).start()
    out, err = proc.communicate(timeout=180)
    stderr = err.decode(errors="replace")
    assert proc.returncode == 0, out.decode() + stderr
    assert "Traceback" not in stderr, stderr
    _same_tree(big_tree, disk)


def test_a_file_still_held_by_the_dead_session_is_reopened_by_the_retry(
    big_tree: Path, smb_folder: tuple[str, Path], password_env: str, staller: CuttingProxy
) -> None:
    """The server still holds the stalled session's handle on the partial file (it is never released here): the
    retry opens the same partial again (every handle shares read, write and delete), resumes and finishes; no lock
    and no partial is left behind."""
    _url, disk = smb_folder
    started = time.monotonic()
    proc = _bmr(str(big_tree), _via(staller, disk), "--timeout", "3", "--json", password_env=password_env)
    out, err = proc.communicate(timeout=240)
    took = time.monotonic() - started
    stderr = err.decode(errors="replace")
    print(f"held by the dead session: exit {proc.returncode} after {took:.1f} s")
    assert proc.returncode == 0, out.decode() + stderr
    assert staller.cuts_done == 1 and "Traceback" not in stderr and "STATUS_" not in stderr, stderr
    _same_tree(big_tree, disk)
    assert not (disk / "bmr-stage.lock").exists() and not list(disk.rglob("*.bmr-partial"))


def test_an_smb_source_rewritten_during_the_copy_is_caught_by_reading_it_again(
    big_tree: Path, samba: SambaServer, smb_folder: tuple[str, Path], smb_access: Access, tmp_path: Path
) -> None:
    """SMB time stamps are not trusted (Features.change_stamps is False): the source is hashed again."""
    _url, disk = smb_folder
    on_share = samba.shares["data"].path / f"{disk.name}-src"
    os.rename(big_tree, on_share)
    victim = max(on_share.rglob("*.vhdx"), key=lambda p: p.stat().st_size)
    target = tmp_path / "staged"
    target.mkdir()

    class Rewrite(Transfer):
        def _verify(self, job: FileJob, partial: str, expected: str) -> str:
            if job.source_path.endswith(victim.name):
                st = victim.stat()
                with open(victim, "r+b") as f:
                    f.seek(5 * 1024 * 1024)
                    f.write(os.urandom(1024 * 1024))
                os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the old times put back
            return super()._verify(job, partial, expected)

    with (
        open_backend(parse_location(samba.url("data", on_share.name)), smb_access) as src,
        open_backend(parse_location(str(target)), Access()) as dst,
        pytest.raises(SourceChanged, match=re.escape(victim.name)),
    ):
        run_stage(src, dst, transfer=Rewrite(src, dst))
    assert not list(target.rglob(victim.name)) and not (target / "SHA256SUMS").exists()


def test_a_server_that_restarts_within_the_budget_is_waited_for(
    big_tree: Path, samba: SambaServer, smb_folder: tuple[str, Path], password_env: str
) -> None:
    """The link drops and the service refuses connections for 20 s (a restart): with --timeout 3 bmr waits up to
    30 s for it (the reconnects of a dropped link alone gave up after about 15 s)."""
    _url, disk = smb_folder
    proxy = CuttingProxy(samba.port, cut_after=12 * 1024 * 1024, down_after_cut=20.0)
    try:
        proc = _bmr(str(big_tree), _via(proxy, disk), "--timeout", "3", "--json", password_env=password_env)
        out, err = proc.communicate(timeout=240)
    finally:
        proxy.close()
    stderr = err.decode(errors="replace")
    assert proc.returncode == 0, out.decode() + stderr
    assert proxy.cuts_done == 1 and "Traceback" not in stderr
    _same_tree(big_tree, disk)


def test_a_second_stage_into_the_same_target_is_refused_through_the_command_line(
    big_tree: Path, smb_folder: tuple[str, Path], password_env: str
) -> None:
    """Over SMB (a local copy ends before a second process has started)."""
    url, target = smb_folder
    first = _bmr(str(big_tree), url, password_env=password_env)
    try:
        deadline = time.monotonic() + 60
        while not list(target.rglob("*" + PARTIAL_SUFFIX)):
            assert first.poll() is None and time.monotonic() < deadline, "the first stage never started copying"
            time.sleep(0.01)
        second = _bmr(str(big_tree), url, "--json", password_env=password_env)
        out, err = second.communicate(timeout=60)
        assert first.poll() is None, "the first stage ended before the second one looked"
        assert second.returncode == 1, err.decode()
        assert json.loads(out)["error"]["type"] == "StageLocked"
        assert "another bmr stage is copying here since" in err.decode()
        _out, err = first.communicate(timeout=300)
        assert first.returncode == 0, err.decode()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=10)
    _same_tree(big_tree, target)
    assert not (target / "bmr-stage.lock").exists()
