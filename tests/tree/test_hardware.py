"""Target hardware readiness: the profiles against SYSTEM hives with each storage driver enabled or disabled."""

from __future__ import annotations

from pathlib import Path

import pytest

from restore.tree.deep.services import Service, SystemServices, driver_path
from restore.tree.hardware import PROFILES, assess
from tests.lib.bootimages import BootImages, BootSpec, Driver, local_chain

REG = "reg add HKLM\\OFFLINE\\ControlSet001\\Services\\{} /v Start /t REG_DWORD /d 0 /f"


def services(
    *items: tuple[str, int, bool], ids: tuple[str, ...] = (), legacy: dict[str, str] | None = None
) -> SystemServices:
    table = {n.lower(): Service(n, start, 1, "SCSI miniport", None, present) for n, start, present in items}
    return SystemServices("ControlSet001", table, legacy or {}, frozenset(ids), legacy is None)


def test_every_profile_named_in_the_issue_exists() -> None:
    assert set(PROFILES) == {
        "same", "hyperv-gen1", "hyperv-gen2", "vmware-lsisas", "vmware-pvscsi", "vmware-sata",
        "kvm-virtio-scsi", "kvm-virtio-blk", "nvme", "ahci",
    }  # fmt: skip


def test_disabled_lsi_sas_predicts_7b_with_the_reg_lines() -> None:
    verdict = assess("vmware-lsisas", services(("LSI_SAS", 3, True), ids=("PCI\\VEN_1000&DEV_0054&SUBSYS_00",)), "UEFI")
    assert verdict.status == "fail" and verdict.predicts_7b
    assert verdict.codes == ("storage-driver-not-boot-start",)
    assert verdict.fix == (
        "reg load HKLM\\OFFLINE C:\\Windows\\System32\\config\\SYSTEM",
        REG.format("LSI_SAS"),
        "reg unload HKLM\\OFFLINE",
    )
    assert "0x7B" in verdict.message


def test_missing_virtio_driver_says_dism() -> None:
    verdict = assess("kvm-virtio-blk", services(("storahci", 0, True)), "BIOS")
    assert verdict.codes == ("storage-driver-not-installed",)
    assert verdict.fix[0].startswith("dism /image:C:\\ /add-driver /driver:") and "virtio-win" in verdict.fix[0]


def test_firmware_mismatch_fails_even_with_drivers() -> None:
    ok = services(
        ("storvsc", 0, True), ("vmbus", 0, True), ids=("VMBUS\\{BA6163D9-04A1-4D29-B605-72E2FFB1DC7F}", "ACPI\\VMBUS")
    )
    assert assess("hyperv-gen2", ok, "UEFI").status == "pass"
    verdict = assess("hyperv-gen2", ok, "BIOS")
    assert verdict.status == "fail" and verdict.codes == ("firmware-mismatch",) and not verdict.predicts_7b
    assert "mbr2gpt" in verdict.fix[0]


def test_legacy_critical_device_database_binding() -> None:
    legacy = {"pci#ven_1000&dev_0054&subsys_197615ad": "lsi_sas"}
    assert assess("vmware-lsisas", services(("LSI_SAS", 0, True), legacy=legacy), None).status == "pass"
    unbound = assess("vmware-lsisas", services(("LSI_SAS", 0, True), legacy={}), None)
    assert unbound.status == "warn" and unbound.codes == ("storage-driver-not-bound",)
    assert "CriticalDeviceDatabase\\pci#ven_1000&dev_0054" in unbound.message


def test_same_hardware_passes_and_names_the_boot_drivers() -> None:
    verdict = assess("same", services(("storahci", 0, True)), "UEFI")
    assert verdict.status == "pass" and "storahci" in verdict.message


@pytest.mark.parametrize(
    ("image_path", "expected"),
    [
        (None, "\\Windows\\System32\\drivers\\x.sys"),
        ("System32\\drivers\\x.sys", "\\Windows\\System32\\drivers\\x.sys"),
        ("\\SystemRoot\\System32\\drivers\\x.sys", "\\Windows\\System32\\drivers\\x.sys"),
        ("\\??\\C:\\Drivers\\x.sys", "\\Drivers\\x.sys"),
    ],
)
def test_driver_path(image_path: str | None, expected: str) -> None:
    assert driver_path("x", image_path) == expected


@pytest.mark.parametrize(
    ("profile", "drivers", "legacy", "status", "codes"),
    [
        ("vmware-lsisas", {"LSI_SAS": Driver()}, False, "pass", ()),
        (
            "vmware-lsisas",
            {"LSI_SAS": Driver(start=3), "storahci": Driver()},
            False,
            "fail",
            ("storage-driver-not-boot-start",),
        ),
        ("vmware-lsisas", {"LSI_SAS": Driver(start=0)}, True, "pass", ()),
        (
            "vmware-lsisas",
            {"LSI_SAS": Driver(start=4), "storahci": Driver()},
            True,
            "fail",
            ("storage-driver-not-boot-start",),
        ),
        ("vmware-pvscsi", {"storahci": Driver()}, False, "fail", ("storage-driver-not-installed",)),
        (
            "vmware-pvscsi",
            {"pvscsi": Driver(file=False), "storahci": Driver()},
            False,
            "fail",
            ("storage-driver-file-missing",),
        ),
        ("kvm-virtio-blk", {"viostor": Driver()}, False, "pass", ()),
        (
            "kvm-virtio-scsi",
            {"vioscsi": Driver(bound=False), "storahci": Driver()},
            False,
            "warn",
            ("storage-driver-not-bound",),
        ),
        ("nvme", {"stornvme": Driver()}, False, "pass", ()),
        ("ahci", {"storahci": Driver()}, False, "pass", ()),
        (
            "vmware-sata",
            {"storahci": Driver(start=3), "stornvme": Driver()},
            False,
            "fail",
            ("storage-driver-not-boot-start",),
        ),
        ("hyperv-gen2", {"storvsc": Driver(), "vmbus": Driver()}, False, "pass", ()),
        (
            "hyperv-gen2",
            {"storvsc": Driver(start=3), "vmbus": Driver(), "storahci": Driver()},
            False,
            "fail",
            ("storage-driver-not-boot-start",),
        ),
    ],
)
def test_profiles_against_real_hives(
    tmp_path: Path,
    boots: BootImages,
    profile: str,
    drivers: dict[str, Driver],
    legacy: bool,
    status: str,
    codes: tuple[str, ...],
) -> None:
    chain = local_chain(tmp_path, boots.build(BootSpec(drivers=drivers, legacy_hive=legacy)))
    verdict = assess(profile, chain.services, chain.firmware)
    assert (verdict.status, verdict.codes) == (status, codes), verdict.message
    if "storage-driver-not-boot-start" in codes:
        service = next(n for n, d in drivers.items() if d.start != 0)
        assert REG.format(service) in verdict.fix


def test_hyperv_gen1_against_a_uefi_point_is_a_firmware_fail(tmp_path: Path, boots: BootImages) -> None:
    chain = local_chain(tmp_path, boots.build(BootSpec(drivers={"intelide": Driver(), "atapi": Driver()})))
    verdict = assess("hyperv-gen1", chain.services, chain.firmware)
    assert verdict.codes == ("firmware-mismatch",)
