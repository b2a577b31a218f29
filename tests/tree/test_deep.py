"""Deep inspection of real disk images (built by tests.lib.diskimages) through the local, SMB and SFTP backends."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from restore.demo.sample import PointSpec, VolumeSpec, write_machine
from restore.tree import writers as known
from restore.tree.deep import DeepFacts, Limits, deep_inspect
from restore.tree.deep.reader import BoundedReader, ReadLimitError
from restore.tree.points import inspect_machine
from share.base import Backend
from share.connect import Access, open_backend, parse_location
from share.local import LocalBackend
from tests.lib.diskimages import (
    DISK_GUID,
    MBR_SIGNATURE,
    MEMBER_SERVER,
    DiskImages,
    WindowsFacts,
    seed_hive,
    system_hive_spec,
    write_hive,
)
from tests.lib.proxy import CuttingProxy
from tests.lib.servers import SambaServer

MIB = 1024 * 1024
CAP = Limits().max_bytes
DC = WindowsFacts()


def _point(root: Path, computer: str, images: list[tuple[Path, str, str]], writers: list[str]) -> str:
    """A tree under ``root`` with ``images`` (path, access path, label) as volumes; the Backup folder's path."""
    volumes = [VolumeSpec(access, label) for _, access, label in images]
    fmt = images[0][0].suffix[1:]
    spec = PointSpec(writers=writers, volumes=volumes, image_format=fmt)

    def place(target: Path, _fmt: str, _mb: int, index: int) -> None:
        try:
            os.link(images[index][0], target)
        except OSError:
            shutil.copyfile(images[index][0], target)

    point = write_machine(root / "WindowsImageBackup", computer, spec, place)
    return point.relative_to(root).as_posix()


def _deep(backend: Backend, point_path: str, limits: Limits | None = None, *, needs_system: bool = True) -> DeepFacts:
    """What bmr's inspect finds for the point, then deep inspection of its volumes, as the CLI will wire it."""
    machine_path = point_path.rsplit("/", 1)[0]
    computer = machine_path.rsplit("/", 1)[-1]
    machine = inspect_machine(backend, machine_path, computer)
    (point,) = machine.recovery_points
    volumes = [(v.image, v.access_path) for v in point.volumes if v.image]
    writer_ids = {w for w, _ in point.writers}
    return deep_inspect(backend, point_path, volumes, computer, writer_ids, limits=limits, needs_system=needs_system)


def _local(root: Path) -> LocalBackend:
    return LocalBackend(parse_location(str(root)))


def _codes(facts: DeepFacts) -> set[str]:
    return {p.code for p in facts.all_problems}


DC_WRITERS = [known.ASR, known.SYSTEM, known.NTDS, known.DFSR]


def _assert_dc_uefi(facts: DeepFacts) -> None:
    assert facts.ok, facts.all_problems
    assert not facts.all_problems
    win = facts.windows
    assert win is not None
    assert win.computer == DC.computer
    assert win.build == DC.build and win.ubr == DC.ubr
    assert win.product_name == DC.product_name and win.edition_id == DC.edition_id
    assert win.architecture == "x64"
    assert win.time_zone == DC.time_zone
    assert win.domain == DC.domain
    assert win.domain_controller
    assert facts.firmware == "UEFI"
    assert facts.install_media == "Windows Server 2019 Standard, build 17763, x64, UEFI"
    (disk,) = facts.target_disks
    assert disk.disk_id == DISK_GUID and disk.style == "gpt" and disk.size == 100 * MIB
    assert disk.partitions_end == 99 * MIB
    efi_image, c_image = facts.images
    assert [p.partition.kind for p in efi_image.partitions] == ["efi", "msr", "basic-data", "recovery"]
    efi = efi_image.partitions[0]
    assert efi.partition.offset == 1 * MIB and efi.partition.size == 36 * MIB
    assert efi.file_system is not None and efi.file_system.kind == "fat32"
    assert "\\EFI\\Microsoft\\Boot\\BCD" in efi.file_system.boot_files
    system = c_image.partitions[2]
    assert system.partition.offset == 53 * MIB
    fs = system.file_system
    assert fs is not None and fs.kind == "ntfs" and fs.windows and fs.label == "System"
    assert fs.dirty is False
    assert fs.size is not None and 43 * MIB < fs.size <= 44 * MIB
    assert fs.used is not None and 1 * MIB < fs.used < fs.size
    assert facts.system_image == c_image.image
    for image in facts.images:
        assert 0 < image.bytes_read < CAP


