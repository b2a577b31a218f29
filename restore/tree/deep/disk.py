"""The disk in a volume image: container (VHDX/VHD by libvhdi), partition table (GPT by libvsgpt, MBR by mbr.py, or a
bare volume)."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import pyvhdi
import pyvsgpt

from restore.tree.deep.mbr import MbrError, read_mbr
from restore.tree.deep.reader import BoundedReader

GPT_KINDS = {
    "c12a7328-f81f-11d2-ba4b-00a0c93ec93b": "efi",
    "e3c9e316-0b5c-4db8-817d-f92df00215ae": "msr",
    "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7": "basic-data",
    "de94bba4-06d1-4d40-a16a-bfd50179d6ac": "recovery",
    "5808c8aa-7e8f-42e0-85d2-e1e90434cfb3": "ldm-metadata",
    "af9b60a0-1431-4f62-bc68-3311714a69ad": "ldm-data",
    "e75caf8f-f680-4cee-afa3-b001e56efc2d": "storage-spaces",
}
MBR_KINDS = {
    0x07: "basic-data",  # NTFS, exFAT (and ReFS)
    0x0B: "basic-data",
    0x0C: "basic-data",
    0x06: "basic-data",
    0x0E: "basic-data",
    0x27: "recovery",
    0xEF: "efi",
    0x42: "ldm-data",
    0xEE: "gpt-protective",
}
MAX_PARTITIONS = 128  # what Windows creates on a GPT disk; more is a bogus table
DISK_TYPES = {2: "fixed", 3: "dynamic", 4: "differencing"}
FILE_SYSTEM_IDS = (b"NTFS    ", b"-FVE-FS-", b"MSDOS5.0", b"MSWIN4.1", b"EXFAT   ", b"ReFS\0\0\0\0", b"mkfs.fat")


TRUNCATED = "it ends before data its own tables point to: the copy is truncated or its block table is damaged"


class DiskError(Exception):
    """The container or partition table cannot be read; ``code`` is the stable problem code."""

    def __init__(self, code: str, message: str) -> None:
        if code == "image-truncated" and TRUNCATED not in message:
            message = f"{message}; {TRUNCATED}"
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Partition:
    """One partition (or the whole disk when there is no partition table)."""

    number: int  # 1-based, as Windows numbers them; 0 for a bare volume
    kind: str  # efi, msr, basic-data, recovery, ldm-metadata, ldm-data, storage-spaces, volume, other
    type_id: str  # GPT type GUID, or the MBR type as 0xNN
    offset: int
    size: int
    identifier: str | None = None  # GPT partition GUID


@dataclass(frozen=True)
class DiskLayout:
    container: str  # vhdx or vhd
    disk_type: str  # fixed, dynamic, differencing
    virtual_size: int
    style: str  # gpt, mbr, none
    disk_id: str | None  # GPT disk GUID or MBR signature (0x........): the images of one source disk share it
    partitions: tuple[Partition, ...]
    problems: tuple[tuple[str, str], ...] = ()  # (code, message): a damaged table whose sane entries were kept


def failure_code(reader: BoundedReader, default: str) -> str:
    """The code for a library error: our own limit or truncation when that is what made the library fail."""
    if reader.failure is not None:
        return reader.failure.code
    if reader.short_read:
        return "image-truncated"
    return default


def open_container(reader: BoundedReader, name: str, source: Any = None) -> Any:
    """The virtual disk of a .vhdx or .vhd file, opened through ``source`` (default ``reader``; a VHDX whose log
    was replayed passes the replayed file) while ``reader`` keeps the count, limits and failure."""
    disk = reader.watch(pyvhdi.file())
    try:
        disk.open_file_object(reader if source is None else source)
    except (OSError, ValueError, TypeError) as exc:
        reader.release(disk)
        code = failure_code(reader, "image-unreadable")
        if reader.failure is not None:
            raise reader.failure from exc
        if code == "image-unreadable" and _vhd_lost_its_footer(reader):
            raise DiskError("image-truncated", f"{name}: the VHD footer at the end is missing") from exc
        raise DiskError(code, f"{name}: libvhdi cannot open it as a VHD or VHDX image ({_short(exc)})") from exc
    return disk


def _vhd_lost_its_footer(reader: BoundedReader) -> bool:
    """A dynamic VHD keeps a copy of its footer at the start: with that copy and no footer, the end was cut off."""
    if reader.size < 1024:
        return False
    return reader.pread(0, 8) == b"conectix" and reader.pread(reader.size - 512, 8) != b"conectix"


def container_facts(disk: Any, reader: BoundedReader, name: str) -> tuple[str, str, int]:
    """(container, disk type, virtual size); a differencing disk is refused: its parent is not in the point."""
    # libvhdi reports format version 1.0 for both kinds: the file's first bytes tell them apart.
    container = "vhdx" if reader.pread(0, 8) == b"vhdxfile" else "vhd"
    disk_type = DISK_TYPES.get(int(disk.get_disk_type()), "unknown")
    if disk_type == "differencing":
        raise DiskError("image-differencing", f"{name} is a differencing image: its parent disk is not in the point")
    return container, disk_type, int(disk.get_media_size())


def read_layout(disk: Any, reader: BoundedReader, name: str) -> DiskLayout:
    """The partition table of the virtual disk."""
    container, disk_type, virtual_size = container_facts(disk, reader, name)
    head = _read(disk, reader, 0, 1024)
    if len(head) < 1024:
        raise DiskError("partition-table-invalid", f"{name}: the virtual disk is too small to hold a partition table")
    if head[512:520] == b"EFI PART":
        return _gpt(disk, reader, name, head, container, disk_type, virtual_size)
    if head[3:11] in FILE_SYSTEM_IDS or head[82:90] == b"FAT32   " or head[54:59] == b"FAT16":
        # A file system's boot sector at sector 0 also ends in 55 AA: this is a bare volume, not an MBR.
        bare = Partition(0, "volume", "", 0, virtual_size)
        return DiskLayout(container, disk_type, virtual_size, "none", None, (bare,))
    if head[510:512] == b"\x55\xaa":
        return _mbr(disk, reader, name, head, container, disk_type, virtual_size)
    return DiskLayout(container, disk_type, virtual_size, "none", None, (Partition(0, "volume", "", 0, virtual_size),))


def _read(disk: Any, reader: BoundedReader, offset: int, size: int) -> bytes:
    try:
        disk.seek(offset)
        data: bytes = disk.read(size)
    except (OSError, ValueError) as exc:
        if reader.failure is not None:
            raise reader.failure from exc
        raise DiskError(
            failure_code(reader, "image-unreadable"), f"reading the virtual disk failed ({_short(exc)})"
        ) from exc
    return data


def _gpt(
    disk: Any, reader: BoundedReader, name: str, head: bytes, container: str, disk_type: str, virtual_size: int
) -> DiskLayout:
    disk_id = str(uuid.UUID(bytes_le=head[512 + 56 : 512 + 72])).upper()
    table = reader.watch(pyvsgpt.volume())
    try:
        table.open_file_object(disk)
        count = int(table.get_number_of_partitions())
        if count > MAX_PARTITIONS:
            raise DiskError("partition-table-invalid", f"{name}: the GPT lists {count} partitions")
        found = []
        for index in range(count):
            reader.check_time()
            entry = table.get_partition(index)
            # The type_identifier property, not get_type_identifier(): in libvsgpt-python 20260911 that method
            # returns the partition's own GUID.
            type_id = str(entry.type_identifier).lower()
            found.append(
                Partition(
                    int(entry.get_entry_index()) + 1,
                    GPT_KINDS.get(type_id, "other"),
                    type_id,
                    int(entry.get_volume_offset()),
                    int(entry.get_size()),
                    str(entry.get_identifier()).lower(),
                )
            )
    except (OSError, ValueError) as exc:
        if reader.failure is not None:
            raise reader.failure from exc
        raise DiskError(
            failure_code(reader, "partition-table-invalid"),
            f"{name}: the GPT partition table cannot be read ({_short(exc)})",
        ) from exc
    finally:
        reader.release(table)
    kept, problems = _sane(found, virtual_size, name)
    return DiskLayout(container, disk_type, virtual_size, "gpt", disk_id, kept, problems)


def _mbr(
    disk: Any, reader: BoundedReader, name: str, head: bytes, container: str, disk_type: str, virtual_size: int
) -> DiskLayout:
    try:
        table = read_mbr(
            lambda offset, size: _read(disk, reader, offset, min(size, max(0, virtual_size - offset))),
            virtual_size,
            tick=reader.check_time,
        )
    except MbrError as exc:
        raise DiskError("partition-table-invalid", f"{name}: the MBR partition table cannot be read ({exc})") from exc
    if table.protective:
        # A protective MBR stands in front of a GPT, whose header is in sector 1 (read_layout looked there first).
        raise DiskError(
            "partition-table-invalid", f"{name}: a protective MBR (type EE) says GPT, but sector 1 holds no GPT header"
        )
    found = [
        Partition(number, MBR_KINDS.get(part.type_id, "other"), f"0x{part.type_id:02x}", part.offset, part.size)
        for number, part in enumerate(table.partitions, 1)
    ]
    kept, problems = _sane(found, virtual_size, name)
    damage = tuple(("partition-table-invalid", f"{name}: {problem}") for problem in table.problems)
    return DiskLayout(container, disk_type, virtual_size, "mbr", f"0x{table.signature:08x}", kept, damage + problems)


def _sane(
    found: list[Partition], virtual_size: int, name: str
) -> tuple[tuple[Partition, ...], tuple[tuple[str, str], ...]]:
    """Keep the partitions that lie inside the disk; name the ones that do not, and overlaps."""
    kept: list[Partition] = []
    problems: list[tuple[str, str]] = []
    for part in found:
        if part.size <= 0 or part.offset < 0 or part.offset + part.size > virtual_size:
            problems.append(
                (
                    "partition-table-invalid",
                    f"{name}: partition {part.number} ({part.offset} + {part.size} bytes) lies outside the "
                    f"{virtual_size}-byte disk: the table is damaged",
                )
            )
            continue
        kept.append(part)
    ordered = sorted(kept, key=lambda p: p.offset)
    for before, after in itertools.pairwise(ordered):
        if before.offset + before.size > after.offset:
            problems.append(
                (
                    "partition-table-invalid",
                    f"{name}: partitions {before.number} and {after.number} overlap: the table is damaged",
                )
            )
    return tuple(kept), tuple(problems)


def _short(exc: BaseException) -> str:
    """The first clause of a libyal error: the rest is the library's internal call stack."""
    text = str(exc).strip()
    first = text.split(". ")[0]
    return first[:200]
