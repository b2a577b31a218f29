"""`bmr boot-test`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from restore.boottest.run import BootTest, BootTestRequest, boot_test_at
from restore.cli import text
from restore.cli.options import (
    ACCESS,
    Depth,
    Json,
    Machine,
    TargetHardware,
    Version,
    valid_profile,
    valid_version,
    with_access,
)
from restore.cli.output import finish, run
from restore.cli.paths import output_folder
from restore.tree.find import DEFAULT_DEPTH
from share.connect import Access, parse_location


@with_access
def boot_test(
    location: Annotated[str, typer.Argument(help="Where the tree is: a folder, \\\\ip\\share, smb://… or sftp://…")],
    machine: Machine = None,
    version: Version = None,
    target_hardware: TargetHardware = None,
    boot_timeout: Annotated[
        float,
        typer.Option("--boot-timeout", min=1, max=3600, metavar="SECONDS", help="How long to watch the boot."),
    ] = 300.0,
    interval: Annotated[
        float, typer.Option("--interval", min=0.5, max=60, metavar="SECONDS", help="Time between screenshots.")
    ] = 5.0,
    evidence_dir: Annotated[
        Path | None,
        typer.Option(
            "--evidence-dir",
            metavar="DIR",
            help="Keep the screenshots (PNG) and the serial and firmware logs here.",
            file_okay=False,
        ),
    ] = None,
    memory: Annotated[int, typer.Option("--memory", min=256, max=65536, metavar="MIB", help="The VM's memory.")] = 2048,
    accel: Annotated[
        str, typer.Option("--accel", metavar="auto|kvm|tcg", help="auto: KVM when /dev/kvm works, else TCG.")
    ] = "auto",
    depth: Depth = DEFAULT_DEPTH,
    as_json: Json = False,
    access: Access = ACCESS,
) -> None:
    """Boot the recovery point's system disk in a QEMU VM, read-only, and say how far it got.

    The image is the read-only backing file of a copy-on-write overlay in a temporary folder: the point is never
    written. No network device. UEFI points boot OVMF, BIOS points SeaBIOS; --target-hardware puts the disk on
    that profile's controller. KVM when /dev/kvm can create VMs, else TCG (slower; the result says which). A point
    on SMB or SFTP is copied to a temporary local folder first (as large as the image). Stages: no-output,
    firmware, no-boot-device, boot-manager-error, loader-started, kernel-reached, logon-screen (from the serial
    console, the firmware's log and the text screen; Windows' graphic screens are kept as screenshots only).

    Exit 0 when it reached the logon screen, 1 otherwise, 3 when the location cannot be reached. Needs the
    Debian packages qemu-system-x86, qemu-utils and ovmf.

    Examples:

    \b
      bmr boot-test /mnt/backups --machine DC01 --evidence-dir ./dc01-boot --boot-timeout 600

    \b
      bmr boot-test 'smb://CORP;svc@10.0.0.5/restore' --target-hardware kvm-virtio-scsi --json
    """
    if evidence_dir is not None:
        output_folder(evidence_dir, "--evidence-dir")
    profile = valid_profile(target_hardware)
    if accel not in ("auto", "kvm", "tcg"):
        raise typer.BadParameter("auto, kvm or tcg", param_hint="--accel")

    def work() -> BootTest:
        request = BootTestRequest(
            parse_location(location), machine, valid_version(version), profile, boot_timeout, interval, evidence_dir,
            memory, depth, accel,
        )  # fmt: skip
        return boot_test_at(request, access)

    finish(run(as_json, work), as_json, text.format_boot_test)
