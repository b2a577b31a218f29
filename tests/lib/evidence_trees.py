"""The published real trees of /work/shared/evidence.md, rebuilt file for file: names, sizes and BackupSpecs.xml
shapes as the write-ups list them. Images are sparse (fixed VHD: the footer at the end; VHDX: the built-in writer),
so a 5 GB image costs nothing on disk. No external tool: these builders serve the fast tier."""

from __future__ import annotations

import os
import struct
import uuid
from datetime import UTC, datetime
from pathlib import Path

from restore.demo import sample
from restore.demo.sample import PointSpec, VolumeSpec
from restore.tree import writers as w
from restore.tree.images import vhd_footer_checksum

BOM = "\ufeff".encode("utf-16-le")

# A1: HackTheBox "Bastion" (Windows 7, 2019), as smbmap listed it.
A1_HOST, A1_SHARE, A1_MACHINE = "10.10.10.134", "Backups", "L4mpje-PC"
A1_ID = "cd113385-65ff-4ea2-8ced-5630f6feca8f"
A1_HIDDEN, A1_C = "9b9cfbc3-369e-11e9-a17c-806e6f6e6963", "9b9cfbc4-369e-11e9-a17c-806e6f6e6963"
A1_IMAGE_SIZES = {A1_HIDDEN: 37_761_024, A1_C: 5_418_299_392}
A1_WRITERS = [
    "4dc3bdd4-ab48-4d07-adb0-3bee2926fd7f",
    "542da469-d3e1-473c-9f4f-7847f01fc64f",
    "a6ad56c2-b509-4e6c-bb19-49d8f43532f0",
    "afbab4a2-367d-4d15-a586-71dbb18f8485",
    w.ASR,
    "cd3f2362-8bef-46c7-9181-d62844cdc0b2",
    w.SYSTEM,
]
A1_SIZES = {  # path in the computer folder -> bytes, as listed
    "MediaId": 16,
    "Catalog/BackupGlobalCatalog": 5698,
    "Catalog/GlobalCatalog": 7440,
    f"SPPMetadataCache/{{{A1_ID}}}": 57848,
    f"Backup 2019-02-22 124351/{A1_ID}_AdditionalFiles{sample.ADDITIONAL_FILES}.xml": 1078,
    f"Backup 2019-02-22 124351/{A1_ID}_Components.xml": 8930,
    f"Backup 2019-02-22 124351/{A1_ID}_RegistryExcludes.xml": 6542,
    f"Backup 2019-02-22 124351/{A1_ID}_Writer{w.SYSTEM}.xml": 2_374_620,
}

# A2: HackTheBox "Blackfield" (Windows Server 2019 DC01, 2020): `wbadmin start backup -include:C:\...\ntds.dit`.
A2_TARGET = "\\\\10.10.14.15\\share\\"  # as the write-up typed it, with the trailing backslash
A2_MACHINE = "DC01"

# A4: a Windows Server 2025 DC, custom backup of C: plus System State (lab write-up, 2026).
A4_MACHINE = "DC01"


def write_fixed_vhd(path: Path, file_size: int) -> None:
    """A sparse fixed VHD of exactly ``file_size`` bytes: data, then the 512-byte 'conectix' footer."""
    virtual = file_size - 512
    footer = bytearray(512)
    footer[0:8] = b"conectix"
    struct.pack_into(">IIQI", footer, 8, 2, 0x00010000, 0xFFFFFFFFFFFFFFFF, 0)
    footer[28:32] = b"win "
    struct.pack_into(">I", footer, 32, 0x00060001)
    footer[36:40] = b"Wi2k"
    struct.pack_into(">QQ", footer, 40, virtual, virtual)
    struct.pack_into(">I", footer, 60, 2)  # fixed
    footer[68:84] = uuid.uuid4().bytes
    struct.pack_into(">I", footer, 64, vhd_footer_checksum(bytes(footer)))
    with open(path, "wb") as out:
        out.truncate(virtual)
        out.seek(virtual)
        out.write(bytes(footer))


