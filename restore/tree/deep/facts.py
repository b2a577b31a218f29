"""What deep inspection found (frozen, with JSON), and what follows: firmware, target disks, media, problems."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from restore.tree import writers as known
from restore.tree.deep.disk import Partition
from restore.tree.deep.hives import WindowsInstall
from restore.tree.deep.volume import FileSystem
from restore.tree.model import Problem, Severity, error, warning

if TYPE_CHECKING:  # the boot chain reads after these facts and builds on them
    from restore.tree.deep.bootchain import BootChain

# Windows Server releases by build (the base build of each release; UBR says the patch level).
SERVER_RELEASES = {
    "6003": "Windows Server 2008",
    "7601": "Windows Server 2008 R2",
    "9200": "Windows Server 2012",
    "9600": "Windows Server 2012 R2",
    "14393": "Windows Server 2016",
    "17763": "Windows Server 2019",
    "20348": "Windows Server 2022",
    "26100": "Windows Server 2025",
}
EDITIONS = {
    "ServerStandard": "Standard",
    "ServerDatacenter": "Datacenter",
    "ServerStandardEval": "Standard (evaluation)",
    "ServerDatacenterEval": "Datacenter (evaluation)",
    "ServerEssentials": "Essentials",
    "ServerAzureEdition": "Datacenter: Azure Edition",
    "ServerDatacenterCor": "Datacenter (Server Core)",
    "ServerStandardCor": "Standard (Server Core)",
}


@dataclass(frozen=True)
class PartitionFacts:
    partition: Partition
    file_system: FileSystem | None  # None when it was not read (MSR, recovery without a file system, errors)

    def to_json(self) -> dict[str, Any]:
        p = self.partition
        return {
            "number": p.number,
            "kind": p.kind,
            "type_id": p.type_id,
            "identifier": p.identifier,
            "offset": p.offset,
            "size": p.size,
            "file_system": self.file_system.to_json() if self.file_system else None,
        }


@dataclass(frozen=True)
class ImageFacts:
    """One volume image of the point."""

    image: str
    access_path: str
    container: str | None  # vhdx, vhd; None when it could not be opened
    disk_type: str | None
    virtual_size: int | None
    partition_style: str | None  # gpt, mbr, none
    disk_id: str | None
    partitions: tuple[PartitionFacts, ...]
    bytes_read: int
    seconds: float
    problems: tuple[Problem, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "access_path": self.access_path,
            "container": self.container,
            "disk_type": self.disk_type,
            "virtual_size": self.virtual_size,
            "partition_style": self.partition_style,
            "disk_id": self.disk_id,
            "partitions": [p.to_json() for p in self.partitions],
            "bytes_read": self.bytes_read,
            "seconds": round(self.seconds, 3),
            "problems": [p.to_json() for p in self.problems],
        }


@dataclass(frozen=True)
class TargetDisk:
    """One source disk the point's critical volumes came from: the restore needs a target disk at least this big."""

    disk_id: str
    style: str
    size: int  # the source disk's size (the images' virtual size)
    partitions_end: int  # where its last partition ends
    images: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "disk_id": self.disk_id,
            "style": self.style,
            "size": self.size,
            "partitions_end": self.partitions_end,
            "images": list(self.images),
        }


@dataclass(frozen=True)
class DeepFacts:
    """Everything deep inspection of one recovery point found and derived."""

    computer: str  # the computer folder's name
    images: tuple[ImageFacts, ...]
    windows: WindowsInstall | None
    system_image: str | None  # the image holding Windows
    boot: tuple[str, ...]  # boot files found, as "<image>:<path>"
    firmware: str | None  # UEFI, BIOS; None when unknown
    target_disks: tuple[TargetDisk, ...]
    install_media: str | None
    problems: tuple[Problem, ...]
    # Images whose contents are unknown (a pending VHDX log that cannot be replayed): no verdict is drawn on them.
    withheld: tuple[str, ...] = ()
    boot_chain: BootChain | None = None  # read after the rest (restore.tree.contents)

    @property
    def ok(self) -> bool:
        return not any(p.severity is Severity.ERROR for p in self.all_problems)

    @property
    def all_problems(self) -> tuple[Problem, ...]:
        return tuple(p for image in self.images for p in image.problems) + self.problems

    @property
    def bytes_read(self) -> int:
        return sum(image.bytes_read for image in self.images)

    def to_json(self) -> dict[str, Any]:
        return {
            "computer": self.computer,
            "images": [i.to_json() for i in self.images],
            "windows": self.windows.to_json() if self.windows else None,
            "system_image": self.system_image,
            "boot_files": list(self.boot),
            "firmware": self.firmware,
            "target_disks": {
                "minimum_count": len(self.target_disks),
                "disks": [d.to_json() for d in self.target_disks],
            },
            "install_media": self.install_media,
            "verdict_withheld_for": list(self.withheld),
            "bytes_read": self.bytes_read,
            "ok": self.ok,
            "problems": [p.to_json() for p in self.problems],
            "boot_chain": self.boot_chain.to_json() if self.boot_chain else None,
        }


