"""The drill's inventory and terminal summary without a server: keys, the example inventory, purposes, duplicates,
the help and README that list every key, and the summary's rows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.checks.check import Check, Status, failed, passed, warned
from restore.cli.app import app
from restore.cli.text import format_drill
from restore.drill.inventory import KEYS, InventoryError, ServerEntry, load_inventory
from restore.drill.run import ServerResult
from share.connect import parse_location
from winre.terms import Purpose

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _load(tmp_path: Path, text: str) -> list[ServerEntry]:
    path = tmp_path / "inventory.toml"
    path.write_text(text)
    return load_inventory(path)


def _server(**keys: str | bool) -> str:
    base: dict[str, str | bool] = {"name": "A", "location": "smb://u@10.0.0.5/r", "purpose": "bmr", "password_env": "P"}
    base.update(keys)
    lines = ["[[server]]"]
    for key, value in base.items():
        lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else repr(value)}")
    return "\n".join(lines) + "\n\n"


def test_the_example_inventory_loads() -> None:
    entries = load_inventory(ROOT / "examples" / "drill-inventory.toml")
    assert len(entries) >= 4
    used = {key for entry in entries for key in KEYS if _has(entry, key)}
    assert used == set(KEYS)  # the example shows every key
    assert any(e.stage for e in entries) and any(e.source and not e.stage for e in entries)


def _has(entry: ServerEntry, key: str) -> bool:
    value = getattr(entry, key, None)
    return value not in (None, "", False)


def test_machine_is_the_computer_folder_and_name_is_free_text(tmp_path: Path) -> None:
    [entry] = _load(tmp_path, _server(name="Domain controller, Berlin", machine="DC01"))
    assert entry.name == "Domain controller, Berlin" and entry.computer == "DC01"
    [plain] = _load(tmp_path, _server(name="DC02"))
    assert plain.computer == "DC02"  # without machine, the name is the computer folder


@pytest.mark.parametrize(("written", "purpose"), [("BMR", Purpose.BMR), ("System-State", Purpose.SYSTEM_STATE),
                                                  ("SYSTEMSTATE", Purpose.SYSTEM_STATE)])  # fmt: skip
def test_purpose_any_case(tmp_path: Path, written: str, purpose: Purpose) -> None:
    [entry] = _load(tmp_path, _server(purpose=written))
    assert entry.purpose is purpose


def test_one_entry_per_server_and_purpose(tmp_path: Path) -> None:
    both = _load(tmp_path, _server(purpose="bmr") + _server(purpose="systemstate"))
    assert [e.purpose for e in both] == [Purpose.BMR, Purpose.SYSTEM_STATE]  # same share, both purposes: fine
    with pytest.raises(InventoryError, match="line 7: server 'a' is already listed for bmr at line 1"):
        _load(tmp_path, _server(name="A") + _server(name="a", location="smb://u@10.0.0.6/other"))
    with pytest.raises(InventoryError, match=r"computer 'dc01' at .* is already listed for bmr at line 1"):
        _load(tmp_path, _server(name="DC01") + _server(name="The DC", machine="dc01"))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (_server(stage=True), "stage = true copies from a source"),
        (_server(source="/srv/export", stage="yes"), "'stage' must be a boolean"),
        (_server(machine=""), "'machine' is empty"),
        (_server(timeout=True), "'timeout' must be a number"),
    ],
)
def test_stage_and_machine_are_checked(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(InventoryError, match=re.escape(words)):
        _load(tmp_path, text)


def test_source_alone_does_not_stage(tmp_path: Path) -> None:
    [entry] = _load(tmp_path, _server(source=str(tmp_path)))
    assert entry.source is not None and entry.stage is False
    [staging] = _load(tmp_path, _server(source=str(tmp_path), stage=True))
    assert staging.stage is True


def test_help_and_readme_list_every_key() -> None:
    result = runner.invoke(app, ["drill", "--help"], terminal_width=200)
    assert result.exit_code == 0
    readme = (ROOT / "README.md").read_text()
    for key in KEYS:
        assert re.search(rf"^\s+{key}\s", result.stdout, re.MULTILINE), key
        assert f"| `{key}` |" in readme, key
    assert "examples/drill-inventory.toml" in result.stdout and "examples/drill-inventory.toml" in readme


def _result(name: str, location: str, status: Status, checks: list[Check], version: str | None = None) -> ServerResult:
    entry = ServerEntry(name, parse_location(location), Purpose.BMR, "P", 1, machine="DC01")
    return ServerResult(entry, status, tuple(checks), 1.0, version=version)


def test_summary_names_location_and_first_problem() -> None:
    results = [
        _result("DC01", "smb://u@10.0.0.5/good", Status.PASS, [passed("auth", "logged on")], "10/04/2020-17:48"),
        _result("DC01", "smb://u@10.0.0.5/wrong", Status.FAIL, [
            passed("auth", "logged on"),
            failed("share-root", "the share is WindowsImageBackup itself", "share its parent"),
            failed("machine", "no computer folder", "check the name"),
        ]),
        _result("DC01", "smb://u@10.0.0.5/long", Status.WARN, [warned("path-length", "the path is 130 long", "x")]),
    ]  # fmt: skip
    out = format_drill(results, lambda text, _colour: text)
    lines = out.splitlines()
    assert "smb://u@10.0.0.5/good" in lines[0] and "10/04/2020-17:48" in lines[0] and "bmr" in lines[0]
    assert "smb://u@10.0.0.5/wrong" in lines[1]
    assert lines[2].strip() == "failing: share-root: the share is WindowsImageBackup itself (and 1 more)"
    assert lines[4].strip() == "warning: path-length: the path is 130 long"
    assert "failing: -" not in out
    assert lines[-1] == "3 servers: 1 pass, 1 warn, 1 fail"
