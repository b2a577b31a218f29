"""Real disk images for the deep-inspection tests, built as root with the tools Windows-like disks need:
sgdisk (GPT), mkfs.vfat + mtools (the EFI partition), mkntfs + ntfs-3g (NTFS, FUSE-mounted to fill it),
python3-hivex in the system Python (registry hives), qemu-img (VHDX and VHD containers).

Every image is built once per cache folder and reused; the raw disks are sparse and at most 100 MiB.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
import subprocess
import tempfile
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
SECTOR = 512
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-hivex lives in the system interpreter, not the venv

EFI_TYPE = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
MSR_TYPE = "E3C9E316-0B5C-4DB8-817D-F92DF00215AE"
BASIC_DATA_TYPE = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
RECOVERY_TYPE = "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC"
LDM_METADATA_TYPE = "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3"
LDM_DATA_TYPE = "AF9B60A0-1431-4F62-BC68-3311714A69AD"


@dataclass(frozen=True)
class WindowsFacts:
    """What the test hives say about the server."""

    computer: str = "DC01"
    product_name: str = "Windows Server 2019 Standard"
    edition_id: str = "ServerStandard"
    build: str = "17763"
    ubr: int = 6189
    architecture: str = "AMD64"
    time_zone: str = "Pacific Standard Time"
    product_type: str = "LanmanNT"  # what a domain controller has; "ServerNT" on a member server
    domain: str = "corp.example"
    services: tuple[str, ...] = ("NTDS", "DFSR", "Netlogon", "W32Time")
    software_padding_mib: int = 0  # filler values that make SOFTWARE as big as a real one (tens of MiB)


MEMBER_SERVER = WindowsFacts(
    computer="FS01",
    product_name="Windows Server 2022 Datacenter",
    edition_id="ServerDatacenter",
    build="20348",
    ubr=2762,
    time_zone="W. Europe Standard Time",
    product_type="ServerNT",
    services=("ClusSvc", "CertSvc", "W32Time"),
)


def tool_path(tool: str) -> str:
    found = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    if found is None:
        raise RuntimeError(f"{tool} is not installed: tests/run.sh installs the Debian packages the deep tests need")
    return found


def _run(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True, timeout=120)


def seed_hive() -> bytes:
    """The smallest hive hivex can open for writing: base block, one hbin with a root key and its security cell."""
    sid_admins = bytes([1, 2, 0, 0, 0, 0, 0, 5]) + struct.pack("<II", 32, 544)
    sid_world = bytes([1, 1, 0, 0, 0, 0, 0, 1]) + struct.pack("<I", 0)
    ace = struct.pack("<BBHI", 0, 0, 8 + len(sid_world), 0x000F003F) + sid_world
    acl = struct.pack("<BBHHH", 2, 0, 8 + len(ace), 1, 0) + ace
    owner_at = 20
    group_at = owner_at + len(sid_admins)
    dacl_at = group_at + len(sid_admins)
    descriptor = struct.pack("<BBHIIII", 1, 0, 0x8004, owner_at, group_at, 0, dacl_at)
    descriptor += sid_admins + sid_admins + acl

    def cell(body: bytes) -> bytes:
        size = (4 + len(body) + 7) // 8 * 8
        return struct.pack("<i", -size) + body + b"\0" * (size - 4 - len(body))

    root_at, name = 0x20, b"ROOT"
    none = 0xFFFFFFFF
    fields = (0x2C, 0, 0, none, 0, 0, none, none, 0, none, 0, none, 0, 0, 0, 0, 0, len(name), 0)
    root = b"nk" + struct.pack("<HQIIIIIIIIIIIIIIIHH", *fields) + name
    security_at = root_at + len(cell(root))
    root = root[:44] + struct.pack("<I", security_at) + root[48:]  # the key's security cell offset
    security = b"sk" + struct.pack("<HIIII", 0, security_at, security_at, 1, len(descriptor)) + descriptor
    cells = cell(root) + cell(security)
    free = 0x1000 - 0x20 - len(cells)
    hbin = b"hbin" + struct.pack("<III", 0, 0x1000, 0) + b"\0" * 16 + cells + struct.pack("<i", free)
    hbin += b"\0" * (0x1000 - len(hbin))
    base = bytearray(4096)
    struct.pack_into("<4sIIQIIIIIII", base, 0, b"regf", 1, 1, 0, 1, 3, 0, 1, root_at, 0x1000, 1)
    checksum = 0
    for (word,) in struct.iter_unpack("<I", bytes(base[:508])):
        checksum ^= word
    struct.pack_into("<I", base, 508, checksum)
    return bytes(base) + hbin


# Runs in the system Python: the seed and output paths from argv, [[key path, value name, type, value], ...]
# as JSON on stdin (a padded hive's list is longer than an argument may be).
_HIVEX_SCRIPT = r"""
import json, sys, hivex
seed, out, spec = sys.argv[1], sys.argv[2], json.load(sys.stdin)
h = hivex.Hivex(seed, write=True)
def node(path):
    at = h.root()
    for part in [p for p in path.split("\\") if p]:
        child = h.node_get_child(at, part)
        at = child if child else h.node_add_child(at, part)
    return at
