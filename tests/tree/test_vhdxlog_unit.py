"""The VHDX log reader on synthetic files (fast tier): the active sequence, its tail, wrap-around, damage, limits."""

from __future__ import annotations

import contextlib
import struct
import uuid
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restore.tree.vhdxlog import MAX_LOG, LogNotReplayable, apply, plan_replay
from tests.lib.vhdxlog import LOG_GUID, _checksummed, log_entry

MIB = 1024 * 1024
SECTOR = 4096
LOG_AT = MIB
SIZE = 4 * MIB


def _file(log: bytes = b"", guid: uuid.UUID = LOG_GUID, log_length: int = MIB) -> bytearray:
    data = bytearray(SIZE)
    data[:8] = b"vhdxfile"
    header = bytearray(SECTOR)
    header[:4] = b"head"
    struct.pack_into("<Q", header, 8, 3)
    header[48:64] = guid.bytes_le
    struct.pack_into("<HHIQ", header, 64, 0, 1, log_length, LOG_AT)
    data[64 * 1024 : 64 * 1024 + SECTOR] = _checksummed(header)
    data[LOG_AT : LOG_AT + len(log)] = log
    return data


def _read(data: bytes | bytearray) -> Callable[[int, int], bytes]:
    return lambda offset, size: bytes(data[offset : offset + size])


def _sector(byte: int) -> bytes:
    return bytes([byte]) * SECTOR


def test_no_log_guid_or_no_entry_means_nothing_pending() -> None:
    assert plan_replay(_read(_file(guid=uuid.UUID(int=0))), SIZE) is None
    assert plan_replay(_read(_file()), SIZE) is None  # LogGuid set, log empty: nothing to replay


def test_replay_applies_data_then_zero_in_order() -> None:
    one = log_entry(5, 0, [(3 * MIB, _sector(1), 0), (3 * MIB + SECTOR, _sector(2), 0)], SIZE, SIZE)
    two = log_entry(6, 0, [(3 * MIB + SECTOR, None, SECTOR)], SIZE, SIZE)
    data = _file(one + two)
    replay = plan_replay(_read(data), SIZE)
    assert replay is not None and replay.entries == 2 and replay.head_sequence == 6
    view = apply(replay, 3 * MIB, bytes(data[3 * MIB : 3 * MIB + 2 * SECTOR]))
    assert view == _sector(1) + bytes(SECTOR)  # the zero descriptor of the later entry wins


def test_the_newest_sequence_wins_and_replay_starts_at_its_tail() -> None:
    stale = log_entry(7, 0, [(3 * MIB, _sector(9), 0)], SIZE, SIZE)  # an older sequence's entry
    log = bytearray(MIB)
    log[: len(stale)] = stale
    at = 4 * SECTOR
    starts = []
    for sequence, byte in ((99, 6), (100, 7), (101, 8)):
        tail = starts[-1] if sequence == 101 else at  # the head says its sequence starts at entry 100
        entry = log_entry(sequence, tail, [(3 * MIB + (byte - 6) * SECTOR, _sector(byte), 0)], SIZE, SIZE)
        log[at : at + len(entry)] = entry
        starts.append(at)
        at += len(entry)
    replay = plan_replay(_read(_file(bytes(log))), SIZE)
    assert replay is not None and replay.head_sequence == 101 and replay.entries == 2
    assert [w.data for w in replay.writes] == [_sector(7), _sector(8)]  # not 99's, not the stale entry's


def test_an_entry_may_wrap_around_the_end_of_the_log() -> None:
    entry = log_entry(12, MIB - SECTOR, [(3 * MIB, _sector(5), 0)], SIZE, SIZE)  # two sectors: header + data
    log = bytearray(MIB)
    log[MIB - SECTOR :] = entry[:SECTOR]
    log[:SECTOR] = entry[SECTOR:]
    replay = plan_replay(_read(_file(bytes(log))), SIZE)
    assert replay is not None and replay.writes[0].data == _sector(5)


def test_a_damaged_entry_is_not_replayed() -> None:
    entry = bytearray(log_entry(5, 0, [(3 * MIB, _sector(1), 0)], SIZE, SIZE))
    entry[SECTOR + 100] ^= 0xFF  # data sector changed: the checksum no longer holds
    assert plan_replay(_read(_file(bytes(entry))), SIZE) is None
    other = log_entry(5, 0, [(3 * MIB, _sector(1), 0)], SIZE, SIZE, guid=uuid.uuid4())  # another log's entry
    assert plan_replay(_read(_file(other)), SIZE) is None


def test_what_cannot_be_replayed_says_why() -> None:
    cut = log_entry(5, 0, [(3 * MIB, _sector(1), 0)], SIZE + MIB, SIZE)
    with pytest.raises(LogNotReplayable, match="truncated"):
        plan_replay(_read(_file(cut)), SIZE)
    with pytest.raises(LogNotReplayable, match="too large"):
        plan_replay(_read(_file(log_length=MAX_LOG + MIB)), SIZE)


def test_last_file_offset_grows_the_file() -> None:
    grow = log_entry(5, 0, [(SIZE + SECTOR, _sector(3), 0)], SIZE, SIZE + SECTOR * 2)
    replay = plan_replay(_read(_file(grow)), SIZE)
    assert replay is not None and replay.file_size == SIZE + MIB  # rounded up to 1 MiB, as the spec allows


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=64, max_size=3 * SECTOR), st.integers(0, 200))
def test_garbage_in_the_log_never_breaks_the_reader(noise: bytes, at_sector: int) -> None:
    log = bytearray(MIB)
    log[at_sector * SECTOR : at_sector * SECTOR + 4] = b"loge"
    log[at_sector * SECTOR + 4 : at_sector * SECTOR + 4 + len(noise)] = noise
    with contextlib.suppress(LogNotReplayable):
        plan_replay(_read(_file(bytes(log))), SIZE)
