"""The pure-Python MBR reader: real tables written by sfdisk and parted, hostile chains, random sectors."""

from __future__ import annotations

import re
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restore.tree.deep.mbr import MAX_LOGICAL, SECTOR, MbrError, MbrTable, read_mbr
from tests.lib.diskimages import sfdisk_table, tool_path

MIB = 1024 * 1024


def _file_reader(path: Path) -> Callable[[int, int], bytes]:
    data = path.read_bytes()
    return lambda offset, size: data[offset : offset + size]


def _read_file(path: Path) -> MbrTable:
    return read_mbr(_file_reader(path), path.stat().st_size)


def _sfdisk_dump(path: Path) -> list[tuple[int, int, int, int]]:
    """(number, start sector, sectors, type) of every partition sfdisk --dump lists, extended ones left out."""
    out = subprocess.run([tool_path("sfdisk"), "--dump", str(path)], check=True, capture_output=True, text=True).stdout
    found = []
    for line in out.splitlines():
        m = re.match(r"^\S+?(\d+) : start=\s*(\d+), size=\s*(\d+), type=([0-9a-f]+)", line)
        if m and int(m.group(4), 16) not in (0x05, 0x0F, 0x85):
            found.append((int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4), 16)))
    return found


def _as_dump(table: MbrTable) -> list[tuple[int, int, int, int]]:
    return [(p.slot, p.offset // SECTOR, p.size // SECTOR, p.type_id) for p in table.partitions]


SCRIPTS = {
    "primary-extended-logical": """label: dos
label-id: 0x1a2b3c4d
start=2048, size=20480, type=7, bootable
start=22528, size=10240, type=c
start=32768, size=98304, type=f
start=34816, size=8192, type=83
start=45056, size=8192, type=7
start=55296, size=4096, type=b
""",
    # The extended partition first, as type 05 (CHS), holding six logical partitions, then a primary after it.
    "extended-first": """label: dos
label-id: 0xdeadbeef
start=2048, size=90112, type=5
start=4096, size=8192, type=7
start=14336, size=8192, type=7
start=24576, size=8192, type=27
start=34816, size=8192, type=83
start=45056, size=8192, type=82
start=55296, size=8192, type=7
start=92160, size=8192, type=7
""",
    # Entries in slots 1 and 3 only (slot 2 empty), no extended partition.
    "gap": """label: dos
label-id: 0x00000001
1: start=2048, size=8192, type=7
3: start=20480, size=8192, type=ef
""",
}


@pytest.mark.parametrize("case", sorted(SCRIPTS))
def test_matches_sfdisk_dump(tmp_path: Path, case: str) -> None:
    disk = tmp_path / "disk.raw"
    sfdisk_table(disk, 64, SCRIPTS[case])
    table = _read_file(disk)
    assert _as_dump(table) == _sfdisk_dump(disk)
    assert not table.problems and not table.protective
    label = re.search(r"label-id: (0x[0-9a-f]+)", SCRIPTS[case])
    assert label is not None and table.signature == int(label.group(1), 16)
    logical = [p for p in table.partitions if p.logical]
    assert [p.slot for p in logical] == list(range(5, 5 + len(logical)))
    assert all(p.slot >= 5 for p in logical) and all(p.slot <= 4 for p in table.partitions if not p.logical)


def test_bootable_flag(tmp_path: Path) -> None:
    disk = tmp_path / "disk.raw"
    sfdisk_table(disk, 64, SCRIPTS["primary-extended-logical"])
    assert [p.bootable for p in _read_file(disk).partitions] == [True, False, False, False, False]


def test_matches_parted(tmp_path: Path) -> None:
    """parted writes its EBRs its own way (each just before its logical partition): the same answer as sfdisk's."""
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as out:
        out.truncate(64 * MIB)
    steps = ["mklabel", "msdos", "mkpart", "primary", "ntfs", "1MiB", "16MiB", "mkpart", "extended", "16MiB", "60MiB"]
    steps += ["mkpart", "logical", "ntfs", "17MiB", "30MiB", "mkpart", "logical", "fat32", "31MiB", "45MiB"]
    steps += ["mkpart", "logical", "ext2", "46MiB", "59MiB", "mkpart", "primary", "ntfs", "60MiB", "63MiB"]
    subprocess.run([tool_path("parted"), "-s", str(disk), *steps], check=True, capture_output=True, timeout=60)
    table = _read_file(disk)
    dump = _sfdisk_dump(disk)
    assert len(dump) == 5 and [n for n, *_ in dump] == [1, 3, 5, 6, 7]
    assert _as_dump(table) == dump
    assert not table.problems


def test_protective_mbr_of_gpt(tmp_path: Path) -> None:
    disk = tmp_path / "disk.raw"
    sfdisk_table(disk, 64, "label: gpt\nstart=2048, size=8192\n")
    table = _read_file(disk)
    assert table.protective and table.partitions == () and not table.problems


# --- hostile tables, built byte by byte ---------------------------------------------------------------------


def _entry(type_id: int, start: int, count: int, flag: int = 0) -> bytes:
    return struct.pack("<B3sB3sII", flag, b"\xfe\xff\xff", type_id, b"\xfe\xff\xff", start, count)


def _sector(*entries: bytes, signature: bytes = b"\x55\xaa") -> bytes:
    body = b"".join(entries).ljust(64, b"\0")
    return bytes(440) + struct.pack("<I", 0xCAFE) + bytes(2) + body + signature


class Disk:
    """A sparse disk of ``sectors`` sectors; counts the reads."""

    def __init__(self, sectors: int, length: int | None = None) -> None:
        self.size = sectors * SECTOR
        self.length = self.size if length is None else length  # what the file really holds (truncated copies)
        self.sectors: dict[int, bytes] = {}
        self.reads = 0

    def put(self, lba: int, sector: bytes) -> None:
        self.sectors[lba] = sector

    def read(self, offset: int, size: int) -> bytes:
        self.reads += 1
        out = bytearray()
        end = min(offset + size, self.length)
        while offset < end:
            lba, within = divmod(offset, SECTOR)
            take = min(end - offset, SECTOR - within)
            out += self.sectors.get(lba, bytes(SECTOR))[within : within + take]
            offset += take
        return bytes(out)

    def table(self) -> MbrTable:
        return read_mbr(self.read, self.size)


def _chain(disk: Disk, ext_start: int, ext_size: int, links: list[int]) -> None:
    """EBRs at ext_start + each of ``links`` (relative), each with one 100-sector logical partition, in order."""
    disk.put(0, _sector(_entry(0x07, 64, 100, 0x80), _entry(0x0F, ext_start, ext_size)))
    for i, rel in enumerate(links):
        nxt = _entry(0x05, links[i + 1], 200) if i + 1 < len(links) else b""
        disk.put(ext_start + rel, _sector(_entry(0x07, 2, 100), nxt))


def test_ebr_chain_is_followed() -> None:
    disk = Disk(10_000)
    _chain(disk, 1000, 8000, [0, 400, 200])  # links may point backwards; only a repeat is a loop
    table = disk.table()
    assert not table.problems
    assert [(p.offset // SECTOR, p.slot, p.logical) for p in table.partitions] == [
        (64, 1, False),
        (1002, 5, True),
        (1402, 6, True),
        (1202, 7, True),
    ]


def test_ebr_linking_to_itself_is_a_loop() -> None:
    disk = Disk(10_000)
    disk.put(0, _sector(_entry(0x0F, 1000, 8000)))
    disk.put(1000, _sector(_entry(0x07, 2, 100), _entry(0x05, 0, 200)))
    table = disk.table()
    assert len(table.partitions) == 1
    assert any("loops" in p for p in table.problems)
    assert disk.reads <= 3


def test_ebr_chain_loop_back_to_an_earlier_ebr() -> None:
    disk = Disk(10_000)
    _chain(disk, 1000, 8000, [0, 300, 600])
    disk.put(1600, _sector(_entry(0x07, 2, 100), _entry(0x05, 300, 200)))  # the last links to the second
    table = disk.table()
    assert [p.offset // SECTOR for p in table.partitions if p.logical] == [1002, 1302, 1602]
    assert any("loops" in p for p in table.problems)


def test_ebr_outside_the_extended_partition_or_the_disk() -> None:
    disk = Disk(10_000)
    _chain(disk, 1000, 500, [0])
    disk.put(1000, _sector(_entry(0x07, 2, 100), _entry(0x05, 600, 200)))  # past the extended partition
    table = disk.table()
    assert len([p for p in table.partitions if p.logical]) == 1
    assert any("outside the extended partition" in p for p in table.problems)
    disk = Disk(10_000)
    disk.put(0, _sector(_entry(0x0F, 0xFFFFFFF0, 0xFFFFFFFF)))  # the extended partition itself past the end
    table = disk.table()
    assert table.partitions == () and any("outside" in p for p in table.problems)
    assert disk.reads == 1


def test_truncated_copies() -> None:
    # The file ends before the EBR its table points to (the disk claims more).
    disk = Disk(10_000, length=1000 * SECTOR + 100)
    _chain(disk, 1000, 8000, [0])
    table = disk.table()
    assert table.partitions[0].slot == 1 and len(table.partitions) == 1
    assert any("cut off" in p for p in table.problems)
    # Shorter than one sector: no MBR at all.
    with pytest.raises(MbrError, match="shorter than one"):
        read_mbr(lambda offset, size: b"\x55\xaa"[offset : offset + size], 2)
    with pytest.raises(MbrError, match="55 AA"):
        Disk(10).table()


def test_ebr_without_signature_stops_the_chain() -> None:
    disk = Disk(10_000)
    _chain(disk, 1000, 8000, [0, 300])
    disk.put(1300, _sector(_entry(0x07, 2, 100), signature=b"\0\0"))
    table = disk.table()
    assert len(table.partitions) == 2 and any("55 AA" in p for p in table.problems)


def test_endless_chain_is_bounded() -> None:
    disk = Disk(1_000_000)
    links = [i * 10 for i in range(MAX_LOGICAL + 50)]
    _chain(disk, 1000, 900_000, links)
    table = disk.table()
    assert len([p for p in table.partitions if p.logical]) == MAX_LOGICAL
    assert any(f"past {MAX_LOGICAL} EBRs" in p for p in table.problems)
    assert disk.reads <= MAX_LOGICAL + 2


def test_bad_boot_flag_second_extended_and_empty_entries() -> None:
    disk = Disk(10_000)
    disk.put(
        0,
        _sector(
            _entry(0x07, 64, 100, flag=0x13),
            _entry(0x0F, 1000, 500),
            _entry(0x05, 2000, 500),
            _entry(0x07, 3000, 0),  # no sectors: an empty entry
        ),
    )
    disk.put(1000, _sector())  # an EBR with no logical partition (fdisk writes one for an empty extended)
    table = disk.table()
    assert table.partitions == ()
    assert any("boot flag 0x13" in p for p in table.problems)
    assert any("second extended" in p for p in table.problems)


def test_the_deadline_is_asked_at_every_ebr() -> None:
    disk = Disk(10_000)
    _chain(disk, 1000, 8000, [0, 100, 200, 300])
    calls: list[int] = []

    class Late(Exception):
        pass

    def tick() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise Late

    with pytest.raises(Late):
        read_mbr(disk.read, disk.size, tick=tick)
    assert len(calls) == 3


# --- random sectors: never an exception but MbrError, always bounded ----------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    head=st.binary(min_size=0, max_size=SECTOR),
    ebrs=st.dictionaries(st.integers(0, 63), st.binary(min_size=SECTOR, max_size=SECTOR), max_size=8),
    signed=st.booleans(),
    entries=st.lists(
        st.tuples(
            st.sampled_from([0x00, 0x80]) | st.integers(0, 255),
            st.sampled_from([0x00, 0x05, 0x0F, 0x85, 0x07, 0xEE]) | st.integers(0, 255),
            st.integers(0, 80) | st.integers(0, 2**32 - 1),
            st.integers(0, 80) | st.integers(0, 2**32 - 1),
        ),
        max_size=4,
    ),
)
def test_random_sectors_never_crash(
    head: bytes, ebrs: dict[int, bytes], signed: bool, entries: list[tuple[int, int, int, int]]
) -> None:
    disk = Disk(64)
    sector = bytearray(head.ljust(SECTOR, b"\0")) if len(head) == SECTOR or signed else bytearray(head)
    if signed and len(sector) == SECTOR:
        sector[510:512] = b"\x55\xaa"
        for i, (flag, type_id, start, count) in enumerate(entries):
            sector[446 + 16 * i : 462 + 16 * i] = _entry(type_id, start, count, flag)
    disk.length = len(sector) if len(sector) < SECTOR else disk.size
    disk.put(0, bytes(sector))
    for lba, data in ebrs.items():
        if lba:
            fixed = bytearray(data)
            fixed[510:512] = b"\x55\xaa"  # make the chain go on as far as the bytes allow
            disk.put(lba, bytes(fixed))
    try:
        table = disk.table()
    except MbrError:
        return
    assert len(table.partitions) <= 3 + MAX_LOGICAL
    assert disk.reads <= 2 + MAX_LOGICAL
    for part in table.partitions:
        assert part.size > 0 and part.offset >= 0
        assert 1 <= part.slot <= 4 if not part.logical else part.slot >= 5
