"""The copy engine on the in-memory backend (the fast tier): resume after a cut link, a full disk and a stall at
chosen offsets, reuse of an earlier partial copy, and a damaged copy caught before it is put in place."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from restore.demo.sample import PointSpec, VolumeSpec, write_tree
from restore.staging import transfer
from restore.staging.stage import run_stage
from restore.staging.transfer import CHUNK, PARTIAL_SUFFIX, FileJob, Transfer, VerificationFailed
from share import errors
from share.connect import parse_location
from share.local import LocalBackend
from share.memory import Faults, MemoryBackend, MemoryStore
from tests.lib.memory import one_file

SIZE = 3 * CHUNK + 12345


def _no_sleep(_seconds: float) -> None:
    pass


@pytest.mark.parametrize("cut_after", [1, CHUNK - 1, CHUNK + 7, 2 * CHUNK + 100])
def test_resume_after_a_cut_link(cut_after: int) -> None:
    data = os.urandom(SIZE)
    target = MemoryBackend(MemoryStore(faults=Faults(cut_after=cut_after, cuts=2)))
    outcome = Transfer(one_file(data), target, sleep=_no_sleep).copy(FileJob("image.vhdx", "out.vhdx", SIZE))
    assert target.store.faults.cuts_done >= 1 and target.reconnects >= 1
    assert bytes(target.store.files["out.vhdx"]) == data and "out.vhdx" + PARTIAL_SUFFIX not in target.store.files
    assert outcome.verified and outcome.bytes_copied + outcome.bytes_reused >= SIZE


def test_resume_after_a_stall() -> None:
    data = os.urandom(SIZE)
    target = MemoryBackend(MemoryStore(faults=Faults(stall_after=CHUNK + 1, stall_seconds=0.01)))
    Transfer(one_file(data), target, sleep=_no_sleep).copy(FileJob("image.vhdx", "out.vhdx", SIZE))
    assert target.store.faults.stalls_done == 1 and bytes(target.store.files["out.vhdx"]) == data


def test_disk_full_keeps_the_partial_copy_and_a_rerun_resumes() -> None:
    data = os.urandom(SIZE)
    target = MemoryBackend(MemoryStore(faults=Faults(capacity=2 * CHUNK)))
    with pytest.raises(errors.DiskFull):
        Transfer(one_file(data), target, sleep=_no_sleep).copy(FileJob("image.vhdx", "out.vhdx", SIZE))
    kept = len(target.store.files["out.vhdx" + PARTIAL_SUFFIX])
    assert kept > 0
    target.store.faults.capacity = None
    outcome = Transfer(one_file(data), target, sleep=_no_sleep).copy(FileJob("image.vhdx", "out.vhdx", SIZE))
    assert outcome.bytes_reused >= CHUNK and bytes(target.store.files["out.vhdx"]) == data


def test_an_earlier_partial_copy_is_compared_block_by_block_not_trusted_by_size() -> None:
    data = os.urandom(SIZE)
    target = MemoryBackend()
    # A killed run left the first 2 chunks, the second of them damaged: only the first may be reused.
    partial = bytearray(data[: 2 * CHUNK])
    partial[CHUNK + 5] ^= 0xFF
    target.store.files["out.vhdx" + PARTIAL_SUFFIX] = partial
    outcome = Transfer(one_file(data), target, sleep=_no_sleep).copy(FileJob("image.vhdx", "out.vhdx", SIZE))
    assert bytes(target.store.files["out.vhdx"]) == data
    assert outcome.bytes_reused < 2 * CHUNK


def test_a_damaged_copy_is_not_put_in_place() -> None:
    data = os.urandom(SIZE)
    target = MemoryBackend()

    class Damaging(Transfer):
        def _verify(self, job: FileJob, partial: str, expected: str) -> str:
            target.store.files[partial][100] ^= 0x01
            return super()._verify(job, partial, expected)

    with pytest.raises(VerificationFailed):
        Damaging(one_file(data), target, sleep=_no_sleep).copy(FileJob("image.vhdx", "out.vhdx", SIZE))
    assert "out.vhdx" not in target.store.files


def test_stage_a_sample_point_into_memory_with_a_cut(tmp_path: Path) -> None:
    spec = PointSpec(volumes=[VolumeSpec("", "EFI", virtual_mb=100), VolumeSpec("C:", "System", virtual_mb=200)])
    spec.pad_mb = 9
    write_tree(tmp_path, {"DC01": spec})
    source = LocalBackend(parse_location(str(tmp_path)))
    target = MemoryBackend(MemoryStore(faults=Faults(cut_after=5 * 1024 * 1024)))
    result = run_stage(source, target, transfer=Transfer(source, target, sleep=_no_sleep))
    assert result.ok and result.machine == "DC01" and target.store.faults.cuts_done == 1
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert bytes(target.store.files[str(path.relative_to(tmp_path))]) == path.read_bytes()
    assert "SHA256SUMS" in target.store.files and "bmr-manifest.json" in target.store.files
    # Every line of SHA256SUMS certifies the bytes on the target (hashed during the read-back, not from the source).
    for line in bytes(target.store.files["SHA256SUMS"]).decode().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(bytes(target.store.files[name])).hexdigest() == digest, name


@pytest.mark.parametrize("verify", [True, False])
def test_a_large_files_flush_is_started_early_and_waited_for_before_the_rename(
    monkeypatch: pytest.MonkeyPatch, verify: bool
) -> None:
    """Backend.sync_soon every EARLY_SYNC bytes (and, verifying, before the read-back); every one of them done
    before the flush that precedes the rename, which still runs."""
    monkeypatch.setattr(transfer, "EARLY_SYNC", CHUNK)
    monkeypatch.setattr(transfer, "STRIPED_MIN", CHUNK)
    events: list[str] = []

    class Recording(MemoryBackend):
        def sync_soon(self, path: str) -> Callable[[], None]:
            events.append(f"soon {path}")
            return lambda: events.append("waited")

        def sync_files(self, files: Sequence[str]) -> None:
            events.append(f"sync {' '.join(files)}")

        def rename(self, src: str, dst: str, *, replace: bool = False) -> None:
            events.append("rename")
            super().rename(src, dst, replace=replace)

    data = os.urandom(SIZE)
    target = Recording()
    Transfer(one_file(data), target, sleep=_no_sleep, verify=verify).copy(FileJob("image.vhdx", "out.vhdx", SIZE))
    partial = "out.vhdx" + PARTIAL_SUFFIX
    started = 3 + (1 if verify else 0)  # after 1, 2 and 3 chunks copied; verifying, once more before the read-back
    assert events == [f"soon {partial}"] * started + ["waited"] * started + [f"sync {partial}", "rename"]
    assert bytes(target.store.files["out.vhdx"]) == data


@pytest.mark.parametrize("verify", [True, False])
def test_each_hash_is_computed_once_and_only_where_needed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, verify: bool
) -> None:
    """SHA-256 once, of the bytes copied; BLAKE3 only when verifying, of the copy and of the read-back; the
    read-back computes no SHA-256, an unverified copy no BLAKE3."""
    fed: dict[str, int] = {"sha256": 0, "blake3": 0}

    def counting(name: str, make: Callable[[], Any]) -> Callable[[], Any]:
        class Counted:
            def __init__(self, data: bytes = b"", *, inner: Any = None) -> None:
                self.inner = inner if inner is not None else make()
                self.inner.update(data)  # hashlib.sha256(b"...") elsewhere (names): not the copy's hashing

            def update(self, data: memoryview) -> None:
                fed[name] += len(data)
                self.inner.update(data)

            def copy(self) -> Counted:
                return Counted(inner=self.inner.copy())

            def hexdigest(self) -> str:
                return str(self.inner.hexdigest())

        return Counted

    monkeypatch.setattr(transfer.hashlib, "sha256", counting("sha256", hashlib.sha256))
    monkeypatch.setattr(transfer, "_blake3", counting("blake3", transfer._blake3))
    data = os.urandom(SIZE)
    (tmp_path / "image.vhdx").write_bytes(data)
    os.utime(tmp_path / "image.vhdx", (time.time() - 3600,) * 2)  # stamps to trust: the source is not read again
    target = MemoryBackend()
    source = LocalBackend(parse_location(str(tmp_path)))
    outcome = Transfer(source, target, sleep=_no_sleep, verify=verify).copy(FileJob("image.vhdx", "out.vhdx", SIZE))
    assert outcome.sha256 == hashlib.new("sha256", data).hexdigest() and bytes(target.store.files["out.vhdx"]) == data
    assert fed == {"sha256": SIZE, "blake3": 2 * SIZE if verify else 0}
    assert bool(outcome.blake3) is verify