@pytest.mark.parametrize("fmt", ["vhdx", "vhd"])
def test_two_volume_uefi_point_local(tmp_path: Path, disks: DiskImages, fmt: str) -> None:
    efi, system = disks.uefi_split(fmt)
    point = _point(tmp_path, "DC01", [(efi, "", "EFI system partition"), (system, "C:", "System")], DC_WRITERS)
    with _local(tmp_path) as backend:
        facts = _deep(backend, point)
    _assert_dc_uefi(facts)
    assert {i.container for i in facts.images} == {fmt}
    assert {i.disk_type for i in facts.images} == {"dynamic"}
    json.dumps(facts.to_json())  # the JSON form is plain data


def test_two_volume_uefi_point_over_every_backend(
    disks: DiskImages, located: tuple[str, Path | None, Access], kind: str
) -> None:
    location, disk, access = located
    if disk is None:
        pytest.skip("the images are written on disk and read over local, SMB and SFTP")
    efi, system = disks.uefi_split("vhdx")
    point = _point(disk, "DC01", [(efi, "", ""), (system, "C:", "System")], DC_WRITERS)
    started = time.monotonic()
    with open_backend(parse_location(location), access) as backend:
        facts = _deep(backend, point)
    _assert_dc_uefi(facts)
    assert time.monotonic() - started < 20
    # Random access: far less than the images' size crossed the wire.
    assert facts.bytes_read < sum(p.stat().st_size for p in (efi, system)) / 4


def test_link_cut_mid_image_is_named(
    disks: DiskImages, samba: SambaServer, smb_folder: tuple[str, Path], smb_access: Access
) -> None:
    """The connection drops while an image is being read (a real smbd behind a proxy that cuts the link)."""
    url, disk = smb_folder
    efi, system = disks.uefi_split("vhdx")
    point = _point(disk, "DC01", [(efi, "", ""), (system, "C:", "System")], DC_WRITERS)
    with open_backend(parse_location(url), smb_access) as direct:
        (listed,) = inspect_machine(direct, point.rsplit("/", 1)[0], "DC01").recovery_points
        volumes = [(v.image, v.access_path) for v in listed.volumes if v.image]
    proxy = CuttingProxy(samba.port, cut_after=6000)
    try:
        started = time.monotonic()
        with open_backend(parse_location(url.replace(f":{samba.port}/", f":{proxy.port}/")), smb_access) as cut:
            facts = deep_inspect(cut, point, volumes, "DC01", set(DC_WRITERS))
        assert time.monotonic() - started < 20
    finally:
        proxy.close()
    assert proxy.cuts_done == 1
    assert {"share-read-failed", "image-unreadable"} & _codes(facts), facts.all_problems
    assert not facts.ok


def test_json_shape(tmp_path: Path, disks: DiskImages) -> None:
    efi, system = disks.uefi_split("vhdx")
    point = _point(tmp_path, "DC01", [(efi, "", ""), (system, "C:", "System")], DC_WRITERS)
    with _local(tmp_path) as backend:
        data = json.loads(json.dumps(_deep(backend, point).to_json()))
    assert data["firmware"] == "UEFI"
    assert data["target_disks"]["minimum_count"] == 1
    assert data["windows"]["computer"] == "DC01" and data["windows"]["sysvol_replication"] == "dfsr"
    assert data["windows"]["clustered"] is False and data["windows"]["certificate_services"] is False
    assert data["images"][0]["partitions"][0]["kind"] == "efi"
    assert data["images"][0]["partitions"][0]["file_system"]["kind"] == "fat32"
    assert data["images"][1]["partitions"][2]["file_system"]["windows"] is True
    assert data["ok"] is True and data["problems"] == []
    assert data["bytes_read"] == sum(i["bytes_read"] for i in data["images"])


