"""The disk a boot test boots: which image(s) of the point, a local copy when the point is remote, and the
copy-on-write overlay in a temporary folder (the point's image is its read-only backing file, never written)."""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass
from pathlib import Path

from restore.tree.deep.facts import DeepFacts, ImageFacts
from share import errors, paths
from share.base import Backend
from share.local import LocalBackend

QEMU_FORMATS = {"vhdx": "vhdx", "vhd": "vpc"}
CHUNK = 4 * 1024 * 1024
TOOL_SECONDS = 600.0  # one qemu-img/qemu-io step; a copy of a large partition stays far below


class BootDiskError(errors.BmrError):
    """Run bmr inspect --deep LOCATION to see what the point's images hold."""


@dataclass(frozen=True)
class Region:
    """A partition's bytes to take from another image of the same disk (Windows Server Backup writes one image
    per volume, each with the whole disk's partition table but only its own volume's data)."""

    image: str
    offset: int
    size: int


@dataclass(frozen=True)
class DiskPlan:
    image: str  # the image whose disk is booted (the one holding Windows, else the system partition's)
    container: str
    regions: tuple[Region, ...]
    firmware: str  # UEFI or BIOS
    note: str


def plan_disk(facts: DeepFacts, profile_firmware: str | None) -> DiskPlan:
    """Which image to boot and which partitions to merge in from the point's other images of that disk."""
    usable = [i for i in facts.images if i.container in QEMU_FORMATS]
    if not usable:
        raise BootDiskError("no image of this point can be opened as a VHDX or VHD disk")
    system = next((i for i in usable if _holds_boot_store(i)), None)
    windows = next((i for i in usable if i.image == facts.system_image), None)
    primary = windows or system or usable[0]
    note = (
        "the disk holding Windows"
        if windows
        else ("the disk holding the system partition" if system else "no system disk found: the first image")
    )
    regions = []
    for other in usable:
        if other is primary or other.disk_id is None or other.disk_id != primary.disk_id:
            continue
        for part in other.partitions:
            fs = part.file_system
            mine = next((p for p in primary.partitions if p.partition.number == part.partition.number), None)
            filled_here = mine is not None and mine.file_system is not None and mine.file_system.kind != "empty"
            if fs is not None and fs.kind != "empty" and not filled_here:
                regions.append(Region(other.image, part.partition.offset, part.partition.size))
    firmware = profile_firmware or facts.firmware or ("UEFI" if primary.partition_style == "gpt" else "BIOS")
    return DiskPlan(primary.image, str(primary.container), tuple(regions), firmware, note)


def _holds_boot_store(image: ImageFacts) -> bool:
    return any(
        p.file_system is not None and any(f.endswith("\\BCD") for f in p.file_system.boot_files)
        for p in image.partitions
    )


def local_image(backend: Backend, point_path: str, image: str, scratch: Path) -> tuple[Path, bool]:
    """A path QEMU can open: the file itself on a local folder, else a copy in ``scratch`` read through the backend.
    Returns (path, staged)."""
    path = paths.join(point_path, image)
    if isinstance(backend, LocalBackend):
        return backend.root.joinpath(*paths.split(path)), False
    target = scratch / image
    size = backend.stat(path).size
    with backend.open_read(path) as stream, open(target, "wb") as out:
        done = 0
        while done < size:
            data = stream.read_exact(done, min(CHUNK, size - done))
            if not data:
                raise BootDiskError(f"{image} ended after {done} of {size} bytes while it was copied")
            out.write(data)
            done += len(data)
    return target, True


def make_overlay(qemu_img: str, source: Path, container: str, overlay: Path) -> None:
    """A qcow2 file whose backing file is the point's image: QEMU writes only to the overlay."""
    _tool(
        [qemu_img, "create", "-q", "-f", "qcow2", "-F", QEMU_FORMATS[container], "-b", str(source.resolve()),
         str(overlay)],
        "creating the overlay",
    )  # fmt: skip


def merge_region(
    qemu_img: str, qemu_io: str, source: Path, container: str, region: Region, overlay: Path, scratch: Path
) -> None:
    """Copy ``region`` of ``source`` (another image of the disk) into the overlay at the same offset."""
    common = math.gcd(region.offset, region.size)
    block = min(1 << 20, common & -common)  # the largest power of two (up to 1 MiB) that both are multiples of
    piece = scratch / "region.raw"
    _tool(
        [qemu_img, "dd", "-f", QEMU_FORMATS[container], "-O", "raw", f"bs={block}", f"skip={region.offset // block}",
         f"count={region.size // block}", f"if={source}", f"of={piece}"],
        "reading the partition from its image",
    )  # fmt: skip
    with open(piece, "r+b") as out:  # qemu-img dd leaves trailing zeros unwritten; qemu-io would repeat the file
        out.truncate(region.size)
    _tool(
        [qemu_io, "-f", "qcow2", "-c", f"write -q -s {piece} {region.offset} {region.size}", str(overlay)],
        "writing the partition into the overlay",
    )
    piece.unlink()


def _tool(args: list[str], what: str) -> None:
    try:
        done = subprocess.run(args, capture_output=True, timeout=TOOL_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BootDiskError(f"{what} took longer than {TOOL_SECONDS:g} s") from exc
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise BootDiskError(f"{what} failed: {reason[-1] if reason else f'exit {done.returncode}'}")
