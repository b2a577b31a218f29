"""The entry point: look inside every volume image of one recovery point through any backend."""

from __future__ import annotations

import time
from collections.abc import Sequence, Set
from typing import Any

from restore.tree.deep.disk import DiskError, open_container, read_layout
from restore.tree.deep.facts import (
    DeepFacts,
    ImageFacts,
    PartitionFacts,
    derive_problems,
    firmware_of,
    install_media,
    target_disks,
)
from restore.tree.deep.hives import WindowsInstall, read_install
from restore.tree.deep.reader import BoundedReader, Limits, ReadLimitError, Window
from restore.tree.deep.replayed import PENDING, REPLAYED, replayed_source
from restore.tree.deep.volume import FileSystem, inspect_file_system
from restore.tree.model import Problem, error, warning
from share import errors, paths
from share.base import Backend

# Partitions that hold no file system worth reading.
SKIPPED_KINDS = frozenset({"msr", "ldm-metadata", "gpt-protective", "storage-spaces"})
# Point-wide verdicts that something is absent: withheld while an image's pending log could not be replayed.
ABSENCE_CODES = frozenset({"system-volume-missing", "no-boot-files", "firmware-unknown"})
LIMIT_CODES = frozenset({"read-cap-exceeded", "read-timeout", "image-truncated", "share-read-failed"})


def deep_inspect(
    backend: Backend,
    point_path: str,
    volumes: Sequence[tuple[str, str]],
    computer: str,
    writer_ids: Set[str],
    *,
    needs_system: bool = True,
    limits: Limits | None = None,
) -> DeepFacts:
    """Look inside each (image file name, access path) of the Backup folder ``point_path``; never raises for content."""
    # computer: the computer folder's name; writer_ids: the VSS writers the point has metadata for;
    # needs_system (a bare-metal point): a missing system volume or missing boot files are errors.
    # Whatever is wrong inside an image becomes a problem with a stable code, never an exception.
    limits = limits or Limits()
    images: list[ImageFacts] = []
    windows: WindowsInstall | None = None
    system_image: str | None = None
    for name, access_path in volumes:
        facts, found = inspect_image(backend, paths.join(point_path, name), name, access_path, limits)
        images.append(facts)
        if found is not None and windows is None:
            windows, system_image = found, name
    done = tuple(images)
    firmware = firmware_of(done)
    problems: list[Problem] = []
    withheld = [i.image for i in done if any(p.code == PENDING for p in i.problems)]
    if needs_system:
        problems += derive_problems(done, windows, computer, set(writer_ids))
    elif windows is not None:
        problems += [p for p in derive_problems(done, windows, computer, set(writer_ids)) if p.code != "no-boot-files"]
    if withheld:  # what an unread image may hold is not known: no claim that something is missing
        problems = [p for p in problems if p.code not in ABSENCE_CODES]
    if needs_system and windows is not None and firmware is None and not withheld:
        problems.append(
            warning("firmware-unknown", "no EFI system partition and no MBR system disk: the firmware is unknown")
        )
    boot = tuple(
        f"{i.image}:{path}" for i in done for p in i.partitions if p.file_system for path in p.file_system.boot_files
    )
    return DeepFacts(
        computer=computer,
        images=done,
        windows=windows,
        system_image=system_image,
        boot=boot,
        firmware=firmware,
        target_disks=target_disks(done),
        install_media=install_media(windows, firmware),
        problems=tuple(problems),
        withheld=tuple(withheld),
    )


