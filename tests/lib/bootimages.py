"""Real disk images with a boot chain for the boot-chain and target-hardware tests: a BCD store written by hivex
(objects, elements, device elements in the binary layout Windows uses), an NTFS Windows volume with the loader, the
kernel, driver files and a SYSTEM hive with storage driver services; GPT (EFI + C:) and MBR (System Reserved + C:).

Each ``BootSpec`` field breaks one link; images are built once per spec and cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from restore.demo.sample import PointSpec, VolumeSpec, write_machine
from restore.tree import writers as known
from restore.tree.deep import deep_inspect
from restore.tree.deep.bootchain import BootChain, read_boot_chain
from restore.tree.deep.facts import DeepFacts
from restore.tree.points import inspect_machine
from share.base import Backend
from share.connect import parse_location
from share.local import LocalBackend
from tests.lib.bootsectors import efi_application
from tests.lib.diskimages import (
    BASIC_DATA_TYPE,
    EFI_TYPE,
    MIB,
    SECTOR,
    Part,
    WindowsFacts,
    _place,
    _run,
    convert,
    make_fat32,
    make_ntfs,
    system_hive_spec,
    tool_path,
    write_hive,
)

BOOTMGR = "{9dea862c-5cdd-4e70-acc1-f32b344d4795}"
LOADER = "{6a1f3b2c-0d4e-11ef-9a1b-00155d010203}"
DISK_GUID = "7C3B2A10-5D44-4E0F-8A51-1C2D3E4F5A6B"
ESP_GUID = "0a1b2c3d-1111-4aaa-8bbb-000000000001"
C_GUID = "0a1b2c3d-2222-4aaa-8bbb-000000000002"
D_GUID = "0a1b2c3d-3333-4aaa-8bbb-000000000003"
ELSEWHERE_GUID = "0a1b2c3d-9999-4aaa-8bbb-000000000009"
SIGNATURE = 0x5EED1234
SCSI_CLASS = "{4d36e97b-e325-11ce-bfc1-08002be10318}"

# Storage drivers the test hives can carry: service -> device ids it binds (as the profiles name them).
DRIVER_IDS = {
    "storahci": ["PCI\\CC_010601"],
    "stornvme": ["PCI\\CC_010802"],
    "LSI_SAS": ["PCI\\VEN_1000&DEV_0054"],
    "pvscsi": ["PCI\\VEN_15AD&DEV_07C0"],
    "viostor": ["PCI\\VEN_1AF4&DEV_1001", "PCI\\VEN_1AF4&DEV_1042"],
    "vioscsi": ["PCI\\VEN_1AF4&DEV_1004", "PCI\\VEN_1AF4&DEV_1048"],
    "storvsc": ["VMBUS\\{BA6163D9-04A1-4D29-B605-72E2FFB1DC7F}"],
    "vmbus": ["ACPI\\VMBUS"],
    "intelide": ["PCI\\VEN_8086&DEV_7111"],
    "atapi": [],
}


@dataclass(frozen=True)
class Driver:
    start: int = 0  # 0 boot, 3 manual, 4 disabled
    file: bool = True  # the .sys file is on the volume
    bound: bool = True  # the CriticalDeviceDatabase / DriverDatabase entry is there


@dataclass(frozen=True)
class BootSpec:
    style: str = "gpt"
    legacy_hive: bool = False  # a 2008 R2 SYSTEM hive (CriticalDeviceDatabase) instead of DriverDatabase
    bcd: str = "ok"  # ok, missing, garbage
    default: str = "default"  # default, displayorder, none, dangling
    device: str = "c"  # c, elsewhere (a partition on no disk of the point), d (in the table, volume not backed up)
    os_device: str = "c"
    loader: str = "auto"  # auto (winload.efi on GPT, .exe on MBR), missing, wrong (the other firmware's)
    kernel: bool = True
    drivers: dict[str, Driver] = field(default_factory=lambda: {"storahci": Driver()})
    split: bool = False  # one image per volume, as Windows Server Backup writes them
    efi_message: str = ""  # a real UEFI application printing this is the EFI partition's boot loader (boot tests)

    def key(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def device_element(style: str, disk_id: str | int, partition: str | int) -> str:
    """A partition device element (88 bytes) as hex: options GUID, type 6, length 0x48, partition, style, disk."""
    data = bytearray(88)
    struct.pack_into("<III", data, 16, 6, 0, 0x48)
    if style == "gpt":
        data[0x20:0x30] = uuid.UUID(str(partition)).bytes_le
        struct.pack_into("<I", data, 0x34, 0)
        data[0x38:0x48] = uuid.UUID(str(disk_id)).bytes_le
    else:
        struct.pack_into("<Q", data, 0x20, int(partition))
        struct.pack_into("<I", data, 0x34, 1)
        struct.pack_into("<I", data, 0x38, int(disk_id))
    return data.hex()


def bcd_spec(spec: BootSpec) -> list[tuple[str, str | None, str, object]]:
    gpt = spec.style == "gpt"
    ext = ".efi" if gpt else ".exe"
    if spec.loader == "wrong":
        ext = ".exe" if gpt else ".efi"

    def device(which: str) -> str:
        if gpt:
            guid = {"c": C_GUID, "d": D_GUID, "elsewhere": ELSEWHERE_GUID, "esp": ESP_GUID}[which]
            return device_element("gpt", DISK_GUID, guid)
        offset = {"c": 9 * MIB, "d": 70 * MIB, "elsewhere": 99 * MIB, "esp": 1 * MIB}[which]
        return device_element("mbr", SIGNATURE, offset)

    manager = f"Objects\\{BOOTMGR}"
    loader = f"Objects\\{LOADER}"
    out: list[tuple[str, str | None, str, object]] = [
        ("Description", "KeyName", "sz", "BCD00000000"),
        (f"{manager}\\Description", "Type", "dword", 0x10100002),
        (f"{manager}\\Elements\\11000001", "Element", "hex", device("esp")),
        (
            f"{manager}\\Elements\\12000002",
            "Element",
            "sz",
            "\\EFI\\Microsoft\\Boot\\bootmgfw.efi" if gpt else "\\bootmgr",
        ),
    ]
    target = LOADER if spec.default != "dangling" else "{00000000-1111-2222-3333-444444444444}"
    if spec.default in ("default", "dangling"):
        out.append((f"{manager}\\Elements\\23000003", "Element", "sz", target))
    if spec.default in ("default", "displayorder"):
        out.append((f"{manager}\\Elements\\24000001", "Element", "multi", [LOADER]))
    out += [
        (f"{loader}\\Description", "Type", "dword", 0x10200003),
        (f"{loader}\\Elements\\11000001", "Element", "hex", device(spec.device)),
        (f"{loader}\\Elements\\12000002", "Element", "sz", f"\\Windows\\system32\\winload{ext}"),
        (f"{loader}\\Elements\\12000004", "Element", "sz", "Windows Server"),
        (f"{loader}\\Elements\\21000001", "Element", "hex", device(spec.os_device)),
        (f"{loader}\\Elements\\22000002", "Element", "sz", "\\Windows"),
    ]
    return out


def system_spec(spec: BootSpec) -> list[tuple[str, str | None, str, object]]:
    facts = WindowsFacts(build="7601" if spec.legacy_hive else "17763")
    out: list[tuple[str, str | None, str, object]] = list(system_hive_spec(facts))
    if not spec.legacy_hive:
        out.append(("DriverDatabase\\DeviceIds\\PCI\\VEN_8086&DEV_1237", "machine.inf", "hex", "01ff0000"))
    for name, driver in spec.drivers.items():
        key = f"ControlSet001\\Services\\{name}"
        out += [
            (key, "Type", "dword", 1),
            (key, "Start", "dword", driver.start),
            (key, "ErrorControl", "dword", 3),
            (key, "Group", "sz", "SCSI miniport" if name not in ("vmbus",) else "System Bus Extender"),
            (key, "ImagePath", "expand", f"System32\\drivers\\{name.lower()}.sys"),
        ]
        if not driver.bound:
            continue
        for device_id in DRIVER_IDS.get(name, []):
            if spec.legacy_hive:
                cdd = "ControlSet001\\Control\\CriticalDeviceDatabase\\" + device_id.lower().replace("\\", "#")
                out += [(cdd, "Service", "sz", name), (cdd, "ClassGUID", "sz", SCSI_CLASS.upper())]
            else:
                out.append((f"DriverDatabase\\DeviceIds\\{device_id}", f"{name.lower()}.inf", "hex", "01ff0000"))
    return out


def windows_volume_files(spec: BootSpec, scratch: Path) -> dict[str, bytes]:
    write_hive(scratch / "SYSTEM", system_spec(spec))
    write_hive(scratch / "SOFTWARE", [("Microsoft\\Windows NT\\CurrentVersion", "CurrentBuild", "sz", "17763")])
    files = {
        "Windows/System32/config/SYSTEM": (scratch / "SYSTEM").read_bytes(),
        "Windows/System32/config/SOFTWARE": (scratch / "SOFTWARE").read_bytes(),
    }
    if spec.kernel:
        files["Windows/System32/ntoskrnl.exe"] = b"MZ" + os.urandom(4094)
    if spec.loader != "missing":
        ext = ".efi" if (spec.style == "gpt") == (spec.loader != "wrong") else ".exe"
        files[f"Windows/System32/winload{ext}"] = b"MZ" + os.urandom(4094)
    for name, driver in spec.drivers.items():
        if driver.file:
            files[f"Windows/System32/drivers/{name.lower()}.sys"] = b"MZ" + os.urandom(2046)
    return files


def boot_files(spec: BootSpec, scratch: Path) -> dict[str, bytes]:
    folder = "EFI/Microsoft/Boot" if spec.style == "gpt" else "Boot"
    files: dict[str, bytes] = {}
    if spec.style == "gpt":
        loader = efi_application(spec.efi_message) if spec.efi_message else b"MZ" + os.urandom(4094)
        files["EFI/Microsoft/Boot/bootmgfw.efi"] = loader
        files["EFI/Boot/bootx64.efi"] = loader
    else:
        files["bootmgr"] = b"BOOTMGR" + os.urandom(4089)
    if spec.bcd == "ok":
        write_hive(scratch / "BCD", bcd_spec(spec))
        files[f"{folder}/BCD"] = (scratch / "BCD").read_bytes()
    elif spec.bcd == "garbage":
        files[f"{folder}/BCD"] = b"regf" + os.urandom(16 * 1024)
    return files


class BootImages:
    """Builds and caches boot-chain images in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def build(self, spec: BootSpec, fmt: str = "vhdx") -> list[tuple[Path, str, str]]:
        """The point's images as (path, access path, label): one whole disk, or (system, C:) when split."""
        key = spec.key()
        names = ["system", "c"] if spec.split else ["disk"]
        targets = [self.folder / f"boot-{key}-{n}.{fmt}" for n in names]
        if not all(t.exists() for t in targets):
            with tempfile.TemporaryDirectory(dir=self.folder) as scratch_name:
                scratch = Path(scratch_name)
                for target, name in zip(targets, names, strict=True):
                    raw = scratch / f"{name}.raw"
                    self._disk(raw, spec, scratch, system=name in ("disk", "system"), windows=name in ("disk", "c"))
                    convert(raw, target, fmt)
        if spec.split:
            return [(targets[0], "", "System"), (targets[1], "C:", "Windows")]
        return [(targets[0], "C:", "Windows")]

    def _disk(self, raw: Path, spec: BootSpec, scratch: Path, *, system: bool, windows: bool) -> None:
        boot = boot_files(spec, scratch) if system else None
        win = windows_volume_files(spec, scratch) if windows else None
        if spec.style == "gpt":
            parts = [
                (Part(1, 36, EFI_TYPE, "EFI system partition", content=_fat(boot)), ESP_GUID),
                (Part(37, 32, BASIC_DATA_TYPE, "Basic data partition", content=_ntfs(win)), C_GUID),
                (Part(70, 28, BASIC_DATA_TYPE, "Data"), D_GUID),
            ]
            _gpt(raw, 100, parts, scratch)
        else:
            mbr = [
                Part(1, 8, BASIC_DATA_TYPE, "", 0x07, _ntfs(boot, "System Reserved")),
                Part(9, 60, BASIC_DATA_TYPE, "", 0x07, _ntfs(win)),
                Part(70, 28, BASIC_DATA_TYPE, "", 0x07),
            ]
            _mbr(raw, 100, mbr, scratch)


