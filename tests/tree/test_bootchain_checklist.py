"""The checklist's target-machine section states the boot chain and the target-hardware verdict with its fix lines."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from restore.cli.app import app
from tests.lib.bootimages import BootImages, BootSpec, Driver, place_point

runner = CliRunner()


def test_checklist_states_profile_verdict_and_fix(tmp_path: Path, boots: BootImages) -> None:
    place_point(tmp_path, boots.build(BootSpec(drivers={"storahci": Driver(), "pvscsi": Driver(start=3)})))
    args = ["checklist", str(tmp_path), "--share-unc", "\\\\10.0.0.5\\restore", "--format", "txt", "--force"]
    out = runner.invoke(app, [*args, "--target-hardware", "vmware-pvscsi"])
    assert out.exit_code == 1, out.output  # the plan fails (the hardware check): --force writes it anyway
    text = out.stdout
    assert "Boot chain in the backup: complete" in text
    assert "Target hardware: vmware-pvscsi (VMware Paravirtual SCSI (PVSCSI)): FAIL" in text
    assert "reg load HKLM\\OFFLINE C:\\Windows\\System32\\config\\SYSTEM" in text
    assert "reg add HKLM\\OFFLINE\\ControlSet001\\Services\\pvscsi /v Start /t REG_DWORD /d 0 /f" in text
    assert "reg unload HKLM\\OFFLINE" in text
    plain = runner.invoke(app, args).stdout
    assert "Target hardware:" not in plain