@pytest.mark.parametrize("fmt", ["vhd", "vhdx"])
def test_bios_point(tmp_path: Path, disks: DiskImages, fmt: str) -> None:
    point = _point(tmp_path, "DC01", [(disks.bios_disk(fmt), "C:", "System")], DC_WRITERS)
    with _local(tmp_path) as backend:
        facts = _deep(backend, point)
    assert facts.ok and not facts.all_problems, facts.all_problems
    assert facts.firmware == "BIOS"
    assert facts.install_media == "Windows Server 2019 Standard, build 17763, x64, BIOS"
    (image,) = facts.images
    assert image.partition_style == "mbr" and image.disk_id == f"0x{MBR_SIGNATURE:08x}"
    (part,) = image.partitions
    assert part.partition.kind == "basic-data" and part.partition.type_id == "0x07"
    assert part.file_system is not None and set(part.file_system.boot_files) == {"\\bootmgr", "\\Boot\\BCD"}
    (disk,) = facts.target_disks
    assert disk.style == "mbr" and disk.size == 64 * MIB


def test_member_server_roles_and_writer_mismatch(tmp_path: Path, disks: DiskImages) -> None:
    image = disks.uefi_disk("vhdx", MEMBER_SERVER, tag="fs")
    # NTDS writer files next to a server without the NTDS service: the writer files came from elsewhere.
    point = _point(tmp_path, "FS01", [(image, "C:", "System")], [known.ASR, known.SYSTEM, known.NTDS])
    with _local(tmp_path) as backend:
        facts = _deep(backend, point)
    win = facts.windows
    assert win is not None and win.computer == "FS01" and not win.domain_controller
    assert win.product_type == "ServerNT"
    data = win.to_json()
    assert data["clustered"] is True and data["certificate_services"] is True and data["sysvol_replication"] is None
    assert facts.install_media == "Windows Server 2022 Datacenter, build 20348, x64, UEFI"
    assert _codes(facts) == {"dc-writers-without-ntds"}


def test_dc_without_dc_writers_and_hostname_mismatch(tmp_path: Path, disks: DiskImages) -> None:
    point = _point(tmp_path, "DC01-OLD", [(disks.uefi_disk("vhdx"), "C:", "System")], [known.ASR, known.SYSTEM])
    with _local(tmp_path) as backend:
        facts = _deep(backend, point)
    assert facts.windows is not None and facts.windows.domain_controller
    assert _codes(facts) == {"ntds-without-dc-writers", "hostname-mismatch"}
    mismatch = next(p for p in facts.problems if p.code == "hostname-mismatch")
    assert "DC01" in mismatch.message and "DC01-OLD" in mismatch.message


def test_missing_efi_image_means_no_boot_files(tmp_path: Path, disks: DiskImages) -> None:
    _efi, system = disks.uefi_split("vhdx")
    point = _point(tmp_path, "DC01", [(system, "C:", "System")], DC_WRITERS)
    with _local(tmp_path) as backend:
        facts = _deep(backend, point)
    assert _codes(facts) == {"no-boot-files"}
    assert not facts.ok
    assert facts.firmware == "UEFI"  # the disk is GPT with an EFI partition, even if its image is absent


def test_efi_volume_alone_is_no_system_volume(tmp_path: Path, disks: DiskImages) -> None:
    efi, _system = disks.uefi_split("vhdx")
    point = _point(tmp_path, "DC01", [(efi, "C:", "System")], DC_WRITERS)
    with _local(tmp_path) as backend:
        facts = _deep(backend, point)
    # FAT32 on the EFI partition is right for it (no not-ntfs); but no Windows is there.
    assert _codes(facts) == {"system-volume-missing"}


def test_damaged_system_entry_keeps_the_volume_facts(tmp_path: Path, disks: DiskImages) -> None:
    point = _point(tmp_path, "DC01", [(disks.huge_attribute_list("vhdx"), "C:", "System")], DC_WRITERS)
    with _local(tmp_path) as backend:
        facts = _deep(backend, point)
    system = facts.images[0].partitions[2].file_system
    assert system is not None and system.kind == "ntfs" and system.used is not None and system.dirty is False
    assert _codes(facts) == {"hive-unreadable", "system-volume-missing"}


def test_dynamic_disk_is_named(tmp_path: Path, disks: DiskImages) -> None:
    point = _point(tmp_path, "SRV", [(disks.dynamic_disk("vhdx"), "D:", "Data")], [])
    with _local(tmp_path) as backend:
        facts = _deep(backend, point, needs_system=False)
    assert [p.partition.kind for p in facts.images[0].partitions] == ["ldm-metadata", "ldm-data"]
    assert [p.code for p in facts.all_problems] == ["dynamic-disk"] and not facts.ok


