"""A VHDX whose log is pending (evidence.md: a real Windows backup VHDX refused by qemu-img, "contains a log that
needs to be replayed"; libvhdi does not replay): bmr replays it in memory, and the disk it reads is the one
``qemu-img check -r all`` gives. Built per MS-VHDX over a qemu-img image (tests.lib.vhdxlog); needs qemu-img.
Last, the server's zone read from the same images' SYSTEM hive as the default zone of "Backup time"."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pyvhdi
from typer.testing import CliRunner

from restore.cli.app import app
from restore.guide import versions as versions_guide
from restore.tree.deep import DeepFacts, Limits
from restore.tree.deep.reader import BoundedReader
from restore.tree.deep.replayed import ReplayedFile, replayed_source
from restore.tree.images import check_image
from restore.tree.vhdxlog import find_sequence, log_state, plan_replay
from share.connect import parse_location
from share.local import LocalBackend
from tests.lib.diskimages import DiskImages
from tests.lib.vhdxlog import unflush
from tests.tree.test_deep import DC_WRITERS, _codes, _deep, _local, _point

pytestmark = pytest.mark.servers  # qemu-img, and root for the NTFS images
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def pending(disks: DiskImages, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the image qemu-img made, the same image with its block table still in a pending log)."""
    image = disks.uefi_disk("vhdx")
    target = tmp_path_factory.mktemp("vhdx-log") / "pending.vhdx"
    assert unflush(image, target) >= 2
    return image, target


def _qemu(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["qemu-img", *args], capture_output=True, text=True, timeout=120, check=False)


def _facts_json(facts: DeepFacts) -> str:
    """The facts, without what differs between two reads of one disk (costs, problems, the image's file name)."""
    data = facts.to_json()
    for image in data["images"]:
        for key in ("bytes_read", "seconds", "problems"):
            image.pop(key)
    for key in ("bytes_read", "problems", "ok", "verdict_withheld_for"):
        data.pop(key)
    text = json.dumps(data, sort_keys=True)
    for image in facts.images:
        text = text.replace(image.image, "IMAGE")
    return text


def test_qemu_sees_a_pending_log(pending: tuple[Path, Path]) -> None:
    _, target = pending
    refused = _qemu("info", str(target))
    assert refused.returncode != 0 and "log that needs to be replayed" in refused.stderr


def test_active_sequence_is_the_newest_run_not_the_stale_entry(pending: tuple[Path, Path]) -> None:
    _, target = pending
    data = target.read_bytes()

    def read(offset: int, size: int) -> bytes:
        return data[offset : offset + size]

    state = log_state(read)
    assert state is not None
    header, log = state
    sequence = find_sequence(log, header.log_guid)
    assert [e.sequence for e in sequence] == [41, 42]  # the stale entry (7) stays out
    replay = plan_replay(read, len(data))
    assert replay is not None and replay.entries == 2 and replay.file_size == len(data)
    assert [w.data is None for w in replay.writes][-1]  # the zero descriptor comes last, as logged


def test_replay_gives_the_disk_qemu_replays(pending: tuple[Path, Path], tmp_path: Path) -> None:
    image, target = pending
    # qemu's replay of the same file
    repaired = tmp_path / "repaired.vhdx"
    shutil.copyfile(target, repaired)
    assert _qemu("check", "-r", "all", str(repaired)).returncode == 0
    assert _qemu("compare", str(image), str(repaired)).returncode == 0
    # bmr's replay in memory, read through libvhdi, written out as a raw disk
    backend = LocalBackend(parse_location(str(target.parent)))
    reader = BoundedReader(backend, target.name, target.stat().st_size, Limits(max_bytes=1 << 30, max_served=1 << 31))
    try:
        source, note = replayed_source(reader, target.name)
        assert isinstance(source, ReplayedFile) and note is not None and "2 entries" in note
        disk = pyvhdi.file()
        disk.open_file_object(source)
        raw = tmp_path / "bmr-replayed.raw"
        with raw.open("wb") as out:
            size = int(disk.get_media_size())
            for offset in range(0, size, 4 * MIB):
                out.write(disk.read_buffer_at_offset(min(4 * MIB, size - offset), offset))
        disk.close()
    finally:
        reader.close()
    same = _qemu("compare", "-f", "raw", "-F", "vhdx", str(raw), str(repaired))
    assert same.returncode == 0, same.stdout + same.stderr
    assert _qemu("compare", "-f", "raw", "-F", "vhdx", str(raw), str(image)).returncode == 0
    # without the replay, libvhdi sees the older block table: nothing allocated
    plain = pyvhdi.file()
    plain.open(str(target))
    assert not any(plain.read_buffer_at_offset(MIB, 0))
    plain.close()