def firmware_of(images: tuple[ImageFacts, ...]) -> str | None:
    """UEFI when a GPT disk carries an EFI system partition; BIOS when the system is on MBR; else unknown."""
    if any(i.partition_style == "gpt" and any(p.partition.kind == "efi" for p in i.partitions) for i in images):
        return "UEFI"
    if any(i.partition_style == "mbr" for i in images if _holds_windows(i) or _boot_files(i)):
        return "BIOS"
    return None


def _holds_windows(image: ImageFacts) -> bool:
    return any(p.file_system is not None and p.file_system.windows for p in image.partitions)


def _boot_files(image: ImageFacts) -> tuple[str, ...]:
    return tuple(
        f"{image.image}:{path}" for p in image.partitions if p.file_system for path in p.file_system.boot_files
    )


def _critical(image: ImageFacts) -> bool:
    kinds = {p.partition.kind for p in image.partitions}
    return _holds_windows(image) or bool(_boot_files(image)) or "efi" in kinds


def target_disks(images: tuple[ImageFacts, ...]) -> tuple[TargetDisk, ...]:
    """The source disks of the critical volumes: images of one disk share its GPT GUID or MBR signature."""
    disks: dict[str, list[ImageFacts]] = {}
    for image in images:
        if image.virtual_size is None or not _critical(image):
            continue
        disks.setdefault(image.disk_id or f"image:{image.image}", []).append(image)
    out = []
    for disk_id, members in disks.items():
        ends = [p.partition.offset + p.partition.size for m in members for p in m.partitions]
        out.append(
            TargetDisk(
                disk_id=disk_id,
                style=members[0].partition_style or "none",
                size=max(m.virtual_size or 0 for m in members),
                partitions_end=max(ends, default=0),
                images=tuple(m.image for m in members),
            )
        )
    return tuple(out)


def install_media(windows: WindowsInstall | None, firmware: str | None) -> str | None:
    """What to boot for the restore, e.g. 'Windows Server 2019 Standard, build 17763, x64, UEFI'."""
    if windows is None:
        return None
    release = SERVER_RELEASES.get(windows.build or "") if windows.product_type != "WinNT" else None
    edition = EDITIONS.get(windows.edition_id or "", windows.edition_id)
    name = f"{release} {edition}" if release and edition else windows.product_name or release
    if name is None:
        return None
    parts = [name]
    if windows.build:
        parts.append(f"build {windows.build}")  # any media of the build will do: the update level is restored
    parts += [x for x in (windows.architecture, firmware) if x]
    return ", ".join(parts)


def derive_problems(
    images: tuple[ImageFacts, ...],
    windows: WindowsInstall | None,
    computer: str,
    writer_ids: set[str],
) -> list[Problem]:
    """The point-wide problems; each image's own problems stay with the image."""
    problems: list[Problem] = []
    if windows is None:
        problems.append(
            error(
                "system-volume-missing",
                "no image holds a readable Windows system volume (Windows\\System32\\config\\SYSTEM): "
                "a bare-metal restore of this point cannot start Windows",
            )
        )
    if windows is not None and windows.computer and windows.computer.lower() != computer.lower():
        problems.append(
            warning(
                "hostname-mismatch",
                f"the system volume belongs to '{windows.computer}' but the point is filed under '{computer}': "
                "-machine: must name the folder; check that this is the right server's backup",
            )
        )
    if windows is not None and not any(_boot_files(i) for i in images):
        problems.append(
            error(
                "no-boot-files",
                "neither \\EFI\\Microsoft\\Boot\\BCD on an EFI partition nor \\Boot\\BCD and bootmgr on an NTFS "
                "volume is in the point: the restored disk will not boot without repairing it (bcdboot)",
            )
        )
    dc_writers = known.NTDS in writer_ids
    if windows is not None:
        if dc_writers and not windows.domain_controller:
            problems.append(
                warning(
                    "dc-writers-without-ntds",
                    "the point carries NTDS writer metadata but the system volume has no NTDS service: "
                    "the writer files may come from another server or an old role",
                )
            )
        if windows.domain_controller and not dc_writers:
            problems.append(
                warning(
                    "ntds-without-dc-writers",
                    "the system volume is a domain controller (NTDS service) but the point has no NTDS writer "
                    "metadata: Active Directory was not backed up consistently; restore in DSRM with care",
                )
            )
    return problems
