"""The real trees and outputs of evidence.md (A1 Bastion, A2 Blackfield, A4, A6), rebuilt and reproduced exactly.
Fast tier: no server, no qemu-img."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.checks.check import Status
from restore.checks.shareroot import analyse
from restore.cli.app import app
from restore.demo import sample
from restore.demo.sample import (
    PointSpec,
    VolumeSpec,
    bmr_dc,
    files_only,
    specs_text,
    specs_xml,
    system_state_only,
    write_tree,
)
from restore.guide import versions as versions_guide
from restore.tree import writers as w
from restore.tree.find import find_trees, inspect_location
from restore.tree.model import Inspection, RecoveryPoint
from restore.tree.specs import parse_specs
from share.connect import parse_location
from share.local import LocalBackend
from tests.lib import evidence_trees as ev

runner = CliRunner()

A1_SPECS = (
    '<BackupSpecs><FileSpecs><Volume Name="\\\\?\\Volume{9b9cfbc3-369e-11e9-a17c-806e6f6e6963}\\" AccessPath="" '
    'OriginalAccessPath="" Label="" OriginalLabel="" ><FileSpec FilePath="\\\\?\\Volume{9b9cfbc3-369e-11e9-a17c-'
    '806e6f6e6963}\\" FileName="*" IsRecursive="true" IsInclude="true" /></Volume><Volume Name="\\\\?\\Volume{'
    '9b9cfbc4-369e-11e9-a17c-806e6f6e6963}\\" AccessPath="C:" OriginalAccessPath="C:" Label="" OriginalLabel="" >'
    '<FileSpec FilePath="C:\\" FileName="*" IsRecursive="true" IsInclude="true" /></Volume></FileSpecs>'
    '<SystemState IsPresent="false" /><AllCritical IsPresent="false" /></BackupSpecs>'
)


def _inspect(folder: Path) -> Inspection:
    return inspect_location(LocalBackend(parse_location(str(folder))), 8)


def _point(result: Inspection) -> RecoveryPoint:
    ((point,),) = [m.recovery_points for t in result.trees for m in t.machines]
    return point


# -- BackupSpecs.xml shapes ------------------------------------------------------------------------------------


def test_a1_backupspecs_is_the_published_1186_bytes() -> None:
    data = specs_xml(ev.a1_spec())
    assert len(A1_SPECS) == 592 and len(data) == 1186  # 592 characters x 2 + the BOM
    assert data == b"\xff\xfe" + A1_SPECS.encode("utf-16-le")


@pytest.mark.parametrize("spec", [bmr_dc(), system_state_only(), files_only(), ev.a1_spec(), ev.a2_spec()])
def test_builders_write_the_engines_shape(spec: PointSpec) -> None:
    data = specs_xml(spec)
    text = data[2:].decode("utf-16-le")
    assert data[:2] == b"\xff\xfe" and "<?xml" not in text and "\n" not in text and "\r" not in text
    assert all(f'OriginalLabel="{v.label}" ><FileSpec' in text for v in spec.volumes)
    if spec.specs_version is None:  # A1's older shape
        assert text.startswith("<BackupSpecs><FileSpecs>") and "ComponentSpecs" not in text
    else:  # A6
        assert text.startswith(f'<BackupSpecs Version="{spec.specs_version}"><FileSpecs>')
        assert "<ComponentSpecs>" in text and text.endswith("</ComponentSpecs></BackupSpecs>")
    parsed = parse_specs(data)
    assert [v.guid for v in parsed.volumes] == [v.guid for v in spec.volumes]
    assert list(parsed.component_writers) == spec.component_writers


def test_a6_component_spec_attributes() -> None:
    text = specs_text(bmr_dc())
    assert f'<ComponentSpec WriterId="{{{w.NTDS}}}" InstanceId="{{' in text
    assert 'ComponentName="" LogicalPath="" Caption="" />' in text


# -- What a point can recover, from what it holds --------------------------------------------------------------

RULES = [
    # (system_state, all_critical, components, expected): evidence.md "Rules the real outputs support"
    (False, True, [], ("Volume(s)", "File(s)", "Application(s)", "Bare Metal Recovery", "System State")),
    (True, True, [], ("Volume(s)", "File(s)", "Application(s)", "Bare Metal Recovery", "System State")),
    (True, False, [], ("Volume(s)", "File(s)", "Application(s)", "System State")),
    (False, False, [], ("Volume(s)", "File(s)")),
]


@pytest.mark.parametrize(("system_state", "all_critical", "components", "expected"), RULES)
def test_can_recover_rules(system_state: bool, all_critical: bool, components: list[str], expected: object) -> None:
    assert (
        w.can_recover(volumes=True, system_state=system_state, all_critical=all_critical, components=set(components))
        == expected
    )


def test_writer_files_beside_a_volume_point_change_nothing(tmp_path: Path) -> None:
    # A volume backup of a DC: every DC writer left its file; the point still holds volumes only.
    recent = datetime.now(UTC) - timedelta(days=3)  # within the tombstone lifetime
    spec = PointSpec(when=recent, system_state=False, all_critical=False, volumes=[VolumeSpec("C:")], components=[])

    write_tree(tmp_path, {"DC01": spec})
    point = _point(_inspect(tmp_path))
    assert point.can_recover == ("Volume(s)", "File(s)")
    assert point.roles == () and point.writers == ()
    assert point.server_roles == ("domain-controller",)
    assert (w.NTDS, "NTDS") in point.server_writers
    assert not point.problems  # writer files beside a volume point are normal: no consistency warning


# -- A1: Bastion -------------------------------------------------------------------------------------------------


def test_a1_bastion_tree(tmp_path: Path) -> None:
    share = tmp_path / "Backups"
    point_folder = ev.write_a1(share)
    machine = point_folder.parent
    sizes = ev.file_sizes(machine)
    for relative, size in ev.A1_SIZES.items():
        assert sizes[relative] == size, relative
    assert sizes["Backup 2019-02-22 124351/BackupSpecs.xml"] == 1186
    assert sizes[f"Backup 2019-02-22 124351/{ev.A1_C}.vhd"] == 5_418_299_392
    assert sizes[f"Backup 2019-02-22 124351/{ev.A1_HIDDEN}.vhd"] == 37_761_024
    writer_files = sorted(n for n in sizes if "_Writer" in n)
    assert len(writer_files) == 7
    result = _inspect(share)
    point = _point(result)
    assert point.version == "02/22/2019-12:43"
    assert point.can_recover == ("Volume(s)", "File(s)")
    assert not point.system_state and not point.bare_metal and point.roles == ()
    assert {name for _, name in point.server_writers} >= {"ASR Writer", "System Writer", "MSSearch Service Writer"}
    assert [(v.access_path, v.format) for v in point.volumes] == [("", "vhd"), ("C:", "vhd")]
    assert point.ok and result.ok and not point.problems
    # note.txt and SDT65CB.tmp at the share root do not disturb the share-root check
    location = parse_location(f"\\\\{ev.A1_HOST}\\{ev.A1_SHARE}")
    root = analyse(location, result, ev.A1_HOST, staging=False)
    assert root.check.status is Status.PASS and root.backup_target == "\\\\10.10.10.134\\Backups"
    text = runner.invoke(app, ["inspect", str(share)]).stdout
    assert "can recover: Volume(s), File(s)\n" in text
    assert "writers that ran on the server: " in text and "roles it can restore" not in text
    data = json.loads(runner.invoke(app, ["inspect", str(share), "--json"]).stdout)
    listed = data["trees"][0]["machines"][0]["recovery_points"][0]
    assert listed["roles"] == [] and listed["writers"] == [] and len(listed["server_writers"]) == 7


# -- A2: Blackfield ----------------------------------------------------------------------------------------------

A2_OUTPUT = (
    "Backup time: 10/4/2020 10:48 AM\n"
    "Backup location: Network Share labeled \\\\10.10.14.15\\share\\\n"
    "Version identifier: 10/04/2020-17:48\n"
    "Can recover: Volume(s), File(s)\n"
)


SUMMER_2020 = datetime(2020, 10, 4, 18, 0, tzinfo=UTC)  # the write-up's session: PDT in force


@pytest.fixture
def listed_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Fix the moment `bmr versions` lists at: wbadmin's "Backup time" depends on it."""

    def fix(moment: datetime) -> None:
        monkeypatch.setattr(versions_guide, "listing_time", lambda: moment)

    return fix