def test_gpt_without_efi_partition_has_unknown_firmware(tmp_path: Path, disks: DiskImages) -> None:
    point = _point(tmp_path, "DC01", [(disks.gpt_without_efi("vhdx"), "C:", "System")], DC_WRITERS)
    with _local(tmp_path) as backend:
        facts = _deep(backend, point)
    assert facts.windows is not None and facts.windows.computer == "DC01"
    assert facts.firmware is None
    assert facts.install_media == "Windows Server 2019 Standard, build 17763, x64"
    assert _codes(facts) == {"firmware-unknown", "no-boot-files"}


def test_data_only_point_needs_no_system(tmp_path: Path, disks: DiskImages) -> None:
    point = _point(tmp_path, "FS01", [(disks.data_disk("vhdx"), "D:", "Data")], [])
    with _local(tmp_path) as backend:
        facts = _deep(backend, point, needs_system=False)
        strict = _deep(backend, point)
    assert facts.ok and not facts.all_problems
    assert facts.windows is None and facts.install_media is None and facts.target_disks == ()
    (part,) = facts.images[0].partitions
    assert part.file_system is not None and part.file_system.kind == "ntfs" and not part.file_system.windows
    assert part.file_system.used is not None and part.file_system.used > 3 * MIB  # the 3 MiB file is counted
    assert _codes(strict) == {"system-volume-missing"}


def test_bare_volume_without_partition_table(tmp_path: Path, disks: DiskImages) -> None:
    point = _point(tmp_path, "FS01", [(disks.bare_volume("vhdx"), "D:", "Data")], [])
    with _local(tmp_path) as backend:
        facts = _deep(backend, point, needs_system=False)
    (image,) = facts.images
    assert image.partition_style == "none" and image.disk_id is None
    (part,) = image.partitions
    assert part.partition.kind == "volume" and part.partition.offset == 0
    assert part.file_system is not None and part.file_system.kind == "ntfs" and part.file_system.label == "Bare"


HOSTILE: list[tuple[str, Callable[[DiskImages, str], Path], str]] = [
    ("truncated", DiskImages.truncated, "image-truncated"),
    ("random", DiskImages.random_bytes, "image-unreadable"),
    ("bogus-gpt", DiskImages.bogus_table, "partition-table-invalid"),
    ("overlapping-gpt", DiskImages.overlapping_table, "partition-table-invalid"),
    ("bogus-mbr", DiskImages.bogus_mbr, "partition-table-invalid"),
    ("garbage-ntfs", DiskImages.garbage_ntfs, "file-system-unreadable"),
    ("looping-runs", DiskImages.looping_runs, "file-system-unreadable"),
    ("bitlocker", DiskImages.bitlocker, "bitlocker"),
    ("dirty", DiskImages.dirty, "dirty"),
    ("garbage-hive", DiskImages.garbage_hive, "hive-unreadable"),
    ("huge-attribute-list", DiskImages.huge_attribute_list, "hive-unreadable"),
    ("fat32-system", DiskImages.fat_system, "not-ntfs"),
]


@pytest.mark.parametrize(("case", "build", "code"), HOSTILE, ids=[h[0] for h in HOSTILE])
@pytest.mark.parametrize("fmt", ["vhdx", "vhd"])
def test_hostile_and_damaged_images(
    tmp_path: Path, disks: DiskImages, case: str, build: Callable[[DiskImages, str], Path], code: str, fmt: str
) -> None:
    point = _point(tmp_path, "SRV", [(build(disks, fmt), "C:", "System")], [])
    started = time.monotonic()
    with _local(tmp_path) as backend:
        facts = _deep(backend, point)
    assert time.monotonic() - started < 10
    codes = {p.code for p in facts.images[0].problems}
    assert code in codes, facts.all_problems
    # None of them holds Windows: the point-level verdict follows.
    assert "system-volume-missing" in _codes(facts)
    assert facts.images[0].bytes_read < CAP
    json.dumps(facts.to_json())


