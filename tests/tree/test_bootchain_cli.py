"""The boot chain and the target-hardware verdict through the commands: inspect --deep, preflight --deep."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from restore.cli.app import app
from tests.lib.bootimages import BootImages, BootSpec, Driver, place_point
from tests.lib.servers import SambaServer

runner = CliRunner()


def test_inspect_deep_shows_the_boot_chain(tmp_path: Path, boots: BootImages) -> None:
    place_point(tmp_path, boots.build(BootSpec(split=True)))
    text = runner.invoke(app, ["inspect", str(tmp_path), "--deep"]).stdout
    assert "boot chain: complete (firmware UEFI)" in text
    assert "ok     loader: \\Windows\\system32\\winload.efi" in text
    result = json.loads(runner.invoke(app, ["inspect", str(tmp_path), "--deep", "--json"]).stdout)
    (point,) = result["trees"][0]["machines"][0]["recovery_points"]
    assert point["contents"]["boot_chain"]["state"] == "complete"


def test_inspect_deep_shows_a_broken_link_with_its_fix(tmp_path: Path, boots: BootImages) -> None:
    _system, windows = boots.build(BootSpec(split=True))
    place_point(tmp_path, [windows])
    text = runner.invoke(app, ["inspect", str(tmp_path), "--deep"]).stdout
    assert "BROKEN system partition" in text and "fix: back up with wbadmin start backup -allCritical" in text


def test_preflight_boot_chain_and_hardware_checks(
    boots: BootImages, samba: SambaServer, smb_folder: tuple[str, Path], password_env: str
) -> None:
    url, disk = smb_folder
    drivers = {"storahci": Driver(), "LSI_SAS": Driver(start=3)}
    place_point(disk, boots.build(BootSpec(drivers=drivers)))
    args = ["preflight", url, "--for", "bmr", "--json", "--password-env", password_env, "--deep"]
    result = runner.invoke(app, [*args, "--target-hardware", "vmware-lsisas"])
    assert result.exit_code == 1, result.stdout
    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["boot-chain"]["status"] == "pass", checks["boot-chain"]
    hardware = checks["hardware"]
    assert hardware["status"] == "fail" and "0x7B" in hardware["message"]
    assert "reg add HKLM\\OFFLINE\\ControlSet001\\Services\\LSI_SAS /v Start /t REG_DWORD /d 0 /f" in hardware["fix"]
    ok = json.loads(runner.invoke(app, [*args, "--target-hardware", "ahci"]).stdout)["checks"]
    assert next(c for c in ok if c["id"] == "hardware")["status"] == "pass"
    plain = {c["id"] for c in json.loads(runner.invoke(app, args).stdout)["checks"]}
    assert "boot-chain" in plain and "hardware" not in plain
    refused = runner.invoke(app, ["preflight", url, "--for", "bmr", "--target-hardware", "nope", "--deep"])
    assert refused.exit_code != 0 and "unknown profile" in refused.output


def test_boot_chain_check_fails_on_what_the_file_systems_show_and_warns_on_the_store(
    tmp_path: Path, boots: BootImages
) -> None:
    def check(root: Path, images: list[tuple[Path, str, str]]) -> dict[str, object]:
        place_point(root, images)
        args = ["preflight", str(root), "--share-unc", "\\\\10.0.0.5\\restore", "--for", "bmr", "--deep", "--json"]
        checks = json.loads(runner.invoke(app, args).stdout)["checks"]
        found: dict[str, object] = next(c for c in checks if c["id"] == "boot-chain")
        return found

    _system, windows = boots.build(BootSpec(split=True))
    missing = check(tmp_path / "a", [windows])
    assert missing["status"] == "fail" and "-allCritical" in str(missing["fix"])
    dangling = check(tmp_path / "b", boots.build(BootSpec(default="dangling")))
    assert dangling["status"] == "warn" and "bcd-default-missing" in str(dangling["message"])
