"""CRC-32C with the zeros that end a block skipped by linear maps: the same value as feeding every byte."""

from __future__ import annotations

import random

import pytest

from restore.tree import vhdxcrc


def _bitwise(data: bytes) -> int:
    """CRC-32C the slow way, bit by bit, as the spec defines it (reflected 0x1EDC6F41, inverted in and out)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def test_the_check_value() -> None:
    assert vhdxcrc.crc32c(b"123456789") == 0xE3069283
    assert vhdxcrc.crc32c(b"") == 0


@pytest.mark.parametrize("seed", range(6))
def test_blocks_ending_in_zeros_of_every_length(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(20):
        head = rnd.randbytes(rnd.choice([0, 1, 7, 100, 4096]))
        zeros = rnd.choice([0, 1, vhdxcrc.ZERO_RUN - 1, vhdxcrc.ZERO_RUN, vhdxcrc.ZERO_RUN + 1, 3996, 65456])
        data = head + bytes(zeros)
        assert vhdxcrc.crc32c(data) == _bitwise(data), (len(head), zeros)
        assert vhdxcrc.crc32c(bytearray(data)) == _bitwise(data)


def test_runs_longer_than_the_largest_map(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vhdxcrc, "_LEVELS", 3)  # maps for 1, 2 and 4 zero bytes: a run of 1000 applies 4 many times
    vhdxcrc._zero_maps.cache_clear()
    try:
        for data in (b"\x01" + bytes(1000), bytes(777), b"VHDX" + bytes(4092)):
            assert vhdxcrc.crc32c(data) == _bitwise(data)
    finally:
        vhdxcrc._zero_maps.cache_clear()
