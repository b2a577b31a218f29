"""Issue 13, nothing lost and nothing misleading under faults (the fast tier: local folders and the memory
backend, no servers): a source rewritten in place during the copy, sub-folders in a point, two stages at once,
huge folders, names a target cannot hold, durability, and bad input."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from restore.cli import exitcodes
from restore.demo.sample import PointSpec, VolumeSpec, write_tree
from restore.staging.stage import run_stage
from restore.staging.transfer import PARTIAL_SUFFIX, FileJob, SourceChanged, Transfer
from share.connect import parse_location
from share.local import LocalBackend
from share.memory import MemoryBackend

MiB = 1024 * 1024
DC = "WindowsImageBackup/DC01"


def _no_sleep(_seconds: float) -> None:
    pass


def _tree(root: Path) -> Path:
    spec = PointSpec(volumes=[VolumeSpec("", "EFI", virtual_mb=16), VolumeSpec("C:", "System", virtual_mb=32)])
    spec.pad_mb = 3
    write_tree(root, {"DC01": spec})
    return root


def _biggest(root: Path) -> Path:
    return max(root.rglob("*.vhdx"), key=lambda p: p.stat().st_size)


class _RewriteAfterCopy(Transfer):
    """Overwrite 1 MiB of the biggest source image in place, same size, once it has been copied (before the
    read-back): what a backup job or an antivirus rewriting the point does on a bad day."""

    def __init__(self, *args: object, victim: Path, keep_times: bool = False, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.victim = victim
        self.keep_times = keep_times

    def _verify(self, job: FileJob, partial: str, expected: str) -> None:
        if job.source_path.endswith(self.victim.name):
            st = self.victim.stat()
            with open(self.victim, "r+b") as f:
                f.seek(0)
                f.write(os.urandom(MiB))
            if self.keep_times:  # a writer that puts the old times back: only ctime (or the content) tells
                os.utime(self.victim, ns=(st.st_atime_ns, st.st_mtime_ns))
        super()._verify(job, partial, expected)


@pytest.mark.parametrize("keep_times", [False, True])
def test_a_source_rewritten_during_the_copy_is_not_certified(tmp_path: Path, keep_times: bool) -> None:
    source_root = _tree(tmp_path / "src")
    victim = _biggest(source_root)
    old = time.time() - 3600  # written long ago: the stamps alone are trusted
    for path in source_root.rglob("*"):
        os.utime(path, (old, old))
    (tmp_path / "dst").mkdir()
    src = LocalBackend(parse_location(str(source_root)))
    dst = LocalBackend(parse_location(str(tmp_path / "dst")))
    engine = _RewriteAfterCopy(src, dst, victim=victim, keep_times=keep_times, sleep=_no_sleep)
    with pytest.raises(SourceChanged) as caught:
        run_stage(src, dst, transfer=engine)
    assert victim.name in str(caught.value) and exitcodes.for_error(caught.value) == exitcodes.FAILED
    placed = tmp_path / "dst" / victim.relative_to(source_root)
    assert not placed.exists()  # not renamed into place
    assert not (tmp_path / "dst" / "SHA256SUMS").exists() and not (tmp_path / "dst" / "bmr-manifest.json").exists()


def test_a_memory_source_rewritten_in_place_is_read_again_and_caught() -> None:
    """The memory backend declares no trustworthy stamps (like SMB and SFTP): the source is hashed again."""
    data = os.urandom(3 * MiB)
    source = MemoryBackend()
    with source.open_write("image.vhdx") as stream:
        stream.write(data)
    target = MemoryBackend()

    class Rewrite(Transfer):
        def _verify(self, job: FileJob, partial: str, expected: str) -> None:
            source.store.files["image.vhdx"][MiB : 2 * MiB] = os.urandom(MiB)  # same size, times untouched
            super()._verify(job, partial, expected)

    with pytest.raises(SourceChanged, match=r"image\.vhdx"):
        Rewrite(source, target, sleep=_no_sleep).copy(FileJob("image.vhdx", "out.vhdx", len(data)))
    assert "out.vhdx" not in target.store.files and "out.vhdx" + PARTIAL_SUFFIX in target.store.files


def test_an_unchanged_source_is_copied_and_certified(tmp_path: Path) -> None:
    source_root = _tree(tmp_path / "src")
    (tmp_path / "dst").mkdir()
    src = LocalBackend(parse_location(str(source_root)))
    dst = LocalBackend(parse_location(str(tmp_path / "dst")))
    result = run_stage(src, dst, transfer=Transfer(src, dst, sleep=_no_sleep))
    assert result.ok and (tmp_path / "dst" / "SHA256SUMS").exists()
