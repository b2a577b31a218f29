"""The boot chain, offline: system partition -> BCD store -> default entry -> its devices -> loader -> kernel -> the
boot-start drivers. Each broken link is a problem with a stable code and the fix.

It reads after deep inspection (which says where the partitions and file systems are) and opens only the system
partition and the Windows volume again, through the same bounded readers, on any backend.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import pyfsfat
import pyfsntfs

from restore.tree.deep.bcd import (
    APPLICATION_DEVICE,
    APPLICATION_PATH,
    DESCRIPTION,
    OS_DEVICE,
    SYSTEM_ROOT,
    WINDOWS_LOADER_TYPE,
    BcdError,
    BcdStore,
    Device,
    read_store,
)
from restore.tree.deep.disk import DiskError, open_container
from restore.tree.deep.facts import DeepFacts, ImageFacts, PartitionFacts
from restore.tree.deep.reader import MIB, BoundedReader, Limits, ReadLimitError, Window
from restore.tree.deep.replayed import PENDING, replayed_source
from restore.tree.deep.services import SystemServices, read_services
from restore.tree.deep.volume import kind_of
from restore.tree.model import Problem, error, warning
from share import errors, paths
from share.base import Backend

BCD_PATHS = {"efi": "\\EFI\\Microsoft\\Boot\\BCD", "ntfs": "\\Boot\\BCD"}
MAX_BCD = 8 * MIB  # a real store is tens of KiB
STORAGE_GROUPS = ("scsi miniport", "boot bus extender", "system bus extender", "scsi class", "primary disk")
ALL_CRITICAL = "back up with wbadmin start backup -allCritical (or the Bare metal recovery option) so it is included"


@dataclass(frozen=True)
class Link:
    """One link of the chain: ok True/False, or None when an earlier link broke and it was not checked."""

    name: str
    ok: bool | None
    detail: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"link": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class BootChain:
    state: str  # complete, broken, volume-only, unknown (an image withheld: its pending VHDX log was not replayed)
    firmware: str | None
    links: tuple[Link, ...]
    problems: tuple[Problem, ...]
    system_partition: str | None = None  # "<image> partition N"
    default_entry: str | None = None
    windows_volume: str | None = None
    services: SystemServices | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.state != "broken"

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "firmware": self.firmware,
            "system_partition": self.system_partition,
            "default_entry": self.default_entry,
            "windows_volume": self.windows_volume,
            "links": [link.to_json() for link in self.links],
            "problems": [p.to_json() for p in self.problems],
            "drivers": self.services.to_json() if self.services else None,
        }


@dataclass(frozen=True)
class _Place:
    image: ImageFacts
    part: PartitionFacts

    @property
    def label(self) -> str:
        access = f" ({self.image.access_path})" if self.image.access_path else ""
        return f"{self.image.image} partition {self.part.partition.number}{access}"

    @property
    def present(self) -> bool:
        fs = self.part.file_system
        return fs is not None and fs.kind not in ("empty",)


class _Chain:
    """Collects links and problems while walking the chain."""

    def __init__(self) -> None:
        self.links: list[Link] = []
        self.problems: list[Problem] = []

    def ok(self, name: str, detail: str) -> None:
        self.links.append(Link(name, True, detail))

    def broken(self, name: str, code: str, detail: str, fix: str, *, severe: bool = True) -> None:
        self.links.append(Link(name, False, detail, fix))
        make = error if severe else warning
        self.problems.append(make(code, f"{name}: {detail}; fix: {fix}"))


def read_boot_chain(
    backend: Backend,
    point_path: str,
    facts: DeepFacts,
    *,
    bare_metal: bool,
    wanted_services: frozenset[str] = frozenset(),
    limits: Limits | None = None,
) -> BootChain:
    """Walk the chain through the point's images; never raises for content (a failure is a broken link)."""
    limits = limits or Limits()
    chain = _Chain()
    places = [_Place(i, p) for i in facts.images for p in i.partitions]
    with contextlib.ExitStack() as stack:
        opener = _Opener(backend, point_path, limits, stack)
        try:
            return _walk(chain, facts, places, opener, bare_metal, wanted_services)
        except (ReadLimitError, DiskError) as exc:
            # An image withheld by deep inspection (a pending log) leaves the chain unknown, not broken.
            fix = "see bmr inspect --deep for the image's own problems"
            chain.broken("reading", exc.code, str(exc), fix, severe=exc.code != PENDING)
        except errors.ShareError as exc:
            chain.broken("reading", "image-unreadable", str(exc), "check the share and run again")
        except Exception as exc:  # noqa: BLE001 - whatever a hostile image makes a reader raise ends as a broken link
            chain.broken(
                "reading", "inspection-failed", f"{type(exc).__name__}: {exc}", "see bmr inspect --deep for the images"
            )
    return BootChain("broken", facts.firmware, tuple(chain.links), tuple(chain.problems))


