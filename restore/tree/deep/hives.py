"""Facts from the system volume's registry hives (SYSTEM and SOFTWARE, read by libregf inside the NTFS volume)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import pyregf

from restore.tree.deep.disk import DiskError
from restore.tree.deep.reader import MIB, BoundedReader
from restore.tree.zones import iana_of

SYSTEM_PATH = "\\Windows\\System32\\config\\SYSTEM"
SOFTWARE_PATH = "\\Windows\\System32\\config\\SOFTWARE"
SERVICING_PATH = "\\Windows\\servicing\\Version"
SOFTWARE_MARGIN = 2 * MIB  # what reading a hive costs beyond its own size: NTFS run lists, the disk's block table
ARCHITECTURES = {"AMD64": "x64", "X86": "x86", "ARM64": "arm64", "IA64": "ia64"}
# Service keys that say what the server was: NTDS (AD DS), DFSR / NtFrs (SYSVOL replication), the cluster
# service and certificate services.
SERVICES = ("NTDS", "DFSR", "NtFrs", "ClusSvc", "CertSvc")


@dataclass(frozen=True)
class WindowsInstall:
    """What the hives say about the server."""

    computer: str | None
    domain: str | None
    product_name: str | None
    edition_id: str | None
    build: str | None
    ubr: int | None
    architecture: str | None  # x64, x86, arm64
    time_zone: str | None  # TimeZoneKeyName
    product_type: str | None  # LanmanNT (domain controller), ServerNT, WinNT
    services: tuple[str, ...]  # which of SERVICES exist

    @property
    def domain_controller(self) -> bool:
        """A real DC: the NTDS service exists, and the product type (when present) agrees."""
        return "NTDS" in self.services and self.product_type in (None, "LanmanNT")

    def to_json(self) -> dict[str, Any]:
        return {
            "computer": self.computer,
            "domain": self.domain,
            "product_name": self.product_name,
            "edition_id": self.edition_id,
            "build": self.build,
            "ubr": self.ubr,
            "architecture": self.architecture,
            "time_zone": self.time_zone,
            "time_zone_iana": iana_of(self.time_zone),
            "product_type": self.product_type,
            "domain_controller": self.domain_controller,
            "sysvol_replication": "dfsr" if "DFSR" in self.services else "frs" if "NtFrs" in self.services else None,
            "clustered": "ClusSvc" in self.services,
            "certificate_services": "CertSvc" in self.services,
            "services": list(self.services),
        }


class HiveFile:
    """A file inside NTFS as libregf wants it, with the image's deadline checked on every read."""

    def __init__(self, entry: Any, reader: BoundedReader) -> None:
        self._entry = entry
        self._reader = reader
        self._size = int(entry.get_size())

    def read(self, size: int = -1) -> bytes:
        self._reader.check_time()
        data: bytes = self._entry.read(size) if size is not None and size >= 0 else self._entry.read()
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        self._entry.seek(offset, whence)
        return int(self._entry.get_offset())

    def tell(self) -> int:
        return int(self._entry.get_offset())

    def get_offset(self) -> int:
        return self.tell()

    def get_size(self) -> int:
        return self._size


def _open(volume: Any, path: str, reader: BoundedReader) -> Any:
    entry = volume.get_file_entry_by_path(path)
    if entry is None:
        raise DiskError("hive-unreadable", f"{path} is missing")
    hive = reader.watch(pyregf.file())
    try:
        hive.open_file_object(HiveFile(entry, reader))
    except (OSError, ValueError):
        reader.release(hive)
        raise
    return hive


def _key(hive: Any, path: str) -> Any:
    return hive.get_key_by_path(path)


def _string(key: Any, name: str) -> str | None:
    if key is None:
        return None
    value = key.get_value_by_name(name)
    if value is None:
        return None
    with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):
        text = value.get_data_as_string()
        return str(text).rstrip("\0") if text is not None else None
    return None


def _integer(key: Any, name: str) -> int | None:
    if key is None:
        return None
    value = key.get_value_by_name(name)
    if value is None:
        return None
    with contextlib.suppress(OSError, ValueError):
        return int(value.get_data_as_integer())
    return None


