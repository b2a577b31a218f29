"""Issue 24: one large file written over several SMB connections against the real smbd: whole on a signed and an
encrypted share, a cut or a stall on one stream while the others run (resumed, not restarted), a share that
allows one connection (one stream, still copied)."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import blake3
import pytest

from restore.staging.transfer import FileJob, Transfer, VerificationFailed
from share.connect import Access, open_backend, parse_location
from share.credentials import PasswordSource
from tests.lib.proxy import CuttingProxy
from tests.lib.servers import SambaServer
from tests.lib.treebuilder import ImageCache, PointSpec, write_tree

pytestmark = pytest.mark.servers
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("streams") / "image.bin"
    with open(path, "wb") as out:
        for block in range(96):
            out.write(hashlib.sha512(block.to_bytes(4, "little")).digest() * (MIB // 64))
    return path


def _copy(source_dir: Path, url: str, access: Access, streams: int, name: str = "image.bin") -> tuple[Transfer, int]:
    with (
        open_backend(parse_location(str(source_dir)), Access()) as src,
        open_backend(parse_location(url), access) as dst,
    ):
        engine = Transfer(src, dst, streams=streams, retries=5, backoff=0.2, patience=30)
        size = (source_dir / name).stat().st_size
        outcome = engine.copy(FileJob(name, name, size))
        return engine, outcome.bytes_copied


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("share", ["data", "sealed"])
def test_a_large_file_goes_over_several_connections_and_arrives_whole(
    big_file: Path, samba: SambaServer, smb_access: Access, share: str, tmp_path: Path
) -> None:
    folder = samba.shares[share].path / tmp_path.name
    folder.mkdir()
    engine, copied = _copy(big_file.parent, samba.url(share, tmp_path.name), smb_access, streams=3)
    assert engine.streams_used == 3
    assert copied == big_file.stat().st_size
    assert _sha(folder / "image.bin") == _sha(big_file)
    assert sorted(p.name for p in folder.iterdir()) == ["image.bin"]


@pytest.mark.parametrize("stall", [False, True], ids=["cut", "stall"])
def test_one_stream_cut_or_stalled_while_the_others_run_resumes_and_the_file_is_whole(
    big_file: Path, samba: SambaServer, smb_folder: tuple[str, Path], password_env: str, stall: bool
) -> None:
    """The proxy passes the first connection (the primary) and cuts or silences the second (a stream) after
    24 MiB; the copy notices (a stall within the timeout), reconnects, resumes at the contiguous prefix every
    stream acknowledged and finishes: less than the file twice over is sent."""
    _url, disk = smb_folder
    proxy = CuttingProxy(samba.port, cut_after=24 * MIB, stall=stall, skip=1)
    try:
        url = f"smb://BMRFILES;root@127.0.0.1:{proxy.port}/data/{disk.name}"
        access = Access(password=PasswordSource(env=password_env), timeout=3)
        engine, copied = _copy(big_file.parent, url, access, streams=3)
    finally:
        proxy.close()
    size = big_file.stat().st_size
    assert proxy.cuts_done == 1 and engine.streams_used == 3
    assert size <= copied < 2 * size, copied
    assert _sha(disk / "image.bin") == _sha(big_file)
    assert sorted(p.name for p in disk.iterdir()) == ["image.bin"]


@pytest.mark.parametrize(("share", "asked", "expected"), [("data", "2", 2), ("single", "3", 1)])
def test_stage_reports_its_streams_and_the_copy_is_whole(
    samba: SambaServer, password_env: str, tmp_path: Path, images: ImageCache, share: str, asked: str, expected: int
) -> None:
    """`bmr stage --streams N --json`: N streams where the share takes them; one on a share that allows one
    connection (`max connections = 1`), the copy whole all the same."""
    options = {"max connections": "1"} if share == "single" else {}
    disk = samba.add_share(share, **options) if share not in samba.shares else samba.shares[share].path
    folder = disk / tmp_path.name
    folder.mkdir()
    source = tmp_path / "source"
    write_tree(source, {"DC01": PointSpec(pad_mb=72)}, images)
    proc = subprocess.run(
        [sys.executable, "-m", "restore", "stage", str(source), samba.url(share, tmp_path.name), "--streams", asked,
         "--json", "--password-env", password_env],
        capture_output=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    result = json.loads(proc.stdout)
    assert result["streams"] == expected and result["verified"]
    for path in source.rglob("*"):
        if path.is_file():
            assert _sha(folder / path.relative_to(source)) == _sha(path), path


def test_one_stream_cut_during_the_read_back_is_read_again_and_the_digest_holds(
    big_file: Path, samba: SambaServer, smb_folder: tuple[str, Path], password_env: str
) -> None:
    """The read-back goes over the streams too. The proxy passes the primary connection and cuts the second (a
    stream) once it has sent its logon (about 1.9 KB) and a few of its READs: the verification is retried on
    fresh connections and the copy is found equal."""
    _url, disk = smb_folder
    (disk / "image.bin").write_bytes(big_file.read_bytes())
    expected = blake3.blake3(big_file.read_bytes()).hexdigest()
    proxy = CuttingProxy(samba.port, cut_after=3900, skip=1)
    try:
        url = f"smb://BMRFILES;root@127.0.0.1:{proxy.port}/data/{disk.name}"
        with (
            open_backend(parse_location(str(big_file.parent)), Access()) as src,
            open_backend(parse_location(url), Access(password=PasswordSource(env=password_env), timeout=3)) as dst,
        ):
            engine = Transfer(src, dst, streams=3, backoff=0.2)
            assert engine.streams == 3 and proxy.cuts_done == 0  # every stream logged on before the cut
            job = FileJob("image.bin", "image.bin", big_file.stat().st_size)
            assert engine._retrying(lambda: engine._verify(job, "image.bin", expected)) == expected
            assert proxy.cuts_done == 1
            with pytest.raises(VerificationFailed):
                engine._verify(job, "image.bin", "0" * 64)
    finally:
        proxy.close()


def test_ctrl_c_during_a_striped_copy_and_a_rerun_completes_from_what_is_there(
    samba: SambaServer, smb_folder: tuple[str, Path], password_env: str, tmp_path: Path, images: ImageCache
) -> None:
    """Interrupted, a striped partial may have holes past its written prefix; the rerun compares it with the
    source block by block (never trusting its size), keeps what matches and copies the rest."""
    url, disk = smb_folder
    source = tmp_path / "source"
    write_tree(source, {"DC01": PointSpec(pad_mb=160)}, images)
    big = max(source.rglob("*.vhdx"), key=lambda p: p.stat().st_size)
    partial = disk / big.relative_to(source).parent / (big.name + ".bmr-partial")
    command = [sys.executable, "-m", "restore", "stage", str(source), url, "--streams", "3", "--json",
               "--password-env", password_env]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while not (partial.exists() and partial.stat().st_size >= big.stat().st_size // 2):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the copy ended or stalled before it could be interrupted")
            time.sleep(0.002)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 130 and partial.exists()
    rerun = subprocess.run(command, capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr.decode(errors="replace")
    result = json.loads(rerun.stdout)
    assert result["streams"] == 3 and result["bytes_reused"] > 0
    for path in source.rglob("*"):
        if path.is_file():
            assert _sha(disk / path.relative_to(source)) == _sha(path), path
    check = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=disk, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