def _walk(
    chain: _Chain,
    facts: DeepFacts,
    places: list[_Place],
    opener: _Opener,
    bare_metal: bool,
    wanted: frozenset[str],
) -> BootChain:
    firmware = facts.firmware
    system = _system_partition(places)
    if system is None:
        return _no_system_partition(chain, facts, places, bare_metal)
    fs_kind = "efi" if system.part.partition.kind == "efi" else "ntfs"
    fs_name = system.part.file_system.kind if system.part.file_system else "?"
    chain.ok("system partition", f"{system.label}: {system.part.partition.kind}, {fs_name}")
    volume = opener.volume(system)
    data = _read_file(volume, BCD_PATHS[fs_kind], MAX_BCD)
    if data is None:
        chain.broken(
            "BCD store",
            "bcd-missing",
            f"{BCD_PATHS[fs_kind]} is not on {system.label}",
            f"after the restore, boot WinRE and run bcdboot C:\\Windows /s S: /f {_bcdboot_firmware(firmware)}",
        )
        return _done(chain, facts, system)
    try:
        store = read_store(data)
    except BcdError as exc:
        chain.broken(
            "BCD store",
            "bcd-unreadable",
            f"{BCD_PATHS[fs_kind]} on {system.label} is not a readable registry hive ({exc})",
            f"after the restore, boot WinRE and rebuild it: bcdboot C:\\Windows /s S: /f {_bcdboot_firmware(firmware)}",
        )
        return _done(chain, facts, system)
    chain.ok("BCD store", f"{BCD_PATHS[fs_kind]}: {len(store.objects)} objects")
    rebuild = f"bcdboot C:\\Windows /s S: /f {_bcdboot_firmware(firmware)} (from WinRE after the restore)"
    entry = _default_entry(chain, store, rebuild)
    if entry is None:
        return _done(chain, facts, system)
    device = store.device(entry, APPLICATION_DEVICE)
    os_device = store.device(entry, OS_DEVICE)
    loader_place = _device_link(chain, "device", device, places, facts, rebuild)
    os_place = _device_link(chain, "osdevice", os_device, places, facts, rebuild)
    if loader_place is None or os_place is None:
        return _done(chain, facts, system, entry=entry)
    firmware_ext = {"UEFI": ".efi", "BIOS": ".exe"}.get(firmware or "")
    loader = store.string(entry, APPLICATION_PATH) or (f"\\Windows\\system32\\winload{firmware_ext or '.efi'}")
    loader_volume = opener.volume(loader_place)
    if not _exists(loader_volume, loader):
        chain.broken(
            "loader",
            "loader-missing",
            f"{loader} is not on {loader_place.label}",
            f"the system volume in this point is damaged; use another point, or repair it after the restore with "
            f"sfc /scannow /offbootdir=C:\\ /offwindir=C:\\Windows and {rebuild}",
        )
    elif firmware_ext and not loader.lower().endswith(firmware_ext):
        chain.broken(
            "loader",
            "loader-firmware-mismatch",
            f"the entry starts {loader} but the point boots {firmware}, which needs winload{firmware_ext}",
            rebuild,
        )
    else:
        chain.ok("loader", f"{loader} on {loader_place.label}")
    root = store.string(entry, SYSTEM_ROOT) or "\\Windows"
    kernel = f"{root.rstrip(chr(92))}\\system32\\ntoskrnl.exe"
    os_volume = opener.volume(os_place)
    if not _exists(os_volume, kernel):
        chain.broken(
            "kernel",
            "kernel-missing",
            f"{kernel} is not on {os_place.label}",
            "the system volume in this point is damaged or the entry's systemroot is wrong; use another point",
        )
    else:
        chain.ok("kernel", f"{kernel} on {os_place.label}")
    services = _drivers(chain, os_volume, opener, os_place, wanted)
    return _done(chain, facts, system, entry=entry, windows=os_place, services=services)


def _done(
    chain: _Chain,
    facts: DeepFacts,
    system: _Place | None,
    *,
    entry: str | None = None,
    windows: _Place | None = None,
    services: SystemServices | None = None,
) -> BootChain:
    broken = any(link.ok is False for link in chain.links if link.fix)
    severe = any(p.severity.value == "error" for p in chain.problems)
    unknown = any(p.code in ("boot-chain-withheld", PENDING) for p in chain.problems)
    return BootChain(
        "broken" if broken and severe else ("unknown" if unknown else "complete"),
        facts.firmware,
        tuple(chain.links),
        tuple(chain.problems),
        system.label if system else None,
        entry,
        windows.label if windows else None,
        services,
    )


