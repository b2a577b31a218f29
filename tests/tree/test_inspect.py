"""`bmr inspect` / `bmr versions` on realistic trees, over local, SMB and SFTP, and on broken variants."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from restore.cli.app import app
from restore.tree.choose import backup_target
from restore.tree.find import inspect_location
from restore.tree.identifiers import folder_name, folder_time, parse_version, version_of
from restore.tree.model import Inspection, RecoveryPoint
from share.connect import Access, open_backend, parse_location
from tests.lib.servers import SambaServer, SshServer
from tests.lib.treebuilder import (
    ImageCache,
    PointSpec,
    bmr_dc,
    files_only,
    system_state_only,
    write_machine,
    write_tree,
)
from winre.wbadmin import ListedVersion, render_get_versions

runner = CliRunner()


def _inspect(location: str, access: Access | None = None, depth: int = 4) -> Inspection:
    with open_backend(parse_location(location), access or Access()) as backend:
        return inspect_location(backend, depth)


def _points(result: Inspection) -> dict[str, RecoveryPoint]:
    return {m.name: p for t in result.trees for m in t.machines for p in m.recovery_points}


def _codes(point: RecoveryPoint) -> set[str]:
    return {p.code for p in point.problems}


def test_realistic_tree_over_every_backend(located: tuple[str, Path | None, Access], images: ImageCache) -> None:
    location, disk, access = located
    if disk is None:
        pytest.skip("the tree is written on disk; tests/tree/test_fast_tree.py reads one through the memory backend")
    write_tree(disk, {"DC01": bmr_dc(), "APP01": system_state_only(), "FS01": files_only()}, images)
    result = _inspect(location, access)
    assert result.ok
    (tree,) = result.trees
    assert tree.relative_path == "WindowsImageBackup" and tree.share_root == "." and tree.inside is None
    points = _points(result)
    assert set(points) == {"DC01", "APP01", "FS01"}
    dc, app_, fs = points["DC01"], points["APP01"], points["FS01"]
    assert dc.version == "10/04/2020-17:48" and dc.folder == "Backup 2020-10-04 174838"
    assert dc.can_recover == ("Volume(s)", "File(s)", "Application(s)", "Bare Metal Recovery", "System State")
    assert dc.roles == ("domain-controller",) and dc.bare_metal and dc.system_state
    assert ("b2014c9e-8711-4c5c-a5a9-3cf384484757", "NTDS") in dc.writers
    assert [v.format for v in dc.volumes] == ["vhdx", "vhdx"]
    assert all(v.virtual_size == 64 * 1024 * 1024 for v in dc.volumes)
    assert app_.system_state and not app_.bare_metal and "Bare Metal Recovery" not in app_.can_recover
    assert fs.can_recover == ("Volume(s)", "File(s)") and fs.roles == ()
    on_disk = sum(f.stat().st_size for f in (disk / "WindowsImageBackup" / "DC01").rglob("*") if f.is_file())
    assert dc.size_bytes == on_disk
    # The DC point is the 2020 Blackfield one: past the tombstone lifetime (a warning); the others are clean.
    assert [p.code for p in dc.problems] == ["tombstone"] and not app_.problems and not fs.problems
    assert not dc.server_writers or set(dc.writers) <= set(dc.server_writers)


def test_vhd_images(tmp_path: Path, images: ImageCache) -> None:
    spec = PointSpec(image_format="vhd")
    write_tree(tmp_path, {"OLD7": spec}, images)
    point = _points(_inspect(str(tmp_path)))["OLD7"]
    assert point.ok and {v.format for v in point.volumes} == {"vhd"}


BROKEN: list[tuple[str, str]] = [
    ("image-missing", "error"),
    ("image-empty", "error"),
    ("image-invalid", "error"),
    ("catalog-missing", "error"),
    ("mediaid-invalid", "error"),
    ("mediaid-missing", "error"),
    ("specs-missing", "error"),
    ("specs-invalid", "error"),
    ("bad-folder-name", "error"),
    ("xml-id-mismatch", "warning"),
    ("asr-writer-missing", "warning"),
    ("image-unlisted", "warning"),
]


def _break(code: str, point: Path) -> None:
    machine = point.parent
    image = next(point.glob("*.vhdx"))
    if code == "image-missing":
        image.unlink()
    elif code == "image-empty":
        image.write_bytes(b"")
    elif code == "image-invalid":
        data = bytearray(image.read_bytes())
        for offset in (64 * 1024 + 8, 128 * 1024 + 8):
            data[offset] ^= 0xFF
        image.write_bytes(bytes(data))
    elif code == "catalog-missing":
        shutil.rmtree(machine / "Catalog")
    elif code == "mediaid-invalid":
        (machine / "MediaId").write_bytes(b"short")
    elif code == "mediaid-missing":
        (machine / "MediaId").unlink()
    elif code == "specs-missing":
        (point / "BackupSpecs.xml").unlink()
    elif code == "specs-invalid":
        specs = point / "BackupSpecs.xml"
        specs.write_bytes(specs.read_bytes()[:301])
    elif code == "bad-folder-name":
        point.rename(machine / "Backup 2020-13-45 999999")
    elif code == "xml-id-mismatch":
        (point / "0badf00d-0000-0000-0000-000000000000_Components.xml").write_bytes(b"<x/>")
    elif code == "asr-writer-missing":
        for writer_file in point.glob("*_Writerbe000cbe*"):
            writer_file.unlink()
    elif code == "image-unlisted":
        shutil.copyfile(image, point / "0badf00d-1111-2222-3333-444455556666.vhdx")


@pytest.mark.parametrize(("code", "severity"), BROKEN)
def test_broken_variants(tmp_path: Path, images: ImageCache, code: str, severity: str) -> None:
    spec = bmr_dc()
    if code == "asr-writer-missing":
        spec.writers = [w for w in spec.writers if not w.startswith("be000cbe")]
    point = write_machine(tmp_path / "WindowsImageBackup", "DC01", spec, images, copy_images=True)
    _break(code, point)
    result = _inspect(str(tmp_path))
    found = _points(result)["DC01"]
    matching = [p for p in found.problems if p.code == code]
    assert matching and all(p.severity == severity for p in matching), found.problems
    assert result.ok is (severity == "warning")
    exit_code = runner.invoke(app, ["inspect", str(tmp_path), "--json"]).exit_code
    assert exit_code == (0 if severity == "warning" else 1)


def test_broken_over_smb(
    samba: SambaServer, smb_folder: tuple[str, Path], smb_access: Access, images: ImageCache
) -> None:
    point = write_machine(smb_folder[1] / "WindowsImageBackup", "DC01", bmr_dc(), images, copy_images=True)
    _break("image-invalid", point)
    (point.parent / "MediaId").write_bytes(b"short")
    codes = _codes(_points(_inspect(smb_folder[0], smb_access))["DC01"])
    assert {"image-invalid", "mediaid-invalid"} <= codes


def test_hostile_local_tree_never_hangs_or_crashes(tmp_path: Path, images: ImageCache) -> None:
    tree = tmp_path / "WindowsImageBackup"
    point = write_machine(tree, "DC01", bmr_dc(), images)
    (point.parent / "loop").symlink_to(point.parent)  # a symlink loop inside the computer folder
    (tmp_path / "up").symlink_to(tmp_path)  # and one beside the tree
    (point.parent / "..\\..\\evil").mkdir()  # a name that reads as a path on Windows
    crowd = point.parent / "Backup 2020-10-05 000000"
    crowd.mkdir()
    for index in range(3000):
        (crowd / f"junk{index}.bin").write_bytes(b"")
    result = _inspect(str(tmp_path))
    machine = result.trees[0].machines[0]
    assert len(machine.recovery_points) == 2
    codes = {p.code for point_ in machine.recovery_points for p in point_.problems} | {p.code for p in machine.problems}
    assert {"unsafe-name", "several-recovery-points", "specs-missing"} <= codes
    good = next(p for p in machine.recovery_points if p.folder == "Backup 2020-10-04 174838")
    assert not [p for p in good.problems if p.severity == "error"]


@pytest.mark.parametrize(
    ("sub", "inside", "share_root"),
    [
        ("WindowsImageBackup", "windowsimagebackup", ".."),
        ("WindowsImageBackup/DC01", "computer", "../.."),
        ("WindowsImageBackup/DC01/Backup 2020-10-04 174838", "backup", "../../.."),
    ],
)
def test_location_inside_a_tree(
    samba: SambaServer,
    smb_folder: tuple[str, Path],
    smb_access: Access,
    images: ImageCache,
    sub: str,
    inside: str,
    share_root: str,
) -> None:
    url, disk = smb_folder
    write_tree(disk, {"DC01": bmr_dc()}, images)
    location = f"{url}/{sub}"
    result = _inspect(location, smb_access)
    (tree,) = result.trees
    assert tree.inside == inside and tree.share_root == share_root
    assert "inside-tree" in {p.code for p in tree.problems}
    assert [m.name for m in tree.machines] == ["DC01"]
    assert tree.machines[0].recovery_points[0].version == "10/04/2020-17:48"
    folder = disk.name
    assert backup_target(parse_location(location), tree) == f"\\\\127.0.0.1\\data\\{folder}"


def test_share_that_is_the_tree_itself_has_no_reachable_target(
    samba: SambaServer, smb_access: Access, images: ImageCache, tmp_path: Path
) -> None:
    tree_folder = tmp_path / "WindowsImageBackup"
    write_tree(tmp_path, {"DC01": bmr_dc()}, images)
    samba.add_share("wibshare", tree_folder)
    result = _inspect(samba.url("wibshare"), smb_access)
    (tree,) = result.trees
    assert tree.inside == "windowsimagebackup"
    assert backup_target(parse_location(samba.url("wibshare")), tree) is None


def test_nested_mabs_copy_and_misnamed_trees(tmp_path: Path, images: ImageCache) -> None:
    write_tree(tmp_path / "MABS" / "RecoveryPoint-01", {"DC01": bmr_dc()}, images)
    old = tmp_path / "WindowsImageBackup.old"
    write_machine(old, "DC02", bmr_dc(), images)
    result = _inspect(str(tmp_path))
    by_path = {t.relative_path: t for t in result.trees}
    assert set(by_path) == {"MABS/RecoveryPoint-01/WindowsImageBackup", "WindowsImageBackup.old"}
    nested = by_path["MABS/RecoveryPoint-01/WindowsImageBackup"]
    assert nested.share_root == "MABS/RecoveryPoint-01" and "nested-tree" in {p.code for p in nested.problems}
    assert "misnamed-tree" in {p.code for p in by_path["WindowsImageBackup.old"].problems}
    assert not result.ok
    assert len(_inspect(str(tmp_path), depth=2).trees) == 1  # the nested one is three levels down


def test_nothing_found_and_unreachable(tmp_path: Path) -> None:
    empty = runner.invoke(app, ["inspect", str(tmp_path), "--json"])
    assert empty.exit_code == 1 and json.loads(empty.stdout)["problems"][0]["code"] == "no-tree"
    with_port = f"smb://u@127.0.0.1:{_closed_port()}/share"
    assert runner.invoke(app, ["inspect", with_port], env={"BMR_PASSWORD": "x"}).exit_code == 3


def test_inspect_json_shape_over_sftp(sshd: SshServer, tmp_path: Path, images: ImageCache) -> None:
    write_tree(tmp_path, {"DC01": bmr_dc()}, images)
    args = ["--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(sshd.client_key), "--json"]
    result = runner.invoke(app, ["inspect", sshd.url(str(tmp_path)), *args])
    assert result.exit_code == 0, result.stdout
    point = json.loads(result.stdout)["trees"][0]["machines"][0]["recovery_points"][0]
    assert set(point) >= {
        "folder",
        "version",
        "backup_time_utc",
        "can_recover",
        "system_state",
        "bare_metal",
        "roles",
        "writers",
        "volumes",
        "size_bytes",
        "problems",
    }
    assert set(point["volumes"][0]) >= {"guid", "access_path", "image", "format", "size", "virtual_size"}
    assert point["backup_time_utc"] == "2020-10-04T17:48:38Z"


def test_text_report(tmp_path: Path, images: ImageCache) -> None:
    write_tree(tmp_path, {"DC01": bmr_dc()}, images)
    out = runner.invoke(app, ["inspect", str(tmp_path)]).stdout
    assert "version 10/04/2020-17:48" in out and "domain-controller" in out and "Result: every" in out


# -- versions ---------------------------------------------------------------------------------------------------


def test_get_versions_matches_the_documented_example() -> None:
    # Domain brief: "Backup 2020-10-04 174838" showed "Backup time: 10/4/2020 10:48 AM" on a US Pacific DC,
    # with version identifier 10/04/2020-17:48.
    moment = folder_time("Backup 2020-10-04 174838")
    assert moment is not None
    text = render_get_versions(
        [ListedVersion(moment, version_of(moment), ("Bare Metal Recovery", "System State"))],
        "\\\\10.10.14.15\\share\\",  # typed with a trailing backslash, as in the Blackfield write-up
        True,
        ZoneInfo("America/Los_Angeles"),
        datetime(2020, 10, 4, 18, 0, tzinfo=UTC),  # listed the same day: PDT in force
    )
    assert text.splitlines() == [
        "Backup time: 10/4/2020 10:48 AM",
        "Backup location: Network Share labeled \\\\10.10.14.15\\share\\",
        "Version identifier: 10/04/2020-17:48",
        "Can recover: Bare Metal Recovery, System State",
    ]


def test_versions_command(
    samba: SambaServer, smb_folder: tuple[str, Path], password_env: str, images: ImageCache
) -> None:
    url, disk = smb_folder
    write_tree(disk, {"DC01": bmr_dc(), "FS01": files_only()}, images)
    result = runner.invoke(app, ["versions", url, "--machine", "dc01", "--password-env", password_env])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Version identifier: 10/04/2020-17:48" in result.stdout
    # the label repeats -backupTarget as bmr's command lines type it: no trailing backslash
    assert f"Network Share labeled \\\\127.0.0.1\\data\\{disk.name}\n" in result.stdout
    unknown = runner.invoke(app, ["versions", url, "--machine", "NOPE", "--password-env", password_env])
    assert unknown.exit_code == 1 and "DC01, FS01" in unknown.stderr


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)))
def test_version_identifier_is_the_folder_time_in_utc(moment: datetime) -> None:
    name = folder_name(moment)
    parsed = folder_time(name)
    assert parsed is not None and parsed == moment.replace(microsecond=0)
    assert parse_version(version_of(parsed)) == moment.strftime("%m/%d/%Y-%H:%M")


@pytest.mark.parametrize("bad", ["10/4/2020-17:48", "2020-10-04 17:48", "13/01/2020-10:00", "10/04/2020-25:00", ""])
def test_bad_version_identifiers(bad: str) -> None:
    with pytest.raises(ValueError, match=r"MM/DD/YYYY-HH:MM|not a real"):
        parse_version(bad)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
