"""The VHDX log (MS-VHDX 2.3.3): find the active log sequence of an image and the writes it still owes the file.

Windows writes metadata changes (the block table, metadata) to the image's log first and to their place after;
an image copied while its log was not yet flushed holds the newer state only in the log. A reader that ignores
it (libvhdi does) sees the older block table: blocks unallocated, volumes "empty". Replaying in memory gives the
disk Windows (or ``qemu-img check -r all``) would mount. Pure functions over a ``read(offset, size)`` callable.

Layout (little-endian): the header's LogGuid (48), LogVersion (64), LogLength (68), LogOffset (72). A log entry
is a multiple of 4 KiB: a 64-byte header ('loge', checksum, EntryLength, Tail, SequenceNumber, DescriptorCount,
reserved, LogGuid, FlushedFileOffset, LastFileOffset), 32-byte descriptors in the same and following sectors
('desc': TrailingBytes, LeadingBytes, FileOffset, SequenceNumber; 'zero': reserved, ZeroLength, FileOffset,
SequenceNumber), then one 4 KiB data sector per data descriptor ('data', SequenceHigh, 4084 bytes, SequenceLow).
The checksum is CRC-32C over the whole entry with its own field zero. The active sequence is the run of valid
entries with consecutive sequence numbers whose last (head) entry has the highest sequence number.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from restore.tree.vhdxcrc import crc32c

Reader = Callable[[int, int], bytes]

SECTOR = 4096
KIB = 1024
HEADERS = (64 * KIB, 128 * KIB)
ENTRY_HEADER = struct.Struct("<4sIIIQII16sQQ")  # 64 bytes
DESCRIPTOR = struct.Struct("<4sIQQQ")  # 32 bytes
MAX_LOG = 32 * 1024 * KIB  # larger logs are not read into memory: the image is reported, not replayed
ZERO_GUID = uuid.UUID(int=0)


class LogNotReplayable(Exception):
    """The image has a pending log that cannot be replayed (too large, damaged, or the file is cut short)."""


@dataclass(frozen=True)
class Header:
    """The current VHDX header's log fields."""

    sequence: int
    log_guid: uuid.UUID
    log_version: int
    log_length: int
    log_offset: int


@dataclass(frozen=True)
class Write:
    """One write the log owes the file: ``data`` (4 KiB) at ``offset``, or ``length`` zero bytes when data is None."""

    offset: int
    length: int
    data: bytes | None


@dataclass(frozen=True)
class Replay:
    """The active sequence's writes, in order, and the file size after them."""

    writes: tuple[Write, ...]
    entries: int
    head_sequence: int
    file_size: int


def current_header(read: Reader) -> Header | None:
    """The header with a valid signature and checksum and the higher sequence number; None when neither is."""
    best: Header | None = None
    for offset in HEADERS:
        block = read(offset, 4 * KIB)
        if len(block) != 4 * KIB or block[:4] != b"head":
            continue
        (stored,) = struct.unpack_from("<I", block, 4)
        if stored != crc32c(block[:4] + b"\0\0\0\0" + block[8:]):
            continue
        (sequence,) = struct.unpack_from("<Q", block, 8)
        guid = uuid.UUID(bytes_le=bytes(block[48:64]))
        version, length, log_offset = struct.unpack_from("<H2xIQ", block, 64)
        if best is None or sequence > best.sequence:
            best = Header(sequence, guid, version, length, log_offset)
    return best


