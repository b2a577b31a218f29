"""Checks held to evidence.md, without a server: the path length (known to work at 123-130 characters) and the
tombstone lifetime of a domain controller's point in the recovery-point check."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from restore.checks.check import Status
from restore.checks.preflight import MAX_UNC, path_length_check, recovery_point_check
from restore.checks.shareroot import analyse
from restore.demo.sample import bmr_dc, write_tree
from restore.tree.find import inspect_location
from restore.tree.model import Inside, Machine
from share.connect import parse_location
from share.local import LocalBackend
from share.memory import MemoryBackend
from tests.lib.memory import folder_in_memory
from winre.terms import Purpose


def _machine(folder: Path) -> Machine:
    return inspect_location(LocalBackend(parse_location(str(folder)))).trees[0].machines[0]


@pytest.fixture
def dc(tmp_path: Path) -> Machine:
    write_tree(tmp_path, {"DC01": bmr_dc()})
    return _machine(tmp_path)


def _target_for(machine: Machine, length: int) -> str:
    point = machine.recovery_points[0]
    image = max((v.image or "" for v in point.volumes), key=len)
    tail = f"\\WindowsImageBackup\\{machine.name}\\{point.folder}\\{image}"
    share = "\\\\10.0.0.5\\"
    return share + "s" * (length - len(tail) - len(share))


@pytest.mark.parametrize(("length", "status"), [(123, Status.PASS), (150, Status.PASS), (200, Status.PASS),
                                                (201, Status.WARN)])  # fmt: skip
def test_path_length_reports_always_and_warns_only_well_beyond_what_worked(
    dc: Machine, length: int, status: Status
) -> None:
    check = path_length_check(_target_for(dc, length), dc, dc.recovery_points[0])
    assert check.status is status and check.details["length"] == length
    assert f"{length} characters" in check.message
    if status is Status.WARN:
        assert "0x80070001" in check.message and "123-130" in check.message and check.fix
    assert MAX_UNC == 200


def test_recovery_point_check_warns_on_a_dc_point_past_the_tombstone(dc: Machine) -> None:
    check, point = recovery_point_check(dc, Purpose.BMR, None)  # the sample is the 2020 Blackfield point
    assert point is not None and check.status is Status.WARN
    assert "tombstone" in check.message and "180" in (check.fix or "")
    assert check.details["problems"] == ["tombstone"]


def test_recovery_point_check_passes_a_recent_dc_point(tmp_path: Path) -> None:
    spec = bmr_dc()
    spec.when = datetime.now(UTC) - timedelta(days=30)
    write_tree(tmp_path, {"DC01": spec})
    check, _point = recovery_point_check(_machine(tmp_path), Purpose.BMR, None)
    assert check.status is Status.PASS, check


# -- Sub-folder targets and a share that is the computer folder ---------------------------------------------------


def _as_share(folder: Path, location: str) -> MemoryBackend:
    """The folder's files in memory, seen as the SMB ``location`` (the memory backend standing in for Samba)."""
    backend = folder_in_memory(folder)
    backend.location = parse_location(location)
    return backend


@pytest.mark.parametrize(
    ("folder", "location", "target"),
    [
        ("", "smb://CORP;u@10.0.0.5/share/sub/sub", "\\\\10.0.0.5\\share\\sub\\sub"),
        ("WindowsImageBackup", "smb://CORP;u@10.0.0.5/share/sub/WindowsImageBackup", "\\\\10.0.0.5\\share\\sub"),
    ],
    ids=["tree-in-a-sub-folder", "location-inside-a-tree-in-a-sub-folder"],
)
def test_one_backup_target_for_a_tree_in_a_sub_folder(tmp_path: Path, folder: str, location: str, target: str) -> None:
    write_tree(tmp_path, {"DC01": bmr_dc()})
    inspection = inspect_location(_as_share(tmp_path / folder, location))
    root = analyse(parse_location(location), inspection, "10.0.0.5", staging=False)
    assert root.check.status is Status.WARN and root.backup_target == target
    assert re.findall(r"-backupTarget:(\S+?),", root.check.message) == [target]  # the old code doubled the sub-folder
    assert root.check.details["folder"] == "/".join(target.split("\\")[4:])


def test_a_share_that_is_the_computer_folder(tmp_path: Path) -> None:
    write_tree(tmp_path, {"DC01": bmr_dc()})
    location = "smb://CORP;u@10.0.0.5/restoredc"
    inspection = inspect_location(_as_share(tmp_path / "WindowsImageBackup" / "DC01", location))
    (tree,) = inspection.trees
    assert tree.inside is Inside.COMPUTER
    assert "machine-name-unknown" in {p.code for p in tree.problems}
    root = analyse(parse_location(location), inspection, "10.0.0.5", staging=False)
    assert root.check.status is Status.FAIL and root.backup_target is None
    assert "a computer folder inside WindowsImageBackup" in root.check.message
    assert "cannot be seen from inside it" in root.check.message
    fix = root.check.fix or ""
    assert "rename" not in fix and "2 level(s) above" in fix and "-machine:" in fix
