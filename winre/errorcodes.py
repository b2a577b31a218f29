"""What the bare metal recovery's error codes mean and what to do about each, for the runbook's table.

Causes are the vsserror.h texts (evidence.md); the USB case is a real restore fixed by booting without the
USB disk; 0x8007001F (a known WinRE issue with network images) and 0x80070001 are real failures reported with
their workaround.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    code: str
    cause: str
    action: str
    refs: tuple[str, ...]


# Beside every -excludeDisks line and in the table (0x80042415): the one disk that must never be excluded.
CRITICAL_DISK_RULE = (
    "never exclude a disk that held a critical volume (system, boot or EFI partition) at backup time: the restore "
    "stops with 0x80042415. If that disk also holds data to keep, copy that data off first (or restore without "
    "-recreateDisks when the disk still has its original partitions: nothing is repartitioned)"
)

ERROR_CODES: tuple[ErrorCode, ...] = (
    ErrorCode(
        "0x80042412",
        "no disk usable as the system disk: the system disk was excluded, is invalid, or a USB disk was taken for it",
        "detach USB disks (after drvload) and run the restore again; do not exclude the system disk",
        ("vsserror", "usb-0x80042412"),
    ),
    ErrorCode(
        "0x80042413",
        "no fixed disk found: the storage driver is missing",
        "load the storage controller's driver with drvload from the USB stick, then check with wbadmin get disks",
        ("vsserror",),
    ),
    ErrorCode(
        "0x80042414",
        "all disks are offline or excluded",
        "bring the disks online (diskpart) and exclude only disks that hold data to keep",
        ("vsserror",),
    ),
    ErrorCode(
        "0x80042415",
        "a disk that was critical at backup time is excluded",
        CRITICAL_DISK_RULE,
        ("vsserror", "wbadmin-sysrecovery"),
    ),
    ErrorCode(
        "0x80042401",
        "the disk assignment failed: too few disks on this machine, or one or more of them too small",
        "add or change disks so they match the backup's: as many as the original had for the critical volumes, "
        "each at least as large",
        ("vsserror",),
    ),
    ErrorCode(
        "0x80042402",
        "a disk the backup needs could not be created on this machine",
        "check that the disks are connected and online (diskpart), or add or change disks, then run the restore again",
        ("vsserror",),
    ),
    ErrorCode(
        "0x80042403",
        "a disk was prepared for the restore and the machine needs a restart to finish",
        "restart the machine into WinRE and run the restore again",
        ("vsserror",),
    ),
    ErrorCode(
        "0x80042406",
        "a data disk is the disk set active in the BIOS",
        "make another disk the active (first boot) disk, or clean the data disk with diskpart, then run the restore "
        "again",
        ("vsserror",),
    ),
    ErrorCode(
        "0x80042407",
        "the disk that is active in the BIOS is too small",
        "make a disk at least as large as the original system disk the first boot disk",
        ("vsserror",),
    ),
    ErrorCode(
        "0x80042408",
        "the critical disks are too small",
        "use target disks at least as large as the original critical disks",
        ("vsserror",),
    ),
    ErrorCode(
        "0x80042404",
        "a BACKUP-time error, not a restore failure: a disk of a dynamic volume was missing when the backup ran",
        "on the server, ensure the disk is online and back up again; this point may lack that volume "
        "(dynamic disks break BMR: restore to basic disks)",
        ("vsserror", "simplified-guide"),
    ),
    ErrorCode("0x8004240A", "a critical dynamic VHD is not supported", "restore to basic disks", ("vsserror",)),
    ErrorCode(
        "0x80070001",
        "'Incorrect function' with a long UNC path to the image",
        "share a folder nearer the image (a path of 123-130 characters is known to work)",
        ("camie-longpath",),
    ),
    ErrorCode(
        "0x8007001F",
        "the WinRE wizard's network restore failed: a known issue of Windows 10 / Server 2019 WinRE with network "
        "images, on physical machines too (also seen on VirtualBox, Hyper-V, XCP-NG)",
        "use the wbadmin command lines from the WinRE command prompt instead: they work where the wizard fails",
        ("pipeit-0x8007001f", "jp-0x8007001f"),
    ),
)
