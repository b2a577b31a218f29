"""Writes realistic WindowsImageBackup trees for the tests and benchmarks: the real layout, UTF-16 BackupSpecs.xml,
writer metadata files, and real VHDX/VHD images made by qemu-img (Debian's qemu-utils)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from restore import writers as w
from restore.versions import folder_name

ADDITIONAL_FILES = "c3b9f3c7-5e52-4d5e-8b20-19adc95a34c7"
SYSTEM_STATE_WRITERS = [
    w.SYSTEM,
    "afbab4a2-367d-4d15-a586-71dbb18f8485",  # Registry
    "542da469-d3e1-473c-9f4f-7847f01fc64f",  # COM+ REGDB
    "a6ad56c2-b509-4e6c-bb19-49d8f43532f0",  # WMI
]
DC_WRITERS = [w.NTDS, w.DFSR]


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


def bmr_dc() -> PointSpec:
    return PointSpec()


def system_state_only() -> PointSpec:
    return PointSpec(all_critical=False, writers=list(SYSTEM_STATE_WRITERS), volumes=[VolumeSpec("C:", "System")])


def files_only() -> PointSpec:
    return PointSpec(system_state=False, all_critical=False, writers=[], volumes=[VolumeSpec("D:", "Data")])


class ImageCache:
    """One qemu-img image per (format, size), hard-linked into trees (copied when a test will damage it)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def get(self, fmt: str, virtual_mb: int) -> Path:
        path = self.folder / f"template-{virtual_mb}M.{fmt}"
        if not path.exists():
            qemu_format = "vpc" if fmt == "vhd" else "vhdx"
            qemu_img = shutil.which("qemu-img")
            if qemu_img is None:
                raise RuntimeError("qemu-img is not installed: apt-get install qemu-utils (tests/run.sh does)")
            tmp = path.with_suffix(".tmp")
            subprocess.run([qemu_img, "create", "-q", "-f", qemu_format, str(tmp), f"{virtual_mb}M"], check=True)
            tmp.rename(path)
        return path


def specs_xml(spec: PointSpec) -> bytes:
    lines = ['<?xml version="1.0" encoding="utf-16"?>', '<BackupSpecs Version="1">', "  <FileSpecs>"]
    for vol in spec.volumes:
        lines.append(
            f'    <Volume Name="\\\\?\\Volume{{{vol.guid}}}\\" AccessPath="{vol.access_path}" '
            f'OriginalAccessPath="{vol.access_path}" Label="{vol.label}" OriginalLabel="{vol.label}">'
        )
        if vol.access_path:
            lines.append(
                f'      <FileSpec FilePath="{vol.access_path}\\" FileName="*" IsRecursive="true" IsInclude="true"/>'
            )
        lines.append("    </Volume>")
    lines.append("  </FileSpecs>")
    lines.append(f'  <SystemState IsPresent="{str(spec.system_state).lower()}"/>')
    lines.append(f'  <AllCritical IsPresent="{str(spec.all_critical).lower()}"/>')
    if spec.writers:
        lines.append("  <ComponentSpecs>")
        lines.extend(f'    <ComponentSpec WriterId="{{{wid}}}" Name="component"/>' for wid in spec.writers)
        lines.append("  </ComponentSpecs>")
    lines.append("</BackupSpecs>")
    return "\ufeff".encode("utf-16-le") + "\r\n".join(lines).encode("utf-16-le")


def write_machine(tree: Path, name: str, spec: PointSpec, images: ImageCache, *, copy_images: bool = False) -> Path:
    """Write ``tree/<name>/`` (tree is the WindowsImageBackup folder) with one recovery point; returns its folder."""
    machine = tree / name
    point = machine / folder_name(spec.when)
    point.mkdir(parents=True)
    (machine / "Catalog").mkdir()
    (machine / "Catalog" / "GlobalCatalog").write_bytes(b"GCAT" + os.urandom(2044))
    (machine / "Catalog" / "BackupGlobalCatalog").write_bytes(b"GCAT" + os.urandom(2044))
    (machine / "MediaId").write_bytes(uuid.uuid4().bytes)
    (machine / "SPPMetadataCache").mkdir()
    (machine / "SPPMetadataCache" / f"{{{spec.backup_id}}}").write_bytes(os.urandom(4096))
    (point / "BackupSpecs.xml").write_bytes(specs_xml(spec))
    bom = "\ufeff".encode("utf-16-le")
    for suffix in (f"_AdditionalFiles{ADDITIONAL_FILES}.xml", "_Components.xml", "_RegistryExcludes.xml"):
        (point / f"{spec.backup_id}{suffix}").write_bytes(bom + f"<{suffix[1:-4]}/>".encode("utf-16-le"))
    for writer in spec.writers:
        (point / f"{spec.backup_id}_Writer{writer}.xml").write_bytes(bom + b"<\x00W\x00/\x00>\x00")
    for index, vol in enumerate(spec.volumes):
        template = images.get(spec.image_format, vol.virtual_mb)
        target = point / f"{vol.guid}.{spec.image_format}"
        if copy_images or (spec.pad_mb and index == 0):
            shutil.copyfile(template, target)
        else:
            os.link(template, target)
        if spec.pad_mb and index == 0 and spec.image_format == "vhdx":
            with open(target, "ab") as image:
                for _ in range(spec.pad_mb):
                    image.write(os.urandom(1024 * 1024))
    return point


def write_tree(root: Path, machines: dict[str, PointSpec], images: ImageCache, **kw: bool) -> Path:
    tree = root / "WindowsImageBackup"
    tree.mkdir(parents=True, exist_ok=True)
    for name, spec in machines.items():
        write_machine(tree, name, spec, images, **kw)
    return tree