def _descriptor_sectors(count: int) -> int:
    return -(-(count + 2) // 128)  # the 64-byte header takes the room of two descriptors


@dataclass(frozen=True)
class _Entry:
    start: int  # offset in the log
    length: int
    sequence: int
    tail: int
    flushed: int
    last: int
    writes: tuple[Write, ...]


def _entry_at(log: bytes, start: int, guid: uuid.UUID) -> _Entry | None:
    """The valid entry at ``start`` of the (circular) log, or None."""
    size = len(log)

    def take(offset: int, length: int) -> bytes:
        offset %= size
        if offset + length <= size:
            return log[offset : offset + length]
        return log[offset:] + log[: length - (size - offset)]

    head = take(start, ENTRY_HEADER.size)
    sig, checksum, length, tail, sequence, count, _, raw_guid, flushed, last = ENTRY_HEADER.unpack(head)
    if sig != b"loge" or length == 0 or length % SECTOR or length > size or sequence == 0:
        return None
    if uuid.UUID(bytes_le=bytes(raw_guid)) != guid or count * DESCRIPTOR.size > length:
        return None
    descriptor_sectors = _descriptor_sectors(count)
    if descriptor_sectors * SECTOR > length:
        return None
    entry = take(start, length)
    if checksum != crc32c(entry[:4] + b"\0\0\0\0" + entry[8:]):
        return None
    writes: list[Write] = []
    data_at = descriptor_sectors * SECTOR
    for index in range(count):
        sig, word, wide, file_offset, desc_sequence = DESCRIPTOR.unpack_from(entry, ENTRY_HEADER.size + index * 32)
        if desc_sequence != sequence or file_offset % SECTOR:
            return None
        if sig == b"zero":
            if wide % SECTOR:
                return None
            writes.append(Write(file_offset, wide, None))
        elif sig == b"desc":
            sector = entry[data_at : data_at + SECTOR]
            if len(sector) != SECTOR or sector[:4] != b"data":
                return None
            high, low = struct.unpack_from("<I", sector, 4)[0], struct.unpack_from("<I", sector, SECTOR - 4)[0]
            if (high << 32) | low != sequence:
                return None
            data = struct.pack("<Q", wide) + sector[8 : SECTOR - 4] + struct.pack("<I", word)
            writes.append(Write(file_offset, SECTOR, bytes(data)))
            data_at += SECTOR
        else:
            return None
    return _Entry(start % size, length, sequence, tail, flushed, last, tuple(writes))


def find_sequence(log: bytes, guid: uuid.UUID) -> list[_Entry]:
    """The active sequence: runs of valid entries with consecutive numbers; the one whose head number is highest."""
    best: list[_Entry] = []
    seen: dict[int, _Entry | None] = {}

    def entry(at: int) -> _Entry | None:
        at %= len(log)
        if at not in seen:
            seen[at] = _entry_at(log, at, guid)
        return seen[at]

    for start in range(0, len(log), SECTOR):
        first = entry(start)
        if first is None:
            continue
        run = [first]
        at = start + first.length
        while len(run) * SECTOR < len(log):
            following = entry(at)
            if following is None or following.sequence != run[-1].sequence + 1:
                break
            run.append(following)
            at += following.length
        if not best or run[-1].sequence > best[-1].sequence:
            best = run
    if best:
        # The head's Tail names where its sequence starts: replay from there (MS-VHDX); a tail outside the run
        # means the run is the end of a sequence whose start was overwritten: still the newest writes, kept whole.
        starts = [e.start for e in best]
        if best[-1].tail in starts:
            best = best[starts.index(best[-1].tail) :]
    return best


def log_state(read: Reader) -> tuple[Header, bytes] | None:
    """The current header and the log's bytes when the header names a log (LogGuid set); None when there is none.
    Raises LogNotReplayable when the log cannot be read."""
    header = current_header(read)
    if header is None or header.log_guid == ZERO_GUID or header.log_length == 0:
        return None
    if header.log_version != 0:
        raise LogNotReplayable(f"the log has version {header.log_version}, not 0: it cannot be replayed")
    if header.log_length % (1024 * KIB) or header.log_offset % (1024 * KIB) or header.log_offset == 0:
        raise LogNotReplayable("the header's log offset or length is not a multiple of 1 MiB: the header is damaged")
    if header.log_length > MAX_LOG:
        raise LogNotReplayable(f"the log is {header.log_length // (1024 * KIB)} MiB: too large to replay in memory")
    log = read(header.log_offset, header.log_length)
    if len(log) != header.log_length:
        raise LogNotReplayable("the file ends inside its log: the copy is truncated")
    return header, log


def plan_replay(read: Reader, file_size: int) -> Replay | None:
    """What replaying the pending log does; None when nothing is pending (no LogGuid, or no valid entry).
    Raises LogNotReplayable when a log is pending but cannot be replayed."""
    state = log_state(read)
    if state is None:
        return None
    header, log = state
    sequence = find_sequence(log, header.log_guid)
    if not sequence:
        return None
    head = sequence[-1]
    if head.flushed > file_size:
        raise LogNotReplayable(
            f"the log says the file was {head.flushed} bytes when it was written, the copy has {file_size}: "
            "the copy is truncated"
        )
    size = file_size
    if head.last > size:
        size = -(-head.last // (1024 * KIB)) * 1024 * KIB
    writes = tuple(w for entry in sequence for w in entry.writes)
    return Replay(writes, len(sequence), head.sequence, size)


def apply(replay: Replay, offset: int, data: bytes) -> bytes:
    """``data`` read at ``offset`` of the file, with the replayed writes laid over it."""
    end = offset + len(data)
    out: bytearray | None = None
    for write in replay.writes:
        lo, hi = max(offset, write.offset), min(end, write.offset + write.length)
        if lo >= hi:
            continue
        if out is None:
            out = bytearray(data)
        if write.data is None:
            out[lo - offset : hi - offset] = bytes(hi - lo)
        else:
            out[lo - offset : hi - offset] = write.data[lo - write.offset : hi - write.offset]
    return bytes(out) if out is not None else data
