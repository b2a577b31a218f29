"""One partition's file system: its kind, NTFS size, use and dirty flag, FAT32 of EFI, BitLocker, boot files."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pybde
import pyfsfat
import pyfsntfs

from restore.tree.deep.disk import DiskError, failure_code
from restore.tree.deep.reader import BoundedReader, Window

MAX_BITMAP = 16 * 1024 * 1024  # $Bitmap of a 512 GiB volume with 4 KiB clusters; bigger: used space unknown
SYSTEM_HIVE = "\\Windows\\System32\\config\\SYSTEM"
BOOT_FILES_BIOS = ("\\bootmgr", "\\Boot\\BCD")
BOOT_FILES_EFI = ("\\EFI\\Microsoft\\Boot\\BCD", "\\EFI\\Microsoft\\Boot\\bootmgfw.efi", "\\EFI\\Boot\\bootx64.efi")
VOLUME_DIRTY = 0x0001
T = TypeVar("T")


@dataclass(frozen=True)
class FileSystem:
    """What one partition holds."""

    kind: str  # ntfs, fat32, fat16, fat12, exfat, refs, bitlocker, empty, unknown
    label: str | None = None
    size: int | None = None  # bytes the file system spans
    used: int | None = None  # bytes in allocated clusters (NTFS)
    cluster_size: int | None = None
    dirty: bool | None = None  # NTFS: chkdsk will run at the next mount
    windows: bool = False  # holds Windows\System32\config\SYSTEM
    boot_files: tuple[str, ...] = ()
    encryption: str | None = None  # BitLocker's method, when libbde can read its metadata

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "size": self.size,
            "used": self.used,
            "cluster_size": self.cluster_size,
            "dirty": self.dirty,
            "windows": self.windows,
            "boot_files": list(self.boot_files),
            "encryption": self.encryption,
        }


def kind_of(boot: bytes) -> str:
    """The file system named by a boot sector's OEM id and FAT type fields."""
    if len(boot) < 512:
        return "unknown"
    oem = boot[3:11]
    if oem == b"-FVE-FS-":
        return "bitlocker"
    if oem == b"NTFS    ":
        return "ntfs"
    if oem == b"EXFAT   ":
        return "exfat"
    if oem == b"ReFS\0\0\0\0":
        return "refs"
    if boot[82:90] == b"FAT32   ":
        return "fat32"
    if boot[54:59] == b"FAT16":
        return "fat16"
    if boot[54:59] == b"FAT12":
        return "fat12"
    if boot.count(0) == len(boot):
        return "empty"
    return "unknown"


def inspect_file_system(window: Window, reader: BoundedReader, label: str) -> tuple[FileSystem, Any | None]:
    """The facts of the partition in ``window``, and the open NTFS volume (for the hives) when it is NTFS."""
    boot = window.pread(0, 512)
    kind = kind_of(boot)
    if kind == "bitlocker":
        return FileSystem("bitlocker", size=window.size, encryption=_bitlocker_method(window, reader)), None
    if kind == "ntfs":
        return _ntfs(window, reader, boot, label)
    if kind.startswith("fat"):
        return _fat(window, reader, boot, kind, label), None
    return FileSystem(kind, size=window.size if kind != "empty" else None), None


def _bitlocker_method(window: Window, reader: BoundedReader) -> str | None:
    """The encryption method from BitLocker's metadata; None when libbde cannot read it (the signature stands)."""
    volume = reader.watch(pybde.volume())
    try:
        volume.open_file_object(window)
        return str(volume.get_encryption_method())
    except (OSError, ValueError):
        if reader.failure is not None:
            raise reader.failure from None
        return None
    finally:
        reader.release(volume)


def _library_error(reader: BoundedReader, what: str, exc: BaseException) -> DiskError:
    if reader.failure is not None:
        return DiskError(reader.failure.code, str(reader.failure))
    text = str(exc).split(". ")[0][:200]
    return DiskError(failure_code(reader, "file-system-unreadable"), f"{what}: {text}")


def _ntfs(window: Window, reader: BoundedReader, boot: bytes, label: str) -> tuple[FileSystem, Any]:
    (bytes_per_sector,) = struct.unpack_from("<H", boot, 11)
    (total_sectors,) = struct.unpack_from("<Q", boot, 40)
    size = total_sectors * bytes_per_sector
    volume = reader.watch(pyfsntfs.volume())
    try:
        volume.open_file_object(window)
        cluster = int(volume.get_cluster_block_size())
        name = volume.get_name()
        # Used space and the dirty flag are extras: a damaged $Bitmap or $Volume leaves them unknown.
        used = _optional(lambda: _used(volume, reader, cluster, size), reader)
        dirty = _optional(lambda: _dirty(volume, window, reader), reader)
        # A SYSTEM whose entry cannot be read is there but damaged: the hive reader names that.
        windows = _lookup(volume, SYSTEM_HIVE, reader) is not False
        boot_files = tuple(path for path in BOOT_FILES_BIOS if _lookup(volume, path, reader))
    except (OSError, ValueError) as exc:
        reader.release(volume)
        raise _library_error(reader, f"{label}: the NTFS file system cannot be read", exc) from exc
    facts = FileSystem("ntfs", name, size, used, cluster, dirty, windows, boot_files)
    return facts, volume


