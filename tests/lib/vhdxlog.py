"""Build a VHDX whose log is pending, per MS-VHDX, over an image qemu-img made.

``unflush(image, target)`` writes ``target``: a copy of ``image`` in which the block table's allocated sectors
are set back to zero (as if Windows had written the new table only to its log), one zero sector of the table
carries garbage (a zero descriptor clears it), and the log holds the entries that restore both: two entries of
one sequence, plus an older stale entry that must NOT be replayed. The current header gets a LogGuid. Replaying
the log (Windows, ``qemu-img check -r all``, or bmr in memory) gives back ``image``'s disk exactly.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from pathlib import Path

from restore.tree.vhdxcrc import crc32c

SECTOR = 4096
KIB = 1024
BAT_REGION = uuid.UUID("2DC27766-F623-4200-9D64-115E9BFD4A08")
LOG_GUID = uuid.UUID("6A0B2C3D-4E5F-4071-8293-A4B5C6D7E8F9")
GARBAGE = b"\xab" * SECTOR


@dataclass(frozen=True)
class Layout:
    header_offset: int  # the current header
    log_offset: int
    log_length: int
    bat_offset: int
    bat_length: int


def layout(data: bytes) -> Layout:
    best = (-1, 0)
    for offset in (64 * KIB, 128 * KIB):
        if data[offset : offset + 4] == b"head":
            (seq,) = struct.unpack_from("<Q", data, offset + 8)
            best = max(best, (seq, offset))
    header = best[1]
    log_length, log_offset = struct.unpack_from("<IQ", data, header + 68)
    table = 192 * KIB
    (count,) = struct.unpack_from("<I", data, table + 8)
    for index in range(count):
        base = table + 16 + index * 32
        if uuid.UUID(bytes_le=data[base : base + 16]) == BAT_REGION:
            bat_offset, bat_length = struct.unpack_from("<QI", data, base + 16)
            return Layout(header, log_offset, log_length, bat_offset, bat_length)
    raise ValueError("no BAT region")


def _checksummed(block: bytearray, at: int = 4) -> bytes:
    block[at : at + 4] = b"\0\0\0\0"
    struct.pack_into("<I", block, at, crc32c(bytes(block)))
    return bytes(block)


def log_entry(
    sequence: int,
    tail: int,
    writes: list[tuple[int, bytes | None, int]],
    flushed: int,
    last: int,
    guid: uuid.UUID = LOG_GUID,
) -> bytes:
    """One log entry: ``writes`` are (file offset, 4 KiB of data, 0) or (file offset, None, zero length)."""
    count = len(writes)
    descriptor_sectors = -(-(count + 2) // 128)
    data_sectors = [w for w in writes if w[1] is not None]
    length = (descriptor_sectors + len(data_sectors)) * SECTOR
    entry = bytearray(length)
    struct.pack_into(
        "<4sIIIQII16sQQ", entry, 0, b"loge", 0, length, tail, sequence, count, 0, guid.bytes_le, flushed, last
    )
    at = descriptor_sectors * SECTOR
    for index, (offset, data, zero_length) in enumerate(writes):
        base = 64 + index * 32
        if data is None:
            struct.pack_into("<4sIQQQ", entry, base, b"zero", 0, zero_length, offset, sequence)
            continue
        leading, trailing = struct.unpack_from("<Q", data, 0)[0], struct.unpack_from("<I", data, SECTOR - 4)[0]
        struct.pack_into("<4sIQQQ", entry, base, b"desc", trailing, leading, offset, sequence)
        sector = bytearray(SECTOR)
        struct.pack_into("<4sI", sector, 0, b"data", sequence >> 32)
        sector[8 : SECTOR - 4] = data[8 : SECTOR - 4]
        struct.pack_into("<I", sector, SECTOR - 4, sequence & 0xFFFFFFFF)
        entry[at : at + SECTOR] = sector
        at += SECTOR
    return _checksummed(entry)


def unflush(image: Path, target: Path, *, flushed_extra: int = 0) -> int:
    """Write ``target`` (see the module); returns how many sectors the log restores. ``flushed_extra`` > 0 makes the
    log claim a larger file than the copy: a truncated copy, whose log cannot be replayed."""
    data = bytearray(image.read_bytes())
    lay = layout(bytes(data))
    size = len(data)
    sectors = [
        (offset, bytes(data[offset : offset + SECTOR]))
        for offset in range(lay.bat_offset, lay.bat_offset + lay.bat_length, SECTOR)
        if any(data[offset : offset + SECTOR])
    ]
    assert sectors, "the image has no allocated block"
    zero_at = next(
        offset
        for offset in range(lay.bat_offset + lay.bat_length - SECTOR, lay.bat_offset, -SECTOR)
        if not any(data[offset : offset + SECTOR])
    )
    for offset, _ in sectors:
        data[offset : offset + SECTOR] = bytes(SECTOR)  # the table as it was before the logged change
    data[zero_at : zero_at + SECTOR] = GARBAGE
    first = [(o, d, 0) for o, d in sectors[: len(sectors) // 2 or 1]]
    second: list[tuple[int, bytes | None, int]] = [(o, d, 0) for o, d in sectors[len(sectors) // 2 or 1 :]]
    second.append((zero_at, None, SECTOR))
    flushed = size + flushed_extra
    one = log_entry(41, 0, list(first), flushed, size)
    two = log_entry(42, 0, second, flushed, size)  # the head: its tail names the sequence's first entry
    # An older entry of an earlier sequence, further on in the log: valid, but not the active sequence.
    stale = log_entry(7, len(one) + len(two) + SECTOR, [(sectors[0][0], GARBAGE, 0)], size, size)
    log = bytearray(lay.log_length)
    log[: len(one)] = one
    log[len(one) : len(one) + len(two)] = two
    stale_at = len(one) + len(two) + SECTOR
    log[stale_at : stale_at + len(stale)] = stale
    data[lay.log_offset : lay.log_offset + lay.log_length] = log
    header = bytearray(data[lay.header_offset : lay.header_offset + SECTOR])
    header[48:64] = LOG_GUID.bytes_le
    data[lay.header_offset : lay.header_offset + SECTOR] = _checksummed(header)
    target.write_bytes(bytes(data))
    return len(sectors) + 1
