"""What the bare metal recovery's error codes mean and what to do about each, for the runbook's table.

Causes are the vsserror.h texts (evidence.md); the USB case is a real restore fixed by booting without the
USB disk; 0x8007001F and 0x80070001 are real failures reported with their workaround.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    code: str
    cause: str
    action: str
    refs: tuple[str, ...]


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
        "0x80042401",
        "the disk assignment failed: fewer target disks than critical source disks",
        "add disks: as many as the original had for the critical volumes",
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
        "a dynamic disk is missing",
        "dynamic disks break BMR: restore to basic disks",
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
        "the WinRE wizard's network restore failed (seen on VirtualBox, Hyper-V, XCP-NG)",
        "use the wbadmin command lines from the WinRE command prompt instead",
        ("pipeit-0x8007001f",),
    ),
)
