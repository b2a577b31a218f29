"""The SYSTEM hive's driver services and device bindings, as the boot chain and the target-hardware check need them.

What decides whether Windows finds its boot disk on new hardware (the keys virt-v2v edits when it converts a guest):
the storage driver's service (Type 1 = kernel driver, Start 0 = boot start, ImagePath), the driver file itself,
and the device binding: ControlSet\\Control\\CriticalDeviceDatabase\\<bus#id> up to Windows Server 2008 R2, and
DriverDatabase\\DeviceIds\\<bus>\\<id> from Windows Server 2012 on.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from restore.tree.deep.hives import SYSTEM_PATH, _integer, _key, _open, _string
from restore.tree.deep.reader import BoundedReader

MAX_SERVICES = 4096  # a real SYSTEM hive has about 600-1000
MAX_IDS = 20000
KERNEL_DRIVER = 1
BOOT_START = 0
# Device-id buses whose bindings are collected (the profiles' devices sit on these).
BUSES = ("PCI", "VMBUS", "ACPI")


@dataclass(frozen=True)
class Service:
    name: str
    start: int | None
    type: int | None
    group: str | None
    image_path: str | None
    file_present: bool | None  # None: not looked up

    @property
    def driver_file(self) -> str:
        """The driver's path on the Windows volume (System32\\drivers\\<name>.sys without an ImagePath)."""
        return driver_path(self.name, self.image_path)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "start": self.start,
            "type": self.type,
            "group": self.group,
            "image_path": self.image_path,
            "file_present": self.file_present,
        }


@dataclass(frozen=True)
class SystemServices:
    """The driver services of the current control set and the device ids Windows has drivers bound to."""

    control_set: str  # ControlSet001
    services: dict[str, Service]  # by lower-case name
    critical_devices: dict[str, str]  # CriticalDeviceDatabase key (lower case) -> service (lower case)
    device_ids: frozenset[str]  # DriverDatabase\DeviceIds\<bus>\<id>, upper case, as "BUS\ID"
    driver_database: bool  # the DriverDatabase key exists (Windows Server 2012 and later)
    notes: tuple[str, ...] = field(default=())

    def service(self, name: str) -> Service | None:
        return self.services.get(name.lower())

    def boot_start_drivers(self) -> tuple[Service, ...]:
        return tuple(s for s in self.services.values() if s.start == BOOT_START and s.type in (KERNEL_DRIVER, None))

    def bound(self, device_id: str) -> tuple[bool, str]:
        """Whether Windows has a binding for ``device_id`` (e.g. PCI\\VEN_1AF4&DEV_1001, a prefix of the full id)."""
        wanted = device_id.upper()
        if self.driver_database:
            found = any(i == wanted or i.startswith(wanted + "&") for i in self.device_ids)
            return found, f"DriverDatabase\\DeviceIds\\{device_id}"
        legacy = device_id.lower().replace("\\", "#")
        found = any(k == legacy or k.startswith(legacy + "&") for k in self.critical_devices)
        return found, f"{self.control_set}\\Control\\CriticalDeviceDatabase\\{legacy}"

    def to_json(self) -> dict[str, Any]:
        return {
            "control_set": self.control_set,
            "boot_start_drivers": sorted(s.name for s in self.boot_start_drivers()),
            "driver_database": self.driver_database,
        }


def driver_path(name: str, image_path: str | None) -> str:
    """The driver file on the Windows volume as a path from its root."""
    if not image_path:
        return f"\\Windows\\System32\\drivers\\{name}.sys"
    path = image_path.strip().strip('"')
    lowered = path.lower()
    for prefix in ("\\systemroot\\", "%systemroot%\\", "%windir%\\"):
        if lowered.startswith(prefix):
            return "\\Windows\\" + path[len(prefix) :]
    if lowered.startswith("\\??\\") and len(path) > 6 and path[5] == ":":
        return path[6:]
    if len(path) > 2 and path[1] == ":":
        return path[2:]
    if lowered.startswith("system32\\"):
        return "\\Windows\\" + path
    return "\\" + path.lstrip("\\")


def read_services(volume: Any, reader: BoundedReader, wanted: frozenset[str]) -> SystemServices:
    """The driver services of SYSTEM inside the NTFS ``volume``; file presence is looked up for the boot-start
    drivers and for ``wanted`` (lower-case service names). Raises OSError/ValueError when the hive is unreadable."""
    hive = _open(volume, SYSTEM_PATH, reader)
    try:
        current = _integer(_key(hive, "Select"), "Current") or 1
        control_set = f"ControlSet{current:03d}"
        if _key(hive, control_set) is None:
            control_set = "ControlSet001"
        services_key = _key(hive, f"{control_set}\\Services")
        services: dict[str, Service] = {}
        if services_key is not None:
            for index in range(min(int(services_key.get_number_of_sub_keys()), MAX_SERVICES)):
                reader.check_time()
                key = services_key.get_sub_key(index)
                name = str(key.get_name())
                start, kind = _integer(key, "Start"), _integer(key, "Type")
                look = name.lower() in wanted or (start == BOOT_START and kind == KERNEL_DRIVER)
                image = _string(key, "ImagePath")
                present = _exists(volume, driver_path(name, image), reader) if look else None
                services[name.lower()] = Service(name, start, kind, _string(key, "Group"), image, present)
        critical: dict[str, str] = {}
        cdd = _key(hive, f"{control_set}\\Control\\CriticalDeviceDatabase")
        if cdd is not None:
            for index in range(min(int(cdd.get_number_of_sub_keys()), MAX_IDS)):
                key = cdd.get_sub_key(index)
                critical[str(key.get_name()).lower()] = (_string(key, "Service") or "").lower()
        ids: set[str] = set()
        database = _key(hive, "DriverDatabase")
        for bus in BUSES:
            key = _key(hive, f"DriverDatabase\\DeviceIds\\{bus}")
            if key is None:
                continue
            for index in range(min(int(key.get_number_of_sub_keys()), MAX_IDS)):
                ids.add(f"{bus}\\{key.get_sub_key(index).get_name()}".upper())
        return SystemServices(control_set, services, critical, frozenset(ids), database is not None)
    finally:
        reader.release(hive)


def _exists(volume: Any, path: str, reader: BoundedReader) -> bool | None:
    with contextlib.suppress(OSError, ValueError):
        return volume.get_file_entry_by_path(path) is not None
    if reader.failure is not None:
        raise reader.failure
    return None