def _fat(files: dict[str, bytes] | None) -> Callable[[Path, int, int], None] | None:
    if files is None:
        return None
    return lambda path, size, start: make_fat32(path, size, files)


def _ntfs(files: dict[str, bytes] | None, label: str = "System") -> Callable[[Path, int, int], None] | None:
    if files is None:
        return None
    return lambda path, size, start: make_ntfs(path, size, start, files, label)


def _gpt(raw: Path, size_mib: int, parts: list[tuple[Part, str]], scratch: Path) -> None:
    with open(raw, "wb") as out:
        out.truncate(size_mib * MIB)
    args = [tool_path("sgdisk"), "-o", "-U", DISK_GUID]
    for number, (part, guid) in enumerate(parts, 1):
        first = part.start_mib * MIB // SECTOR
        last = first + part.size_mib * MIB // SECTOR - 1
        args += ["-n", f"{number}:{first}:{last}", "-t", f"{number}:{part.gpt_type}", "-u", f"{number}:{guid}"]
    _run(*args, str(raw))
    for part, _guid in parts:
        _place(raw, part, scratch)


def _mbr(raw: Path, size_mib: int, parts: list[Part], scratch: Path) -> None:
    from tests.lib.diskimages import mbr_disk

    mbr_disk(raw, size_mib, parts, SIGNATURE, scratch)