def _system_partition(places: list[_Place]) -> _Place | None:
    """The partition holding the BCD store: the EFI partition, else an NTFS one with \\Boot\\BCD (BIOS)."""
    for place in places:
        fs = place.part.file_system
        if fs is not None and BCD_PATHS["efi"] in fs.boot_files:
            return place
    for place in places:
        fs = place.part.file_system
        if fs is not None and BCD_PATHS["ntfs"] in fs.boot_files:
            return place
    # No store anywhere: the EFI partition, or the NTFS partition holding bootmgr, is where it should be.
    for place in places:
        fs = place.part.file_system
        if place.present and (place.part.partition.kind == "efi" or (fs is not None and "\\bootmgr" in fs.boot_files)):
            return place
    return None


def _no_system_partition(chain: _Chain, facts: DeepFacts, places: list[_Place], bare_metal: bool) -> BootChain:
    if facts.withheld:  # an image whose pending VHDX log could not be replayed may hold the system partition
        chain.broken(
            "system partition",
            "boot-chain-withheld",
            f"not found, but {', '.join(facts.withheld)} could not be read (a pending VHDX log): it may be there",
            "see the image's vhdx-log-pending problem in bmr inspect --deep",
            severe=False,
        )
        return _done(chain, facts, None)
    if not bare_metal:
        chain.links.append(
            Link(
                "system partition",
                None,
                "a volume-only backup: the boot partition is not in it, so it cannot do a bare-metal restore "
                "(restore its volumes onto a running Windows instead)",
            )
        )
        return BootChain("volume-only", facts.firmware, tuple(chain.links), ())
    efi = [p for p in places if p.part.partition.kind == "efi"]
    if efi and not any(p.present for p in efi):
        chain.broken(
            "system partition",
            "boot-partition-not-in-backup",
            f"the disk has an EFI system partition ({efi[0].label} in the table) but its volume is not in this "
            "backup: a bare-metal restore brings back a Windows volume that cannot start",
            ALL_CRITICAL,
        )
        return _done(chain, facts, None)
    chain.broken(
        "system partition",
        "boot-partition-missing",
        "no volume of this point holds a boot store (\\EFI\\Microsoft\\Boot\\BCD on an EFI partition, or "
        "\\Boot\\BCD on a System Reserved/NTFS partition): the boot partition was not in this backup",
        f"{ALL_CRITICAL}; a restore of this point needs bcdboot C:\\Windows from WinRE afterwards",
    )
    return _done(chain, facts, None)


def _default_entry(chain: _Chain, store: BcdStore, rebuild: str) -> str | None:
    entry, source = store.default_entry()
    if entry is None:
        chain.broken("default entry", "bcd-no-default", source, rebuild)
        return None
    loader = store.objects.get(entry)
    if loader is None:
        chain.broken(
            "default entry",
            "bcd-default-missing",
            f"{{bootmgr}} {source} names {entry}, which is not in the store",
            rebuild,
        )
        return None
    if loader.type is not None and loader.type != WINDOWS_LOADER_TYPE:
        chain.broken(
            "default entry",
            "bcd-default-not-windows",
            f"the default entry {entry} is an object of type 0x{loader.type:08x}, not a Windows Boot Loader",
            rebuild,
        )
        return None
    name = store.string(entry, DESCRIPTION) or "no description"
    chain.ok("default entry", f"{entry} ({name}), from the {{bootmgr}} {source}")
    return entry


def _device_link(
    chain: _Chain, element: str, device: Device | None, places: list[_Place], facts: DeepFacts, rebuild: str
) -> _Place | None:
    """The partition a device element names, among the point's volumes."""
    name = f"{element} partition"
    if device is None:
        chain.broken(name, "bcd-device-missing", f"the default entry has no {element} element", rebuild)
        return None
    if device.kind == "partition":
        match = [p for p in places if _same_partition(device, p)]
        if not match:
            chain.broken(
                name,
                "bcd-device-unknown",
                f"the entry's {element} is {device.describe()}, which is on none of this point's disks: "
                "the disk it names was not in the backup, or the store is stale",
                f"{ALL_CRITICAL}; or after the restore, {rebuild}",
            )
            return None
        present = [p for p in match if p.present]
        if not present:
            chain.broken(
                name,
                "boot-volume-not-in-backup",
                f"the entry's {element} is {match[0].label} ({device.describe()}), which is in the partition "
                "table but its volume is not in this backup",
                ALL_CRITICAL,
            )
            return None
        chain.ok(name, f"{present[0].label}, matched by {device.describe()}")
        return present[0]
    # boot, locate and the like name no partition: the Windows volume deep inspection found is what they mean.
    windows = [p for p in places if p.part.file_system is not None and p.part.file_system.windows]
    if not windows:
        chain.broken(
            name, "system-volume-missing", f"{element} is '{device.kind}' and no volume holds Windows", rebuild
        )
        return None
    chain.links.append(
        Link(name, True, f"'{device.kind}' names no partition; matched to the Windows volume {windows[0].label}")
    )
    return windows[0]