values = {}
for path, name, kind, value in spec:
    at = node(path)
    if name is None:
        continue
    if kind == "dword":
        entry = {"key": name, "t": 4, "value": int(value).to_bytes(4, "little")}
    elif kind == "binary":
        entry = {"key": name, "t": 3, "value": bytes([len(values) % 251]) * int(value)}
    elif kind == "hex":
        entry = {"key": name, "t": 3, "value": bytes.fromhex(value)}
    elif kind == "multi":
        entry = {"key": name, "t": 7, "value": "".join(v + "\0" for v in value).encode("utf-16-le") + b"\0\0"}
    else:
        entry = {"key": name, "t": 2 if kind == "expand" else 1, "value": (value + "\0").encode("utf-16-le")}
    values.setdefault(at, []).append(entry)
for at, entries in values.items():
    h.node_set_values(at, entries)
h.commit(out)
"""

# "binary": the value is a length; "hex": a hex string; "multi": a list of strings; "sz"/"expand": a string
HiveSpec = list[tuple[str, str | None, str, object]]


def write_hive(path: Path, spec: HiveSpec) -> None:
    """A real hive file holding ``spec`` (key path, value name or None for a bare key, kind, value)."""
    if not Path(SYSTEM_PYTHON).exists():
        raise RuntimeError("the system python3 is missing: python3-hivex is installed for it")
    with tempfile.TemporaryDirectory() as scratch:
        seed = Path(scratch) / "seed"
        seed.write_bytes(seed_hive())
        subprocess.run(
            [SYSTEM_PYTHON, "-c", _HIVEX_SCRIPT, str(seed), str(path)],
            input=json.dumps(spec).encode(),
            check=True,
            capture_output=True,
            timeout=60,
        )


def system_hive_spec(facts: WindowsFacts) -> HiveSpec:
    control = "ControlSet001\\Control"
    spec: HiveSpec = [
        ("Select", "Current", "dword", 1),
        ("Select", "Default", "dword", 1),
        (f"{control}\\ComputerName\\ComputerName", "ComputerName", "sz", facts.computer),
        (f"{control}\\TimeZoneInformation", "TimeZoneKeyName", "sz", facts.time_zone),
        (f"{control}\\ProductOptions", "ProductType", "sz", facts.product_type),
        (f"{control}\\Session Manager\\Environment", "PROCESSOR_ARCHITECTURE", "sz", facts.architecture),
        ("ControlSet001\\Services\\Tcpip\\Parameters", "Domain", "sz", facts.domain),
    ]
    for service in facts.services:
        spec.append((f"ControlSet001\\Services\\{service}", "Start", "dword", 2))
    if "NTDS" in facts.services:
        spec.append(
            ("ControlSet001\\Services\\NTDS\\Parameters", "DSA Database file", "sz", "C:\\Windows\\NTDS\\ntds.dit")
        )
    return spec


def software_hive_spec(facts: WindowsFacts) -> HiveSpec:
    key = "Microsoft\\Windows NT\\CurrentVersion"
    spec: HiveSpec = [
        (key, "ProductName", "sz", facts.product_name),
        (key, "EditionID", "sz", facts.edition_id),
        (key, "CurrentBuild", "sz", facts.build),
        (key, "CurrentBuildNumber", "sz", facts.build),
        (key, "UBR", "dword", facts.ubr),
        (key, "InstallationType", "sz", "Server"),
    ]
    for index in range(facts.software_padding_mib * 1024 * 1024 // 8192):
        spec.append((f"Classes\\Filler{index // 64:04d}\\K{index % 64:02d}", "Data", "binary", 8192))
    return spec


# --- file systems -------------------------------------------------------------------------------------------


def make_fat32(path: Path, size: int, files: dict[str, bytes]) -> None:
    """A FAT32 volume file holding ``files`` ('/'-separated paths)."""
    with open(path, "wb") as out:
        out.truncate(size)
    # One sector per cluster keeps a 36 MiB volume above FAT32's minimum cluster count.
    _run(tool_path("mkfs.vfat"), "-F", "32", "-s", "1", "-n", "EFI", str(path))
    made: set[str] = set()
    with tempfile.TemporaryDirectory() as scratch:
        for name, data in files.items():
            parts = name.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                if folder not in made:
                    _run("mmd", "-i", str(path), f"::/{folder}")
                    made.add(folder)
            local = Path(scratch) / "f"
            local.write_bytes(data)
            _run("mcopy", "-i", str(path), str(local), f"::/{name}")


def make_ntfs(path: Path, size: int, start_sector: int, files: dict[str, bytes], label: str = "System") -> None:
    """An NTFS volume file holding ``files``, filled through a FUSE mount of ntfs-3g."""
    with open(path, "wb") as out:
        out.truncate(size)
    _run(tool_path("mkntfs"), "-F", "-Q", "-q", "-s", "512", "-p", str(start_sector), "-L", label, str(path))
    if not files:
        return
    with tempfile.TemporaryDirectory() as mount:
        _run(tool_path("ntfs-3g"), str(path), mount)
        try:
            for name, data in files.items():
                target = Path(mount, *name.split("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        finally:
            subprocess.run(["umount", mount], check=True, capture_output=True, timeout=60)


def windows_files(facts: WindowsFacts, scratch: Path, *, bios_boot: bool) -> dict[str, bytes]:
    """The system volume's files: the two hives, and for a BIOS system bootmgr and Boot/BCD."""
    write_hive(scratch / "SYSTEM", system_hive_spec(facts))
    write_hive(scratch / "SOFTWARE", software_hive_spec(facts))
    files = {
        "Windows/System32/config/SYSTEM": (scratch / "SYSTEM").read_bytes(),
        "Windows/System32/config/SOFTWARE": (scratch / "SOFTWARE").read_bytes(),
        "Windows/System32/ntoskrnl.exe": b"MZ" + os.urandom(4094),
        f"Windows/servicing/Version/10.0.{facts.build}.{facts.ubr}/readme.txt": b"servicing stack\r\n",
    }
    if bios_boot:
        write_hive(scratch / "BCD", [("Objects", None, "sz", None)])
        files["bootmgr"] = b"BOOTMGR" + os.urandom(8185)
        files["Boot/BCD"] = (scratch / "BCD").read_bytes()
    return files