def test_a2_blackfield_versions_exactly(tmp_path: Path, listed_at: Callable[[datetime], None]) -> None:
    listed_at(SUMMER_2020)
    share = tmp_path / "share"
    ev.write_a2(share)
    args = ["versions", str(share), "--share-unc", ev.A2_TARGET, "--tz", "America/Los_Angeles"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout == A2_OUTPUT
    inspection = _inspect(share)
    point = _point(inspection)
    assert point.roles == () and point.server_roles == ("domain-controller",)  # the DC's writers ran
    # '.deleted' beside WindowsImageBackup does not disturb the share-root check
    root = analyse(parse_location(ev.A2_TARGET), inspection, "10.10.14.15", staging=False)
    assert root.check.status is Status.PASS and root.backup_target == "\\\\10.10.14.15\\share"
    # typed without the trailing backslash, the label follows
    again = runner.invoke(app, [*args[:3], "\\\\10.10.14.15\\share", *args[4:]])
    assert "Network Share labeled \\\\10.10.14.15\\share\n" in again.stdout
    # the JSON says the same
    data = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert data["machines"][0]["backup_target"] == ev.A2_TARGET
    assert data["machines"][0]["versions"][0]["can_recover"] == ["Volume(s)", "File(s)"]


def test_a2b_blackfield_listed_in_winter_and_in_summer(tmp_path: Path, listed_at: Callable[[datetime], None]) -> None:
    """evidence.md A2b: 09/21/2020-23:00 prints 3:00 PM listed in November (PST), 4:00 PM listed in summer."""
    share = tmp_path / "share"
    sample.write_tree(share, {"DC01": replace(ev.a2_spec(), when=datetime(2020, 9, 21, 23, 0, 11, tzinfo=UTC))})
    args = ["versions", str(share), "--share-unc", "\\\\10.10.14.4\\blackfieldA", "--tz", "America/Los_Angeles"]
    block = (
        "Backup time: 9/21/2020 {} PM\n"
        "Backup location: Network Share labeled \\\\10.10.14.4\\blackfieldA\n"
        "Version identifier: 09/21/2020-23:00\n"
        "Can recover: Volume(s), File(s)\n"
    )
    listed_at(datetime(2024, 11, 12, 22, 37, tzinfo=UTC))  # winter: the A2b session
    assert runner.invoke(app, args).stdout == block.format("3:00")
    listed_at(datetime(2025, 7, 1, 18, 0, tzinfo=UTC))  # summer
    assert runner.invoke(app, args).stdout == block.format("4:00")
    data = json.loads(runner.invoke(app, [*args, "--json"]).stdout)["machines"][0]
    assert data["versions"][0]["backup_time"] == "9/21/2020 4:00 PM"
    assert data["versions"][0]["version"] == "09/21/2020-23:00"
    assert data["backup_time_zone"] == {"zone": "America/Los_Angeles", "source": "--tz"}
    assert data["listed_at"] == "2025-07-01T18:00:00+00:00"


def test_versions_help_says_the_time_uses_the_offset_in_force_now() -> None:
    text = " ".join(runner.invoke(app, ["versions", "--help"], terminal_width=200).stdout.split())
    assert "in force" in text and "daylight-saving" in text and "identifier never moves" in text
    assert "rules for that date" not in text


def test_versions_refuses_a_share_unc_that_is_not_one(tmp_path: Path) -> None:
    ev.write_a2(tmp_path / "share")
    result = runner.invoke(app, ["versions", str(tmp_path / "share"), "--share-unc", "/srv/x"])
    assert result.exit_code == 2


def test_versions_of_several_computers_head_each_listing_with_its_wbadmin_line(
    tmp_path: Path, listed_at: Callable[[datetime], None]
) -> None:
    listed_at(SUMMER_2020)
    write_tree(tmp_path, {"DC01": bmr_dc(), "FS01": files_only()})
    out = runner.invoke(app, ["versions", str(tmp_path), "--share-unc", "\\\\10.0.0.5\\restore", "--tz", "UTC"]).stdout
    blocks = out.strip().split("\n\n")
    assert blocks[0] == "wbadmin get versions -backupTarget:\\\\10.0.0.5\\restore -machine:DC01"
    assert blocks[1].splitlines()[0] == "Backup time: 10/4/2020 5:48 PM" and len(blocks[1].splitlines()) == 4
    assert blocks[2] == "wbadmin get versions -backupTarget:\\\\10.0.0.5\\restore -machine:FS01"


# -- A4: system state + C: of a DC ------------------------------------------------------------------------------


def test_a4_system_state_point(tmp_path: Path) -> None:
    ev.write_a4(tmp_path)
    point = _point(_inspect(tmp_path))
    assert point.version == "09/01/2026-17:35"
    assert point.can_recover == ("Volume(s)", "File(s)", "Application(s)", "System State")
    assert point.roles == ("domain-controller",)  # the system state it holds carries NTDS
    assert (w.NTDS, "NTDS") in point.writers
    assert not point.problems
    out = runner.invoke(app, ["versions", str(tmp_path), "--share-unc", "\\\\10.0.0.5\\restore", "--tz", "UTC"])
    assert out.exit_code == 0 and out.stdout.splitlines()[2:] == [
        "Version identifier: 09/01/2026-17:35",
        "Can recover: Volume(s), File(s), Application(s), System State",
    ]


# -- Tombstone lifetime ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "dc", "warned"),
    [(181, True, True), (179, True, False), (400, False, False)],
    ids=["dc-past", "dc-within", "member-server"],
)
def test_tombstone_warning_in_inspect(tmp_path: Path, days: int, dc: bool, warned: bool) -> None:
    spec = bmr_dc() if dc else system_state_only()
    spec.when = datetime.now(UTC) - timedelta(days=days, hours=1)
    write_tree(tmp_path, {"SRV": spec})
    point = _point(_inspect(tmp_path))
    tomb = [p for p in point.problems if p.code == "tombstone"]
    assert bool(tomb) is warned
    if warned:
        assert tomb[0].severity == "warning" and f"{days} days old" in tomb[0].message
        assert point.ok  # a warning: the files are whole; the restore would be of no use