@pytest.mark.parametrize("seed", range(8))
def test_randomly_damaged_ntfs_never_crashes_or_hangs(tmp_path: Path, disks: DiskImages, seed: int) -> None:
    """Sectors of the system volume overwritten at random: whatever breaks is a problem, never an exception."""
    point = _point(tmp_path, "DC01", [(disks.fuzzed("vhdx", seed), "C:", "System")], DC_WRITERS)
    started = time.monotonic()
    with _local(tmp_path) as backend:
        facts = _deep(backend, point, Limits(seconds=10))
    assert time.monotonic() - started < 15
    assert facts.images[0].bytes_read < CAP
    json.dumps(facts.to_json())
    # The partition table is intact, so the layout is always read; what the damage hit decides the rest.
    assert [p.partition.kind for p in facts.images[0].partitions] == ["efi", "msr", "basic-data", "recovery"]
    if facts.windows is None:
        assert "system-volume-missing" in _codes(facts)


def test_hostile_bogus_mbr_keeps_the_sane_partition(tmp_path: Path, disks: DiskImages) -> None:
    point = _point(tmp_path, "SRV", [(disks.bogus_mbr("vhd"), "D:", "Data")], [])
    with _local(tmp_path) as backend:
        facts = _deep(backend, point, needs_system=False)
    (image,) = facts.images
    messages = [p.message for p in image.problems if p.code == "partition-table-invalid"]
    assert any("outside" in m for m in messages) and any("overlap" in m for m in messages)
    assert [p.partition.number for p in image.partitions] == [1, 2]
    first = image.partitions[0].file_system
    assert first is not None and first.kind == "ntfs"


