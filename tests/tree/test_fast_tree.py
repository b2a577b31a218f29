"""The recovery-point model and the share-root check without any server (the fast tier): sample trees written
with the built-in VHDX writer, read through the local and the in-memory backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from restore.checks.check import Status
from restore.checks.shareroot import analyse
from restore.demo.sample import bmr_dc, files_only, system_state_only, write_tree
from restore.tree.find import inspect_location
from restore.tree.model import Inside, Inspection
from share.base import Backend
from share.connect import parse_location
from share.local import LocalBackend
from tests.lib.memory import folder_in_memory
from winre.terms import Purpose


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    write_tree(tmp_path, {"DC01": bmr_dc(), "APP01": system_state_only(), "FS02": files_only()})
    return tmp_path


@pytest.mark.parametrize("kind", ["local", "memory"])
def test_inspect_a_sample_tree(sample: Path, kind: str) -> None:
    backend: Backend = LocalBackend(parse_location(str(sample))) if kind == "local" else folder_in_memory(sample)
    result = inspect_location(backend)
    assert result.ok and len(result.trees) == 1
    machines = {m.name: m for m in result.trees[0].machines}
    assert set(machines) == {"DC01", "APP01", "FS02"}
    dc = machines["DC01"].recovery_points[0]
    assert dc.version == "10/04/2020-17:48" and dc.bare_metal and "Bare Metal Recovery" in dc.can_recover
    assert all(v.format == "vhdx" and v.virtual_size for v in dc.volumes)
    assert Purpose.SYSTEM_STATE.needs in machines["APP01"].recovery_points[0].can_recover
    assert Purpose.BMR.needs not in machines["FS02"].recovery_points[0].can_recover


def test_a_missing_image_is_an_error(sample: Path) -> None:
    next(sample.rglob("*.vhdx")).unlink()
    result = inspect_location(LocalBackend(parse_location(str(sample))))
    assert not result.ok
    assert any(p.code == "image-missing" for t in result.trees for m in t.machines for r in m.recovery_points
               for p in r.errors)  # fmt: skip


def _inspection_at(sample: Path, sub: str) -> Inspection:
    return inspect_location(folder_in_memory(sample / sub if sub else sample))


@pytest.mark.parametrize(
    ("sub", "share_path", "status", "inside"),
    [
        ("", "", Status.PASS, None),
        ("WindowsImageBackup", "", Status.FAIL, Inside.TREE),
        ("WindowsImageBackup/DC01", "", Status.FAIL, Inside.COMPUTER),
        ("", "restore", Status.WARN, None),
    ],
)
def test_share_root_verdicts(sample: Path, sub: str, share_path: str, status: Status, inside: Inside | None) -> None:
    inspection = _inspection_at(sample, sub)
    location = parse_location(f"smb://CORP;u@10.0.0.5/share/{share_path}".rstrip("/"))
    root = analyse(location, inspection, "10.0.0.5", staging=False)
    assert root.check.status is status, root.check
    assert inspection.trees[0].inside is inside
    if status is Status.PASS:
        assert root.backup_target == "\\\\10.0.0.5\\share"
    if status is Status.FAIL:
        assert root.check.fix and root.backup_target is None
