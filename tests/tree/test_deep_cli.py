"""`bmr inspect --deep` and `bmr checklist --deep` on real images (tests.lib.diskimages): the facts read inside
the images reach the JSON, the terminal text and the runbook's target-machine section."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from restore.cli.app import app
from tests.lib.diskimages import DiskImages
from tests.lib.servers import SambaServer
from tests.tree.test_deep import DC_WRITERS, _point

runner = CliRunner()


def test_inspect_deep_reports_firmware_disks_and_media(tmp_path: Path, disks: DiskImages) -> None:
    efi, system = disks.uefi_split("vhdx")
    _point(tmp_path, "DC01", [(efi, "", ""), (system, "C:", "System")], DC_WRITERS)
    result = runner.invoke(app, ["inspect", str(tmp_path), "--deep", "--json"])
    assert result.exit_code == 0, result.output
    (point,) = json.loads(result.stdout)["trees"][0]["machines"][0]["recovery_points"]
    contents = point["contents"]
    assert contents["firmware"] == "UEFI" and contents["target_disks"]["minimum_count"] == 1
    assert "Windows Server 2019 Standard" in contents["install_media"] and "17763" in contents["install_media"]
    assert contents["windows"]["computer"] == "DC01"
    text = runner.invoke(app, ["inspect", str(tmp_path), "--deep"]).stdout
    assert "firmware UEFI" in text and "target disks needed: 1" in text
    plain = json.loads(runner.invoke(app, ["inspect", str(tmp_path), "--json"]).stdout)
    assert "contents" not in plain["trees"][0]["machines"][0]["recovery_points"][0]  # only when asked


def test_inspect_deep_names_a_bitlocker_volume(tmp_path: Path, disks: DiskImages) -> None:
    efi, _system = disks.uefi_split("vhdx")
    _point(tmp_path, "DC01", [(efi, "", ""), (disks.bitlocker("vhdx"), "C:", "System")], DC_WRITERS)
    result = runner.invoke(app, ["inspect", str(tmp_path), "--deep", "--json"])
    assert result.exit_code == 1, result.output  # an encrypted system volume stops a restore as it stands
    problems = json.loads(result.stdout)["trees"][0]["machines"][0]["recovery_points"][0]["problems"]
    assert "bitlocker" in {p["code"] for p in problems}


def test_checklist_deep_states_what_the_target_needs(tmp_path: Path, disks: DiskImages) -> None:
    efi, system = disks.uefi_split("vhdx")
    _point(tmp_path, "DC01", [(efi, "", ""), (system, "C:", "System")], DC_WRITERS)
    args = [
        "checklist",
        str(tmp_path),
        "--share-unc",
        "\\\\10.0.0.5\\restore",
        "--user",
        "CORP\\svc",
        "--format",
        "txt",
    ]
    book = runner.invoke(app, [*args, "--deep"])
    assert book.exit_code == 0, book.output
    assert "Firmware: UEFI" in book.stdout and "Boot media: Windows Server 2019 Standard" in book.stdout
    assert "at least 1 basic disk" in book.stdout and "bmr inspect --deep" in book.stdout  # with its source
    assert "Firmware: UEFI" not in runner.invoke(app, args).stdout


def test_preflight_deep_adds_the_contents_check(
    disks: DiskImages, samba: SambaServer, smb_folder: tuple[str, Path], password_env: str
) -> None:
    url, disk = smb_folder
    efi, system = disks.uefi_split("vhdx")
    _point(disk, "DC01", [(efi, "", ""), (system, "C:", "System")], DC_WRITERS)
    args = ["preflight", url, "--for", "bmr", "--json", "--password-env", password_env]
    checks = {c["id"]: c for c in json.loads(runner.invoke(app, [*args, "--deep"]).stdout)["checks"]}
    assert checks["contents"]["status"] == "pass", checks["contents"]
    assert checks["contents"]["details"]["firmware"] == "UEFI" and "17763" in checks["contents"]["message"]
    plain = {c["id"] for c in json.loads(runner.invoke(app, args).stdout)["checks"]}
    assert "contents" not in plain  # only when asked
    locked = disk.parent / f"{disk.name}-bitlocker"
    locked.mkdir()
    _point(locked, "DC01", [(efi, "", ""), (disks.bitlocker("vhdx"), "C:", "System")], DC_WRITERS)
    result = runner.invoke(app, ["preflight", f"{url}-bitlocker", "--for", "bmr", "--json", "--deep",
                                 "--password-env", password_env])  # fmt: skip
    assert result.exit_code == 1
    contents = next(c for c in json.loads(result.stdout)["checks"] if c["id"] == "contents")
    assert contents["status"] == "fail" and "bitlocker" in contents["details"]["problems"]


def test_drill_with_deep_reports_the_contents(
    disks: DiskImages, smb_folder: tuple[str, Path], password_env: str, tmp_path: Path
) -> None:
    url, disk = smb_folder
    efi, system = disks.uefi_split("vhdx")
    _point(disk, "DC01", [(efi, "", ""), (system, "C:", "System")], DC_WRITERS)
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(
        f'[[server]]\nname = "DC01"\nlocation = "{url}"\npurpose = "bmr"\npassword_env = "{password_env}"\n'
        "deep = true\n"
    )
    result = runner.invoke(app, ["drill", str(inventory), "--report-dir", str(tmp_path / "r"), "--json"])
    (server,) = json.loads(result.stdout)["servers"]
    contents = next(c for c in server["checks"] if c["id"] == "contents")
    assert contents["status"] == "pass" and contents["details"]["firmware"] == "UEFI"
