"""The boot chain read offline from real images (BCD written by hivex, NTFS by ntfs-3g), each link broken in turn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from restore.tree.deep.bcd import decode_device
from restore.tree.deep.bootchain import BootChain
from share.connect import Access, open_backend, parse_location
from tests.lib.bootimages import (
    DISK_GUID,
    SIGNATURE,
    BootImages,
    BootSpec,
    Driver,
    chain_of,
    device_element,
    local_chain,
    place_point,
)


def codes(chain: BootChain) -> set[str]:
    return {p.code for p in chain.problems}


def test_device_element_decodes_gpt_and_mbr() -> None:
    gpt = decode_device(bytes.fromhex(device_element("gpt", DISK_GUID, "0a1b2c3d-2222-4aaa-8bbb-000000000002")))
    assert (gpt.kind, gpt.style, gpt.disk_id) == ("partition", "gpt", DISK_GUID)
    assert gpt.partition_guid == "0a1b2c3d-2222-4aaa-8bbb-000000000002"
    mbr = decode_device(bytes.fromhex(device_element("mbr", SIGNATURE, 9 * 1024 * 1024)))
    assert (mbr.style, mbr.disk_id, mbr.partition_offset) == ("mbr", f"0x{SIGNATURE:08x}", 9 * 1024 * 1024)
    assert decode_device(b"\0" * 16 + (5).to_bytes(4, "little") + b"\0" * 12).kind == "boot"
    assert decode_device(b"short").kind == "unknown"


@pytest.mark.parametrize("style", ["gpt", "mbr"])
def test_complete_chain(tmp_path: Path, boots: BootImages, style: str) -> None:
    chain = local_chain(tmp_path, boots.build(BootSpec(style=style)))
    assert chain.state == "complete", chain.problems
    assert not chain.problems
    assert chain.firmware == ("UEFI" if style == "gpt" else "BIOS")
    names = [link.name for link in chain.links if link.ok]
    assert names == [
        "system partition",
        "BCD store",
        "default entry",
        "device partition",
        "osdevice partition",
        "loader",
        "kernel",
        "boot drivers",
    ]
    matched = next(link for link in chain.links if link.name == "osdevice partition").detail
    assert ("GPT disk" if style == "gpt" else "MBR disk") in matched
    assert chain.services is not None and chain.services.service("storahci") is not None
    json.dumps(chain.to_json())


def test_split_images_chain_across_images(tmp_path: Path, boots: BootImages) -> None:
    chain = local_chain(tmp_path, boots.build(BootSpec(split=True)))
    assert chain.state == "complete", chain.problems
    assert chain.system_partition is not None and chain.windows_volume is not None
    assert chain.system_partition.split()[0] != chain.windows_volume.split()[0]  # two images
    assert chain.windows_volume.endswith("(C:)")


def test_boot_partition_not_in_backup(tmp_path: Path, boots: BootImages) -> None:
    _system, windows = boots.build(BootSpec(split=True))
    chain = local_chain(tmp_path, [windows])
    assert chain.state == "broken"
    assert codes(chain) == {"boot-partition-not-in-backup"}
    assert "-allCritical" in chain.problems[0].message


def test_volume_only_backup_says_so(tmp_path: Path, boots: BootImages) -> None:
    _system, windows = boots.build(BootSpec(split=True))
    chain = local_chain(tmp_path, [windows], bare_metal=False)
    assert chain.state == "volume-only" and not chain.problems
    assert "volume-only backup" in chain.links[0].detail


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (BootSpec(bcd="missing"), "bcd-missing"),
        (BootSpec(bcd="garbage"), "bcd-unreadable"),
        (BootSpec(default="none"), "bcd-no-default"),
        (BootSpec(default="dangling"), "bcd-default-missing"),
        (BootSpec(device="elsewhere"), "bcd-device-unknown"),
        (BootSpec(os_device="d"), "boot-volume-not-in-backup"),
        (BootSpec(loader="missing"), "loader-missing"),
        (BootSpec(loader="wrong"), "loader-firmware-mismatch"),
        (BootSpec(kernel=False), "kernel-missing"),
        (BootSpec(drivers={"storahci": Driver(file=False)}), "boot-driver-missing"),
        (BootSpec(drivers={"storahci": Driver(start=3)}), "no-boot-storage-driver"),
        (BootSpec(style="mbr", device="elsewhere"), "bcd-device-unknown"),
        (BootSpec(style="mbr", loader="wrong"), "loader-firmware-mismatch"),
        (BootSpec(style="mbr", os_device="d"), "boot-volume-not-in-backup"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_broken_link(tmp_path: Path, boots: BootImages, spec: BootSpec, code: str) -> None:
    chain = local_chain(tmp_path, boots.build(spec))
    assert code in codes(chain), chain.links
    assert len(codes(chain)) == 1, chain.problems
    broken = [link for link in chain.links if link.ok is False]
    assert broken and all(link.fix for link in broken)
    if code != "no-boot-storage-driver":
        assert chain.state == "broken"


def test_displayorder_stands_in_for_a_missing_default(tmp_path: Path, boots: BootImages) -> None:
    chain = local_chain(tmp_path, boots.build(BootSpec(default="displayorder")))
    assert chain.state == "complete", chain.problems
    assert "displayorder" in next(link.detail for link in chain.links if link.name == "default entry")


def test_chain_over_every_backend(boots: BootImages, located: tuple[str, Path | None, Access], kind: str) -> None:
    location, disk, access = located
    if disk is None:
        pytest.skip("the images are written on disk and read over local, SMB and SFTP")
    point = place_point(disk, boots.build(BootSpec(split=True)))
    with open_backend(parse_location(location), access) as backend:
        chain = chain_of(backend, point)
    assert chain.state == "complete", chain.problems


def test_a_pending_log_that_cannot_be_replayed_leaves_the_chain_unknown(tmp_path: Path, boots: BootImages) -> None:
    """An image deep inspection withheld (its VHDX log cannot be replayed) may hold the system partition: the chain
    says so as a warning, not that the boot partition is missing."""
    from tests.lib.vhdxlog import unflush

    cut = tmp_path / "cut.vhdx"
    unflush(boots.build(BootSpec())[0][0], cut, flushed_extra=8 * 1024 * 1024)
    chain = local_chain(tmp_path / "t", [(cut, "C:", "System")])
    assert codes(chain) == {"boot-chain-withheld"}
    assert chain.state == "unknown" and all(p.severity.value == "warning" for p in chain.problems)
