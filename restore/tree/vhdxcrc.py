"""CRC-32C (Castagnoli), the checksum of VHDX headers, region tables and log entries.

The blocks it covers are mostly zeros (a 4 KiB header holds about a hundred bytes, a 64 KiB region table a few
entries), so the zeros that end a block are not fed byte by byte: a run of zero bytes changes the CRC by a fixed
linear map, and the maps for 1, 2, 4, ... zero bytes are computed once and applied per set bit of the run's length.
"""

from __future__ import annotations

from functools import cache


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C = _crc32c_table()
ZERO_RUN = 256  # trailing zeros from this many on are skipped by the linear maps, not fed one by one
_LEVELS = 24  # maps for up to 2**23 zero bytes at once (longer runs apply the largest several times)

Map = tuple[list[int], list[int], list[int], list[int]]  # a linear map of the 32-bit state, one table per byte


def _map_of(images: list[int]) -> Map:
    """The tables of the linear map that sends bit ``i`` of the state to ``images[i]``."""
    tables = []
    for part in range(4):
        table = [0] * 256
        for value in range(1, 256):
            low = value & -value
            table[value] = table[value ^ low] ^ images[8 * part + low.bit_length() - 1]
        tables.append(table)
    return tables[0], tables[1], tables[2], tables[3]


def _apply(tables: Map, crc: int) -> int:
    return tables[0][crc & 0xFF] ^ tables[1][(crc >> 8) & 0xFF] ^ tables[2][(crc >> 16) & 0xFF] ^ tables[3][crc >> 24]


@cache
def _zero_maps() -> tuple[Map, ...]:
    """The map for 2**k zero bytes, k = 0 .. _LEVELS - 1, each the one before applied twice."""
    maps = [_map_of([_CRC32C[(1 << bit) & 0xFF] ^ ((1 << bit) >> 8) for bit in range(32)])]
    while len(maps) < _LEVELS:
        half = maps[-1]
        maps.append(_map_of([_apply(half, _apply(half, 1 << bit)) for bit in range(32)]))
    return tuple(maps)


def _skip_zeros(crc: int, count: int) -> int:
    maps = _zero_maps()
    while count:
        level = min(count.bit_length(), _LEVELS) - 1
        crc = _apply(maps[level], crc)
        count -= 1 << level
    return crc


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum VHDX uses for headers, region tables and log entries."""
    crc = 0xFFFFFFFF
    table = _CRC32C
    whole = bytes(data)
    body = whole.rstrip(b"\0")
    zeros = len(whole) - len(body)
    if zeros < ZERO_RUN:
        body, zeros = whole, 0
    for byte in body:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    if zeros:
        crc = _skip_zeros(crc, zeros)
    return crc ^ 0xFFFFFFFF