WRITERS = [known.ASR, known.SYSTEM]


def place_point(root: Path, images: list[tuple[Path, str, str]], *, bare_metal: bool = True) -> str:
    volumes = [VolumeSpec(access, label) for _, access, label in images]
    writers = WRITERS if bare_metal else []
    spec = PointSpec(writers=writers, volumes=volumes, image_format=images[0][0].suffix[1:])

    def place(target: Path, _fmt: str, _mb: int, index: int) -> None:
        try:
            os.link(images[index][0], target)
        except OSError:
            shutil.copyfile(images[index][0], target)

    point = write_machine(root / "WindowsImageBackup", "SRV01", spec, place)
    return point.relative_to(root).as_posix()


def deep_facts(root: Path, point_path: str) -> DeepFacts:
    """Deep inspection of a point placed under ``root`` (the local backend)."""
    with LocalBackend(parse_location(str(root))) as backend:
        machine = inspect_machine(backend, point_path.rsplit("/", 1)[0], "SRV01")
        (point,) = machine.recovery_points
        volumes = [(v.image, v.access_path) for v in point.volumes if v.image]
        return deep_inspect(backend, point_path, volumes, "SRV01", set())


def chain_of(backend: Backend, point_path: str, *, bare_metal: bool = True) -> BootChain:
    machine_path = point_path.rsplit("/", 1)[0]
    machine = inspect_machine(backend, machine_path, "SRV01")
    (point,) = machine.recovery_points
    volumes = [(v.image, v.access_path) for v in point.volumes if v.image]
    facts = deep_inspect(backend, point_path, volumes, "SRV01", set(), needs_system=bare_metal)
    return read_boot_chain(backend, point_path, facts, bare_metal=bare_metal)


def local_chain(tmp_path: Path, images: list[tuple[Path, str, str]], *, bare_metal: bool = True) -> BootChain:
    point = place_point(tmp_path, images, bare_metal=bare_metal)
    with LocalBackend(parse_location(str(tmp_path))) as backend:
        return chain_of(backend, point, bare_metal=bare_metal)