def _same_partition(device: Device, place: _Place) -> bool:
    image, part = place.image, place.part.partition
    if device.style == "gpt":
        return (
            image.partition_style == "gpt"
            and (image.disk_id or "").upper() == device.disk_id
            and (part.identifier or "").lower() == device.partition_guid
        )
    return image.partition_style == "mbr" and image.disk_id == device.disk_id and part.offset == device.partition_offset


def _drivers(
    chain: _Chain, volume: Any, opener: _Opener, place: _Place, wanted: frozenset[str]
) -> SystemServices | None:
    try:
        services = read_services(volume, opener.reader(place), wanted)
    except (OSError, ValueError) as exc:
        reader = opener.reader(place)
        if reader.failure is not None:
            raise reader.failure from exc
        chain.broken(
            "boot drivers",
            "boot-drivers-unknown",
            f"the SYSTEM hive on {place.label} cannot be read ({str(exc).split('. ')[0][:160]})",
            "the system volume in this point is damaged; use another point",
        )
        return None
    boot = services.boot_start_drivers()
    missing = [s for s in boot if s.file_present is False]
    storage = sorted(s.name for s in boot if (s.group or "").lower() in STORAGE_GROUPS)
    if missing:
        names = ", ".join(f"{s.name} ({s.driver_file})" for s in missing)
        chain.broken(
            "boot drivers",
            "boot-driver-missing",
            f"boot-start drivers whose file is not on {place.label}: {names}: Windows stops at boot (often 0x7B)",
            "use another point; or after the restore put the driver back (dism /image:C:\\ /add-driver) or set "
            "the service's Start to 3 if the hardware is gone",
        )
    elif not storage:
        chain.broken(
            "boot drivers",
            "no-boot-storage-driver",
            "no storage driver (group SCSI miniport / boot bus extender) is set to boot start in "
            f"{services.control_set}: Windows may not find its disk (0x7B)",
            "check with --target-hardware which driver the target needs",
            severe=False,
        )
    else:
        chain.ok("boot drivers", f"boot-start storage drivers: {', '.join(storage)}")
    return services


def _bcdboot_firmware(firmware: str | None) -> str:
    return {"UEFI": "UEFI", "BIOS": "BIOS"}.get(firmware or "", "ALL")


def _read_file(volume: Any, path: str, cap: int) -> bytes | None:
    try:
        entry = volume.get_file_entry_by_path(path)
        if entry is None or int(entry.get_size()) > cap:
            return None
        data: bytes = entry.read(int(entry.get_size()))
    except (OSError, ValueError):
        return None
    return data


def _exists(volume: Any, path: str) -> bool:
    try:
        return volume.get_file_entry_by_path(path) is not None
    except (OSError, ValueError):
        return False


class _Opener:
    """Opens partitions of the point's images once each (the reader, the container, the file system)."""

    def __init__(self, backend: Backend, point_path: str, limits: Limits, stack: contextlib.ExitStack) -> None:
        self._backend = backend
        self._point = point_path
        self._limits = limits
        self._stack = stack
        self._readers: dict[str, tuple[BoundedReader, Any]] = {}
        self._volumes: dict[tuple[str, int], Any] = {}

    def reader(self, place: _Place) -> BoundedReader:
        return self._container(place.image.image)[0]

    def _container(self, image: str) -> tuple[BoundedReader, Any]:
        if image not in self._readers:
            path = paths.join(self._point, image)
            size = self._backend.stat(path).size
            reader = BoundedReader(self._backend, path, size, self._limits)
            self._stack.callback(reader.close)
            source, _note = replayed_source(reader, image)  # a pending VHDX log: read as Windows would mount it
            disk = open_container(reader, image, source)
            self._stack.callback(reader.release, disk)
            self._readers[image] = (reader, disk)
        return self._readers[image]

    def volume(self, place: _Place) -> Any:
        key = (place.image.image, place.part.partition.number)
        if key not in self._volumes:
            reader, disk = self._container(place.image.image)
            part = place.part.partition
            window = Window(disk, part.offset, part.size, reader)
            kind = kind_of(window.pread(0, 512))
            handle = reader.watch(pyfsntfs.volume() if kind == "ntfs" else pyfsfat.volume())
            try:
                handle.open_file_object(window)
            except (OSError, ValueError) as exc:
                reader.release(handle)
                if reader.failure is not None:
                    raise reader.failure from exc
                raise DiskError("file-system-unreadable", f"{place.label}: {str(exc).split('. ')[0]}") from exc
            self._stack.callback(reader.release, handle)
            self._volumes[key] = handle
        return self._volumes[key]
