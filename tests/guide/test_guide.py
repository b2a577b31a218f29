"""`bmr commands` and `bmr checklist` refuse what cannot work (share root, recovery point) unless --force, fill the
runbook's wizard share and age, and the account hint. Fast tier: local folders given --share-unc."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.cli.app import app
from restore.demo.sample import bmr_dc, files_only, system_state_only, write_machine, write_tree

runner = CliRunner()
UNC = "\\\\10.0.0.5\\restore"
ARGS = ["--share-unc", UNC, "--user", "CORP\\svc-restore"]


def _misnamed(root: Path) -> Path:
    write_machine(root / "WindowsImageBackup - Copy", "DC01", bmr_dc())
    return root


def _nested(root: Path) -> Path:
    write_tree(root / "MABS" / "RP-01", {"DC01": bmr_dc()})
    return root


@pytest.mark.parametrize(
    ("build", "check", "fix"),
    [(_misnamed, "share-root", "rename 'WindowsImageBackup - Copy'"), (_nested, "share-root", "share the folder")],
    ids=["misnamed", "nested"],
)
@pytest.mark.parametrize("command", ["commands", "checklist"])
def test_refuses_a_share_root_that_cannot_work(
    tmp_path: Path, build: Callable[[Path], Path], check: str, fix: str, command: str
) -> None:
    root = build(tmp_path)
    refused = runner.invoke(app, [command, str(root), *ARGS])
    assert refused.exit_code == 1, refused.stdout
    assert refused.stdout == "" and f"{check} fails" in refused.stderr and fix in refused.stderr
    assert "--force" in refused.stderr
    forced = runner.invoke(app, [command, str(root), *ARGS, "--force"])
    assert forced.exit_code == 1, forced.stdout + forced.stderr  # made anyway; the plan still fails
    if command == "commands":
        lines = forced.stdout.splitlines()
        assert lines[0].startswith("REM bmr --force: these lines will not work")
        assert lines[1].startswith(f"REM FAIL {check}: ") and fix in lines[1]
        assert any(line.startswith("wbadmin start sysrecovery") for line in lines)
    else:
        assert forced.stdout.startswith("> **FAIL:") and f"FAIL {check}: " in forced.stdout.split("# Restore")[0]


def test_refuses_a_point_that_cannot_do_the_purpose(tmp_path: Path) -> None:
    write_tree(tmp_path, {"FS01": files_only()})
    for command in ("commands", "checklist"):
        result = runner.invoke(app, [command, str(tmp_path), *ARGS, "--for", "bmr"])
        assert result.exit_code == 1 and "recovery-point fails" in result.stderr
        assert "cannot do Bare Metal Recovery" in result.stderr


def test_a_good_tree_passes_without_a_banner(tmp_path: Path) -> None:
    write_tree(tmp_path, {"APP01": system_state_only()})
    commands = runner.invoke(app, ["commands", str(tmp_path), *ARGS])
    assert commands.exit_code == 0 and not commands.stdout.startswith("REM bmr --force")
    checklist = runner.invoke(app, ["checklist", str(tmp_path), *ARGS, "--json"])
    data = json.loads(checklist.stdout)
    assert checklist.exit_code == 0 and data["blocking"] == [] and "FAIL:" not in data["document"]


def test_a_sub_folder_target_names_the_wizard_share(tmp_path: Path) -> None:
    write_tree(tmp_path, {"APP01": system_state_only()})
    result = runner.invoke(app, ["checklist", str(tmp_path), "--share-unc", f"{UNC}\\Exports\\APP01 copy",
                                 "--user", "CORP\\svc-restore"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "WinRE wizard path: \\\\10.0.0.5\\APP01copy" in result.stdout.replace("*", "")
    assert "a share to create on the file server for 'Exports\\APP01 copy'" in result.stdout


def test_runbook_age_of_a_dc_point_past_the_tombstone(tmp_path: Path) -> None:
    write_tree(tmp_path, {"DC01": bmr_dc()})  # 2020-10-04: long past 180 days
    result = runner.invoke(app, ["checklist", str(tmp_path), *ARGS])
    assert result.exit_code == 0
    age = (datetime.now(UTC) - datetime(2020, 10, 4, 17, 48, 38, tzinfo=UTC)).days
    assert f"WARN: this point is {age} days old, older than the tombstone lifetime" in result.stdout
