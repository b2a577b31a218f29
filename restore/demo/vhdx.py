"""Write a small, empty, dynamic VHDX image (MS-VHDX): for `bmr demo`, which must work where qemu-img is absent.

The file holds the identifier, two headers, two region tables, an empty log, the metadata region and a BAT
with no block allocated: a real VHDX that reads as zeros (qemu-img and Windows open it).
"""

from __future__ import annotations

import struct
import uuid
from pathlib import Path

from restore.tree.images import METADATA_REGION, VIRTUAL_DISK_SIZE, crc32c

MIB = 1024 * 1024
BAT_REGION = uuid.UUID("2DC27766-F623-4200-9D64-115E9BFD4A08")
FILE_PARAMETERS = uuid.UUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
VIRTUAL_DISK_ID = uuid.UUID("BECA12AB-B2E6-4523-93EF-C309E000C746")
LOGICAL_SECTOR = uuid.UUID("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
PHYSICAL_SECTOR = uuid.UUID("CDA348C7-445D-4471-9CC9-E9885251C556")
BLOCK_SIZE = 32 * MIB
LOG_OFFSET, METADATA_OFFSET, BAT_OFFSET = 1 * MIB, 2 * MIB, 3 * MIB


def _with_checksum(block: bytearray) -> bytes:
    struct.pack_into("<I", block, 4, 0)
    struct.pack_into("<I", block, 4, crc32c(bytes(block)))
    return bytes(block)


def _header(sequence: int, file_write: uuid.UUID, data_write: uuid.UUID) -> bytes:
    block = bytearray(4096)
    struct.pack_into(
        "<4sIQ16s16s16sHHIQ", block, 0, b"head", 0, sequence, file_write.bytes_le, data_write.bytes_le,
        b"\0" * 16, 0, 1, MIB, LOG_OFFSET,
    )  # fmt: skip
    return _with_checksum(block)


def _region_table(bat_length: int) -> bytes:
    table = bytearray(64 * 1024)
    struct.pack_into("<4sIII", table, 0, b"regi", 0, 2, 0)
    struct.pack_into("<16sQII", table, 16, BAT_REGION.bytes_le, BAT_OFFSET, bat_length, 1)
    struct.pack_into("<16sQII", table, 48, METADATA_REGION.bytes_le, METADATA_OFFSET, MIB, 1)
    return _with_checksum(table)


def _metadata(virtual_size: int, disk_id: uuid.UUID) -> bytes:
    region = bytearray(MIB)
    items = [
        (FILE_PARAMETERS, struct.pack("<II", BLOCK_SIZE, 0), 0x4),
        (VIRTUAL_DISK_SIZE, struct.pack("<Q", virtual_size), 0x6),
        (VIRTUAL_DISK_ID, disk_id.bytes_le, 0x6),
        (LOGICAL_SECTOR, struct.pack("<I", 512), 0x6),
        (PHYSICAL_SECTOR, struct.pack("<I", 4096), 0x6),
    ]
    struct.pack_into("<8sHH", region, 0, b"metadata", 0, len(items))
    offset = 64 * 1024  # item data starts after the 64 KiB table
    for index, (item, data, flags) in enumerate(items):
        struct.pack_into("<16sIII", region, 32 + index * 32, item.bytes_le, offset, len(data), flags)
        region[offset : offset + len(data)] = data
        offset += 4096
    return bytes(region)


def bat_entries(virtual_size: int) -> int:
    """Payload blocks plus the sector-bitmap entries interleaved every chunk ratio blocks."""
    chunk_ratio = (2**23 * 512) // BLOCK_SIZE
    blocks = -(-virtual_size // BLOCK_SIZE)
    return blocks + (blocks - 1) // chunk_ratio if blocks else 0


def write_vhdx(path: Path, virtual_size: int) -> None:
    """Write an empty dynamic VHDX of ``virtual_size`` bytes (a multiple of 1 MiB) to ``path``."""
    if virtual_size <= 0 or virtual_size % MIB:
        raise ValueError("the virtual size must be a positive multiple of 1 MiB")
    bat_length = max(MIB, -(-bat_entries(virtual_size) * 8 // MIB) * MIB)
    file_write, data_write = uuid.uuid4(), uuid.uuid4()
    identifier = b"vhdxfile" + "bmr demo".encode("utf-16-le")
    with open(path, "wb") as image:
        image.write(identifier.ljust(64 * 1024, b"\0"))
        image.write(_header(1, file_write, data_write).ljust(64 * 1024, b"\0"))
        image.write(_header(2, file_write, data_write).ljust(64 * 1024, b"\0"))
        table = _region_table(bat_length)
        image.write(table)
        image.write(table)
        image.seek(METADATA_OFFSET)
        image.write(_metadata(virtual_size, uuid.uuid4()))
        image.seek(BAT_OFFSET + bat_length - 1)
        image.write(b"\0")  # the BAT: every block "not present", so the disk reads as zeros
