"""The Boot Configuration Data store (a registry hive read by libregf): objects, their elements, and devices."""

from __future__ import annotations

import contextlib
import struct
import uuid
from dataclasses import dataclass
from typing import Any

import pyregf

from restore.tree.deep.reader import _PositionedReads

# Well-known object and element identifiers (bcdedit's names in the comments).
BOOTMGR = "{9dea862c-5cdd-4e70-acc1-f32b344d4795}"  # {bootmgr}
APPLICATION_DEVICE = "11000001"  # device
APPLICATION_PATH = "12000002"  # path
DESCRIPTION = "12000004"  # description
OS_DEVICE = "21000001"  # osdevice
SYSTEM_ROOT = "22000002"  # systemroot
DEFAULT_OBJECT = "23000003"  # {bootmgr} default
DISPLAY_ORDER = "24000001"  # {bootmgr} displayorder
WINDOWS_LOADER_TYPE = 0x10200003
MAX_OBJECTS = 512  # a real store holds a few dozen; more is a damaged or hostile hive
REG_SZ, REG_EXPAND_SZ, REG_BINARY, REG_MULTI_SZ = 1, 2, 3, 7
# The device element: 16 bytes of an options GUID, then the device's type, flags and length, then the identifier.
DEVICE_PARTITION = 6  # a partition (GPT: disk GUID + partition GUID; MBR: disk signature + partition offset)
DEVICE_BOOT = 5  # "boot": the partition the boot manager itself was loaded from
DEVICE_KINDS = {0: "block-io", 3: "serial", 4: "udp", 5: "boot", 6: "partition", 8: "locate"}


class BcdError(Exception):
    """The store cannot be read as a registry hive, or holds no Objects key."""


@dataclass(frozen=True)
class Device:
    """Where an element says a file lives."""

    kind: str  # partition, boot, locate, ..., unknown
    style: str | None = None  # gpt or mbr (partition devices)
    disk_id: str | None = None  # GPT disk GUID (upper case) or MBR signature as 0x........, as DiskLayout names them
    partition_guid: str | None = None  # GPT partition GUID (lower case), as Partition.identifier
    partition_offset: int | None = None  # MBR: the partition's byte offset on the disk

    def describe(self) -> str:
        if self.kind != "partition":
            return self.kind
        if self.style == "gpt":
            return f"GPT disk {self.disk_id} partition {self.partition_guid}"
        return f"MBR disk {self.disk_id} partition at byte {self.partition_offset}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "style": self.style,
            "disk_id": self.disk_id,
            "partition_guid": self.partition_guid,
            "partition_offset": self.partition_offset,
        }


def decode_device(data: bytes) -> Device:
    """A device element's binary value."""
    if len(data) < 32:
        return Device("unknown")
    kind, _flags, length = struct.unpack_from("<III", data, 16)
    name = DEVICE_KINDS.get(kind, "unknown")
    if kind != DEVICE_PARTITION:
        return Device(name)
    if len(data) < 72 or length < 0x38:
        return Device("unknown")
    (style,) = struct.unpack_from("<I", data, 0x34)
    if style == 0:
        part = str(uuid.UUID(bytes_le=bytes(data[0x20:0x30]))).lower()
        disk = str(uuid.UUID(bytes_le=bytes(data[0x38:0x48]))).upper()
        return Device("partition", "gpt", disk, partition_guid=part)
    if style == 1:
        (offset,) = struct.unpack_from("<Q", data, 0x20)
        (signature,) = struct.unpack_from("<I", data, 0x38)
        return Device("partition", "mbr", f"0x{signature:08x}", partition_offset=offset)
    return Device("unknown")


@dataclass(frozen=True)
class BcdObject:
    guid: str  # lower case, with braces
    type: int | None
    elements: dict[str, Any]  # element id (8 hex digits, lower case) -> str, list[str], bytes or int


@dataclass(frozen=True)
class BcdStore:
    objects: dict[str, BcdObject]

    def default_entry(self) -> tuple[str | None, str]:
        """The GUID of the default boot entry and where it came from ('default', 'displayorder', or why none)."""
        manager = self.objects.get(BOOTMGR)
        if manager is None:
            return None, "no {bootmgr} object"
        default = manager.elements.get(DEFAULT_OBJECT)
        if isinstance(default, str) and default.strip():
            return default.strip().lower(), "default"
        order = manager.elements.get(DISPLAY_ORDER)
        if isinstance(order, list) and order:
            return str(order[0]).strip().lower(), "displayorder"
        return None, "{bootmgr} has neither a default nor a displayorder"

    def string(self, guid: str, element: str) -> str | None:
        value = self.objects[guid].elements.get(element) if guid in self.objects else None
        return value if isinstance(value, str) else None

    def device(self, guid: str, element: str) -> Device | None:
        value = self.objects[guid].elements.get(element) if guid in self.objects else None
        return decode_device(value) if isinstance(value, bytes) else None


class _Bytes(_PositionedReads):
    """The file object libregf wants over a store already read into memory."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)
        self._position = 0

    def pread(self, offset: int, size: int) -> bytes:
        return self._data[offset : offset + size]


def read_store(data: bytes) -> BcdStore:
    """The objects of a BCD hive; BcdError when it is not a hive libregf can read or has no Objects key."""
    hive = pyregf.file()
    try:
        hive.open_file_object(_Bytes(data))
        objects_key = hive.get_key_by_path("Objects")
        if objects_key is None:
            raise BcdError("the store has no Objects key")
        count = int(objects_key.get_number_of_sub_keys())
        if count > MAX_OBJECTS:
            raise BcdError(f"the store lists {count} objects")
        objects: dict[str, BcdObject] = {}
        for index in range(count):
            key = objects_key.get_sub_key(index)
            guid = str(key.get_name()).lower()
            objects[guid] = BcdObject(guid, _type(key), _elements(key))
    except (OSError, ValueError, struct.error) as exc:
        raise BcdError(str(exc).split(". ")[0][:200]) from exc
    finally:
        with contextlib.suppress(OSError, ValueError):
            hive.close()
    return BcdStore(objects)


def _type(key: Any) -> int | None:
    description = key.get_sub_key_by_name("Description")
    value = description.get_value_by_name("Type") if description is not None else None
    if value is None:
        return None
    with contextlib.suppress(OSError, ValueError):
        return int(value.get_data_as_integer())
    return None


def _elements(key: Any) -> dict[str, Any]:
    elements = key.get_sub_key_by_name("Elements")
    out: dict[str, Any] = {}
    if elements is None:
        return out
    for index in range(min(int(elements.get_number_of_sub_keys()), MAX_OBJECTS)):
        element = elements.get_sub_key(index)
        value = element.get_value_by_name("Element")
        if value is None:
            continue
        out[str(element.get_name()).lower()] = _value(value)
    return out


def _value(value: Any) -> Any:
    kind = int(value.get_type())
    data = bytes(value.get_data() or b"")
    if kind in (REG_SZ, REG_EXPAND_SZ):
        return data.decode("utf-16-le", "replace").split("\0")[0]
    if kind == REG_MULTI_SZ:
        return [s for s in data.decode("utf-16-le", "replace").split("\0") if s]
    return data