def _resize(path: Path, size: int) -> None:
    """Give a file the listed size: an XML file stays UTF-16 text (padded with spaces), others random bytes."""
    if path.suffix == ".xml":
        head = path.read_bytes()[: max(2, size - 64)]
        pad = size - len(head)
        path.write_bytes(head + " ".encode("utf-16-le") * (pad // 2) + b"\x00" * (pad % 2))
    else:
        path.write_bytes(os.urandom(size))


def a1_spec() -> PointSpec:
    """Bastion's point: a volume backup (hidden system partition + C:) in A1's older BackupSpecs shape."""
    return PointSpec(
        when=datetime(2019, 2, 22, 12, 43, 51, tzinfo=UTC),
        system_state=False,
        all_critical=False,
        writers=list(A1_WRITERS),
        volumes=[VolumeSpec("", "", guid=A1_HIDDEN), VolumeSpec("C:", "", guid=A1_C)],
        image_format="vhd",
        backup_id=A1_ID,
        specs_version=None,
    )


def write_a1(share_root: Path) -> Path:
    """The Bastion share root: note.txt, SDT65CB.tmp and WindowsImageBackup/L4mpje-PC/...; returns the point."""
    share_root.mkdir(parents=True, exist_ok=True)
    (share_root / "note.txt").write_bytes(b"x" * 116)
    (share_root / "SDT65CB.tmp").write_bytes(b"")
    spec = a1_spec()
    guids = [v.guid for v in spec.volumes]

    def image(path: Path, fmt: str, virtual_mb: int, index: int) -> None:
        write_fixed_vhd(path, A1_IMAGE_SIZES[guids[index]])

    point = sample.write_tree(share_root, {A1_MACHINE: spec}, image) / A1_MACHINE / "Backup 2019-02-22 124351"
    machine = point.parent
    for relative, size in A1_SIZES.items():
        _resize(machine / relative, size)
    return point


def a2_spec() -> PointSpec:
    """Blackfield's point: a volume backup of C: of a DC (Server 2019 writes the Version shape); the DC's writers
    ran and left their files, which must not change what the point can recover."""
    return PointSpec(
        when=datetime(2020, 10, 4, 17, 48, 38, tzinfo=UTC),
        system_state=False,
        all_critical=False,
        writers=[w.ASR, *sample.SYSTEM_STATE_WRITERS, *sample.DC_WRITERS],
        volumes=[VolumeSpec("C:", "")],
        components=[],
    )


def write_a2(share_root: Path) -> Path:
    """The Blackfield share root: .deleted and WindowsImageBackup/DC01/Backup 2020-10-04 174838; returns the point."""
    share_root.mkdir(parents=True, exist_ok=True)
    (share_root / ".deleted").mkdir()
    return sample.write_tree(share_root, {A2_MACHINE: a2_spec()}) / A2_MACHINE / "Backup 2020-10-04 174838"


def a4_spec() -> PointSpec:
    """A4: C: plus System State of a DC (no AllCritical): Application(s) and System State, no Bare Metal Recovery."""
    return PointSpec(
        when=datetime(2026, 9, 1, 17, 35, 12, tzinfo=UTC),
        system_state=True,
        all_critical=False,
        writers=[*sample.SYSTEM_STATE_WRITERS, *sample.DC_WRITERS],
        volumes=[VolumeSpec("C:", "")],
        components=[],  # the components of a system-state point are not published: the flag alone must do
    )


def write_a4(share_root: Path) -> Path:
    share_root.mkdir(parents=True, exist_ok=True)
    return sample.write_tree(share_root, {A4_MACHINE: a4_spec()}) / A4_MACHINE / "Backup 2026-09-01 173512"


def file_sizes(machine: Path) -> dict[str, int]:
    """Every file below a computer folder: its path there ('/'-separated) and its size."""
    return {p.relative_to(machine).as_posix(): p.stat().st_size for p in machine.rglob("*") if p.is_file()}