def test_tombstone_for_a_volume_point_whose_writers_say_dc(tmp_path: Path) -> None:
    ev.write_a2(tmp_path)  # 2020: long past 180 days; the point holds volumes, the writers say DC
    assert "tombstone" in {p.code for p in _point(_inspect(tmp_path)).problems}


# -- Search depth: the Azure Backup (MARS) nesting ---------------------------------------------------------------

MARS = "C_vol/Program Files/Microsoft Azure Recovery Services Agent/Scratch/SSBV"


def test_default_depth_finds_the_mars_nesting(tmp_path: Path) -> None:
    write_tree(tmp_path / MARS, {"DC01": system_state_only()})
    backend = LocalBackend(parse_location(str(tmp_path)))
    result = inspect_location(backend)  # the default depth
    (tree,) = result.trees
    assert tree.relative_path == f"{MARS}/WindowsImageBackup" and tree.share_root == MARS
    assert "nested-tree" in {p.code for p in tree.problems}
    assert not inspect_location(backend, 4).trees  # the old default stopped two levels short
    cli = runner.invoke(app, ["inspect", str(tmp_path), "--json"])
    assert json.loads(cli.stdout)["trees"][0]["relative_path"] == f"{MARS}/WindowsImageBackup"


def test_search_has_a_time_budget(tmp_path: Path) -> None:
    write_tree(tmp_path / MARS, {"DC01": system_state_only()})
    spots, problems = find_trees(LocalBackend(parse_location(str(tmp_path))), seconds=0.0)
    assert not spots and [p.code for p in problems] == ["search-truncated"]
    assert "stopped after 0 s" in problems[0].message