def _optional(read: Callable[[], T], reader: BoundedReader) -> T | None:
    """``read()``, or None when the library fails on damaged data (a read limit still stops everything)."""
    try:
        return read()
    except (OSError, ValueError, struct.error):
        if reader.failure is not None:
            raise reader.failure from None
        return None


def _lookup(volume: Any, path: str, reader: BoundedReader) -> bool | None:
    """Whether ``path`` exists; None when its entry (or a folder on the way) is damaged."""
    try:
        return volume.get_file_entry_by_path(path) is not None
    except (OSError, ValueError):
        if reader.failure is not None:
            raise reader.failure from None
        return None


def _used(volume: Any, reader: BoundedReader, cluster: int, size: int) -> int | None:
    """Allocated bytes: the set bits of $Bitmap (MFT record 6), one per cluster."""
    bitmap = volume.get_file_entry(6)
    length = int(bitmap.get_size())
    clusters = size // cluster if cluster else 0
    if length > MAX_BITMAP or length * 8 < clusters:
        return None
    set_bits = 0
    done = 0
    bitmap.seek(0)
    while done < length:
        reader.check_time()
        chunk = bitmap.read(min(1024 * 1024, length - done))
        if not chunk:
            break
        set_bits += int.from_bytes(chunk, "little").bit_count()
        done += len(chunk)
    return set_bits * cluster


def _dirty(volume: Any, window: Window, reader: BoundedReader) -> bool | None:
    """The dirty bit of $VOLUME_INFORMATION in $Volume (MFT record 3)."""
    # libfsntfs does not expose the volume flags: read that one record where libfsntfs says the MFT starts.
    record_size = int(volume.get_mft_entry_size())
    mft = volume.get_file_entry(0)
    if record_size not in (1024, 4096) or mft.get_number_of_extents() < 1:
        return None
    offset, length, _flags = mft.get_extent(0)
    if length < 4 * record_size:
        return None
    record = bytearray(window.pread(int(offset) + 3 * record_size, record_size))
    if len(record) < record_size or record[:4] != b"FILE":
        return None
    usa_offset, usa_count = struct.unpack_from("<HH", record, 4)
    sector = 512
    if usa_count < 2 or usa_offset + 2 * usa_count > record_size or (usa_count - 1) * sector > record_size:
        return None
    # Undo the update sequence: the last two bytes of each sector are kept in the update sequence array.
    for index in range(1, usa_count):
        end = index * sector - 2
        record[end : end + 2] = record[usa_offset + 2 * index : usa_offset + 2 * index + 2]
    (at,) = struct.unpack_from("<H", record, 20)
    for _ in range(64):  # a record holds a few attributes; a loop here is a damaged record
        reader.check_time()
        if at + 24 > record_size:
            return None
        kind, length_of = struct.unpack_from("<II", record, at)
        if kind == 0xFFFFFFFF or length_of < 24 or at + length_of > record_size:
            return None
        if kind == 0x70 and record[at + 8] == 0:  # $VOLUME_INFORMATION, always resident
            (content,) = struct.unpack_from("<H", record, at + 20)
            if at + content + 12 > record_size:
                return None
            (flags,) = struct.unpack_from("<H", record, at + content + 10)
            return bool(flags & VOLUME_DIRTY)
        at += length_of
    return None


def _fat(window: Window, reader: BoundedReader, boot: bytes, kind: str, label: str) -> FileSystem:
    bytes_per_sector, sectors_per_cluster = struct.unpack_from("<HB", boot, 11)
    (small_total,) = struct.unpack_from("<H", boot, 19)
    (large_total,) = struct.unpack_from("<I", boot, 32)
    size = (small_total or large_total) * bytes_per_sector
    volume = reader.watch(pyfsfat.volume())
    try:
        volume.open_file_object(window)
        name = (volume.get_label() or "").strip() or None
        boot_files = tuple(path for path in BOOT_FILES_EFI if volume.get_file_entry_by_path(path) is not None)
    except (OSError, ValueError) as exc:
        raise _library_error(reader, f"{label}: the FAT file system cannot be read", exc) from exc
    finally:
        reader.release(volume)
    return FileSystem(kind, name, size, None, bytes_per_sector * sectors_per_cluster, None, False, boot_files)
