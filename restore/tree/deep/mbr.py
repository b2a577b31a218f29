"""The MBR partition table: the primary entries of sector 0 and the EBR chain of the logical partitions.

Sector 0 ends in 55 AA and holds four 16-byte entries at offset 446: boot flag, CHS start (ignored), type,
CHS end (ignored), first sector (LBA, 32-bit little-endian) and sector count. An extended partition (type 05,
0F or 85) holds a chain of EBRs: each is one sector, ending in 55 AA, whose first entry is a logical partition
(its start relative to that EBR) and whose second links to the next EBR (its start relative to the extended
partition). A protective entry (type EE) means the disk is GPT. Damage is reported, never raised, once sector 0
is an MBR at all: a looping, out-of-bounds or truncated chain stops there with the partitions found so far.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

SECTOR = 512
SIGNATURE = b"\x55\xaa"
ENTRIES_AT = 446
EXTENDED_TYPES = frozenset({0x05, 0x0F, 0x85})
PROTECTIVE = 0xEE
MAX_LOGICAL = 128  # more EBRs than any real disk has: a bogus chain

_ENTRY = struct.Struct("<B3sB3sII")


class MbrError(ValueError):
    """Sector 0 is no MBR: too short, or without the 55 AA signature."""


@dataclass(frozen=True)
class MbrPartition:
    """One primary or logical partition, in bytes from the start of the disk."""

    type_id: int
    offset: int
    size: int
    bootable: bool
    logical: bool
    slot: int  # 1-4 for a primary entry (its place in sector 0); 5, 6, ... for logical ones in chain order


@dataclass(frozen=True)
class MbrTable:
    signature: int  # the disk signature at offset 440 (Windows' disk identifier)
    partitions: tuple[MbrPartition, ...]  # primaries in entry order, then the logical ones in chain order
    protective: bool  # an EE entry: the real table is the GPT behind it
    problems: tuple[str, ...] = ()  # damage met; the partitions before it are kept


@dataclass(frozen=True)
class _Entry:
    flag: int
    type_id: int
    start: int  # sectors
    count: int  # sectors


def _entries(sector: bytes) -> list[_Entry]:
    found = []
    for index in range(4):
        flag, _chs1, type_id, _chs2, start, count = _ENTRY.unpack_from(sector, ENTRIES_AT + 16 * index)
        found.append(_Entry(flag, type_id, start, count))
    return found


def read_mbr(
    read: Callable[[int, int], bytes],
    disk_size: int,
    *,
    sector_size: int = SECTOR,
    tick: Callable[[], None] | None = None,
) -> MbrTable:
    """The table of the disk that ``read(offset, size)`` reads (short at its end); ``tick`` runs once per EBR.

    Raises MbrError when sector 0 is no MBR; everything after that is a problem in the result.
    """
    head = read(0, SECTOR)
    if len(head) < SECTOR:
        raise MbrError(f"the disk is {len(head)} bytes long, shorter than one {SECTOR}-byte sector")
    if head[510:512] != SIGNATURE:
        raise MbrError("sector 0 does not end in the MBR signature 55 AA")
    signature = int.from_bytes(head[440:444], "little")
    partitions: list[MbrPartition] = []
    problems: list[str] = []
    protective = False
    extended: tuple[int, _Entry] | None = None
    for slot, entry in enumerate(_entries(head), 1):
        if entry.type_id == 0:
            continue
        if entry.flag not in (0x00, 0x80):
            problems.append(f"MBR entry {slot} has the boot flag 0x{entry.flag:02x} (only 00 and 80 are valid)")
            continue
        if entry.type_id == PROTECTIVE:
            protective = True
            continue
        if entry.type_id in EXTENDED_TYPES:
            if extended is None:
                extended = (slot, entry)
            else:
                problems.append(f"MBR entry {slot} is a second extended partition: only the first one is read")
            continue
        if entry.count == 0:
            continue
        partitions.append(
            MbrPartition(
                entry.type_id,
                entry.start * sector_size,
                entry.count * sector_size,
                entry.flag == 0x80,
                logical=False,
                slot=slot,
            )
        )
    if extended is not None:
        partitions += _logical(read, disk_size, sector_size, extended, problems, tick)
    return MbrTable(signature, tuple(partitions), protective, tuple(problems))


def _logical(
    read: Callable[[int, int], bytes],
    disk_size: int,
    sector_size: int,
    extended: tuple[int, _Entry],
    problems: list[str],
    tick: Callable[[], None] | None,
) -> list[MbrPartition]:
    """The logical partitions of the EBR chain; stops at the first loop, bound or damage, naming it."""
    slot, entry = extended
    base = entry.start
    end = min(base + entry.count, disk_size // sector_size)  # sectors: the chain lives inside both
    found: list[MbrPartition] = []
    seen: set[int] = set()
    current = base
    while True:
        if tick is not None:
            tick()
        where = f"the EBR at sector {current}"
        if current in seen:
            problems.append(f"{where} was already read: the chain of logical partitions loops")
            break
        if len(seen) >= MAX_LOGICAL:
            problems.append(f"the chain of logical partitions goes on past {MAX_LOGICAL} EBRs: the rest is ignored")
            break
        if entry.count == 0 or not base <= current < end:
            problems.append(
                f"{where} lies outside the extended partition (entry {slot}, sectors {base}-{base + entry.count - 1})"
                " or the disk"
            )
            break
        seen.add(current)
        sector = read(current * sector_size, SECTOR)
        if len(sector) < SECTOR:
            problems.append(f"{where} is cut off by the end of the disk")
            break
        if sector[510:512] != SIGNATURE:
            problems.append(f"{where} does not end in 55 AA: the chain of logical partitions stops there")
            break
        first, link = _entries(sector)[:2]
        if first.type_id != 0 and first.count != 0:
            if first.flag not in (0x00, 0x80):
                problems.append(f"{where} has the boot flag 0x{first.flag:02x} (only 00 and 80 are valid)")
            else:
                found.append(
                    MbrPartition(
                        first.type_id,
                        (current + first.start) * sector_size,
                        first.count * sector_size,
                        first.flag == 0x80,
                        logical=True,
                        slot=5 + len(found),
                    )
                )
        if link.type_id == 0 or (link.start == 0 and link.count == 0):
            break
        if link.type_id not in EXTENDED_TYPES:
            problems.append(f"{where} links on with type 0x{link.type_id:02x}, not an extended type")
            break
        current = base + link.start
    return found