def read_install(volume: Any, reader: BoundedReader) -> tuple[WindowsInstall, tuple[tuple[str, str], ...]]:
    """The facts from SYSTEM and SOFTWARE, with (code, message) notes; DiskError when SYSTEM cannot be read."""
    try:
        system = _open(volume, SYSTEM_PATH, reader)
    except (OSError, ValueError) as exc:
        if reader.failure is not None:
            raise DiskError(reader.failure.code, str(reader.failure)) from exc
        raise DiskError("hive-unreadable", f"the SYSTEM hive cannot be read: {str(exc).split('. ')[0]}") from exc
    try:
        current = _integer(_key(system, "Select"), "Current") or 1
        control_set = f"ControlSet{current:03d}"
        if _key(system, control_set) is None:
            control_set = "ControlSet001"
        control = f"{control_set}\\Control"
        computer = _string(_key(system, f"{control}\\ComputerName\\ComputerName"), "ComputerName")
        tcpip = _key(system, f"{control_set}\\Services\\Tcpip\\Parameters")
        computer = computer or _string(tcpip, "Hostname")
        domain = _string(tcpip, "Domain") or None
        time_zone = _string(_key(system, f"{control}\\TimeZoneInformation"), "TimeZoneKeyName")
        product_type = _string(_key(system, f"{control}\\ProductOptions"), "ProductType")
        arch = _string(_key(system, f"{control}\\Session Manager\\Environment"), "PROCESSOR_ARCHITECTURE")
        services_key = _key(system, f"{control_set}\\Services")
        services = tuple(
            name for name in SERVICES if services_key is not None and services_key.get_sub_key_by_name(name) is not None
        )
    except (OSError, ValueError) as exc:
        if reader.failure is not None:
            raise DiskError(reader.failure.code, str(reader.failure)) from exc
        raise DiskError("hive-unreadable", f"the SYSTEM hive is damaged: {str(exc).split('. ')[0]}") from exc
    finally:
        reader.release(system)
    product_name = edition = build = None
    ubr = None
    notes: list[tuple[str, str]] = []
    try:
        entry = volume.get_file_entry_by_path(SOFTWARE_PATH)
    except (OSError, ValueError):
        if reader.failure is not None:
            raise DiskError(reader.failure.code, str(reader.failure)) from None
        entry = None  # a damaged entry: named below like a missing one
    # libregf visits every hive bin when it opens a hive, so a hive costs about its size in reads.
    left = reader.limits.max_bytes - reader.bytes_read
    if entry is None:
        notes.append(
            ("software-hive-missing", "Windows\\System32\\config\\SOFTWARE is missing or damaged: version unknown")
        )
    elif int(entry.get_size()) + SOFTWARE_MARGIN > left:
        notes.append(
            (
                "software-hive-too-large",
                f"the SOFTWARE hive is {int(entry.get_size()) // MIB} MiB: reading it would pass the image's "
                f"{reader.limits.max_bytes // MIB} MiB read limit; product name and edition stay unknown",
            )
        )
    else:
        try:
            software = _open(volume, SOFTWARE_PATH, reader)
            try:
                version = _key(software, "Microsoft\\Windows NT\\CurrentVersion")
                product_name = _string(version, "ProductName")
                edition = _string(version, "EditionID")
                build = _string(version, "CurrentBuild") or _string(version, "CurrentBuildNumber")
                ubr = _integer(version, "UBR")
            finally:
                reader.release(software)
        except (OSError, ValueError, DiskError) as exc:
            # What SYSTEM told stays valid: the version facts stay unknown.
            if reader.failure is not None:
                notes.append((reader.failure.code, f"reading the SOFTWARE hive: {reader.failure}"))
            else:
                notes.append(("hive-unreadable", f"the SOFTWARE hive cannot be read: {str(exc).split('. ')[0]}"))
    if build is None and reader.failure is None:
        with contextlib.suppress(OSError, ValueError):  # a fallback: its failure leaves the build unknown
            build = _servicing_build(volume)
    install = WindowsInstall(
        computer=computer,
        domain=domain,
        product_name=product_name,
        edition_id=edition,
        build=build,
        ubr=ubr,
        architecture=ARCHITECTURES.get((arch or "").upper(), arch),
        time_zone=time_zone,
        product_type=product_type,
        services=services,
    )
    return install, tuple(notes)


def _servicing_build(volume: Any) -> str | None:
    """The build named by Windows\\servicing\\Version's folders (10.0.17763.6189): used when SOFTWARE is not read."""
    folder = volume.get_file_entry_by_path(SERVICING_PATH)
    if folder is None:
        return None
    builds = []
    for index in range(min(int(folder.get_number_of_sub_file_entries()), 64)):
        parts = str(folder.get_sub_file_entry(index).get_name() or "").split(".")
        if len(parts) == 4 and all(p.isdigit() for p in parts):
            builds.append(int(parts[2]))
    return str(max(builds)) if builds else None