def efi_files(scratch: Path) -> dict[str, bytes]:
    write_hive(scratch / "BCD", [("Objects", None, "sz", None)])
    return {
        "EFI/Microsoft/Boot/BCD": (scratch / "BCD").read_bytes(),
        "EFI/Microsoft/Boot/bootmgfw.efi": b"MZ" + os.urandom(8190),
        "EFI/Boot/bootx64.efi": b"MZ" + os.urandom(8190),
    }


# --- disks --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One partition of a test disk: where, what type, and what to put in it."""

    start_mib: int
    size_mib: int
    gpt_type: str
    name: str
    mbr_type: int = 0x07
    content: Callable[[Path, int, int], None] | None = None  # (volume file, size, start sector)


def _place(raw: Path, part: Part, scratch: Path) -> None:
    if part.content is None:
        return
    volume = scratch / f"volume-{part.start_mib}"
    part.content(volume, part.size_mib * MIB, part.start_mib * MIB // SECTOR)
    with open(volume, "rb") as src, open(raw, "r+b") as dst:
        offset = 0
        while chunk := src.read(MIB):
            if chunk.count(0) != len(chunk):  # skip zeros: the raw disk stays sparse
                dst.seek(part.start_mib * MIB + offset)
                dst.write(chunk)
            offset += len(chunk)
    volume.unlink()


def gpt_disk(raw: Path, size_mib: int, parts: list[Part], disk_guid: str, scratch: Path) -> None:
    with open(raw, "wb") as out:
        out.truncate(size_mib * MIB)
    args = [tool_path("sgdisk"), "-o", "-U", disk_guid]
    for number, part in enumerate(parts, 1):
        first = part.start_mib * MIB // SECTOR
        last = first + part.size_mib * MIB // SECTOR - 1
        args += ["-n", f"{number}:{first}:{last}", "-t", f"{number}:{part.gpt_type}", "-c", f"{number}:{part.name}"]
    _run(*args, str(raw))
    for part in parts:
        _place(raw, part, scratch)


def mbr_disk(raw: Path, size_mib: int, parts: list[Part], signature: int, scratch: Path) -> None:
    """An MBR disk; the first partition is marked active, as a BIOS system's boot partition is."""
    with open(raw, "wb") as out:
        out.truncate(size_mib * MIB)
    table = bytearray(SECTOR)
    struct.pack_into("<I", table, 440, signature)
    for index, part in enumerate(parts):
        entry = struct.pack(
            "<B3sB3sII",
            0x80 if index == 0 else 0,
            b"\xfe\xff\xff",
            part.mbr_type,
            b"\xfe\xff\xff",
            part.start_mib * MIB // SECTOR,
            part.size_mib * MIB // SECTOR,
        )
        table[446 + 16 * index : 446 + 16 * (index + 1)] = entry
    table[510:512] = b"\x55\xaa"
    with open(raw, "r+b") as out:
        out.write(table)
    for part in parts:
        _place(raw, part, scratch)


def sfdisk_table(raw: Path, size_mib: int, script: str) -> None:
    """An empty disk of ``size_mib`` whose partition table util-linux's sfdisk writes from ``script``."""
    with open(raw, "wb") as out:
        out.truncate(size_mib * MIB)
    subprocess.run(
        [tool_path("sfdisk"), "--no-reread", "--no-tell-kernel", "-q", str(raw)],
        input=script.encode(),
        check=True,
        capture_output=True,
        timeout=60,
    )


def sfdisk_disk(raw: Path, size_mib: int, script: str, parts: list[Part], scratch: Path) -> None:
    """An MBR disk written by util-linux's sfdisk from ``script`` (extended and logical partitions included);
    ``parts`` only says what to put where."""
    sfdisk_table(raw, size_mib, script)
    for part in parts:
        _place(raw, part, scratch)


# Primary 1 (NTFS), extended 2, logical 5 (NTFS) and 6 (FAT32 type), sectors of 512 bytes.
LOGICAL_MBR_SCRIPT = """label: dos
label-id: 0x1a2b3c4d
unit: sectors

start=2048, size=38912, type=7, bootable
start=40960, size=88064, type=f
start=43008, size=38912, type=7
start=83968, size=40960, type=c
"""


def convert(raw: Path, target: Path, fmt: str) -> None:
    """The raw disk as a dynamic VHDX or VHD (qemu's 'vpc'; force_size keeps the exact disk size)."""
    qemu = tool_path("qemu-img")
    options = ["-O", "vhdx"] if fmt == "vhdx" else ["-O", "vpc", "-o", "subformat=dynamic,force_size=on"]
    tmp = target.with_name(target.name + ".tmp")
    _run(qemu, "convert", "-q", "-f", "raw", *options, str(raw), str(tmp))
    tmp.rename(target)


# --- the catalogue of test images ---------------------------------------------------------------------------

DISK_GUID = "5B1E2A7C-3D44-4F0E-9A51-7C2D1E0B9F11"
MBR_SIGNATURE = 0x1A2B3C4D


def _ntfs(files: dict[str, bytes]) -> Callable[[Path, int, int], None]:
    return lambda path, size, start: make_ntfs(path, size, start, files)


def _fat(files: dict[str, bytes]) -> Callable[[Path, int, int], None]:
    return lambda path, size, start: make_fat32(path, size, files)


@dataclass
class DiskImages:
    """Builds and caches the test images in ``folder``; each method returns the image path(s)."""

    folder: Path
    _raw: dict[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def _cached(self, name: str, fmt: str, build: Callable[[Path, Path], None]) -> Path:
        target = self.folder / f"{name}.{fmt}"
        if target.exists():
            return target
        raw = self.folder / f"{name}.raw"
        if not raw.exists():
            with tempfile.TemporaryDirectory(dir=self.folder) as scratch:
                tmp = Path(scratch) / "disk.raw"
                build(tmp, Path(scratch))
                tmp.rename(raw)
        convert(raw, target, fmt)
        return target

    def uefi_layout(
        self, facts: WindowsFacts, scratch: Path, *, efi: bool, windows: bool, system_mib: int = 44
    ) -> list[Part]:
        """Windows' UEFI layout: EFI (FAT32), MSR, system (NTFS), recovery, on a ``system_mib + 56`` MiB disk."""
        return [
            Part(1, 36, EFI_TYPE, "EFI system partition", content=_fat(efi_files(scratch)) if efi else None),
            Part(37, 16, MSR_TYPE, "Microsoft reserved partition"),
            Part(
                53,
                system_mib,
                BASIC_DATA_TYPE,
                "Basic data partition",
                content=_ntfs(windows_files(facts, scratch, bios_boot=False)) if windows else None,
            ),
            Part(53 + system_mib, 2, RECOVERY_TYPE, "Windows RE"),
        ]

    def uefi_disk(self, fmt: str, facts: WindowsFacts = WindowsFacts(), tag: str = "dc") -> Path:
        """One image holding the whole GPT disk: EFI, MSR, C: with Windows, recovery."""

        def build(raw: Path, scratch: Path) -> None:
            gpt_disk(raw, 100, self.uefi_layout(facts, scratch, efi=True, windows=True), DISK_GUID, scratch)

        return self._cached(f"uefi-{tag}", fmt, build)

    def uefi_big_software(self, fmt: str) -> Path:
        """The whole-disk UEFI image with a 12 MiB SOFTWARE hive (real ones are tens of MiB)."""
        facts = WindowsFacts(software_padding_mib=12)

        def build(raw: Path, scratch: Path) -> None:
            gpt_disk(raw, 100, self.uefi_layout(facts, scratch, efi=True, windows=True), DISK_GUID, scratch)

        return self._cached("uefi-big-software", fmt, build)

    def uefi_split(
        self, fmt: str, facts: WindowsFacts = WindowsFacts(), tag: str = "dc", system_mib: int = 44
    ) -> tuple[Path, Path]:
        """A UEFI system as Windows Server Backup writes it: (EFI image, C: image) of one disk, one volume each."""
        # Both images carry the whole disk's table and GUID; only their own volume's partition is filled.
        size = system_mib + 56

        def build_efi(raw: Path, scratch: Path) -> None:
            parts = self.uefi_layout(facts, scratch, efi=True, windows=False, system_mib=system_mib)
            gpt_disk(raw, size, parts, DISK_GUID, scratch)

        def build_c(raw: Path, scratch: Path) -> None:
            parts = self.uefi_layout(facts, scratch, efi=False, windows=True, system_mib=system_mib)
            gpt_disk(raw, size, parts, DISK_GUID, scratch)

        return self._cached(f"split-efi-{tag}", fmt, build_efi), self._cached(f"split-c-{tag}", fmt, build_c)

    def bios_disk(self, fmt: str, facts: WindowsFacts = WindowsFacts()) -> Path:
        """An MBR disk with one active NTFS partition holding Windows, bootmgr and Boot/BCD."""

        def build(raw: Path, scratch: Path) -> None:
            files = windows_files(facts, scratch, bios_boot=True)
            mbr_disk(raw, 64, [Part(1, 60, BASIC_DATA_TYPE, "", 0x07, _ntfs(files))], MBR_SIGNATURE, scratch)

        return self._cached("bios", fmt, build)

    def data_disk(self, fmt: str) -> Path:
        """A GPT data disk: one NTFS volume with a few files and no Windows."""

        def build(raw: Path, scratch: Path) -> None:
            files = {"Shares/readme.txt": b"data volume\r\n", "Shares/big.bin": os.urandom(3 * MIB)}
            gpt_disk(raw, 64, [Part(1, 60, BASIC_DATA_TYPE, "Data", content=_ntfs(files))], str(uuid.uuid4()), scratch)

        return self._cached("data", fmt, build)

    def bare_volume(self, fmt: str) -> Path:
        """No partition table: the NTFS volume starts at sector 0 of the disk."""

        def build(raw: Path, scratch: Path) -> None:
            make_ntfs(raw, 40 * MIB, 0, {"Data/file.txt": b"bare volume\r\n"}, label="Bare")

        return self._cached("bare", fmt, build)

    def dirty(self, fmt: str) -> Path:
        """The data disk with the NTFS dirty flag set in $Volume (what an unclean shutdown leaves)."""

        def build(raw: Path, scratch: Path) -> None:
            gpt_disk(
                raw, 64, [Part(1, 60, BASIC_DATA_TYPE, "Data", content=_ntfs({"x.txt": b"x"}))], DISK_GUID, scratch
            )
            set_ntfs_dirty(raw, 1 * MIB)

        return self._cached("dirty", fmt, build)

    def bitlocker(self, fmt: str) -> Path:
        """A GPT disk whose basic data partition starts with BitLocker's boot sector signature."""

        def build(raw: Path, scratch: Path) -> None:
            gpt_disk(raw, 64, [Part(1, 60, BASIC_DATA_TYPE, "Basic data partition")], DISK_GUID, scratch)
            sector = bytearray(os.urandom(SECTOR))
            sector[0:11] = b"\xeb\x58\x90-FVE-FS-"
            sector[510:512] = b"\x55\xaa"
            with open(raw, "r+b") as out:
                out.seek(1 * MIB)
                out.write(sector)

        return self._cached("bitlocker", fmt, build)

    def garbage_ntfs(self, fmt: str) -> Path:
        """A real NTFS boot sector whose MFT (and the rest of the volume's first MiBs) is random bytes."""

        def build(raw: Path, scratch: Path) -> None:
            gpt_disk(
                raw, 64, [Part(1, 60, BASIC_DATA_TYPE, "Data", content=_ntfs({"x.txt": b"x"}))], DISK_GUID, scratch
            )
            mft = ntfs_mft_offset(raw, 1 * MIB)
            with open(raw, "r+b") as out:
                out.seek(mft)
                out.write(os.urandom(2 * MIB))
                # The MFT mirror too, or a reader falls back to it.
                out.seek(ntfs_mft_mirror_offset(raw, 1 * MIB))
                out.write(os.urandom(64 * 1024))

        return self._cached("garbage-ntfs", fmt, build)

    def looping_runs(self, fmt: str) -> Path:
        """The $MFT's data runs rewritten to a run list that points back into itself with a huge length."""

        def build(raw: Path, scratch: Path) -> None:
            gpt_disk(
                raw, 64, [Part(1, 60, BASIC_DATA_TYPE, "Data", content=_ntfs({"x.txt": b"x"}))], DISK_GUID, scratch
            )
            corrupt_mft_runs(raw, 1 * MIB)

        return self._cached("looping-runs", fmt, build)

    def _two_partitions(self, raw: Path, scratch: Path) -> None:
        parts = [Part(1, 30, BASIC_DATA_TYPE, "a"), Part(31, 30, BASIC_DATA_TYPE, "b")]
        gpt_disk(raw, 64, parts, DISK_GUID, scratch)

    def huge_attribute_list(self, fmt: str) -> Path:
        """The whole-disk UEFI image whose SYSTEM hive has an $ATTRIBUTE_LIST claiming 1 TiB."""

        def build(raw: Path, scratch: Path) -> None:
            gpt_disk(raw, 100, self.uefi_layout(WindowsFacts(), scratch, efi=True, windows=True), DISK_GUID, scratch)
            add_huge_attribute_list(raw, 53 * MIB, "SYSTEM")

        return self._cached("huge-attribute-list", fmt, build)

    def dynamic_disk(self, fmt: str) -> Path:
        """A GPT disk converted to a dynamic disk: LDM metadata and LDM data partitions."""

        def build(raw: Path, scratch: Path) -> None:
            parts = [
                Part(1, 1, LDM_METADATA_TYPE, "LDM metadata partition"),
                Part(2, 60, LDM_DATA_TYPE, "LDM data partition"),
            ]
            gpt_disk(raw, 64, parts, DISK_GUID, scratch)

        return self._cached("dynamic", fmt, build)

    def gpt_without_efi(self, fmt: str) -> Path:
        """A GPT disk holding Windows on its only partition: no EFI partition, no boot files."""

        def build(raw: Path, scratch: Path) -> None:
            files = windows_files(WindowsFacts(), scratch, bios_boot=False)
            gpt_disk(
                raw,
                64,
                [Part(1, 60, BASIC_DATA_TYPE, "Basic data partition", content=_ntfs(files))],
                DISK_GUID,
                scratch,
            )

        return self._cached("gpt-without-efi", fmt, build)

    def fat_system(self, fmt: str) -> Path:
        """A GPT disk whose basic data partition is FAT32: a system volume that is not NTFS."""

        def build(raw: Path, scratch: Path) -> None:
            files = {"Windows/System32/readme.txt": b"not NTFS\r\n"}
            gpt_disk(
                raw, 64, [Part(1, 60, BASIC_DATA_TYPE, "Basic data partition", content=_fat(files))], DISK_GUID, scratch
            )

        return self._cached("fat-system", fmt, build)

    def bogus_table(self, fmt: str) -> Path:
        """A GPT whose (checksummed) header claims 100000 partition entries; the backup header is wiped."""

        def build(raw: Path, scratch: Path) -> None:
            self._two_partitions(raw, scratch)
            patch_gpt(raw, lambda header, entries: struct.pack_into("<I", header, 80, 100_000))

        return self._cached("bogus-table", fmt, build)

    def overlapping_table(self, fmt: str) -> Path:
        """A GPT with valid checksums whose second partition overlaps the first and runs far past the disk's end."""

        def build(raw: Path, scratch: Path) -> None:
            self._two_partitions(raw, scratch)
            patch_gpt(raw, lambda header, entries: struct.pack_into("<QQ", entries, 128 + 32, 4096, 10**12))

        return self._cached("overlapping-table", fmt, build)

    def bogus_mbr(self, fmt: str) -> Path:
        """An MBR whose second entry overlaps the first and whose third runs far past the disk's end."""

        def build(raw: Path, scratch: Path) -> None:
            files = {"x.txt": b"x"}
            parts = [
                Part(1, 30, BASIC_DATA_TYPE, "", 0x07, _ntfs(files)),
                Part(20, 30, BASIC_DATA_TYPE, "", 0x07),
                Part(40, 1_000_000, BASIC_DATA_TYPE, "", 0x07),
            ]
            mbr_disk(raw, 64, parts, MBR_SIGNATURE, scratch)

        return self._cached("bogus-mbr", fmt, build)

    def logical_mbr(self, fmt: str) -> Path:
        """An sfdisk-made MBR: NTFS primary 'Data', an extended partition whose first logical one is NTFS 'Logical'."""

        def build(raw: Path, scratch: Path) -> None:
            parts = [
                Part(1, 19, BASIC_DATA_TYPE, "", 0x07, lambda p, n, at: make_ntfs(p, n, at, {"a.txt": b"a"}, "Data")),
                Part(
                    21, 19, BASIC_DATA_TYPE, "", 0x07, lambda p, n, at: make_ntfs(p, n, at, {"b.txt": b"b"}, "Logical")
                ),
            ]
            sfdisk_disk(raw, 64, LOGICAL_MBR_SCRIPT, parts, scratch)

        return self._cached("logical-mbr", fmt, build)

    def looping_ebr(self, fmt: str) -> Path:
        """logical_mbr's disk whose second EBR links back to the first: the chain loops."""

        def build(raw: Path, scratch: Path) -> None:
            parts = [Part(1, 19, BASIC_DATA_TYPE, "", 0x07, lambda p, n, at: make_ntfs(p, n, at, {}, "Data"))]
            sfdisk_disk(raw, 64, LOGICAL_MBR_SCRIPT, parts, scratch)
            with open(raw, "r+b") as out:
                extended = 40960
                out.seek(extended * SECTOR + 446 + 16 + 8)
                (link,) = struct.unpack("<I", out.read(4))
                out.seek((extended + link) * SECTOR + 446 + 16)
                # The second EBR links on to the extended partition's start: the first EBR again.
                out.write(struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x05, b"\0\0\0", 0, 2048))

        return self._cached("looping-ebr", fmt, build)

    def garbage_hive(self, fmt: str) -> Path:
        """The whole-disk UEFI image whose SYSTEM hive is a 'regf' signature followed by random bytes."""

        def build(raw: Path, scratch: Path) -> None:
            files = windows_files(WindowsFacts(), scratch, bios_boot=False)
            files["Windows/System32/config/SYSTEM"] = b"regf" + os.urandom(64 * 1024 - 4)
            parts = [
                Part(1, 36, EFI_TYPE, "EFI system partition", content=_fat(efi_files(scratch))),
                Part(53, 44, BASIC_DATA_TYPE, "Basic data partition", content=_ntfs(files)),
            ]
            gpt_disk(raw, 100, parts, DISK_GUID, scratch)

        return self._cached("garbage-hive", fmt, build)

    def fuzzed(self, fmt: str, seed: int, sectors: int = 64) -> Path:
        """The whole-disk UEFI image with ``sectors`` used NTFS sectors (picked by ``seed``) overwritten at random."""
        target = self.folder / f"fuzzed-{seed}.{fmt}"
        if target.exists():
            return target
        self.uefi_disk(fmt)
        pick = random.Random(seed)
        with tempfile.TemporaryDirectory(dir=self.folder) as scratch:
            raw = Path(scratch) / "disk.raw"
            shutil.copyfile(self.folder / "uefi-dc.raw", raw)
            start, end = 53 * MIB, 97 * MIB
            with open(raw, "r+b") as disk:
                used = []
                for offset in range(start + SECTOR, end, SECTOR):  # sector 0 stays: it names the file system
                    disk.seek(offset)
                    if disk.read(SECTOR).count(0) != SECTOR:
                        used.append(offset)
                for offset in pick.sample(used, min(sectors, len(used))):
                    disk.seek(offset)
                    disk.write(pick.randbytes(SECTOR))
            convert(raw, target, fmt)
        return target

    def truncated(self, fmt: str) -> Path:
        """The whole-disk UEFI image cut after its first 2 MiB (a copy that stopped early)."""
        target = self.folder / f"truncated.{fmt}"
        if not target.exists():
            source = self.uefi_disk(fmt)
            with open(source, "rb") as src, open(target, "wb") as dst:
                dst.write(src.read(2 * MIB))
        return target

    def random_bytes(self, fmt: str) -> Path:
        """Not a disk image at all: 4 MiB of random bytes under an image's name."""
        target = self.folder / f"random.{fmt}"
        if not target.exists():
            target.write_bytes(os.urandom(4 * MIB))
        return target


def patch_gpt(raw: Path, patch: Callable[[bytearray, bytearray], None]) -> None:
    """Change the primary GPT header and entries, fix their checksums, and wipe the backup header (no fallback)."""
    with open(raw, "r+b") as disk:
        disk.seek(SECTOR)
        header = bytearray(disk.read(SECTOR))
        entries = bytearray(disk.read(128 * 128))
        patch(header, entries)
        count, entry_size = struct.unpack_from("<II", header, 80)
        covered = bytes(entries) + b"\0" * max(0, count * entry_size - len(entries))
        struct.pack_into("<I", header, 88, zlib.crc32(covered[: count * entry_size]))
        (header_size,) = struct.unpack_from("<I", header, 12)
        struct.pack_into("<I", header, 16, 0)
        struct.pack_into("<I", header, 16, zlib.crc32(bytes(header[:header_size])))
        disk.seek(SECTOR)
        disk.write(header + entries)
        disk.seek(-SECTOR, os.SEEK_END)
        disk.write(b"\0" * SECTOR)


# --- NTFS patching for the hostile images -------------------------------------------------------------------


def _boot(raw: Path, volume: int) -> tuple[int, int, int, int]:
    with open(raw, "rb") as disk:
        disk.seek(volume)
        boot = disk.read(SECTOR)
    bytes_per_sector, sectors_per_cluster = struct.unpack_from("<HB", boot, 11)
    cluster = bytes_per_sector * sectors_per_cluster
    mft_lcn, mirror_lcn = struct.unpack_from("<QQ", boot, 48)
    (raw_record,) = struct.unpack_from("<b", boot, 64)
    record = cluster * raw_record if raw_record > 0 else 1 << -raw_record
    return cluster, mft_lcn, mirror_lcn, record


def ntfs_mft_offset(raw: Path, volume: int) -> int:
    cluster, mft_lcn, _, _ = _boot(raw, volume)
    return volume + mft_lcn * cluster


def ntfs_mft_mirror_offset(raw: Path, volume: int) -> int:
    cluster, _, mirror_lcn, _ = _boot(raw, volume)
    return volume + mirror_lcn * cluster


def _records(raw: Path, volume: int, number: int) -> list[int]:
    """Offsets of MFT record ``number`` in the MFT and in its mirror."""
    cluster, mft_lcn, mirror_lcn, record = _boot(raw, volume)
    return [volume + lcn * cluster + number * record for lcn in (mft_lcn, mirror_lcn)]


def _patch_record(raw: Path, offset: int, patch: Callable[[bytearray], None]) -> None:
    """Undo the update-sequence fixups of one MFT record, patch it, and apply them again."""
    with open(raw, "r+b") as disk:
        disk.seek(offset)
        data = bytearray(disk.read(1024))
        usa_offset, usa_count = struct.unpack_from("<HH", data, 4)
        usn = data[usa_offset : usa_offset + 2]
        for index in range(1, usa_count):
            end = index * SECTOR - 2
            data[end : end + 2] = data[usa_offset + 2 * index : usa_offset + 2 * index + 2]
        patch(data)
        for index in range(1, usa_count):
            end = index * SECTOR - 2
            data[usa_offset + 2 * index : usa_offset + 2 * index + 2] = data[end : end + 2]
            data[end : end + 2] = usn
        disk.seek(offset)
        disk.write(data)


def _attribute(data: bytearray, kind: int) -> int:
    at = int(struct.unpack_from("<H", data, 20)[0])
    while at < len(data) - 8:
        found, length = struct.unpack_from("<II", data, at)
        if found == 0xFFFFFFFF or length == 0:
            break
        if found == kind:
            return int(at)
        at += length
    raise ValueError(f"attribute {kind:#x} not found")


def set_ntfs_dirty(raw: Path, volume: int) -> None:
    """Set the dirty bit of $VOLUME_INFORMATION in $Volume (record 3), in the MFT and its mirror."""

    def patch(data: bytearray) -> None:
        at = _attribute(data, 0x70)
        (content,) = struct.unpack_from("<H", data, at + 20)
        (flags,) = struct.unpack_from("<H", data, at + content + 10)
        struct.pack_into("<H", data, at + content + 10, flags | 0x0001)

    for offset in _records(raw, volume, 3):
        _patch_record(raw, offset, patch)


def _read_record(raw: Path, offset: int) -> bytearray:
    """One MFT record with its update-sequence fixups undone."""
    with open(raw, "rb") as disk:
        disk.seek(offset)
        data = bytearray(disk.read(1024))
    if data[:4] != b"FILE":
        return data
    usa_offset, usa_count = struct.unpack_from("<HH", data, 4)
    for index in range(1, usa_count):
        end = index * SECTOR - 2
        data[end : end + 2] = data[usa_offset + 2 * index : usa_offset + 2 * index + 2]
    return data


def find_record(raw: Path, volume: int, name: str) -> int:
    """The disk offset of the first MFT record whose $FILE_NAME is ``name``."""
    cluster, mft_lcn, _, record = _boot(raw, volume)
    base = volume + mft_lcn * cluster
    wanted = name.encode("utf-16-le")
    for number in range(16, 4096):
        data = _read_record(raw, base + number * record)
        if data[:4] != b"FILE":
            continue
        at = int(struct.unpack_from("<H", data, 20)[0])
        while at < len(data) - 24:
            kind, length = struct.unpack_from("<II", data, at)
            if kind == 0xFFFFFFFF or length == 0:
                break
            if kind == 0x30 and data[at + 8] == 0:
                (content,) = struct.unpack_from("<H", data, at + 20)
                size = data[at + content + 64]
                if data[at + content + 66 : at + content + 66 + 2 * size] == wanted:
                    return base + number * record
            at += length
    raise ValueError(f"no MFT record named {name}")


def add_huge_attribute_list(raw: Path, volume: int, name: str) -> None:
    """Give file ``name`` a non-resident $ATTRIBUTE_LIST claiming 1 TiB of entries over 2^30 clusters."""

    def patch(data: bytearray) -> None:
        used, allocated = struct.unpack_from("<II", data, 24)
        first = int(struct.unpack_from("<H", data, 20)[0])
        (first_length,) = struct.unpack_from("<I", data, first + 4)
        insert = first + first_length  # after $STANDARD_INFORMATION: attributes are sorted by type
        runs = b"\x44" + (1 << 30).to_bytes(4, "little") + (100).to_bytes(4, "little") + b"\0"
        length = (64 + len(runs) + 7) // 8 * 8
        header = bytearray(64)
        struct.pack_into("<IIBBHHH", header, 0, 0x20, length, 1, 0, 64, 0, 0x55)
        struct.pack_into("<QQHH", header, 16, 0, (1 << 30) - 1, 64, 0)
        struct.pack_into("<QQQ", header, 40, 1 << 42, 1 << 40, 1 << 40)
        attribute = bytes(header) + runs + b"\0" * (length - 64 - len(runs))
        if used + length > allocated:
            raise ValueError("no room in the record")
        data[insert:insert] = attribute
        del data[allocated:]
        struct.pack_into("<I", data, 24, used + length)

    _patch_record(raw, find_record(raw, volume, name), patch)


def corrupt_mft_runs(raw: Path, volume: int) -> None:
    """Give the $MFT's $DATA a run list of many runs that all point at the MFT itself, each 2^40 clusters long."""

    def patch(data: bytearray) -> None:
        at = _attribute(data, 0x80)
        (length,) = struct.unpack_from("<I", data, at + 4)
        (runs,) = struct.unpack_from("<H", data, at + 32)
        space = length - runs - 1
        # Header byte 0x16: a 6-byte length and a 1-byte offset; offset 0 after the first run = the same place.
        run = b"\x16" + (1 << 40).to_bytes(6, "little") + b"\x00"
        body = bytearray()
        while len(body) + len(run) <= space:
            body += run
        data[at + runs : at + runs + len(body)] = body
        data[at + runs + len(body)] = 0

    for offset in _records(raw, volume, 0):
        _patch_record(raw, offset, patch)
