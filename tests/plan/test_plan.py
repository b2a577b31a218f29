"""One evaluated restore plan, rendered by every command (fast tier: local folders given --share-unc): the point is
chosen once, warnings and failures reach every rendering, --force on a share inside the tree says what to share,
a usage error is one clean message, and the dead code is gone."""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import restore
import restore.tree.choose
from restore.cli.app import app
from restore.demo.sample import bmr_dc, system_state_only, write_tree

runner = CliRunner()
UNC = "\\\\10.0.0.5\\restore"
ARGS = ["--share-unc", UNC, "--user", "CORP\\svc-restore"]
ROOT = Path(restore.__file__).resolve().parents[1]  # the code under test (also when run against another tree)


def test_commands_carry_the_tombstone_warning_like_preflight(tmp_path: Path) -> None:
    write_tree(tmp_path, {"DC01": bmr_dc()})  # a domain controller's point of 2020: past the tombstone lifetime
    preflight = json.loads(runner.invoke(app, ["preflight", str(tmp_path), "--for", "bmr", *ARGS, "--json"]).stdout)
    result = runner.invoke(app, ["commands", str(tmp_path), *ARGS, "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert any("tombstone" in w for w in data["warnings"]) and data["warnings"] == preflight["plan"]["warnings"]
    assert any(line.startswith("REM bmr: warning: ") and "tombstone" in line for line in data["lines"])
    text = runner.invoke(app, ["commands", str(tmp_path), *ARGS]).stdout
    assert text.startswith("REM bmr: warning: recovery-point: ") and "tombstone" in text.splitlines()[0]


def test_checklist_deep_fails_where_preflight_deep_fails(tmp_path: Path) -> None:
    write_tree(tmp_path, {"DC01": bmr_dc()})  # the sample's images hold no Windows: --deep fails the point
    preflight = runner.invoke(app, ["preflight", str(tmp_path), "--for", "bmr", *ARGS, "--deep", "--json"])
    assert preflight.exit_code == 1, preflight.stderr
    assert json.loads(preflight.stdout)["plan"]["verdict"] == "fail"
    refused = runner.invoke(app, ["checklist", str(tmp_path), *ARGS, "--deep"])
    assert refused.exit_code == 1 and "contents fails" in refused.stderr and refused.stdout == ""
    forced = runner.invoke(app, ["checklist", str(tmp_path), *ARGS, "--deep", "--force", "--format", "txt"])
    assert forced.exit_code == 1 and forced.stdout.startswith("!!!") and "FAIL contents:" in forced.stdout


def test_the_computer_and_point_are_chosen_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"DC01": bmr_dc(), "APP01": system_state_only()})
    original = restore.tree.choose.choose_point
    calls: list[str] = []

    def counting(machine: Any, version: str | None) -> Any:
        calls.append(str(getattr(machine, "name", "")))
        return original(machine, version)

    for module in list(sys.modules.values()):  # wherever it was imported by name
        if module is not None and getattr(module, "choose_point", None) is original:
            monkeypatch.setattr(module, "choose_point", counting)
    for command in ("commands", "checklist"):
        calls.clear()
        result = runner.invoke(app, [command, str(tmp_path), *ARGS, "--machine", "DC01"])
        assert result.exit_code == 0, result.stderr
        assert calls == ["DC01"], (command, calls)


@pytest.mark.parametrize("inside", ["WindowsImageBackup", "WindowsImageBackup/DC01"], ids=["tree", "computer"])
@pytest.mark.parametrize("command", ["commands", "checklist"])
def test_force_on_a_share_inside_the_tree_says_what_to_share(tmp_path: Path, inside: str, command: str) -> None:
    write_tree(tmp_path, {"DC01": bmr_dc()})
    result = runner.invoke(app, [command, str(tmp_path / inside), *ARGS, "--machine", "DC01", "--force", "--json"])
    assert result.exit_code == 1 and result.stdout.startswith('{\n  "error"')  # no lines, no runbook: none works
    error = json.loads(result.stdout)["error"]
    levels = inside.count("/") + 1
    assert error["type"] == "InsideTheTree" and "--force cannot change that" in error["message"]
    assert f"share the folder {levels} level(s) above this one" in error["hint"]
    assert "WindowsImageBackup" in error["hint"] and "recovery point or purpose" not in error["hint"]


def test_a_usage_error_is_one_clean_message(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["preflight", "x", "--bogus"],):  # a real process: the stray line came from Python's last resort
        run = subprocess.run([sys.executable, "-m", "restore", *args], capture_output=True, text=True, env=env,
                             timeout=60, check=False)  # fmt: skip
        assert run.returncode == 2
        assert run.stderr.splitlines()[0].startswith("bmr: error: "), run.stderr
        assert "error" not in run.stderr.splitlines()[0][len("bmr: error: ") :].split()[:1]


def test_the_dead_code_and_stale_comments_are_gone() -> None:
    from restore.cli import drill
    from share import smbbulk

    assert not hasattr(smbbulk.BulkChannel, "_send")
    body = ast.parse(inspect.getsource(drill.drill).lstrip()).body[0]
    assert isinstance(body, ast.FunctionDef) and ast.get_docstring(body) is None  # its help is drill.__doc__
    assert "restore.exitcodes" not in (ROOT / "share" / "errors.py").read_text()
    assert "restore/cli/exitcodes.py" in (ROOT / "share" / "errors.py").read_text()
    assert "resume_at" not in (ROOT / "restore" / "staging" / "transfer.py").read_text()
    assert "read when folders are read" not in (ROOT / "share" / "base.py").read_text()
