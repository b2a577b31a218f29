"""Where each instruction in a runbook comes from: one entry per public source (see /work/shared/evidence.md).

Steps name their sources by key; ``winre.runbook`` numbers the keys in order of first use and prints the list
at the end of the runbook. A key that is not here is a programming error (KeyError), so an instruction cannot
cite a source nobody can look up.
"""

from __future__ import annotations

REFERENCES: dict[str, str] = {
    "mabs-bmr": "Microsoft: Back up system state and restore to bare metal with Azure Backup Server "
    "(MicrosoftDocs/azure-docs, backup-mabs-system-state-and-bmr.md)",
    "wbadmin-sysrecovery": "Microsoft: wbadmin start sysrecovery "
    "(MicrosoftDocs/windowsserverdocs, windows-commands/wbadmin-start-sysrecovery.md)",
    "wbadmin-systemstaterecovery": "Microsoft: wbadmin start systemstaterecovery "
    "(MicrosoftDocs/windowsserverdocs, windows-commands/wbadmin-start-systemstaterecovery.md)",
    "wbadmin-get-disks": "Microsoft: wbadmin get disks (MicrosoftDocs/windowsserverdocs, "
    "windows-commands/wbadmin-get-disks.md)",
    "net-use": "Microsoft: net use (MicrosoftDocs/windowsserverdocs, windows-commands/net-use.md)",
    "blackfield": "Real wbadmin output of a Windows Server 2019 DC backing up to a share (HackTheBox "
    "Blackfield write-up, chr0x6eos/chr0x6eos.github.io, _posts/2020-10-03-htb-Blackfield.md)",
    "azure-systemstate": "Microsoft: Restore system state to a Windows Server (MicrosoftDocs/azure-docs, "
    "backup-azure-restore-system-state.md): Directory Services Restore Mode first",
    "redmondmag-dsrm": "Redmondmag (2015): how to restore Active Directory system states",
    "carbonite-dc": "Carbonite support article on restoring a domain controller's system state "
    "(DSRM; the useful shelf life of a system-state backup is the tombstone lifetime)",
    "forest-initial": "Microsoft: AD Forest Recovery - Perform initial recovery (MicrosoftDocs/windowsserverdocs, "
    "identity/ad-ds/manage/AD-Forest-Recovery-Perform-initial-recovery.md)",
    "forest-full": "Microsoft: AD Forest Recovery - Performing a full server recovery (MicrosoftDocs/"
    "windowsserverdocs, identity/ad-ds/manage/AD-Forest-Recovery-Perform-a-Full-Recovery.md)",
    "forest-sysvol": "Microsoft: AD Forest Recovery - Authoritative synchronization of DFSR-replicated SYSVOL "
    "(MicrosoftDocs/windowsserverdocs, identity/ad-ds/manage/AD-Forest-Recovery-Authoritative-Recovery-SYSVOL.md)",
    "betahydri": "BetaHydri/ADRecovery, docs/01-Domain-Recovery.md (isolated network, VMware E1000, msDFSR-Options)",
    "pipeit-0x8007001f": "PipeItToDevNull/PipeItToDevNull.github.io, _posts/2022-01-13-ad-backups-powershell.md "
    "(WinRE wizard 0x8007001F; wbadmin start sysrecovery worked)",
    "vsserror": "vsserror.h error texts (VSS/ASR error codes, as published in language bindings)",
    "usb-0x80042412": "Blog: 'Error 0x8004212 during Bare Metal Recovery' (fixed by booting without the USB disk)",
    "sergecaron": "SergeCaron/SetUpOEMRecovery, README.md (drvload from X: is WinRE's RAM disk; "
    "WinPE's clock zone is Pacific)",
    "camie-longpath": "c-amie.co.uk technical notes on Windows Server Backup (2012 R2): 0x80070001 with a long "
    "UNC path; 123-130 characters worked",
    "smb-dialects": "Microsoft: Manage SMB dialects (MicrosoftDocs/windowsserverdocs, "
    "storage/file-server/manage-smb-dialects.md)",
    "simplified-guide": "simplified.guide: system image restore guide (BitLocker recovery key, dynamic disks)",
    "testmybackups": "testmybackups.com: BIOS-to-EFI restore post (a different firmware breaks BMR)",
    "bmr-deep": "bmr inspect --deep: read inside this point's images (partition tables, file systems, the "
    "SYSTEM and SOFTWARE registry hives of its Windows volume)",
    "bmr": "bmr itself: its own records (stage, SHA256SUMS, bmr-manifest.json, preflight); not an outside source",
    "jp-0x8007001f": "Japanese blog on a Windows Server 2019 bare metal restore: the WinRE wizard's network restore "
    "fails with 0x8007001F on physical machines too (a known Windows 10 / Server 2019 WinRE issue), wbadmin from "
    "the command prompt works; a localized WinRE names the NIC differently: netsh by interface index",
    "server2008-bmr": "Microsoft: Windows Server 2008 bare metal recovery documentation (the wizard first reports "
    "that no local system image was found: cancel, then select an image on the network)",
    "kb2961238": "Microsoft KB 2961238: Windows Server Backup does not start after a bare metal recovery of "
    "Windows Server 2012 / 2012 R2 (UEFI, two disks); wbadmin delete catalog fixes it",
    "blackfield-2024": "HackTheBox Blackfield write-up of a session on 2024-11-12 (PST): wbadmin get versions "
    "prints 09/21/2020-23:00 as 9/21/2020 3:00 PM, summer sessions as 4:00 PM (the offset in force when wbadmin runs)",
    "filetime-local": "Microsoft: FileTimeToLocalFileTime (MicrosoftDocs/sdk-api): uses the current settings for "
    "the time zone and daylight saving time, whatever the date converted",
    "cldr-windowszones": "Unicode CLDR windowsZones (Windows time zone names to IANA), as the tzlocal package "
    "ships it (tzlocal.windows_tz)",
    "ntdsutil": "Microsoft: ntdsutil (MicrosoftDocs/windowsserverdocs, windows-commands/ntdsutil.md)",
}


def reference(key: str) -> str:
    """The citation for a key; raises KeyError for a source nobody wrote down."""
    return REFERENCES[key]