@pytest.mark.parametrize("fmt", ["vhdx", "vhd"])
def test_mbr_logical_partitions_are_read(tmp_path: Path, disks: DiskImages, fmt: str) -> None:
    """An sfdisk-made MBR disk: the primary and the logical partitions of its EBR chain, their NTFS read."""
    point = _point(tmp_path, "SRV", [(disks.logical_mbr(fmt), "D:", "Data")], [])
    with _local(tmp_path) as backend:
        facts = _deep(backend, point, needs_system=False)
    (image,) = facts.images
    assert not image.problems, image.problems
    assert image.partition_style == "mbr" and image.disk_id == f"0x{MBR_SIGNATURE:08x}"
    found = [(p.partition.number, p.partition.type_id, p.partition.offset // 512) for p in image.partitions]
    assert found == [(1, "0x07", 2048), (2, "0x07", 43008), (3, "0x0c", 83968)]
    labels = [p.file_system.label if p.file_system else None for p in image.partitions[:2]]
    assert labels == ["Data", "Logical"]


def test_looping_ebr_chain_is_named_and_the_partitions_before_kept(tmp_path: Path, disks: DiskImages) -> None:
    point = _point(tmp_path, "SRV", [(disks.looping_ebr("vhdx"), "D:", "Data")], [])
    started = time.monotonic()
    with _local(tmp_path) as backend:
        facts = _deep(backend, point, needs_system=False)
    assert time.monotonic() - started < 10
    (image,) = facts.images
    messages = [p.message for p in image.problems if p.code == "partition-table-invalid"]
    assert any("loops" in m for m in messages), image.problems
    assert [p.partition.offset // 512 for p in image.partitions] == [2048, 43008, 83968]
    first = image.partitions[0].file_system
    assert first is not None and first.kind == "ntfs" and first.label == "Data"


def test_bitlocker_volume_is_named_not_read(tmp_path: Path, disks: DiskImages) -> None:
    point = _point(tmp_path, "SRV", [(disks.bitlocker("vhdx"), "D:", "Data")], [])
    with _local(tmp_path) as backend:
        facts = _deep(backend, point, needs_system=False)
    (part,) = facts.images[0].partitions
    assert part.file_system is not None and part.file_system.kind == "bitlocker"
    assert _codes(facts) == {"bitlocker"} and not facts.ok


def test_byte_cap_stops_reading(tmp_path: Path, disks: DiskImages) -> None:
    efi, system = disks.uefi_split("vhdx")
    point = _point(tmp_path, "DC01", [(efi, "", ""), (system, "C:", "System")], DC_WRITERS)
    limits = Limits(max_bytes=256 * 1024)
    with _local(tmp_path) as backend:
        facts = _deep(backend, point, limits)
    assert "read-cap-exceeded" in {p.code for i in facts.images for p in i.problems}
    assert all(i.bytes_read <= limits.max_bytes for i in facts.images)


def test_big_software_hive_costs_its_size_or_is_skipped(tmp_path: Path, disks: DiskImages) -> None:
    point = _point(tmp_path, "DC01", [(disks.uefi_big_software("vhdx"), "C:", "System")], DC_WRITERS)
    with _local(tmp_path) as backend:
        full = _deep(backend, point)
        small = _deep(backend, point, Limits(max_bytes=8 * MIB))
    # libregf visits every hive bin: the 12 MiB hive is read, and that stays under the 64 MiB cap.
    assert full.ok and not full.all_problems, full.all_problems
    assert full.windows is not None and full.windows.product_name == DC.product_name
    assert 12 * MIB < full.bytes_read < CAP
    # Under a cap smaller than the hive, SOFTWARE is skipped up front; SYSTEM's facts and the build stay.
    assert _codes(small) == {"software-hive-too-large"}
    win = small.windows
    assert win is not None and win.computer == "DC01" and win.product_name is None and win.edition_id is None
    assert win.build == DC.build  # from Windows\servicing\Version
    assert small.install_media == "Windows Server 2019, build 17763, x64, UEFI"
    assert small.bytes_read < 8 * MIB


def test_deadline_stops_reading(tmp_path: Path, disks: DiskImages) -> None:
    point = _point(tmp_path, "DC01", [(disks.uefi_disk("vhdx"), "C:", "System")], DC_WRITERS)
    with _local(tmp_path) as backend:
        facts = _deep(backend, point, Limits(seconds=0.0))
    assert "read-timeout" in _codes(facts)
    assert facts.windows is None


def test_reader_counts_caches_and_flags_short_reads(tmp_path: Path) -> None:
    data = os.urandom(100_000)
    (tmp_path / "f.bin").write_bytes(data)
    with _local(tmp_path) as backend:
        reader = BoundedReader(backend, "f.bin", len(data) + 5000, Limits(block=4096))  # claims more than exists
        assert reader.pread(10, 100) == data[10:110]
        assert reader.bytes_read == 4096 and reader.requests == 1
        assert reader.pread(20, 50) == data[20:70]
        assert reader.requests == 1  # served from the cache
        reader.seek(-10, 2)
        assert reader.read() == b""
        assert reader.short_read
        reader.seek(99_990)
        assert reader.read(100) == data[99_990:]
        reader.close()
        capped = BoundedReader(backend, "f.bin", len(data), Limits(block=4096, max_bytes=8192))
        capped.pread(0, 8192)
        with pytest.raises(ReadLimitError) as caught:
            capped.pread(8192, 10)
        assert caught.value.code == "read-cap-exceeded" and capped.failure is caught.value
        capped.close()
        # Re-reading cached blocks costs no traffic, but a reader looping over them is stopped too.
        looping = BoundedReader(backend, "f.bin", len(data), Limits(block=4096, max_served=40_000))
        with pytest.raises(ReadLimitError) as looped:
            for _ in range(100):
                looping.pread(0, 4096)
        assert looped.value.code == "read-cap-exceeded" and looping.bytes_read == 4096
        looping.close()


class _Handle:
    """Stands for an open libyal handle busy in C: records the abort the deadline sends."""

    def __init__(self) -> None:
        self.aborted = False
        self.closed = False

    def signal_abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.closed = True


def test_deadline_aborts_handles_busy_in_c(tmp_path: Path) -> None:
    (tmp_path / "f.bin").write_bytes(b"x" * 1000)
    with _local(tmp_path) as backend:
        reader = BoundedReader(backend, "f.bin", 1000, Limits(seconds=0.05))
        busy, done = reader.watch(_Handle()), reader.watch(_Handle())
        reader.release(done)
        deadline = time.monotonic() + 5
        while reader.failure is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert busy.aborted and not done.aborted and done.closed
        assert reader.failure is not None and reader.failure.code == "read-timeout"
        with pytest.raises(ReadLimitError):
            reader.pread(0, 10)
        reader.close()


@pytest.mark.servers  # hivexsh and the system python3-hivex (Debian packages)
def test_seed_hive_and_values_read_by_hivexsh(tmp_path: Path) -> None:
    """The test hives are real: hivex's own shell (not the reader under test) reads them back."""
    assert seed_hive()[:4] == b"regf" and len(seed_hive()) == 8192
    hive = tmp_path / "SYSTEM"
    write_hive(hive, system_hive_spec(DC))
    out = subprocess.run(
        ["hivexsh", str(hive)],
        input="cd \\ControlSet001\\Control\\ComputerName\\ComputerName\nlsval\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert '"ComputerName"="DC01"' in out
