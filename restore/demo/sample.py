"""Write WindowsImageBackup trees in the real layout: for `bmr demo`, and (with qemu-img's images) for the tests.

The layout and files follow the domain brief and evidence.md: BackupSpecs.xml in the shape the backup engine
writes (A6: one line, UTF-16LE with a BOM, no ``<?xml?>`` declaration; or A1's older shape without Version and
ComponentSpecs), the <id>_... XML files with one shared id, a writer file per VSS writer that ran (written even
for a volume-only backup, A1), Catalog, MediaId, SPPMetadataCache and one image per volume.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from restore.demo.vhdx import write_vhdx
from restore.tree import writers as w
from restore.tree.identifiers import folder_name
from restore.tree.model import TREE_NAME

ADDITIONAL_FILES = "c3b9f3c7-5e52-4d5e-8b20-19adc95a34c7"
SYSTEM_STATE_WRITERS = [
    w.SYSTEM,
    "afbab4a2-367d-4d15-a586-71dbb18f8485",  # Registry
    "542da469-d3e1-473c-9f4f-7847f01fc64f",  # COM+ REGDB
    "a6ad56c2-b509-4e6c-bb19-49d8f43532f0",  # WMI
]
DC_WRITERS = [w.NTDS, w.DFSR]

# Writes one volume image: (path, format "vhdx"/"vhd", virtual size in MiB, index of the volume in the point).
ImageWriter = Callable[[Path, str, int, int], None]


@dataclass
class VolumeSpec:
    access_path: str
    label: str = ""
    virtual_mb: int = 64
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class PointSpec:
    """What kind of recovery point to write."""

    when: datetime = field(default_factory=lambda: datetime(2020, 10, 4, 17, 48, 38, tzinfo=UTC))
    system_state: bool = True
    all_critical: bool = True
    writers: list[str] = field(default_factory=lambda: [w.ASR, *SYSTEM_STATE_WRITERS, *DC_WRITERS])
    volumes: list[VolumeSpec] = field(
        default_factory=lambda: [VolumeSpec("", "EFI system partition"), VolumeSpec("C:", "System")]
    )
    image_format: str = "vhdx"
    pad_mb: int = 0  # random bytes appended to the first image: a big file for copy tests, header still valid
    backup_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    specs_version: int | None = 1  # None: A1's older shape (no Version attribute, no ComponentSpecs)
    # Writer ids in ComponentSpecs; None: the writers when the point holds system state, none for a volume backup.
    components: list[str] | None = None

    @property
    def component_writers(self) -> list[str]:
        if self.specs_version is None:
            return []
        if self.components is not None:
            return self.components
        return list(self.writers) if self.system_state or self.all_critical else []


def bmr_dc() -> PointSpec:
    return PointSpec()


def system_state_only() -> PointSpec:
    return PointSpec(all_critical=False, writers=list(SYSTEM_STATE_WRITERS), volumes=[VolumeSpec("C:", "System")])


def files_only() -> PointSpec:
    return PointSpec(system_state=False, all_critical=False, writers=[], volumes=[VolumeSpec("D:", "Data")])


def _flag(value: bool) -> str:
    return "true" if value else "false"


def specs_text(spec: PointSpec) -> str:
    """BackupSpecs.xml as the backup engine writes it (evidence.md A6, A1): one line, no declaration, a space
    before the ``>`` of each Volume, hidden volumes named by their volume path in FileSpec too."""
    head = "<BackupSpecs>" if spec.specs_version is None else f'<BackupSpecs Version="{spec.specs_version}">'
    parts = [head, "<FileSpecs>"]
    for vol in spec.volumes:
        name = f"\\\\?\\Volume{{{vol.guid}}}\\"
        parts.append(
            f'<Volume Name="{name}" AccessPath="{vol.access_path}" OriginalAccessPath="{vol.access_path}" '
            f'Label="{vol.label}" OriginalLabel="{vol.label}" >'
            f'<FileSpec FilePath="{vol.access_path + chr(92) if vol.access_path else name}" FileName="*" '
            'IsRecursive="true" IsInclude="true" /></Volume>'
        )
    parts += [
        "</FileSpecs>",
        f'<SystemState IsPresent="{_flag(spec.system_state)}" />',
        f'<AllCritical IsPresent="{_flag(spec.all_critical)}" />',
    ]
    if spec.specs_version is not None:
        parts.append("<ComponentSpecs>")
        parts += [
            f'<ComponentSpec WriterId="{{{wid}}}" InstanceId="{{{_instance(spec, wid)}}}" ComponentName="" '
            'LogicalPath="" Caption="" />'
            for wid in spec.component_writers
        ]
        parts.append("</ComponentSpecs>")
    parts.append("</BackupSpecs>")
    return "".join(parts)


def _instance(spec: PointSpec, writer: str) -> str:
    return str(uuid.uuid5(uuid.UUID(spec.backup_id), writer))


def specs_xml(spec: PointSpec) -> bytes:
    """The file's bytes: UTF-16LE with its BOM (A1: 592 characters x 2 + 2 = 1186 bytes)."""
    return "\ufeff".encode("utf-16-le") + specs_text(spec).encode("utf-16-le")


def empty_vhdx(path: Path, fmt: str, virtual_mb: int, index: int) -> None:
    """The default image writer: an empty dynamic VHDX, no external tool needed."""
    if fmt != "vhdx":
        raise ValueError("the built-in writer makes VHDX images only")
    write_vhdx(path, virtual_mb * 1024 * 1024)


def write_machine(tree: Path, name: str, spec: PointSpec, image: ImageWriter = empty_vhdx) -> Path:
    """Write ``tree/<name>/`` (tree is the WindowsImageBackup folder) with one recovery point; returns its folder."""
    machine = tree / name
    point = machine / folder_name(spec.when)
    point.mkdir(parents=True)
    (machine / "Catalog").mkdir(exist_ok=True)
    (machine / "Catalog" / "GlobalCatalog").write_bytes(b"GCAT" + os.urandom(2044))
    (machine / "Catalog" / "BackupGlobalCatalog").write_bytes(b"GCAT" + os.urandom(2044))
    (machine / "MediaId").write_bytes(uuid.uuid4().bytes)
    (machine / "SPPMetadataCache").mkdir(exist_ok=True)
    (machine / "SPPMetadataCache" / f"{{{spec.backup_id}}}").write_bytes(os.urandom(4096))
    (point / "BackupSpecs.xml").write_bytes(specs_xml(spec))
    bom = "\ufeff".encode("utf-16-le")
    for suffix in (f"_AdditionalFiles{ADDITIONAL_FILES}.xml", "_Components.xml", "_RegistryExcludes.xml"):
        (point / f"{spec.backup_id}{suffix}").write_bytes(bom + f"<{suffix[1:-4]}/>".encode("utf-16-le"))
    for writer in spec.writers:
        (point / f"{spec.backup_id}_Writer{writer}.xml").write_bytes(bom + "<Writer/>".encode("utf-16-le"))
    for index, vol in enumerate(spec.volumes):
        target = point / f"{vol.guid}.{spec.image_format}"
        image(target, spec.image_format, vol.virtual_mb, index)
        if spec.pad_mb and index == 0:
            with open(target, "ab") as data:
                for _ in range(spec.pad_mb):
                    data.write(os.urandom(1024 * 1024))
    return point


def write_tree(root: Path, machines: dict[str, PointSpec], image: ImageWriter = empty_vhdx) -> Path:
    tree = root / TREE_NAME
    tree.mkdir(parents=True, exist_ok=True)
    for name, spec in machines.items():
        write_machine(tree, name, spec, image)
    return tree
