"""Every path-taking option of every command, swept with wrong paths: a missing folder, a file where a folder
goes, a folder where a file goes, names too long. Each is refused before any work starts, with exit 2, one
`bmr: error:` line (JSON with --json) and no traceback."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from restore.cli.app import COMMANDS, app
from restore.drill.report import write_report

runner = CliRunner()

# The arguments a command needs besides the one under test ({loc}: an empty folder, {inv}: an inventory file).
BASE: dict[str, list[str]] = {
    "probe": ["{loc}"],
    "inspect": ["{loc}"],
    "versions": ["{loc}"],
    "preflight": ["{loc}", "--for", "bmr"],
    "stage": ["{loc}", "{loc}"],
    "commands": ["{loc}"],
    "checklist": ["{loc}"],
    "drill run": ["{inv}"],
    "drill merge": ["{loc}", "--report-dir", "{loc}/merged"],
    "drill verify-ledger": ["{loc}"],
    "demo": [],
    "verify": ["{loc}"],
    "boot-test": ["{loc}"],
}
# Arguments whose bad values have a documented exit code other than 2.
OTHER_CODES = {("drill run", "inventory"): 3}  # an unreadable inventory is exit 3 (README)
# The report folders `drill merge` reads: an unreadable one is exit 3, tested in tests/drill/test_merge.py.
NOT_SWEPT = {("drill merge", "reports")}


def _role(command: str, param: Any) -> str:
    if (command, param.name) in OTHER_CODES:
        return "input file"
    info = param.type_descriptor.parameter_info
    if not info.file_okay:
        return "output folder"
    if not info.dir_okay:
        return "output file" if info.writable else "input file"
    raise AssertionError(f"{param.name}: declare dir_okay=False or file_okay=False (and writable for outputs)")


def _path_params() -> list[tuple[str, Any]]:
    group = typer.main.get_command(app)
    found = []
    commands = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subs = getattr(command, "commands", None)  # a group (drill): its sub-commands are swept, by full name
        commands += [(f"{name} {sub}", c) for sub, c in subs.items()] if subs else [(name, command)]
    for name, command in commands:
        for param in command.params:
            annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
            if annotation in (Path, list[Path]) and (name, param.name) not in NOT_SWEPT:
                found.append((name, param))
    return found


PARAMS = _path_params()


def test_the_sweep_sees_every_command_and_option() -> None:
    flat = {f"{n} {sub}" for n, c in COMMANDS.items() if isinstance(c, dict) for sub in c}
    assert set(BASE) == {n for n, c in COMMANDS.items() if not isinstance(c, dict)} | flat
    names = {(c, p.name) for c, p in PARAMS}
    expected = {
        ("checklist", "output"),
        ("preflight", "junit"),
        ("drill run", "report_dir"),
        ("drill run", "junit"),
        ("drill run", "inventory"),
        ("drill merge", "report_dir"),
        ("drill merge", "junit"),
        ("demo", "folder"),
        ("probe", "password_file"),
        ("stage", "ssh_key"),
        ("boot-test", "evidence_dir"),
    }
    assert expected <= names


def _bad_values(role: str, tmp: Path) -> dict[str, Path]:
    (tmp / "a-file").write_text("x")
    bad = {
        "missing folder": tmp / "missing" / "a" / "b",
        "name too long": tmp / ("n" * 300),
        "path too long": tmp.joinpath(*(["d" * 200] * 25)),
        "a NUL in the name": tmp / "a\x00b",
    }
    if role == "output folder":
        bad["a file"] = tmp / "a-file"
    else:
        bad["a folder"] = tmp
    if role == "input file":
        bad["missing file"] = tmp / "missing.txt"
    elif Path("/proc/self").exists():  # a folder that refuses new entries even to root, who passes access()
        bad["a folder refusing writes"] = Path("/proc/bmr-sweep")
    return bad


@pytest.mark.parametrize(("command", "param"), PARAMS, ids=[f"{c}-{p.name}" for c, p in PARAMS])
def test_wrong_paths_are_refused_before_work(command: str, param: Any, tmp_path: Path) -> None:
    loc = tmp_path / "loc"
    loc.mkdir()
    inventory = tmp_path / "inv.toml"
    inventory.write_text("")
    base = [a.format(loc=loc, inv=inventory) for a in BASE[command]]
    role = _role(command, param)
    bad = tmp_path / "bad"
    bad.mkdir()
    for case, value in _bad_values(role, bad).items():
        if param.opts[0].startswith("-"):
            args = [*command.split(), *base, param.opts[0], str(value), "--json"]
        else:  # the argument under test takes the place of the base one
            args = [*command.split(), str(value), *base[1:], "--json"]
        result = runner.invoke(app, args)
        output = result.stdout + result.stderr
        where = f"{command} {param.name} ({role}): {case}"
        # A NUL never reaches the command: typer refuses it while parsing, a usage error for every parameter.
        expected = 2 if "NUL" in case else OTHER_CODES.get((command, param.name), 2)
        assert result.exit_code == expected, f"{where}: {output}"
        assert result.exception is None or isinstance(result.exception, SystemExit), where
        assert "Traceback" not in output and "Errno" not in output, f"{where}: {output}"
        errors = [line for line in result.stderr.splitlines() if line.startswith("bmr: error:")]
        assert len(errors) == 1 and len(result.stderr.splitlines()) <= 2, f"{where}: {result.stderr}"
        assert json.loads(result.stdout)["error"]["message"], where
    assert not list(bad.rglob("missing")), "nothing was created"


def test_the_report_folder_is_written_fresh_and_only_under_an_existing_folder(tmp_path: Path) -> None:
    report = tmp_path / "report"
    report.mkdir()
    (report / "checklists").mkdir()
    (report / "checklists" / "001-OLD.md").write_text("last run")
    write_report(report, [], datetime.now(UTC))
    assert (report / "drill.json").exists() and not (report / "checklists" / "001-OLD.md").exists()
    with pytest.raises(FileNotFoundError):
        write_report(tmp_path / "no" / "such", [], datetime.now(UTC))
    inventory = tmp_path / "inv.toml"
    inventory.write_text("")
    result = runner.invoke(app, ["drill", str(inventory), "--report-dir", "/nonexistent/a/b"])
    assert result.exit_code == 2 and "/nonexistent/a does not exist" in result.stderr
    assert not Path("/nonexistent").exists()


def test_an_overlong_location_is_a_usage_error() -> None:
    for command in ("probe", "inspect", "versions"):
        result = runner.invoke(app, [command, "smb://u@127.0.0.1:9/share/" + "a" * 33_000, "--json"])
        assert result.exit_code == 2, result.stdout + result.stderr
        assert json.loads(result.stdout)["error"]["type"] == "InvalidLocation"
        assert "Traceback" not in result.stdout + result.stderr and "struct" not in result.stderr
