"""The boot-test harness against disks that fail in known ways, booted for real under QEMU (TCG here: no KVM)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.boottest.png import png, ppm_to_png, read_ppm
from restore.boottest.run import BootTestRequest, boot_test_at
from restore.boottest.stages import classify, screen_text
from restore.cli.app import app
from share.connect import Access, parse_location
from tests.lib.bootimages import BootImages, BootSpec, place_point
from tests.lib.bootsectors import empty_gpt_disk, message_disk, zero_disk
from tests.lib.diskimages import MIB
from tests.lib.servers import SshServer

runner = CliRunner()
qemu = pytest.mark.servers  # starts QEMU


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_classify_orders_stages_and_keeps_evidence() -> None:
    stage, seen = classify({"serial": "\x1b[1mSeaBIOS (version 1.16)\nBOOTMGR is missing\r\n", "screen-text": ""})
    assert stage == "boot-manager-error"
    assert [(s.stage, s.source) for s in seen] == [("firmware", "serial"), ("boot-manager-error", "serial")]
    assert classify({"serial": "STOP: 0x0000007B (0xF789EA94,...)"})[0] == "kernel-reached"
    assert classify({"serial": ""}) == ("no-output", ())
    assert classify({"serial": "garbage"})[0] == "firmware"
    error = "Windows Boot Manager\nFile: \\Windows\\system32\\winload.efi\nStatus: 0xc000000e"
    assert classify({"serial": error})[0] == "boot-manager-error"  # naming winload is not starting it


def test_screen_text_reads_vga_cells() -> None:
    dump = "00000000000b8000: 0x0742 0x074f 0x074f 0x0754\n"
    assert screen_text(dump) == "BOOT"


def test_ppm_to_png_round_trip() -> None:
    ppm = b"P6\n# comment\n2 1\n255\n" + bytes([255, 0, 0, 0, 0, 255])
    assert read_ppm(ppm) == (2, 1, bytes([255, 0, 0, 0, 0, 255]))
    data = ppm_to_png(ppm)
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data == png(2, 1, bytes([255, 0, 0, 0, 0, 255]))


def _run(tmp_path: Path, image: Path, *, timeout: float = 60, evidence: Path | None = None, **kw: object) -> object:
    root = tmp_path / "share"
    place_point(root, [(image, "C:", "System")])
    request = BootTestRequest(parse_location(str(root)), timeout=timeout, interval=1.0, evidence_dir=evidence,
                              memory_mib=256, **kw)  # type: ignore[arg-type]  # fmt: skip
    return boot_test_at(request, Access())


@qemu
def test_boot_sector_message_is_a_boot_manager_error_and_the_source_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = message_disk(tmp_path)
    before = sha256(image)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    evidence = tmp_path / "evidence"
    result = _run(tmp_path, image, evidence=evidence)
    assert result.run.stage == "boot-manager-error", result.to_json()
    assert result.firmware == "BIOS" and result.accelerator in ("kvm", "tcg") and result.accelerator_reason
    sources = {s.source for s in result.run.sightings if s.stage == "boot-manager-error"}
    assert sources == {"serial", "screen-text"}  # COM1 and the VGA text screen both show it
    assert result.run.stopped == "final-stage" and result.verdict == "does-not-boot"
    assert sha256(image) == before  # the boot sector wrote to its disk: the overlay took it
    assert list(scratch.iterdir()) == []  # the overlay's folder is gone
    assert (evidence / "serial.log").read_bytes().startswith(b"BOOTMGR is missing")
    assert json.loads((evidence / "result.json").read_text())["stage"] == "boot-manager-error"
    shots = sorted(evidence.glob("screen-*.png"))
    assert shots and shots[0].read_bytes().startswith(b"\x89PNG")


@qemu
def test_silent_disk_times_out_as_inconclusive(tmp_path: Path) -> None:
    result = _run(tmp_path, message_disk(tmp_path, b"", "silent"), timeout=6)
    assert result.run.stopped == "timeout" and 6 <= result.run.seconds < 20
    assert result.run.stage == "firmware" and result.verdict == "inconclusive"


@qemu
def test_no_bootable_device_under_seabios(tmp_path: Path) -> None:
    result = _run(tmp_path, zero_disk(tmp_path))
    assert result.firmware == "BIOS" and result.run.stage == "no-boot-device", result.to_json()
    assert any("bootable" in s.evidence for s in result.run.sightings)


@qemu
def test_no_bootable_device_under_ovmf(tmp_path: Path) -> None:
    result = _run(tmp_path, empty_gpt_disk(tmp_path), timeout=120)
    assert result.firmware == "UEFI" and result.run.stage == "no-boot-device", result.to_json()


@qemu
@pytest.mark.parametrize(
    "profile", ["kvm-virtio-blk", "kvm-virtio-scsi", "vmware-pvscsi", "vmware-lsisas", "hyperv-gen1"]
)
def test_the_profile_puts_the_disk_on_its_controller(tmp_path: Path, profile: str) -> None:
    result = _run(tmp_path, message_disk(tmp_path), target_hardware=profile)
    assert result.run.stage == "boot-manager-error", result.to_json()


@qemu
def test_a_uefi_profile_shows_a_bios_point_cannot_boot(tmp_path: Path) -> None:
    """nvme boots UEFI: the BIOS boot sector is never run, OVMF finds nothing (the firmware-mismatch FAIL, live)."""
    result = _run(tmp_path, message_disk(tmp_path), target_hardware="nvme", timeout=120)
    assert result.firmware == "UEFI" and result.controller == "NVMe"
    assert result.run.stage == "no-boot-device", result.to_json()


@qemu
def test_point_on_sftp_is_staged_locally(tmp_path: Path, sshd: SshServer, ssh_access: Access) -> None:
    share = tmp_path / "sftp"
    place_point(share, [(message_disk(tmp_path), "C:", "System")])
    request = BootTestRequest(parse_location(sshd.url(str(share))), timeout=60, interval=1.0, memory_mib=256)
    result = boot_test_at(request, ssh_access)
    assert result.staged and result.run.stage == "boot-manager-error"


@qemu
def test_point_on_smb_is_staged_locally(tmp_path: Path, smb_folder: tuple[str, Path], smb_access: Access) -> None:
    url, disk = smb_folder
    image = message_disk(tmp_path)
    place_point(disk, [(image, "C:", "System")])
    result = boot_test_at(BootTestRequest(parse_location(url), timeout=60, interval=1.0, memory_mib=256), smb_access)
    assert result.staged and result.run.stage == "boot-manager-error"


@qemu
def test_cli_json_and_exit_code(tmp_path: Path) -> None:
    place_point(tmp_path, [(message_disk(tmp_path), "C:", "System")])
    args = ["boot-test", str(tmp_path), "--json", "--boot-timeout", "60", "--interval", "1", "--memory", "256"]
    out = runner.invoke(app, args)
    assert out.exit_code == 1, out.output
    data = json.loads(out.stdout)
    assert data["stage"] == "boot-manager-error" and data["verdict"] == "does-not-boot"
    assert data["accelerator"] in ("kvm", "tcg")
    text = runner.invoke(app, [a for a in args if a != "--json"]).stdout
    assert "reached: boot-manager-error" in text and "serial: boot-manager-error: BOOTMGR is missing" in text
    assert "Result: does-not-boot" in text


def test_missing_qemu_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    out = runner.invoke(app, ["boot-test", str(tmp_path), "--json"])
    assert out.exit_code != 0
    assert "qemu-system-x86" in out.stdout and "qemu-utils" in out.stdout


@qemu
def test_drill_boot_test_keeps_screenshots_in_the_report(
    tmp_path: Path, smb_folder: tuple[str, Path], password_env: str
) -> None:
    url, disk = smb_folder
    place_point(disk, [(message_disk(tmp_path), "C:", "System")])
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(
        f'[[server]]\nname = "SRV01"\nlocation = "{url}"\npurpose = "bmr"\npassword_env = "{password_env}"\n'
        'boot_test = true\nboot_timeout = 60\ntarget_hardware = "ahci"\n'
    )
    report = tmp_path / "report"
    result = runner.invoke(app, ["drill", str(inventory), "--report-dir", str(report), "--json"])
    (server,) = json.loads(result.stdout)["servers"]
    checks = {c["id"]: c for c in server["checks"]}
    assert checks["boot-test"]["status"] == "fail" and "boot-manager-error" in checks["boot-test"]["message"]
    assert checks["boot-test"]["details"]["run"]["screenshots"]
    assert "hardware" in checks and "boot-chain" in checks
    shots = sorted((report / "boot-tests" / "SRV01").glob("screen-*.png"))
    assert shots
    # drill.html shows the last screen, by a path relative to the report folder that names a real file
    page = (report / "drill.html").read_text()
    last = checks["boot-test"]["details"]["run"]["screenshots"][-1]
    assert f'<img src="boot-tests/SRV01/{last}"' in page and (report / "boot-tests" / "SRV01" / last).is_file()


def test_split_images_merge_the_other_volume_into_the_overlay(tmp_path: Path, boots: BootImages) -> None:
    """Windows Server Backup writes one image per volume: the overlay of the C: image gets the EFI partition's bytes
    from the other image, so the disk QEMU boots has both (the source images unchanged)."""
    from restore.boottest.disk import make_overlay, merge_region, plan_disk
    from restore.boottest.tools import find_tools
    from tests.lib.bootimages import deep_facts

    images = boots.build(BootSpec(split=True))
    point = place_point(tmp_path / "share", images)
    facts = deep_facts(tmp_path / "share", point)
    plan = plan_disk(facts, None)
    (region,) = plan.regions
    assert plan.firmware == "UEFI" and region.offset == 1 * MIB and region.size == 36 * MIB
    tools, _ = find_tools()
    assert tools is not None
    folder = tmp_path / "share" / point
    before = {p.name: sha256(p) for p in folder.glob("*.vhdx")}
    overlay = tmp_path / "overlay.qcow2"
    make_overlay(tools.qemu_img, folder / plan.image, plan.container, overlay)
    merge_region(tools.qemu_img, tools.qemu_io, folder / region.image, plan.container, region, overlay, tmp_path)
    merged = tmp_path / "merged.raw"
    subprocess.run([tools.qemu_img, "convert", "-O", "raw", str(overlay), str(merged)], check=True, timeout=60)
    efi_raw = tmp_path / "efi.raw"
    subprocess.run([tools.qemu_img, "convert", "-O", "raw", str(folder / region.image), str(efi_raw)], check=True,
                   timeout=60)  # fmt: skip
    with open(merged, "rb") as a, open(efi_raw, "rb") as b:
        a.seek(region.offset)
        b.seek(region.offset)
        assert a.read(region.size) == b.read(region.size)
        a.seek(37 * MIB)
        assert a.read(4096)[3:11] == b"NTFS    "  # C: stays the C: image's own
    assert {p.name: sha256(p) for p in folder.glob("*.vhdx")} == before


@qemu
def test_uefi_loader_on_the_efi_image_runs_through_the_merged_overlay(tmp_path: Path, boots: BootImages) -> None:
    """A split UEFI point (EFI partition and C: in two images): OVMF boots the C: image's overlay, finds the EFI
    partition merged in from the other image, runs its loader (a real UEFI application printing a boot manager
    error), and the stage says so."""
    message = "Windows Boot Manager\r\nFile: \\Windows\\system32\\winload.efi\r\nStatus: 0xc000000e\r\n"
    images = boots.build(BootSpec(split=True, efi_message=message))
    before = [sha256(path) for path, _, _ in images]
    root = tmp_path / "share"
    place_point(root, images)
    request = BootTestRequest(parse_location(str(root)), timeout=120, interval=1.0, memory_mib=512)
    result = boot_test_at(request, Access())
    assert result.firmware == "UEFI" and any("taken from" in note for note in result.notes)
    assert result.run.stage == "boot-manager-error", result.to_json()
    assert any("Status: 0xc000000e" in s.evidence or "Windows Boot Manager" in s.evidence for s in result.run.sightings)
    assert [sha256(path) for path, _, _ in images] == before
