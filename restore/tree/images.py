"""Disk image headers: VHDX (MS-VHDX) and VHD (the 512-byte 'conectix' footer). Reads headers, never whole images.

Each check takes a ``read(offset, size)`` function so that it works over any backend and on plain bytes.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from restore.tree.vhdxcrc import crc32c as crc32c
from restore.tree.vhdxlog import LogNotReplayable, plan_replay

Reader = Callable[[int, int], bytes]

KIB = 1024
VHDX_HEADERS = (64 * KIB, 128 * KIB)
VHDX_REGION_TABLES = (192 * KIB, 256 * KIB)
VHDX_MIN_SIZE = 1024 * KIB  # identifier, two headers, two region tables, then the log, BAT and metadata
METADATA_REGION = uuid.UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E")
VIRTUAL_DISK_SIZE = uuid.UUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
VHD_DISK_TYPES = {2: "fixed", 3: "dynamic", 4: "differencing"}


@dataclass(frozen=True)
class ImageCheck:
    """What the header says. ``problem`` is None when the header is sound."""

    format: str  # "vhdx", "vhd" or "unknown"
    virtual_size: int | None
    problem: str | None = None
    pending_log: str | None = None  # a VHDX whose log still holds writes (vhdx-log-pending): said as a warning


def _with_zeroed_checksum(block: bytes) -> bytes:
    return block[:4] + b"\0\0\0\0" + block[8:]


def check_vhdx(read: Reader, file_size: int) -> ImageCheck:
    if file_size < VHDX_MIN_SIZE:
        return ImageCheck("vhdx", None, f"only {file_size} bytes: too short for a VHDX image (truncated copy?)")
    if read(0, 8) != b"vhdxfile":
        return ImageCheck("unknown", None, "no 'vhdxfile' signature at the start: not a VHDX image")
    best_seq = -1
    for offset in VHDX_HEADERS:
        header = read(offset, 4 * KIB)
        if len(header) == 4 * KIB and header[:4] == b"head":
            (stored,) = struct.unpack_from("<I", header, 4)
            if stored == crc32c(_with_zeroed_checksum(header)):
                (seq,) = struct.unpack_from("<Q", header, 8)
                best_seq = max(best_seq, seq)
    if best_seq < 0:
        return ImageCheck("vhdx", None, "neither VHDX header has a valid signature and checksum: the image is damaged")
    pending = _pending_log(read, file_size)
    for offset in VHDX_REGION_TABLES:
        table = read(offset, 64 * KIB)
        size = _virtual_size_from_regions(read, table, file_size)
        if size is not None:
            return ImageCheck("vhdx", size, pending_log=pending)
    return ImageCheck(
        "vhdx", None, "no valid region table or metadata: the virtual disk size cannot be read", pending_log=pending
    )


def _pending_log(read: Reader, file_size: int) -> str | None:
    """What to say about a log that still holds writes; None when there is none (LogGuid zero, or no valid entry)."""
    try:
        replay = plan_replay(read, file_size)
    except LogNotReplayable as exc:
        return f"its log holds writes not yet applied, and they cannot be replayed: {exc}"
    if replay is None:
        return None
    return (
        f"its log holds writes not yet applied ({replay.entries} log entr{'y' if replay.entries == 1 else 'ies'}): "
        "Windows replays them when it mounts the image; readers that ignore the log (qemu-img read-only, libvhdi) "
        "see an older disk. bmr inspect --deep replays them in memory"
    )


def _virtual_size_from_regions(read: Reader, table: bytes, file_size: int) -> int | None:
    if len(table) != 64 * KIB or table[:4] != b"regi":
        return None
    (stored,) = struct.unpack_from("<I", table, 4)
    if stored != crc32c(_with_zeroed_checksum(table)):
        return None
    (count,) = struct.unpack_from("<I", table, 8)
    for index in range(min(count, 2047)):
        base = 16 + index * 32
        guid = uuid.UUID(bytes_le=table[base : base + 16])
        offset, length = struct.unpack_from("<QI", table, base + 16)
        if guid == METADATA_REGION and 0 < length <= 1024 * 1024 * 16 and offset + length <= file_size:
            return _virtual_size_from_metadata(read, offset, length)
    return None


def _virtual_size_from_metadata(read: Reader, region: int, length: int) -> int | None:
    head = read(region, min(length, 64 * KIB))
    if len(head) < 32 or head[:8] != b"metadata":
        return None
    (count,) = struct.unpack_from("<H", head, 10)
    for index in range(min(count, 2047)):
        base = 32 + index * 32
        if base + 32 > len(head):
            return None
        item = uuid.UUID(bytes_le=head[base : base + 16])
        offset, item_length = struct.unpack_from("<II", head, base + 16)
        if item == VIRTUAL_DISK_SIZE and item_length >= 8 and offset + 8 <= length:
            value = read(region + offset, 8)
            return struct.unpack("<Q", value)[0] if len(value) == 8 else None
    return None


def vhd_footer_checksum(footer: bytes) -> int:
    return (~sum(footer[:64] + footer[68:])) & 0xFFFFFFFF


def check_vhd(read: Reader, file_size: int) -> ImageCheck:
    if file_size < 512:
        return ImageCheck("vhd", None, f"only {file_size} bytes: too short for a VHD image (truncated copy?)")
    footer = read(file_size - 512, 512)
    if len(footer) < 512:
        return ImageCheck("vhd", None, "the file ended before its footer could be read: the image is truncated")
    if footer[:8] != b"conectix":
        # Dynamic disks keep a copy of the footer at the start; a truncated file keeps only that one.
        copy = read(0, 512)
        if len(copy) == 512 and copy[:8] == b"conectix":
            return ImageCheck(
                "vhd",
                _vhd_size(copy),
                "the footer at the end is missing or damaged: the image is truncated or corrupted",
            )
        return ImageCheck("unknown", None, "no 'conectix' footer: not a VHD image")
    (stored,) = struct.unpack_from(">I", footer, 64)
    if stored != vhd_footer_checksum(footer):
        return ImageCheck("vhd", _vhd_size(footer), "the VHD footer checksum is wrong: the image is damaged")
    return ImageCheck("vhd", _vhd_size(footer))


def _vhd_size(footer: bytes) -> int:
    return int(struct.unpack_from(">Q", footer, 48)[0])


def check_image(name: str, read: Reader, file_size: int) -> ImageCheck:
    """Check an image by its name's extension (``.vhdx`` or ``.vhd``)."""
    if file_size == 0:
        fmt = "vhdx" if name.lower().endswith(".vhdx") else "vhd"
        return ImageCheck(fmt, None, "the image file is empty (0 bytes)")
    if name.lower().endswith(".vhdx"):
        return check_vhdx(read, file_size)
    return check_vhd(read, file_size)