def test_deep_facts_are_those_of_the_replayed_disk(pending: tuple[Path, Path], tmp_path: Path) -> None:
    image, target = pending
    clean = _deep(_local(tmp_path / "a"), _point(tmp_path / "a", "DC01", [(image, "C:", "")], DC_WRITERS))
    facts = _deep(_local(tmp_path / "b"), _point(tmp_path / "b", "DC01", [(target, "C:", "")], DC_WRITERS))
    assert _codes(facts) == {"vhdx-log-replayed"} and facts.ok
    assert _facts_json(facts) == _facts_json(clean)
    kinds = [p.file_system.kind if p.file_system else None for p in facts.images[0].partitions]
    assert kinds[0] == "fat32" and kinds[2] == "ntfs"  # not "empty": the block table came from the log
    assert facts.windows is not None and facts.windows.time_zone == "Pacific Standard Time"


def test_a_log_that_cannot_be_replayed_withholds_the_verdict(disks: DiskImages, tmp_path: Path) -> None:
    cut = tmp_path / "cut.vhdx"
    unflush(disks.uefi_disk("vhdx"), cut, flushed_extra=8 * MIB)  # the log names a larger file: a truncated copy
    facts = _deep(_local(tmp_path / "t"), _point(tmp_path / "t", "DC01", [(cut, "C:", "")], DC_WRITERS))
    codes = _codes(facts)
    assert "vhdx-log-pending" in codes
    assert not codes & {"system-volume-missing", "no-boot-files", "firmware-unknown", "partition-table-invalid"}
    (only,) = facts.images
    assert only.partitions == () and facts.withheld == (only.image,)
    assert facts.to_json()["verdict_withheld_for"] == [only.image]
    assert "empty" not in json.dumps([p.to_json() for p in facts.all_problems])


def test_header_check_warns_of_a_pending_log(pending: tuple[Path, Path]) -> None:
    image, target = pending
    data = target.read_bytes()
    check = check_image(target.name, lambda o, s: data[o : o + s], len(data))
    assert check.problem is None and check.virtual_size == 100 * MIB
    assert check.pending_log is not None and "log holds writes not yet applied" in check.pending_log
    clean = image.read_bytes()
    assert check_image(image.name, lambda o, s: clean[o : o + s], len(clean)).pending_log is None


# -- the server's zone from its SYSTEM hive: the default for "Backup time" ---------------------------------------


def test_versions_deep_shows_backup_time_in_the_servers_zone(
    disks: DiskImages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point(tmp_path, "DC01", [(disks.uefi_disk("vhdx"), "C:", "")], DC_WRITERS)  # Pacific Standard Time, 2020-10-04
    args = ["versions", str(tmp_path), "--share-unc", "\\\\10.0.0.5\\restore", "--deep"]
    runner = CliRunner()
    monkeypatch.setattr(versions_guide, "listing_time", lambda: datetime(2024, 11, 12, 22, 37, tzinfo=UTC))
    winter = runner.invoke(app, args)
    assert winter.exit_code == 0, winter.stdout + winter.stderr
    assert winter.stdout.splitlines()[0] == "Backup time: 10/4/2020 9:48 AM"  # PST in force when listed
    monkeypatch.setattr(versions_guide, "listing_time", lambda: datetime(2025, 7, 1, 18, 0, tzinfo=UTC))
    data = json.loads(runner.invoke(app, [*args, "--json"]).stdout)["machines"][0]
    assert data["versions"][0]["backup_time"] == "10/4/2020 10:48 AM"  # PDT in force when listed
    assert data["backup_time_zone"] == {
        "zone": "America/Los_Angeles",
        "source": "the server's SYSTEM hive (Pacific Standard Time)",
    }
    inspected = runner.invoke(app, ["inspect", str(tmp_path), "--deep"]).stdout
    assert "time zone Pacific Standard Time (America/Los_Angeles)" in inspected