def inspect_image(
    backend: Backend, path: str, name: str, access_path: str, limits: Limits
) -> tuple[ImageFacts, WindowsInstall | None]:
    """One image: container, partition table, each partition's file system, and the hives if Windows is there."""
    started = time.monotonic()
    problems: list[Problem] = []
    container = disk_type = style = disk_id = None
    virtual_size: int | None = None
    partitions: list[PartitionFacts] = []
    windows: WindowsInstall | None = None
    try:
        size = backend.stat(path).size
    except errors.ShareError as exc:
        problems.append(error("image-unreadable", f"{name}: {exc}"))
        return _image(name, access_path, None, None, None, None, None, (), 0, started, problems), None
    reader = BoundedReader(backend, path, size, limits)
    disk: Any = None
    try:
        try:
            source, replayed = replayed_source(reader, name)
        except DiskError as exc:  # a pending log that cannot be replayed: say so, claim nothing about the contents
            problems.append(warning(exc.code, str(exc)))
            return _image(
                name, access_path, "vhdx", None, None, None, None, (), reader.bytes_read, started, problems
            ), None
        if replayed is not None:
            problems.append(warning(REPLAYED, replayed))
        disk = open_container(reader, name, source)
        layout = read_layout(disk, reader, name)
        container, disk_type, virtual_size = layout.container, layout.disk_type, layout.virtual_size
        style, disk_id = layout.style, layout.disk_id
        problems += [error(code, message) for code, message in layout.problems]
        for part in layout.partitions:
            if part.kind in ("ldm-data", "ldm-metadata") and not any(p.code == "dynamic-disk" for p in problems):
                problems.append(
                    error("dynamic-disk", f"{name}: a dynamic-disk (LDM) partition: bare-metal restore of it fails")
                )
            if part.kind in SKIPPED_KINDS:
                partitions.append(PartitionFacts(part, None))
                continue
            label = f"{name} partition {part.number}"
            try:
                file_system, ntfs = inspect_file_system(Window(disk, part.offset, part.size, reader), reader, label)
            except DiskError as exc:
                problems.append(error(exc.code, str(exc)))
                partitions.append(PartitionFacts(part, None))
                if exc.code in LIMIT_CODES:
                    break
                continue
            try:
                if ntfs is not None and file_system.windows and windows is None:
                    windows = _install(ntfs, reader, name, problems)
            finally:
                if ntfs is not None:
                    reader.release(ntfs)
            partitions.append(PartitionFacts(part, file_system))
            problems += _file_system_problems(name, access_path, file_system)
        problems += _not_ntfs(name, access_path, partitions)
    except ReadLimitError as exc:
        if not any(p.code == exc.code for p in problems):  # already named where it happened
            problems.append(error(exc.code, str(exc)))
    except DiskError as exc:
        problems.append(error(exc.code, str(exc)))
    except errors.ShareError as exc:
        problems.append(error("image-unreadable", f"{name}: reading it failed: {exc}"))
    except Exception as exc:  # noqa: BLE001 - whatever a hostile image makes a reader raise ends as a named problem
        problems.append(error("inspection-failed", f"{name}: looking inside failed ({type(exc).__name__}: {exc})"))
    finally:
        if disk is not None:
            reader.release(disk)
        reader.close()
    image = _image(
        name,
        access_path,
        container,
        disk_type,
        virtual_size,
        style,
        disk_id,
        tuple(partitions),
        reader.bytes_read,
        started,
        problems,
    )
    return image, windows


def _install(ntfs: Any, reader: BoundedReader, name: str, problems: list[Problem]) -> WindowsInstall | None:
    try:
        install, notes = read_install(ntfs, reader)
    except DiskError as exc:
        problems.append(error(exc.code, f"{name}: {exc}"))
        if reader.failure is not None:
            raise reader.failure from exc
        return None
    for code, message in notes:
        if code in LIMIT_CODES:
            problems.append(error(code, f"{name}: {message}"))
        else:
            problems.append(warning(code, f"{name}: {message}"))
    return install


def _file_system_problems(name: str, access_path: str, fs: FileSystem) -> list[Problem]:
    shown = access_path or "hidden volume"
    out: list[Problem] = []
    if fs.kind == "bitlocker":
        out.append(
            error(
                "bitlocker",
                f"{name} ({shown}) holds a BitLocker-encrypted volume: the restored volume stays encrypted and "
                "needs its recovery key; its contents could not be checked",
            )
        )
    if fs.dirty:
        out.append(
            warning(
                "dirty",
                f"{name} ({shown}): the NTFS volume is marked dirty: chkdsk will run after the restore; "
                "the backup may have been taken from an unclean volume",
            )
        )
    return out


def _not_ntfs(name: str, access_path: str, partitions: list[PartitionFacts]) -> list[Problem]:
    """A backed-up volume must be NTFS for a bare-metal restore; only the EFI partition is FAT32."""
    kinds = [
        (p.partition.kind, p.file_system.kind)
        for p in partitions
        if p.file_system is not None and p.file_system.kind not in ("empty",)
    ]
    if not kinds or any(fs in ("ntfs", "bitlocker") for _, fs in kinds):
        return []
    if all(part == "efi" and fs.startswith("fat") for part, fs in kinds):
        return []
    found = ", ".join(sorted({fs for _, fs in kinds}))
    message = f"{name} ({access_path or 'hidden volume'}) holds {found}, not NTFS"
    if access_path.upper().startswith("C:"):
        return [error("not-ntfs", f"{message}: the system volume must be NTFS")]
    return [warning("not-ntfs", f"{message}: only NTFS volumes are restored by a bare-metal recovery")]


def _image(
    name: str,
    access_path: str,
    container: str | None,
    disk_type: str | None,
    virtual_size: int | None,
    style: str | None,
    disk_id: str | None,
    partitions: tuple[PartitionFacts, ...],
    bytes_read: int,
    started: float,
    problems: list[Problem],
) -> ImageFacts:
    return ImageFacts(
        image=name,
        access_path=access_path,
        container=container,
        disk_type=disk_type,
        virtual_size=virtual_size,
        partition_style=style,
        disk_id=disk_id,
        partitions=partitions,
        bytes_read=bytes_read,
        seconds=time.monotonic() - started,
        problems=tuple(problems),
    )
