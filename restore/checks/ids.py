"""The one ordered list of check ids: preflight runs and reports them in this order, and the help is made from it."""

from __future__ import annotations

CHECKS: dict[str, str] = {
    "connect": "the server's SMB port answers over TCP",
    "port": "the server is reached on TCP 445, the only port WinRE's net use connects to",
    "dialect": "the server speaks SMB 2 or 3 (WinRE has no SMB1)",
    "signing": "the server offers SMB signing",
    "auth": "the account logs on, not as a guest, in a form WinRE accepts",
    "share": "the share exists",
    "unc-name": "the location names the server by IP (WinRE often has no DNS)",
    "read": "the account can list and read the share",
    "write": "the account can write there (with --source or --stage-size)",
    "share-root": "the share's root holds exactly WindowsImageBackup",
    "machine": "the computer folder is there (and which one, when several are)",
    "recovery-point": "the point is complete and can do what the restore needs",
    "path-length": "the UNC path to the images is not longer than what is known to work",
    "contents": "inside the images: a bootable Windows, its firmware and disks, no BitLocker (with --deep)",
    "boot-chain": "system partition, BCD default entry, its partitions, loader, kernel, boot drivers (with --deep)",
    "hardware": "the target's firmware and storage driver are ready (with --deep --target-hardware)",
    "free-space": "there is room for the copy (with --source or --stage-size)",
    "server-share": "on the file server, Samba's share folder holds WindowsImageBackup (with --ssh)",
}
ORDER: tuple[str, ...] = tuple(CHECKS)
ENVIRONMENT_CHECKS = ("connect", "auth", "share")  # failing one of these means the share cannot be used at all


def describe_checks() -> str:
    """The list for --help: one line per check, in order."""
    return "\n".join(f"  {check_id:<15} {text}" for check_id, text in CHECKS.items())
